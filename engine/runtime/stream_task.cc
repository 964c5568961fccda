#include "runtime/stream_task.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>

#include "connectors/formats/row_format.h"
#include "functions/temporal_format.h"
#include "planner/physical_plan.h"
#include "runtime/header_columns.h"
#include "runtime/record_collector.h"
#include "runtime/side_records.h"
#include "runtime/topology.h"

namespace sidestream::runtime {

using catalog::ColumnRole;
using catalog::SourceDescription;

std::vector<formats::FormatColumn> FormatColumns(const SourceDescription& source, ColumnRole role) {
  std::vector<formats::FormatColumn> columns;
  for (const auto& column : source.columns) {
    if (column.role == role) columns.push_back({column.name, column.type});
  }
  return columns;
}

namespace {

std::string Property(const SourceDescription& source, const std::string& name) {
  auto found = source.properties.find(name);
  return found == source.properties.end() ? "" : found->second;
}

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), ::toupper);
  return text;
}

}  // namespace

formats::FormatOptions FormatOptionsOf(const SourceDescription& source, bool key) {
  formats::FormatOptions options;
  options.format = key ? source.key_format : source.value_format;
  options.is_key = key;
  options.topic = source.topic;
  options.full_schema_name =
      Property(source, key ? "KEY_SCHEMA_FULL_NAME" : "VALUE_SCHEMA_FULL_NAME");
  if (!key && options.full_schema_name.empty()) {
    options.full_schema_name = Property(source, "VALUE_AVRO_SCHEMA_FULL_NAME");
  }
  std::string delimiter = Property(source, key ? "KEY_DELIMITER" : "VALUE_DELIMITER");
  if (Upper(delimiter) == "TAB") {
    options.delimiter = '\t';
  } else if (Upper(delimiter) == "SPACE") {
    options.delimiter = ' ';
  } else if (!delimiter.empty()) {
    options.delimiter = delimiter[0];
  }
  if (!key && Upper(Property(source, "WRAP_SINGLE_VALUE")) == "FALSE") {
    options.wrap_single_value = false;
  }
  const std::string nullable =
      Upper(Property(source, key ? "KEY_PROTOBUF_NULLABLE_REPRESENTATION"
                                 : "VALUE_PROTOBUF_NULLABLE_REPRESENTATION"));
  if (nullable == "OPTIONAL") options.protobuf_nullable = formats::ProtobufNullable::kOptional;
  if (nullable == "WRAPPER") options.protobuf_nullable = formats::ProtobufNullable::kWrapper;
  // A registered schema to write with (the analyzer checked it is an integer).
  const std::string schema_id = Property(source, key ? "KEY_SCHEMA_ID" : "VALUE_SCHEMA_ID");
  if (!schema_id.empty()) {
    options.schema_id = static_cast<int32_t>(std::strtol(schema_id.c_str(), nullptr, 10));
  }
  return options;
}

// How the messages of one source topic become records.
struct SourceDecoding {
  SourceDescription source;
  std::vector<formats::FormatColumn> keys, values;
  std::unique_ptr<formats::RowDecoder> key_decoder, value_decoder;
  std::string dead_letter_topic;
  int timestamp_column = -1;
  // The HEADERS and HEADER('name') columns the query reads (after the key and value ones).
  std::vector<runtime::HeaderColumn> header_columns;
  // A STRING event-time column is parsed with the source's TIMESTAMP_FORMAT.
  std::optional<functions::TemporalPattern> timestamp_format;
};

struct StreamTask::State {
  std::string id;
  std::vector<SourceDecoding> inputs;      // the topology's sources, left to right
  std::vector<SourceDescription> sources;  // theirs, as sources() hands them out
  SourceDescription sink;
  TaskCallbacks callbacks;
  std::vector<formats::FormatColumn> sink_keys, sink_values;
  std::unique_ptr<formats::RowEncoder> key_encoder, value_encoder;
  std::unique_ptr<runtime::Topology> topology;
  std::string late_topic;
  // ksql.timestamp.throw.on.invalid: a record without a valid event time stops the query
  // instead of going to the dead-letter topic.
  bool stop_on_invalid_timestamp = false;
  // The sink's TIMESTAMP column: its value becomes the output record's timestamp.
  int sink_timestamp_column = -1;
  // A STRING sink TIMESTAMP column is parsed with the sink's TIMESTAMP_FORMAT.
  std::optional<functions::TemporalPattern> sink_timestamp_format;
  // No PARTITION BY, GROUP BY or join: the sink's key is the source's key object.
  bool keeps_source_key = true;
  // The sink is a repartition topic: a row with a NULL grouping value goes nowhere.
  bool drop_null_keys = false;
  TaskCounters counters;
  // The batch being processed, for the late-record side output.
  std::span<const InputMessage> input;
  runtime::RecordBatch batch;
  std::string key_bytes, value_bytes, side_key;
  std::string old_key_bytes, old_value_bytes;  // the retraction a change replaces
  bool has_key = false;                        // of the result encoded last
  int64_t result_timestamp = 0;                // of the result encoded last

  // Decodes `message` into `record`; the error names what did not fit.
  Status Decode(const InputMessage& message, runtime::Record& record);
  // The record's event time from its source's TIMESTAMP column, if it has one.
  Status ExtractTimestamp(const SourceDecoding& input, runtime::Record& record);
  Status DeadLetter(const InputMessage& message, const Status& error);
  // Encodes a result into `key` and `value` (has_key, result_timestamp say the rest); false
  // when it is not written (no valid event time in the sink's TIMESTAMP column, or a NULL
  // grouping value on its way to a repartition topic).
  Result<bool> EncodeResult(const runtime::Record& record, std::string& key, std::string& value);
  // Writes the result encoded last (key_bytes, value_bytes), with the value it replaces.
  Status WriteResult(const runtime::Record& record, const std::string* old_value);
  // Encodes and writes one result.
  Status EmitResult(const runtime::Record& record);
  // A result too large for the sink goes to the dead-letter topic of the source it came from.
  // `bytes`: the result's size with its headers.
  Status DeadLetterResult(const runtime::Record& record, const std::string* key,
                          const std::string* value, size_t bytes);
  // Whether `message` is a table's row without a key, which no table holds.
  bool DropsNullKey(const InputMessage& message) const;
  // Runs the decoded records of the batch through the topology.
  Status RunBatch(size_t source);
};

StreamTask::StreamTask(std::unique_ptr<State> state) : state_(std::move(state)) {}
StreamTask::~StreamTask() = default;

Result<std::unique_ptr<StreamTask>> StreamTask::Create(
    const std::string& query_id, const analyzer::LogicalOperator& plan,
    const std::map<std::string, std::string>& query_properties, TaskCallbacks callbacks,
    runtime::StoreFactory stores) {
  auto state = std::make_unique<State>();
  State* self = state.get();
  self->id = query_id;
  self->sink = plan.source;
  self->drop_null_keys = plan.repartition && !plan.null_keys_travel;
  self->callbacks = std::move(callbacks);
  auto late = query_properties.find("LATE_TOPIC");
  if (late != query_properties.end()) self->late_topic = late->second;
  self->stop_on_invalid_timestamp =
      analyzer::PropertyIsTrue(query_properties, kTimestampThrowOnInvalidProperty);

  auto on_result = [self](const runtime::Record& record,
                          const runtime::Record* replaced) -> Status {
    if (replaced != nullptr) {
      // One message for both halves of the change when they share a key.
      ASSIGN_OR_RAISE(bool old_written,
                      self->EncodeResult(*replaced, self->old_key_bytes, self->old_value_bytes));
      ASSIGN_OR_RAISE(bool new_written,
                      self->EncodeResult(record, self->key_bytes, self->value_bytes));
      if (old_written && new_written && self->has_key && self->old_key_bytes == self->key_bytes) {
        return self->WriteResult(record, &self->old_value_bytes);
      }
      RETURN_NOT_OK(self->EmitResult(*replaced));
    }
    return self->EmitResult(record);
  };
  auto on_late = [self](const runtime::Record& record, const runtime::WindowBounds& window,
                        int64_t stream_time) -> Status {
    ++self->counters.late_records;
    if (self->late_topic.empty()) return Status::OK();
    const InputMessage& message = self->input[record.input_index];
    std::string value = FittedSideRecord(self->callbacks.max_message_bytes, [&](size_t limit) {
      nlohmann::json late = {{"REASON", "window closed"},    {"QUERY_ID", self->id},
                             {"WINDOW_START", window.start}, {"WINDOW_END", window.end},
                             {"STREAM_TIME", stream_time},   {"ROWTIME", record.timestamp}};
      // As the record arrived, before a GROUP BY re-keyed it, when it travelled along.
      AddPayload(late, "RECORD", message.source_value.value_or(message.value.value_or("")), limit);
      return late;
    });
    const std::optional<std::string_view>& key =
        message.source_value ? message.source_key : message.key;
    if (key) self->side_key.assign(*key);
    return self->callbacks.on_side_output(self->late_topic, key ? &self->side_key : nullptr, value,
                                          record.timestamp);
  };
  ASSIGN_OR_RAISE(self->topology,
                  runtime::Topology::Build(plan, on_result, on_late, std::move(stores)));
  for (const analyzer::LogicalOperator* node = &plan; !node->children.empty();
       node = node->children.front().get()) {
    if (node->kind == analyzer::LogicalOperatorKind::kRepartition ||
        node->kind == analyzer::LogicalOperatorKind::kAggregate ||
        node->kind == analyzer::LogicalOperatorKind::kJoin) {
      self->keeps_source_key = false;
    }
  }
  // Projection pushdown: the value decoders skip the columns no expression reads.
  const std::vector<std::vector<bool>> used = planner::UsedColumnsBySource(plan);
  for (size_t index = 0; index < self->topology->sources().size(); ++index) {
    SourceDecoding& input = self->inputs.emplace_back();
    input.source = self->topology->sources()[index].source;
    self->sources.push_back(input.source);
    const SourceDescription& source = input.source;
    input.dead_letter_topic = Property(source, "DEAD_LETTER_TOPIC");
    if (input.dead_letter_topic.empty()) input.dead_letter_topic = kDefaultDeadLetterTopic;
    input.keys = FormatColumns(source, ColumnRole::kKey);
    input.values = FormatColumns(source, ColumnRole::kValue);
    for (size_t i = 0; i < input.values.size(); ++i) {
      const std::string& name = input.values[i].name;
      bool event_time = source.timestamp_column && *source.timestamp_column == name;
      input.values[i].skip = !used[index][input.keys.size() + i] && !event_time;
    }
    for (size_t i = 0; i < source.columns.size(); ++i) {
      if (source.columns[i].role == ColumnRole::kHeader && used[index][i]) {
        input.header_columns.push_back({i, source.columns[i].header_key});
      }
    }
    ASSIGN_OR_RAISE(input.key_decoder,
                    formats::MakeDecoder(FormatOptionsOf(source, true), input.keys));
    ASSIGN_OR_RAISE(input.value_decoder,
                    formats::MakeDecoder(FormatOptionsOf(source, false), input.values));
    if (source.timestamp_column) {
      for (size_t i = 0; i < source.columns.size(); ++i) {
        if (source.columns[i].name == *source.timestamp_column) {
          input.timestamp_column = static_cast<int>(i);
        }
      }
      if (source.timestamp_format) {
        ASSIGN_OR_RAISE(input.timestamp_format,
                        functions::TemporalPattern::Compile(*source.timestamp_format));
      }
    }
  }
  for (const auto& column : self->topology->result_schema().columns) {
    (column.role == ColumnRole::kKey ? self->sink_keys : self->sink_values)
        .push_back({column.name, column.type});
  }
  ASSIGN_OR_RAISE(self->key_encoder,
                  formats::MakeEncoder(FormatOptionsOf(self->sink, true), self->sink_keys));
  ASSIGN_OR_RAISE(self->value_encoder,
                  formats::MakeEncoder(FormatOptionsOf(self->sink, false), self->sink_values));
  if (self->sink.timestamp_column) {
    const auto& columns = self->topology->result_schema().columns;
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i].name == *self->sink.timestamp_column) {
        self->sink_timestamp_column = static_cast<int>(i);
      }
    }
    if (self->sink.timestamp_format) {
      ASSIGN_OR_RAISE(self->sink_timestamp_format,
                      functions::TemporalPattern::Compile(*self->sink.timestamp_format));
    }
  }
  return std::unique_ptr<StreamTask>(new StreamTask(std::move(state)));
}

Status StreamTask::State::Decode(const InputMessage& message, runtime::Record& record) {
  if (message.source >= inputs.size()) {
    return Status::InvalidArgument("query " + id + " has no source " +
                                   std::to_string(message.source));
  }
  const SourceDecoding& input = inputs[message.source];
  // A null value deletes a table row; in a stream it is a record whose value is null,
  // which projections pass on (ksqlDB does the same).
  record.tombstone = !message.value;
  // Decoders write every column they read, so only absent parts need clearing.
  types::Row& row = record.row;
  const size_t decoded = input.keys.size() + input.values.size();
  row.resize(input.source.columns.size());
  // Header columns the query does not read stay NULL.
  for (size_t i = decoded; i < row.size(); ++i) row[i].SetNull();
  runtime::FillHeaderColumns(input.header_columns, message.headers, row);
  record.timestamp = message.timestamp;
  // A source declared without a window reads a windowed topic's key as it is, window dropped
  // (on Kafka the window is part of the key's bytes, which such a source does not decode).
  record.window =
      input.source.window_type == catalog::WindowType::kNone ? std::nullopt : message.window;
  record.partition = message.partition;
  record.offset = message.offset;
  record.retract = message.retract;
  record.key_absent = !message.key;
  if (message.key && !input.keys.empty()) {
    RETURN_NOT_OK(input.key_decoder->Decode(*message.key, row, 0));
  } else {
    for (size_t i = 0; i < input.keys.size(); ++i) row[i].SetNull();
  }
  if (message.value) {
    RETURN_NOT_OK(input.value_decoder->Decode(*message.value, row, input.keys.size()));
  } else {
    for (size_t i = input.keys.size(); i < decoded; ++i) row[i].SetNull();
  }
  return Status::OK();
}

Status StreamTask::State::ExtractTimestamp(const SourceDecoding& input, runtime::Record& record) {
  if (input.timestamp_column < 0 || record.tombstone) return Status::OK();
  const std::string& column = *input.source.timestamp_column;
  const types::Value& event_time = record.row[input.timestamp_column];
  if (event_time.kind() == types::TypeId::kString && input.timestamp_format) {
    ASSIGN_OR_RAISE(record.timestamp, input.timestamp_format->Parse(event_time.string(), 0));
  } else if (event_time.is_null() || event_time.kind() == types::TypeId::kString) {
    return Status::InvalidArgument("TIMESTAMP column " + column +
                                   " is NULL or not epoch milliseconds");
  } else {
    record.timestamp = event_time.integer();
  }
  // Kafka Streams skips a record whose timestamp is negative.
  if (record.timestamp < 0) {
    return Status::InvalidArgument("TIMESTAMP column " + column +
                                   " is negative: " + std::to_string(record.timestamp));
  }
  return Status::OK();
}

Status StreamTask::State::DeadLetter(const InputMessage& message, const Status& error) {
  ++counters.decode_errors;
  const SourceDecoding& input = inputs[std::min<size_t>(message.source, inputs.size() - 1)];
  std::string dead = FittedSideRecord(callbacks.max_message_bytes, [&](size_t limit) {
    nlohmann::json record = {{"ERROR", error.message()},
                             {"QUERY_ID", id},
                             {"TOPIC", input.source.topic},
                             {"PARTITION", message.partition},
                             {"OFFSET", message.offset}};
    if (message.key) AddPayload(record, "KEY", *message.key, limit);
    AddPayload(record, "VALUE", message.value.value_or(""), limit);
    return record;
  });
  // The side record's key is the input's, cut to what the sink takes.
  if (message.key) {
    side_key.assign(message.key->substr(0, callbacks.max_message_bytes - dead.size()));
  }
  return callbacks.on_side_output(input.dead_letter_topic, message.key ? &side_key : nullptr, dead,
                                  message.timestamp);
}

Result<bool> StreamTask::State::EncodeResult(const runtime::Record& record, std::string& key,
                                             std::string& value) {
  result_timestamp = record.timestamp;
  if (sink_timestamp_column >= 0 && !record.tombstone) {
    const types::Value& event_time = record.row[sink_timestamp_column];
    // ksqlDB cannot write a record without a valid timestamp: it logs and skips it.
    std::optional<int64_t> timestamp;
    if (!event_time.is_null() && event_time.kind() != types::TypeId::kString) {
      timestamp = event_time.integer();
    } else if (!event_time.is_null() && sink_timestamp_format) {
      auto parsed = sink_timestamp_format->Parse(event_time.string(), 0);
      if (parsed.ok()) timestamp = *parsed;
    }
    if (!timestamp || *timestamp < 0) {
      ++counters.evaluation_errors;
      return false;
    }
    result_timestamp = *timestamp;
  }
  if (drop_null_keys) {
    for (size_t column = 0; column < sink_keys.size(); ++column) {
      if (record.row[column].is_null()) return false;
    }
  }
  RETURN_NOT_OK(key_encoder->Encode(record.row, 0, key));
  if (!record.tombstone) RETURN_NOT_OK(value_encoder->Encode(record.row, sink_keys.size(), value));
  // No key when there are no key columns, or one that is NULL; a multi-column key is
  // written with its NULL fields (ksqlDB builds it), unless it is the source's null key.
  has_key = sink_keys.size() > 1 ? !(keeps_source_key && record.key_absent)
                                 : sink_keys.size() == 1 && !record.row[0].is_null();
  return true;
}

Status StreamTask::State::WriteResult(const runtime::Record& record, const std::string* old_value) {
  const std::string* key = has_key ? &key_bytes : nullptr;
  const std::string* value = record.tombstone ? nullptr : &value_bytes;
  size_t bytes =
      (key ? key->size() : 0) + (value ? value->size() : 0) + (old_value ? old_value->size() : 0);
  const InputMessage* source =
      record.input_index < input.size() ? &input[record.input_index] : nullptr;
  // The producer counts headers too (librdkafka refuses a message whose key, value and
  // headers exceed message.max.bytes): the input's headers travel with its results.
  if (source != nullptr) {
    for (const RecordHeader& header : source->headers) {
      if (!IsInternalHeader(header.name)) bytes += header.name.size() + header.value.size();
    }
    if (callbacks.carries_sources) {
      bytes += (source->key ? source->key->size() : 0) + source->value.value_or("").size();
    }
  }
  if (bytes > callbacks.max_message_bytes) return DeadLetterResult(record, key, value, bytes);
  TaskResult result;
  result.key = key;
  result.value = value;
  result.timestamp = result_timestamp;
  result.window = record.window;
  result.retract = record.retract;
  result.old_value = old_value;
  result.source = source;
  return callbacks.on_result(result);
}

Status StreamTask::State::EmitResult(const runtime::Record& record) {
  ASSIGN_OR_RAISE(bool written, EncodeResult(record, key_bytes, value_bytes));
  return written ? WriteResult(record, nullptr) : Status::OK();
}

Status StreamTask::State::DeadLetterResult(const runtime::Record& record, const std::string* key,
                                           const std::string* value, size_t bytes) {
  ++counters.oversized_results;
  // The input that caused the result, when it is in the batch being processed (a window
  // closed by the wall clock has none).
  const InputMessage* cause =
      record.input_index < input.size() ? &input[record.input_index] : nullptr;
  const SourceDecoding& from = inputs[cause ? std::min(cause->source, inputs.size() - 1) : 0];
  std::string dead = FittedSideRecord(callbacks.max_message_bytes, [&](size_t limit) {
    nlohmann::json out = {
        {"ERROR", "result record of " + std::to_string(bytes) + " bytes is larger than the " +
                      std::to_string(callbacks.max_message_bytes) + " bytes topic " + sink.topic +
                      " takes (message.max.bytes)"},
        {"QUERY_ID", id},
        {"TOPIC", from.source.topic},
        {"PARTITION", record.partition},
        {"OFFSET", record.offset},
        {"SINK_TOPIC", sink.topic}};
    if (key) AddPayload(out, "RESULT_KEY", *key, limit);
    if (value) AddPayload(out, "RESULT_VALUE", *value, limit);
    return out;
  });
  return callbacks.on_side_output(from.dead_letter_topic, nullptr, dead, record.timestamp);
}

bool StreamTask::State::DropsNullKey(const InputMessage& message) const {
  if (message.key || message.source >= inputs.size()) return false;
  const SourceDecoding& from = inputs[message.source];
  return from.source.type == catalog::SourceType::kTable && !from.keys.empty();
}

Status StreamTask::State::RunBatch(size_t source) {
  if (batch.empty()) return Status::OK();
  int64_t errors_before = topology->evaluation_errors();
  Status processed = topology->Process(source, batch);
  counters.evaluation_errors += topology->evaluation_errors() - errors_before;
  batch.Clear();
  return processed;
}

Status StreamTask::ProcessBatch(std::span<const InputMessage> messages) {
  State& s = *state_;
  s.batch.Clear();
  s.input = messages;
  // Consecutive messages of one source go through the topology as one batch.
  size_t source = messages.empty() ? 0 : messages.front().source;
  Status status;
  for (size_t i = 0; i < messages.size() && status.ok(); ++i) {
    if (messages[i].source != source) {
      status = s.RunBatch(source);
      source = messages[i].source;
      if (!status.ok()) break;
    }
    if (s.DropsNullKey(messages[i])) {
      // ksqlDB's tables are Kafka Streams KTables, whose source skips a record with a null
      // key: such a row can be neither stored nor deleted, so no table row follows from it.
      ++s.counters.null_key_table_records;
      continue;
    }
    const size_t batched = s.batch.size();
    Status decoded;
    if (messages[i].old_value) {
      // The row this one replaces is undone first, as the same change (same offset and
      // batch position: the Aggregate applies both before it emits).
      InputMessage old = messages[i];
      old.value = old.old_value;
      old.retract = true;
      runtime::Record& undo = s.batch.Append();
      undo.input_index = static_cast<uint32_t>(i);
      decoded = s.Decode(old, undo);
    }
    runtime::Record& record = s.batch.Append();
    record.input_index = static_cast<uint32_t>(i);
    if (decoded.ok()) decoded = s.Decode(messages[i], record);
    if (decoded.ok()) {
      decoded = s.ExtractTimestamp(s.inputs[source], record);
      if (!decoded.ok() && s.stop_on_invalid_timestamp) {
        status = Status::InvalidArgument(
            "query " + s.id + " stopped at offset " + std::to_string(messages[i].offset) + ": " +
            decoded.message() + " (" + kTimestampThrowOnInvalidProperty + " is true)");
        break;
      }
    }
    if (!decoded.ok() && decoded.code() == StatusCode::kUnavailable) {
      // The schema registry cannot be reached: the record is fine, so it is not dead-lettered;
      // the query stops with a retriable error instead.
      s.batch.Truncate(batched);
      status = decoded;
      break;
    }
    if (!decoded.ok()) {
      s.batch.Truncate(batched);
      status = s.DeadLetter(messages[i], decoded);
    }
  }
  if (status.ok()) status = s.RunBatch(source);
  s.counters.records += static_cast<int64_t>(messages.size());
  s.input = {};
  return status;
}

Status StreamTask::Process(const InputMessage& message) {
  return ProcessBatch(std::span<const InputMessage>(&message, 1));
}

Status StreamTask::Flush() { return state_->topology->Flush(); }

Status StreamTask::EmitStored(const std::vector<types::Row>* keys, CallbackSink::Callback visit) {
  return state_->topology->EmitStored(keys, std::move(visit));
}

bool StreamTask::materialized() const { return state_->topology->materialized(); }

Status StreamTask::RebuildIndexes() { return state_->topology->RebuildIndexes(); }

Status StreamTask::AdvanceStreamTime(int64_t stream_time) {
  return state_->topology->AdvanceStreamTime(stream_time);
}

int64_t StreamTask::stream_time() const { return state_->topology->stream_time(); }
const std::string& StreamTask::query_id() const { return state_->id; }
const SourceDescription& StreamTask::source() const { return state_->sources.front(); }
const std::vector<SourceDescription>& StreamTask::sources() const { return state_->sources; }
const SourceDescription& StreamTask::sink() const { return state_->sink; }
TaskCounters StreamTask::counters() const { return state_->counters; }

}  // namespace sidestream::runtime
