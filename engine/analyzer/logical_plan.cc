#include "analyzer/logical_plan.h"

namespace sidestream::analyzer {

namespace {

const char* JoinTypeName(sql::JoinType type) {
  switch (type) {
    case sql::JoinType::kInner:
      return "INNER";
    case sql::JoinType::kLeft:
      return "LEFT";
    case sql::JoinType::kRight:
      return "RIGHT";
    case sql::JoinType::kFull:
      return "FULL";
  }
  return "?";
}

std::string Milliseconds(int64_t ms) { return std::to_string(ms) + " ms"; }

std::string WindowToString(const sql::WindowSpec& window) {
  std::string text;
  switch (window.kind) {
    case sql::WindowKind::kTumbling:
      text = "TUMBLING(size ";
      break;
    case sql::WindowKind::kHopping:
      text = "HOPPING(size ";
      break;
    case sql::WindowKind::kSession:
      text = "SESSION(gap ";
      break;
  }
  text += Milliseconds(window.size_ms);
  if (window.advance_ms) text += ", advance " + Milliseconds(*window.advance_ms);
  if (window.grace_ms) text += ", grace " + Milliseconds(*window.grace_ms);
  if (window.retention_ms) text += ", retention " + Milliseconds(*window.retention_ms);
  return text + ")";
}

std::string SourceTarget(const catalog::SourceDescription& source) {
  return std::string(source.type == catalog::SourceType::kTable ? "TABLE" : "STREAM") + ", topic " +
         source.topic + ", key " + source.key_format + ", value " + source.value_format;
}

}  // namespace

std::unique_ptr<MatchRecognizeSpec> MatchRecognizeSpec::Clone() const {
  auto copy = std::make_unique<MatchRecognizeSpec>();
  copy->variables = variables;
  copy->pattern_sql = pattern_sql;
  copy->program = program;
  auto clone_expression = [](const MatchExpression& expression) {
    MatchExpression cloned;
    for (const MatchReference& reference : expression.references) {
      cloned.references.push_back(
          {reference.kind, reference.variable, reference.offset, reference.value->Clone()});
    }
    cloned.expression = expression.expression->Clone();
    return cloned;
  };
  for (const auto& definition : definitions) {
    copy->definitions.push_back(
        definition ? std::make_unique<MatchExpression>(clone_expression(*definition)) : nullptr);
  }
  for (const MatchExpression& measure : measures)
    copy->measures.push_back(clone_expression(measure));
  copy->within_ms = within_ms;
  copy->skip_to_next_row = skip_to_next_row;
  copy->rows_before = rows_before;
  return copy;
}

int Schema::Find(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string Schema::ToString() const {
  std::string text;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) text += ", ";
    text += "`" + columns[i].name + "` " + columns[i].type.ToString();
    if (columns[i].role == catalog::ColumnRole::kKey) text += " KEY";
    if (columns[i].role == catalog::ColumnRole::kHeader) text += " HEADERS";
  }
  return text;
}

const char* LogicalOperatorKindName(LogicalOperatorKind kind) {
  switch (kind) {
    case LogicalOperatorKind::kScan:
      return "Scan";
    case LogicalOperatorKind::kFilter:
      return "Filter";
    case LogicalOperatorKind::kProject:
      return "Project";
    case LogicalOperatorKind::kRepartition:
      return "Repartition";
    case LogicalOperatorKind::kAggregate:
      return "Aggregate";
    case LogicalOperatorKind::kJoin:
      return "Join";
    case LogicalOperatorKind::kSink:
      return "Sink";
    case LogicalOperatorKind::kMatchRecognize:
      return "MatchRecognize";
    case LogicalOperatorKind::kFlatMap:
      return "FlatMap";
  }
  return "?";
}

std::string LogicalOperator::ToString(int indent) const {
  std::string line(static_cast<size_t>(indent) * 2, ' ');
  line += LogicalOperatorKindName(kind);
  switch (kind) {
    case LogicalOperatorKind::kScan:
    case LogicalOperatorKind::kSink:
      line += " " + source.name + " (" + SourceTarget(source) + ")";
      if (insert_into) line += " INSERT";
      break;
    case LogicalOperatorKind::kFilter:
      line += " " + predicate->sql;
      break;
    case LogicalOperatorKind::kProject:
      line += " [";
      for (size_t i = 0; i < expressions.size(); ++i) {
        if (i > 0) line += ", ";
        line += output.columns[i].name + " := " + expressions[i]->sql;
      }
      line += "]";
      break;
    case LogicalOperatorKind::kFlatMap: {
      line += " [";
      const size_t first = output.columns.size() - expressions.size();
      for (size_t i = 0; i < expressions.size(); ++i) {
        line += (i > 0 ? ", " : "") + output.columns[first + i].name + " := " + expressions[i]->sql;
      }
      line += "]";
      break;
    }
    case LogicalOperatorKind::kRepartition:
      line += " by [";
      for (size_t i = 0; i < expressions.size(); ++i) {
        line += (i > 0 ? ", " : "") + expressions[i]->sql;
      }
      line += "]";
      break;
    case LogicalOperatorKind::kAggregate:
      line += " group by [";
      for (size_t i = 0; i < expressions.size(); ++i) {
        line += (i > 0 ? ", " : "") + expressions[i]->sql;
      }
      line += "]";
      if (window) line += " window " + WindowToString(*window);
      line += emit == sql::EmitMode::kFinal ? " emit FINAL" : " emit CHANGES";
      line += " aggregates [";
      for (size_t i = 0; i < aggregates.size(); ++i) {
        line += (i > 0 ? ", " : "") + aggregates[i].output_name + " := " + aggregates[i].call->sql;
      }
      line += "]";
      break;
    case LogicalOperatorKind::kJoin:
      line += std::string(" ") + JoinTypeName(join_type) + " on " + join_condition->sql;
      if (expressions.size() == 3) line += " foreign key, keyed by " + expressions[2]->sql;
      switch (foreign_key_step) {
        case ForeignKeyStep::kWhole:
          break;
        case ForeignKeyStep::kSubscribe:
          line += " (subscribing step)";
          break;
        case ForeignKeyStep::kRespond:
          line += " (responding step)";
          break;
        case ForeignKeyStep::kResolve:
          line += " (resolving step)";
          break;
      }
      if (within_before_ms) {
        line += " within (" + Milliseconds(*within_before_ms) + ", " +
                Milliseconds(within_after_ms.value_or(*within_before_ms)) + ")";
      }
      if (grace_ms) line += " grace " + Milliseconds(*grace_ms);
      break;
    case LogicalOperatorKind::kMatchRecognize:
      line += " partition by [";
      for (size_t i = 0; i < expressions.size(); ++i) {
        line += (i > 0 ? ", " : "") + expressions[i]->sql;
      }
      line += "] pattern " + match->pattern_sql;
      if (match->within_ms) line += " within " + Milliseconds(*match->within_ms);
      line += match->skip_to_next_row ? " skip to next row" : " skip past last row";
      line += " define [";
      {
        bool first = true;
        for (size_t v = 0; v < match->variables.size(); ++v) {
          if (!match->definitions[v]) continue;
          line += (first ? "" : ", ") + match->variables[v] +
                  " := " + match->definitions[v]->expression->sql;
          first = false;
        }
      }
      line += "] measures [";
      for (size_t i = 0; i < match->measures.size(); ++i) {
        line += (i > 0 ? ", " : "") + output.columns[expressions.size() + i].name +
                " := " + match->measures[i].expression->sql;
      }
      line += "]";
      break;
  }
  line += "\n" + std::string(static_cast<size_t>(indent) * 2 + 4, ' ') + "=> " + output.ToString();
  if (output.window_type != catalog::WindowType::kNone) {
    line += std::string(" WINDOWED ") + catalog::WindowTypeName(output.window_type);
  }
  line += "\n";
  for (const auto& child : children) line += child->ToString(indent + 1);
  return line;
}

}  // namespace sidestream::analyzer
