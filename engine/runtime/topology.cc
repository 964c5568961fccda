#include "runtime/topology.h"

#include "functions/function_registry.h"
#include "runtime/filter_project.h"

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
    bool literal =
        std::find(definition.literal_arguments.begin(), definition.literal_arguments.end(),
                  static_cast<int>(i)) != definition.literal_arguments.end();
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

}  // namespace

Result<std::unique_ptr<Topology>> Topology::Build(const LogicalOperator& plan,
                                                  CallbackSink::Callback on_result,
                                                  LateRecordCallback on_late) {
  std::unique_ptr<Topology> topology(new Topology());
  // The chain from the result down to the scan.
  std::vector<const LogicalOperator*> chain;
  const LogicalOperator* node = &plan;
  if (node->kind == LogicalOperatorKind::kSink) node = node->children.at(0).get();
  topology->result_schema_ = node->output;
  while (node->kind != LogicalOperatorKind::kScan) {
    if (node->kind == LogicalOperatorKind::kJoin) {
      return Status::NotSupported("Joins cannot run yet");
    }
    chain.push_back(node);
    node = node->children.at(0).get();
  }
  topology->source_ = node->source;
  topology->source_columns_ = node->output.columns.size();
  topology->windowed_source_ = node->source.window_type != catalog::WindowType::kNone;
  topology->watermark_delay_ = node->source.watermark_delay_ms.value_or(0);
  size_t source_key_columns = 0;
  for (const auto& column : node->output.columns) {
    if (column.role == catalog::ColumnRole::kKey) ++source_key_columns;
  }

  // Build downstream first so each operator knows its successor.
  auto sink = std::make_unique<CallbackSink>(std::move(on_result));
  RecordConsumer* next = sink.get();
  topology->operators_.push_back(std::move(sink));
  for (const LogicalOperator* step : chain) {
    std::unique_ptr<Operator> op;
    switch (step->kind) {
      case LogicalOperatorKind::kProject: {
        ASSIGN_OR_RAISE(auto expressions, CompileAll(step->expressions));
        auto project = std::make_unique<ProjectOperator>(std::move(expressions));
        topology->projects_.push_back(project.get());
        op = std::move(project);
        break;
      }
      case LogicalOperatorKind::kFilter: {
        ASSIGN_OR_RAISE(auto predicate, expr::Evaluator::Compile(*step->predicate));
        // HAVING has the Aggregate below it; its rows start with the group values.
        const LogicalOperator& below = *step->children.at(0);
        FilterContext context = FilterContext::kStream;
        size_t group_columns = 0;
        if (below.kind == LogicalOperatorKind::kAggregate) {
          context = FilterContext::kHaving;
          group_columns = below.expressions.size();
        } else if (topology->source_.type == catalog::SourceType::kTable) {
          context = FilterContext::kTable;
        }
        auto filter =
            std::make_unique<FilterOperator>(std::move(predicate), context, group_columns);
        topology->filters_.push_back(filter.get());
        op = std::move(filter);
        break;
      }
      case LogicalOperatorKind::kAggregate: {
        AggregateSpec spec;
        ASSIGN_OR_RAISE(spec.group_by, CompileAll(step->expressions));
        for (const auto& aggregate : step->aggregates) {
          ASSIGN_OR_RAISE(auto call, BuildCall(*aggregate.call));
          spec.calls.push_back(std::move(call));
        }
        spec.window = step->window;
        spec.emit_final = step->emit == sql::EmitMode::kFinal;
        spec.table_source = topology->source_.type == catalog::SourceType::kTable;
        spec.source_key_columns = source_key_columns;
        spec.on_late = on_late;
        auto aggregate = std::make_unique<AggregateOperator>(std::move(spec));
        topology->aggregates_.push_back(aggregate.get());
        op = std::move(aggregate);
        break;
      }
      case LogicalOperatorKind::kRepartition:
        // Within one process re-keying needs no shuffle: the Aggregate or Project that
        // follows computes the new key. Across instances it goes through a topic.
        continue;
      default:
        return Status::NotSupported(std::string("Operator ") +
                                    analyzer::LogicalOperatorKindName(step->kind) +
                                    " cannot run yet");
    }
    op->set_next(next);
    next = op.get();
    topology->operators_.push_back(std::move(op));
  }
  topology->head_ = next;
  return topology;
}

Status Topology::Process(Record& record) {
  types::Row& row = record.row;
  row.resize(source_columns_);
  // As in ksqlDB, the pseudo columns are part of the value: a tombstone has none.
  if (record.tombstone) {
    row.resize(source_columns_ + 3);
  } else {
    row.push_back(types::Value::Bigint(record.timestamp));
    row.push_back(types::Value::Int(record.partition));
    row.push_back(types::Value::Bigint(record.offset));
  }
  if (windowed_source_) {
    row.push_back(record.window ? types::Value::Bigint(record.window->start) : types::Value());
    row.push_back(record.window ? types::Value::Bigint(record.window->end) : types::Value());
  }
  if (record.timestamp - watermark_delay_ > stream_time_) {
    RETURN_NOT_OK(AdvanceStreamTime(record.timestamp - watermark_delay_));
  }
  return head_->Consume(record);
}

Status Topology::AdvanceStreamTime(int64_t stream_time) {
  if (stream_time <= stream_time_) return Status::OK();
  stream_time_ = stream_time;
  return head_->AdvanceStreamTime(stream_time);
}

int64_t Topology::late_records() const {
  int64_t total = 0;
  for (const AggregateOperator* aggregate : aggregates_) total += aggregate->late_records();
  return total;
}

int64_t Topology::evaluation_errors() const {
  int64_t total = 0;
  for (const AggregateOperator* aggregate : aggregates_) total += aggregate->evaluation_errors();
  for (const FilterOperator* filter : filters_) total += filter->evaluation_errors();
  for (const ProjectOperator* project : projects_) total += project->evaluation_errors();
  return total;
}

}  // namespace sidestream::runtime
