#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "analyzer/analyzer.h"
#include "analyzer/logical_plan.h"
#include "catalog/catalog.h"
#include "common/status.h"
#include "connectors/formats/row_format.h"
#include "runtime/operator.h"
#include "runtime/record.h"
#include "runtime/source.h"
#include "runtime/state_store.h"

namespace sidestream::runtime {

struct InputMessage;

/// A result record of a pipeline, as its sink writes it. Pointers are valid during the call.
struct TaskResult {
  const std::string* key = nullptr;    // null when every key column is NULL or there are none
  const std::string* value = nullptr;  // null for a tombstone
  int64_t timestamp = 0;               // event time
  std::optional<runtime::WindowBounds> window;  // of a windowed key
  /// The row is a retraction (only a table re-grouping's first stage writes those; see
  /// runtime::TableChangesOperator).
  bool retract = false;
  /// The value this row replaces under the same key (a table update whose old and new rows
  /// fall in one group): the reader applies its retraction and the new row as one change.
  const std::string* old_value = nullptr;
  /// The input message the result came from, when it is in the batch being processed. A
  /// re-keying stage can pass its key and value on, so that the next stage writes a record
  /// that comes too late as it arrived (InputMessage::source_key, source_value).
  const InputMessage* source = nullptr;
};

/// Where a pipeline's records go.
struct TaskCallbacks {
  std::function<Status(const TaskResult& result)> on_result;
  /// A record for a side topic: a late record (to the query's LATE_TOPIC) or one that
  /// failed to decode (to the dead-letter topic). The value is JSON naming the reason.
  std::function<Status(const std::string& topic, const std::string* key, const std::string& value,
                       int64_t timestamp)>
      on_side_output;
  /// The largest record (key plus value) the sink takes: librdkafka's message.max.bytes. A
  /// result larger than this goes to the dead-letter topic instead of failing the query.
  size_t max_message_bytes = kDefaultMaxMessageBytes;
  static constexpr size_t kDefaultMaxMessageBytes = 1'000'000;
  /// on_result writes the source message's key and value as headers too (a re-keying
  /// stage's, RecordCollector::StageCallbacks): they count toward max_message_bytes.
  bool carries_sources = false;
};

/// Counters of what did not flow through normally.
struct TaskCounters {
  int64_t records = 0;
  int64_t late_records = 0;   // applied to no window
  int64_t decode_errors = 0;  // did not fit the source schema
  int64_t evaluation_errors = 0;
  int64_t oversized_results = 0;       // too large for the sink: sent to the dead-letter topic
  int64_t null_key_table_records = 0;  // table rows without a key: dropped, as Kafka Streams does

  TaskCounters& operator+=(const TaskCounters& other) {
    records += other.records;
    null_key_table_records += other.null_key_table_records;
    late_records += other.late_records;
    decode_errors += other.decode_errors;
    oversized_results += other.oversized_results;
    evaluation_errors += other.evaluation_errors;
    return *this;
  }
};

/// One message of the source topic, as a pipeline reads it. The bytes are borrowed
/// (from librdkafka's buffers on Kafka) for the duration of the call. An absent key or
/// value is nullopt; an absent value is a tombstone for tables and is skipped by streams. A
/// table's message without a key is dropped (Kafka Streams' table source skips a null key).
struct InputMessage {
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  int64_t timestamp = 0;
  std::optional<runtime::WindowBounds> window;  // of a windowed source's key
  int32_t partition = 0;
  int64_t offset = 0;
  /// The row undoes an earlier row (a table change read back from a repartition topic).
  bool retract = false;
  /// The value of the row this one replaces, undone first as part of the same change
  /// (TaskResult::old_value, read back from a repartition topic).
  std::optional<std::string_view> old_value;
  /// The key and value of the message a re-keyed row came from (TaskResult::source, read
  /// back from a repartition topic): a late record is written as that message arrived.
  std::optional<std::string_view> source_key, source_value;
  /// Which of the pipeline's sources (StreamTask::sources()) the message is from.
  size_t source = 0;
  /// The message's headers, in order: HEADERS and HEADER('name') columns read them.
  std::span<const runtime::RecordHeader> headers;
};

/// Query property: "true" stops the query at a record whose TIMESTAMP column does not give a
/// valid event time (ksqlDB's name). By default the record goes to the dead-letter topic.
inline constexpr const char* kTimestampThrowOnInvalidProperty = "ksql.timestamp.throw.on.invalid";

/// The columns of a source with `role` (key or value), as a format sees them.
std::vector<formats::FormatColumn> FormatColumns(const catalog::SourceDescription& source,
                                                 catalog::ColumnRole role);
/// The key's (`key`) or value's format of `source`, with its WITH options (delimiters,
/// WRAP_SINGLE_VALUE).
formats::FormatOptions FormatOptionsOf(const catalog::SourceDescription& source, bool key);

/// One persistent query for one input partition: decodes message bytes with the source's
/// formats, runs the query's operators, and encodes results with the sink's formats.
/// The same pipeline runs offline (in-memory topics) and on Kafka (one per task).
/// Thread: one task thread. Ownership: owns its decoders, operators and encoders.
class StreamTask {
 public:
  /// `query_properties`: the session's and the query's WITH properties (LATE_TOPIC, ...).
  /// `stores` makes the operators' state stores (in memory when empty; see
  /// runtime::Topology::Build).
  static Result<std::unique_ptr<StreamTask>> Create(
      const std::string& query_id, const analyzer::LogicalOperator& plan,
      const std::map<std::string, std::string>& query_properties, TaskCallbacks callbacks,
      runtime::StoreFactory stores = {});
  ~StreamTask();

  /// Processes messages of the source topics, in order, as one batch through the
  /// operators (buffers are reused across batches: a warm pipeline allocates only for
  /// new state). A message that does not decode goes to the dead-letter topic and is
  /// counted; it is not an error.
  Status ProcessBatch(std::span<const InputMessage> messages);
  /// ProcessBatch of one message.
  Status Process(const InputMessage& message);
  /// A commit is under way: state stores make their writes durable.
  Status Flush();
  /// Moves stream time (an idle partition's wall-clock close).
  Status AdvanceStreamTime(int64_t stream_time);
  /// The stores were restored: operators rebuild their in-memory indexes, and stream time
  /// returns to where it was at the last commit.
  Status RebuildIndexes();

  /// Pull queries: the result rows the task's state holds now, in the sink's schema (see
  /// Topology::EmitStored). NotSupported unless the task ends in an aggregation.
  Status EmitStored(const std::vector<types::Row>* keys, CallbackSink::Callback visit);
  bool materialized() const;

  /// The task's stream time (INT64_MIN before its first record).
  int64_t stream_time() const;
  const std::string& query_id() const;
  /// The first source; sources() lists all of a join's, left to right.
  const catalog::SourceDescription& source() const;
  const std::vector<catalog::SourceDescription>& sources() const;
  const catalog::SourceDescription& sink() const;
  TaskCounters counters() const;

 private:
  struct State;
  explicit StreamTask(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// The dead-letter topic used when a source sets no DEAD_LETTER_TOPIC.
inline constexpr const char* kDefaultDeadLetterTopic = "sidestream_dead_letters";

}  // namespace sidestream::runtime
