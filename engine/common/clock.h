#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace sidestream {

/// Where the engine reads the time of day and measures durations (Kafka Streams' `Time`).
/// Everything that waits on wall-clock time (idle windows closing, commit intervals, task
/// idling, retry backoff) asks a Clock, so tests move time instead of sleeping.
/// Thread: safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  /// Monotonic time, for durations and deadlines.
  virtual std::chrono::steady_clock::time_point Now() const = 0;
  /// Milliseconds since the epoch, for timestamps shown to users (error history).
  virtual int64_t WallMs() const = 0;

  /// The process's real clock.
  static const Clock& System();
};

/// A clock that moves only when told to: tests advance it past a commit interval or an
/// idle timeout and check what happened, without sleeping.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t wall_ms = 1'700'000'000'000) : wall_ms_(wall_ms) {}
  std::chrono::steady_clock::time_point Now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(elapsed_ms_.load()));
  }
  int64_t WallMs() const override { return wall_ms_.load() + elapsed_ms_.load(); }
  void Advance(std::chrono::milliseconds by) { elapsed_ms_ += by.count(); }

 private:
  std::atomic<int64_t> wall_ms_;
  std::atomic<int64_t> elapsed_ms_{0};
};

}  // namespace sidestream
