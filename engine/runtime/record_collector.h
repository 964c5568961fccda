#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/record.h"
#include "runtime/source.h"
#include "runtime/state_store.h"
#include "runtime/stream_task.h"

namespace sidestream::runtime {

/// Marks a repartition-topic row that undoes an earlier row (a table update's old value).
inline constexpr std::string_view kRetractHeader = "sidestream.retract";
/// Carries the value a repartition-topic row replaces under the same key: both halves of a
/// table update in one message, as Kafka Streams' Change of new and old value.
inline constexpr std::string_view kOldValueHeader = "sidestream.old";
/// Carry the key and value of the input a repartition-topic row came from, so that the next
/// stage writes a late record as it arrived.
inline constexpr std::string_view kSourceKeyHeader = "sidestream.source.key";
inline constexpr std::string_view kSourceValueHeader = "sidestream.source.value";

/// Whether `name` is one of the headers above, which a repartition topic's rows carry for the
/// next stage and which no result passes on.
inline bool IsInternalHeader(std::string_view name) {
  return name == kRetractHeader || name == kOldValueHeader || name == kSourceKeyHeader ||
         name == kSourceValueHeader;
}

/// Appends the key of a windowed result, readable by any consumer, to `out`:
/// "<key>@<window start>/<window end>" (epoch ms).
void AppendWindowedKey(std::string_view key, int64_t start, int64_t end, std::string& out);
/// The window of a key written by AppendWindowedKey, which `key` is trimmed to the key part
/// of; nullopt (and `key` unchanged) when it has none.
std::optional<WindowBounds> SplitWindowedKey(std::string_view& key);

/// Carries one query's records on one stream thread through one Sink (Kafka Streams'
/// RecordCollector): the results of its stages, side outputs (late and dead-letter records)
/// and its stores' changelog writes. Thread: the stream thread's; the counters from any.
class RecordCollector {
 public:
  RecordCollector(std::unique_ptr<Sink> sink, size_t max_message_bytes)
      : sink_(std::move(sink)), max_message_bytes_(max_message_bytes) {}

  /// Callbacks for the tasks of a stage that writes to `topic`. With `carry_sources` (a
  /// re-keying stage of a query that keeps late records), each row carries its input's key
  /// and value on. Each task gets its own copy (and so its own key buffer).
  TaskCallbacks StageCallbacks(const std::string& topic, bool carry_sources);
  /// What a changelog store writes to partition `partition` of `topic`.
  ChangelogStore::Sink ChangelogWriter(std::string topic, int32_t partition);

  Status Flush(std::chrono::milliseconds timeout) { return sink_->Flush(timeout); }
  void ClearErrors() { sink_->ClearErrors(); }

  /// Exactly-once: the sink's transaction, which everything above writes into (Sink).
  bool transactional() const { return sink_->transactional(); }
  Status SendOffsets(Source& source, const std::vector<TopicPartitionOffset>& offsets,
                     std::chrono::milliseconds timeout) {
    return sink_->SendOffsets(source, offsets, timeout);
  }
  Status CommitTransaction(std::chrono::milliseconds timeout) {
    return sink_->CommitTransaction(timeout);
  }
  Status AbortTransaction(std::chrono::milliseconds timeout) {
    return sink_->AbortTransaction(timeout);
  }

  int64_t produced() const { return produced_.load(std::memory_order_relaxed); }
  int64_t changelog_records() const { return changelog_records_.load(std::memory_order_relaxed); }

 private:
  std::unique_ptr<Sink> sink_;
  const size_t max_message_bytes_;
  std::atomic<int64_t> produced_{0};
  std::atomic<int64_t> changelog_records_{0};
};

}  // namespace sidestream::runtime
