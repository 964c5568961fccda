#pragma once

#include <cstdint>
#include <string>

namespace sidestream::server {

struct DemoOptions {
  std::string queries_dir;      // queries/ with sources/ inside
  double rate = 2000;           // generated records per second (wall clock)
  double duration_seconds = 0;  // 0: until Ctrl-C
  uint64_t seed = 1;
};

/// `sidestream demo`: starts the embedded broker, a CDR generator producing to topic
/// `cdr`, and the example queries; shows their results live in the terminal until
/// Ctrl-C (or the duration ends). Returns the exit code.
int RunDemo(const DemoOptions& options);

}  // namespace sidestream::server
