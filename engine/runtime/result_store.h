#pragma once

#include <memory>
#include <vector>

#include "runtime/operator.h"
#include "runtime/state_store.h"

namespace sidestream::runtime {

/// Keeps the latest result row of each key of a table derived from a table without an
/// aggregation (CREATE TABLE t AS SELECT ... FROM table WHERE ...), so that pull queries can
/// read the table as ksqlDB's materialized CTAS: nothing else in such a topology holds its
/// results. It sits just before the topology's sink and passes every batch on unchanged.
/// State: result key (the values of `key_columns` of the result row) -> the result row, then
/// its ROWTIME. A tombstone (the source row deleted, or filtered out by the WHERE) erases the
/// key; a record without a key is not kept (ksqlDB drops it from its table too). At a commit
/// the store's Flush makes the writes durable (its changelog, or local disk).
/// Thread: the task's thread.
class ResultStoreOperator : public Operator {
 public:
  /// `store` holds the rows; in memory when null.
  ResultStoreOperator(std::vector<size_t> key_columns, std::unique_ptr<KeyValueStore> store);
  Status Consume(RecordBatch& batch) override;
  Status Flush() override;

  /// Pull queries: hands `visit` the stored rows (with their ROWTIME), or only those of
  /// `keys` (each the key columns' values) when given. Between Consume calls only.
  Status EmitStored(const std::vector<types::Row>* keys, const CallbackSink::Callback& visit);

 private:
  std::vector<size_t> key_columns_;
  std::unique_ptr<KeyValueStore> rows_;
  types::Row key_;  // reused per record
};

}  // namespace sidestream::runtime
