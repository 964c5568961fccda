#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "server/metrics/registry.h"
#include "server/rest/engine_worker.h"
#include "server/rest/http_server.h"

/// ksqlDB's REST API over the engine: /ksql, /query, /query-stream, /close-query, /info,
/// /healthcheck, /chc/live, /chc/ready and /clusterStatus; and Prometheus's /metrics.
namespace sidestream::rest {

struct RestOptions {
  int64_t max_body_bytes = 1 << 20;
  int64_t max_push_queries = 100;
  std::string service_id = "sidestream";
  /// "host:port" of this server, for /clusterStatus.
  std::string advertised_address;
  /// Resolved settings, for SHOW PROPERTIES (name, value).
  std::vector<std::pair<std::string, std::string>> properties;
};

struct PushQuery;

/// Routes requests. Handle runs on the HTTP server's thread and never blocks: statements and
/// queries run on the engine worker's thread, which answers through the Responder.
/// Ownership: references the worker, which must outlive it and be stopped before it is
/// destroyed. Thread: Handle from the HTTP thread; the rest from the engine thread.
class RestApi {
 public:
  RestApi(EngineWorker& worker, RestOptions options);
  ~RestApi();

  void Handle(HttpRequest request, std::shared_ptr<Responder> responder);
  /// "host:port" for /clusterStatus, once the port is known. Any thread.
  void set_advertised_address(std::string address);

 private:
  void HandleKsql(const HttpRequest& request, std::shared_ptr<Responder> responder);
  void HandleQuery(const HttpRequest& request, std::shared_ptr<Responder> responder, bool legacy);
  void HandleCloseQuery(const HttpRequest& request, std::shared_ptr<Responder> responder);
  /// Renders the engine's metrics on the engine thread, with the REST API's own.
  void HandleMetrics(std::shared_ptr<Responder> responder);
  /// On the engine thread: starts a push query or answers why not.
  void StartPushQuery(host::KafkaEngine& engine, std::shared_ptr<PushQuery> query,
                      const std::string& sql);
  void Forget(const std::string& query_id);

  EngineWorker& worker_;
  RestOptions options_;
  std::atomic<int64_t> command_sequence_{0};
  std::atomic<int64_t> transient_counter_{0};
  std::mutex push_mutex_;
  std::map<std::string, std::shared_ptr<PushQuery>> push_queries_;  // by query id
  metrics::Registry rest_metrics_;  // counted as requests are answered
};

}  // namespace sidestream::rest
