#pragma once

#include <memory>
#include <vector>

#include "expr/evaluator.h"
#include "functions/table_functions.h"
#include "runtime/operator.h"

namespace sidestream::runtime {

/// One table function call of a FlatMap: its body and its argument expressions.
struct TableCall {
  functions::TableFunctionBody body = nullptr;
  std::vector<std::unique_ptr<expr::Evaluator>> arguments;
};

/// Table functions (EXPLODE, CUBE_EXPLODE; ksqlDB's KudtfFlatMapper): each input record
/// becomes as many records as its longest call produces. Output row i is the input row with
/// each call's i-th value inserted at `position` (before the pseudo columns), NULL for a call
/// that produced fewer; a record for which every call produces nothing (a NULL or empty
/// array) drops. A call whose argument or body fails is counted and produces nothing, as
/// ksqlDB logs it and goes on. Tombstones (records with no value) drop.
/// Stateless; output goes downstream in batches of at most kMaxBatch records, so a huge
/// array does not hold its every row at once. Thread: the task's.
class FlatMapOperator : public Operator {
 public:
  static constexpr size_t kMaxBatch = 1024;

  FlatMapOperator(size_t position, std::vector<TableCall> calls)
      : position_(position), calls_(std::move(calls)), values_(calls_.size()) {}
  Status Consume(RecordBatch& batch) override;
  /// Calls that failed, and failures the argument expressions turned into NULL.
  int64_t evaluation_errors() const;

 private:
  size_t position_;
  std::vector<TableCall> calls_;
  std::vector<std::vector<types::Value>> values_;  // per call: this record's rows
  std::vector<types::Value> arguments_;
  RecordBatch output_;  // reused for every batch
  int64_t evaluation_errors_ = 0;
};

}  // namespace sidestream::runtime
