#pragma once

#include <memory>
#include <unordered_set>
#include <vector>

#include "expr/evaluator.h"
#include "runtime/operator.h"

namespace sidestream::runtime {

/// Where a filter sits, which decides what it does with rows that do not pass.
enum class FilterContext {
  kStream,  // WHERE on a stream: such rows drop, and so do tombstones (null values)
  kTable,   // WHERE on a table source: such rows go on as tombstones; tombstones pass
  kHaving,  // HAVING over an Aggregate's updates, or WHERE over a table-table join's: see
            // FilterOperator
};

/// WHERE and HAVING: passes records whose predicate is TRUE (NULL and FALSE drop).
/// On a stream, a tombstone (a record with a null value) has no row to test and drops,
/// as in ksqlDB. Over a table source a row that no longer passes is deleted downstream: it
/// goes on as a tombstone, as in Kafka Streams' KTable filter, and tombstones pass.
/// HAVING sees the Aggregate's updates with their old values (Kafka Streams sends them for
/// aggregations): a failing row, or a tombstone, deletes its group downstream only if the
/// group's previous row passed; otherwise there is nothing to delete and it drops. WHERE over
/// a table-table join's result works the same way (Kafka Streams sends old values there too).
/// State: for kHaving, the groups (the `group_columns` values from `group_offset`, and the
/// window) whose last row passed; otherwise none. A predicate that fails to evaluate drops the
/// record and counts it.
class FilterOperator : public Operator {
 public:
  FilterOperator(std::unique_ptr<expr::Evaluator> predicate, FilterContext context,
                 size_t group_columns = 0, size_t group_offset = 0)
      : predicate_(std::move(predicate)),
        context_(context),
        group_columns_(group_columns),
        group_offset_(group_offset) {}
  Status Consume(RecordBatch& batch) override;
  /// Records that failed the predicate's evaluation, and failures it turned into NULL.
  int64_t evaluation_errors() const { return evaluation_errors_ + predicate_->nested_errors(); }

 private:
  // Whether `record` goes on (possibly turned into a tombstone).
  bool Keep(Record& record);
  // HAVING: records `passed` for the record's group; true if the group's previous row passed.
  bool UpdatePassing(const Record& record, bool passed);

  std::unique_ptr<expr::Evaluator> predicate_;
  FilterContext context_;
  size_t group_columns_;
  size_t group_offset_;
  // Group values, then the window's start and end when windowed.
  std::unordered_set<types::Row, types::RowHash, types::RowEqual> passing_;
  types::Row group_;
  types::Value result_;
  int64_t evaluation_errors_ = 0;
};

/// SELECT: computes the output row from the input row. Stateless; keeps the record's
/// timestamp and window. An expression that fails to evaluate is counted and gives NULL,
/// as in ksqlDB (which logs it to its processing log): the row is still emitted.
class ProjectOperator : public Operator {
 public:
  explicit ProjectOperator(std::vector<std::unique_ptr<expr::Evaluator>> expressions)
      : expressions_(std::move(expressions)) {}
  Status Consume(RecordBatch& batch) override;
  /// Expressions that failed, whether they gave NULL here or inside the expression.
  int64_t evaluation_errors() const;

 private:
  std::vector<std::unique_ptr<expr::Evaluator>> expressions_;
  RecordBatch output_;  // reused for every batch
  int64_t evaluation_errors_ = 0;
};

}  // namespace sidestream::runtime
