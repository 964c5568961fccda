#pragma once

#include <map>
#include <optional>
#include <string>

#include "analyzer/logical_plan.h"
#include "catalog/catalog.h"
#include "functions/function_registry.h"
#include "sql/ast.h"

/// The analyzer binds a parsed statement against the catalog: it resolves names,
/// infers and checks types, enforces the aggregation, GROUP BY, PARTITION BY and window
/// rules, names unnamed columns (KSQL_COL_n) and produces a typed logical plan.
namespace sidestream::analyzer {

/// Properties set by `SET 'name' = 'value'`, under ksqlDB's names. They apply to the
/// statements after the SET, and a persistent query keeps those it started with.
using SessionProperties = std::map<std::string, std::string>;

/// Whether property `name` is set to true (case-insensitive, as Kafka's config parser reads
/// booleans). For session properties and a query's WITH properties alike.
bool PropertyIsTrue(const std::map<std::string, std::string>& properties, const char* name);

/// "true": a stream's projection may leave out the key columns, and the result has no key
/// (ksqlDB's new query planner). Otherwise leaving them out is an error.
inline constexpr const char* kNewQueryPlannerProperty = "ksql.new.query.planner.enabled";

/// The key format of a source declared without KEY_FORMAT (when it has key columns) and of
/// a query's result whose sources have no key; KAFKA when unset.
inline constexpr const char* kDefaultKeyFormatProperty = "ksql.persistence.default.format.key";

/// The value format of a source declared without VALUE_FORMAT (or FORMAT); without it such a
/// statement is refused.
inline constexpr const char* kDefaultValueFormatProperty = "ksql.persistence.default.format.value";

/// "false" ("true"): a source or result with a single value column and no WRAP_SINGLE_VALUE
/// in its WITH clause reads and writes that column unwrapped (wrapped), where its value format
/// supports it (ksqlDB's ksql.persistence.wrap.single.values). Unset: wrapped.
inline constexpr const char* kWrapSingleValuesProperty = "ksql.persistence.wrap.single.values";

/// What a statement means, once checked. The AST it came from is not referenced.
struct AnalyzedStatement {
  sql::StatementKind kind = sql::StatementKind::kSelect;
  std::string text;  // the statement's SQL

  /// CREATE STREAM|TABLE (with or without AS SELECT): the source to register.
  std::optional<catalog::SourceDescription> new_source;
  bool or_replace = false;
  bool if_not_exists = false;

  /// CREATE ... AS SELECT, INSERT INTO ... SELECT, SELECT: the plan. Persistent queries
  /// end in a Sink; a SELECT ends in its Project (or Filter) and has no sink.
  LogicalOperatorPtr plan;
  std::string query_id_prefix;  // "CSAS_OUTPUT", "CTAS_OUTPUT", "INSERTQUERY"
  /// A persistent query's properties: the session's, overridden by its WITH clause. Kept in
  /// the catalog, so that a restart runs it as it was created.
  SessionProperties query_properties;
  bool pull_query = false;  // SELECT without EMIT CHANGES on a table

  /// CREATE TYPE, DROP, DESCRIBE, TERMINATE, EXPLAIN <id>: the object named.
  std::string target_name;
  types::SqlType type;  // CREATE TYPE
  bool if_exists = false;
  bool delete_topic = false;
  /// DROP ... DELETE TOPIC of a source: the topic to delete once the source is dropped.
  std::string topic_to_delete;
  /// DROP of a CREATE ... AS SELECT sink: its query, removed from the catalog with it.
  std::string writer_query_id;

  /// CREATE SINK CONNECTOR: the connector to register, its properties checked.
  std::optional<catalog::ConnectorDescription> new_connector;
  /// DROP CONNECTOR, DESCRIBE CONNECTOR: target_name is a connector.
  bool targets_connector = false;

  /// INSERT ... VALUES (target_name): each named column (ROWTIME too) with its bound value.
  std::vector<std::pair<std::string, BoundExpressionPtr>> insert_values;

  /// EXPLAIN <statement>: the analysis of the explained statement.
  std::unique_ptr<AnalyzedStatement> explained;
};

/// Binds statements against a catalog.
/// Thread-safety: Analyze is const and reads the catalog through its thread-safe API.
/// Ownership: references the catalog and registry; both must outlive the Analyzer.
class Analyzer {
 public:
  explicit Analyzer(const catalog::Catalog& catalog, const functions::FunctionRegistry& functions =
                                                         functions::FunctionRegistry::BuiltIns());
  Analyzer(const catalog::Catalog& catalog, SessionProperties properties);

  /// Checks one statement. Errors are BindError (or NotFound, InvalidArgument,
  /// NotSupported) with the line:column of the offending clause and a hint where one
  /// exists. Does not change the catalog: see ApplyToCatalog.
  Result<AnalyzedStatement> Analyze(const sql::Statement& statement) const;

 private:
  const catalog::Catalog& catalog_;
  const functions::FunctionRegistry& functions_;
  SessionProperties properties_;
};

/// Applies a checked statement's effect to the catalog: registers new sources, types
/// and persistent queries, and removes dropped ones. Returns a one-line message for the
/// user ("Created stream CDR", "Created query CSAS_OUT_0"). Statements without a catalog
/// effect (SELECT, SHOW, EXPLAIN, ...) return an empty message.
Result<std::string> ApplyToCatalog(const AnalyzedStatement& statement, catalog::Catalog& catalog);

}  // namespace sidestream::analyzer
