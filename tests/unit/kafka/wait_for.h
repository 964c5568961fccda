#pragma once

#include <chrono>
#include <functional>

namespace sidestream::kafka {

/// Calls `step` until it returns true or `timeout` passes. No sleeping: each step blocks
/// briefly by itself (a Poll with a timeout).
inline bool WaitFor(std::chrono::milliseconds timeout, const std::function<bool()>& step) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (step()) return true;
  }
  return step();
}

}  // namespace sidestream::kafka
