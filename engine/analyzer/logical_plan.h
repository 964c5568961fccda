#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analyzer/bound_expression.h"
#include "catalog/catalog.h"
#include "sql/ast.h"

namespace sidestream::analyzer {

/// One column of an operator's output.
struct LogicalColumn {
  std::string name;
  types::SqlType type;
  catalog::ColumnRole role = catalog::ColumnRole::kValue;
};

/// An operator's output columns: key columns first, then value columns.
struct Schema {
  std::vector<LogicalColumn> columns;
  catalog::WindowType window_type = catalog::WindowType::kNone;  // windowed key

  /// Index of the column called `name`, or -1.
  int Find(const std::string& name) const;
  /// "`ID` BIGINT KEY, `V` STRING", ksqlDB's way of printing a schema.
  std::string ToString() const;
};

enum class LogicalOperatorKind {
  kScan,         // reads a stream or table
  kFilter,       // WHERE or HAVING
  kProject,      // SELECT list
  kRepartition,  // PARTITION BY, or re-keying before GROUP BY on non-key columns
  kAggregate,    // GROUP BY with optional window
  kJoin,
  kSink,            // writes to a stream or table
  kMatchRecognize,  // MATCH_RECOGNIZE: row patterns per partition, one row per match
  kFlatMap,         // table functions (EXPLODE): any number of rows per input row
};

const char* LogicalOperatorKindName(LogicalOperatorKind kind);

/// One aggregate call computed by an Aggregate operator.
struct AggregateCall {
  std::string output_name;  // KSQL_AGG_VARIABLE_n
  BoundExpressionPtr call;  // kind kAggregate; children are over the aggregate's input
};

// ---------------------------------------------------------------- MATCH_RECOGNIZE

/// One step of a compiled row pattern, run as a Pike VM: threads in preference order.
struct PatternInstruction {
  enum class Op {
    kRow,    // the current row must satisfy `variable`'s DEFINE; then the next instruction
    kSplit,  // continue at `next` (preferred) and at `alternative`
    kJump,   // continue at `next`
    kMatch,  // a complete match
  };
  Op op = Op::kMatch;
  int variable = -1;
  int next = -1;
  int alternative = -1;
};

enum class MatchReferenceKind {
  kLast,       // LAST(X.e, n), X.e (n = 0); no variable: every row of the match
  kFirst,      // FIRST(X.e, n)
  kPrevious,   // PREV(X.e, n): n rows before LAST(X.e), in the partition's row order
  kAggregate,  // SUM(X.e), COUNT(X.*), ...: over the rows mapped to X (every row without X)
};

/// A value a MATCH_RECOGNIZE expression reads from the rows of a (partial) match.
struct MatchReference {
  MatchReferenceKind kind = MatchReferenceKind::kLast;
  int variable = -1;  // index into MatchRecognizeSpec::variables; -1 for every row
  int64_t offset = 0;
  /// Over the input row: the navigated expression, or (kAggregate) the aggregate call.
  BoundExpressionPtr value;
};

/// A DEFINE condition or a measure: `expression` reads a row holding the references' values.
struct MatchExpression {
  std::vector<MatchReference> references;
  BoundExpressionPtr expression;
};

/// What a MatchRecognize operator computes (Flink SQL's MATCH_RECOGNIZE, ONE ROW PER MATCH).
struct MatchRecognizeSpec {
  std::vector<std::string> variables;
  std::string pattern_sql;
  std::vector<PatternInstruction> program;  // starts at instruction 0
  /// Per variable: its DEFINE condition; null when it has none (every row qualifies).
  std::vector<std::unique_ptr<MatchExpression>> definitions;
  std::vector<MatchExpression> measures;
  std::optional<int64_t> within_ms;
  bool skip_to_next_row = false;  // else AFTER MATCH SKIP PAST LAST ROW
  /// The largest PREV offset: rows kept before a match's first row.
  int64_t rows_before = 0;

  std::unique_ptr<MatchRecognizeSpec> Clone() const;
};

/// A node of the typed logical plan. Flat like the AST: `kind` says which fields apply.
/// Expressions of an operator are bound against its first child's output schema
/// (for a join: the left schema followed by the right schema).
struct LogicalOperator {
  LogicalOperatorKind kind = LogicalOperatorKind::kScan;
  Schema output;
  std::vector<std::unique_ptr<LogicalOperator>> children;

  // kScan, kSink
  catalog::SourceDescription source;

  // kFilter
  BoundExpressionPtr predicate;

  // kProject: one expression per output column; kRepartition: the new key expressions;
  // kAggregate: the group-by expressions
  std::vector<BoundExpressionPtr> expressions;

  // kAggregate
  std::vector<AggregateCall> aggregates;
  std::optional<sql::WindowSpec> window;  // with grace and retention resolved
  sql::EmitMode emit = sql::EmitMode::kChanges;

  // kJoin: left input's row, right input's row (each with its pseudo columns), join key.
  // `expressions`: the left and right key expressions over the output layout (each reads its
  // own side), and for a foreign-key join a third: the left table's key (the result's key).
  sql::JoinType join_type = sql::JoinType::kInner;
  BoundExpressionPtr join_condition;
  int left_width = 0;  // columns of the left input's rows
  bool left_table = false;
  bool right_table = false;
  std::optional<int64_t> within_before_ms;
  std::optional<int64_t> within_after_ms;
  std::optional<int64_t> grace_ms;
  /// A foreign-key join on more than one partition runs in three stages (Kafka Streams'
  /// KIP-213, set by the planner): kSubscribe (the left table's stage: rows to the
  /// subscription topic, keyed by the foreign key; one child), kRespond (the right table's
  /// stage: children the subscription topic and the right table; answers to the response
  /// topic, keyed by the left key) and kResolve (reads the response topic, drops stale
  /// answers; one child). kWhole: the join runs in one operator.
  enum class ForeignKeyStep { kWhole, kSubscribe, kRespond, kResolve };
  ForeignKeyStep foreign_key_step = ForeignKeyStep::kWhole;

  // kFlatMap: `expressions` are the table function calls (over the input). The output is the
  // input's columns, then one KSQL_SYNTH_n column per call; in the row, those values go
  // before the input's pseudo columns (ROWTIME...), which move up by the number of calls.
  // Several calls zip: row i has each call's i-th value, NULL for a call that has fewer.

  // kMatchRecognize: `expressions` are the PARTITION BY columns (the output's key columns);
  // the output is those columns, the measures, then ROWTIME, ROWPARTITION and ROWOFFSET of
  // the match's last row (pseudo columns, not in `output`).
  std::unique_ptr<MatchRecognizeSpec> match;

  // kSink
  bool insert_into = false;
  /// kSink of a repartition topic (set by the planner): a row with a NULL grouping value is
  /// dropped there, as Kafka Streams drops a null key before repartitioning.
  bool repartition = false;
  /// kSink of a foreign-key join's subscription topic: a row with a NULL key is written
  /// without one (a left row with a NULL foreign key, answered by any partition).
  bool null_keys_travel = false;

  // Set by the planner (planner::PlanQuery, AssignStores), read by the runtime: the state
  // store of an Aggregate, the prefix of a Join's two stores ("-left", "-right"), and on the
  // lowest Repartition or Aggregate over a table, the store of the TableChanges operator the
  // runtime puts above it.
  std::string store_name;
  std::string table_changes_store;
  /// kSink of a CREATE TABLE AS SELECT over a table with no aggregation and no join: the store
  /// that keeps each key's latest result row (runtime::ResultStoreOperator), which pull
  /// queries read, as ksqlDB materializes such a table. Empty otherwise.
  std::string result_store;

  /// The plan as an indented tree, one operator per line (EXPLAIN's output).
  std::string ToString(int indent = 0) const;
};

using LogicalOperatorPtr = std::unique_ptr<LogicalOperator>;

}  // namespace sidestream::analyzer
