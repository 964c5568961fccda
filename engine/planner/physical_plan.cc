#include "planner/physical_plan.h"

#include <algorithm>
#include <map>
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
  } else if (node.kind == LogicalOperatorKind::kJoin && node.children.size() == 2) {
    SourceOffsets(*node.children.at(0), offset, offsets);
    SourceOffsets(*node.children.at(1), offset + node.left_width, offsets);
  } else {
    SourceOffsets(*node.children.at(0), offset, offsets);
  }
}

// A foreign-key join's subscription or response topic, whose columns are all read.
bool ForeignKeyTopic(const std::string& topic) {
  for (const std::string suffix : {"-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-topic",
                                   "-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-topic"}) {
    if (topic.size() >= suffix.size() &&
        topic.compare(topic.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return true;
    }
  }
  return false;
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
    // A foreign-key join's subscribing and resolving steps have one input and one store.
    if (node->children.size() == 1) return Name(node->children.at(0).get());
    names.push_back(node->store_name + "-right");
    RETURN_NOT_OK(Name(node->children.at(0).get()));
    return Name(node->children.at(1).get());
  }
};

// Moves the column references of `expression` at or past `from` by `by`.
void ShiftColumnsFrom(analyzer::BoundExpression& expression, int from, int by) {
  if (expression.kind == analyzer::BoundKind::kColumn && expression.column_index >= from) {
    expression.column_index += by;
  }
  for (auto& child : expression.children) ShiftColumnsFrom(*child, from, by);
}

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

// The columns of `layout` as a repartition topic's value columns, named uniquely (a join's
// layout has a ROWTIME per source, and columns both sources have).
std::vector<catalog::Column> UniqueValueColumns(const analyzer::Schema& layout) {
  std::vector<catalog::Column> columns;
  std::set<std::string> names;
  for (size_t i = 0; i < layout.columns.size(); ++i) {
    const analyzer::LogicalColumn& column = layout.columns[i];
    std::string name = column.name;
    if (!names.insert(name).second) name += "_" + std::to_string(i);
    names.insert(name);
    columns.push_back({name, column.type, catalog::ColumnRole::kValue, ""});
  }
  return columns;
}

// What the stage after a repartition topic reads: the topic's rows with the layout they had
// upstream (`output`, every column a value, so bound column indices hold), named as
// `columns`. Event time travels as the message timestamp. `like` is the upstream source
// (for its watermark).
LogicalOperatorPtr ReadRepartitionTopic(const catalog::SourceDescription& like,
                                        const std::string& topic,
                                        std::vector<catalog::Column> columns,
                                        const analyzer::Schema& output) {
  auto scan = std::make_unique<LogicalOperator>();
  scan->kind = LogicalOperatorKind::kScan;
  scan->source = like;
  scan->source.type = catalog::SourceType::kStream;
  scan->source.name = topic;
  scan->source.topic = topic;
  scan->source.key_format = "NONE";
  scan->source.value_format = "JSON";
  scan->source.timestamp_column.reset();
  scan->source.properties.clear();
  scan->source.columns = std::move(columns);
  scan->output = output;
  for (auto& column : scan->output.columns) column.role = catalog::ColumnRole::kValue;
  return scan;
}

// The sink of a re-keying stage: `input`'s rows (of `layout`) into `topic`, keyed by `keys`
// (over that layout; `key_names` name them), with the columns `used` marks as values, named as
// `columns`. A row with a NULL key is dropped there. The key is written in `key_format` with
// `key_properties`, so that its bytes pick the partition its partner's would.
LogicalOperatorPtr WriteRepartitionTopic(
    LogicalOperatorPtr input, const analyzer::Schema& layout, const std::string& topic,
    std::vector<analyzer::BoundExpressionPtr> keys, const std::vector<std::string>& key_names,
    const std::vector<bool>& used, const std::vector<catalog::Column>& columns,
    const std::string& key_format, const std::map<std::string, std::string>& key_properties) {
  auto project = std::make_unique<LogicalOperator>();
  project->kind = LogicalOperatorKind::kProject;
  for (size_t i = 0; i < keys.size(); ++i) {
    project->output.columns.push_back({key_names[i], keys[i]->type, catalog::ColumnRole::kKey});
    project->expressions.push_back(std::move(keys[i]));
  }
  // Only the columns the next stage reads travel; it reads the others as NULL, never looking.
  for (size_t i = 0; i < layout.columns.size(); ++i) {
    if (i >= used.size() || !used[i]) continue;
    analyzer::LogicalColumn column = layout.columns[i];
    project->expressions.push_back(ColumnReference(column, static_cast<int>(i)));
    column.name = columns[i].name;
    column.role = catalog::ColumnRole::kValue;
    project->output.columns.push_back(column);
  }
  catalog::SourceDescription internal;
  internal.name = topic;
  internal.topic = topic;
  internal.key_format = key_format;
  internal.properties = key_properties;
  internal.value_format = "JSON";
  internal.partitions = 0;  // the planner's InternalTopic says how many
  for (const auto& column : project->output.columns) {
    internal.columns.push_back({column.name, column.type, column.role, ""});
  }
  auto sink = std::make_unique<LogicalOperator>();
  sink->kind = LogicalOperatorKind::kSink;
  sink->repartition = true;
  sink->source = internal;
  sink->output = project->output;
  project->children.push_back(std::move(input));
  sink->children.push_back(std::move(project));
  return sink;
}

// Splits a plan that groups (or MATCH_RECOGNIZE partitions) by anything but the message key
// at its Repartition: stage 1 writes the rows, keyed by the grouping values, to the
// repartition topic; stage 2 reads them back and aggregates. Returns the stages, upstream
// first (one when there is nothing to split).
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
  const std::string topic = RepartitionTopic(application_id, query_id);
  const std::vector<catalog::Column> layout = UniqueValueColumns(repartition->children[0]->output);

  // Stage 1: the rows, keyed by the grouping values, into the internal topic. The
  // Repartition stays in the plan: over a table it sends each update as the retraction
  // of the key's old row (marked with a header), then the new row (Kafka Streams'
  // KTable.groupBy), so the groups' owners can undo the old row wherever it went.
  //
  // Each grouping expression is evaluated once per row, in stage 1 (as in ksqlDB, where the
  // aggregation reads the grouping values from the re-keyed record): they travel as value
  // columns after the layout's, which stage 2's Aggregate (or MATCH_RECOGNIZE) reads as columns
  // instead of evaluating its expressions again. A function that fails or is not deterministic
  // then counts once and agrees with the key the row was partitioned by.
  //
  // Stage 2: the internal topic feeds the aggregate. It is a stream of rows to add and (for
  // a table) to undo.
  const size_t groups = repartition->expressions.size();
  const bool reads_groups =
      parent->kind == LogicalOperatorKind::kAggregate && parent->expressions.size() == groups;
  analyzer::Schema scanned = repartition->output;
  std::vector<catalog::Column> read_columns = layout;
  std::vector<std::string> group_value_names;
  for (size_t i = 0; i < groups && reads_groups; ++i) {
    group_value_names.push_back("SIDESTREAM_GROUPED_" + std::to_string(i));
    const analyzer::LogicalColumn column{group_value_names[i], repartition->expressions[i]->type,
                                         catalog::ColumnRole::kValue};
    scanned.columns.push_back(column);
    read_columns.push_back({column.name, column.type, catalog::ColumnRole::kValue, ""});
    parent->expressions[i] = ColumnReference(column, static_cast<int>(layout.size() + i));
  }
  // The scan's pseudo columns (ROWTIME, ...) follow its columns: past the grouped ones now.
  for (auto& aggregate : parent->aggregates) {
    if (reads_groups)
      ShiftColumnsFrom(*aggregate.call, static_cast<int>(layout.size()), static_cast<int>(groups));
  }
  parent->children[0] = ReadRepartitionTopic(scan->source, topic, read_columns, scanned);

  std::vector<analyzer::BoundExpressionPtr> keys;
  std::vector<std::string> key_names;
  for (size_t i = 0; i < groups; ++i) {
    key_names.push_back("SIDESTREAM_GROUP_" + std::to_string(i));
  }
  const std::vector<bool> used = UsedScanColumns(*plan, layout.size());
  // As many partitions as the stage's input, as Kafka Streams does.
  Stage first;
  first.id = query_id + "-repartition";
  if (reads_groups) {
    // A Project computes the grouping values once; the sink's key and value columns refer to
    // them.
    auto evaluate = std::make_unique<LogicalOperator>();
    evaluate->kind = LogicalOperatorKind::kProject;
    std::vector<bool> written_used;
    std::vector<catalog::Column> written_columns;
    for (size_t i = 0; i < layout.size(); ++i) {
      if (i >= used.size() || !used[i]) continue;
      analyzer::LogicalColumn column = repartition->output.columns[i];
      evaluate->expressions.push_back(ColumnReference(column, static_cast<int>(i)));
      column.name = layout[i].name;
      column.role = catalog::ColumnRole::kValue;
      evaluate->output.columns.push_back(column);
      written_columns.push_back(layout[i]);
      written_used.push_back(true);
    }
    for (size_t i = 0; i < groups; ++i) {
      const analyzer::LogicalColumn column{group_value_names[i], repartition->expressions[i]->type,
                                           catalog::ColumnRole::kValue};
      keys.push_back(ColumnReference(column, static_cast<int>(evaluate->output.columns.size())));
      evaluate->expressions.push_back(repartition->expressions[i]->Clone());
      evaluate->output.columns.push_back(column);
      written_columns.push_back({column.name, column.type, catalog::ColumnRole::kValue, ""});
      written_used.push_back(true);
    }
    const analyzer::Schema written = evaluate->output;
    evaluate->children.push_back(std::move(repartition));
    first.plan = WriteRepartitionTopic(std::move(evaluate), written, topic, std::move(keys),
                                       key_names, written_used, written_columns, "JSON", {});
  } else {
    for (size_t i = 0; i < groups; ++i) keys.push_back(repartition->expressions[i]->Clone());
    const analyzer::Schema written = repartition->output;
    first.plan = WriteRepartitionTopic(std::move(repartition), written, topic, std::move(keys),
                                       key_names, used, layout, "JSON", {});
  }
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
  std::vector<const LogicalOperator*> scans;
  CollectScans(*top, scans);
  for (size_t i = 0; i < offsets.size(); ++i) {
    const auto [offset, columns] = offsets[i];
    by_source.emplace_back(used.begin() + offset, used.begin() + offset + columns);
    // What travels there is read whole (versions, kinds and delete flags included).
    if (i < scans.size() && ForeignKeyTopic(scans[i]->source.topic)) {
      by_source.back().assign(columns, true);
    }
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

// How the rows of a join's input are spread over partitions.
struct Partitioning {
  int partitions = 1;
  // Columns of the input's row whose value picked each row's partition (a join's result has
  // several: its key columns, equal in a row that has them).
  std::vector<int> key_columns;
  // How that value was serialized when its bytes were hashed.
  std::string key_format;
  std::map<std::string, std::string> key_properties;
  bool table = false;
  bool windowed = false;
  std::string name;  // the source's, for messages
};

// The WITH properties that shape a source's key bytes.
std::map<std::string, std::string> KeyProperties(const catalog::SourceDescription& source) {
  std::map<std::string, std::string> properties;
  for (const auto& [name, value] : source.properties) {
    if (name.rfind("KEY_", 0) == 0 && name != "KEY_FORMAT") properties.emplace(name, value);
  }
  return properties;
}

// Re-keys the inputs of a stage's joins that are not co-partitioned with their partner, as
// Kafka Streams and ksqlDB do: each such input becomes a stage of its own that writes its
// rows, keyed by the join expression, to `<query>-Join-left-repartition` (or -right), which
// the join reads instead. A task joins partition p of every input, so both inputs must hold
// a join key's rows in the same partition: same key column, same partition count, and the
// same key bytes (format), which the partitioner hashes.
class JoinRekeyer {
 public:
  using PartitionCount = std::function<Result<int>(const std::string& topic)>;

  JoinRekeyer(const std::string& application_id, const std::string& query_id,
              PartitionCount partition_count, std::map<std::string, int>& topic_partitions,
              std::vector<Stage>& upstream)
      : application_id_(application_id),
        query_id_(query_id),
        partition_count_(std::move(partition_count)),
        topic_partitions_(topic_partitions),
        upstream_(upstream) {}

  /// Re-keys the inputs of `stage`'s joins; their stages go to `upstream`, upstream first.
  Status Rekey(Stage& stage) {
    LogicalOperatorPtr* node = &stage.plan;
    while ((*node)->kind != LogicalOperatorKind::kJoin) {
      if ((*node)->children.empty()) return Status::OK();
      node = &(*node)->children[0];
    }
    used_by_scan_ = UsedColumnsBySource(*stage.plan);
    RETURN_NOT_OK(VisitJoin(*node).status());
    if (rekeyed_) stage.reads_changes = true;
    return Status::OK();
  }

 private:
  Result<Partitioning> VisitInput(LogicalOperatorPtr& input) {
    if (input->kind == LogicalOperatorKind::kJoin) return VisitJoin(input);
    if (input->kind != LogicalOperatorKind::kScan) {
      return Status::Internal(std::string("A join's input is a ") +
                              analyzer::LogicalOperatorKindName(input->kind));
    }
    ++scans_seen_;
    const catalog::SourceDescription& source = input->source;
    Partitioning partitioning;
    ASSIGN_OR_RAISE(partitioning.partitions, partition_count_(source.topic));
    std::vector<int> keys;
    for (size_t i = 0; i < source.columns.size(); ++i) {
      if (source.columns[i].role == catalog::ColumnRole::kKey) keys.push_back(static_cast<int>(i));
    }
    // A key of several columns is hashed whole: no one column picks the partition.
    if (keys.size() == 1) partitioning.key_columns = keys;
    partitioning.key_format = source.key_format;
    partitioning.key_properties = KeyProperties(source);
    partitioning.table = source.type == catalog::SourceType::kTable;
    partitioning.windowed = source.window_type != catalog::WindowType::kNone;
    partitioning.name = source.name;
    return partitioning;
  }

  Result<Partitioning> VisitJoin(LogicalOperatorPtr& node) {
    LogicalOperator& join = *node;
    Partitioning sides[2];
    const size_t first_scan = scans_seen_;
    ASSIGN_OR_RAISE(sides[0], VisitInput(join.children[0]));
    const size_t right_scan = scans_seen_;
    ASSIGN_OR_RAISE(sides[1], VisitInput(join.children[1]));
    const int offsets[2] = {0, join.left_width};
    const std::string join_name = joins_ == 0 ? "Join" : "Join-" + std::to_string(joins_ + 1);
    ++joins_;
    bool keyed[2];
    for (int side = 0; side < 2; ++side) {
      const analyzer::BoundExpression& key = *join.expressions.at(side);
      keyed[side] = key.kind == analyzer::BoundKind::kColumn &&
                    std::count(sides[side].key_columns.begin(), sides[side].key_columns.end(),
                               key.column_index - offsets[side]) > 0;
    }
    const bool same_bytes = sides[0].key_format == sides[1].key_format &&
                            sides[0].key_properties == sides[1].key_properties;
    if (join.expressions.size() == 3 && (sides[0].partitions > 1 || sides[1].partitions > 1)) {
      // A foreign key's right row is in the partition of its own key, not of the left row's:
      // Kafka Streams sends subscriptions and responses through topics of their own for that.
      return SplitForeignKey(join, sides);
    }
    // On one partition every task sees every record: nothing to pair up.
    if ((sides[0].partitions == 1 && sides[1].partitions == 1) ||
        (keyed[0] && keyed[1] && sides[0].partitions == sides[1].partitions && same_bytes)) {
      return Joined(join, sides[0], sides[0].partitions);
    }
    bool rekey[2] = {!keyed[0], !keyed[1]};
    bool rekeyed_table = false;
    if (keyed[0] && keyed[1]) {
      // Joined on their keys, but partitioned or serialized differently: re-key one stream,
      // the one with fewer partitions (else the right one).
      int candidate = -1;
      for (int side = 1; side >= 0; --side) {
        if (sides[side].table || sides[side].windowed) continue;
        if (candidate < 0 || sides[side].partitions < sides[candidate].partitions) {
          candidate = side;
        }
      }
      // Two tables of as many partitions whose key bytes differ: ksqlDB re-keys the right
      // one (its "RightSourceKeyed" repartition topic), its updates and deletes as they are.
      if (candidate < 0 && sides[0].table && sides[1].table &&
          sides[0].partitions == sides[1].partitions && !sides[1].windowed &&
          join.children[1]->kind == LogicalOperatorKind::kScan) {
        candidate = 1;
        rekeyed_table = true;
      }
      if (candidate < 0) return Refuse(sides);
      rekey[candidate] = true;
    }
    for (int side = 0; side < 2; ++side) {
      if (!rekey[side] || (rekeyed_table && side == 1)) continue;
      if (sides[side].windowed) {
        return Status::BindError(
            "Implicit repartitioning of windowed sources is not supported. See "
            "https://github.com/confluentinc/ksql/issues/4385.",
            SourceLocation{}, "join windowed sources on their key columns");
      }
      if (sides[side].table) {
        // The analyzer lets a table join only on its PRIMARY KEY; a table cannot be re-keyed.
        return Status::NotSupported("Cannot repartition a TABLE source: " + sides[side].name +
                                        " must be joined on its PRIMARY KEY",
                                    SourceLocation{});
      }
    }
    // A kept input keeps its partitions and key bytes; two re-keyed inputs get the larger
    // partition count, as Kafka Streams gives its repartition topics.
    const int kept = rekey[0] ? (rekey[1] ? -1 : 1) : 0;
    Partitioning target;
    if (kept >= 0) {
      target = sides[kept];
    } else {
      target.partitions = std::max(sides[0].partitions, sides[1].partitions);
      target.key_format = "JSON";
    }
    for (int side = 0; side < 2; ++side) {
      if (!rekey[side]) continue;
      const bool scan = join.children[side]->kind == LogicalOperatorKind::kScan;
      const size_t scan_index = side == 0 ? first_scan : right_scan;
      std::vector<bool> used(join.children[side]->output.columns.size(), true);
      if (scan && scan_index < used_by_scan_.size()) used = used_by_scan_[scan_index];
      Cut(join, side, join_name + (side == 0 ? "-left" : "-right"), target, used);
    }
    return Joined(join, target, target.partitions);
  }

  // A foreign-key join over partitions, as Kafka Streams runs it (KIP-213): the left table's
  // stage subscribes each left row to its foreign key through
  // `<application>_<query>-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-topic` (keyed by the
  // foreign key in the right table's key format, with its partitions), the right table's stage
  // answers through `...-SUBSCRIPTION-RESPONSE-topic` (keyed by the left key in the left
  // table's format, with its partitions), and `join`, which stays in this stage, resolves the
  // answers (runtime::JoinKind::kForeignKeySubscribe, kForeignKeyRespond, kForeignKeyResolve).
  Result<Partitioning> SplitForeignKey(LogicalOperator& join, const Partitioning sides[2]) {
    if (join.children.at(0)->kind != LogicalOperatorKind::kScan ||
        join.children.at(1)->kind != LogicalOperatorKind::kScan) {
      return Status::Internal("a foreign-key join's inputs are not tables");
    }
    using Step = LogicalOperator::ForeignKeyStep;
    const size_t width = static_cast<size_t>(join.left_width);
    const std::string registration_id = query_id_ + "-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION";
    const std::string response_id = query_id_ + "-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE";
    const std::string registration_topic = application_id_ + "_" + registration_id + "-topic";
    const std::string response_topic = application_id_ + "_" + response_id + "-topic";
    LogicalOperatorPtr left = std::move(join.children[0]);
    LogicalOperatorPtr right = std::move(join.children[1]);
    join.children.clear();
    const catalog::SourceDescription left_source = left->source;
    auto step = [&](Step which) {
      auto copy = std::make_unique<LogicalOperator>();
      copy->kind = LogicalOperatorKind::kJoin;
      copy->join_type = join.join_type;
      copy->left_width = join.left_width;
      copy->left_table = join.left_table;
      copy->right_table = join.right_table;
      copy->foreign_key_step = which;
      if (join.join_condition) copy->join_condition = join.join_condition->Clone();
      for (const auto& expression : join.expressions) {
        copy->expressions.push_back(expression->Clone());
      }
      return copy;
    };
    // The left table's stage: [left row, foreign key, kind, version] per subscription.
    analyzer::Schema subscriptions;
    subscriptions.columns.assign(join.output.columns.begin(), join.output.columns.begin() + width);
    subscriptions.columns.push_back(
        {"SIDESTREAM_FK", join.expressions[0]->type, catalog::ColumnRole::kValue});
    subscriptions.columns.push_back(
        {"SIDESTREAM_FK_KIND", types::SqlType::Int(), catalog::ColumnRole::kValue});
    subscriptions.columns.push_back(
        {"SIDESTREAM_FK_VERSION", types::SqlType::Bigint(), catalog::ColumnRole::kValue});
    const std::vector<catalog::Column> subscription_columns = UniqueValueColumns(subscriptions);
    auto subscribe = step(Step::kSubscribe);
    subscribe->output = subscriptions;
    subscribe->children.push_back(std::move(left));
    std::vector<analyzer::BoundExpressionPtr> keys;
    keys.push_back(ColumnReference(subscriptions.columns[width], static_cast<int>(width)));
    Stage registration;
    registration.id = registration_id;
    registration.plan = WriteRepartitionTopic(
        std::move(subscribe), subscriptions, registration_topic, std::move(keys),
        {"SIDESTREAM_FK_KEY"}, std::vector<bool>(subscriptions.columns.size(), true),
        subscription_columns, sides[1].key_format, sides[1].key_properties);
    registration.plan->null_keys_travel = true;
    registration.writes_repartition = true;
    topic_partitions_[registration_topic] = sides[1].partitions;
    upstream_.push_back(std::move(registration));
    // The right table's stage: the join's rows, version and delete flag per answer.
    analyzer::Schema answers = join.output;
    answers.columns.push_back(
        {"SIDESTREAM_FK_VERSION", types::SqlType::Bigint(), catalog::ColumnRole::kValue});
    answers.columns.push_back(
        {"SIDESTREAM_FK_DELETE", types::SqlType::Boolean(), catalog::ColumnRole::kValue});
    const std::vector<catalog::Column> answer_columns = UniqueValueColumns(answers);
    auto respond = step(Step::kRespond);
    respond->output = answers;
    respond->children.push_back(
        ReadRepartitionTopic(left_source, registration_topic, subscription_columns, subscriptions));
    respond->children.push_back(std::move(right));
    keys.clear();
    keys.push_back(join.expressions[2]->Clone());
    Stage responding;
    responding.id = response_id;
    responding.plan = WriteRepartitionTopic(
        std::move(respond), answers, response_topic, std::move(keys), {"SIDESTREAM_FK_LEFT_KEY"},
        std::vector<bool>(answers.columns.size(), true), answer_columns, sides[0].key_format,
        sides[0].key_properties);
    responding.writes_repartition = true;
    topic_partitions_[response_topic] = sides[0].partitions;
    upstream_.push_back(std::move(responding));
    // This stage, partitioned as the left table: the answers, resolved.
    join.foreign_key_step = Step::kResolve;
    join.children.push_back(
        ReadRepartitionTopic(left_source, response_topic, answer_columns, answers));
    return Joined(join, sides[0], sides[0].partitions);
  }

  // The partitioning of a join's result: by its key, whichever column holds it.
  static Partitioning Joined(const LogicalOperator& join, const Partitioning& like,
                             int partitions) {
    Partitioning result;
    result.partitions = partitions;
    // A foreign-key join's result is keyed by its third expression, the left table's key.
    const size_t first = join.expressions.size() == 3 ? 2 : 0;
    for (size_t i = first; i < join.expressions.size(); ++i) {
      const auto& key = join.expressions[i];
      if (key->kind == analyzer::BoundKind::kColumn)
        result.key_columns.push_back(key->column_index);
    }
    result.key_columns.push_back(static_cast<int>(join.output.columns.size()) - 1);
    result.key_format = like.key_format;
    result.key_properties = like.key_properties;
    result.table = join.left_table && join.right_table;
    result.windowed = join.output.window_type != catalog::WindowType::kNone;
    result.name = like.name;
    return result;
  }

  static Status Refuse(const Partitioning sides[2]) {
    if (sides[0].partitions != sides[1].partitions) {
      return Status::NotSupported(
          "Can't join `" + sides[0].name + "` with `" + sides[1].name +
              "` since the number of partitions don't match. `" + sides[0].name +
              "` partitions = " + std::to_string(sides[0].partitions) + "; `" + sides[1].name +
              "` partitions = " + std::to_string(sides[1].partitions) +
              ". Please repartition either one so that the number of partitions match.",
          SourceLocation{});
    }
    return Status::NotSupported("Can't join `" + sides[0].name + "` with `" + sides[1].name +
                                    "` since their key formats differ (" + sides[0].key_format +
                                    ", " + sides[1].key_format +
                                    "): neither is a stream that could be re-keyed.",
                                SourceLocation{});
  }

  // Moves the join's input `side` into a stage of its own that writes it, keyed by the join
  // expression, to a repartition topic of `target`'s partitions and key format; the join
  // reads that topic instead.
  void Cut(LogicalOperator& join, int side, const std::string& name, const Partitioning& target,
           const std::vector<bool>& used) {
    LogicalOperatorPtr input = std::move(join.children[side]);
    const std::string stage_id = query_id_ + "-" + name + "-repartition";
    const std::string topic = application_id_ + "_" + stage_id;
    const LogicalOperator* leftmost = input.get();
    while (!leftmost->children.empty()) leftmost = leftmost->children[0].get();
    // A scan's pseudo columns travel as values, as ksqlDB's do: the join stage reads the
    // source's ROWPARTITION and ROWOFFSET, not the repartition topic's. They follow the
    // scan's columns, where the runtime puts them in a row (a join's rows have them already).
    analyzer::Schema layout = input->output;
    std::vector<bool> written = used;
    if (input->kind == LogicalOperatorKind::kScan) {
      written.resize(layout.columns.size(), false);
      layout.columns.push_back({"ROWTIME", types::SqlType::Bigint(), catalog::ColumnRole::kValue});
      layout.columns.push_back(
          {"ROWPARTITION", types::SqlType::Int(), catalog::ColumnRole::kValue});
      layout.columns.push_back(
          {"ROWOFFSET", types::SqlType::Bigint(), catalog::ColumnRole::kValue});
      written.resize(layout.columns.size(), true);
    }
    std::vector<catalog::Column> columns = UniqueValueColumns(layout);
    // A table keeps its key in the message key, so that its deletes (null values) still say
    // which row they delete: the join stage reads the topic as that table, in the new format.
    const bool table = input->kind == LogicalOperatorKind::kScan &&
                       input->source.type == catalog::SourceType::kTable;
    size_t table_keys = 0;
    if (table) {
      for (const catalog::Column& column : input->source.columns) {
        if (column.role == catalog::ColumnRole::kKey) ++table_keys;
      }
      for (size_t i = 0; i < table_keys; ++i) columns[i].role = catalog::ColumnRole::kKey;
    }
    join.children[side] = ReadRepartitionTopic(leftmost->source, topic, columns, layout);
    if (table) {
      LogicalOperator& scan = *join.children[side];
      scan.source.type = catalog::SourceType::kTable;
      scan.source.key_format = target.key_format;
      for (const auto& [name, value] : target.key_properties) scan.source.properties[name] = value;
      for (size_t i = 0; i < table_keys; ++i) {
        scan.output.columns[i].role = catalog::ColumnRole::kKey;
      }
    }
    std::vector<analyzer::BoundExpressionPtr> keys;
    keys.push_back(join.expressions.at(side)->Clone());
    ShiftColumns(*keys.back(), side == 0 ? 0 : join.left_width);
    Stage stage;
    stage.id = stage_id;
    stage.plan = WriteRepartitionTopic(std::move(input), layout, topic, std::move(keys),
                                       {"SIDESTREAM_JOIN_KEY"}, written, columns, target.key_format,
                                       target.key_properties);
    stage.writes_repartition = true;
    topic_partitions_[topic] = target.partitions;
    upstream_.push_back(std::move(stage));
    rekeyed_ = true;
  }

  static void ShiftColumns(analyzer::BoundExpression& expression, int offset) {
    if (expression.kind == analyzer::BoundKind::kColumn) expression.column_index -= offset;
    for (auto& child : expression.children) ShiftColumns(*child, offset);
  }

  const std::string& application_id_;
  const std::string& query_id_;
  PartitionCount partition_count_;
  std::map<std::string, int>& topic_partitions_;
  std::vector<Stage>& upstream_;
  std::vector<std::vector<bool>> used_by_scan_;
  size_t scans_seen_ = 0;
  int joins_ = 0;
  bool rekeyed_ = false;
};

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
  // Partition counts: of the repartition topics as the plan picks them, else the broker's
  // (unknown without `partition_count`: then no join is re-keyed).
  std::map<std::string, int> topic_partitions;
  auto partition_count = [&](const std::string& topic) -> Result<int> {
    auto internal = topic_partitions.find(topic);
    if (internal != topic_partitions.end()) return internal->second;
    if (!options.partition_count) return 1;
    return options.partition_count(topic);
  };
  for (Stage& stage : SplitAtRepartition(options.application_id, query_id, std::move(plan))) {
    JoinRekeyer rekeyer(options.application_id, query_id, partition_count, topic_partitions,
                        physical.stages);
    RETURN_NOT_OK(rekeyer.Rekey(stage));
    // A GROUP BY's repartition topic: as many partitions as the stage that writes it.
    if (stage.writes_repartition && !topic_partitions.count(stage.plan->source.topic)) {
      int partitions = 0;
      for (const LogicalOperator* scan : Scans(*stage.plan)) {
        ASSIGN_OR_RAISE(int count, partition_count(scan->source.topic));
        partitions = std::max(partitions, count);
      }
      topic_partitions[stage.plan->source.topic] = partitions;
    }
    physical.stages.push_back(std::move(stage));
  }
  for (size_t index = 0; index < physical.stages.size(); ++index) {
    Stage& stage = physical.stages[index];
    if (options.partition_count) {
      for (const LogicalOperator* scan : Scans(*stage.plan)) {
        ASSIGN_OR_RAISE(int count, partition_count(scan->source.topic));
        stage.partitions = std::max(stage.partitions, count);
      }
    }
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
      const std::string& topic = stage.plan->source.topic;
      physical.internal_topics.push_back({InternalTopic::Kind::kRepartition,
                                          topic,
                                          index,
                                          {{"retention.ms", "-1"}},
                                          options.partition_count ? topic_partitions[topic] : 0});
    }
    for (const std::string& store : stage.stores) {
      // Compacted: the latest value of each key is what a restore needs.
      physical.internal_topics.push_back({InternalTopic::Kind::kChangelog,
                                          ChangelogTopic(options.application_id, stage.id, store),
                                          index,
                                          {{"cleanup.policy", "compact"}},
                                          stage.partitions});
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
      const bool internal =
          std::any_of(internal_topics.begin(), internal_topics.end(), [&](const auto& topic) {
            return topic.kind == InternalTopic::Kind::kRepartition && topic.name == input.topic;
          });
      text += "    reads " + input.topic + (input.windowed ? " (windowed keys)" : "") +
              (stage.reads_changes && internal ? " (rows and retractions)" : "") + ", decodes ";
      std::string decoded;
      const auto& columns = scans[source]->source.columns;
      for (size_t column = 0; column < columns.size(); ++column) {
        if (!input.decoded[column]) continue;
        decoded += (decoded.empty() ? "" : ", ") + columns[column].name;
      }
      text += (decoded.empty() ? "no columns" : decoded) + "\n";
    }
    text += "    writes " + stage.plan->source.topic +
            (stage.writes_repartition
                 ? " (repartition topic, keyed by the grouping values or the join key)"
                 : "") +
            "\n";
    text += "    stores:";
    for (const std::string& store : stage.stores) text += " " + store;
    text += "\n";
  }
  text += "  Internal topics:\n";
  for (const InternalTopic& topic : internal_topics) {
    text += "    " + topic.name +
            (topic.kind == InternalTopic::Kind::kRepartition ? " (repartition" : " (changelog") +
            ", stage " + std::to_string(topic.stage + 1);
    if (topic.partitions > 0) text += ", " + std::to_string(topic.partitions) + " partitions";
    for (const auto& [name, value] : topic.configs) text += ", " + name + "=" + value;
    text += ")\n";
  }
  return text;
}

}  // namespace sidestream::planner
