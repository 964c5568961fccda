#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "analyzer/logical_plan.h"
#include "runtime/checkpoint.h"
#include "runtime/partition_group.h"
#include "runtime/query_status.h"
#include "runtime/record_collector.h"
#include "runtime/source.h"
#include "runtime/state_store.h"
#include "runtime/stream_task.h"

namespace sidestream::runtime {

/// One stage of a persistent query, as every stream thread runs it.
struct StageSpec {
  std::string query_id;
  /// The stage's id: its consumer group is "<application>_<id>", its changelogs
  /// "<application>_<id>-<store>-changelog".
  std::string id;
  const analyzer::LogicalOperator* plan = nullptr;  // outlives every task built from it
  std::vector<std::string> source_topics;           // a join's: left to right
  std::vector<bool> windowed_sources;               // their keys carry windows: "key@start/end"
  bool reads_changes = false;  // reads a repartition topic, whose rows may be retractions
  std::string sink_topic;
  bool writes_repartition = false;  // the sink is the query's repartition topic
  bool carry_sources = false;       // see RecordCollector::StageCallbacks
  /// The session's and the query's WITH properties (none for a re-keying stage).
  std::map<std::string, std::string> properties;
};

/// Layers over a store a task makes, as Kafka Streams wraps its stores (metering, caching):
/// takes the stage, the store's name, the task's partition and the store, and returns the
/// store the task uses. Tests inject failing stores here.
using StoreWrapper = std::function<std::unique_ptr<KeyValueStore>(
    const StageSpec& stage, const std::string& name, int32_t partition,
    std::unique_ptr<KeyValueStore> store)>;

/// Told when a task becomes active in this process and when it stops being so, so that a
/// standby copy of its stores (StandbyTasks) gives way to it and takes over again after it.
/// Thread: any stream thread; implementations synchronize.
class ActiveTaskListener {
 public:
  virtual ~ActiveTaskListener() = default;
  /// Before the task of `stage_id`'s `partition` opens its stores: a standby copy of them is
  /// closed (its checkpoint written) first, so the task finds them locked by no one.
  virtual void Claim(const std::string& stage_id, int32_t partition) = 0;
  /// After the task closed or was dropped: a standby may keep its stores warm again.
  virtual void Release(const std::string& stage_id, int32_t partition) = 0;
};

/// Where a stage's tasks keep their state.
struct TaskStateOptions {
  /// Opens each task's stores on local disk, with a checkpoint beside them, so that a task
  /// that restarts here replays only its changelogs' tail; null keeps stores in memory,
  /// restored in full from the changelogs. Outlives the task managers.
  PersistentStoreProvider* provider = nullptr;
  /// Under exactly_once_v2 (the stream thread sets it):
  /// - a task's checkpoint is written only when it is closed cleanly, and deleted once the
  ///   task is restored: the local stores may hold writes of a transaction that aborts, so a
  ///   checkpoint left while processing would name state that never committed (as Kafka
  ///   Streams does);
  /// - a restore reads on past transactions still open at the changelog's end (an earlier
  ///   owner's, killed mid-transaction) until they end, as those hide the records that the
  ///   owners since committed after them.
  bool exactly_once = false;
  /// Told of every task this manager creates and closes (see ActiveTaskListener); may be null.
  ActiveTaskListener* active_tasks = nullptr;
  /// The manager keeps standby copies (StandbyTasks): it logs its restores as such, at debug
  /// level when they only catch up, and counts in no restore counters.
  bool standby = false;
};

/// The tasks of one stage's member on one stream thread (Kafka Streams' TaskManager): a
/// StreamTask per assigned partition, created when the partition is assigned (its stores
/// first restored from partition p of their changelogs, so the task resumes wherever it ran
/// before) and closed when it is revoked; and the offsets they processed, which commits write.
/// Thread: the stream thread's.
class TaskManager {
 public:
  /// `wrap_store`, when set, wraps every store of every task (see StoreWrapper).
  TaskManager(const StageSpec& stage, std::string application_id, RecordCollector& collector,
              Clients& clients, std::chrono::milliseconds commit_timeout,
              StoreWrapper wrap_store = {}, TaskStateOptions state = {});
  /// Releases the tasks still claimed (see ActiveTaskListener).
  ~TaskManager();
  TaskManager(const TaskManager&) = delete;
  TaskManager& operator=(const TaskManager&) = delete;

  /// Creates the task of `partition` unless it exists, restoring its stores; the task
  /// processes nothing before they are restored. With persistent stores, a valid checkpoint
  /// means only the changelogs' tail past it is replayed; a missing or unreadable checkpoint
  /// or store, or a checkpoint the changelog no longer covers, wipes the task's directory and
  /// restores it in full (logged with the reason).
  Status Create(int32_t partition);
  /// Counts the tasks being created and restored now, and the records they have yet to
  /// restore, in each of `counters` (the stream thread's and the query's, read by any
  /// thread). Set before the first Create.
  void set_restore_counters(std::vector<RestoreCounters*> counters) {
    restore_counters_ = std::move(counters);
  }
  /// Runs one partition's messages through its task (created when missing).
  Status Process(std::span<const InputMessage> run);
  /// Flushes the tasks of `partitions` (all when empty): their stores write their changelog
  /// records into the collector. Returns the offsets to commit for them (next to read).
  Result<std::vector<TopicPartitionOffset>> Flush(const std::vector<int32_t>& partitions);
  /// At-least-once: Flush, then the collector (outputs delivered), then commits the offsets
  /// through `source`: outputs before the offsets that caused them. (Under exactly_once_v2
  /// the stream thread commits a share's stages in one transaction instead.)
  Status Commit(Source& source, const std::vector<int32_t>& partitions);
  /// Closes the tasks of `partitions`, committing first when `commit`.
  Status Close(Source& source, const std::vector<int32_t>& partitions, bool commit);
  /// Closes the tasks of `partitions` after the caller committed what they processed (an
  /// exactly-once transaction): their local state is the changelogs', so it is persisted and
  /// checkpointed, and the next task of a partition here replays only the changelog tail.
  Status CloseCommitted(const std::vector<int32_t>& partitions);
  /// Drops every task and what it processed since the last commit.
  void DropAll();
  /// Standby copies (persistent stores only): replays the changelogs of the task of
  /// `partition` past where its stores stand (to their ends as of the call), then writes its
  /// checkpoint. Returns the records replayed. The task must exist and process nothing.
  Result<int64_t> CatchUp(int32_t partition);
  /// Closes the task of `partition`, which processed nothing (a standby copy), writing its
  /// checkpoint first so that the next task of this partition replays only the tail.
  Status CloseStandby(int32_t partition);
  bool has_task(int32_t partition) const { return tasks_.count(partition) > 0; }
  /// Every partition quiet for `idle_ms`: stream time follows the wall clock.
  Status AdvanceIdle(int64_t idle_ms);

  bool empty() const { return tasks_.empty(); }
  /// Calls `visit` with each live task (pull queries read their state between passes).
  void ForEachTask(const std::function<void(int32_t partition, StreamTask& task)>& visit) {
    for (auto& [partition, task] : tasks_) visit(partition, *task);
  }
  const NextOffsets& next_offsets() const { return next_offsets_; }
  /// Of the live tasks and those closed before.
  TaskCounters counters() const;
  int64_t restored_records() const { return restored_records_; }
  /// Of the restores so far: those that started from a local checkpoint.
  int64_t restores_from_checkpoint() const { return restores_from_checkpoint_; }
  /// Entries in the live tasks' state stores.
  int64_t state_entries() const;
  /// Their estimated bytes (KeyValueStore::ApproximateBytes).
  int64_t state_bytes() const;
  /// The oldest stream time of the live tasks; INT64_MIN when none has one.
  int64_t oldest_stream_time() const;

 private:
  const StageSpec& stage_;
  const std::string application_id_;
  RecordCollector& collector_;
  Clients& clients_;
  const std::chrono::milliseconds commit_timeout_;
  // One store of a task, and where its changelog stands.
  struct StoreState {
    std::string topic;                      // its changelog
    ChangelogBackedStore* store = nullptr;  // owned by the task
    // A lower bound on the changelog partition's end: its end when the restore ended, plus
    // the records this store wrote since (a checkpoint that is low only replays more).
    int64_t restored_end = 0;
    int64_t written = 0;
  };
  // Tells state_.active_tasks, once per partition, that the task is active here / gone.
  void ClaimActive(int32_t partition);
  void ReleaseActive(int32_t partition);
  // Create, once the task is known to be missing.
  Status CreateAndRestore(int32_t partition);
  // Creates the task of `partition` with its stores in `directory` (persistent) or in memory,
  // and restores them: from `checkpoint` when given, else in full. False, with `why`, when
  // the local state cannot be used and a full restore is needed.
  Result<bool> CreateTask(int32_t partition, const std::string& directory,
                          const CheckpointOffsets* checkpoint, std::string& why);
  // Writes the checkpoints of the tasks of `partitions` (all when empty) whose changelog
  // offsets moved since their last one.
  Status WriteCheckpoints(const std::vector<int32_t>& partitions);
  // Persists the stores of the tasks of `partitions`, then writes their checkpoints.
  Status PersistAndCheckpoint(const std::vector<int32_t>& partitions);
  // Drops the tasks of `partitions` and everything kept about them.
  void DropTasks(const std::vector<int32_t>& partitions);

  const StoreWrapper wrap_store_;
  const TaskStateOptions state_;
  TaskCallbacks callbacks_;
  std::map<int32_t, std::unique_ptr<StreamTask>> tasks_;
  std::map<int32_t, std::vector<std::unique_ptr<StoreState>>> stores_;  // per task
  std::map<int32_t, std::string> directories_;         // per task with persistent stores
  std::map<int32_t, CheckpointOffsets> checkpointed_;  // per task: its last checkpoint
  NextOffsets next_offsets_;
  std::map<int32_t, int64_t> newest_;  // per partition: the newest timestamp seen
  TaskCounters closed_;                // counters of tasks already closed
  int64_t restored_records_ = 0;
  std::vector<RestoreCounters*> restore_counters_;
  int64_t restores_from_checkpoint_ = 0;
  std::vector<int32_t> claimed_;  // partitions told to state_.active_tasks as active
};

}  // namespace sidestream::runtime
