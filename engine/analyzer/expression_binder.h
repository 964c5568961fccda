#pragma once

#include <string>
#include <vector>

#include "analyzer/bound_expression.h"
#include "common/status.h"
#include "functions/function_registry.h"
#include "sql/ast.h"

namespace sidestream::analyzer {

/// A column visible to expressions: `qualifier.name` resolves to input column `index`.
struct ScopeColumn {
  std::string qualifier;  // source name or alias
  std::string name;
  types::SqlType type;
  int index = -1;
  bool pseudo = false;  // ROWTIME, WINDOWSTART, ...: not part of `*`
};

/// The columns an expression may reference. With several sources (a join), canonical SQL
/// qualifies column names.
struct Scope {
  std::vector<ScopeColumn> columns;
  bool qualify_names = false;
  /// Parameters of the lambdas being bound, innermost last; they hide columns.
  std::vector<std::pair<std::string, types::SqlType>> lambda_parameters;
};

/// Whether and how aggregate calls may appear in the clause being bound.
enum class AggregateRule { kAllowed, kForbiddenInWhere, kForbiddenInGroupBy, kForbiddenElsewhere };

/// Binds AST expressions of one clause ("SELECT", "WHERE", ...) to typed expressions.
/// Thread: any; holds references only, for the duration of one statement's analysis.
class ExpressionBinder {
 public:
  ExpressionBinder(const Scope& scope, const functions::FunctionRegistry& functions,
                   std::string clause, AggregateRule aggregates);

  /// Binds `expression`; errors carry its location and name the clause.
  Result<BoundExpressionPtr> Bind(const sql::Expression& expression) const;

 private:
  Result<BoundExpressionPtr> BindNode(const sql::Expression& expression,
                                      bool inside_aggregate) const;
  Result<BoundExpressionPtr> BindColumn(const sql::Expression& expression) const;
  Result<BoundExpressionPtr> BindFunction(const sql::Expression& expression,
                                          bool inside_aggregate) const;
  /// Binds a lambda argument of `function`, whose earlier arguments have `earlier_types`.
  Result<BoundExpressionPtr> BindLambda(const functions::FunctionDefinition& function,
                                        const sql::Expression& lambda,
                                        const std::vector<types::SqlType>& earlier_types,
                                        bool inside_aggregate) const;
  Result<BoundExpressionPtr> BindBinary(const sql::Expression& expression,
                                        std::vector<BoundExpressionPtr> children) const;

  const Scope& scope_;
  const functions::FunctionRegistry& functions_;
  std::string clause_;
  AggregateRule aggregates_;
};

/// The type of a literal: INT or BIGINT by size, DECIMAL(p, s) for "1.50", DOUBLE, ...
types::SqlType LiteralType(const sql::Literal& literal);

/// The literal as canonical SQL ('it''s', 1.5, TRUE, NULL).
std::string LiteralSql(const sql::Literal& literal);

}  // namespace sidestream::analyzer
