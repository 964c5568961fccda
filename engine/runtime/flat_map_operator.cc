#include "runtime/flat_map_operator.h"

#include <algorithm>

namespace sidestream::runtime {

Status FlatMapOperator::Consume(RecordBatch& batch) {
  output_.Clear();
  for (const Record& record : batch) {
    if (record.tombstone) continue;
    size_t rows = 0;
    for (size_t c = 0; c < calls_.size(); ++c) {
      TableCall& call = calls_[c];
      std::vector<types::Value>& values = values_[c];
      values.clear();
      arguments_.resize(call.arguments.size());
      bool failed = false;
      for (size_t a = 0; a < call.arguments.size() && !failed; ++a) {
        failed = !call.arguments[a]->Evaluate(record.row, arguments_[a]).ok();
      }
      if (failed || !call.body(arguments_, values).ok()) {
        ++evaluation_errors_;
        values.clear();
      }
      rows = std::max(rows, values.size());
    }
    const size_t position = std::min(position_, record.row.size());
    for (size_t i = 0; i < rows; ++i) {
      Record& output = output_.Append();
      types::Row& row = output.row;
      row.resize(record.row.size() + calls_.size());
      std::copy(record.row.begin(), record.row.begin() + position, row.begin());
      for (size_t c = 0; c < calls_.size(); ++c) {
        if (i < values_[c].size()) {
          row[position + c] = values_[c][i];
        } else {
          row[position + c].SetNull();
        }
      }
      std::copy(record.row.begin() + position, record.row.end(),
                row.begin() + position + calls_.size());
      CopyAttributes(record, output);
      if (output_.size() == kMaxBatch) {
        RETURN_NOT_OK(next_->Consume(output_));
        output_.Clear();
      }
    }
  }
  return output_.empty() ? Status::OK() : next_->Consume(output_);
}

int64_t FlatMapOperator::evaluation_errors() const {
  int64_t total = evaluation_errors_;
  for (const TableCall& call : calls_) {
    for (const auto& argument : call.arguments) total += argument->nested_errors();
  }
  return total;
}

}  // namespace sidestream::runtime
