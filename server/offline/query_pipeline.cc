#include "server/offline/query_pipeline.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "connectors/formats/row_format.h"
#include "functions/temporal_format.h"
#include "runtime/topology.h"
#include "sql/parser.h"

namespace sidestream::offline {

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

formats::FormatOptions Options(const SourceDescription& source, bool key) {
  formats::FormatOptions options;
  options.format = key ? source.key_format : source.value_format;
  options.is_key = key;
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
  return options;
}

void CollectColumns(const analyzer::BoundExpression& expression, std::vector<bool>& used) {
  if (expression.kind == analyzer::BoundKind::kColumn && expression.column_index >= 0 &&
      static_cast<size_t>(expression.column_index) < used.size()) {
    used[expression.column_index] = true;
  }
  for (const auto& child : expression.children) CollectColumns(*child, used);
}

}  // namespace

std::vector<bool> UsedSourceColumns(const analyzer::LogicalOperator& plan, size_t columns) {
  std::vector<const analyzer::LogicalOperator*> chain;
  for (const analyzer::LogicalOperator* node = &plan; node != nullptr;
       node = node->children.empty() ? nullptr : node->children[0].get()) {
    chain.push_back(node);
  }
  std::vector<bool> used(columns, false);
  for (auto node = chain.rbegin(); node != chain.rend(); ++node) {
    const analyzer::LogicalOperator& op = **node;
    if (op.predicate) CollectColumns(*op.predicate, used);
    for (const auto& expression : op.expressions) CollectColumns(*expression, used);
    for (const auto& aggregate : op.aggregates) CollectColumns(*aggregate.call, used);
    if (op.kind == analyzer::LogicalOperatorKind::kAggregate ||
        op.kind == analyzer::LogicalOperatorKind::kProject) {
      break;
    }
  }
  return used;
}

Result<std::optional<NewQuery>> ApplyStatement(const sql::Statement& statement,
                                               analyzer::AnalyzedStatement& analyzed,
                                               catalog::Catalog& catalog,
                                               analyzer::SessionProperties& session,
                                               std::string& message) {
  if (statement.kind == sql::StatementKind::kSet) {
    session[statement.property_name] = statement.property_value;
    message =
        "Set property '" + statement.property_name + "' to '" + statement.property_value + "'";
    return std::optional<NewQuery>();
  }
  if (statement.kind == sql::StatementKind::kUnset) {
    session.erase(statement.property_name);
    message = "Unset property '" + statement.property_name + "'";
    return std::optional<NewQuery>();
  }
  std::vector<std::string> before;
  for (const auto& query : catalog.ListQueries()) before.push_back(query.id);
  ASSIGN_OR_RAISE(message, analyzer::ApplyToCatalog(analyzed, catalog));
  if (!analyzed.plan || analyzed.plan->kind != analyzer::LogicalOperatorKind::kSink) {
    return std::optional<NewQuery>();
  }
  for (const auto& query : catalog.ListQueries()) {
    if (std::find(before.begin(), before.end(), query.id) != before.end()) continue;
    NewQuery created{query.id, std::move(analyzed.plan), session};
    for (const auto& property : statement.properties) {
      created.properties[property.key] = property.value.text;
    }
    return std::optional<NewQuery>(std::move(created));
  }
  return std::optional<NewQuery>();  // IF NOT EXISTS on an existing sink: nothing started
}

Result<NewQuery> CompileLastQuery(std::string_view sql, catalog::Catalog& catalog) {
  ASSIGN_OR_RAISE(auto statements, sql::ParseScript(sql));
  std::optional<NewQuery> last;
  analyzer::SessionProperties session;
  for (const auto& statement : statements) {
    analyzer::Analyzer analyzer(catalog, session);
    ASSIGN_OR_RAISE(auto analyzed, analyzer.Analyze(*statement));
    std::string message;
    ASSIGN_OR_RAISE(auto query, ApplyStatement(*statement, analyzed, catalog, session, message));
    if (query) last = std::move(query);
  }
  if (!last) return Status::InvalidArgument("the script starts no persistent query");
  return std::move(*last);
}

struct QueryPipeline::State {
  std::string id;
  SourceDescription source;
  SourceDescription sink;
  PipelineCallbacks callbacks;
  std::vector<formats::FormatColumn> source_keys, source_values, sink_keys, sink_values;
  std::unique_ptr<formats::RowDecoder> key_decoder, value_decoder;
  std::unique_ptr<formats::RowEncoder> key_encoder, value_encoder;
  std::unique_ptr<runtime::Topology> topology;
  std::string late_topic;
  // ksql.timestamp.throw.on.invalid: a record without a valid event time stops the query
  // instead of going to the dead-letter topic.
  bool stop_on_invalid_timestamp = false;
  std::string dead_letter_topic;
  int timestamp_column = -1;
  // A STRING event-time column is parsed with the source's TIMESTAMP_FORMAT.
  std::optional<functions::TemporalPattern> timestamp_format;
  // The sink's TIMESTAMP column: its value becomes the output record's timestamp.
  int sink_timestamp_column = -1;
  // No PARTITION BY or GROUP BY: the sink's key is the source's key object.
  bool keeps_source_key = true;
  PipelineCounters counters;
  // The batch being processed, for the late-record side output.
  std::span<const InputMessage> input;
  runtime::RecordBatch batch;
  std::string key_bytes, value_bytes, side_key;

  // Decodes `message` into `record`; the error names what did not fit.
  Status Decode(const InputMessage& message, runtime::Record& record);
  // The record's event time from the source's TIMESTAMP column, if it has one.
  Status ExtractTimestamp(runtime::Record& record);
  Status DeadLetter(const InputMessage& message, const Status& error);
};

QueryPipeline::QueryPipeline(std::unique_ptr<State> state) : state_(std::move(state)) {}
QueryPipeline::~QueryPipeline() = default;

Result<std::unique_ptr<QueryPipeline>> QueryPipeline::Create(
    const std::string& query_id, const analyzer::LogicalOperator& plan,
    const std::map<std::string, std::string>& query_properties, PipelineCallbacks callbacks) {
  auto state = std::make_unique<State>();
  State* self = state.get();
  self->id = query_id;
  self->sink = plan.source;
  self->callbacks = std::move(callbacks);
  auto late = query_properties.find("LATE_TOPIC");
  if (late != query_properties.end()) self->late_topic = late->second;
  self->stop_on_invalid_timestamp =
      analyzer::PropertyIsTrue(query_properties, kTimestampThrowOnInvalidProperty);

  auto on_result = [self](const runtime::Record& record) -> Status {
    int64_t timestamp = record.timestamp;
    if (self->sink_timestamp_column >= 0 && !record.tombstone) {
      const types::Value& event_time = record.row[self->sink_timestamp_column];
      // ksqlDB cannot write a record without a valid timestamp: it logs and skips it.
      if (event_time.is_null() || event_time.integer() < 0) {
        ++self->counters.evaluation_errors;
        return Status::OK();
      }
      timestamp = event_time.integer();
    }
    RETURN_NOT_OK(self->key_encoder->Encode(record.row, 0, self->key_bytes));
    if (!record.tombstone) {
      RETURN_NOT_OK(
          self->value_encoder->Encode(record.row, self->sink_keys.size(), self->value_bytes));
    }
    // No key when there are no key columns, or one that is NULL; a multi-column key is
    // written with its NULL fields (ksqlDB builds it), unless it is the source's null key.
    bool has_key = self->sink_keys.size() > 1
                       ? !(self->keeps_source_key && record.key_absent)
                       : self->sink_keys.size() == 1 && !record.row[0].is_null();
    return self->callbacks.on_result(has_key ? &self->key_bytes : nullptr,
                                     record.tombstone ? nullptr : &self->value_bytes, timestamp,
                                     record.window, record.retract);
  };
  auto on_late = [self](const runtime::Record& record, const runtime::WindowBounds& window,
                        int64_t stream_time) -> Status {
    ++self->counters.late_records;
    if (self->late_topic.empty()) return Status::OK();
    const InputMessage& message = self->input[record.input_index];
    nlohmann::json value = {{"REASON", "window closed"},           {"QUERY_ID", self->id},
                            {"WINDOW_START", window.start},        {"WINDOW_END", window.end},
                            {"STREAM_TIME", stream_time},          {"ROWTIME", record.timestamp},
                            {"RECORD", message.value.value_or("")}};
    if (message.key) self->side_key.assign(*message.key);
    return self->callbacks.on_side_output(self->late_topic, message.key ? &self->side_key : nullptr,
                                          value.dump(), record.timestamp);
  };
  ASSIGN_OR_RAISE(self->topology, runtime::Topology::Build(plan, on_result, on_late));
  for (const analyzer::LogicalOperator* node = &plan; !node->children.empty();
       node = node->children.front().get()) {
    if (node->kind == analyzer::LogicalOperatorKind::kRepartition ||
        node->kind == analyzer::LogicalOperatorKind::kAggregate) {
      self->keeps_source_key = false;
    }
  }
  self->source = self->topology->source();
  self->dead_letter_topic = Property(self->source, "DEAD_LETTER_TOPIC");
  if (self->dead_letter_topic.empty()) self->dead_letter_topic = kDefaultDeadLetterTopic;
  self->source_keys = FormatColumns(self->source, ColumnRole::kKey);
  self->source_values = FormatColumns(self->source, ColumnRole::kValue);
  // Projection pushdown: the value decoder skips the columns no expression reads.
  std::vector<bool> used = UsedSourceColumns(plan, self->source.columns.size());
  for (size_t i = 0; i < self->source_values.size(); ++i) {
    const std::string& name = self->source_values[i].name;
    bool event_time = self->source.timestamp_column && *self->source.timestamp_column == name;
    self->source_values[i].skip = !used[self->source_keys.size() + i] && !event_time;
  }
  ASSIGN_OR_RAISE(self->key_decoder,
                  formats::MakeDecoder(Options(self->source, true), self->source_keys));
  ASSIGN_OR_RAISE(self->value_decoder,
                  formats::MakeDecoder(Options(self->source, false), self->source_values));
  for (const auto& column : self->topology->result_schema().columns) {
    (column.role == ColumnRole::kKey ? self->sink_keys : self->sink_values)
        .push_back({column.name, column.type});
  }
  ASSIGN_OR_RAISE(self->key_encoder,
                  formats::MakeEncoder(Options(self->sink, true), self->sink_keys));
  ASSIGN_OR_RAISE(self->value_encoder,
                  formats::MakeEncoder(Options(self->sink, false), self->sink_values));
  if (self->source.timestamp_column) {
    for (size_t i = 0; i < self->source.columns.size(); ++i) {
      if (self->source.columns[i].name == *self->source.timestamp_column) {
        self->timestamp_column = static_cast<int>(i);
      }
    }
    if (self->source.timestamp_format) {
      ASSIGN_OR_RAISE(self->timestamp_format,
                      functions::TemporalPattern::Compile(*self->source.timestamp_format));
    }
  }
  if (self->sink.timestamp_column) {
    const auto& columns = self->topology->result_schema().columns;
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i].name == *self->sink.timestamp_column) {
        self->sink_timestamp_column = static_cast<int>(i);
      }
    }
  }
  return std::unique_ptr<QueryPipeline>(new QueryPipeline(std::move(state)));
}

Status QueryPipeline::State::Decode(const InputMessage& message, runtime::Record& record) {
  // A null value deletes a table row; in a stream it is a record whose value is null,
  // which projections pass on (ksqlDB does the same).
  record.tombstone = !message.value;
  // Decoders write every column they read, so only absent parts need clearing.
  types::Row& row = record.row;
  row.resize(source_keys.size() + source_values.size());
  record.timestamp = message.timestamp;
  record.window = message.window;
  record.partition = message.partition;
  record.offset = message.offset;
  record.retract = message.retract;
  record.key_absent = !message.key;
  if (message.key && !source_keys.empty()) {
    RETURN_NOT_OK(key_decoder->Decode(*message.key, row, 0));
  } else {
    for (size_t i = 0; i < source_keys.size(); ++i) row[i].SetNull();
  }
  if (message.value) {
    RETURN_NOT_OK(value_decoder->Decode(*message.value, row, source_keys.size()));
  } else {
    for (size_t i = source_keys.size(); i < row.size(); ++i) row[i].SetNull();
  }
  return Status::OK();
}

Status QueryPipeline::State::ExtractTimestamp(runtime::Record& record) {
  if (timestamp_column < 0 || record.tombstone) return Status::OK();
  const types::Value& event_time = record.row[timestamp_column];
  if (event_time.kind() == types::TypeId::kString && timestamp_format) {
    ASSIGN_OR_RAISE(record.timestamp, timestamp_format->Parse(event_time.string(), 0));
  } else if (event_time.is_null() || event_time.kind() == types::TypeId::kString) {
    return Status::InvalidArgument("TIMESTAMP column " + *source.timestamp_column +
                                   " is NULL or not epoch milliseconds");
  } else {
    record.timestamp = event_time.integer();
  }
  // Kafka Streams skips a record whose timestamp is negative.
  if (record.timestamp < 0) {
    return Status::InvalidArgument("TIMESTAMP column " + *source.timestamp_column +
                                   " is negative: " + std::to_string(record.timestamp));
  }
  return Status::OK();
}

Status QueryPipeline::State::DeadLetter(const InputMessage& message, const Status& error) {
  ++counters.decode_errors;
  nlohmann::json dead = {{"ERROR", error.message()}, {"QUERY_ID", id},
                         {"TOPIC", source.topic},    {"PARTITION", message.partition},
                         {"OFFSET", message.offset}, {"VALUE", message.value.value_or("")}};
  if (message.key) side_key.assign(*message.key);
  return callbacks.on_side_output(dead_letter_topic, message.key ? &side_key : nullptr, dead.dump(),
                                  message.timestamp);
}

Status QueryPipeline::ProcessBatch(std::span<const InputMessage> messages) {
  State& s = *state_;
  s.batch.Clear();
  for (size_t i = 0; i < messages.size(); ++i) {
    runtime::Record& record = s.batch.Append();
    record.input_index = static_cast<uint32_t>(i);
    Status decoded = s.Decode(messages[i], record);
    if (decoded.ok()) {
      decoded = s.ExtractTimestamp(record);
      if (!decoded.ok() && s.stop_on_invalid_timestamp) {
        return Status::InvalidArgument(
            "query " + s.id + " stopped at offset " + std::to_string(messages[i].offset) + ": " +
            decoded.message() + " (" + kTimestampThrowOnInvalidProperty + " is true)");
      }
    }
    if (!decoded.ok()) {
      s.batch.PopBack();
      RETURN_NOT_OK(s.DeadLetter(messages[i], decoded));
    }
  }
  s.counters.records += static_cast<int64_t>(messages.size());
  if (s.batch.empty()) return Status::OK();
  s.input = messages;
  int64_t errors_before = s.topology->evaluation_errors();
  Status processed = s.topology->Process(s.batch);
  s.counters.evaluation_errors += s.topology->evaluation_errors() - errors_before;
  s.input = {};
  return processed;
}

Status QueryPipeline::Process(const InputMessage& message) {
  return ProcessBatch(std::span<const InputMessage>(&message, 1));
}

Status QueryPipeline::Flush() { return state_->topology->Flush(); }

Status QueryPipeline::AdvanceStreamTime(int64_t stream_time) {
  return state_->topology->AdvanceStreamTime(stream_time);
}

const std::string& QueryPipeline::query_id() const { return state_->id; }
const SourceDescription& QueryPipeline::source() const { return state_->source; }
const SourceDescription& QueryPipeline::sink() const { return state_->sink; }
PipelineCounters QueryPipeline::counters() const { return state_->counters; }

}  // namespace sidestream::offline
