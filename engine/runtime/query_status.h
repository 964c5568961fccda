#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace sidestream::runtime {

/// A persistent query's state, with ksqlDB's names.
enum class QueryState {
  kRunning,     // consuming, or waiting out a retry backoff
  kPaused,      // PAUSE: its consumers stay in their groups and keep their tasks, fetching nothing
  kError,       // stopped by a non-retriable error; its consumers left their groups
  kTerminated,  // stopped by TERMINATE
};
const char* QueryStateName(QueryState state);

/// One failure of a persistent query, as its error history keeps it.
struct QueryError {
  int64_t time_ms = 0;  // wall clock (Clock::WallMs)
  Status error;
  /// The input being processed when it failed, when known: its topic and partition, and the
  /// offsets of the batch (one record when first_offset == last_offset).
  std::string topic;
  int32_t partition = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;

  /// "QueryError at <topic>[<partition>]@<offsets>: <message>"
  std::string ToString() const;
};

/// What a persistent query is doing, for SHOW QUERIES and `sidestream run`'s log.
struct QueryStatus {
  std::string id;
  QueryState state = QueryState::kRunning;
  /// Retriable failures it recovered from by restarting at its last commit.
  int restarts = 0;
  /// Oldest first; the last kMaxErrorHistory.
  std::vector<QueryError> errors;
  static constexpr size_t kMaxErrorHistory = 20;
  /// Its tasks restoring their stores now, and the changelog records they have yet to read.
  int restoring_tasks = 0;
  int64_t restore_records_left = 0;
  /// Its consumers (one per stage and stream thread) that joined their groups and have not yet
  /// been given partitions: tasks, and restores, still to come.
  int awaiting_assignment = 0;
};

/// Restores in progress, counted as they run so that other threads (readiness, metrics) see
/// them while a stream thread is busy restoring.
struct RestoreCounters {
  std::atomic<int> tasks{0};             // tasks creating and restoring their stores now
  std::atomic<int64_t> records_left{0};  // changelog records those restores have yet to read
};

/// Called each time a query fails, with its state after the failure; on the stream thread
/// that saw it, one call at a time.
using QueryFailureCallback =
    std::function<void(const std::string& query_id, const QueryError& error, QueryState state)>;

/// Backoff of a query's restarts after retriable failures.
struct RetryPolicy {
  std::chrono::milliseconds initial{1000};
  std::chrono::milliseconds max{60000};
};

/// The one status of a persistent query that runs on several stream threads. A thread whose
/// share of the query fails records it here; every thread's share follows: it drops its tasks
/// at a new failure (`failures()` grew), and starts again from the last commit when the
/// backoff ends, or stops for good in the ERROR state. Thread-safe.
class QueryControl {
 public:
  QueryControl(std::string id, const Clock& clock, RetryPolicy retry,
               const QueryFailureCallback* on_failure);

  const std::string& id() const { return id_; }
  QueryStatus status() const;
  QueryState state() const;
  /// Failures so far: a share that saw fewer drops its tasks.
  uint64_t failures() const { return failures_.load(std::memory_order_acquire); }

  /// Records `failure` (its time is set here): the state stays (RUNNING or PAUSED) with a
  /// backoff when retriable, else ERROR. Returns the state after it.
  QueryState Fail(QueryError failure);
  /// Whether a share stopped by failure `seen` may start again now (RUNNING, backoff over); the
  /// first share that starts after a failure counts a restart.
  bool MayRestart(uint64_t seen);
  /// A commit succeeded: the next failure starts a fresh backoff.
  void Committed();
  void Terminate();
  /// PAUSE and RESUME: RUNNING <-> PAUSED; a query in another state keeps it. Every share
  /// follows at its next pass. Returns whether the state changed.
  bool Pause();
  bool Resume();
  bool paused() const { return state() == QueryState::kPaused; }
  /// The restores of its tasks on every thread (status() reports them).
  RestoreCounters& restores() { return restores_; }
  /// Counts QueryStatus::awaiting_assignment, on every thread.
  std::atomic<int>& awaiting_assignment() { return awaiting_assignment_; }

 private:
  const std::string id_;
  const Clock& clock_;
  const RetryPolicy retry_;
  const QueryFailureCallback* on_failure_;
  mutable std::mutex mutex_;
  QueryStatus status_;                              // guarded by mutex_
  std::chrono::steady_clock::time_point retry_at_;  // guarded by mutex_
  std::chrono::milliseconds backoff_{0};            // guarded by mutex_; 0 after a commit
  uint64_t restarted_failures_ = 0;  // guarded by mutex_: failures counted as restarts
  std::atomic<uint64_t> failures_{0};
  RestoreCounters restores_;
  std::atomic<int> awaiting_assignment_{0};
};

}  // namespace sidestream::runtime
