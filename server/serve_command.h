#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "server/config/settings.h"
#include "server/rest/engine_worker.h"
#include "server/rest/http_server.h"
#include "server/rest/rest_api.h"

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

/// The engine on its own thread with ksqlDB's REST API over it: what `serve` runs, and what
/// `demo` runs under its live screen. Ownership: owns all three; Stop (or the destructor)
/// stops the engine first, so that its push queries end before their responders go.
class RunningServer {
 public:
  /// Starts the engine from `settings`; with command.topic.enabled, restarts the queries of
  /// the catalog file and replays the command topic past it; applies `queries.file`
  /// (InvalidArgument when it fails; its error is logged with line:column), then listens on
  /// host:port. With
  /// `any_port_if_taken`, a taken port falls back to a free one.
  static Result<std::unique_ptr<RunningServer>> Start(const config::Settings& settings,
                                                      bool any_port_if_taken = false);
  ~RunningServer();

  rest::EngineWorker& worker() { return *worker_; }
  /// host:port, as /clusterStatus advertises it.
  const std::string& address() const { return address_; }
  void Stop();

 private:
  RunningServer() = default;

  // Used on the worker's thread only, so it goes after the worker has stopped.
  std::unique_ptr<rest::CommandLog> command_log_;
  std::unique_ptr<rest::EngineWorker> worker_;
  std::unique_ptr<rest::RestApi> api_;
  std::unique_ptr<rest::HttpServer> http_;
  std::string address_;
};

/// Runs `sql` on the engine's thread, as `sidestream run` would; logs its warnings. The error
/// is the statement's, unrendered.
Status ExecuteOnEngine(rest::EngineWorker& worker, const std::string& sql);

/// `sidestream settings`: prints docs/CONFIG.md.
int RunSettings();

}  // namespace sidestream::server
