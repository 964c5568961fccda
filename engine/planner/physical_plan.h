#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "analyzer/logical_plan.h"
#include "common/status.h"

/// Turns a persistent query's logical plan into the physical plan that every run executes,
/// on Kafka and offline alike: its stages (Kafka Streams' sub-topologies), the internal
/// topics between and beside them, the state stores of each stage and the columns each
/// source decodes.
namespace sidestream::planner {

/// A topic a query creates and owns.
struct InternalTopic {
  enum class Kind {
    kRepartition,  // rows re-keyed by the grouping values or a join key, read by a later stage
    kChangelog,    // a state store's changes (compacted), read back when a task starts
  };
  Kind kind = Kind::kRepartition;
  std::string name;
  /// The stage whose tasks write it: partition p holds task p's records.
  size_t stage = 0;
  /// Topic configs to create it with.
  std::vector<std::pair<std::string, std::string>> configs;
  /// Partitions to create it with; 0 when the planner knew no partition counts.
  /// A changelog has its stage's; a join's repartition topic its partner input's (the larger
  /// count when both inputs are re-keyed); a GROUP BY's its writing stage's.
  int partitions = 0;
};

/// One input of a stage.
struct StageSource {
  std::string topic;
  /// Its keys carry windows ("key@start/end"): it reads a windowed table's output.
  bool windowed = false;
  /// Per column of the source (key columns, then value columns): whether it is decoded.
  /// Values no expression reads are skipped (projection pushdown).
  std::vector<bool> decoded;
};

/// A sub-topology: a consumer group that runs `plan` on every partition of its inputs, one
/// task per partition.
struct Stage {
  /// The consumer group's suffix: "<query>-repartition" for a GROUP BY's re-keying stage,
  /// "<query>-Join-left-repartition" (-right; "Join-2" for a query's second join) for a
  /// join input's, else "<query>".
  std::string id;
  /// Ends in a Sink: the query's sink, or the repartition topic the next stage reads.
  analyzer::LogicalOperatorPtr plan;
  /// Left to right: a join's inputs in the order its task merges them.
  std::vector<StageSource> sources;
  /// The names of its state stores, stable across runs (a task finds its changelogs by them).
  std::vector<std::string> stores;
  /// Reads a repartition topic, whose rows may be retractions (a table re-grouped).
  bool reads_changes = false;
  /// Writes a repartition topic (unlimited retention).
  bool writes_repartition = false;
  /// Its tasks: the largest partition count of its inputs; 0 when unknown.
  int partitions = 0;
};

/// A persistent query, ready to run.
struct PhysicalPlan {
  std::string query_id;
  /// Upstream first: a stage's sink is read by the stages after it.
  std::vector<Stage> stages;
  std::vector<InternalTopic> internal_topics;

  /// The stages with their topics, stores and decoded columns (`sidestream explain`).
  std::string ToString() const;
};

struct PlannerOptions {
  /// Prefix of internal topic names and consumer groups (ksqlDB's service id).
  std::string application_id = "sidestream";
  /// A topic's partition count, to co-partition the inputs of joins and size internal topics;
  /// unset, every topic counts as one partition (no join input is re-keyed).
  std::function<Result<int>(const std::string& topic)> partition_count;
};

/// Plans `plan` (a Sink from the analyzer). A join input that is not co-partitioned with its
/// partner (joined on a value column, or with another partition count or key format) is
/// re-keyed through a repartition topic of its own, as ksqlDB does. NotSupported, with the
/// reason, for a plan that cannot run: two tables (which cannot be re-keyed) with different
/// partition counts or key formats, an aggregation of a table-table join. BindError for a
/// windowed input that would need re-keying.
Result<PhysicalPlan> PlanQuery(const std::string& query_id, analyzer::LogicalOperatorPtr plan,
                               const PlannerOptions& options);

/// Names the state stores of a plan that runs as one stage in one process (tests and
/// benchmarks that drive a task directly): the annotations the runtime reads (see
/// LogicalOperator::store_name). Returns the names.
Result<std::vector<std::string>> AssignStores(analyzer::LogicalOperator& plan);

/// The internal topic through which a query re-keys its input before grouping.
std::string RepartitionTopic(const std::string& application_id, const std::string& query_id);

/// The compacted topic that keeps the changes of one state store of a query, partitioned
/// like the query's input: partition p holds the state of task p.
std::string ChangelogTopic(const std::string& application_id, const std::string& stage_id,
                           const std::string& store);

/// Per source of a plan, left to right: which of its columns the expressions read (the
/// layout of the operators above the scans, up to the lowest Aggregate or Project).
std::vector<std::vector<bool>> UsedColumnsBySource(const analyzer::LogicalOperator& plan);

/// The scans of a plan, left to right: the order of a task's sources.
std::vector<const analyzer::LogicalOperator*> Scans(const analyzer::LogicalOperator& plan);

}  // namespace sidestream::planner
