#include "server/offline/offline_engine.h"

#include <algorithm>
#include <cstring>

#include "analyzer/analyzer.h"
#include "connectors/formats/row_format.h"
#include "runtime/topology.h"
#include "sql/parser.h"

namespace sidestream::offline {

using catalog::ColumnRole;
using catalog::SourceDescription;
using nlohmann::json;

namespace {

// Nested queries feeding each other deeper than this are a cycle.
constexpr int kMaxDepth = 32;

std::vector<formats::FormatColumn> ColumnsWithRole(const SourceDescription& source,
                                                   ColumnRole role) {
  std::vector<formats::FormatColumn> columns;
  for (const auto& column : source.columns) {
    if (column.role == role) columns.push_back({column.name, column.type});
  }
  return columns;
}

std::string Property(const SourceDescription& source, const std::string& name) {
  auto found = source.properties.find(name);
  return found == source.properties.end() ? "" : found->second;
}

formats::FormatOptions Options(const SourceDescription& source, bool key) {
  formats::FormatOptions options;
  options.format = key ? source.key_format : source.value_format;
  options.is_key = key;
  std::string delimiter = Property(source, key ? "KEY_DELIMITER" : "VALUE_DELIMITER");
  std::transform(delimiter.begin(), delimiter.end(), delimiter.begin(), ::toupper);
  if (delimiter == "TAB") {
    options.delimiter = '\t';
  } else if (delimiter == "SPACE") {
    options.delimiter = ' ';
  } else if (!delimiter.empty()) {
    options.delimiter = Property(source, key ? "KEY_DELIMITER" : "VALUE_DELIMITER")[0];
  }
  std::string wrap = Property(source, "WRAP_SINGLE_VALUE");
  std::transform(wrap.begin(), wrap.end(), wrap.begin(), ::tolower);
  if (!key && wrap == "false") options.wrap_single_value = false;
  return options;
}

bool IsJsonFamily(const std::string& format) {
  return format == "JSON" || format == "JSON_SR" || format == "AVRO" || format == "PROTOBUF" ||
         format == "PROTOBUF_NOSR";
}

void AppendBigEndian(uint64_t value, int bytes, std::string& out) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t ReadBigEndian(std::string_view bytes) {
  uint64_t value = 0;
  for (unsigned char c : bytes) value = (value << 8) | c;
  return value;
}

// A test file's JSON form of a key or value -> the bytes a producer would have written.
Result<std::string> JsonToBytes(const json& value, const std::string& format,
                                const std::vector<formats::FormatColumn>& columns) {
  if (format == "NONE") return std::string();
  if (format == "DELIMITED") return value.is_string() ? value.get<std::string>() : value.dump();
  if (format == "KAFKA") {
    if (columns.empty()) return std::string();
    types::TypeId type = columns[0].type.id();
    std::string bytes;
    if (value.is_string()) return value.get<std::string>();
    if (type == types::TypeId::kInt && value.is_number_integer()) {
      AppendBigEndian(static_cast<uint32_t>(value.get<int32_t>()), 4, bytes);
    } else if (type == types::TypeId::kBigint && value.is_number_integer()) {
      AppendBigEndian(static_cast<uint64_t>(value.get<int64_t>()), 8, bytes);
    } else if (type == types::TypeId::kDouble && value.is_number()) {
      double number = value.get<double>();
      uint64_t raw;
      std::memcpy(&raw, &number, sizeof raw);
      AppendBigEndian(raw, 8, bytes);
    } else {
      return value.dump();
    }
    return bytes;
  }
  return value.is_string() && !IsJsonFamily(format) ? value.get<std::string>() : value.dump();
}

// Bytes a query wrote -> the JSON form test files use.
json BytesToJson(const std::string& bytes, const std::string& format,
                 const std::vector<formats::FormatColumn>& columns) {
  if (format == "NONE") return nullptr;
  if (format == "DELIMITED") return bytes;
  if (format == "KAFKA" && !columns.empty()) {
    switch (columns[0].type.id()) {
      case types::TypeId::kInt:
        if (bytes.size() == 4) return static_cast<int32_t>(ReadBigEndian(bytes));
        break;
      case types::TypeId::kBigint:
        if (bytes.size() == 8) return static_cast<int64_t>(ReadBigEndian(bytes));
        break;
      case types::TypeId::kDouble:
        if (bytes.size() == 8) {
          uint64_t raw = ReadBigEndian(bytes);
          double number;
          std::memcpy(&number, &raw, sizeof number);
          return number;
        }
        break;
      default:
        return bytes;
    }
    return bytes;
  }
  json parsed = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? json(bytes) : parsed;
}

}  // namespace

struct OfflineEngine::Query {
  std::string id;
  SourceDescription source;
  SourceDescription sink;
  std::vector<formats::FormatColumn> source_keys, source_values, sink_keys, sink_values;
  std::unique_ptr<formats::RowDecoder> key_decoder, value_decoder;
  std::unique_ptr<formats::RowEncoder> key_encoder, value_encoder;
  std::unique_ptr<runtime::Topology> topology;
  std::string late_topic;
  std::string dead_letter_topic;
  // The input being processed, for the late-record side output.
  const std::string* input_key = nullptr;
  const std::string* input_value = nullptr;
  runtime::Record record;
  std::string key_bytes, value_bytes;
};

OfflineEngine::~OfflineEngine() = default;

Result<std::unique_ptr<OfflineEngine>> OfflineEngine::Create() {
  std::unique_ptr<OfflineEngine> engine(new OfflineEngine());
  ASSIGN_OR_RAISE(engine->catalog_, catalog::Catalog::Open(":memory:"));
  return engine;
}

Status OfflineEngine::Execute(std::string_view sql) {
  ASSIGN_OR_RAISE(auto statements, sql::ParseScript(sql));
  for (const auto& statement : statements) {
    analyzer::Analyzer analyzer(*catalog_);
    ASSIGN_OR_RAISE(auto analyzed, analyzer.Analyze(*statement));
    std::vector<std::string> before;
    for (const auto& query : catalog_->ListQueries()) before.push_back(query.id);
    ASSIGN_OR_RAISE(std::string message, analyzer::ApplyToCatalog(analyzed, *catalog_));
    if (!analyzed.plan || analyzed.plan->kind != analyzer::LogicalOperatorKind::kSink) continue;
    for (const auto& query : catalog_->ListQueries()) {
      if (std::find(before.begin(), before.end(), query.id) != before.end()) continue;
      std::map<std::string, std::string> properties;
      for (const auto& property : statement->properties) {
        properties[property.key] = property.value.text;
      }
      RETURN_NOT_OK(StartQuery(query.id, *analyzed.plan, properties));
    }
  }
  return Status::OK();
}

Status OfflineEngine::StartQuery(const std::string& query_id, const analyzer::LogicalOperator& plan,
                                 const std::map<std::string, std::string>& properties) {
  auto query = std::make_unique<Query>();
  Query* self = query.get();
  query->id = query_id;
  query->sink = plan.source;
  auto late = properties.find("LATE_TOPIC");
  if (late != properties.end()) query->late_topic = late->second;

  auto on_result = [this, self](const runtime::Record& record) -> Status {
    const types::Row& row = record.row;
    RETURN_NOT_OK(self->key_encoder->Encode(row, 0, self->key_bytes));
    if (!record.tombstone) {
      RETURN_NOT_OK(self->value_encoder->Encode(row, self->sink_keys.size(), self->value_bytes));
    }
    const std::string* value = record.tombstone ? nullptr : &self->value_bytes;
    TestRecord output;
    output.topic = self->sink.topic;
    output.key = BytesToJson(self->key_bytes, self->sink.key_format, self->sink_keys);
    output.value =
        value ? BytesToJson(*value, self->sink.value_format, self->sink_values) : json(nullptr);
    output.timestamp = record.timestamp;
    output.window = record.window;
    output.session_window = self->sink.window_type == catalog::WindowType::kSession;
    Append(output);
    // Copies: delivering may re-enter this query's encoders.
    std::string key = self->key_bytes;
    std::optional<std::string> value_copy;
    if (value) value_copy = *value;
    return Deliver(self->sink.topic, &key, value_copy ? &*value_copy : nullptr, record.timestamp,
                   record.window, 1);
  };
  auto on_late = [this, self](const runtime::Record& record, const runtime::WindowBounds& window,
                              int64_t stream_time) -> Status {
    ++counters_.late_records;
    if (self->late_topic.empty()) return Status::OK();
    json value = {{"REASON", "window closed"},
                  {"QUERY_ID", self->id},
                  {"WINDOW_START", window.start},
                  {"WINDOW_END", window.end},
                  {"STREAM_TIME", stream_time},
                  {"ROWTIME", record.timestamp},
                  {"RECORD", self->input_value ? *self->input_value : ""}};
    TestRecord late;
    late.topic = self->late_topic;
    late.key = self->input_key ? json(*self->input_key) : json(nullptr);
    late.value = value;
    late.timestamp = record.timestamp;
    Append(late);
    std::string bytes = value.dump();
    return Deliver(self->late_topic, self->input_key, &bytes, record.timestamp, std::nullopt, 1);
  };
  ASSIGN_OR_RAISE(query->topology, runtime::Topology::Build(plan, on_result, on_late));
  query->source = query->topology->source();
  query->dead_letter_topic = Property(query->source, "DEAD_LETTER_TOPIC");
  if (query->dead_letter_topic.empty()) query->dead_letter_topic = kDefaultDeadLetterTopic;
  query->source_keys = ColumnsWithRole(query->source, ColumnRole::kKey);
  query->source_values = ColumnsWithRole(query->source, ColumnRole::kValue);
  ASSIGN_OR_RAISE(query->key_decoder,
                  formats::MakeDecoder(Options(query->source, true), query->source_keys));
  ASSIGN_OR_RAISE(query->value_decoder,
                  formats::MakeDecoder(Options(query->source, false), query->source_values));
  for (const auto& column : query->topology->result_schema().columns) {
    (column.role == ColumnRole::kKey ? query->sink_keys : query->sink_values)
        .push_back({column.name, column.type});
  }
  ASSIGN_OR_RAISE(query->key_encoder,
                  formats::MakeEncoder(Options(query->sink, true), query->sink_keys));
  ASSIGN_OR_RAISE(query->value_encoder,
                  formats::MakeEncoder(Options(query->sink, false), query->sink_values));
  queries_.push_back(std::move(query));
  return Status::OK();
}

Status OfflineEngine::Produce(const TestRecord& record) {
  // Encode with the formats of the first source declared on the topic, as its producer would.
  std::string key_bytes;
  std::optional<std::string> value_bytes;
  bool declared = false;
  for (const auto& source : catalog_->ListSources()) {
    if (source.topic != record.topic || !source.writer_query_id.empty()) continue;
    declared = true;
    if (!record.key.is_null()) {
      ASSIGN_OR_RAISE(key_bytes, JsonToBytes(record.key, source.key_format,
                                             ColumnsWithRole(source, ColumnRole::kKey)));
    }
    if (!record.value.is_null()) {
      ASSIGN_OR_RAISE(auto bytes, JsonToBytes(record.value, source.value_format,
                                              ColumnsWithRole(source, ColumnRole::kValue)));
      value_bytes = std::move(bytes);
    }
    break;
  }
  if (!declared) {
    key_bytes = record.key.is_null() ? "" : record.key.dump();
    if (!record.value.is_null()) value_bytes = record.value.dump();
  }
  return Deliver(record.topic, record.key.is_null() ? nullptr : &key_bytes,
                 value_bytes ? &*value_bytes : nullptr, record.timestamp.value_or(0), record.window,
                 0);
}

Status OfflineEngine::Deliver(const std::string& topic, const std::string* key,
                              const std::string* value, int64_t timestamp,
                              const std::optional<runtime::WindowBounds>& window, int depth) {
  if (depth > kMaxDepth) {
    return Status::InvalidArgument("Queries feed each other in a cycle through topic " + topic);
  }
  static const std::string kEmpty;
  for (const auto& query : queries_) {
    if (query->source.topic != topic) continue;
    runtime::Record& record = query->record;
    record.row.assign(query->source_keys.size() + query->source_values.size(), types::Value());
    record.timestamp = timestamp;
    record.window = window;
    record.tombstone = value == nullptr;
    if (record.tombstone && query->source.type == catalog::SourceType::kStream) continue;
    Status decoded = Status::OK();
    if (key != nullptr && !query->source_keys.empty()) {
      decoded = query->key_decoder->Decode(*key, record.row, 0);
    }
    if (decoded.ok() && value != nullptr) {
      decoded = query->value_decoder->Decode(*value, record.row, query->source_keys.size());
    }
    if (decoded.ok() && query->source.timestamp_column) {
      int index = -1;
      for (size_t i = 0; i < query->source.columns.size(); ++i) {
        if (query->source.columns[i].name == *query->source.timestamp_column)
          index = static_cast<int>(i);
      }
      if (index >= 0 && !record.row[index].is_null() &&
          record.row[index].kind() != types::TypeId::kString) {
        record.timestamp = record.row[index].integer();
      } else if (index >= 0) {
        decoded = Status::InvalidArgument("TIMESTAMP column " + *query->source.timestamp_column +
                                          " is NULL or not a number");
      }
    }
    if (!decoded.ok()) {
      ++counters_.decode_errors;
      TestRecord dead;
      dead.topic = query->dead_letter_topic;
      dead.key = key ? json(*key) : json(nullptr);
      dead.value = {{"ERROR", decoded.message()},
                    {"QUERY_ID", query->id},
                    {"TOPIC", topic},
                    {"VALUE", value ? *value : ""}};
      dead.timestamp = timestamp;
      Append(dead);
      continue;
    }
    query->input_key = key;
    query->input_value = value ? value : &kEmpty;
    int64_t errors_before = query->topology->evaluation_errors();
    RETURN_NOT_OK(query->topology->Process(record));
    counters_.evaluation_errors += query->topology->evaluation_errors() - errors_before;
    query->input_key = nullptr;
    query->input_value = nullptr;
  }
  return Status::OK();
}

void OfflineEngine::Append(const TestRecord& record) {
  auto& log = topics_[record.topic];
  if (log.empty()) output_order_.push_back(record.topic);
  log.push_back(record);
}

std::vector<TestRecord> OfflineEngine::Output(const std::string& topic) const {
  auto found = topics_.find(topic);
  return found == topics_.end() ? std::vector<TestRecord>() : found->second;
}

std::vector<std::string> OfflineEngine::OutputTopics() const { return output_order_; }

EngineCounters OfflineEngine::counters() const { return counters_; }

}  // namespace sidestream::offline
