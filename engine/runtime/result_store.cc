#include "runtime/result_store.h"

namespace sidestream::runtime {

ResultStoreOperator::ResultStoreOperator(std::vector<size_t> key_columns,
                                         std::unique_ptr<KeyValueStore> store)
    : key_columns_(std::move(key_columns)),
      rows_(store ? std::move(store) : std::make_unique<InMemoryKeyValueStore>()) {}

Status ResultStoreOperator::Consume(RecordBatch& batch) {
  for (const Record& record : batch) {
    // Retractions only travel between a table and its re-grouping, never to this sink.
    if (record.retract || record.key_absent) continue;
    key_.resize(key_columns_.size());
    bool complete = true;
    for (size_t i = 0; i < key_columns_.size(); ++i) {
      if (key_columns_[i] >= record.row.size()) {
        complete = false;
        break;
      }
      key_[i] = record.row[key_columns_[i]];
    }
    if (!complete) continue;
    if (record.tombstone) {
      RETURN_NOT_OK(rows_->Erase(key_));
      continue;
    }
    bool inserted = false;
    ASSIGN_OR_RAISE(types::Row * row, rows_->Upsert(key_, inserted));
    *row = record.row;
    row->push_back(types::Value::Bigint(record.timestamp));
  }
  return next_->Consume(batch);
}

Status ResultStoreOperator::Flush() {
  RETURN_NOT_OK(rows_->Flush());
  return next_->Flush();
}

Status ResultStoreOperator::EmitStored(const std::vector<types::Row>* keys,
                                       const CallbackSink::Callback& visit) {
  Record record;
  auto emit = [&](const types::Row& stored) -> Status {
    if (stored.empty()) return Status::OK();
    record.row.assign(stored.begin(), stored.end() - 1);
    record.timestamp = stored.back().integer();
    return visit(record, nullptr);
  };
  if (keys != nullptr) {
    for (const types::Row& key : *keys) {
      ASSIGN_OR_RAISE(const types::Row* stored, rows_->Get(key));
      if (stored != nullptr) RETURN_NOT_OK(emit(*stored));
    }
    return Status::OK();
  }
  Status status;
  RETURN_NOT_OK(rows_->ForEach([&](const types::Row&, const types::Row& stored) {
    if (status.ok()) status = emit(stored);
  }));
  return status;
}

}  // namespace sidestream::runtime
