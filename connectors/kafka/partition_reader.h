#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "connectors/kafka/client_config.h"

namespace sidestream::kafka {

/// One message of a partition being read: key and value, nullopt when null.
using PartitionVisitor = std::function<Status(std::optional<std::string_view> key,
                                              std::optional<std::string_view> value)>;

/// Reads partition `partition` of `topic` from its first message to its end as of the call
/// (the high watermark, or the first end of partition the reader meets), in order, in
/// batches: a state store restoring from its changelog. Reads with
/// isolation.level=read_committed: records of aborted transactions are skipped, and it stops
/// at the last stable offset (before any transaction still open).
/// Uses no consumer group. Returns the number of messages read. Unavailable when the end is
/// not reached within `timeout`; a visitor's error stops the read and is returned.
Result<int64_t> ReadPartitionToEnd(const ClientConfig& client, const std::string& topic,
                                   int32_t partition, const PartitionVisitor& visit,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// A message with its timestamp (epoch ms; -1 when it has none).
using TimedPartitionVisitor = std::function<Status(
    std::optional<std::string_view> key, std::optional<std::string_view> value, int64_t timestamp)>;
/// ReadPartitionToEnd, with each message's timestamp.
Result<int64_t> ReadPartitionToEnd(const ClientConfig& client, const std::string& topic,
                                   int32_t partition, const TimedPartitionVisitor& visit,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// What ReadPartitionFrom read.
struct PartitionRead {
  int64_t records = 0;
  /// The end the read reached: the last stable offset when it began, or past it when the
  /// read waited for open transactions (every committed record before it was read).
  int64_t end_offset = 0;
  bool out_of_range = false;  // `from` was before the first offset or past the end: none read
};
inline constexpr int64_t kBeginningOffset = -2;
/// How ReadPartitionFrom reads.
struct PartitionReadOptions {
  /// The first offset to read (kBeginningOffset: the partition's first).
  int64_t from = kBeginningOffset;
  /// When set, called with [start, end) before the first message.
  std::function<void(int64_t start, int64_t end)> on_range;
  /// A read_committed read ends at the last stable offset: before the first transaction still
  /// open, and so before the committed records that follow it. A task's new owner must not
  /// stop there when its earlier owner died mid-transaction (a zombie that nobody fences: its
  /// transaction stays open until the broker aborts it after its transaction.timeout.ms), or
  /// it would miss what the owner in between committed. With this set the read goes on until
  /// no transaction is open before the high watermark seen at its first end, calling
  /// `on_wait(stable, high)` once when it starts to wait.
  bool wait_for_open_transactions = false;
  std::function<void(int64_t stable, int64_t high)> on_wait;
  std::chrono::milliseconds timeout = std::chrono::seconds(60);
};
/// Reads partition `partition` of `topic` from `options.from` to its end as of the call, as
/// ReadPartitionToEnd does: a task replaying its changelog's tail past its checkpoint.
Result<PartitionRead> ReadPartitionFrom(const ClientConfig& client, const std::string& topic,
                                        int32_t partition, const PartitionReadOptions& options,
                                        const TimedPartitionVisitor& visit);

/// Reads one partition from an offset on, as records arrive, with no consumer group: the
/// command topic's replay, where every instance reads every record in order. The offset
/// reset policy is "error": a start before the partition's first offset (records gone to
/// retention) is reported, never skipped silently.
/// Ownership: owns its librdkafka handle. Thread: one call at a time, from any thread.
class PartitionTailer {
 public:
  /// Assigns `partition` of `topic` at `from` (kBeginningOffset: its first record).
  /// InvalidArgument when the configuration is refused.
  static Result<std::unique_ptr<PartitionTailer>> Create(const ClientConfig& client,
                                                         std::string topic, int32_t partition,
                                                         int64_t from);
  ~PartitionTailer();
  PartitionTailer(const PartitionTailer&) = delete;
  PartitionTailer& operator=(const PartitionTailer&) = delete;

  using Visitor = std::function<void(int64_t offset, std::optional<std::string_view> key,
                                     std::optional<std::string_view> value)>;
  /// Hands the records that arrive within `timeout` to `visit`, in offset order, and returns
  /// how many. Retriable errors (broker down) are left to librdkafka's retries and read as
  /// none; others are returned (Corruption when the next offset is out of range).
  Result<int64_t> Poll(std::chrono::milliseconds timeout, const Visitor& visit);
  /// The partition's end (its high watermark) now, asked of the broker.
  Result<int64_t> EndOffset(std::chrono::milliseconds timeout);

 private:
  PartitionTailer() = default;

  std::string topic_;
  int32_t partition_ = 0;
  UniqueHandle handle_;
  UniqueQueue queue_;
};

}  // namespace sidestream::kafka
