#include "session/script_runner.h"

#include <algorithm>

#include "planner/physical_plan.h"
#include "sql/parser.h"

namespace sidestream::session {

std::string DescribePlan(const analyzer::AnalyzedStatement& statement) {
  if (statement.explained) return DescribePlan(*statement.explained);
  if (statement.plan) return statement.plan->ToString();
  if (statement.new_source) {
    const auto& source = *statement.new_source;
    std::string text = std::string("Declare ") +
                       (source.type == catalog::SourceType::kTable ? "TABLE " : "STREAM ") +
                       source.name + " (topic " + source.topic + ", key " + source.key_format +
                       ", value " + source.value_format + ")\n";
    analyzer::Schema schema;
    for (const auto& column : source.columns) {
      schema.columns.push_back({column.name, column.type, column.role});
    }
    text += "    => " + schema.ToString() + "\n";
    return text;
  }
  return "";
}

Result<StatementOutcome> ScriptRunner::RunStatement(const sql::Statement& statement) {
  analyzer::Analyzer analyzer(catalog_);
  ASSIGN_OR_RAISE(auto analyzed, analyzer.Analyze(statement));
  StatementOutcome outcome;
  outcome.text = statement.text;
  outcome.plan = DescribePlan(analyzed);
  std::vector<std::string> before;
  for (const auto& query : catalog_.ListQueries()) before.push_back(query.id);
  ASSIGN_OR_RAISE(outcome.message, analyzer::ApplyToCatalog(analyzed, catalog_));
  if (!analyzed.plan || analyzed.plan->kind != analyzer::LogicalOperatorKind::kSink) {
    return outcome;
  }
  for (const auto& query : catalog_.ListQueries()) {
    if (std::find(before.begin(), before.end(), query.id) != before.end()) continue;
    auto physical = planner::PlanQuery(query.id, std::move(analyzed.plan), {});
    outcome.physical_plan =
        physical.ok() ? physical->ToString() : "Cannot run: " + physical.status().ToString() + "\n";
    break;
  }
  return outcome;
}

Result<std::vector<StatementOutcome>> ScriptRunner::Run(std::string_view sql) {
  ASSIGN_OR_RAISE(auto statements, sql::ParseScript(sql));
  std::vector<StatementOutcome> outcomes;
  for (const auto& statement : statements) {
    ASSIGN_OR_RAISE(auto outcome, RunStatement(*statement));
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

}  // namespace sidestream::session
