#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/status.h"
#include "planner/physical_plan.h"
#include "server/offline/query_pipeline.h"

namespace sidestream::kafka {
class EmbeddedBroker;
class BatchProducer;
class TopicAdmin;
}  // namespace sidestream::kafka
namespace sidestream::sink {
class SinkConnectors;
}  // namespace sidestream::sink

/// Runs persistent queries against Kafka: a real cluster, or the embedded broker when
/// no bootstrap servers are given.
namespace sidestream::cluster {

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
};

/// A persistent query's state, with ksqlDB's names.
enum class QueryState {
  kRunning,     // consuming, or waiting out a retry backoff
  kError,       // stopped by a non-retriable error; its consumer left the group
  kTerminated,  // stopped by TERMINATE
};
const char* QueryStateName(QueryState state);

/// One failure of a persistent query, as its error history keeps it.
struct QueryError {
  int64_t time_ms = 0;  // wall clock (Clock::WallMs)
  Status error;
  /// The input being processed when it failed, when known: its topic and partition, and the
  /// offsets of the batch (one record when first_offset == last_offset).
  std::string topic;
  int32_t partition = -1;
  int64_t first_offset = -1;
  int64_t last_offset = -1;

  /// "QueryError at <topic>[<partition>]@<offsets>: <message>"
  std::string ToString() const;
};

/// What a persistent query is doing, for SHOW QUERIES and `sidestream run`'s log.
struct QueryStatus {
  std::string id;
  QueryState state = QueryState::kRunning;
  /// Retriable failures it recovered from by restarting at its last commit.
  int restarts = 0;
  /// Oldest first; the last kMaxErrorHistory.
  std::vector<QueryError> errors;
  static constexpr size_t kMaxErrorHistory = 20;
};

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
};

/// Owns the broker connection (or the embedded broker), and per persistent query one
/// producer, one consumer per stage and one QueryPipeline per (stage, assigned partition) —
/// Kafka Streams' task. Offsets are committed after the outputs they caused are
/// delivered (at-least-once). A task's state stores write their changes to changelog
/// topics at each commit, before the offsets; a task that starts (a restart, or its
/// partition moving to another instance) first restores its stores from them.
///
/// Queries fail alone: an error in one query's processing, commit or delivery stops that
/// query only, and its tasks are dropped without committing. A retriable error restarts it
/// from its last commit after a backoff (its consumers stay in their groups and seek back);
/// any other error puts it in the ERROR state and its consumers leave their groups. Either way the
/// error is kept in the query's history, and the other queries keep running. Thread: Execute,
/// RunOnce, Terminate and Queries from one thread; Stop from any thread.
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

  /// Polls every running query once (up to `max_wait_ms` in all), processes what arrived,
  /// and commits when the commit interval has passed; restarts queries whose retry backoff
  /// ended. Returns the number of input records processed. A query's failure is not an
  /// error here: it is kept in the query's status (and reported to on_query_failure).
  Result<int64_t> RunOnce(int max_wait_ms);

  /// Stops a query: commits what it processed, its consumers leave their groups, and its
  /// tasks and stores are freed. NotFound for an unknown id.
  Status Terminate(const std::string& query_id);

  /// Every query that is not terminated, in the order they started.
  std::vector<QueryStatus> Queries() const;

  /// Receives what SHOW CONNECTORS and DESCRIBE CONNECTOR print.
  void set_on_output(std::function<void(const std::string&)> callback) {
    on_output_ = std::move(callback);
  }
  /// The sink connectors (CREATE SINK CONNECTOR), kept in step with the catalog.
  sink::SinkConnectors& connectors() { return *connectors_; }

  /// Called on the engine's thread each time a query fails, with the query's state after it.
  using QueryFailureCallback =
      std::function<void(const std::string& query_id, const QueryError& error, QueryState state)>;
  void set_on_query_failure(QueryFailureCallback callback) {
    on_query_failure_ = std::move(callback);
  }

  /// With no input for this long, stream time follows the wall clock, so that windows
  /// close and EMIT FINAL results come out when every source is quiet.
  void set_idle_timeout_ms(int64_t idle_timeout_ms) { idle_timeout_ms_ = idle_timeout_ms; }

  /// Runs until Stop() is called; then commits what was processed.
  Status Run();
  /// Flushes state, delivers every output so far and commits the offsets that produced
  /// them, for every running query. A query whose commit fails fails alone (see above).
  Status CommitAll();
  void Stop() { stopping_ = true; }

  EngineProgress progress() const;

 private:
  struct RunningQuery;
  struct PersistentQuery;
  KafkaEngine() = default;
  Status StartQuery(const std::string& query_id, analyzer::LogicalOperatorPtr plan,
                    const std::map<std::string, std::string>& properties);
  /// Starts one stage of `owner`: a consumer group that runs the stage's plan on every
  /// partition of its inputs. Takes the stage's plan.
  Status StartStage(PersistentQuery& owner, planner::Stage& stage,
                    const std::map<std::string, std::string>& properties);
  /// Creates the stage's consumer, which joins its group.
  Status Subscribe(RunningQuery& query);
  /// The stage's consumer leaves its group and its tasks are dropped; with `commit`, what
  /// they processed is committed first.
  Status StopStage(RunningQuery& query, bool commit);
  /// Drops the stage's tasks and what they processed since the last commit.
  void DropTasks(RunningQuery& query);
  /// Seeks the stage's assigned partitions back to their committed offsets (the start where
  /// none is committed): a retriable failure's restart.
  Status Rewind(RunningQuery& query);
  /// Records `error` in the query's history and stops it: for a retriable error until its
  /// backoff ends, else for good (ERROR). `stage` is the stage that failed, if one did.
  void Fail(PersistentQuery& query, const Status& error, const RunningQuery* stage);
  /// Polls every stage of a running query once; commits it when `commit`.
  Result<int64_t> RunQuery(PersistentQuery& query, int wait_ms, bool commit);
  Status CreateTask(RunningQuery& query, int32_t partition);
  Status CloseTasks(RunningQuery& query, const std::vector<int32_t>& partitions, bool commit);
  Result<int64_t> PollQuery(RunningQuery& query, int wait_ms);
  /// How many of a join task's records (`merged`, in timestamp order) may run now: Kafka
  /// Streams' rule, records run while every input either has fetched records left or has
  /// nothing more on the broker (at most kMaxTaskIdle of waiting). A stream's records thus
  /// wait for table rows that are on the broker but not fetched yet.
  Result<size_t> ProcessableCount(RunningQuery& query,
                                  std::span<const offline::InputMessage> merged);
  /// The next offset of `topic`'s `partition` to process, while none was fetched.
  Result<int64_t> NextOffset(RunningQuery& query, const std::string& topic, int32_t partition);
  /// Seeks the consumer back so that the next polls deliver `unprocessed` again; returns how
  /// many messages that puts back.
  Result<int64_t> FetchAgain(RunningQuery& query,
                             std::span<const offline::InputMessage> unprocessed);
  /// Runs messages of one partition through that partition's task.
  Status ProcessPartitionRun(RunningQuery& query, std::span<const offline::InputMessage> run);
  /// Flushes the tasks of `partitions` (all when empty) and the producer, then commits
  /// their offsets: outputs before the offsets that produced them (at-least-once).
  Status Commit(RunningQuery& query, const std::vector<int32_t>& partitions);
  /// Creates `topic` when missing, with `partitions` (0: the default).
  Status EnsureTopic(const std::string& topic, int partitions);

  KafkaEngineOptions options_;
  std::string bootstrap_servers_;
  std::unique_ptr<kafka::EmbeddedBroker> broker_;
  std::unique_ptr<kafka::TopicAdmin> admin_;
  std::unique_ptr<catalog::Catalog> catalog_;
  analyzer::SessionProperties session_properties_;  // SET by earlier statements
  std::vector<std::unique_ptr<PersistentQuery>> queries_;
  QueryFailureCallback on_query_failure_;
  std::unique_ptr<sink::SinkConnectors> connectors_;
  std::function<void(const std::string&)> on_output_;
  std::atomic<bool> stopping_{false};
  int64_t produced_ = 0;
  int64_t changelog_records_ = 0;
  int64_t restored_records_ = 0;
  int64_t idle_timeout_ms_ = 5000;
  std::chrono::steady_clock::time_point last_commit_;
};

/// Appends the Kafka key of a windowed result, readable by any consumer, to `out`:
/// "<key>@<window start>/<window end>" (epoch ms).
void AppendWindowedKey(std::string_view key, int64_t start, int64_t end, std::string& out);
/// The window of a key written by AppendWindowedKey, which `key` is trimmed to the key part
/// of; nullopt (and `key` unchanged) when it has none.
std::optional<runtime::WindowBounds> SplitWindowedKey(std::string_view& key);

}  // namespace sidestream::cluster
