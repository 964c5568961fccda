#include "planner/physical_plan.h"

#include <algorithm>
#include <set>

namespace sidestream::planner {

using analyzer::LogicalOperator;
using analyzer::LogicalOperatorKind;
using analyzer::LogicalOperatorPtr;

std::string RepartitionTopic(const std::string& application_id, const std::string& query_id) {
  return application_id + "_" + query_id + "-repartition";
}

std::string ChangelogTopic(const std::string& application_id, const std::string& stage_id,
                           const std::string& store) {
  return application_id + "_" + stage_id + "-" + store + "-changelog";
}

namespace {

void CollectColumns(const analyzer::BoundExpression& expression, std::vector<bool>& used) {
  if (expression.kind == analyzer::BoundKind::kColumn && expression.column_index >= 0 &&
      static_cast<size_t>(expression.column_index) < used.size()) {
    used[expression.column_index] = true;
  }
  for (const auto& child : expression.children) CollectColumns(*child, used);
}

// The input columns a MATCH_RECOGNIZE's conditions and measures read.
void CollectMatchColumns(const LogicalOperator& node, std::vector<bool>& used) {
  if (!node.match) return;
  auto collect = [&](const analyzer::MatchExpression& expression) {
    for (const auto& reference : expression.references) CollectColumns(*reference.value, used);
  };
  for (const auto& definition : node.match->definitions) {
    if (definition) collect(*definition);
  }
  for (const auto& measure : node.match->measures) collect(measure);
}

// Operators that change the row's layout: the scans' columns are read up to them.
bool ChangesLayout(const LogicalOperator& node) {
  return node.kind == LogicalOperatorKind::kAggregate ||
         node.kind == LogicalOperatorKind::kProject ||
         node.kind == LogicalOperatorKind::kMatchRecognize;
}

void CollectSubtree(const LogicalOperator& node, std::vector<bool>& used) {
  CollectMatchColumns(node, used);
  if (node.predicate) CollectColumns(*node.predicate, used);
  for (const auto& expression : node.expressions) CollectColumns(*expression, used);
  for (const auto& aggregate : node.aggregates) CollectColumns(*aggregate.call, used);
  for (const auto& child : node.children) CollectSubtree(*child, used);
}

// Each source's offset in the row layout of the operators above the scans: a join's right
// input starts at its left width.
void SourceOffsets(const LogicalOperator& node, int offset,
                   std::vector<std::pair<int, size_t>>& offsets) {
  if (node.kind == LogicalOperatorKind::kScan) {
    offsets.push_back({offset, node.output.columns.size()});
  } else if (node.kind == LogicalOperatorKind::kJoin) {
    SourceOffsets(*node.children.at(0), offset, offsets);
    SourceOffsets(*node.children.at(1), offset + node.left_width, offsets);
  } else {
    SourceOffsets(*node.children.at(0), offset, offsets);
  }
}

void CollectScans(const LogicalOperator& node, std::vector<const LogicalOperator*>& scans) {
  if (node.kind == LogicalOperatorKind::kScan) scans.push_back(&node);
  for (const auto& child : node.children) CollectScans(*child, scans);
}

// Names the stores from `node` down, in the order the runtime builds the operators: per
// chain top first, a join before its inputs, left before right.
struct StoreNamer {
  int aggregates = 0, joins = 0, table_changes = 0, matches = 0;
  std::vector<std::string> names;

  Status Name(LogicalOperator* node) {
    std::vector<LogicalOperator*> chain;  // top first
    while (node->kind != LogicalOperatorKind::kScan && node->kind != LogicalOperatorKind::kJoin) {
      chain.push_back(node);
      node = node->children.at(0).get();
    }
    const bool join = node->kind == LogicalOperatorKind::kJoin;
    const bool table_input = join ? node->left_table && node->right_table
                                  : node->source.type == catalog::SourceType::kTable;
    // A table feeds a re-grouping (Repartition) or aggregation as changes: the lowest such
    // step gets a TableChangesOperator below it, with a store of each key's last row.
    LogicalOperator* changes_above = nullptr;
    if (table_input) {
      for (LogicalOperator* step : chain) {
        if (step->kind == LogicalOperatorKind::kRepartition ||
            step->kind == LogicalOperatorKind::kAggregate) {
          changes_above = step;
        }
      }
    }
    if (join && changes_above) {
      return Status::NotSupported(
          "Aggregating the result of a table-table join is not supported yet");
    }
    for (LogicalOperator* step : chain) {
      if (step->kind == LogicalOperatorKind::kMatchRecognize) {
        step->store_name = "match-recognize-" + std::to_string(matches++);
        names.push_back(step->store_name);
      }
      if (step->kind == LogicalOperatorKind::kAggregate) {
        step->store_name = "aggregate-" + std::to_string(aggregates++);
        names.push_back(step->store_name);
      }
      if (step == changes_above) {
        step->table_changes_store = "table-changes-" + std::to_string(table_changes++);
        names.push_back(step->table_changes_store);
      }
    }
    if (!join) return Status::OK();
    node->store_name = "join-" + std::to_string(joins++);
    names.push_back(node->store_name + "-left");
    names.push_back(node->store_name + "-right");
    RETURN_NOT_OK(Name(node->children.at(0).get()));
    return Name(node->children.at(1).get());
  }
};

analyzer::BoundExpressionPtr ColumnReference(const analyzer::LogicalColumn& column, int index) {
  auto reference = std::make_unique<analyzer::BoundExpression>();
  reference->kind = analyzer::BoundKind::kColumn;
  reference->type = column.type;
  reference->sql = column.name;
  reference->name = column.name;
  reference->column_index = index;
  return reference;
}

// Which of the scan's first `columns` columns expressions read: those of the operators from
// the Scan up to the first one that changes the row's layout (Aggregate or Project).
std::vector<bool> UsedScanColumns(const LogicalOperator& plan, size_t columns) {
  std::vector<const LogicalOperator*> chain;
  for (const LogicalOperator* node = &plan; node != nullptr;
       node = node->children.empty() ? nullptr : node->children[0].get()) {
    chain.push_back(node);
  }
  std::vector<bool> used(columns, false);
  for (auto node = chain.rbegin(); node != chain.rend(); ++node) {
    const LogicalOperator& op = **node;
    CollectMatchColumns(op, used);
    if (op.predicate) CollectColumns(*op.predicate, used);
    for (const auto& expression : op.expressions) CollectColumns(*expression, used);
    for (const auto& aggregate : op.aggregates) CollectColumns(*aggregate.call, used);
    if (ChangesLayout(op)) break;
  }
  return used;
}

// Whether `expression` is the only key column of the scan whose columns start at `offset`.
bool IsScanKey(const analyzer::BoundExpression& expression, const LogicalOperator& scan,
               int offset) {
  int keys = 0;
  for (const auto& column : scan.source.columns) keys += column.role == catalog::ColumnRole::kKey;
  int index = expression.column_index - offset;
  return keys == 1 && expression.kind == analyzer::BoundKind::kColumn && index >= 0 &&
         index < static_cast<int>(scan.source.columns.size()) &&
         scan.source.columns[index].role == catalog::ColumnRole::kKey;
}

// A task joins partition p of every input: that pairs the right records only when both
// topics are partitioned alike by the join key. Kafka Streams checks the same.
Status CheckCopartitioned(const LogicalOperator& plan, const PlannerOptions& options) {
  const std::vector<const LogicalOperator*> scans = Scans(plan);
  if (scans.size() < 2 || !options.partition_count) return Status::OK();
  std::vector<int> counts;
  for (const auto* scan : scans) {
    ASSIGN_OR_RAISE(int count, options.partition_count(scan->source.topic));
    counts.push_back(count);
  }
  if (std::all_of(counts.begin(), counts.end(), [](int count) { return count == 1; })) {
    return Status::OK();
  }
  const LogicalOperator* join = &plan;
  while (join->kind != LogicalOperatorKind::kJoin) join = join->children.at(0).get();
  const auto& left = *join->children.at(0);
  const auto& right = *join->children.at(1);
  bool copartitioned = scans.size() == 2 && counts[0] == counts[1] &&
                       left.kind == LogicalOperatorKind::kScan &&
                       left.source.key_format == right.source.key_format &&
                       IsScanKey(*join->expressions.at(0), left, 0) &&
                       IsScanKey(*join->expressions.at(1), right, join->left_width);
  if (copartitioned) return Status::OK();
  return Status::NotSupported(
      "On Kafka, a join needs co-partitioned inputs: " + scans[0]->source.topic + " (" +
          std::to_string(counts[0]) + " partitions) and " + scans[1]->source.topic + " (" +
          std::to_string(counts[1]) +
          " partitions) must be joined on their key columns, with the same key format and "
          "partition count. Re-keying a join's input through a repartition topic is not "
          "built yet.",
      SourceLocation{}, "join on the key columns, or use single-partition topics");
}

// Splits a plan that groups (or MATCH_RECOGNIZE partitions) by anything but the message key
// at its Repartition: stage 1
// writes the rows, keyed by the grouping values, to the repartition topic; stage 2 reads
// them back and aggregates. Returns the stages, upstream first (one when there is nothing
// to split).
std::vector<Stage> SplitAtRepartition(const std::string& application_id,
                                      const std::string& query_id, LogicalOperatorPtr plan) {
  std::vector<Stage> stages;
  // Find a Repartition below an Aggregate.
  LogicalOperator* parent = plan.get();
  while (!parent->children.empty() &&
         parent->children[0]->kind != LogicalOperatorKind::kRepartition) {
    parent = parent->children[0].get();
  }
  if (parent->children.empty() || (parent->kind != LogicalOperatorKind::kAggregate &&
                                   parent->kind != LogicalOperatorKind::kMatchRecognize)) {
    Stage whole;
    whole.id = query_id;
    whole.plan = std::move(plan);
    stages.push_back(std::move(whole));
    return stages;
  }
  const LogicalOperator* scan = plan.get();
  while (!scan->children.empty()) scan = scan->children[0].get();
  LogicalOperatorPtr repartition = std::move(parent->children[0]);
  const LogicalOperator& lower = *repartition->children[0];
  const analyzer::Schema regrouped = repartition->output;
  const std::string topic = RepartitionTopic(application_id, query_id);
  // The internal topic's columns: the lower layout's, named uniquely (a join's layout has
  // a ROWTIME per source, and columns both sources have).
  std::vector<catalog::Column> layout;
  std::set<std::string> names;
  for (size_t i = 0; i < lower.output.columns.size(); ++i) {
    const analyzer::LogicalColumn& column = lower.output.columns[i];
    std::string name = column.name;
    if (!names.insert(name).second) name += "_" + std::to_string(i);
    names.insert(name);
    layout.push_back({name, column.type, catalog::ColumnRole::kValue, ""});
  }

  // Stage 2: the internal topic, read back with the original row layout (every column a
  // value, so bound column indices hold), feeds the aggregate. Event time travels as the
  // message timestamp. It is a stream of rows to add and (for a table) to undo.
  auto internal_scan = std::make_unique<LogicalOperator>();
  internal_scan->kind = LogicalOperatorKind::kScan;
  internal_scan->source = scan->source;
  internal_scan->source.type = catalog::SourceType::kStream;
  internal_scan->source.name = topic;
  internal_scan->source.topic = topic;
  internal_scan->source.key_format = "NONE";
  internal_scan->source.value_format = "JSON";
  internal_scan->source.timestamp_column.reset();
  internal_scan->source.properties.clear();
  internal_scan->source.columns = layout;
  internal_scan->output = regrouped;
  for (auto& column : internal_scan->output.columns) column.role = catalog::ColumnRole::kValue;
  parent->children[0] = std::move(internal_scan);

  // Stage 1: the rows, keyed by the grouping values, into the internal topic. The
  // Repartition stays in the plan: over a table it sends each update as the retraction
  // of the key's old row (marked with a header), then the new row (Kafka Streams'
  // KTable.groupBy), so the groups' owners can undo the old row wherever it went.
  auto project = std::make_unique<LogicalOperator>();
  project->kind = LogicalOperatorKind::kProject;
  for (size_t i = 0; i < repartition->expressions.size(); ++i) {
    const auto& key = repartition->expressions[i];
    project->output.columns.push_back(
        {"SIDESTREAM_GROUP_" + std::to_string(i), key->type, catalog::ColumnRole::kKey});
    project->expressions.push_back(key->Clone());
  }
  // Only the columns stage 2 reads travel; it reads the others as NULL, never looking.
  const std::vector<bool> used = UsedScanColumns(*plan, lower.output.columns.size());
  for (size_t i = 0; i < lower.output.columns.size(); ++i) {
    if (!used[i]) continue;
    analyzer::LogicalColumn column = lower.output.columns[i];
    project->expressions.push_back(ColumnReference(column, static_cast<int>(i)));
    column.name = layout[i].name;
    column.role = catalog::ColumnRole::kValue;
    project->output.columns.push_back(column);
  }
  catalog::SourceDescription internal;
  internal.name = topic;
  internal.topic = topic;
  internal.key_format = "JSON";
  internal.value_format = "JSON";
  internal.partitions = 0;  // as many as the source topic has, as Kafka Streams does
  for (const auto& column : project->output.columns) {
    internal.columns.push_back({column.name, column.type, column.role, ""});
  }
  auto stage_one = std::make_unique<LogicalOperator>();
  stage_one->kind = LogicalOperatorKind::kSink;
  stage_one->repartition = true;
  stage_one->source = internal;
  stage_one->output = project->output;
  project->children.push_back(std::move(repartition));
  stage_one->children.push_back(std::move(project));

  Stage first;
  first.id = query_id + "-repartition";
  first.plan = std::move(stage_one);
  first.writes_repartition = true;
  Stage second;
  second.id = query_id;
  second.plan = std::move(plan);
  second.reads_changes = true;
  stages.push_back(std::move(first));
  stages.push_back(std::move(second));
  return stages;
}

}  // namespace

std::vector<const LogicalOperator*> Scans(const LogicalOperator& plan) {
  std::vector<const LogicalOperator*> scans;
  CollectScans(plan, scans);
  return scans;
}

std::vector<std::vector<bool>> UsedColumnsBySource(const LogicalOperator& plan) {
  // The expressions read the scans' layout up to the lowest Aggregate or Project.
  const LogicalOperator* top = &plan;
  for (const LogicalOperator* node = &plan; !node->children.empty();
       node = node->children[0].get()) {
    if (ChangesLayout(*node)) top = node;
  }
  std::vector<std::pair<int, size_t>> offsets;
  SourceOffsets(*top, 0, offsets);
  size_t width = 0;
  for (const auto& [offset, columns] : offsets) width = std::max(width, offset + columns);
  std::vector<bool> used(width, false);
  CollectSubtree(*top, used);
  std::vector<std::vector<bool>> by_source;
  for (const auto& [offset, columns] : offsets) {
    by_source.emplace_back(used.begin() + offset, used.begin() + offset + columns);
  }
  return by_source;
}

namespace {

// Whether `sink` writes a table derived from a table by filters and projections alone (a
// CREATE TABLE AS SELECT with no aggregation and no join): nothing else keeps its rows, so it
// gets a store of its own for pull queries.
bool KeepsResultsAlone(const LogicalOperator& sink) {
  if (sink.kind != LogicalOperatorKind::kSink || sink.insert_into || sink.repartition ||
      sink.source.type != catalog::SourceType::kTable) {
    return false;
  }
  const LogicalOperator* node = sink.children.at(0).get();
  while (node->kind == LogicalOperatorKind::kProject ||
         node->kind == LogicalOperatorKind::kFilter) {
    node = node->children.at(0).get();
  }
  return node->kind == LogicalOperatorKind::kScan &&
         node->source.type == catalog::SourceType::kTable &&
         node->source.window_type == catalog::WindowType::kNone;
}

}  // namespace

Result<std::vector<std::string>> AssignStores(LogicalOperator& plan) {
  LogicalOperator* top = &plan;
  if (top->kind == LogicalOperatorKind::kSink) top = top->children.at(0).get();
  StoreNamer namer;
  RETURN_NOT_OK(namer.Name(top));
  if (KeepsResultsAlone(plan)) {
    plan.result_store = "result";
    namer.names.push_back(plan.result_store);
  }
  // The task's stream time as of its last commit.
  namer.names.push_back("stream-time");
  return std::move(namer.names);
}

Result<PhysicalPlan> PlanQuery(const std::string& query_id, LogicalOperatorPtr plan,
                               const PlannerOptions& options) {
  PhysicalPlan physical;
  physical.query_id = query_id;
  physical.stages = SplitAtRepartition(options.application_id, query_id, std::move(plan));
  for (size_t index = 0; index < physical.stages.size(); ++index) {
    Stage& stage = physical.stages[index];
    RETURN_NOT_OK(CheckCopartitioned(*stage.plan, options));
    ASSIGN_OR_RAISE(stage.stores, AssignStores(*stage.plan));
    const std::vector<std::vector<bool>> used = UsedColumnsBySource(*stage.plan);
    const std::vector<const LogicalOperator*> scans = Scans(*stage.plan);
    for (size_t source = 0; source < scans.size(); ++source) {
      const catalog::SourceDescription& description = scans[source]->source;
      StageSource input;
      input.topic = description.topic;
      input.windowed = description.window_type != catalog::WindowType::kNone;
      for (size_t column = 0; column < description.columns.size(); ++column) {
        // Keys, and the event-time column, are read whether an expression uses them or not.
        const catalog::Column& declared = description.columns[column];
        const bool always =
            declared.role == catalog::ColumnRole::kKey ||
            (description.timestamp_column && *description.timestamp_column == declared.name);
        input.decoded.push_back(always || (column < used[source].size() && used[source][column]));
      }
      stage.sources.push_back(std::move(input));
    }
    if (stage.writes_repartition) {
      // Records keep their event time whatever its age, as Kafka Streams' internal topics
      // do: time-based retention would delete old-timestamped records before they are read.
      physical.internal_topics.push_back({InternalTopic::Kind::kRepartition,
                                          stage.plan->source.topic,
                                          index,
                                          {{"retention.ms", "-1"}}});
    }
    for (const std::string& store : stage.stores) {
      // Compacted: the latest value of each key is what a restore needs.
      physical.internal_topics.push_back({InternalTopic::Kind::kChangelog,
                                          ChangelogTopic(options.application_id, stage.id, store),
                                          index,
                                          {{"cleanup.policy", "compact"}}});
    }
  }
  return physical;
}

std::string PhysicalPlan::ToString() const {
  std::string text = "Physical plan of " + query_id + ": " + std::to_string(stages.size()) +
                     (stages.size() == 1 ? " stage\n" : " stages\n");
  for (size_t index = 0; index < stages.size(); ++index) {
    const Stage& stage = stages[index];
    text += "  Stage " + std::to_string(index + 1) + " (consumer group suffix " + stage.id +
            "), one task per input partition\n";
    const std::vector<const LogicalOperator*> scans = Scans(*stage.plan);
    for (size_t source = 0; source < stage.sources.size(); ++source) {
      const StageSource& input = stage.sources[source];
      text += "    reads " + input.topic + (input.windowed ? " (windowed keys)" : "") +
              (stage.reads_changes ? " (rows and retractions)" : "") + ", decodes ";
      std::string decoded;
      const auto& columns = scans[source]->source.columns;
      for (size_t column = 0; column < columns.size(); ++column) {
        if (!input.decoded[column]) continue;
        decoded += (decoded.empty() ? "" : ", ") + columns[column].name;
      }
      text += (decoded.empty() ? "no columns" : decoded) + "\n";
    }
    text += "    writes " + stage.plan->source.topic +
            (stage.writes_repartition ? " (repartition topic, keyed by the grouping values)" : "") +
            "\n";
    text += "    stores:";
    for (const std::string& store : stage.stores) text += " " + store;
    text += "\n";
  }
  text += "  Internal topics (as many partitions as the stage's first input):\n";
  for (const InternalTopic& topic : internal_topics) {
    text += "    " + topic.name +
            (topic.kind == InternalTopic::Kind::kRepartition ? " (repartition" : " (changelog") +
            ", stage " + std::to_string(topic.stage + 1);
    for (const auto& [name, value] : topic.configs) text += ", " + name + "=" + value;
    text += ")\n";
  }
  return text;
}

}  // namespace sidestream::planner
