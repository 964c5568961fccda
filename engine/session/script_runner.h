#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analyzer/analyzer.h"
#include "catalog/catalog.h"
#include "common/status.h"

/// Runs SQL scripts through the front end: parse, analyze, apply to the catalog.
namespace sidestream::session {

/// What one statement did.
struct StatementOutcome {
  std::string text;     // the statement's SQL
  std::string message;  // "Created stream CDR"; empty when nothing changed
  std::string plan;     // the logical plan, for statements that have one
  /// For a statement that starts a persistent query: its physical plan (stages, internal
  /// topics, stores, decoded columns), or why it cannot run.
  std::string physical_plan;
};

/// Runs statements in order against one catalog, so later statements see the sources
/// earlier ones created. Stops at the first error.
/// Thread: one caller at a time. Ownership: references the catalog, which must outlive it.
class ScriptRunner {
 public:
  explicit ScriptRunner(catalog::Catalog& catalog) : catalog_(catalog) {}

  /// Runs every statement of `sql`. On error, returns the Status of the failing
  /// statement; the statements before it have taken effect.
  Result<std::vector<StatementOutcome>> Run(std::string_view sql);

  /// Parses and analyzes one statement, applying it to the catalog.
  Result<StatementOutcome> RunStatement(const sql::Statement& statement);

 private:
  catalog::Catalog& catalog_;
};

/// The plan text for EXPLAIN: the analyzed statement's logical plan, or a one-line
/// description for statements without one.
std::string DescribePlan(const analyzer::AnalyzedStatement& statement);

}  // namespace sidestream::session
