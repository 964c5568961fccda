#pragma once

#include <cstdint>
#include <optional>
#include <string>

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
  std::optional<WindowBounds> window;
};

}  // namespace sidestream::runtime
