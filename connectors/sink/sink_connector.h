#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/status.h"
#include "connectors/kafka/batch_consumer.h"
#include "connectors/kafka/batch_producer.h"
#include "connectors/sink/sink_writer.h"

/// Runs sink connectors inside Sidestream (no Kafka Connect): each reads a table's topic as
/// a consumer group and applies what it reads to a store through a SinkWriter.
namespace sidestream::sink {

/// Options of a SinkConnector.
struct SinkConnectorOptions {
  std::string name;
  std::vector<std::string> topics;
  kafka::ClientConfig client;
  /// The consumer group; empty: "<application_id>-connector-<name>".
  std::string group_id;
  std::string application_id = "sidestream";
  std::string dead_letter_topic = "sidestream_dead_letters";
  size_t max_batch_records = 10000;
  /// Kafka offsets are committed after the store write, at most this often (the store's own
  /// offsets make a replay of what was written but not committed harmless). 0: every write.
  std::chrono::milliseconds commit_interval{1000};
  /// A retriable store error retries the same records after this backoff, doubled at each
  /// failure in a row up to the maximum.
  std::chrono::milliseconds retry_backoff_initial{100};
  std::chrono::milliseconds retry_backoff_max{10000};
  const Clock* clock = &Clock::System();
};

/// RUNNING: consuming, or waiting out a retry backoff (retrying() tells); FAILED: stopped by
/// a non-retriable error, its consumer left the group.
enum class ConnectorState { kRunning, kFailed };
const char* ConnectorStateName(ConnectorState state);

/// Counters and state of a connector, for SHOW/DESCRIBE CONNECTOR and progress lines.
struct ConnectorStatus {
  std::string name;
  std::string connector_class;
  ConnectorState state = ConnectorState::kRunning;
  bool retrying = false;
  int64_t consumed = 0;
  int64_t upserts = 0;
  int64_t deletes = 0;
  int64_t skipped = 0;  // at or below the store's offset: a replay
  int64_t folded = 0;   // superseded within a batch
  int64_t dead_letters = 0;
  int64_t retries = 0;
  std::string last_error;
  /// Per owned partition written to: records on the broker not yet written to the store (its
  /// high watermark, as the last fetch reported it, minus the next offset to write).
  std::map<std::pair<std::string, int32_t>, int64_t> lag;
};

/// One sink connector: a BatchConsumer in its own group on the connector's topics, the
/// SinkWriter of its store, and a producer for dead letters.
///
/// Poll reads a batch, writes it to the store (which skips offsets it already applied and
/// stores the new ones with the rows), sends refused records to the dead-letter topic, and
/// commits the Kafka offsets after the store write (and after the dead letters are
/// delivered). A retriable store error keeps the batch and writes it again after a backoff;
/// another error stops the connector (FAILED). A rebalance makes the writer read its stored
/// offsets again.
///
/// Thread: Poll, Close and status from one thread (the engine's). Ownership: owns its
/// consumer, producer and writer; Close (or the destructor) commits what was written and
/// leaves the group.
class SinkConnector {
 public:
  static Result<std::unique_ptr<SinkConnector>> Create(SinkConnectorOptions options,
                                                       std::unique_ptr<SinkWriter> writer,
                                                       std::string connector_class);
  ~SinkConnector();

  /// Reads and writes one batch, waiting up to `wait` for records. Returns the records
  /// consumed. Never fails for the store's errors: they are kept in status().
  int64_t Poll(std::chrono::milliseconds wait);
  /// Commits the offsets of what was written.
  Status Commit();
  /// Commits and leaves the group. Idempotent.
  Status Close();

  /// The counters and state, with the lag as of the last fetch.
  ConnectorStatus status() const;
  const std::string& name() const { return options_.name; }

 private:
  SinkConnector(SinkConnectorOptions options, std::unique_ptr<SinkWriter> writer);
  /// Writes the held batch; on success clears it and notes its offsets for the commit.
  void WriteHeld();
  Status DeadLetter(const SinkRecord& record, const std::string& reason);
  void Fail(const Status& error);

  SinkConnectorOptions options_;
  std::unique_ptr<SinkWriter> writer_;
  std::unique_ptr<kafka::BatchConsumer> consumer_;
  std::unique_ptr<kafka::BatchProducer> producer_;
  // The polls of one write: records_ views their messages while they are held.
  static constexpr size_t kPollsPerWrite = 16;
  std::array<kafka::MessageBatch, kPollsPerWrite> batches_;
  std::vector<SinkRecord> records_;
  bool holding_ = false;  // records_ await a (re)try
  std::chrono::steady_clock::time_point retry_at_;
  std::chrono::milliseconds backoff_{0};
  // Per (topic, partition): the next offset to commit (written up to it).
  std::map<std::pair<std::string, int32_t>, int64_t> written_;
  // Partitions revoked or lost since they were last assigned.
  std::set<std::pair<std::string, int32_t>> not_owned_;
  bool uncommitted_ = false;
  bool dead_letters_pending_ = false;
  std::chrono::steady_clock::time_point last_commit_;
  ConnectorStatus status_;
};

/// Creates the writer a catalog entry describes (redis or couchdb), with its properties.
Result<std::unique_ptr<SinkWriter>> CreateSinkWriter(
    const catalog::ConnectorDescription& connector);

/// Creates and starts (subscribes) the connector a catalog entry describes.
Result<std::unique_ptr<SinkConnector>> StartSinkConnector(
    const catalog::ConnectorDescription& connector, const kafka::ClientConfig& client,
    const std::string& application_id, const Clock* clock = &Clock::System());

}  // namespace sidestream::sink
