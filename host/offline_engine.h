#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/logical_plan.h"
#include "catalog/catalog.h"
#include "common/status.h"
#include "connectors/registry/schema_registry.h"
#include "runtime/record.h"
#include "runtime/stream_task.h"
#include "session/script_runner.h"

/// Runs Sidestream SQL without a broker: topics are in-memory logs, persistent queries
/// are topologies, and records go through the same formats and operators as on Kafka.
/// The engine behind `sidestream test` and the ksqlDB conformance runner.
namespace sidestream::host {

/// A record as ksqlDB's test files write it: key and value in their JSON form (a
/// DELIMITED value is a JSON string, a KAFKA key a number or string, null a tombstone).
struct TestRecord {
  std::string topic;
  nlohmann::json key;
  nlohmann::json value;
  std::optional<int64_t> timestamp;
  std::optional<runtime::WindowBounds> window;
  bool session_window = false;
  /// The record's headers in order (name, value; no value for a null one): "headers" in a
  /// test file, [{"KEY": name, "VALUE": base64 or null}], as ksqlDB's tests write them.
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  /// JSON pointers ("/value/L0", "/key") of the values that are exact decimals, held as
  /// their text ("3.40"). Only in actual records: they compare by value and scale, as
  /// ksqlDB compares BigDecimals.
  std::set<std::string> decimals;
  /// JSON pointers ("/value/C2") of top-level BYTES fields that are empty, in an actual record
  /// of a format that ksqlDB's runner reads through Kafka Connect (AVRO, PROTOBUF,
  /// PROTOBUF_NOSR, JSON_SR): its comparison takes them for null (TestExecutor's
  /// coerceRecordFields), and so does CompareRecords.
  std::set<std::string> empty_bytes;
};

/// Counters of what did not flow through normally.
struct EngineCounters {
  int64_t late_records = 0;   // applied to no window: sent to the late topic if set
  int64_t decode_errors = 0;  // did not fit the source schema: sent to the dead-letter topic
  int64_t evaluation_errors = 0;
};

/// Runs each query's physical plan (planner::PlanQuery), as on Kafka: a GROUP BY on
/// anything but the key goes through its repartition topic to a second stage. Every topic has
/// `partitions` partitions; a record goes to the partition its key hashes to (a record
/// without a key to partition 0), and each stage has one task per partition, which reads
/// partition p of each of its inputs. A record is processed at once, and what it causes is
/// delivered downstream before the next record: one of the orders Kafka allows.
/// Thread: one caller at a time. Ownership: owns its catalog, queries and topics.
class OfflineEngine {
 public:
  /// InvalidArgument unless 1 <= partitions <= 64.
  static Result<std::unique_ptr<OfflineEngine>> Create(int partitions = 1);
  ~OfflineEngine();

  /// Runs the statements of `sql` in order: DDL changes the catalog, CREATE ... AS SELECT
  /// and INSERT INTO start queries, TERMINATE (and DROP of a query's sink) stops them. PAUSE
  /// holds back the records that reach a query, in order, until RESUME processes them. Stops
  /// at the first error. Returns each statement's outcome (message and plan text).
  Result<std::vector<session::StatementOutcome>> Execute(std::string_view sql);

  /// Appends an input record to its topic and runs every query that reads the topic;
  /// their results are appended to their sink topics and feed downstream queries.
  /// A record that fails to decode is counted and kept in the dead-letter topic.
  Status Produce(const TestRecord& record);

  /// From now on, inputs to `topic` have their key (`key`) or value written as AVRO (or
  /// PROTOBUF, with the message the source's SCHEMA_FULL_NAME names, else the first) under
  /// `writer_schema`, registered with `schema_id`, rather than under the schema the source
  /// derives: a producer that registered its own schema (a QTT case's "topics" section).
  /// A PROTOBUF writer schema may import `references`.
  void SetTopicWriterSchema(const std::string& topic, bool key, std::string writer_schema,
                            int32_t schema_id, bool protobuf = false,
                            std::vector<registry::NamedSchema> references = {});

  /// Wall-clock time passes with no input for `idle_ms` (at least the idle timeout): as on
  /// Kafka, every task's stream time moves to the newest timestamp it has seen plus `idle_ms`,
  /// so windows close and EMIT FINAL results come out while the sources are quiet.
  Status AdvanceWallClock(int64_t idle_ms);

  /// Every record written to `topic` by queries, in order.
  std::vector<TestRecord> Output(const std::string& topic) const;
  /// Topics that queries wrote to, in first-write order.
  std::vector<std::string> OutputTopics() const;
  /// Summed over every query.
  runtime::TaskCounters counters() const;
  /// The physical plans of the queries started so far, in order.
  std::vector<std::string> DescribePlans() const;

  catalog::Catalog& catalog() { return *catalog_; }

 private:
  /// One stage of a query: its plan and a task per partition.
  /// A record that reached a paused stage, owned until the stage resumes.
  struct HeldMessage {
    size_t source = 0;
    int32_t partition = 0;
    int64_t offset = 0;
    int64_t timestamp = 0;
    std::optional<std::string> key, value, old_value, source_key, source_value;
    std::optional<runtime::WindowBounds> window;
    bool retract = false;
    std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  };
  struct StageTasks {
    std::string query_id;
    analyzer::LogicalOperatorPtr plan;  // outlives the tasks built from it
    std::vector<std::string> source_topics;
    bool reads_changes = false;
    std::vector<std::unique_ptr<runtime::StreamTask>> tasks;  // by partition
    std::vector<std::optional<int64_t>> newest;               // by partition: the newest timestamp
    bool paused = false;
    std::vector<HeldMessage> held;  // while paused, in arrival order
  };
  explicit OfflineEngine(int partitions) : partitions_(partitions) {}
  Status StartQuery(const std::string& query_id, analyzer::LogicalOperatorPtr plan,
                    const std::map<std::string, std::string>& properties);
  /// Appends a record to `topic` (its partition and offset are set here) and runs the tasks
  /// that read its partition.
  Status Deliver(const std::string& topic, runtime::InputMessage message, int depth);
  Status Process(StageTasks& stage, const runtime::InputMessage& message);
  /// PAUSE or RESUME `query_id` (every query when empty); resuming processes what was held.
  Status SetPaused(const std::string& query_id, bool paused);
  void Append(const TestRecord& record);

  int partitions_;
  std::unique_ptr<catalog::Catalog> catalog_;
  analyzer::SessionProperties session_properties_;   // SET by earlier statements
  std::vector<std::unique_ptr<StageTasks>> stages_;  // every query's, upstream first
  std::vector<std::string> plan_descriptions_;
  std::map<std::string, std::vector<TestRecord>> topics_;
  struct WriterSchema {
    std::string schema;
    int32_t id = 0;
    bool protobuf = false;  // else AVRO
    std::vector<registry::NamedSchema> references;
  };
  std::map<std::pair<std::string, bool>, WriterSchema> writer_schemas_;  // (topic, key)
  std::vector<std::string> output_order_;
  // Per (topic, partition): the next record's offset.
  std::map<std::pair<std::string, int32_t>, int64_t> next_offsets_;
};

/// Compares actual records with expected ones the way ksqlDB's test runner does: per
/// topic, in order and in count; JSON objects have as many fields, whose names match
/// exactly or upper-cased (an expected null matches a missing field); numbers
/// match as exact decimals; timestamps and windows only where the expected record has
/// them; headers always (the same names and values in the same order, none when the
/// expected record lists none). Returns an empty string on a match, else a readable diff.
std::string CompareRecords(const std::vector<TestRecord>& expected,
                           const std::vector<TestRecord>& actual);

/// Compares like CompareRecords, but only in the order Kafka keeps across partitions: per
/// topic and key (a windowed record's key includes its window, as its bytes do), the expected
/// records of that key must match the actual ones of that key, in order and in count. Records
/// without a key match as a multiset: Kafka spreads them over the partitions. Returns an empty
/// string on a match, else a readable diff.
std::string CompareRecordsPerKey(const std::vector<TestRecord>& expected,
                                 const std::vector<TestRecord>& actual);

/// A test file's JSON form of a key or value (`format`, with the source's `columns` of that
/// role) -> the bytes a producer would have written. InvalidArgument when it does not fit.
/// PROTOBUF and PROTOBUF_NOSR are encoded for real (`nullable` as the source declares).
Result<std::string> JsonToBytes(
    const nlohmann::json& value, const std::string& format,
    const std::vector<formats::FormatColumn>& columns,
    formats::ProtobufNullable nullable = formats::ProtobufNullable::kDefault);

/// Bytes a query wrote (`format`, with the columns of that role) -> the JSON form test files
/// use. `pointer` is where it goes in the record ("/key" or "/value"): the pointers of exact
/// decimals are added to `decimals`.
nlohmann::json BytesToJson(
    const std::string& bytes, const std::string& format,
    const std::vector<formats::FormatColumn>& columns, const std::string& pointer,
    std::set<std::string>& decimals,
    formats::ProtobufNullable nullable = formats::ProtobufNullable::kDefault);

/// Reads records from ksql-test-runner JSON ({"inputs": [...]} or {"outputs": [...]}).
Result<std::vector<TestRecord>> ParseTestRecords(const nlohmann::json& records);
nlohmann::json TestRecordToJson(const TestRecord& record);

}  // namespace sidestream::host
