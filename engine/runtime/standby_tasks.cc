#include "runtime/standby_tasks.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

namespace sidestream::runtime {

namespace {

// Standby tasks process nothing, so their stores never write a changelog record: a write
// reaching this sink is a bug.
class RefusingSink final : public Sink {
 public:
  Status Produce(std::string_view topic, int32_t, std::string_view, std::string_view, int64_t,
                 std::span<const RecordHeader>) override {
    return Status::Internal("a standby task wrote to " + std::string(topic));
  }
  Status Flush(std::chrono::milliseconds) override { return Status::OK(); }
  void ClearErrors() override {}
};

}  // namespace

/// One stage's standby copies.
struct StandbyTasks::Stage {
  Stage(const StageSpec& spec, int32_t count, const std::string& application_id,
        RecordCollector& collector, Clients& clients, PersistentStoreProvider& provider)
      : stage(spec),
        partitions(count),
        tasks(spec, application_id, collector, clients, std::chrono::milliseconds(0), {},
              TaskStateOptions{&provider, false, nullptr, /*standby=*/true}) {}

  const StageSpec& stage;
  const int32_t partitions;
  TaskManager tasks;              // the open copies
  std::map<int32_t, int> active;  // per partition: task managers of this process running it
  std::set<int32_t> failing;      // copies whose last pass failed (logged once)
};

StandbyTasks::StandbyTasks(std::string application_id, Clients& clients,
                           PersistentStoreProvider& provider, size_t max_message_bytes,
                           std::chrono::milliseconds interval)
    : application_id_(std::move(application_id)),
      clients_(clients),
      provider_(provider),
      interval_(interval),
      collector_(std::make_unique<RefusingSink>(), max_message_bytes) {}

StandbyTasks::~StandbyTasks() {
  Stop();
  std::lock_guard lock(mutex_);
  for (auto& stage : stages_) {
    for (int32_t partition = 0; partition < stage->partitions; ++partition) {
      if (stage->tasks.has_task(partition)) (void)stage->tasks.CloseStandby(partition);
    }
  }
  stages_.clear();
}

StandbyTasks::Stage* StandbyTasks::FindStage(const std::string& stage_id) {
  for (auto& stage : stages_) {
    if (stage->stage.id == stage_id) return stage.get();
  }
  return nullptr;
}

void StandbyTasks::AddStage(const StageSpec& stage, int32_t partitions) {
  std::lock_guard lock(mutex_);
  stages_.push_back(
      std::make_unique<Stage>(stage, partitions, application_id_, collector_, clients_, provider_));
  wake_.notify_all();
}

void StandbyTasks::RemoveQuery(const std::string& query_id) {
  std::lock_guard lock(mutex_);
  for (auto it = stages_.begin(); it != stages_.end();) {
    Stage& stage = **it;
    if (stage.stage.query_id != query_id) {
      ++it;
      continue;
    }
    for (int32_t partition = 0; partition < stage.partitions; ++partition) {
      if (!stage.tasks.has_task(partition)) continue;
      (void)stage.tasks.CloseStandby(partition);
      --open_copies_;
    }
    it = stages_.erase(it);
  }
}

void StandbyTasks::Claim(const std::string& stage_id, int32_t partition) {
  // Waits for a catch-up of this copy (or another) under way: the mutex covers it.
  std::lock_guard lock(mutex_);
  Stage* stage = FindStage(stage_id);
  if (stage == nullptr) return;
  ++stage->active[partition];
  if (!stage->tasks.has_task(partition)) return;
  Status closed = stage->tasks.CloseStandby(partition);
  --open_copies_;
  if (!closed.ok()) {
    spdlog::warn("standby of query {} partition {}: closing it for the active task: {}", stage_id,
                 partition, closed.ToString());
  }
}

void StandbyTasks::Release(const std::string& stage_id, int32_t partition) {
  std::lock_guard lock(mutex_);
  Stage* stage = FindStage(stage_id);
  if (stage == nullptr) return;
  auto found = stage->active.find(partition);
  if (found == stage->active.end()) return;
  if (--found->second <= 0) stage->active.erase(found);
}

void StandbyTasks::RunOnce() {
  // One copy at a time under the mutex, so that a Claim waits for one catch-up at most.
  for (size_t index = 0;; ++index) {
    for (int32_t partition = 0;; ++partition) {
      std::lock_guard lock(mutex_);
      if (stopping_ || index >= stages_.size()) return;
      Stage& stage = *stages_[index];
      if (partition >= stage.partitions) break;
      if (stage.active.count(partition)) continue;
      Status done;
      if (!stage.tasks.has_task(partition)) {
        const int64_t before = stage.tasks.restored_records();
        done = stage.tasks.Create(partition);
        if (done.ok()) {
          ++open_copies_;
          records_replayed_ += stage.tasks.restored_records() - before;
          // Written now, so that the copy is usable even if this process stops uncleanly.
          done = stage.tasks.CatchUp(partition).status();
        }
      } else {
        auto replayed = stage.tasks.CatchUp(partition);
        if (replayed.ok()) records_replayed_ += *replayed;
        done = replayed.status();
      }
      if (done.ok()) {
        if (stage.failing.erase(partition)) {
          spdlog::info("standby of query {} partition {}: up to date again", stage.stage.id,
                       partition);
        }
        continue;
      }
      if (stage.failing.insert(partition).second) {
        spdlog::warn("standby of query {} partition {}: {} (closed; tried again next pass)",
                     stage.stage.id, partition, done.ToString());
      }
      if (stage.tasks.has_task(partition)) {
        (void)stage.tasks.CloseStandby(partition);
        --open_copies_;
      }
    }
  }
}

void StandbyTasks::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "ss-standby");
    while (!stopping_) {
      RunOnce();
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, interval_, [this] { return stopping_.load(); });
    }
  });
}

void StandbyTasks::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sidestream::runtime
