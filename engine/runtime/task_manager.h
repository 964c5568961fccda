#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "analyzer/logical_plan.h"
#include "runtime/partition_group.h"
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
              StoreWrapper wrap_store = {});

  /// Creates the task of `partition` unless it exists, restoring its stores.
  Status Create(int32_t partition);
  /// Runs one partition's messages through its task (created when missing).
  Status Process(std::span<const InputMessage> run);
  /// Flushes the tasks of `partitions` (all when empty) and the collector, then commits
  /// their offsets through `source`: outputs before the offsets that caused them.
  Status Commit(Source& source, const std::vector<int32_t>& partitions);
  /// Closes the tasks of `partitions`, committing first when `commit`.
  Status Close(Source& source, const std::vector<int32_t>& partitions, bool commit);
  /// Drops every task and what it processed since the last commit.
  void DropAll();
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
  /// Entries in the live tasks' state stores.
  int64_t state_entries() const;
  /// The oldest stream time of the live tasks; INT64_MIN when none has one.
  int64_t oldest_stream_time() const;

 private:
  const StageSpec& stage_;
  const std::string application_id_;
  RecordCollector& collector_;
  Clients& clients_;
  const std::chrono::milliseconds commit_timeout_;
  const StoreWrapper wrap_store_;
  TaskCallbacks callbacks_;
  std::map<int32_t, std::unique_ptr<StreamTask>> tasks_;
  std::map<int32_t, std::vector<const ChangelogStore*>> stores_;  // owned by tasks_' tasks
  NextOffsets next_offsets_;
  std::map<int32_t, int64_t> newest_;  // per partition: the newest timestamp seen
  TaskCounters closed_;                // counters of tasks already closed
  int64_t restored_records_ = 0;
};

}  // namespace sidestream::runtime
