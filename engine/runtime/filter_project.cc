#include "runtime/filter_project.h"

#include <algorithm>
#include <utility>

namespace sidestream::runtime {

Status FilterOperator::Consume(RecordBatch& batch) {
  // Compacts the batch in place: kept records move to the front, in order.
  size_t kept = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!Keep(batch[i])) continue;
    if (kept != i) std::swap(batch[kept], batch[i]);
    ++kept;
  }
  batch.Truncate(kept);
  return batch.empty() ? Status::OK() : next_->Consume(batch);
}

bool FilterOperator::Keep(Record& record) {
  if (record.tombstone) {
    if (context_ == FilterContext::kStream) return false;
    return context_ != FilterContext::kHaving || UpdatePassing(record, false);
  }
  if (!predicate_->Evaluate(record.row, result_).ok()) {
    ++evaluation_errors_;
    return false;
  }
  bool passed = !result_.is_null() && result_.boolean();
  switch (context_) {
    case FilterContext::kStream:
      return passed;
    case FilterContext::kTable:
      break;
    case FilterContext::kHaving:
      if (!UpdatePassing(record, passed) && !passed) return false;
      break;
  }
  if (!passed) record.tombstone = true;
  return true;
}

bool FilterOperator::UpdatePassing(const Record& record, bool passed) {
  const size_t first = std::min(group_offset_, record.row.size());
  group_.assign(record.row.begin() + first,
                record.row.begin() + std::min(first + group_columns_, record.row.size()));
  if (record.window) {
    group_.push_back(types::Value::Bigint(record.window->start));
    group_.push_back(types::Value::Bigint(record.window->end));
  }
  if (passed) return !passing_.insert(group_).second;
  return passing_.erase(group_) > 0;
}

Status ProjectOperator::Consume(RecordBatch& batch) {
  output_.Clear();
  for (const Record& record : batch) {
    Record& output = output_.Append();
    output.row.resize(expressions_.size());
    // As in ksqlDB, an expression that fails gives NULL and the row is still written.
    for (size_t i = 0; i < expressions_.size(); ++i) {
      if (!expressions_[i]->Evaluate(record.row, output.row[i]).ok()) {
        ++evaluation_errors_;
        output.row[i].SetNull();
      }
    }
    CopyAttributes(record, output);
  }
  return output_.empty() ? Status::OK() : next_->Consume(output_);
}

int64_t ProjectOperator::evaluation_errors() const {
  int64_t total = evaluation_errors_;
  for (const auto& expression : expressions_) total += expression->nested_errors();
  return total;
}

}  // namespace sidestream::runtime
