#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/source.h"

namespace sidestream::runtime {

/// Sources and sinks over in-memory topics, with no broker: what the stream-thread benchmark
/// and tests run on. Each group has `members_per_group` members, and member i of a group
/// (the i-th source created for it) owns the partitions p with p % members == i: a fixed
/// assignment, with no rebalancing. A record produced without a partition goes to the
/// partition its key hashes to. Records stay until the clients are destroyed (changelogs are
/// read back from them). A sink with a transactional id keeps a transaction's records and
/// offsets apart until it commits (an aborted transaction leaves nothing). Thread-safe.
class InMemoryClients : public Clients {
 public:
  InMemoryClients(int members_per_group, int default_partitions);
  ~InMemoryClients() override;

  /// Creates `topic` with `partitions`, unless it exists.
  void CreateTopic(const std::string& topic, int partitions);
  /// Appends a record (copied); `partition` -1 picks it by key.
  Status Append(std::string_view topic, int32_t partition, std::optional<std::string_view> key,
                std::optional<std::string_view> value, int64_t timestamp,
                std::span<const RecordHeader> headers = {});
  /// Records in `topic`, over every partition.
  int64_t Size(const std::string& topic) const;

  Result<std::unique_ptr<Source>> CreateSource(SourceOptions options) override;
  Result<std::unique_ptr<Sink>> CreateSink(SinkOptions options = {}) override;
  Result<int64_t> ReadChangelog(const std::string& topic, int32_t partition,
                                const ChangelogVisitor& visit) override;
  Result<ChangelogReadResult> ReadChangelogFrom(const ChangelogReadRequest& request,
                                                const ChangelogVisitor& visit) override;
  size_t max_message_bytes() const override { return 1'000'000; }

 private:
  class MemorySource;
  class MemorySink;
  struct Record;
  struct Partition;
  struct Topic;
  /// The topic, created with the default partitions when missing.
  Topic& FindTopic(std::string_view name);
  Status AppendTo(Topic& topic, int32_t partition, std::optional<std::string_view> key,
                  std::optional<std::string_view> value, int64_t timestamp,
                  std::span<const RecordHeader> headers);

  const int members_per_group_;
  const int default_partitions_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Topic>, std::less<>> topics_;  // guarded by mutex_
  std::map<std::string, int> group_members_;                           // guarded by mutex_
  // Per (group, topic, partition): the committed offset.
  std::map<std::tuple<std::string, std::string, int32_t>, int64_t> committed_;  // mutex_
  // Per transactional id: the epoch of its newest sink, which fences the older ones.
  mutable std::map<std::string, uint64_t> transactional_epochs_;  // guarded by mutex_
};

}  // namespace sidestream::runtime
