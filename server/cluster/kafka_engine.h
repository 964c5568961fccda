#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "server/offline/query_pipeline.h"

namespace sidestream::kafka {
class EmbeddedBroker;
class BatchProducer;
class TopicAdmin;
}  // namespace sidestream::kafka

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
  /// Extra librdkafka properties for every client.
  std::vector<std::pair<std::string, std::string>> client_properties;
};

/// Totals over all queries, for progress lines and metrics.
struct EngineProgress {
  int64_t consumed = 0;
  int64_t produced = 0;
  int64_t late_records = 0;
  int64_t decode_errors = 0;
  int64_t evaluation_errors = 0;
  int64_t changelog_records = 0;  // state changes written to changelog topics
  int64_t restored_records = 0;   // changelog records read back when tasks started
};

/// Owns the broker connection (or the embedded broker), one consumer per persistent
/// query, one shared producer, and one QueryPipeline per (query, assigned partition) —
/// Kafka Streams' task. Offsets are committed after the outputs they caused are
/// delivered (at-least-once). A task's state stores write their changes to changelog
/// topics at each commit, before the offsets; a task that starts (a restart, or its
/// partition moving to another instance) first restores its stores from them.
/// Thread: Execute and RunOnce from one thread; Stop from any thread.
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

  /// Polls every query once (up to `max_wait_ms`), processes what arrived, and commits
  /// when the commit interval has passed. Returns the number of input records processed.
  Result<int64_t> RunOnce(int max_wait_ms);

  /// With no input for this long, stream time follows the wall clock, so that windows
  /// close and EMIT FINAL results come out when every source is quiet.
  void set_idle_timeout_ms(int64_t idle_timeout_ms) { idle_timeout_ms_ = idle_timeout_ms; }

  /// Runs until Stop() is called; then commits what was processed.
  Status Run();
  /// Flushes state, delivers every output so far and commits the offsets that produced
  /// them, for every query.
  Status CommitAll();
  void Stop() { stopping_ = true; }

  EngineProgress progress() const;

 private:
  struct RunningQuery;
  KafkaEngine() = default;
  Status StartQuery(const std::string& query_id, analyzer::LogicalOperatorPtr plan,
                    const std::map<std::string, std::string>& properties);
  /// A query runs whole, or in two stages around its repartition topic.
  enum class Stage { kWhole, kFirst, kSecond };
  /// Starts one consumer group that runs `plan` (ending in a Sink) on every partition.
  Status StartStage(const std::string& stage_id, analyzer::LogicalOperatorPtr plan,
                    const std::map<std::string, std::string>& properties,
                    Stage stage = Stage::kWhole);
  /// NotSupported unless the join's inputs pair up by partition (see the .cc).
  Status CheckCopartitioned(const analyzer::LogicalOperator& plan,
                            const std::vector<const analyzer::LogicalOperator*>& scans);
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
  /// `internal`: a repartition topic (unlimited retention).
  Status EnsureTopic(const std::string& topic, int partitions, bool internal = false);

  KafkaEngineOptions options_;
  std::string bootstrap_servers_;
  std::unique_ptr<kafka::EmbeddedBroker> broker_;
  std::unique_ptr<kafka::TopicAdmin> admin_;
  std::unique_ptr<kafka::BatchProducer> producer_;
  std::unique_ptr<catalog::Catalog> catalog_;
  analyzer::SessionProperties session_properties_;  // SET by earlier statements
  std::vector<std::unique_ptr<RunningQuery>> queries_;
  std::atomic<bool> stopping_{false};
  int64_t produced_ = 0;
  int64_t changelog_records_ = 0;
  int64_t restored_records_ = 0;
  int64_t idle_timeout_ms_ = 5000;
  std::chrono::steady_clock::time_point last_commit_ = std::chrono::steady_clock::now();
};

/// The internal topic through which a query re-keys its input before grouping.
std::string RepartitionTopic(const std::string& application_id, const std::string& query_id);

/// The compacted topic that keeps the changes of one state store of a query, partitioned
/// like the query's input: partition p holds the state of task p.
std::string ChangelogTopic(const std::string& application_id, const std::string& query_id,
                           const std::string& store);

/// Appends the Kafka key of a windowed result, readable by any consumer, to `out`:
/// "<key>@<window start>/<window end>" (epoch ms).
void AppendWindowedKey(std::string_view key, int64_t start, int64_t end, std::string& out);
/// The window of a key written by AppendWindowedKey, which `key` is trimmed to the key part
/// of; nullopt (and `key` unchanged) when it has none.
std::optional<runtime::WindowBounds> SplitWindowedKey(std::string_view& key);

}  // namespace sidestream::cluster
