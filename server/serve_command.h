#pragma once

#include <string>
#include <utility>
#include <vector>

namespace sidestream::server {

struct ServeOptions {
  std::string config_file;  // empty: none
  /// Flags, as (setting name, value, flag that gave it), applied last.
  std::vector<std::pair<std::string, std::string>> flags;
  std::vector<std::string> flag_origins;
};

/// `sidestream serve`: settings from the file, the environment and the flags; the engine (on
/// the embedded broker without bootstrap servers) on its own thread; ksqlDB's REST API on
/// host:port over HTTP/1.1 and HTTP/2. Prints "listening on http://host:port" when ready and
/// runs until SIGINT or SIGTERM. Returns 2 for a rejected setting, 1 when it cannot start.
int RunServe(const ServeOptions& options);

/// `sidestream settings`: prints docs/CONFIG.md.
int RunSettings();

}  // namespace sidestream::server
