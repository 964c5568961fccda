#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "connectors/kafka/batch_consumer.h"

/// The raw consume ceiling: how fast a consumer reads a topic with no decoding or processing.
namespace sidestream::bench {

/// One timed read.
struct ReadRun {
  int64_t messages = 0;
  double seconds = 0;       // from the assignment (fetching can begin) to the last message
  double join_seconds = 0;  // from creation to the assignment
  double assignment_wait_seconds = 0;  // from the call of ReadAll to the assignment
  uint64_t bytes = 0;                  // value bytes read, so that nothing is optimised away
};

/// A consumer in a group of its own that reads a topic from the start and times it.
/// Creating it starts the group join, so a caller may create it early and read later
/// without waiting for the join. Thread: one caller.
class TimedReader {
 public:
  static Result<std::unique_ptr<TimedReader>> Create(const kafka::ClientConfig& client,
                                                     const std::string& topic,
                                                     const std::string& group_id);

  /// Polls (up to `batch_size` messages at a time) until `messages` have arrived.
  /// Unavailable when they do not arrive within `timeout`.
  Result<ReadRun> ReadAll(int64_t messages, size_t batch_size, std::chrono::seconds timeout);

 private:
  using Clock = std::chrono::steady_clock;
  TimedReader() = default;

  std::unique_ptr<kafka::BatchConsumer> consumer_;
  Clock::time_point created_;
  Clock::time_point assigned_;  // set by the rebalance callback, on the polling thread
};

}  // namespace sidestream::bench
