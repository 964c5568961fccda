#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "analyzer/analyzer.h"
#include "server/metrics/registry.h"
#include "server/rest/engine_worker.h"
#include "server/rest/http_server.h"
#include "sql/ast.h"

/// ksqlDB's REST API over the engine: /ksql, /query, /query-stream, /close-query, /info,
/// /healthcheck, /chc/live, /chc/ready and /clusterStatus; and Prometheus's /metrics.
namespace sidestream::rest {

struct RestOptions {
  int64_t max_body_bytes = 1 << 20;
  int64_t max_push_queries = 100;
  int64_t max_persistent_queries = 1000;
  /// Scalable push queries (ksql.query.push.v2.enabled): a push query of filters and
  /// projections over the sink of a persistent query running here taps its records in
  /// process (host::OutputTap) instead of running as a query of its own.
  bool push_v2_enabled = true;
  /// Most bytes of a push query's rows waiting for a slow client (or for the stream, in a
  /// tap) before the query is ended with an error (push.query.max.queued.bytes).
  int64_t push_max_queued_bytes = 4 << 20;
  /// Credentials; authentication is on when either list is non-empty (auth.basic.users,
  /// auth.bearer.tokens).
  std::vector<std::string> basic_users;  // "user:password"
  std::vector<std::string> bearer_tokens;
  std::string service_id = "sidestream";
  /// "host:port" of this server, for /clusterStatus.
  std::string advertised_address;
  /// Resolved settings, for SHOW PROPERTIES (name, value).
  std::vector<std::pair<std::string, std::string>> properties;
};

struct PushQuery;
class CommandLog;

/// Drops the private streams and tables of push queries (and their queries) that a catalog
/// file kept from a process that ended while they ran: they belonged to its connections.
Status DropLeftoverPushQueries(catalog::Catalog& catalog);

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
  /// Statements that change the catalog or the queries go through `log` (null: run here).
  /// Set before the server takes requests; the log must outlive the worker's thread.
  void set_command_log(CommandLog* log);

 private:
  void HandleKsql(const HttpRequest& request, std::shared_ptr<Responder> responder);
  void HandleQuery(const HttpRequest& request, std::shared_ptr<Responder> responder, bool legacy);
  /// POST /inserts-stream: a target line, then one JSON row per line; one ack per row.
  void HandleInsertsStream(const HttpRequest& request, std::shared_ptr<Responder> responder);
  /// The credential check: true when the request may go on, else it was answered (401 when
  /// it has no credential, 403 when a wrong one).
  bool Authorized(const HttpRequest& request, Responder& responder) const;
  void HandleStatus(const std::string& command_id, Responder& responder);
  void HandleCloseQuery(const HttpRequest& request, std::shared_ptr<Responder> responder);
  /// Renders the engine's metrics on the engine thread, with the REST API's own.
  void HandleMetrics(std::shared_ptr<Responder> responder);
  /// GET /chc/ready: 200 once no task is restoring its state, else 503 saying what is not.
  void HandleReady(std::shared_ptr<Responder> responder);
  /// On the engine thread: starts a push query or answers why not.
  void StartPushQuery(host::KafkaEngine& engine, std::shared_ptr<PushQuery> query,
                      const std::string& sql);
  /// On the engine thread: a SELECT without EMIT CHANGES, answered at once from the state
  /// of the query that materializes its table (host::KafkaEngine::PullQuery).
  void RunPullQuery(host::KafkaEngine& engine, std::shared_ptr<PushQuery> query,
                    const sql::Statement& statement,
                    std::shared_ptr<const analyzer::AnalyzedStatement> analyzed);
  /// On the engine thread: a SELECT without EMIT CHANGES on a stream, a bounded scan of its
  /// topic (host::StreamPullQuery) streamed by a ticker until the end offsets it captured, or
  /// LIMIT; closing the connection stops it.
  // Counts `query` against max.push.queries; false, after answering 429 and forgetting it,
  // when that many are open.
  bool TakePushSlot(PushQuery& query);
  void RunStreamPullQuery(host::KafkaEngine& engine, std::shared_ptr<PushQuery> query,
                          const sql::Statement& statement,
                          std::shared_ptr<const analyzer::AnalyzedStatement> analyzed);
  /// On the engine thread: a scalable push query (see RestOptions::push_v2_enabled), served
  /// from the persistent query's output records by a tap, streamed by a ticker; closing the
  /// connection removes the tap.
  void RunTappedPushQuery(host::KafkaEngine& engine, std::shared_ptr<PushQuery> query,
                          const std::string& text,
                          std::shared_ptr<const analyzer::AnalyzedStatement> analyzed);
  /// True, after ending `query` with an error (and counting it), when more than
  /// push_max_queued_bytes of its rows wait for its client.
  bool ClientFellBehind(PushQuery& query);
  void Forget(const std::string& query_id);

  EngineWorker& worker_;
  RestOptions options_;
  CommandLog* command_log_ = nullptr;  // engine thread only
  std::atomic<int64_t> command_sequence_{0};
  std::atomic<int64_t> transient_counter_{0};
  std::mutex push_mutex_;
  std::map<std::string, std::shared_ptr<PushQuery>> push_queries_;  // by query id
  metrics::Registry rest_metrics_;  // counted as requests are answered
  std::mutex commands_mutex_;
  std::map<std::string, nlohmann::json> command_statuses_;  // by commandId, for /status
};

}  // namespace sidestream::rest
