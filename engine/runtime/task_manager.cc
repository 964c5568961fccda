#include "runtime/task_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

#include "planner/physical_plan.h"

namespace sidestream::runtime {

namespace {

// Restores and checkpoints are logged to stderr: stdout carries query output.
// The process's log (common/logging.h), so that restore lines follow log.level and log.format.
spdlog::logger& StateLog() { return *spdlog::default_logger(); }

// Logs a long restore's progress at most once a second: records, rate and time left. Counts
// the records left in `counters` as it goes, and takes what is left out when it ends.
class RestoreProgress {
 public:
  RestoreProgress(const std::string& topic, int32_t partition,
                  const std::vector<RestoreCounters*>& counters)
      : topic_(topic),
        partition_(partition),
        counters_(counters),
        started_(std::chrono::steady_clock::now()),
        last_log_(started_) {}
  ~RestoreProgress() { CountDone(total_ - counted_); }

  void SetRange(int64_t start, int64_t end) {
    CountDone(total_ - counted_);
    total_ = std::max<int64_t>(0, end - start);
    counted_ = 0;
    for (RestoreCounters* counter : counters_) counter->records_left += total_;
  }

  void Count() {
    ++records_;
    if ((records_ & 1023) != 0) return;  // read the clock every 1024 records only
    CountDone(std::min<int64_t>(records_, total_) - counted_);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_log_ < std::chrono::seconds(1)) return;
    last_log_ = now;
    const double seconds = std::chrono::duration<double>(now - started_).count();
    const double rate = seconds > 0 ? static_cast<double>(records_) / seconds : 0;
    const int64_t left = std::max<int64_t>(0, total_ - records_);
    StateLog().info("restoring {} partition {}: {} of {} records, {:.0f} records/s, {:.0f} s left",
                    topic_, partition_, records_, total_, rate,
                    rate > 0 ? static_cast<double>(left) / rate : 0.0);
  }

 private:
  void CountDone(int64_t records) {
    if (records <= 0) return;
    counted_ += records;
    for (RestoreCounters* counter : counters_) counter->records_left -= records;
  }

  const std::string& topic_;
  const int32_t partition_;
  const std::vector<RestoreCounters*>& counters_;
  int64_t counted_ = 0;  // of total_, taken out of the counters' records left
  const std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_log_;
  int64_t total_ = 0;
  int64_t records_ = 0;
};

}  // namespace

TaskManager::TaskManager(const StageSpec& stage, std::string application_id,
                         RecordCollector& collector, Clients& clients,
                         std::chrono::milliseconds commit_timeout, StoreWrapper wrap_store,
                         TaskStateOptions state)
    : stage_(stage),
      application_id_(std::move(application_id)),
      collector_(collector),
      clients_(clients),
      commit_timeout_(commit_timeout),
      wrap_store_(std::move(wrap_store)),
      state_(state),
      callbacks_(collector.StageCallbacks(stage.sink_topic, stage.carry_sources)) {}

TaskManager::~TaskManager() {
  while (!claimed_.empty()) ReleaseActive(claimed_.back());
}

void TaskManager::ClaimActive(int32_t partition) {
  if (state_.active_tasks == nullptr) return;
  if (std::find(claimed_.begin(), claimed_.end(), partition) != claimed_.end()) return;
  state_.active_tasks->Claim(stage_.id, partition);
  claimed_.push_back(partition);
}

void TaskManager::ReleaseActive(int32_t partition) {
  auto found = std::find(claimed_.begin(), claimed_.end(), partition);
  if (found == claimed_.end()) return;
  claimed_.erase(found);
  state_.active_tasks->Release(stage_.id, partition);
}

Status TaskManager::Create(int32_t partition) {
  if (tasks_.count(partition)) return Status::OK();
  // A standby copy of this task's stores closes first: the task opens them here.
  ClaimActive(partition);
  // Counted while it restores, so that readiness (/chc/ready) can see it from any thread.
  for (RestoreCounters* counter : restore_counters_) ++counter->tasks;
  Status created = CreateAndRestore(partition);
  for (RestoreCounters* counter : restore_counters_) --counter->tasks;
  return created;
}

Status TaskManager::CreateAndRestore(int32_t partition) {
  std::string why;
  if (state_.provider == nullptr) {
    ASSIGN_OR_RAISE(bool created, CreateTask(partition, "", nullptr, why));
    (void)created;  // in memory: always a full restore
    return Status::OK();
  }
  const std::string directory =
      state_.provider->TaskDirectory(application_id_, stage_.id, partition);
  const std::string checkpoint_path = directory + "/" + kCheckpointFileName;
  Result<CheckpointOffsets> checkpoint = ReadCheckpoint(checkpoint_path);
  if (checkpoint.ok()) {
    ASSIGN_OR_RAISE(bool created, CreateTask(partition, directory, &*checkpoint, why));
    if (created) {
      ++restores_from_checkpoint_;
      if (state_.exactly_once) {
        // Gone until the next clean close writes it again, even if nothing moves by then.
        RETURN_NOT_OK(DeleteCheckpoint(checkpoint_path));
        checkpointed_.erase(partition);
      }
      return Status::OK();
    }
  } else if (checkpoint.status().code() == StatusCode::kNotFound) {
    why = "no checkpoint in " + directory;
  } else {
    why = checkpoint.status().message();
  }
  StateLog().info("{}query {} partition {}: full restore from the changelogs: {}",
                  state_.standby ? "standby of " : "", stage_.id, partition, why);
  // Whatever the directory holds may be newer or older than any offset: start empty.
  std::error_code error;
  std::filesystem::remove_all(directory, error);
  if (error) {
    return Status::IOError("cannot clear the state directory " + directory + ": " +
                           error.message());
  }
  ASSIGN_OR_RAISE(bool created, CreateTask(partition, directory, nullptr, why));
  if (!created) {
    return Status::Internal("query " + stage_.id + " partition " + std::to_string(partition) +
                            ": a full restore failed: " + why);
  }
  return Status::OK();
}

Result<bool> TaskManager::CreateTask(int32_t partition, const std::string& directory,
                                     const CheckpointOffsets* checkpoint, std::string& why) {
  const auto started = std::chrono::steady_clock::now();
  // Each store writes its changes to partition `partition` of its changelog topic at every
  // commit, and starts from what that partition holds: the task's state, wherever it ran.
  std::vector<std::unique_ptr<StoreState>> states;
  Status open_error;
  auto factory = [&](const std::string& name) -> std::unique_ptr<KeyValueStore> {
    auto state = std::make_unique<StoreState>();
    state->topic = planner::ChangelogTopic(application_id_, stage_.id, name);
    StoreState* counted = state.get();
    ChangelogBackedStore::Sink sink = [writer = collector_.ChangelogWriter(state->topic, partition),
                                       counted](std::string_view key, const std::string* value) {
      RETURN_NOT_OK(writer(key, value));
      ++counted->written;
      return Status::OK();
    };
    std::unique_ptr<ChangelogBackedStore> store;
    if (state_.provider != nullptr) {
      auto opened = state_.provider->Open(directory, name, std::move(sink));
      if (!opened.ok()) {
        if (open_error.ok()) open_error = opened.status();
        // The task is dropped before it runs: see open_error below.
        return std::make_unique<InMemoryKeyValueStore>();
      }
      store = std::move(*opened);
      // Under exactly-once the checkpoint is written only at a clean close (after Persist):
      // the stores need not flush their files at every commit.
      store->SetPersistEachFlush(!state_.exactly_once);
      // Files written before the commit no longer match the checkpoint: it goes first.
      store->SetEarlyWriteHook(
          [this, partition, path = directory + "/" + kCheckpointFileName]() -> Status {
            checkpointed_.erase(partition);
            return DeleteCheckpoint(path);
          });
    } else {
      store = std::make_unique<ChangelogStore>(std::move(sink));
    }
    state->store = store.get();
    states.push_back(std::move(state));
    if (wrap_store_) return wrap_store_(stage_, name, partition, std::move(store));
    return store;
  };
  ASSIGN_OR_RAISE(auto task, StreamTask::Create(stage_.query_id, *stage_.plan, stage_.properties,
                                                callbacks_, factory));
  if (!open_error.ok()) {
    // Unreadable files are rebuilt from the changelog; anything else (a lock another process
    // holds, a failing disk) is not ours to wipe.
    if (checkpoint != nullptr && open_error.code() == StatusCode::kCorruption) {
      why = "the local state is unreadable: " + open_error.message();
      return false;
    }
    return Status(open_error.code(), "opening the state of query " + stage_.id + " partition " +
                                         std::to_string(partition) + ": " + open_error.message());
  }
  int64_t replayed = 0;
  for (const std::unique_ptr<StoreState>& state : states) {
    ChangelogReadRequest request;
    request.topic = state->topic;
    request.partition = partition;
    if (checkpoint != nullptr) {
      auto found = checkpoint->find({state->topic, partition});
      if (found == checkpoint->end()) {
        why = "the checkpoint has no offset for " + state->topic;
        return false;
      }
      request.from = found->second;
    }
    RestoreProgress progress(state->topic, partition, restore_counters_);
    request.on_range = [&progress](int64_t start, int64_t end) { progress.SetRange(start, end); };
    // A standby copy stays a prefix of the changelog and reads on at its next pass.
    request.wait_for_open_transactions = state_.exactly_once && !state_.standby;
    request.on_wait = [this, partition, &topic = state->topic](int64_t stable, int64_t high) {
      StateLog().info(
          "query {} partition {}: waiting for the transaction open at offset {} of {} (end {}) "
          "to end: the committed records after it are part of the state (an earlier owner that "
          "stopped mid-transaction leaves it open until the broker aborts it, after its "
          "transaction.timeout.ms)",
          stage_.id, partition, stable, topic, high);
    };
    ChangelogBackedStore* store = state->store;
    auto read = clients_.ReadChangelogFrom(
        request, [store, &progress](std::optional<std::string_view> key,
                                    std::optional<std::string_view> value) {
          if (!key) return Status::Corruption("a changelog record has no key");
          progress.Count();
          return store->Restore(*key, value ? &*value : nullptr);
        });
    if (read.ok() && read->out_of_range) {
      if (checkpoint != nullptr) {
        why = "the checkpointed offset " + std::to_string(request.from) + " of " + state->topic +
              " is outside the changelog, which ends at " + std::to_string(read->end_offset);
        return false;
      }
      read = Status::Internal("the changelog has no start");
    }
    if (!read.ok()) {
      return Status(read.status().code(), "restoring query " + stage_.id + " partition " +
                                              std::to_string(partition) + " from " + state->topic +
                                              ": " + read.status().message());
    }
    RETURN_NOT_OK(store->FinishRestore());
    state->restored_end = read->end_offset;
    state->written = 0;
    replayed += read->records;
  }
  restored_records_ += replayed;
  RETURN_NOT_OK(task->RebuildIndexes());
  if (state_.provider != nullptr || replayed > 0) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    StateLog().info(
        "{}query {} partition {}: restored in {:.3f} s, {} changelog records replayed ({})",
        state_.standby ? "standby of " : "", stage_.id, partition, seconds, replayed,
        checkpoint != nullptr ? "local state from its checkpoint, and the changelog tail"
                              : "full restore");
  }
  // The idle wall-clock close counts on from the restored stream time.
  int64_t& newest = newest_[partition];
  newest = std::max(newest, task->stream_time());
  tasks_[partition] = std::move(task);
  stores_[partition] = std::move(states);
  if (state_.provider != nullptr) {
    directories_[partition] = directory;
    if (checkpoint != nullptr) checkpointed_[partition] = *checkpoint;
  }
  return true;
}

Status TaskManager::WriteCheckpoints(const std::vector<int32_t>& partitions) {
  for (const auto& [partition, directory] : directories_) {
    if (!partitions.empty() &&
        std::find(partitions.begin(), partitions.end(), partition) == partitions.end()) {
      continue;
    }
    CheckpointOffsets offsets;
    for (const std::unique_ptr<StoreState>& state : stores_[partition]) {
      offsets[{state->topic, partition}] = state->restored_end + state->written;
    }
    auto last = checkpointed_.find(partition);
    if (last != checkpointed_.end() && last->second == offsets) continue;  // nothing moved
    RETURN_NOT_OK(WriteCheckpoint(directory + "/" + kCheckpointFileName, offsets));
    checkpointed_[partition] = std::move(offsets);
  }
  return Status::OK();
}

Status TaskManager::Process(std::span<const InputMessage> run) {
  const int32_t partition = run.front().partition;
  auto task = tasks_.find(partition);
  if (task == tasks_.end()) {
    RETURN_NOT_OK(Create(partition));
    task = tasks_.find(partition);
  }
  RETURN_NOT_OK(task->second->ProcessBatch(run));
  int64_t& newest = newest_[partition];
  for (const auto& message : run) {
    next_offsets_[{message.source, partition}] = message.offset + 1;
    newest = std::max(newest, message.timestamp);
  }
  return Status::OK();
}

Result<std::vector<TopicPartitionOffset>> TaskManager::Flush(
    const std::vector<int32_t>& partitions) {
  std::vector<TopicPartitionOffset> offsets;
  for (const auto& [partition, task] : tasks_) {
    if (!partitions.empty() &&
        std::find(partitions.begin(), partitions.end(), partition) == partitions.end()) {
      continue;
    }
    // A crash between the stores' writes and the new checkpoint must not leave the old
    // checkpoint beside newer local state (replaying from it would apply the uncommitted
    // input twice): without one, the task restores in full, as an in-memory one does.
    auto directory = directories_.find(partition);
    if (directory != directories_.end()) {
      const auto& states = stores_[partition];
      if (std::any_of(states.begin(), states.end(),
                      [](const auto& state) { return state->store->HasUnflushedChanges(); })) {
        RETURN_NOT_OK(DeleteCheckpoint(directory->second + "/" + kCheckpointFileName));
        checkpointed_.erase(partition);
      }
    }
    RETURN_NOT_OK(task->Flush());
    for (size_t index = 0; index < stage_.source_topics.size(); ++index) {
      auto next = next_offsets_.find({index, partition});
      if (next != next_offsets_.end()) {
        offsets.push_back({stage_.source_topics[index], partition, next->second});
      }
    }
  }
  return offsets;
}

Status TaskManager::Commit(Source& source, const std::vector<int32_t>& partitions) {
  ASSIGN_OR_RAISE(std::vector<TopicPartitionOffset> offsets, Flush(partitions));
  RETURN_NOT_OK(collector_.Flush(commit_timeout_));
  if (!offsets.empty()) RETURN_NOT_OK(source.Commit(offsets));
  // The stores' writes are durable and the changelogs delivered: the local state now
  // reflects the changelogs up to these offsets.
  if (state_.exactly_once) return Status::OK();
  return WriteCheckpoints(partitions);
}

Status TaskManager::Close(Source& source, const std::vector<int32_t>& partitions, bool commit) {
  if (commit && !partitions.empty()) {
    RETURN_NOT_OK(Commit(source, partitions));
    if (state_.exactly_once) RETURN_NOT_OK(PersistAndCheckpoint(partitions));
  }
  DropTasks(partitions);
  return Status::OK();
}

Status TaskManager::CloseCommitted(const std::vector<int32_t>& partitions) {
  Status checkpointed = partitions.empty() ? Status::OK() : PersistAndCheckpoint(partitions);
  DropTasks(partitions);
  return checkpointed;
}

Status TaskManager::PersistAndCheckpoint(const std::vector<int32_t>& partitions) {
  // The stores kept their writes in memory between commits: on disk before the checkpoint.
  for (int32_t partition : partitions) {
    auto states = stores_.find(partition);
    if (states == stores_.end()) continue;
    for (const auto& state : states->second) RETURN_NOT_OK(state->store->Persist());
  }
  return WriteCheckpoints(partitions);
}

void TaskManager::DropTasks(const std::vector<int32_t>& partitions) {
  for (int32_t partition : partitions) {
    auto task = tasks_.find(partition);
    if (task == tasks_.end()) continue;
    closed_ += task->second->counters();
    tasks_.erase(task);
    stores_.erase(partition);
    directories_.erase(partition);
    checkpointed_.erase(partition);
    newest_.erase(partition);
    for (size_t index = 0; index < stage_.source_topics.size(); ++index) {
      next_offsets_.erase({index, partition});
    }
  }
  for (int32_t partition : partitions) ReleaseActive(partition);
}

Result<int64_t> TaskManager::CatchUp(int32_t partition) {
  auto found = stores_.find(partition);
  if (found == stores_.end() || !directories_.count(partition)) {
    return Status::Internal("query " + stage_.id + " partition " + std::to_string(partition) +
                            ": no standby task to catch up");
  }
  const auto started = std::chrono::steady_clock::now();
  int64_t replayed = 0;
  for (const std::unique_ptr<StoreState>& state : found->second) {
    ChangelogReadRequest request;
    request.topic = state->topic;
    request.partition = partition;
    request.from = state->restored_end + state->written;
    ChangelogBackedStore* store = state->store;
    auto read = clients_.ReadChangelogFrom(request, [store](std::optional<std::string_view> key,
                                                            std::optional<std::string_view> value) {
      if (!key) return Status::Corruption("a changelog record has no key");
      return store->Restore(*key, value ? &*value : nullptr);
    });
    if (read.ok() && read->out_of_range) {
      // Compaction or retention moved the changelog's start past this copy (or the topic was
      // recreated): the copy is no longer a prefix of the changelog.
      return Status::Corruption("the standby's offset " + std::to_string(request.from) + " of " +
                                state->topic + " is outside the changelog, which ends at " +
                                std::to_string(read->end_offset));
    }
    if (!read.ok()) return read.status();
    RETURN_NOT_OK(store->FinishRestore());
    state->restored_end = std::max(request.from, read->end_offset);
    state->written = 0;
    replayed += read->records;
  }
  restored_records_ += replayed;
  // The operators' indexes are not rebuilt: a standby processes nothing, and the active task
  // that replaces it is created anew from the checkpoint.
  if (replayed > 0) {
    StateLog().debug(
        "standby of query {} partition {}: caught up in {:.3f} s, {} changelog "
        "records replayed",
        stage_.id, partition,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
        replayed);
  }
  RETURN_NOT_OK(WriteCheckpoints({partition}));
  return replayed;
}

Status TaskManager::CloseStandby(int32_t partition) {
  if (!tasks_.count(partition)) return Status::OK();
  Status written = directories_.count(partition) ? WriteCheckpoints({partition}) : Status::OK();
  closed_ += tasks_[partition]->counters();
  tasks_.erase(partition);
  stores_.erase(partition);
  directories_.erase(partition);
  checkpointed_.erase(partition);
  newest_.erase(partition);
  return written;
}

void TaskManager::DropAll() {
  for (const auto& [partition, task] : tasks_) closed_ += task->counters();
  tasks_.clear();
  stores_.clear();
  directories_.clear();
  checkpointed_.clear();
  newest_.clear();
  next_offsets_.clear();
  while (!claimed_.empty()) ReleaseActive(claimed_.back());
}

Status TaskManager::AdvanceIdle(int64_t idle_ms) {
  for (auto& [partition, task] : tasks_) {
    RETURN_NOT_OK(task->AdvanceStreamTime(newest_[partition] + idle_ms));
  }
  return Status::OK();
}

TaskCounters TaskManager::counters() const {
  TaskCounters total = closed_;
  for (const auto& [partition, task] : tasks_) total += task->counters();
  return total;
}

int64_t TaskManager::state_entries() const {
  int64_t entries = 0;
  for (const auto& [partition, stores] : stores_) {
    for (const auto& state : stores) entries += static_cast<int64_t>(state->store->size());
  }
  return entries;
}

int64_t TaskManager::state_bytes() const {
  int64_t bytes = 0;
  for (const auto& [partition, stores] : stores_) {
    for (const auto& state : stores) bytes += state->store->ApproximateBytes();
  }
  return bytes;
}

int64_t TaskManager::oldest_stream_time() const {
  int64_t oldest = INT64_MIN;
  for (const auto& [partition, task] : tasks_) {
    const int64_t time = task->stream_time();
    if (time != INT64_MIN && (oldest == INT64_MIN || time < oldest)) oldest = time;
  }
  return oldest;
}

}  // namespace sidestream::runtime
