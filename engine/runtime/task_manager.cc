#include "runtime/task_manager.h"

#include <algorithm>

#include "planner/physical_plan.h"

namespace sidestream::runtime {

TaskManager::TaskManager(const StageSpec& stage, std::string application_id,
                         RecordCollector& collector, Clients& clients,
                         std::chrono::milliseconds commit_timeout, StoreWrapper wrap_store)
    : stage_(stage),
      application_id_(std::move(application_id)),
      collector_(collector),
      clients_(clients),
      commit_timeout_(commit_timeout),
      wrap_store_(std::move(wrap_store)),
      callbacks_(collector.StageCallbacks(stage.sink_topic, stage.carry_sources)) {}

Status TaskManager::Create(int32_t partition) {
  if (tasks_.count(partition)) return Status::OK();
  // Each store writes its changes to partition `partition` of its changelog topic at every
  // commit, and starts from what that partition holds: the task's state, wherever it ran.
  std::map<std::string, ChangelogStore*> stores;
  auto factory = [&](const std::string& name) -> std::unique_ptr<KeyValueStore> {
    auto store = std::make_unique<ChangelogStore>(collector_.ChangelogWriter(
        planner::ChangelogTopic(application_id_, stage_.id, name), partition));
    stores[name] = store.get();
    if (wrap_store_) return wrap_store_(stage_, name, partition, std::move(store));
    return store;
  };
  ASSIGN_OR_RAISE(auto task, StreamTask::Create(stage_.query_id, *stage_.plan, stage_.properties,
                                                callbacks_, factory));
  for (const auto& [name, store] : stores) {
    const std::string topic = planner::ChangelogTopic(application_id_, stage_.id, name);
    auto restored =
        clients_.ReadChangelog(topic, partition,
                               [store = store](std::optional<std::string_view> key,
                                               std::optional<std::string_view> value) {
                                 if (!key)
                                   return Status::Corruption("a changelog record has no key");
                                 return store->Restore(*key, value ? &*value : nullptr);
                               });
    if (!restored.ok()) {
      return Status(restored.status().code(), "restoring query " + stage_.id + " partition " +
                                                  std::to_string(partition) + " from " + topic +
                                                  ": " + restored.status().message());
    }
    restored_records_ += *restored;
  }
  RETURN_NOT_OK(task->RebuildIndexes());
  // The idle wall-clock close counts on from the restored stream time.
  int64_t& newest = newest_[partition];
  newest = std::max(newest, task->stream_time());
  tasks_[partition] = std::move(task);
  std::vector<const ChangelogStore*>& owned = stores_[partition];
  owned.clear();
  for (const auto& [name, store] : stores) owned.push_back(store);
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
  return offsets.empty() ? Status::OK() : source.Commit(offsets);
}

Status TaskManager::Close(Source& source, const std::vector<int32_t>& partitions, bool commit) {
  if (commit && !partitions.empty()) RETURN_NOT_OK(Commit(source, partitions));
  for (int32_t partition : partitions) {
    auto task = tasks_.find(partition);
    if (task == tasks_.end()) continue;
    closed_ += task->second->counters();
    tasks_.erase(task);
    stores_.erase(partition);
    newest_.erase(partition);
    for (size_t index = 0; index < stage_.source_topics.size(); ++index) {
      next_offsets_.erase({index, partition});
    }
  }
  return Status::OK();
}

void TaskManager::DropAll() {
  for (const auto& [partition, task] : tasks_) closed_ += task->counters();
  tasks_.clear();
  stores_.clear();
  newest_.clear();
  next_offsets_.clear();
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
    for (const ChangelogStore* store : stores) entries += static_cast<int64_t>(store->size());
  }
  return entries;
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
