#include "server/offline/offline_engine.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "analyzer/analyzer.h"
#include "connectors/formats/row_format.h"
#include "sql/parser.h"

namespace sidestream::offline {

using catalog::ColumnRole;
using catalog::SourceDescription;
using nlohmann::json;

namespace {

// Nested queries feeding each other deeper than this are a cycle.
constexpr int kMaxDepth = 32;

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

bool IsDecimalColumn(const std::vector<formats::FormatColumn>& columns, const std::string& name) {
  for (const auto& column : columns) {
    if (column.name == name) return column.type.id() == types::TypeId::kDecimal;
  }
  return false;
}

// Builds the JSON of a query's output like nlohmann's DOM parser, except that a number in a
// DECIMAL column keeps its exact text ("3.40"): as a double it would lose the scale that
// ksqlDB compares. The JSON pointer of each such value goes to `decimals`.
class DecimalKeepingSax {
 public:
  DecimalKeepingSax(json& root, const std::vector<formats::FormatColumn>& columns,
                    const std::string& pointer, std::set<std::string>& decimals)
      : dom_(root, /*allow_exceptions=*/false),
        columns_(columns),
        pointer_(pointer),
        decimals_(decimals) {}

  bool null() { return dom_.null(); }
  bool boolean(bool value) { return dom_.boolean(value); }
  bool number_integer(json::number_integer_t value) {
    if (!InDecimalColumn()) return dom_.number_integer(value);
    return Decimal(std::to_string(value));
  }
  bool number_unsigned(json::number_unsigned_t value) {
    if (!InDecimalColumn()) return dom_.number_unsigned(value);
    return Decimal(std::to_string(value));
  }
  bool number_float(json::number_float_t value, const std::string& text) {
    if (!InDecimalColumn()) return dom_.number_float(value, text);
    return Decimal(text);
  }
  bool string(std::string& value) { return dom_.string(value); }
  bool binary(json::binary_t& value) { return dom_.binary(value); }
  bool start_object(std::size_t size) {
    ++depth_;
    return dom_.start_object(size);
  }
  bool key(std::string& name) {
    key_ = name;
    return dom_.key(name);
  }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t size) {
    ++depth_;
    return dom_.start_array(size);
  }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& token,
                   const nlohmann::detail::exception& error) {
    return dom_.parse_error(position, token, error);
  }

 private:
  // A field of the top-level object, or an unwrapped single value.
  bool InDecimalColumn() const {
    if (depth_ == 1) return IsDecimalColumn(columns_, key_);
    return depth_ == 0 && columns_.size() == 1 && columns_[0].type.id() == types::TypeId::kDecimal;
  }
  bool Decimal(std::string text) {
    decimals_.insert(depth_ == 0 ? pointer_ : pointer_ + "/" + key_);
    return dom_.string(text);
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  const std::vector<formats::FormatColumn>& columns_;
  std::string pointer_;
  std::set<std::string>& decimals_;
  int depth_ = 0;
  std::string key_;
};

// Bytes a query wrote -> the JSON form test files use. `pointer` is where the result goes in
// the record ("/key" or "/value"), for the pointers of exact decimals added to `decimals`.
json BytesToJson(const std::string& bytes, const std::string& format,
                 const std::vector<formats::FormatColumn>& columns, const std::string& pointer,
                 std::set<std::string>& decimals) {
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
  json parsed;
  std::set<std::string> found;
  DecimalKeepingSax sax(parsed, columns, pointer, found);
  if (!json::sax_parse(bytes, &sax, json::input_format_t::json, /*strict=*/true,
                       /*ignore_comments=*/false)) {
    return json(bytes);
  }
  decimals.merge(found);
  return parsed;
}

}  // namespace

OfflineEngine::~OfflineEngine() = default;

Result<std::unique_ptr<OfflineEngine>> OfflineEngine::Create() {
  std::unique_ptr<OfflineEngine> engine(new OfflineEngine());
  ASSIGN_OR_RAISE(engine->catalog_, catalog::Catalog::Open(":memory:"));
  return engine;
}

Result<std::vector<session::StatementOutcome>> OfflineEngine::Execute(std::string_view sql) {
  ASSIGN_OR_RAISE(auto statements, sql::ParseScript(sql));
  std::vector<session::StatementOutcome> outcomes;
  for (const auto& statement : statements) {
    analyzer::Analyzer analyzer(*catalog_, session_properties_);
    ASSIGN_OR_RAISE(auto analyzed, analyzer.Analyze(*statement));
    outcomes.push_back({statement->text, "", session::DescribePlan(analyzed)});
    ASSIGN_OR_RAISE(auto query, ApplyStatement(*statement, analyzed, *catalog_, session_properties_,
                                               outcomes.back().message));
    if (query) RETURN_NOT_OK(StartQuery(query->id, std::move(query->plan), query->properties));
  }
  return outcomes;
}

Status OfflineEngine::StartQuery(const std::string& query_id, analyzer::LogicalOperatorPtr plan,
                                 const std::map<std::string, std::string>& properties) {
  const SourceDescription sink = plan->source;
  PipelineCallbacks callbacks;
  callbacks.on_result = [this, sink](const std::string* key, const std::string* value,
                                     int64_t timestamp,
                                     const std::optional<runtime::WindowBounds>& window,
                                     bool /*retract: single-stage here*/) -> Status {
    TestRecord output;
    output.topic = sink.topic;
    output.key = key ? BytesToJson(*key, sink.key_format, FormatColumns(sink, ColumnRole::kKey),
                                   "/key", output.decimals)
                     : json(nullptr);
    output.value =
        value ? BytesToJson(*value, sink.value_format, FormatColumns(sink, ColumnRole::kValue),
                            "/value", output.decimals)
              : json(nullptr);
    output.timestamp = timestamp;
    output.window = window;
    output.session_window = sink.window_type == catalog::WindowType::kSession;
    Append(output);
    // Copies: delivering downstream may re-enter this pipeline's encoders.
    std::optional<std::string> key_copy, value_copy;
    if (key) key_copy = *key;
    if (value) value_copy = *value;
    return Deliver(sink.topic, key_copy ? &*key_copy : nullptr, value_copy ? &*value_copy : nullptr,
                   timestamp, window, 1);
  };
  callbacks.on_side_output = [this](const std::string& topic, const std::string* key,
                                    const std::string& value, int64_t timestamp) -> Status {
    TestRecord side;
    side.topic = topic;
    side.key = key ? json(*key) : json(nullptr);
    side.value = json::parse(value, nullptr, /*allow_exceptions=*/false);
    side.timestamp = timestamp;
    Append(side);
    std::optional<std::string> key_copy;
    if (key) key_copy = *key;
    std::string value_copy = value;
    return Deliver(topic, key_copy ? &*key_copy : nullptr, &value_copy, timestamp, std::nullopt, 1);
  };
  ASSIGN_OR_RAISE(auto pipeline, QueryPipeline::Create(query_id, *plan, properties, callbacks));
  plans_.push_back(std::move(plan));
  queries_.push_back(std::move(pipeline));
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
                                             FormatColumns(source, ColumnRole::kKey)));
    }
    if (!record.value.is_null()) {
      ASSIGN_OR_RAISE(auto bytes, JsonToBytes(record.value, source.value_format,
                                              FormatColumns(source, ColumnRole::kValue)));
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
  InputMessage message;
  if (key) message.key = *key;
  if (value) message.value = *value;
  message.timestamp = timestamp;
  message.window = window;
  message.offset = next_offsets_[topic]++;
  // Index loop: a query started while delivering would invalidate iterators.
  for (size_t i = 0; i < queries_.size(); ++i) {
    QueryPipeline& query = *queries_[i];
    const std::vector<SourceDescription>& sources = query.sources();
    for (size_t source = 0; source < sources.size(); ++source) {
      if (sources[source].topic != topic) continue;
      message.source = source;
      RETURN_NOT_OK(query.Process(message));
    }
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

PipelineCounters OfflineEngine::counters() const {
  PipelineCounters total;
  for (const auto& query : queries_) total += query->counters();
  return total;
}

}  // namespace sidestream::offline
