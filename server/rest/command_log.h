#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "analyzer/analyzer.h"
#include "common/status.h"
#include "connectors/kafka/client_config.h"
#include "connectors/kafka/partition_reader.h"
#include "host/kafka_engine.h"

namespace sidestream::kafka {
class BatchProducer;
}  // namespace sidestream::kafka

namespace sidestream::rest {

/// ksqlDB's command topic name for a service id.
std::string CommandTopicName(const std::string& service_id);

struct CommandLogOptions {
  kafka::ClientConfig client;
  /// One partition: every instance reads every command in the same order.
  std::string topic;
  /// How long Append waits for its command to come back and run, and CatchUp for the end.
  std::chrono::milliseconds timeout{30000};
};

/// The command topic: many instances with one service id, one catalog (ksqlDB's
/// CommandStore and CommandRunner). A statement that changes the catalog or the persistent
/// queries is not run where it was sent: it is appended to the topic (a JSON value with the
/// statement and the session properties it runs with), and every instance replays the topic
/// in order, each running each command once, on its engine thread. The catalog keeps the
/// offset of the last command it applied, so a restart resumes after it; an empty catalog
/// replays the topic from its start. A command's persistent query is numbered by its offset
/// (CSAS_S_12), so every instance gives it one id, one consumer group, and shares its
/// partitions with the others. A command that fails on replay fails alone: it is logged and
/// counted, and the replay goes on.
/// Ownership: owns its producer and its reader; references nothing after a call returns.
/// Thread: the engine thread only (every method takes the engine it runs commands on).
class CommandLog {
 public:
  /// Creates the topic when missing (one partition, kept forever) and starts reading it after
  /// the catalog's applied offset. Errors: NotSupported when the broker cannot create it (an
  /// embedded broker in another process: `sidestream broker --topic <topic>:1`), Unavailable
  /// when the broker does not answer.
  static Result<std::unique_ptr<CommandLog>> Open(CommandLogOptions options,
                                                  host::KafkaEngine& engine);
  ~CommandLog();

  /// Runs every command up to the topic's end as of now. Unavailable when the end is not
  /// reached within the timeout; Corruption when commands the catalog lacks are gone.
  Status CatchUp(host::KafkaEngine& engine);
  /// Runs the commands that arrive within `wait` (other instances' statements).
  Status Poll(host::KafkaEngine& engine, std::chrono::milliseconds wait);

  /// What Append's command did when it ran here.
  struct Applied {
    int64_t offset = -1;  // its offset: ksqlDB's commandSequenceNumber
    Status status;        // its execution's outcome
  };
  /// Appends `statement` (one statement, with its `;`) to run with `properties`, then runs
  /// the commands before it and it, and returns its outcome. Unavailable when the broker does
  /// not take it, or it does not come back within the timeout.
  Result<Applied> Append(host::KafkaEngine& engine, const std::string& statement,
                         const analyzer::SessionProperties& properties);

  /// Commands run here since start, and those of them that failed.
  int64_t applied() const { return applied_; }
  int64_t failed() const { return failed_; }

  /// Told of every command this instance runs, whichever instance sent it: called with its
  /// statement and offset before it runs; what it returns (if not null) is called with its
  /// outcome after. Both on the engine thread, with the catalog as it is then.
  using Outcome = std::function<void(const Status& status, const catalog::Catalog& catalog)>;
  using Observer = std::function<Outcome(const std::string& statement, int64_t offset,
                                         const catalog::Catalog& catalog)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

 private:
  CommandLog() = default;
  /// Runs one command; its failure is logged and counted, never returned.
  void Apply(host::KafkaEngine& engine, int64_t offset, std::optional<std::string_view> value);

  CommandLogOptions options_;
  std::unique_ptr<kafka::BatchProducer> producer_;
  std::unique_ptr<kafka::PartitionTailer> reader_;
  std::string instance_tag_;  // tells this instance's commands from others'
  int64_t next_request_ = 0;
  // The command Append waits for, and what it did once run.
  std::string awaited_request_;
  std::optional<Applied> awaited_result_;
  int64_t applied_ = 0;
  int64_t failed_ = 0;
  Observer observer_;
};

}  // namespace sidestream::rest
