#include "runtime/topology.h"

#include <algorithm>

#include "functions/function_registry.h"
#include "runtime/filter_project.h"
#include "runtime/flat_map_operator.h"
#include "runtime/table_changes.h"

namespace sidestream::runtime {

namespace {

using analyzer::LogicalOperator;
using analyzer::LogicalOperatorKind;

Result<AggregateCall> BuildCall(const analyzer::BoundExpression& call) {
  const functions::FunctionDefinition& definition = *call.function;
  std::vector<types::SqlType> argument_types;
  std::vector<types::Value> literals(call.children.size());
  AggregateCall built;
  for (size_t i = 0; i < call.children.size(); ++i) {
    const analyzer::BoundExpression& argument = *call.children[i];
    argument_types.push_back(argument.type);
    ASSIGN_OR_RAISE(auto evaluator, expr::Evaluator::Compile(argument));
    bool literal = functions::IsLiteralArgument(definition, i, call.children.size());
    if (literal) {
      RETURN_NOT_OK(evaluator->Evaluate(types::Row(), literals[i]));
    } else {
      built.arguments.push_back(std::move(evaluator));
    }
  }
  ASSIGN_OR_RAISE(built.function, functions::MakeAggregateFunction(definition.name, argument_types,
                                                                   literals, call.type));
  return built;
}

Result<std::vector<std::unique_ptr<expr::Evaluator>>> CompileAll(
    const std::vector<analyzer::BoundExpressionPtr>& expressions) {
  std::vector<std::unique_ptr<expr::Evaluator>> compiled;
  for (const auto& expression : expressions) {
    ASSIGN_OR_RAISE(auto evaluator, expr::Evaluator::Compile(*expression));
    compiled.push_back(std::move(evaluator));
  }
  return compiled;
}

// Re-bases a right-side join key, bound over the join's output, onto the right input's rows.
void ShiftColumns(analyzer::BoundExpression& expression, int offset) {
  if (expression.kind == analyzer::BoundKind::kColumn) expression.column_index -= offset;
  for (auto& child : expression.children) ShiftColumns(*child, offset);
}

}  // namespace

class Topology::Builder {
 public:
  Builder(Topology& topology, LateRecordCallback on_late, StoreFactory stores)
      : topology_(topology), on_late_(std::move(on_late)), stores_(std::move(stores)) {}

  // Builds the operators from `node` down to its Scan or Join, the last one feeding `next`,
  // and below a Join both of its inputs.
  Status Build(const LogicalOperator* node, RecordConsumer* next) {
    std::vector<const LogicalOperator*> chain;  // top first
    while (node->kind != LogicalOperatorKind::kScan && node->kind != LogicalOperatorKind::kJoin) {
      chain.push_back(node);
      node = node->children.at(0).get();
    }
    const bool join = node->kind == LogicalOperatorKind::kJoin;
    const bool table_input = join ? node->left_table && node->right_table
                                  : node->source.type == catalog::SourceType::kTable;
    // What identifies a row of the table: a source's key columns, or a join's key, which
    // it appends as its last column.
    std::vector<size_t> table_key;
    for (size_t i = 0; i < node->output.columns.size(); ++i) {
      if (!join && node->output.columns[i].role == catalog::ColumnRole::kKey)
        table_key.push_back(i);
    }
    if (join) table_key.push_back(node->output.columns.size() - 1);
    for (const LogicalOperator* step : chain) {
      ASSIGN_OR_RAISE(std::unique_ptr<Operator> op, BuildStep(*step, table_input));
      if (op) Append(std::move(op), next);
      // The planner marks where a table starts to feed a re-grouping or aggregation as
      // changes (planner::AssignStores).
      if (!step->table_changes_store.empty()) {
        Append(std::make_unique<TableChangesOperator>(
                   table_key, MakeStore(stores_, step->table_changes_store)),
               next);
      }
    }
    if (!join) {
      TopologySource source;
      source.source = node->source;
      source.columns = node->output.columns.size();
      source.windowed = node->source.window_type != catalog::WindowType::kNone;
      source.watermark_delay = node->source.watermark_delay_ms.value_or(0);
      source.head = next;
      topology_.sources_.push_back(std::move(source));
      return Status::OK();
    }
    ASSIGN_OR_RAISE(auto spec, BuildJoinSpec(*node));
    RETURN_NOT_OK(RequireStoreName(*node));
    spec.stores[0] = MakeStore(stores_, node->store_name + "-left");
    // A foreign-key join's subscribing and resolving steps keep one store.
    const bool one_input = node->children.size() == 1;
    if (!one_input) spec.stores[1] = MakeStore(stores_, node->store_name + "-right");
    auto joiner = std::make_unique<JoinOperator>(std::move(spec));
    JoinOperator* built = joiner.get();
    topology_.joins_.push_back(built);
    Append(std::move(joiner), next);
    RETURN_NOT_OK(Build(node->children.at(0).get(), built->input(0)));
    if (one_input) return Status::OK();
    return Build(node->children.at(1).get(), built->input(1));
  }

 private:
  static Status RequireStoreName(const LogicalOperator& node) {
    if (!node.store_name.empty()) return Status::OK();
    return Status::Internal(std::string("the plan's ") +
                            analyzer::LogicalOperatorKindName(node.kind) +
                            " has no store name: plan it first (planner::PlanQuery)");
  }

  void Append(std::unique_ptr<Operator> op, RecordConsumer*& next) {
    op->set_next(next);
    next = op.get();
    topology_.operators_.push_back(std::move(op));
  }

  static Result<JoinSpec> BuildJoinSpec(const LogicalOperator& node) {
    JoinSpec spec;
    spec.kind = !node.right_table ? JoinKind::kStreamStream
                : node.left_table ? JoinKind::kTableTable
                                  : JoinKind::kStreamTable;
    // A foreign-key join has a third expression: the left table's key (the analyzer's).
    if (node.expressions.size() == 3) {
      spec.kind = JoinKind::kForeignKey;
      const analyzer::BoundExpression& left_key = *node.expressions[2];
      ASSIGN_OR_RAISE(spec.left_key, expr::Evaluator::Compile(left_key));
      if (left_key.kind == analyzer::BoundKind::kColumn)
        spec.left_key_column = left_key.column_index;
    }
    spec.type = node.join_type;
    spec.widths[0] = static_cast<size_t>(node.left_width);
    spec.widths[1] = node.output.columns.size() - spec.widths[0] - 1;
    using Step = LogicalOperator::ForeignKeyStep;
    switch (node.foreign_key_step) {
      case Step::kWhole:
        break;
      case Step::kSubscribe:  // output: the left row, foreign key, kind, version
        spec.kind = JoinKind::kForeignKeySubscribe;
        spec.widths[1] = 0;
        break;
      case Step::kRespond:  // output: the join's, version, delete
        spec.kind = JoinKind::kForeignKeyRespond;
        spec.widths[1] = node.output.columns.size() - spec.widths[0] - 3;
        break;
      case Step::kResolve:
        spec.kind = JoinKind::kForeignKeyResolve;
        break;
    }
    ASSIGN_OR_RAISE(spec.keys[0], expr::Evaluator::Compile(*node.expressions.at(0)));
    auto right_key = node.expressions.at(1)->Clone();
    ShiftColumns(*right_key, node.left_width);
    ASSIGN_OR_RAISE(spec.keys[1], expr::Evaluator::Compile(*right_key));
    if (spec.kind == JoinKind::kStreamStream) {
      spec.before_ms = node.within_before_ms.value_or(0);
      spec.after_ms = node.within_after_ms.value_or(spec.before_ms);
      // ksqlDB without GRACE: Kafka Streams' old default, a day of retention in all.
      constexpr int64_t kDay = 24 * 60 * 60 * 1000LL;
      spec.grace_ms =
          node.grace_ms.value_or(std::max<int64_t>(kDay - spec.before_ms - spec.after_ms, 0));
      spec.hold_unmatched = node.grace_ms.has_value();
    }
    return spec;
  }

  Result<std::unique_ptr<Operator>> BuildStep(const LogicalOperator& step, bool table_input) {
    switch (step.kind) {
      case LogicalOperatorKind::kProject: {
        ASSIGN_OR_RAISE(auto expressions, CompileAll(step.expressions));
        auto project = std::make_unique<ProjectOperator>(std::move(expressions));
        topology_.projects_.push_back(project.get());
        return std::unique_ptr<Operator>(std::move(project));
      }
      case LogicalOperatorKind::kFilter: {
        ASSIGN_OR_RAISE(auto predicate, expr::Evaluator::Compile(*step.predicate));
        // HAVING has the Aggregate below it; its rows start with the group values.
        const LogicalOperator& below = *step.children.at(0);
        FilterContext context = table_input ? FilterContext::kTable : FilterContext::kStream;
        size_t group_columns = 0, group_offset = 0;
        if (below.kind == LogicalOperatorKind::kAggregate) {
          context = FilterContext::kHaving;
          group_columns = below.expressions.size();
        } else if (table_input && below.kind == LogicalOperatorKind::kJoin) {
          // A table-table join's updates, keyed by its last column.
          context = FilterContext::kHaving;
          group_columns = 1;
          group_offset = below.output.columns.size() - 1;
        }
        auto filter = std::make_unique<FilterOperator>(std::move(predicate), context, group_columns,
                                                       group_offset);
        topology_.filters_.push_back(filter.get());
        return std::unique_ptr<Operator>(std::move(filter));
      }
      case LogicalOperatorKind::kAggregate: {
        AggregateSpec spec;
        ASSIGN_OR_RAISE(spec.group_by, CompileAll(step.expressions));
        for (const auto& aggregate : step.aggregates) {
          ASSIGN_OR_RAISE(auto call, BuildCall(*aggregate.call));
          spec.calls.push_back(std::move(call));
        }
        spec.window = step.window;
        spec.emit_final = step.emit == sql::EmitMode::kFinal;
        spec.on_late = on_late_;
        RETURN_NOT_OK(RequireStoreName(step));
        spec.store = MakeStore(stores_, step.store_name);
        if (spec.window && spec.window->kind != sql::WindowKind::kSession) {
          // Keys are the group values, then the window start (AggregateOperator::StoreKey).
          ASSIGN_OR_RAISE(spec.store_ordered_by_window,
                          spec.store->OrderByWindowStart(spec.group_by.size()));
        }
        auto aggregate = std::make_unique<AggregateOperator>(std::move(spec));
        topology_.aggregates_.push_back(aggregate.get());
        return std::unique_ptr<Operator>(std::move(aggregate));
      }
      case LogicalOperatorKind::kMatchRecognize: {
        MatchRecognizeOperatorSpec spec;
        ASSIGN_OR_RAISE(spec.partition_by, CompileAll(step.expressions));
        ASSIGN_OR_RAISE(spec.matcher, PatternMatcher::Compile(*step.match));
        spec.on_late = on_late_;
        RETURN_NOT_OK(RequireStoreName(step));
        spec.store = MakeStore(stores_, step.store_name);
        auto match = std::make_unique<MatchRecognizeOperator>(std::move(spec));
        topology_.matches_.push_back(match.get());
        return std::unique_ptr<Operator>(std::move(match));
      }
      case LogicalOperatorKind::kFlatMap: {
        std::vector<TableCall> calls;
        for (const auto& expression : step.expressions) {
          TableCall call;
          ASSIGN_OR_RAISE(call.body, functions::FindTableFunction(expression->function->name));
          ASSIGN_OR_RAISE(call.arguments, CompileAll(expression->children));
          calls.push_back(std::move(call));
        }
        const size_t position = step.output.columns.size() - step.expressions.size();
        auto flat_map = std::make_unique<FlatMapOperator>(position, std::move(calls));
        topology_.flat_maps_.push_back(flat_map.get());
        return std::unique_ptr<Operator>(std::move(flat_map));
      }
      case LogicalOperatorKind::kRepartition:
        // Within one process re-keying needs no shuffle: the Aggregate or Project that
        // follows computes the new key. Across instances it goes through a topic.
        return std::unique_ptr<Operator>();
      default:
        return Status::NotSupported(std::string("Operator ") +
                                    analyzer::LogicalOperatorKindName(step.kind) +
                                    " cannot run yet");
    }
  }

  Topology& topology_;
  LateRecordCallback on_late_;
  StoreFactory stores_;
};

Result<std::unique_ptr<Topology>> Topology::Build(const LogicalOperator& plan,
                                                  CallbackSink::Callback on_result,
                                                  LateRecordCallback on_late, StoreFactory stores) {
  std::unique_ptr<Topology> topology(new Topology());
  const LogicalOperator* node = &plan;
  if (node->kind == LogicalOperatorKind::kSink) node = node->children.at(0).get();
  topology->result_schema_ = node->output;
  auto sink = std::make_unique<CallbackSink>(std::move(on_result));
  RecordConsumer* next = sink.get();
  topology->sink_ = sink.get();
  topology->operators_.push_back(std::move(sink));
  topology->stream_time_store_ = MakeStore(stores, "stream-time");
  if (!plan.result_store.empty()) {
    std::vector<size_t> key_columns;
    for (size_t i = 0; i < node->output.columns.size(); ++i) {
      if (node->output.columns[i].role == catalog::ColumnRole::kKey) key_columns.push_back(i);
    }
    auto keep = std::make_unique<ResultStoreOperator>(std::move(key_columns),
                                                      MakeStore(stores, plan.result_store));
    keep->set_next(next);
    next = keep.get();
    topology->result_store_ = keep.get();
    topology->operators_.push_back(std::move(keep));
  }
  Builder builder(*topology, std::move(on_late), std::move(stores));
  RETURN_NOT_OK(builder.Build(node, next));
  return topology;
}

Status Topology::Process(size_t source_index, RecordBatch& batch) {
  const TopologySource& source = sources_[source_index];
  const size_t pseudo_columns = source.windowed ? 5 : 3;
  for (Record& record : batch) {
    types::Row& row = record.row;
    row.resize(source.columns + pseudo_columns);
    types::Value* pseudo = row.data() + source.columns;
    // As in ksqlDB, ROWTIME, ROWPARTITION and ROWOFFSET are part of the value: a
    // tombstone has none.
    if (record.tombstone) {
      for (int i = 0; i < 3; ++i) pseudo[i].SetNull();
    } else {
      pseudo[0].SetInteger(types::TypeId::kBigint, record.timestamp);
      pseudo[1].SetInteger(types::TypeId::kInt, record.partition);
      pseudo[2].SetInteger(types::TypeId::kBigint, record.offset);
    }
    if (source.windowed) {
      for (int i = 0; i < 2; ++i) {
        if (record.window) {
          pseudo[3 + i].SetInteger(types::TypeId::kBigint,
                                   i == 0 ? record.window->start : record.window->end);
        } else {
          pseudo[3 + i].SetNull();
        }
      }
    }
    stream_time_ = std::max(stream_time_, record.timestamp - source.watermark_delay);
    record.stream_time = stream_time_;
  }
  RETURN_NOT_OK(source.head->Consume(batch));
  // Records that did not reach a window operator (filtered out) still move stream time.
  return source.head->AdvanceStreamTime(stream_time_);
}

Status Topology::AdvanceStreamTime(int64_t stream_time) {
  if (stream_time <= stream_time_) return Status::OK();
  stream_time_ = stream_time;
  return sources_.front().head->AdvanceStreamTime(stream_time);
}

Status Topology::Flush() {
  if (stream_time_ != INT64_MIN) {
    // Read first: an Upsert marks the entry changed, and the changelog would get the same
    // stream time at every commit of an idle task.
    ASSIGN_OR_RAISE(const types::Row* saved, stream_time_store_->Get({}));
    if (saved == nullptr || saved->empty() || (*saved)[0].integer() != stream_time_) {
      bool inserted = false;
      ASSIGN_OR_RAISE(types::Row * updated, stream_time_store_->Upsert({}, inserted));
      *updated = {types::Value::Bigint(stream_time_)};
    }
  }
  RETURN_NOT_OK(stream_time_store_->Flush());
  return sources_.front().head->Flush();
}

Status Topology::RebuildIndexes() {
  for (AggregateOperator* aggregate : aggregates_) RETURN_NOT_OK(aggregate->RebuildIndexes());
  for (JoinOperator* join : joins_) RETURN_NOT_OK(join->RebuildIndexes());
  for (MatchRecognizeOperator* match : matches_) RETURN_NOT_OK(match->RebuildIndexes());
  // Windows that this stream time closes were closed before the commit that saved it, so
  // moving there again emits nothing twice; it makes records that were late stay late.
  ASSIGN_OR_RAISE(const types::Row* saved, stream_time_store_->Get({}));
  return saved == nullptr ? Status::OK() : AdvanceStreamTime((*saved)[0].integer());
}

Status Topology::EmitStored(const std::vector<types::Row>* keys, CallbackSink::Callback visit) {
  if (!materialized()) return Status::NotSupported("the query keeps no results to read");
  if (result_store_ != nullptr) return result_store_->EmitStored(keys, visit);
  // The operators above the Aggregate (HAVING, the projection) keep no state, so the stored
  // groups can pass through them between two batches; only the sink's receiver changes.
  CallbackSink::Callback saved = sink_->Exchange(std::move(visit));
  Status emitted = aggregates_.front()->EmitStored(keys);
  sink_->Exchange(std::move(saved));
  return emitted;
}

int64_t Topology::late_records() const {
  int64_t total = 0;
  for (const AggregateOperator* aggregate : aggregates_) total += aggregate->late_records();
  for (const JoinOperator* join : joins_) total += join->late_records();
  for (const MatchRecognizeOperator* match : matches_) total += match->late_records();
  return total;
}

int64_t Topology::evaluation_errors() const {
  int64_t total = 0;
  for (const AggregateOperator* aggregate : aggregates_) total += aggregate->evaluation_errors();
  for (const JoinOperator* join : joins_) total += join->evaluation_errors();
  for (const MatchRecognizeOperator* match : matches_) total += match->evaluation_errors();
  for (const FilterOperator* filter : filters_) total += filter->evaluation_errors();
  for (const ProjectOperator* project : projects_) total += project->evaluation_errors();
  for (const FlatMapOperator* flat_map : flat_maps_) total += flat_map->evaluation_errors();
  return total;
}

}  // namespace sidestream::runtime
