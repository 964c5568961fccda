#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analyzer/analyzer.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/status.h"
#include "connectors/sink/sink_connector.h"
#include "host/instance_id.h"
#include "host/output_tap.h"
#include "host/stream_pull_query.h"
#include "planner/physical_plan.h"
#include "runtime/query_status.h"
#include "runtime/source.h"
#include "runtime/standby_tasks.h"
#include "runtime/stream_thread.h"

namespace sidestream::kafka {
class EmbeddedBroker;
class TopicAdmin;
}  // namespace sidestream::kafka
namespace sidestream::sink {
class SinkConnectors;
}  // namespace sidestream::sink

/// Runs persistent queries against Kafka: a real cluster, or the embedded broker when
/// no bootstrap servers are given.
namespace sidestream::host {

struct KafkaEngineOptions {
  /// "host:port,..."; empty starts the embedded broker (librdkafka's mock cluster).
  std::string bootstrap_servers;
  /// Prefix of consumer group ids: one group per query, "<application_id>_<query_id>".
  std::string application_id = "sidestream";
  /// Partitions of topics created for declared sources on the embedded broker.
  int default_partitions = 4;
  /// How often offsets are committed (after state stores are flushed and the outputs
  /// the records caused are delivered): ksqlDB's default. 0 commits after every poll.
  int64_t commit_interval_ms = 2000;
  /// How long a commit waits for the outputs to be delivered; past it the commit fails with a
  /// retriable error (the broker is slow or down).
  std::chrono::milliseconds commit_timeout{30000};
  /// Extra librdkafka properties for every client.
  std::vector<std::pair<std::string, std::string>> client_properties;
  /// Every wall-clock wait (idle close, commit interval, task idling, retry backoff) reads it.
  const Clock* clock = &Clock::System();
  /// A query that hits a retriable error (broker down, request timed out) restarts from its
  /// last commit after this backoff, doubled at each failure in a row up to the maximum.
  std::chrono::milliseconds retry_backoff_initial{1000};
  std::chrono::milliseconds retry_backoff_max{60000};
  /// Threads that run the queries' tasks (num.stream.threads); 0 runs them on the caller's
  /// thread, inside RunOnce (deterministic, for tests); kDefaultStreamThreads picks
  /// DefaultStreamThreads once the cluster is known.
  int stream_threads = 0;
  /// With no input for this long, stream time follows the wall clock.
  int64_t idle_timeout_ms = 5000;
  /// processing.guarantee. Under exactly_once_v2 every commit is a Kafka transaction (see
  /// runtime::StreamThread); set commit_interval_ms too (100 ms is Kafka Streams' default
  /// there: transactions stay short, outputs are visible soon).
  runtime::ProcessingGuarantee guarantee = runtime::ProcessingGuarantee::kAtLeastOnce;
  /// Part of every transactional.id under exactly_once_v2, telling apart instances of one
  /// service that run the same queries; keep it stable across restarts of one instance.
  /// Empty: the host's name and an id kept in <state_dir>/<application_id>/instance.id
  /// (`ClaimedInstanceId`).
  std::string instance_id;
  /// Where tasks keep their state (state.store): in memory, restored in full from the
  /// changelogs when a task starts; or in RocksDB under `state_dir`, checkpointed, so a task
  /// that restarts on this machine replays only the changelogs' tail.
  enum class StateStore { kMemory, kRocksDb };
  StateStore state_store = StateStore::kMemory;
  std::string state_dir = "/tmp/sidestream/state";
  /// RocksDB's memory in this process (block cache, with memtables charged to it).
  int64_t state_memory_bytes = 128 << 20;
  /// The RocksDB stores' write caches, over every open store.
  int64_t state_cache_bytes = 64 << 20;
  /// num.standby.replicas: with 1 or more (state.store rocksdb only), this instance keeps a
  /// warm copy of every task it does not run (runtime::StandbyTasks), so a task that moves
  /// here replays only its changelogs' tail; 0 keeps none.
  int num_standby_replicas = 0;
  /// The catalog's SQLite file; ":memory:" keeps it in memory only. A file that lists
  /// queries restarts them: RestoreQueries.
  std::string catalog_path = ":memory:";
};

/// Parses a state.store value: "memory" or "rocksdb" (any case); InvalidArgument otherwise.
Result<KafkaEngineOptions::StateStore> ParseStateStore(const std::string& text);

using runtime::QueryError;
using runtime::QueryState;
using runtime::QueryStateName;
using runtime::QueryStatus;

/// num.stream.threads' default: one per core on a real broker, one on a mock broker (the
/// embedded one, in this process or in `sidestream broker`). The mock's group coordinator
/// refuses commits while members rejoin and drops members that rejoin late, so a group of
/// several members reprocesses records or stalls there (librdkafka 2.0.2,
/// rdkafka_mock_cgrp.c); a real broker's does neither.
int DefaultStreamThreads(bool mock_broker);
inline constexpr int kDefaultStreamThreads = -1;

/// Totals over all queries, for progress lines and metrics.
struct EngineProgress {
  int64_t consumed = 0;
  int64_t produced = 0;
  int64_t late_records = 0;
  int64_t decode_errors = 0;
  int64_t evaluation_errors = 0;
  int64_t oversized_results = 0;  // results too large for their topic: dead-lettered
  int64_t changelog_records = 0;  // state changes written to changelog topics
  int64_t restored_records = 0;   // changelog records read back when tasks started
  int64_t sink_writes = 0;        // rows upserted or deleted by sink connectors
  int64_t sink_dead_letters = 0;  // records a connector's store refused
  int64_t standby_records = 0;    // changelog records replayed into standby copies
  int64_t standby_copies = 0;     // standby copies of tasks kept now (num.standby.replicas)
};

/// What `GET /metrics` reports, summed over the stream threads.
struct EngineMetrics {
  EngineProgress totals;
  /// Per query id; a query appears once some stream thread runs a share of it.
  std::map<std::string, runtime::QueryProgress> queries;
  int64_t commits = 0;
  LatencyHistogram commit_latency;
  int64_t rebalances = 0;
  int stream_threads = 0;
  std::vector<sink::ConnectorStatus> connectors;
};

/// Runs persistent queries on Kafka, in Kafka Streams' shape. Each query is planned into
/// stages (planner::PlanQuery); the engine creates the plan's topics, and every stream thread
/// runs a share of every query (runtime::StreamThread): per stage a member of the stage's
/// consumer group, so the group spreads each stage's partitions, and their tasks, over the
/// threads. Offsets are committed after the outputs they caused are delivered
/// (at-least-once), or with them in one Kafka transaction (exactly_once_v2), and each task's
/// stores write their changes to changelog topics first; a task that starts restores its
/// stores from them (committed records only).
///
/// Queries fail alone (runtime::QueryControl): an error in one query stops that query only,
/// on every thread. A retriable error restarts it from its last commit after a backoff; any
/// other error puts it in the ERROR state. Either way the error is kept in the query's history.
/// Thread: Execute, Terminate, Queries and progress from one control thread; Stop from any.
/// With `stream_threads` 0 the control thread runs the one stream thread's passes in RunOnce.
class KafkaEngine {
 public:
  static Result<std::unique_ptr<KafkaEngine>> Start(KafkaEngineOptions options);
  ~KafkaEngine();

  const std::string& bootstrap_servers() const { return bootstrap_servers_; }
  bool embedded() const { return broker_ != nullptr; }
  catalog::Catalog& catalog() { return *catalog_; }

  /// Runs statements: declared sources get their topic created when missing (with
  /// PARTITIONS, or the default on the embedded broker); CREATE ... AS SELECT and
  /// INSERT INTO create the sink topic and start consuming.
  Status Execute(std::string_view sql);
  /// Execute with exactly `properties` as the session's properties (SET and UNSET in `sql`
  /// last only for the call); the session's own are restored after. A command replayed from
  /// the command topic runs with the properties it was sent with, whatever this session set.
  Status ExecuteWith(std::string_view sql, const analyzer::SessionProperties& properties);
  /// Parses and analyzes `sql` against the catalog as it is now, applying nothing: the checks
  /// a statement passes before it is sent to the command topic.
  Status Validate(std::string_view sql) const;
  /// The properties SET in this session (and not UNSET).
  const analyzer::SessionProperties& session_properties() const { return session_properties_; }
  /// Starts the persistent queries and sink connectors the catalog lists, from their stored
  /// SQL (a catalog file opened at start). A query that cannot start is left out, with a
  /// warning (TakeWarnings) naming it and why; the others start.
  Status RestoreQueries();

  /// With stream threads: waits `max_wait_ms` and returns the records processed meanwhile.
  /// Without: polls every running query once (up to `max_wait_ms` in all), processes what
  /// arrived, commits when the commit interval has passed, and restarts queries whose retry
  /// backoff ended. A query's failure is not an error here: it is kept in the query's status
  /// (and reported to on_query_failure).
  Result<int64_t> RunOnce(int max_wait_ms);
  /// Whether RunOnce does nothing but wait (the queries run on stream threads and there is no
  /// sink connector): its caller may then wait on its own wake-up instead, and call
  /// RunOnce(0).
  bool RunOnceOnlyWaits() const;

  /// Stops a query: commits what it processed, its consumers leave their groups, and its
  /// tasks and stores are freed; its internal topics (repartition, changelogs) are deleted, as
  /// ksqlDB does, except on the embedded broker, which cannot delete topics. NotFound for an
  /// unknown id.
  Status Terminate(const std::string& query_id);

  /// PAUSE and RESUME (ksqlDB 0.29): a paused query keeps its consumers in their groups and
  /// its tasks and stores, and processes nothing (its partitions are paused, and still polled)
  /// until resumed, where it goes on from the next record it would have processed. Queries
  /// not RUNNING (or not PAUSED, for Resume) are left as they are. An empty id means every
  /// query. NotFound for an unknown id. Its stream threads follow at their next pass.
  Status Pause(const std::string& query_id);
  Status Resume(const std::string& query_id);

  /// What statements did that the user should hear of but that did not fail them (a topic the
  /// embedded broker could not delete); cleared by the call.
  std::vector<std::string> TakeWarnings() { return std::exchange(warnings_, {}); }

  /// A pull query's rows, in its projection's order, or why it failed.
  using PullCallback = std::function<void(Result<std::vector<types::Row>> rows)>;
  /// Answers a pull query (`analyzed`: a SELECT without EMIT CHANGES) from the state of the
  /// query that materializes its table (a CREATE TABLE AS SELECT with an aggregation): every
  /// stream thread that runs a share of it reads its own tasks' stores between two polls
  /// (StreamThread::VisitTasks) and runs the SELECT's WHERE and projection over the table's
  /// rows there; `done` gets the rows of all threads, at most `limit`. `keys`, when given,
  /// are the only table keys the WHERE can match (a key lookup reads just those entries).
  /// `done` is called once, from a stream thread or this one (with stream_threads 0, inside
  /// a later RunOnce). Errors: ksqlDB's "isn't queryable" for a table nothing materializes.
  void PullQuery(std::shared_ptr<const analyzer::AnalyzedStatement> analyzed,
                 std::optional<int64_t> limit, std::optional<std::vector<types::Row>> keys,
                 PullCallback done);

  /// Starts a pull query on a stream (`analyzed`: a SELECT without EMIT CHANGES whose FROM is
  /// a stream): reads the stream topic's partition count and end offsets, and returns the
  /// scan, which the caller polls on its own thread (see StreamPullQuery). NotFound when the
  /// topic does not exist; Unavailable when the broker does not answer.
  Result<std::unique_ptr<StreamPullQuery>> StartStreamPullQuery(
      std::shared_ptr<const analyzer::AnalyzedStatement> analyzed, std::optional<int64_t> limit);

  /// Starts a scalable push query (`analyzed`: a SELECT EMIT CHANGES of filters and
  /// projections over the sink of a query running here; see OutputTap): from now on every
  /// record this engine produces to that sink's topic is offered to the tap. The caller polls
  /// it and removes it with RemoveTap. Thread-safe.
  Result<std::shared_ptr<OutputTap>> AddTap(
      std::shared_ptr<const analyzer::AnalyzedStatement> analyzed, std::optional<int64_t> limit,
      OutputTap::Options options);
  void RemoveTap(const OutputTap& tap) { taps_->Remove(&tap); }
  /// Taps open now.
  size_t taps() const { return taps_->size(); }

  /// Every query that is not terminated, in the order they started.
  std::vector<QueryStatus> Queries() const;

  /// Receives what SHOW CONNECTORS and DESCRIBE CONNECTOR print.
  void set_on_output(std::function<void(const std::string&)> callback) {
    on_output_ = std::move(callback);
  }
  /// The sink connectors (CREATE SINK CONNECTOR), kept in step with the catalog. They run on
  /// the caller's thread, inside RunOnce.
  sink::SinkConnectors& connectors() { return *connectors_; }

  /// Called each time a query fails, with the query's state after it; from the stream thread
  /// that saw it, one call at a time. Set it before starting queries.
  using QueryFailureCallback = runtime::QueryFailureCallback;
  void set_on_query_failure(QueryFailureCallback callback);

  /// With no input for this long, stream time follows the wall clock, so that windows
  /// close and EMIT FINAL results come out when every source is quiet. Set it before starting
  /// queries.
  void set_idle_timeout_ms(int64_t idle_timeout_ms) { options_.idle_timeout_ms = idle_timeout_ms; }

  /// Runs until Stop() is called; then commits what was processed.
  Status Run();
  /// Flushes state, delivers every output so far and commits the offsets that produced
  /// them, for every running query. A query whose commit fails fails alone (see above).
  Status CommitAll();
  void Stop() { stopping_ = true; }

  EngineProgress progress() const;
  /// The totals and each query's share of them, from the control thread.
  EngineMetrics Metrics() const;
  int stream_threads() const { return static_cast<int>(threads_.size()); }

 private:
  KafkaEngine() = default;
  Status StartQuery(const std::string& query_id, analyzer::LogicalOperatorPtr plan,
                    const std::map<std::string, std::string>& properties);
  /// INSERT ... VALUES: writes the row to the target's topic and waits until it is delivered.
  Status InsertValues(const analyzer::AnalyzedStatement& analyzed);
  /// Creates the stream threads on the first query (settings may change until then).
  void StartThreads();
  /// Creates `topic` when missing, with `partitions` (0: the default).
  Status EnsureTopic(const std::string& topic, int partitions);
  /// Deletes `topics`; on a broker that cannot, says so in a warning when `warn`.
  Status DeleteTopics(const std::vector<std::string>& topics, bool warn);
  Status SetPaused(const std::string& query_id, bool paused);
  /// CREATE SOURCE TABLE: as in ksqlDB, the table is materialized for pull queries, by a
  /// hidden query (in no catalog) that keeps its rows in a result store (and writes them to a
  /// private topic, as every query has a sink). Replaces an earlier one of the same table.
  Status MaterializeSourceTable(const catalog::SourceDescription& table);
  /// Stops the hidden queries of source tables that no longer exist.
  Status ForgetDroppedSourceTables();

  KafkaEngineOptions options_;
  std::string bootstrap_servers_;
  std::unique_ptr<kafka::EmbeddedBroker> broker_;
  std::unique_ptr<kafka::TopicAdmin> admin_;
  std::unique_ptr<runtime::Clients> clients_;  // offer what their sinks produce to taps_
  std::shared_ptr<OutputTaps> taps_ = std::make_shared<OutputTaps>();
  // The tasks' persistent stores (state.store rocksdb); null in memory. Outlives the threads.
  std::unique_ptr<runtime::PersistentStoreProvider> state_provider_;
  // Warm copies of the tasks this instance does not run (num.standby.replicas); null without.
  // Outlives the threads (their task managers claim tasks from it), outlived by the provider.
  std::unique_ptr<runtime::StandbyTasks> standby_;
  bool standby_started_ = false;
  // Under exactly_once_v2 without instance_id: the id kept in the state directory.
  std::unique_ptr<ClaimedInstanceId> instance_id_;
  std::unique_ptr<runtime::Sink> insert_sink_;  // INSERT ... VALUES' producer, made on first use
  std::unique_ptr<catalog::Catalog> catalog_;
  analyzer::SessionProperties session_properties_;  // SET by earlier statements
  std::vector<std::unique_ptr<runtime::QuerySpec>> queries_;
  std::map<std::string, std::vector<std::string>> internal_topics_;  // per query in queries_
  std::map<std::string, std::string> materialized_;  // source table -> its hidden query's id
  std::vector<std::string> warnings_;
  std::vector<std::unique_ptr<runtime::StreamThread>> threads_;  // run shares of queries_
  bool threads_running_ = false;
  QueryFailureCallback on_query_failure_;  // called under failure_mutex_
  std::mutex failure_mutex_;
  QueryFailureCallback serialized_failure_;  // what QueryControls call
  std::unique_ptr<sink::SinkConnectors> connectors_;
  std::function<void(const std::string&)> on_output_;
  std::atomic<bool> stopping_{false};
  int64_t reported_consumed_ = 0;  // RunOnce's last total, with stream threads
};

}  // namespace sidestream::host
