#include "runtime/query_status.h"

#include <algorithm>

namespace sidestream::runtime {

const char* QueryStateName(QueryState state) {
  switch (state) {
    case QueryState::kRunning:
      return "RUNNING";
    case QueryState::kPaused:
      return "PAUSED";
    case QueryState::kError:
      return "ERROR";
    case QueryState::kTerminated:
      return "TERMINATED";
  }
  return "UNKNOWN";
}

std::string QueryError::ToString() const {
  std::string text = StatusCodeName(error.code());
  if (!topic.empty()) {
    text += " at " + topic + "[" + std::to_string(partition) + "]@" + std::to_string(first_offset);
    if (last_offset != first_offset) text += ".." + std::to_string(last_offset);
  }
  return text + ": " + error.message();
}

QueryControl::QueryControl(std::string id, const Clock& clock, RetryPolicy retry,
                           const QueryFailureCallback* on_failure)
    : id_(std::move(id)), clock_(clock), retry_(retry), on_failure_(on_failure) {
  status_.id = id_;
}

QueryStatus QueryControl::status() const {
  QueryStatus status;
  {
    std::lock_guard lock(mutex_);
    status = status_;
  }
  status.restoring_tasks = restores_.tasks.load();
  status.restore_records_left = restores_.records_left.load();
  status.awaiting_assignment = awaiting_assignment_.load();
  return status;
}

QueryState QueryControl::state() const {
  std::lock_guard lock(mutex_);
  return status_.state;
}

QueryState QueryControl::Fail(QueryError failure) {
  std::lock_guard lock(mutex_);
  if (status_.state != QueryState::kRunning && status_.state != QueryState::kPaused) {
    return status_.state;
  }
  failure.time_ms = clock_.WallMs();
  status_.errors.push_back(failure);
  if (status_.errors.size() > QueryStatus::kMaxErrorHistory) {
    status_.errors.erase(status_.errors.begin());
  }
  if (failure.error.retriable()) {
    backoff_ = backoff_.count() == 0 ? retry_.initial : std::min(backoff_ * 2, retry_.max);
    retry_at_ = clock_.Now() + backoff_;
  } else {
    status_.state = QueryState::kError;
  }
  failures_.fetch_add(1, std::memory_order_release);
  // Under the lock: failures of one query reach the callback one at a time, in order.
  if (on_failure_ && *on_failure_) (*on_failure_)(id_, failure, status_.state);
  return status_.state;
}

bool QueryControl::MayRestart(uint64_t seen) {
  std::lock_guard lock(mutex_);
  if (status_.state != QueryState::kRunning || clock_.Now() < retry_at_) return false;
  if (restarted_failures_ < seen) {
    restarted_failures_ = seen;
    ++status_.restarts;
  }
  return true;
}

void QueryControl::Committed() {
  std::lock_guard lock(mutex_);
  backoff_ = std::chrono::milliseconds(0);
}

void QueryControl::Terminate() {
  std::lock_guard lock(mutex_);
  status_.state = QueryState::kTerminated;
}

bool QueryControl::Pause() {
  std::lock_guard lock(mutex_);
  if (status_.state != QueryState::kRunning) return false;
  status_.state = QueryState::kPaused;
  return true;
}

bool QueryControl::Resume() {
  std::lock_guard lock(mutex_);
  if (status_.state != QueryState::kPaused) return false;
  status_.state = QueryState::kRunning;
  return true;
}

}  // namespace sidestream::runtime
