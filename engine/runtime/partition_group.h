#pragma once

#include <chrono>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "runtime/source.h"
#include "runtime/stream_task.h"

namespace sidestream::runtime {

/// Puts the messages of one task that come from several sources (a join's inputs) into
/// `merged` in timestamp order across sources, keeping each source's own order: as Kafka
/// Streams does, the next message is always the oldest at the head of a source (ties go to
/// the one that arrived first). So a table row is applied before the stream records that
/// follow it in time, even when a poll returned them the other way round.
void MergeSourcesByTimestamp(std::span<const InputMessage> messages,
                             std::vector<InputMessage>& merged);

/// Per (source, partition): the next offset to process, as a task manager tracks it.
using NextOffsets = std::map<std::pair<size_t, int32_t>, int64_t>;

/// The inputs of one stage's member on one stream thread (Kafka Streams' PartitionGroup):
/// which topic each of the stage's sources reads, and, for a join, how long its tasks hold
/// records back. A join task's records run in timestamp order, and only while every input
/// either has fetched records left or has nothing more on the broker (Kafka Streams' rule;
/// at most `max_task_idle` of waiting): so a stream's records wait for table rows that are on
/// the broker but not fetched yet. Thread: the stream thread's.
class PartitionGroup {
 public:
  PartitionGroup(std::vector<std::string> source_topics, const Clock& clock,
                 std::chrono::milliseconds max_task_idle);

  /// A join's, left to right; two sources may read one topic.
  const std::vector<std::string>& source_topics() const { return source_topics_; }
  /// The distinct topics, which the stage's source subscribes to.
  const std::vector<std::string>& input_topics() const { return input_topics_; }
  bool joins() const { return source_topics_.size() > 1; }

  /// How many of a join task's records (`merged`, one partition's, in timestamp order) may
  /// run now. `processed` holds the offsets processed so far.
  Result<size_t> ProcessableCount(Source& source, std::span<const InputMessage> merged,
                                  const NextOffsets& processed);
  /// Seeks `source` back so that the next polls deliver `unprocessed` (one partition's)
  /// again; returns how many messages that puts back.
  Result<int64_t> FetchAgain(Source& source, std::span<const InputMessage> unprocessed);
  /// Forgets what it learned of offsets and waits (the tasks were dropped).
  void Reset();

 private:
  /// The next offset of `topic`'s `partition` to process, while none was fetched.
  Result<int64_t> NextOffset(Source& source, const std::string& topic, int32_t partition,
                             const NextOffsets& processed);

  std::vector<std::string> source_topics_;
  std::vector<std::string> input_topics_;
  std::vector<size_t> input_of_source_;  // per source: its topic's index in input_topics_
  const Clock& clock_;
  const std::chrono::milliseconds max_task_idle_;
  // Per (topic, partition): where reading started (committed offset or low watermark), for a
  // partition that delivered nothing yet.
  std::map<std::pair<std::string, int32_t>, int64_t> start_offsets_;
  // Per partition: since when its task has waited for an input.
  std::map<int32_t, std::chrono::steady_clock::time_point> waiting_since_;
};

}  // namespace sidestream::runtime
