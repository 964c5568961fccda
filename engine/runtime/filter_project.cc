#include "runtime/filter_project.h"

namespace sidestream::runtime {

Status FilterOperator::Consume(Record& record) {
  if (record.tombstone) return next_->Consume(record);
  if (!predicate_->Evaluate(record.row, result_).ok()) {
    ++evaluation_errors_;
    return Status::OK();
  }
  if (result_.is_null() || !result_.boolean()) {
    if (!table_) return Status::OK();
    record.tombstone = true;
  }
  return next_->Consume(record);
}

Status ProjectOperator::Consume(Record& record) {
  output_.row.resize(expressions_.size());
  for (size_t i = 0; i < expressions_.size(); ++i) {
    if (!expressions_[i]->Evaluate(record.row, output_.row[i]).ok()) {
      ++evaluation_errors_;
      return Status::OK();
    }
  }
  output_.timestamp = record.timestamp;
  output_.partition = record.partition;
  output_.offset = record.offset;
  output_.tombstone = record.tombstone;
  output_.window = record.window;
  return next_->Consume(output_);
}

}  // namespace sidestream::runtime
