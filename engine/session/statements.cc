#include "session/statements.h"

#include <algorithm>

#include "planner/physical_plan.h"
#include "sql/parser.h"

namespace sidestream::session {

Result<std::optional<NewQuery>> ApplyStatement(const sql::Statement& statement,
                                               analyzer::AnalyzedStatement& analyzed,
                                               catalog::Catalog& catalog,
                                               analyzer::SessionProperties& session,
                                               std::string& message) {
  if (statement.kind == sql::StatementKind::kSet) {
    session[statement.property_name] = statement.property_value;
    message =
        "Set property '" + statement.property_name + "' to '" + statement.property_value + "'";
    return std::optional<NewQuery>();
  }
  if (statement.kind == sql::StatementKind::kUnset) {
    session.erase(statement.property_name);
    message = "Unset property '" + statement.property_name + "'";
    return std::optional<NewQuery>();
  }
  std::vector<std::string> before;
  for (const auto& query : catalog.ListQueries()) before.push_back(query.id);
  ASSIGN_OR_RAISE(message, analyzer::ApplyToCatalog(analyzed, catalog));
  if (!analyzed.plan || analyzed.plan->kind != analyzer::LogicalOperatorKind::kSink) {
    return std::optional<NewQuery>();
  }
  for (const auto& query : catalog.ListQueries()) {
    if (std::find(before.begin(), before.end(), query.id) != before.end()) continue;
    return std::optional<NewQuery>(
        NewQuery{query.id, std::move(analyzed.plan), analyzed.query_properties});
  }
  return std::optional<NewQuery>();  // IF NOT EXISTS on an existing sink: nothing started
}

Result<std::vector<NewQuery>> CompileQueries(std::string_view sql, catalog::Catalog& catalog) {
  ASSIGN_OR_RAISE(auto statements, sql::ParseScript(sql));
  std::vector<NewQuery> queries;
  analyzer::SessionProperties session;
  for (const auto& statement : statements) {
    analyzer::Analyzer analyzer(catalog, session);
    ASSIGN_OR_RAISE(auto analyzed, analyzer.Analyze(*statement));
    std::string message;
    ASSIGN_OR_RAISE(auto query, ApplyStatement(*statement, analyzed, catalog, session, message));
    if (!query) continue;
    // One stage in one process: re-keying needs no topic here.
    RETURN_NOT_OK(planner::AssignStores(*query->plan).status());
    queries.push_back(std::move(*query));
  }
  if (queries.empty()) return Status::InvalidArgument("the script starts no persistent query");
  return queries;
}

Result<NewQuery> CompileLastQuery(std::string_view sql, catalog::Catalog& catalog) {
  ASSIGN_OR_RAISE(auto queries, CompileQueries(sql, catalog));
  return std::move(queries.back());
}

}  // namespace sidestream::session
