#pragma once

#include <memory>
#include <string>
#include <vector>

#include "functions/function_registry.h"
#include "sql/ast.h"
#include "types/sql_type.h"

namespace sidestream::analyzer {

enum class BoundKind {
  kLiteral,
  kColumn,     // a column of the operator's input, by index
  kUnary,      // name: "-", "NOT"
  kBinary,     // name: "+", "-", "*", "/", "%", "||", "=", "<>", "<", "<=", ">", ">=", "AND", "OR"
  kFunction,   // scalar function call
  kAggregate,  // aggregate call; only inside an Aggregate operator's aggregate list
  kCase,       // searched CASE: children = when0, then0, ..., [else]; has_else says which
  kCast,
  kLike,  // child0 LIKE child1 [ESCAPE child2]
  kBetween,
  kInList,
  kIsNull,
  kIsDistinctFrom,
  kSubscript,
  kDereference,  // child0->name
  kArray,
  kMap,
  kStruct,          // field names in `field_names`
  kLambda,          // an argument of a higher-order function: field_names are the
                    // parameters, children[0] the body
  kLambdaVariable,  // name: a parameter of an enclosing lambda
};

/// A type-checked expression over one operator's input schema. Built by the analyzer
/// from the AST; evaluated by the runtime. `sql` is the canonical text (ksqlDB's form,
/// e.g. "(F1 * SUM(F2))"), used to match GROUP BY items and to print plans.
struct BoundExpression {
  BoundKind kind = BoundKind::kLiteral;
  types::SqlType type;
  std::string sql;
  std::string name;
  int column_index = -1;                                    // kColumn
  const functions::FunctionDefinition* function = nullptr;  // kFunction, kAggregate
  sql::Literal literal;                                     // kLiteral
  bool negated = false;
  bool has_else = false;
  bool star = false;  // COUNT(*)
  /// kCast: added by the binder to give a written literal the type it is compared with
  /// (ksqlDB's literal coercion in IN lists), not written by the user.
  bool implicit = false;
  std::vector<std::string> field_names;
  std::vector<std::unique_ptr<BoundExpression>> children;

  std::unique_ptr<BoundExpression> Clone() const;
  /// True when the expression (or a child) is an aggregate call.
  bool ContainsAggregate() const;
};

using BoundExpressionPtr = std::unique_ptr<BoundExpression>;

}  // namespace sidestream::analyzer
