#pragma once

#include <memory>
#include <vector>

#include "analyzer/logical_plan.h"
#include "runtime/aggregate_operator.h"
#include "runtime/filter_project.h"
#include "runtime/flat_map_operator.h"
#include "runtime/join_operator.h"
#include "runtime/match_recognize_operator.h"
#include "runtime/operator.h"
#include "runtime/result_store.h"

namespace sidestream::runtime {

/// One source a topology reads: its records enter at `head`.
struct TopologySource {
  catalog::SourceDescription source;
  size_t columns = 0;  // the source's own columns; pseudo columns follow
  bool windowed = false;
  int64_t watermark_delay = 0;
  RecordConsumer* head = nullptr;
};

/// The operators of one persistent query for one task (one input partition), built from
/// the query's logical plan: per source Scan -> [Join ->] [Filter] -> [Repartition] ->
/// [Aggregate -> [Filter]] -> Project, ending in a callback that receives result rows (the
/// Project's schema). A join reads two sources (more for several joins), left to right.
///
/// Stream time is the largest timestamp the task has seen, over all its sources; with a
/// WATERMARK the declared delay is subtracted. It advances before each record is applied,
/// as in Kafka Streams, so windows close and EMIT FINAL results come out in event-time
/// order (each record carries the stream time at its arrival through the batch).
/// Thread: one task thread. Ownership: owns its operators.
class Topology {
 public:
  /// `stores` makes each stateful operator's stores (in memory when empty); their names
  /// are the same for every build of the plan, so a task's changelogs can be found again.
  static Result<std::unique_ptr<Topology>> Build(const analyzer::LogicalOperator& plan,
                                                 CallbackSink::Callback on_result,
                                                 LateRecordCallback on_late,
                                                 StoreFactory stores = {});

  /// Processes a batch of records of source `source` (an index into sources()), in order.
  /// Each `row` holds the source's columns (key columns, then value columns); the pseudo
  /// columns (ROWTIME, ROWPARTITION, ROWOFFSET, and WINDOWSTART, WINDOWEND for windowed
  /// sources) are appended here. The batch's records are reused as scratch space.
  Status Process(size_t source, RecordBatch& batch);

  /// Moves stream time forward without a record (an idle source's wall-clock close).
  Status AdvanceStreamTime(int64_t stream_time);

  /// A commit is under way: state stores make their writes durable.
  Status Flush();
  /// The stores were restored (from changelogs): operators rebuild their in-memory indexes,
  /// and stream time goes back to where it was at the last commit.
  Status RebuildIndexes();

  /// Pull queries: hands `visit` the result rows the query's state holds now, as its sink
  /// would receive them (the Aggregate's stored groups through HAVING and the projection);
  /// only those of `keys` (group values) when given and not windowed. A table derived from a
  /// table without aggregation keeps its result rows in a store of their own
  /// (ResultStoreOperator): those are handed over as they are, or those of `keys` (the
  /// result's key columns). NotSupported otherwise: nothing else keeps its results. Between
  /// Process calls only.
  Status EmitStored(const std::vector<types::Row>* keys, CallbackSink::Callback visit);
  /// Whether EmitStored can answer: the topology ends in one Aggregate's results, or keeps
  /// them in a result store.
  bool materialized() const {
    return result_store_ != nullptr || (aggregates_.size() == 1 && joins_.empty());
  }

  const std::vector<TopologySource>& sources() const { return sources_; }
  const analyzer::Schema& result_schema() const { return result_schema_; }
  int64_t stream_time() const { return stream_time_; }
  /// Records dropped because their window had closed.
  int64_t late_records() const;
  /// Records dropped because an expression failed to evaluate.
  int64_t evaluation_errors() const;

 private:
  class Builder;
  Topology() = default;

  std::vector<TopologySource> sources_;
  analyzer::Schema result_schema_;
  int64_t stream_time_ = INT64_MIN;
  std::vector<std::unique_ptr<RecordConsumer>> operators_;  // downstream first
  CallbackSink* sink_ = nullptr;                            // operators_.front()
  // The task's stream time as of the last Flush, under the key {} (restored with the rest).
  std::unique_ptr<KeyValueStore> stream_time_store_;
  std::vector<AggregateOperator*> aggregates_;
  ResultStoreOperator* result_store_ = nullptr;  // just before the sink, when there is one
  std::vector<JoinOperator*> joins_;
  std::vector<MatchRecognizeOperator*> matches_;
  std::vector<const FilterOperator*> filters_;
  std::vector<const ProjectOperator*> projects_;
  std::vector<const FlatMapOperator*> flat_maps_;
};

}  // namespace sidestream::runtime
