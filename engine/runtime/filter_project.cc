#include "runtime/filter_project.h"

#include <algorithm>

namespace sidestream::runtime {

Status FilterOperator::Consume(Record& record) {
  if (record.tombstone) {
    if (context_ == FilterContext::kStream) return Status::OK();
    if (context_ == FilterContext::kHaving && !UpdatePassing(record, false)) return Status::OK();
    return next_->Consume(record);
  }
  if (!predicate_->Evaluate(record.row, result_).ok()) {
    ++evaluation_errors_;
    return Status::OK();
  }
  bool passed = !result_.is_null() && result_.boolean();
  switch (context_) {
    case FilterContext::kStream:
      if (!passed) return Status::OK();
      break;
    case FilterContext::kTable:
      if (!passed) record.tombstone = true;
      break;
    case FilterContext::kHaving:
      if (!UpdatePassing(record, passed) && !passed) return Status::OK();
      if (!passed) record.tombstone = true;
      break;
  }
  return next_->Consume(record);
}

bool FilterOperator::UpdatePassing(const Record& record, bool passed) {
  group_.assign(record.row.begin(),
                record.row.begin() + std::min(group_columns_, record.row.size()));
  if (record.window) {
    group_.push_back(types::Value::Bigint(record.window->start));
    group_.push_back(types::Value::Bigint(record.window->end));
  }
  if (passed) return !passing_.insert(group_).second;
  return passing_.erase(group_) > 0;
}

Status ProjectOperator::Consume(Record& record) {
  output_.row.resize(expressions_.size());
  for (size_t i = 0; i < expressions_.size(); ++i) {
    if (!expressions_[i]->Evaluate(record.row, output_.row[i]).ok()) {
      ++evaluation_errors_;
      output_.row[i] = types::Value();
    }
  }
  output_.timestamp = record.timestamp;
  output_.partition = record.partition;
  output_.offset = record.offset;
  output_.tombstone = record.tombstone;
  output_.window = record.window;
  return next_->Consume(output_);
}

int64_t ProjectOperator::evaluation_errors() const {
  int64_t total = evaluation_errors_;
  for (const auto& expression : expressions_) total += expression->nested_errors();
  return total;
}

}  // namespace sidestream::runtime
