#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "types/sql_type.h"

/// The abstract syntax tree of Sidestream SQL. The parser glue builds it from ANTLR's
/// parse tree; nothing after the parser sees ANTLR types. Nodes own their children
/// through unique_ptr. Identifiers are stored as written after ksqlDB's rule:
/// unquoted identifiers are upper-cased, quoted (`x` or "x") identifiers keep their case.
namespace sidestream::sql {

// ---------------------------------------------------------------- literals

enum class LiteralKind { kNull, kBoolean, kInteger, kDecimal, kDouble, kString, kBytes };

/// A literal as written. Integers that do not fit in 64 bits are a syntax error;
/// those that fit in 32 bits are typed INT, else BIGINT (ksqlDB's rule).
/// Numbers with a decimal point are DECIMAL; with an exponent, DOUBLE.
struct Literal {
  LiteralKind kind = LiteralKind::kNull;
  bool boolean_value = false;
  int64_t integer_value = 0;
  double double_value = 0;
  std::string text;  // the string's contents (unescaped), or the number as written
};

// ---------------------------------------------------------------- expressions

enum class ExpressionKind {
  kLiteral,         // literal
  kColumnRef,       // [qualifier.]name
  kUnary,           // op child0: "-", "+", "NOT"
  kBinary,          // child0 op child1: + - * / % || = <> < <= > >= AND OR
  kFunctionCall,    // name(children...), COUNT(*) has star = true and no children
  kCase,            // searched: children = when0, then0, when1, then1, ..., [else]
                    // simple (has_operand): children = operand, when0, then0, ..., [else]
  kCast,            // CAST(child0 AS cast_type)
  kLike,            // child0 [NOT] LIKE child1 [ESCAPE child2]
  kBetween,         // child0 [NOT] BETWEEN child1 AND child2
  kInList,          // child0 [NOT] IN (child1, ...)
  kIsNull,          // child0 IS [NOT] NULL
  kIsDistinctFrom,  // child0 IS [NOT] DISTINCT FROM child1
  kSubscript,       // child0[child1]
  kDereference,     // child0->name
  kArray,           // ARRAY[children...]
  kMap,             // MAP(k0 := v0, ...): children = k0, v0, k1, v1, ...
  kStruct,          // STRUCT(name0 := v0, ...): field_names and children
  kLambda,          // (p0, p1) => child0: field_names hold the parameters
  kInterval,        // INTERVAL 'n' UNIT or n UNIT inside WATERMARK; literal holds ms
};

/// One expression node. A flat node keeps the parser and the analyzer simple;
/// `kind` says which fields are meaningful (see ExpressionKind).
struct Expression {
  ExpressionKind kind = ExpressionKind::kLiteral;
  SourceLocation location;
  std::string text;       // the SQL text this node spans, as written (for messages)
  std::string name;       // column, function or field name; the operator for kUnary/kBinary
  std::string qualifier;  // source name or alias of a column reference
  Literal literal;
  types::SqlType cast_type;      // kCast
  std::string cast_custom_type;  // kCast to a CREATE TYPE name; cast_type unset then
  bool negated = false;          // NOT LIKE, NOT BETWEEN, NOT IN, IS NOT NULL, IS NOT DISTINCT
  bool star = false;             // COUNT(*), or COUNT(A.*) with `qualifier` A
  bool has_operand = false;      // simple CASE
  std::vector<std::string> field_names;  // kStruct field names, kLambda parameters
  std::vector<std::unique_ptr<Expression>> children;

  /// Canonical SQL for this expression, ksqlDB's way: upper-case keywords,
  /// identifiers as stored, e.g. "(A + 1)". Used for plan printing and GROUP BY matching.
  std::string ToSql() const;
  std::unique_ptr<Expression> Clone() const;
};

using ExpressionPtr = std::unique_ptr<Expression>;

// ---------------------------------------------------------------- SELECT

/// One item of a SELECT list: an expression with an optional alias, or `*` / `src.*`.
struct SelectItem {
  SourceLocation location;
  bool star = false;
  std::string star_qualifier;  // "L" for L.*; empty for *
  bool struct_all = false;     // `expression->*`: every field of a STRUCT, one item each
  ExpressionPtr expression;    // null when star
  std::string alias;           // empty when not given
};

enum class JoinType { kInner, kLeft, kRight, kFull };

/// A named relation in FROM or JOIN: `source [AS alias]`.
struct Relation {
  SourceLocation location;
  std::string name;
  std::string alias;  // empty when not given
};

/// `JOIN right WITHIN (before, after) GRACE PERIOD g ON condition`.
struct Join {
  SourceLocation location;
  JoinType type = JoinType::kInner;
  Relation right;
  std::optional<int64_t> within_before_ms;  // set when WITHIN is given
  std::optional<int64_t> within_after_ms;
  std::optional<int64_t> grace_ms;
  ExpressionPtr condition;
};

enum class WindowKind { kTumbling, kHopping, kSession };

/// `WINDOW TUMBLING|HOPPING|SESSION (...)`. All durations in milliseconds.
struct WindowSpec {
  SourceLocation location;
  WindowKind kind = WindowKind::kTumbling;
  int64_t size_ms = 0;  // the gap for SESSION
  std::optional<int64_t> advance_ms;
  std::optional<int64_t> grace_ms;
  std::optional<int64_t> retention_ms;
};

enum class EmitMode { kNone, kChanges, kFinal };

// ---------------------------------------------------------------- MATCH_RECOGNIZE

enum class PatternKind { kVariable, kConcatenation, kAlternation };

/// A row pattern: a variable, a concatenation or an alternation of patterns, each with a
/// quantifier ({1,1} when none is written). `maximum` is -1 for an unbounded quantifier.
struct PatternTerm {
  PatternKind kind = PatternKind::kVariable;
  SourceLocation location;
  std::string variable;  // kVariable
  std::vector<std::unique_ptr<PatternTerm>> children;
  int64_t minimum = 1;
  int64_t maximum = 1;
  bool reluctant = false;  // `*?`, `+?`, `{n,m}?`: prefers fewer rows

  /// The pattern as written, canonically: "(A B+ (C | D){2,3}?)".
  std::string ToSql() const;
};

/// `name AS expression` in MEASURES, `variable AS condition` in DEFINE.
struct NamedExpression {
  SourceLocation location;
  std::string name;
  std::unique_ptr<Expression> expression;
};

enum class AfterMatchSkip { kPastLastRow, kToNextRow };

/// `FROM source MATCH_RECOGNIZE (...) [AS alias]` (Flink SQL's row pattern recognition).
/// ORDER BY is kept as written; the analyzer accepts ROWTIME only.
struct MatchRecognize {
  SourceLocation location;
  std::vector<ExpressionPtr> partition_by;
  std::vector<ExpressionPtr> order_by;
  std::vector<NamedExpression> measures;
  AfterMatchSkip after_match = AfterMatchSkip::kPastLastRow;
  std::unique_ptr<PatternTerm> pattern;
  SourceLocation pattern_location;
  std::optional<int64_t> within_ms;
  std::vector<NamedExpression> definitions;
  std::string alias;  // empty when not given
};

/// A SELECT query, as used by CREATE ... AS SELECT, INSERT INTO and push/pull queries.
struct Query {
  SourceLocation location;
  std::vector<SelectItem> select;
  Relation from;
  std::vector<Join> joins;
  std::unique_ptr<MatchRecognize> match_recognize;  // FROM source MATCH_RECOGNIZE (...)
  std::optional<WindowSpec> window;
  ExpressionPtr where;
  std::vector<ExpressionPtr> group_by;
  std::vector<ExpressionPtr> partition_by;
  ExpressionPtr having;
  EmitMode emit = EmitMode::kNone;
  std::optional<int64_t> limit;
};

// ---------------------------------------------------------------- statements

/// A property in a WITH (...) list. Keys are upper-cased.
struct Property {
  SourceLocation location;
  std::string key;
  Literal value;
};

enum class ColumnConstraint { kNone, kKey, kPrimaryKey, kHeaders };

/// A CREATE TYPE name used within a type, resolved by the analyzer: `path` leads to it from
/// the outer type (an ARRAY's element is 0, a MAP's key 0 and value 1, a STRUCT's field i;
/// empty for the whole type), where the parser left a NULL type in its place.
struct NamedTypeUse {
  std::vector<size_t> path;
  std::string name;
  SourceLocation location;
};

struct ColumnDefinition {
  SourceLocation location;
  std::string name;
  types::SqlType type;
  std::string custom_type;  // a CREATE TYPE name, resolved by the analyzer; type unset then
  std::vector<NamedTypeUse> nested_custom_types;  // CREATE TYPE names within `type`
  ColumnConstraint constraint = ColumnConstraint::kNone;
  std::string header_key;  // HEADER('key'); empty for HEADERS
};

/// `WATERMARK FOR column AS column - INTERVAL 'n' UNIT`.
struct WatermarkSpec {
  SourceLocation location;
  std::string column;
  int64_t delay_ms = 0;
};

enum class StatementKind {
  kCreateSource,    // CREATE [OR REPLACE] STREAM|TABLE [IF NOT EXISTS] name (cols) WITH (...)
  kCreateAsSelect,  // CREATE [OR REPLACE] STREAM|TABLE name [WITH (...)] AS SELECT ...
  kInsertInto,      // INSERT INTO name SELECT ...
  kInsertValues,    // INSERT INTO name (cols) VALUES (...)
  kSelect,          // a push (EMIT CHANGES) or pull query
  kCreateType,      // CREATE TYPE name AS type
  kDrop,            // DROP STREAM|TABLE|TYPE [IF EXISTS] name [DELETE TOPIC]
  kShow,            // SHOW|LIST STREAMS|TABLES|QUERIES|TOPICS|PROPERTIES|FUNCTIONS|TYPES [EXTENDED]
  kDescribe,        // DESCRIBE [EXTENDED] name | DESCRIBE FUNCTION name | DESCRIBE STREAMS|TABLES
  kExplain,         // EXPLAIN statement | EXPLAIN query_id
  kTerminate,       // TERMINATE query_id | TERMINATE ALL
  kPause,           // PAUSE query_id | PAUSE ALL
  kResume,          // RESUME query_id | RESUME ALL
  kSet,             // SET 'name' = 'value'
  kUnset,           // UNSET 'name'
  kCreateConnector,  // CREATE SINK|SOURCE CONNECTOR [IF NOT EXISTS] name WITH (...)
};

enum class SourceKind { kStream, kTable };

enum class ShowTarget {
  kStreams,
  kTables,
  kQueries,
  kTopics,
  kProperties,
  kFunctions,
  kTypes,
  kConnectors,
};

enum class DropTarget { kStream, kTable, kType, kConnector };

/// One statement. Like Expression, a flat node; `kind` says which fields are meaningful.
struct Statement {
  StatementKind kind = StatementKind::kSelect;
  SourceLocation location;
  std::string text;  // the statement's SQL text, without the trailing ';'

  // CREATE ..., INSERT, DROP, DESCRIBE, CREATE TYPE, CREATE CONNECTOR (properties keep the
  // keys as written, upper-cased like every WITH property)
  SourceKind source_kind = SourceKind::kStream;
  std::string name;
  SourceLocation name_location;
  bool or_replace = false;
  bool source_only = false;  // CREATE SOURCE STREAM|TABLE: read-only, no INSERT (ksqlDB)
  bool if_not_exists = false;
  bool if_exists = false;
  bool delete_topic = false;
  std::vector<ColumnDefinition> columns;  // CREATE source, INSERT VALUES column list
  std::vector<Property> properties;       // WITH (...)
  std::optional<WatermarkSpec> watermark;
  std::unique_ptr<Query> query;          // AS SELECT, INSERT INTO ... SELECT, SELECT
  std::vector<ExpressionPtr> values;     // INSERT VALUES
  types::SqlType type;                   // CREATE TYPE
  std::vector<NamedTypeUse> type_names;  // CREATE TYPE: the type names within `type`

  // SHOW / DESCRIBE / DROP
  ShowTarget show_target = ShowTarget::kStreams;
  DropTarget drop_target = DropTarget::kStream;
  bool extended = false;
  bool describe_function = false;
  bool describe_sources = false;    // DESCRIBE STREAMS|TABLES [EXTENDED]; show_target says which
  bool describe_connector = false;  // DESCRIBE CONNECTOR name
  bool source_connector = false;    // CREATE SOURCE CONNECTOR (refused: sinks only)

  // EXPLAIN, TERMINATE, PAUSE, RESUME
  std::unique_ptr<Statement> explained;  // EXPLAIN <statement>
  std::string query_id;                  // EXPLAIN id, TERMINATE|PAUSE|RESUME id
  bool all_queries = false;              // TERMINATE|PAUSE|RESUME ALL

  // SET / UNSET
  std::string property_name;
  std::string property_value;

  /// Looks up a WITH property by upper-case key; null when absent.
  const Property* FindProperty(const std::string& key) const;
};

using StatementPtr = std::unique_ptr<Statement>;

}  // namespace sidestream::sql
