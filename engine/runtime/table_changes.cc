#include "runtime/table_changes.h"

namespace sidestream::runtime {

TableChangesOperator::TableChangesOperator(std::vector<size_t> key_columns,
                                           std::unique_ptr<KeyValueStore> store)
    : key_columns_(std::move(key_columns)),
      rows_(store ? std::move(store) : std::make_unique<InMemoryKeyValueStore>()) {}

Status TableChangesOperator::Consume(RecordBatch& batch) {
  output_.Clear();
  for (const Record& record : batch) {
    key_.resize(key_columns_.size());
    for (size_t i = 0; i < key_columns_.size(); ++i) key_[i] = record.row[key_columns_[i]];
    auto copy = [&](const types::Row& row, bool retract) {
      Record& change = output_.Append();
      change.row = row;  // reuses the buffers of earlier batches' records
      CopyAttributes(record, change);
      change.retract = retract;
      change.tombstone = false;
    };
    ASSIGN_OR_RAISE(const types::Row* previous, rows_->Get(key_));
    if (previous != nullptr) copy(*previous, /*retract=*/true);
    if (record.tombstone) {
      if (previous != nullptr) RETURN_NOT_OK(rows_->Erase(key_));
      continue;
    }
    bool inserted = false;
    ASSIGN_OR_RAISE(types::Row * row, rows_->Upsert(key_, inserted));
    *row = record.row;
    copy(record.row, /*retract=*/false);
  }
  return output_.empty() ? Status::OK() : next_->Consume(output_);
}

Status TableChangesOperator::Flush() {
  RETURN_NOT_OK(rows_->Flush());
  return next_->Flush();
}

}  // namespace sidestream::runtime
