#pragma once

#include <memory>
#include <vector>

#include "expr/evaluator.h"
#include "runtime/operator.h"

namespace sidestream::runtime {

/// WHERE and HAVING: passes records whose predicate is TRUE (NULL and FALSE drop).
/// Over a table (HAVING, or WHERE on a table source) a row that no longer passes is
/// deleted downstream: it goes on as a tombstone, as in Kafka Streams' KTable filter.
/// Tombstones pass unevaluated. Stateless. A predicate that fails to evaluate drops the
/// record and counts it.
class FilterOperator : public Operator {
 public:
  FilterOperator(std::unique_ptr<expr::Evaluator> predicate, bool table)
      : predicate_(std::move(predicate)), table_(table) {}
  Status Consume(Record& record) override;
  int64_t evaluation_errors() const { return evaluation_errors_; }

 private:
  std::unique_ptr<expr::Evaluator> predicate_;
  bool table_;
  types::Value result_;
  int64_t evaluation_errors_ = 0;
};

/// SELECT: computes the output row from the input row. Stateless; keeps the record's
/// timestamp and window. A record whose expressions fail to evaluate is dropped and
/// counted (ksqlDB logs it to its processing log and moves on).
class ProjectOperator : public Operator {
 public:
  explicit ProjectOperator(std::vector<std::unique_ptr<expr::Evaluator>> expressions)
      : expressions_(std::move(expressions)) {}
  Status Consume(Record& record) override;
  int64_t evaluation_errors() const { return evaluation_errors_; }

 private:
  std::vector<std::unique_ptr<expr::Evaluator>> expressions_;
  Record output_;  // reused for every record
  int64_t evaluation_errors_ = 0;
};

}  // namespace sidestream::runtime
