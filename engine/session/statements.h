#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/analyzer.h"
#include "analyzer/logical_plan.h"
#include "catalog/catalog.h"
#include "common/status.h"
#include "sql/ast.h"

namespace sidestream::session {

/// A persistent query that a statement created.
struct NewQuery {
  std::string id;
  analyzer::LogicalOperatorPtr plan;              // ends in a Sink
  std::map<std::string, std::string> properties;  // session properties, then WITH properties
};

/// Applies an analyzed statement to the catalog (analyzer::ApplyToCatalog) or, for SET and
/// UNSET, to `session`; sets `message`, and returns the query it created, if any (CREATE ...
/// AS SELECT, INSERT INTO). The query's properties are the session's, overridden by the
/// statement's WITH properties. Takes the plan out of `analyzed`.
Result<std::optional<NewQuery>> ApplyStatement(const sql::Statement& statement,
                                               analyzer::AnalyzedStatement& analyzed,
                                               catalog::Catalog& catalog,
                                               analyzer::SessionProperties& session,
                                               std::string& message);

/// Runs a script's statements against `catalog` and returns the persistent queries they
/// started, in order (InvalidArgument if none), each planned to run as one stage in one
/// process (re-keying needs no topic there): for tests and benchmarks that drive
/// StreamTasks directly.
Result<std::vector<NewQuery>> CompileQueries(std::string_view sql, catalog::Catalog& catalog);
/// The last of them.
Result<NewQuery> CompileLastQuery(std::string_view sql, catalog::Catalog& catalog);

}  // namespace sidestream::session
