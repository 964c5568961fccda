#pragma once

#include <cstdint>
#include <vector>

#include "runtime/record.h"

namespace sidestream::runtime {

/// The time windows a timestamp falls in: one for TUMBLING, size/advance for HOPPING,
/// each [start, start + size), aligned to the epoch like Kafka Streams' windows.
/// Negative timestamps are floored correctly. `windows` is cleared first, so a caller
/// can reuse it per record without allocating.
void AssignTumbling(int64_t timestamp, int64_t size, std::vector<WindowBounds>& windows);
void AssignHopping(int64_t timestamp, int64_t size, int64_t advance,
                   std::vector<WindowBounds>& windows);

/// Kafka Streams' rule: a window accepts records while end + grace > stream time.
inline bool WindowClosed(const WindowBounds& window, int64_t grace, int64_t stream_time) {
  return window.end + grace <= stream_time;
}

}  // namespace sidestream::runtime
