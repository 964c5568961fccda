#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

/// The runtime's view of a log of partitioned records: where a stream thread reads input
/// (Source), writes results, side outputs and changelog records (Sink), and restores
/// changelogs (Clients). connectors/kafka implements them over librdkafka; InMemoryClients
/// (in_memory_clients.h) implements them over in-memory partitions for tests and benchmarks.
namespace sidestream::runtime {

/// A topic partition, and an offset in it.
struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  bool operator==(const TopicPartition&) const = default;
  auto operator<=>(const TopicPartition&) const = default;
};
struct TopicPartitionOffset {
  std::string topic;
  int32_t partition = 0;
  /// For commits: the next offset to read, i.e. the last processed offset + 1.
  int64_t offset = 0;
};

/// One record header; views into the record.
struct RecordHeader {
  std::string_view name;
  std::string_view value;
  bool has_value = true;  // false: the header's value is null (`value` is empty)
};

/// One record read from a source. Views are valid until the batch that holds it is polled
/// into again, or its source is sought, closed or destroyed.
struct SourceRecord {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = 0;  // ms since the epoch
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  uint32_t first_header = 0;  // in SourceBatch::headers
  uint32_t header_count = 0;
};

/// The records of one poll. Reused across polls.
struct SourceBatch {
  std::vector<SourceRecord> records;
  std::vector<RecordHeader> headers;

  /// The last header called `name` of `record`, if any.
  std::optional<std::string_view> FindHeader(const SourceRecord& record,
                                             std::string_view name) const {
    for (uint32_t i = record.header_count; i > 0; --i) {
      const RecordHeader& header = headers[record.first_header + i - 1];
      if (header.name == name) return header.value;
    }
    return std::nullopt;
  }
  void Clear() {
    records.clear();
    headers.clear();
  }
};

/// A change of a source's assignment.
struct RebalanceEvent {
  enum class Kind {
    kAssigned,  // partitions added to the assignment: create their tasks
    kRevoked,   // partitions taken away in an orderly way: commit, then close their tasks
    kLost,      // partitions lost (session timed out): close tasks without committing
  };
  Kind kind = Kind::kAssigned;
  std::vector<TopicPartition> partitions;
};

/// What a stage's source reads, and as which group member.
struct SourceOptions {
  /// Members of one group share the partitions of `topics`.
  std::string group_id;
  std::vector<std::string> topics;
  /// Give each member the same partitions of every topic (a join's inputs).
  bool co_partitioned = false;
  /// Called on the polling thread, inside Poll or Close: after partitions are assigned, and
  /// before revoked or lost ones are taken away (so revoked partitions may still commit).
  std::function<void(const RebalanceEvent&)> on_rebalance;
};

/// One member of a consumer group: the input of one stage on one stream thread. Thread: one
/// thread at a time.
class Source {
 public:
  virtual ~Source() = default;
  /// Replaces `batch` with up to `max_records` records, waiting up to `timeout` for the
  /// first. Serves rebalances. Errors only when the source is unusable.
  virtual Status Poll(size_t max_records, std::chrono::milliseconds timeout,
                      SourceBatch& batch) = 0;
  /// Commits `offsets` (next offsets to read). Unavailable when retriable; Rebalanced when the
  /// group moved partitions meanwhile.
  virtual Status Commit(const std::vector<TopicPartitionOffset>& offsets) = 0;
  /// The committed offsets of `partitions`; negative where the group has none.
  virtual Result<std::vector<TopicPartitionOffset>> Committed(
      const std::vector<TopicPartition>& partitions) = 0;
  /// The low and high watermarks of `partition` as last seen (no round trip); negative while
  /// unknown.
  virtual std::pair<int64_t, int64_t> CachedWatermarks(const TopicPartition& partition) const = 0;
  /// The next polls return `offsets`' partitions from those offsets (kBeginning: the start).
  virtual Status Seek(const std::vector<TopicPartitionOffset>& offsets) = 0;
  virtual Result<std::vector<TopicPartition>> Assignment() const = 0;
  /// While paused, no partition is fetched, including those assigned later; the member stays
  /// in its group, and Poll (call it as often as when running) serves rebalances. Records a
  /// poll returned before are not taken back. Unpaused, fetching goes on from where it was:
  /// Seek to be exact.
  virtual Status SetPaused(bool paused) = 0;
  /// Leaves the group (revoking every partition). Idempotent.
  virtual Status Close() = 0;
  /// Makes a Poll under way return at once (with what it has, maybe nothing), or the next
  /// Poll when none is under way. Thread: any thread, but not concurrently with Close or
  /// the destructor. A source that never blocks long in Poll may ignore it.
  virtual void Wake() {}

  static constexpr int64_t kBeginning = -2;  // librdkafka's RD_KAFKA_OFFSET_BEGINNING
};

/// What a crash may cost (Kafka Streams' processing.guarantee).
enum class ProcessingGuarantee {
  /// Offsets are committed after the outputs they caused are delivered: after a crash, the
  /// records since the last commit are processed again, and their outputs written twice.
  kAtLeastOnce,
  /// KIP-447: each commit is one Kafka transaction holding the outputs, the changelog writes
  /// and the input offsets of every stage; read_committed readers see each input's effect once.
  kExactlyOnceV2,
};
/// "at_least_once" or "exactly_once_v2".
inline const char* ProcessingGuaranteeName(ProcessingGuarantee guarantee) {
  return guarantee == ProcessingGuarantee::kExactlyOnceV2 ? "exactly_once_v2" : "at_least_once";
}

/// How a sink writes.
struct SinkOptions {
  /// Non-empty: the sink writes through transactions with this transactional.id (exactly
  /// once). Keep it stable across restarts of the same work, so that a new sink fences the
  /// old one at once and aborts what it left open.
  std::string transactional_id;
};

/// Where a stream thread's records go: result, side and changelog topics. Thread: one thread
/// at a time.
///
/// A transactional sink (SinkOptions::transactional_id) opens a transaction at the first
/// Produce or SendOffsets after a commit or abort; nothing it writes is visible to a
/// read_committed reader until CommitTransaction. Its errors say what to do next:
/// Unavailable (retriable) means the transaction is, or must be, aborted, and the work since
/// the last commit redone; Internal means the sink is unusable (fenced by another sink with the
/// same transactional id, or a fatal client error).
class Sink {
 public:
  virtual ~Sink() = default;
  /// Queues one record (copied). `partition` -1 picks it by key; `timestamp_ms` 0 means now.
  /// InvalidArgument for a record that is too large; Unavailable when retriable.
  virtual Status Produce(std::string_view topic, int32_t partition, std::string_view key,
                         std::string_view value, int64_t timestamp_ms,
                         std::span<const RecordHeader> headers = {}) = 0;
  /// Waits until every queued record is delivered; the first delivery failure since the last
  /// Flush, or Unavailable when `timeout` passes first.
  virtual Status Flush(std::chrono::milliseconds timeout) = 0;
  /// Forgets failures reported before a restart.
  virtual void ClearErrors() = 0;

  /// Whether records go through transactions.
  virtual bool transactional() const { return false; }
  /// Adds `offsets` (next to read) of `source`'s consumer group to the open transaction, with
  /// the group's metadata, so that a member the group has moved on from cannot commit them
  /// (KIP-447). A transaction may carry offsets of several groups: call it once per source.
  virtual Status SendOffsets(Source& source, const std::vector<TopicPartitionOffset>& offsets,
                             std::chrono::milliseconds timeout) {
    (void)source, (void)offsets, (void)timeout;
    return Status::NotSupported("SendOffsets on a sink without transactions");
  }
  /// Delivers what the open transaction holds and commits it; OK when none is open.
  virtual Status CommitTransaction(std::chrono::milliseconds timeout) {
    (void)timeout;
    return Status::OK();
  }
  /// Aborts the open transaction (its records are never visible to read_committed readers,
  /// its offsets never committed); OK when none is open.
  virtual Status AbortTransaction(std::chrono::milliseconds timeout) {
    (void)timeout;
    return Status::OK();
  }
};

/// Called with each record of a changelog partition, oldest first.
using ChangelogVisitor = std::function<Status(std::optional<std::string_view> key,
                                              std::optional<std::string_view> value)>;

/// What ReadChangelogFrom reads: one changelog partition from an offset to its end.
struct ChangelogReadRequest {
  std::string topic;
  int32_t partition = 0;
  /// The first offset to read (a task's checkpoint); Source::kBeginning reads it all.
  int64_t from = -2;
  /// Called once, before the first record, with the offsets to be read: [start, end).
  std::function<void(int64_t start, int64_t end)> on_range;
  /// Under exactly-once, a task's new owner reads on past transactions still open at the end
  /// (an earlier owner's, killed mid-transaction), which hide the committed records after
  /// them, until they end; `on_wait(stable, high)` is called once when it starts to wait.
  bool wait_for_open_transactions = false;
  std::function<void(int64_t stable, int64_t high)> on_wait;
};
/// What ReadChangelogFrom read.
struct ChangelogReadResult {
  int64_t records = 0;
  /// The end the read reached (every record before it was read): the partition's end offset
  /// when the read began, or past it when the read waited for open transactions.
  int64_t end_offset = 0;
  /// `from` lies outside the partition (before its first offset, or past its end): nothing
  /// was read, and the caller's state cannot be brought up to date from `from`.
  bool out_of_range = false;
};

/// Makes sources and sinks, and reads changelogs. Thread-safe.
class Clients {
 public:
  virtual ~Clients() = default;
  virtual Result<std::unique_ptr<Source>> CreateSource(SourceOptions options) = 0;
  /// A transactional sink initializes its transactions here (fencing an older sink with the
  /// same id, and aborting what that one left open).
  virtual Result<std::unique_ptr<Sink>> CreateSink(SinkOptions options = {}) = 0;
  /// Visits every committed record of `topic`'s `partition` (records of aborted or open
  /// transactions are skipped: a restored store never holds state a commit did not keep);
  /// returns how many.
  virtual Result<int64_t> ReadChangelog(const std::string& topic, int32_t partition,
                                        const ChangelogVisitor& visit) = 0;
  /// Visits the records of `request`'s partition from `request.from` to its end as of the
  /// call, oldest first: a task whose local state is checkpointed replays only the tail.
  virtual Result<ChangelogReadResult> ReadChangelogFrom(const ChangelogReadRequest& request,
                                                        const ChangelogVisitor& visit) = 0;
  /// The largest record (key plus value) a sink takes.
  virtual size_t max_message_bytes() const = 0;
};

}  // namespace sidestream::runtime
