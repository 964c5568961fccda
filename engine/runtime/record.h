#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "types/value.h"

namespace sidestream::runtime {

/// The bounds of a window: [start, end) for time windows; for sessions, the first and
/// last record timestamps (both inclusive, ksqlDB's convention).
struct WindowBounds {
  int64_t start = 0;
  int64_t end = 0;

  friend bool operator==(const WindowBounds& a, const WindowBounds& b) {
    return a.start == b.start && a.end == b.end;
  }
};

/// A record flowing between operators: the values of the operator's input schema in
/// order (key columns, value columns, then pseudo columns), and its event time.
struct Record {
  types::Row row;
  int64_t timestamp = 0;  // ROWTIME: event time in ms
  int32_t partition = 0;
  int64_t offset = 0;
  bool tombstone = false;  // a table row deleted (only key columns are meaningful)
  /// The row undoes an earlier row's contribution (a table update's old value, see
  /// TableChangesOperator) instead of adding one.
  bool retract = false;
  std::optional<WindowBounds> window;
  /// The input message had no key. ksqlDB passes that null key through a query that does not
  /// re-key, so a sink keeping the source's key writes none even for a multi-column key.
  bool key_absent = false;
  /// The task's stream time once this record arrived (set by the Topology): operators
  /// that close windows advance to it before applying the record.
  int64_t stream_time = INT64_MIN;
  /// The position of the input message this record came from in the pipeline's batch,
  /// so a late record can be written out as it arrived.
  uint32_t input_index = 0;
};

/// Copies all but the row: for an operator that computes a new row for a record.
inline void CopyAttributes(const Record& from, Record& to) {
  to.timestamp = from.timestamp;
  to.partition = from.partition;
  to.offset = from.offset;
  to.tombstone = from.tombstone;
  to.retract = from.retract;
  to.window = from.window;
  to.key_absent = from.key_absent;
  to.stream_time = from.stream_time;
  to.input_index = from.input_index;
}

/// The records one operator hands the next. Cleared records keep their buffers (rows and
/// their strings), so a batch refilled with records of similar shape allocates nothing.
/// Thread: one task thread.
class RecordBatch {
 public:
  /// A record to fill in: reused storage, fields as the last user left them.
  Record& Append() {
    if (size_ == records_.size()) records_.emplace_back();
    return records_[size_++];
  }
  /// Drops the record most recently appended (it turned out not to be one).
  void PopBack() { --size_; }
  /// Keeps the first `size` records.
  void Truncate(size_t size) { size_ = size; }
  void Clear() { size_ = 0; }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Record& operator[](size_t i) { return records_[i]; }
  const Record& operator[](size_t i) const { return records_[i]; }
  Record* begin() { return records_.data(); }
  Record* end() { return records_.data() + size_; }

 private:
  std::vector<Record> records_;
  size_t size_ = 0;
};

}  // namespace sidestream::runtime
