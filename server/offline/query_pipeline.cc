#include "server/offline/query_pipeline.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "connectors/formats/row_format.h"
#include "functions/temporal_format.h"
#include "runtime/topology.h"

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

// The source columns that expressions over the scan's row read: those of the operators
// from the Scan up to the first one that changes the row's layout (Aggregate or Project).
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

}  // namespace

Result<std::optional<NewQuery>> ApplyStatement(const sql::Statement& statement,
                                               analyzer::AnalyzedStatement& analyzed,
                                               catalog::Catalog& catalog, std::string& message) {
  std::vector<std::string> before;
  for (const auto& query : catalog.ListQueries()) before.push_back(query.id);
  ASSIGN_OR_RAISE(message, analyzer::ApplyToCatalog(analyzed, catalog));
  if (!analyzed.plan || analyzed.plan->kind != analyzer::LogicalOperatorKind::kSink) {
    return std::optional<NewQuery>();
  }
  for (const auto& query : catalog.ListQueries()) {
    if (std::find(before.begin(), before.end(), query.id) != before.end()) continue;
    NewQuery created{query.id, std::move(analyzed.plan), {}};
    for (const auto& property : statement.properties) {
      created.properties[property.key] = property.value.text;
    }
    return std::optional<NewQuery>(std::move(created));
  }
  return std::optional<NewQuery>();  // IF NOT EXISTS on an existing sink: nothing started
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
  std::string dead_letter_topic;
  int timestamp_column = -1;
  // A STRING event-time column is parsed with the source's TIMESTAMP_FORMAT.
  std::optional<functions::TemporalPattern> timestamp_format;
  // The sink's TIMESTAMP column: its value becomes the output record's timestamp.
  int sink_timestamp_column = -1;
  PipelineCounters counters;
  // The message being processed, for the late-record side output.
  const std::string* input_key = nullptr;
  const std::string* input_value = nullptr;
  runtime::Record record;
  std::string key_bytes, value_bytes;
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
    // always written (its NULL fields included), as ksqlDB does.
    bool has_key =
        self->sink_keys.size() > 1 || (self->sink_keys.size() == 1 && !record.row[0].is_null());
    return self->callbacks.on_result(has_key ? &self->key_bytes : nullptr,
                                     record.tombstone ? nullptr : &self->value_bytes, timestamp,
                                     record.window);
  };
  auto on_late = [self](const runtime::Record& record, const runtime::WindowBounds& window,
                        int64_t stream_time) -> Status {
    ++self->counters.late_records;
    if (self->late_topic.empty()) return Status::OK();
    nlohmann::json value = {{"REASON", "window closed"},
                            {"QUERY_ID", self->id},
                            {"WINDOW_START", window.start},
                            {"WINDOW_END", window.end},
                            {"STREAM_TIME", stream_time},
                            {"ROWTIME", record.timestamp},
                            {"RECORD", self->input_value ? *self->input_value : ""}};
    return self->callbacks.on_side_output(self->late_topic, self->input_key, value.dump(),
                                          record.timestamp);
  };
  ASSIGN_OR_RAISE(self->topology, runtime::Topology::Build(plan, on_result, on_late));
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

Status QueryPipeline::Process(const std::string* key, const std::string* value, int64_t timestamp,
                              const std::optional<runtime::WindowBounds>& window, int32_t partition,
                              int64_t offset) {
  State& s = *state_;
  runtime::Record& record = s.record;
  // A null value deletes a table row; in a stream it is a record whose value is null,
  // which projections pass on (ksqlDB does the same).
  record.tombstone = value == nullptr;
  ++s.counters.records;
  record.row.assign(s.source_keys.size() + s.source_values.size(), types::Value());
  record.timestamp = timestamp;
  record.window = window;
  record.partition = partition;
  record.offset = offset;
  Status decoded = Status::OK();
  if (key != nullptr && !s.source_keys.empty())
    decoded = s.key_decoder->Decode(*key, record.row, 0);
  if (decoded.ok() && value != nullptr) {
    decoded = s.value_decoder->Decode(*value, record.row, s.source_keys.size());
  }
  if (decoded.ok() && s.timestamp_column >= 0 && !record.tombstone) {
    const types::Value& event_time = record.row[s.timestamp_column];
    if (event_time.kind() == types::TypeId::kString && s.timestamp_format) {
      Result<int64_t> parsed = s.timestamp_format->Parse(event_time.string(), 0);
      if (parsed.ok()) {
        record.timestamp = *parsed;
      } else {
        decoded = parsed.status();
      }
    } else if (event_time.is_null() || event_time.kind() == types::TypeId::kString) {
      decoded = Status::InvalidArgument("TIMESTAMP column " + *s.source.timestamp_column +
                                        " is NULL or not epoch milliseconds");
    } else {
      record.timestamp = event_time.integer();
    }
    // Kafka Streams skips a record whose timestamp is negative.
    if (decoded.ok() && record.timestamp < 0) {
      decoded = Status::InvalidArgument("TIMESTAMP column " + *s.source.timestamp_column +
                                        " is negative: " + std::to_string(record.timestamp));
    }
  }
  if (!decoded.ok()) {
    ++s.counters.decode_errors;
    nlohmann::json dead = {{"ERROR", decoded.message()}, {"QUERY_ID", s.id},
                           {"TOPIC", s.source.topic},    {"PARTITION", partition},
                           {"OFFSET", offset},           {"VALUE", value ? *value : ""}};
    return s.callbacks.on_side_output(s.dead_letter_topic, key, dead.dump(), timestamp);
  }
  static const std::string kEmpty;
  s.input_key = key;
  s.input_value = value ? value : &kEmpty;
  int64_t errors_before = s.topology->evaluation_errors();
  Status processed = s.topology->Process(record);
  s.counters.evaluation_errors += s.topology->evaluation_errors() - errors_before;
  s.input_key = nullptr;
  s.input_value = nullptr;
  return processed;
}

Status QueryPipeline::AdvanceStreamTime(int64_t stream_time) {
  return state_->topology->AdvanceStreamTime(stream_time);
}

const std::string& QueryPipeline::query_id() const { return state_->id; }
const SourceDescription& QueryPipeline::source() const { return state_->source; }
const SourceDescription& QueryPipeline::sink() const { return state_->sink; }
PipelineCounters QueryPipeline::counters() const { return state_->counters; }

}  // namespace sidestream::offline
