#pragma once

#include <memory>

#include "analyzer/bound_expression.h"
#include "common/status.h"
#include "types/value.h"

/// Runtime evaluation of bound (type-checked) expressions.
namespace sidestream::expr {

/// Evaluates one bound expression against rows of its input schema, with SQL's NULL
/// semantics and ksqlDB's results (integer arithmetic wraps like Java's, division by
/// zero gives NULL, ...). Compiled once per query; Evaluate runs per record and must not
/// allocate for scalar results.
/// Thread-safety: Evaluate is const but writes per-node scratch values, so one Evaluator
/// instance serves one thread at a time; compile one per task.
class Evaluator {
 public:
  /// Builds an evaluator; NotSupported for functions or expressions not implemented yet
  /// (the message names them).
  static Result<std::unique_ptr<Evaluator>> Compile(const analyzer::BoundExpression& expression);
  virtual ~Evaluator() = default;

  /// Writes the value of the expression for `row` into `out`. Returns InvalidArgument for
  /// a failure the user should see (e.g. PARSE_DATE('x', 'yyyy')); the caller counts it and decides
  /// what happens to the record. As in ksqlDB, a failing CAST, a failing function call or field
  /// access given to a function, and a failing part of ARRAY[...], MAP(...) or STRUCT(...)
  /// give NULL instead (so IFNULL(CAST(s AS INT), 0) works); they are counted in
  /// nested_errors().
  virtual Status Evaluate(const types::Row& row, types::Value& out) const = 0;
  /// How many failures Evaluate turned into NULL so far.
  virtual int64_t nested_errors() const = 0;
};

}  // namespace sidestream::expr
