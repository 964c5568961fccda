#pragma once

#include <cstdint>
#include <string>

namespace sidestream::server {

struct DemoOptions {
  std::string queries_dir;      // queries/ with sources/ inside
  double rate = 2000;           // generated records per second (wall clock)
  double duration_seconds = 0;  // 0: until Ctrl-C
  uint64_t seed = 1;
  int port = 8088;  // the console and REST API; a taken port falls back to a free one
};

/// `sidestream demo`: what `serve` runs (the embedded broker, the engine, the REST API and
/// the web console), plus a CDR generator producing to topic `cdr` and the example queries;
/// shows their results live in the terminal until Ctrl-C (or the duration ends). Returns the
/// exit code.
int RunDemo(const DemoOptions& options);

}  // namespace sidestream::server
