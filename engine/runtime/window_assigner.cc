#include "runtime/window_assigner.h"

namespace sidestream::runtime {

namespace {
// Floor division that rounds toward negative infinity.
int64_t FloorToMultiple(int64_t value, int64_t step) {
  int64_t remainder = value % step;
  return remainder < 0 ? value - remainder - step : value - remainder;
}
}  // namespace

void AssignTumbling(int64_t timestamp, int64_t size, std::vector<WindowBounds>& windows) {
  windows.clear();
  int64_t start = FloorToMultiple(timestamp, size);
  windows.push_back({start, start + size});
}

void AssignHopping(int64_t timestamp, int64_t size, int64_t advance,
                   std::vector<WindowBounds>& windows) {
  windows.clear();
  // The earliest window containing the timestamp starts after timestamp - size.
  int64_t first = FloorToMultiple(timestamp - size + advance, advance);
  if (first < 0 && timestamp >= 0) first = 0;  // Kafka Streams starts windows at the epoch
  for (int64_t start = first; start <= timestamp; start += advance) {
    windows.push_back({start, start + size});
  }
}

}  // namespace sidestream::runtime
