#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/record_collector.h"
#include "runtime/source.h"
#include "runtime/state_store.h"
#include "runtime/task_manager.h"

namespace sidestream::runtime {

/// Standby replicas (num.standby.replicas, Kafka Streams' standby tasks), without a custom
/// assignor: librdkafka 2.0.2 has no public API to steer the group's assignment to an instance
/// that holds a warm copy. Instead every instance with standbys keeps a warm copy of every task
/// of every query it does not run itself: the task's persistent stores on local disk
/// (PersistentStoreProvider), brought up to date from its changelog partitions (read directly,
/// without a group) on each pass, and its checkpoint written after each catch-up. When the
/// group then assigns that partition here, the stream thread's TaskManager finds the
/// checkpoint and replays only the changelogs' tail. A task that becomes active here closes its
/// standby copy first (ActiveTaskListener::Claim); when it is revoked, the copy is warmed again.
/// This is num.standby.replicas = instances - 1 whatever the value (1 or more): the cost is a
/// copy of every task's state on each instance, and changelog reads by each.
///
/// Ownership: the engine owns it, and it must outlive the stream threads (whose task managers
/// call Claim and Release) and be outlived by the provider and the clients. Thread: Start runs
/// passes on a thread of its own ("ss-standby"); AddStage, RemoveQuery, Claim, Release and
/// records_replayed from any thread. Stop (or the destructor) ends the thread after the task
/// being caught up; open copies are closed with their checkpoints written.
class StandbyTasks final : public ActiveTaskListener {
 public:
  /// `interval`: the pause between two passes over every standby task.
  StandbyTasks(std::string application_id, Clients& clients, PersistentStoreProvider& provider,
               size_t max_message_bytes, std::chrono::milliseconds interval);
  ~StandbyTasks() override;

  /// Keeps warm copies of the tasks of `stage` (partitions 0 .. partitions - 1) that no task
  /// manager of this process claims. The stage must outlive RemoveQuery of its query.
  void AddStage(const StageSpec& stage, int32_t partitions);
  /// Closes the copies of every stage of `query_id` and forgets them.
  void RemoveQuery(const std::string& query_id);

  void Claim(const std::string& stage_id, int32_t partition) override;
  void Release(const std::string& stage_id, int32_t partition) override;

  /// One pass: creates missing copies (restoring from their checkpoint, else in full) and
  /// catches up the others. A copy that fails is closed, logged, and tried again next pass.
  void RunOnce();
  void Start();
  void Stop();

  /// Changelog records replayed into standby copies so far (any thread).
  int64_t records_replayed() const { return records_replayed_.load(); }
  /// Standby copies open now (any thread).
  int64_t open_copies() const { return open_copies_.load(); }

 private:
  struct Stage;
  Stage* FindStage(const std::string& stage_id);  // needs mutex_

  const std::string application_id_;
  Clients& clients_;
  PersistentStoreProvider& provider_;
  const std::chrono::milliseconds interval_;
  RecordCollector collector_;  // standby tasks write nothing; their managers need one
  std::mutex mutex_;           // guards stages_ and each copy while it is caught up
  std::vector<std::unique_ptr<Stage>> stages_;
  std::condition_variable wake_;  // the pause between passes, with mutex_
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::atomic<int64_t> records_replayed_{0};
  std::atomic<int64_t> open_copies_{0};
};

}  // namespace sidestream::runtime
