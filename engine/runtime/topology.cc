#include "runtime/topology.h"

#include <algorithm>

#include "functions/function_registry.h"
#include "runtime/filter_project.h"
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

  // A table feeds a re-grouping (Repartition) or aggregation as changes: the lowest such
  // step gets a TableChangesOperator in front of it.
  const LogicalOperator* changes_above = nullptr;
  if (topology->source_.type == catalog::SourceType::kTable) {
    for (const LogicalOperator* step : chain) {
      if (step->kind == LogicalOperatorKind::kRepartition ||
          step->kind == LogicalOperatorKind::kAggregate) {
        changes_above = step;
      }
    }
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
        spec.on_late = on_late;
        auto aggregate = std::make_unique<AggregateOperator>(std::move(spec));
        topology->aggregates_.push_back(aggregate.get());
        op = std::move(aggregate);
        break;
      }
      case LogicalOperatorKind::kRepartition:
        // Within one process re-keying needs no shuffle: the Aggregate or Project that
        // follows computes the new key. Across instances it goes through a topic.
        break;
      default:
        return Status::NotSupported(std::string("Operator ") +
                                    analyzer::LogicalOperatorKindName(step->kind) +
                                    " cannot run yet");
    }
    if (op) {
      op->set_next(next);
      next = op.get();
      topology->operators_.push_back(std::move(op));
    }
    if (step == changes_above) {
      auto changes = std::make_unique<TableChangesOperator>(source_key_columns);
      changes->set_next(next);
      next = changes.get();
      topology->operators_.push_back(std::move(changes));
    }
  }
  topology->head_ = next;
  return topology;
}

Status Topology::Process(RecordBatch& batch) {
  const size_t pseudo_columns = windowed_source_ ? 5 : 3;
  for (Record& record : batch) {
    types::Row& row = record.row;
    row.resize(source_columns_ + pseudo_columns);
    types::Value* pseudo = row.data() + source_columns_;
    // As in ksqlDB, ROWTIME, ROWPARTITION and ROWOFFSET are part of the value: a
    // tombstone has none.
    if (record.tombstone) {
      for (int i = 0; i < 3; ++i) pseudo[i].SetNull();
    } else {
      pseudo[0].SetInteger(types::TypeId::kBigint, record.timestamp);
      pseudo[1].SetInteger(types::TypeId::kInt, record.partition);
      pseudo[2].SetInteger(types::TypeId::kBigint, record.offset);
    }
    if (windowed_source_) {
      for (int i = 0; i < 2; ++i) {
        if (record.window) {
          pseudo[3 + i].SetInteger(types::TypeId::kBigint,
                                   i == 0 ? record.window->start : record.window->end);
        } else {
          pseudo[3 + i].SetNull();
        }
      }
    }
    stream_time_ = std::max(stream_time_, record.timestamp - watermark_delay_);
    record.stream_time = stream_time_;
  }
  RETURN_NOT_OK(head_->Consume(batch));
  // Records that did not reach a window operator (filtered out) still move stream time.
  return head_->AdvanceStreamTime(stream_time_);
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
