#pragma once

#include <memory>
#include <vector>

#include "runtime/operator.h"
#include "runtime/state_store.h"

namespace sidestream::runtime {

/// Turns a table's updates into the changes a re-grouping needs, as Kafka Streams'
/// KTable.groupBy does: each update first retracts the key's previous row (a record with
/// `retract` set and the old values), then adds the new row; a tombstone only retracts.
/// The rows then may be re-keyed, shuffled through a repartition topic, and aggregated
/// by another task, which undoes retracted rows and adds the others.
/// State: the last row of each table key (the values at `key_columns`: a source table's
/// leading key columns, or a table-table join's key, its last column).
class TableChangesOperator : public Operator {
 public:
  /// `store` holds the last rows; in memory when null.
  TableChangesOperator(std::vector<size_t> key_columns,
                       std::unique_ptr<KeyValueStore> store = nullptr);
  Status Consume(RecordBatch& batch) override;
  Status Flush() override;

 private:
  std::vector<size_t> key_columns_;
  std::unique_ptr<KeyValueStore> rows_;  // table key -> last row
  types::Row key_;                       // reused per record
  RecordBatch output_;
};

}  // namespace sidestream::runtime
