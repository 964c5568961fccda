#include "host/offline_engine.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "analyzer/analyzer.h"
#include "common/clock.h"
#include "connectors/formats/avro_format.h"
#include "connectors/formats/json_format.h"
#include "connectors/formats/protobuf_format.h"
#include "connectors/formats/row_format.h"
#include "connectors/registry/schema_registry.h"
#include "planner/physical_plan.h"
#include "runtime/insert_values.h"
#include "runtime/record_collector.h"
#include "session/statements.h"
#include "sql/parser.h"

#define XXH_INLINE_ALL  // header-only: inlined, nothing to link
#include <xxhash.h>

namespace sidestream::host {

using catalog::ColumnRole;
using catalog::SourceDescription;
using nlohmann::json;

namespace {

// Nested queries feeding each other deeper than this are a cycle.
constexpr int kMaxDepth = 32;

bool IsJsonFamily(const std::string& format) {
  return format == "JSON" || format == "JSON_SR" || format == "AVRO";
}

bool IsProtobuf(const std::string& format) {
  return format == "PROTOBUF" || format == "PROTOBUF_NOSR";
}

// Test files write a PROTOBUF key or value as a JSON object of its columns.
formats::FormatOptions JsonObjectOptions() {
  formats::FormatOptions options;
  options.format = "JSON";
  return options;
}

formats::FormatOptions ProtobufOptions(const std::string& format,
                                       formats::ProtobufNullable nullable) {
  formats::FormatOptions options;
  options.format = format;
  options.protobuf_nullable = nullable;
  return options;
}

// JSON object -> row -> protobuf bytes, as ksqlDB's test runner serializes its records.
Result<std::string> JsonToProtobuf(const json& value, const std::string& format,
                                   const std::vector<formats::FormatColumn>& columns,
                                   formats::ProtobufNullable nullable) {
  ASSIGN_OR_RAISE(auto decoder, formats::MakeDecoder(JsonObjectOptions(), columns));
  ASSIGN_OR_RAISE(auto encoder, formats::MakeEncoder(ProtobufOptions(format, nullable), columns));
  types::Row row(columns.size());
  RETURN_NOT_OK(decoder->Decode(value.dump(), row, 0));
  std::string bytes;
  RETURN_NOT_OK(encoder->Encode(row, 0, bytes));
  return bytes;
}

// Protobuf bytes -> row -> JSON object text.
Result<std::string> ProtobufToJsonText(const std::string& bytes, const std::string& format,
                                       const std::vector<formats::FormatColumn>& columns,
                                       formats::ProtobufNullable nullable) {
  ASSIGN_OR_RAISE(auto decoder, formats::MakeDecoder(ProtobufOptions(format, nullable), columns));
  ASSIGN_OR_RAISE(auto encoder, formats::MakeEncoder(JsonObjectOptions(), columns));
  types::Row row(columns.size());
  RETURN_NOT_OK(decoder->Decode(bytes, row, 0));
  std::string text;
  RETURN_NOT_OK(encoder->Encode(row, 0, text));
  return text;
}

void AppendBigEndian(uint64_t value, int bytes, std::string& out) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t ReadBigEndian(std::string_view bytes) {
  uint64_t value = 0;
  for (unsigned char c : bytes) value = (value << 8) | c;
  return value;
}

}  // namespace

// AVRO and JSON_SR with a schema registry: the test file's JSON goes through a Row into the
// registry format on the way in (as a producer with a registry serializer would write it),
// and back to JSON on the way out. Other formats pass through unchanged.
namespace {

bool UsesRegistry(const formats::FormatOptions& options) {
  return (options.format == "AVRO" || options.format == "JSON_SR" ||
          options.format == "PROTOBUF") &&
         !formats::SchemaRegistryUrlOf(options).empty();
}

formats::FormatOptions AsJson(formats::FormatOptions options) {
  // Test files write a PROTOBUF key or value as a JSON object of its columns, even one.
  if (options.format == "PROTOBUF") options.is_key = false;
  options.format = "JSON";
  return options;
}

// The format the JSON side of a test record is in: registry formats are transcoded to JSON.
std::string TestFormat(const SourceDescription& source, bool key) {
  if (UsesRegistry(runtime::FormatOptionsOf(source, key))) return "JSON";
  return key ? source.key_format : source.value_format;
}

Result<std::string> Transcode(const std::string& bytes, const formats::FormatOptions& from,
                              const formats::FormatOptions& to,
                              const std::vector<formats::FormatColumn>& columns) {
  ASSIGN_OR_RAISE(auto decoder, formats::MakeDecoder(from, columns));
  ASSIGN_OR_RAISE(auto encoder, formats::MakeEncoder(to, columns));
  types::Row row(columns.size());
  RETURN_NOT_OK(decoder->Decode(bytes, row, 0));
  std::string out;
  RETURN_NOT_OK(encoder->Encode(row, 0, out));
  return out;
}

Result<std::string> ToRegistryFormat(std::string json_bytes, const SourceDescription& source,
                                     bool key) {
  formats::FormatOptions options = runtime::FormatOptionsOf(source, key);
  if (!UsesRegistry(options)) return json_bytes;
  return Transcode(json_bytes, AsJson(options), options,
                   runtime::FormatColumns(source, key ? ColumnRole::kKey : ColumnRole::kValue));
}

// The JSON of registry-format bytes; the bytes themselves when they do not decode.
std::string FromRegistryFormat(const std::string& bytes, const SourceDescription& sink, bool key) {
  formats::FormatOptions options = runtime::FormatOptionsOf(sink, key);
  if (!UsesRegistry(options)) return bytes;
  if (options.format == "PROTOBUF") {
    // Every field of the writer's schema, as ksqlDB's runner reads the output back.
    auto json_bytes = formats::ProtobufWireToJson(
        formats::SchemaRegistryUrlOf(options), bytes,
        runtime::FormatColumns(sink, key ? ColumnRole::kKey : ColumnRole::kValue));
    return json_bytes.ok() ? *json_bytes : bytes;
  }
  auto columns = runtime::FormatColumns(sink, key ? ColumnRole::kKey : ColumnRole::kValue);
  if (options.schema_id) {
    // Written with a registered schema (KEY_/VALUE_SCHEMA_ID), which may have more fields
    // than the sink has columns: read every field of the writer's schema, as ksqlDB's runner
    // does. JSON_SR's payload is that JSON already.
    auto message = registry::ParseWireHeader(bytes);
    if (!message.ok()) return bytes;
    if (options.format == "JSON_SR") return std::string(message->payload);
    auto client = registry::SharedSchemaRegistry(formats::SchemaRegistryUrlOf(options));
    if (!client.ok()) return bytes;
    auto writer = (*client)->GetById(message->schema_id);
    if (!writer.ok()) return bytes;
    const bool unwrapped = formats::JsonUnwrapped(options, columns.size());
    auto written = formats::ColumnsOfAvroSchema(
        writer->schema, columns.empty() ? "ROWVAL" : columns[0].name, unwrapped,
        /*upper_case=*/false);
    if (written.ok()) columns = std::move(*written);
  }
  auto json_bytes = Transcode(bytes, options, AsJson(options), columns);
  return json_bytes.ok() ? *json_bytes : bytes;
}

}  // namespace

// A test file's JSON form of a key or value -> the bytes a producer would have written.
Result<std::string> JsonToBytes(const json& value, const std::string& format,
                                const std::vector<formats::FormatColumn>& columns,
                                formats::ProtobufNullable nullable) {
  if (format == "NONE") return std::string();
  if (IsProtobuf(format)) return JsonToProtobuf(value, format, columns, nullable);
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

namespace {

// Builds the JSON of a query's output like nlohmann's DOM parser, except that a number of
// DECIMAL type keeps its exact text ("3.40"): as a double it would lose the scale that
// ksqlDB compares. That holds at any depth (a DECIMAL in an ARRAY, a MAP or a STRUCT): the
// parser follows the columns' types down. The JSON pointer of each such value goes to
// `decimals`.
class DecimalKeepingSax {
 public:
  DecimalKeepingSax(json& root, const std::vector<formats::FormatColumn>& columns,
                    const std::string& pointer, std::set<std::string>& decimals)
      : dom_(root, /*allow_exceptions=*/false),
        columns_(columns),
        pointer_(pointer),
        decimals_(decimals) {}

  bool null() { return Scalar(dom_.null()); }
  bool boolean(bool value) { return Scalar(dom_.boolean(value)); }
  bool number_integer(json::number_integer_t value) {
    if (!IsDecimal(CurrentType())) return Scalar(dom_.number_integer(value));
    return Decimal(std::to_string(value));
  }
  bool number_unsigned(json::number_unsigned_t value) {
    if (!IsDecimal(CurrentType())) return Scalar(dom_.number_unsigned(value));
    return Decimal(std::to_string(value));
  }
  bool number_float(json::number_float_t value, const std::string& text) {
    if (!IsDecimal(CurrentType())) return Scalar(dom_.number_float(value, text));
    return Decimal(text);
  }
  bool string(std::string& value) { return Scalar(dom_.string(value)); }
  bool binary(json::binary_t& value) { return Scalar(dom_.binary(value)); }
  bool start_object(std::size_t size) {
    Open(/*array=*/false);
    return dom_.start_object(size);
  }
  bool key(std::string& name) {
    key_ = name;
    return dom_.key(name);
  }
  bool end_object() {
    frames_.pop_back();
    return Scalar(dom_.end_object());
  }
  bool start_array(std::size_t size) {
    Open(/*array=*/true);
    return dom_.start_array(size);
  }
  bool end_array() {
    frames_.pop_back();
    return Scalar(dom_.end_array());
  }
  bool parse_error(std::size_t position, const std::string& token,
                   const nlohmann::detail::exception& error) {
    return dom_.parse_error(position, token, error);
  }

 private:
  // An open object or array: its type (null when unknown), and where it is.
  struct Frame {
    const types::SqlType* type = nullptr;
    bool columns = false;  // the top-level object: its fields are the columns
    bool array = false;
    size_t index = 0;  // an array's next element
    std::string pointer;
  };

  static bool IsDecimal(const types::SqlType* type) {
    return type != nullptr && type->id() == types::TypeId::kDecimal;
  }

  // The type of the value that comes next: a field of the top-level object is a column, a
  // top-level value other than an object is an unwrapped single column.
  const types::SqlType* CurrentType() const {
    if (frames_.empty()) return columns_.size() == 1 ? &columns_[0].type : nullptr;
    const Frame& frame = frames_.back();
    if (frame.columns) {
      for (const auto& column : columns_) {
        if (column.name == key_) return &column.type;
      }
      return nullptr;
    }
    if (frame.type == nullptr) return nullptr;
    switch (frame.type->id()) {
      case types::TypeId::kArray:
        return frame.array ? &frame.type->element() : nullptr;
      case types::TypeId::kMap:
        return frame.array ? nullptr : &frame.type->value();
      case types::TypeId::kStruct:
        if (frame.array) return nullptr;
        for (const auto& field : frame.type->fields()) {
          if (field.name == key_) return &field.type;
        }
        return nullptr;
      default:
        return nullptr;
    }
  }

  std::string CurrentPointer() const {
    if (frames_.empty()) return pointer_;
    const Frame& frame = frames_.back();
    return frame.pointer + "/" + (frame.array ? std::to_string(frame.index) : key_);
  }

  void Open(bool array) {
    Frame frame;
    frame.columns = frames_.empty() && !array;
    frame.type = frame.columns ? nullptr : CurrentType();
    frame.array = array;
    frame.pointer = CurrentPointer();
    frames_.push_back(std::move(frame));
  }

  // A value is complete: the enclosing array moves to its next element.
  bool Scalar(bool ok) {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    return ok;
  }

  bool Decimal(std::string text) {
    decimals_.insert(CurrentPointer());
    return Scalar(dom_.string(text));
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  const std::vector<formats::FormatColumn>& columns_;
  std::string pointer_;
  std::set<std::string>& decimals_;
  std::vector<Frame> frames_;
  std::string key_;
};

}  // namespace

json BytesToJson(const std::string& bytes, const std::string& format,
                 const std::vector<formats::FormatColumn>& columns, const std::string& pointer,
                 std::set<std::string>& decimals, formats::ProtobufNullable nullable) {
  if (format == "NONE") return nullptr;
  if (IsProtobuf(format)) {
    auto text = ProtobufToJsonText(bytes, format, columns, nullable);
    if (!text.ok()) return "undecodable " + format + ": " + text.status().message();
    return BytesToJson(*text, "JSON", columns, pointer, decimals);
  }
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

namespace {

// TestRecord::empty_bytes: the empty BYTES fields of a top-level object decoded from a format
// that ksqlDB's runner reads through Kafka Connect (its records are then maps of ByteBuffers).
void NoteEmptyBytes(const json& record, const std::string& format,
                    const std::vector<formats::FormatColumn>& columns, const std::string& pointer,
                    std::set<std::string>& empty_bytes) {
  if (!record.is_object() || !(format == "AVRO" || IsProtobuf(format) || format == "JSON_SR")) {
    return;
  }
  for (const auto& column : columns) {
    if (column.type.id() != types::TypeId::kBytes) continue;
    auto field = record.find(column.name);
    if (field != record.end() && field->is_string() && field->get<std::string>().empty()) {
      empty_bytes.insert(pointer + "/" + column.name);
    }
  }
}

}  // namespace

OfflineEngine::~OfflineEngine() = default;

Result<std::unique_ptr<OfflineEngine>> OfflineEngine::Create(int partitions) {
  if (partitions < 1 || partitions > 64) {
    return Status::InvalidArgument("partitions must be between 1 and 64, not " +
                                   std::to_string(partitions));
  }
  std::unique_ptr<OfflineEngine> engine(new OfflineEngine(partitions));
  ASSIGN_OR_RAISE(engine->catalog_, catalog::Catalog::Open(":memory:"));
  return engine;
}

Result<std::vector<session::StatementOutcome>> OfflineEngine::Execute(std::string_view sql) {
  ASSIGN_OR_RAISE(auto statements, sql::ParseScript(sql));
  std::vector<session::StatementOutcome> outcomes;
  for (const auto& statement : statements) {
    analyzer::Analyzer analyzer(*catalog_, session_properties_);
    ASSIGN_OR_RAISE(auto analyzed, analyzer.Analyze(*statement));
    outcomes.push_back({statement->text, "", session::DescribePlan(analyzed), ""});
    if (statement->kind == sql::StatementKind::kInsertValues) {
      ASSIGN_OR_RAISE(auto target, catalog_->GetSource(analyzed.target_name));
      ASSIGN_OR_RAISE(auto inserted, runtime::EncodeInsertValues(
                                         analyzed, target, sidestream::Clock::System().WallMs()));
      runtime::InputMessage message;
      if (inserted.key) message.key = *inserted.key;
      message.value = inserted.value;
      message.timestamp = inserted.timestamp_ms;
      RETURN_NOT_OK(Deliver(inserted.topic, message, 0));
      continue;
    }
    ASSIGN_OR_RAISE(auto query,
                    session::ApplyStatement(*statement, analyzed, *catalog_, session_properties_,
                                            outcomes.back().message));
    // TERMINATE (or DROP of a query's sink) removed queries from the catalog: stop them.
    std::erase_if(stages_,
                  [this](const auto& stage) { return !catalog_->GetQuery(stage->query_id).ok(); });
    if (statement->kind == sql::StatementKind::kPause ||
        statement->kind == sql::StatementKind::kResume) {
      RETURN_NOT_OK(SetPaused(analyzed.target_name, statement->kind == sql::StatementKind::kPause));
    }
    if (!query) continue;
    RETURN_NOT_OK(StartQuery(query->id, std::move(query->plan), query->properties));
    outcomes.back().physical_plan = plan_descriptions_.back();
  }
  return outcomes;
}

Status OfflineEngine::SetPaused(const std::string& query_id, bool paused) {
  // Index loops: resuming delivers results downstream, which may grow nothing but outputs.
  for (size_t i = 0; i < stages_.size(); ++i) {
    StageTasks& stage = *stages_[i];
    if ((!query_id.empty() && stage.query_id != query_id) || stage.paused == paused) continue;
    stage.paused = paused;
    if (paused) continue;
    std::vector<HeldMessage> held = std::move(stage.held);
    stage.held.clear();
    auto view = [](const std::optional<std::string>& bytes) {
      return bytes ? std::optional<std::string_view>(*bytes) : std::nullopt;
    };
    for (const HeldMessage& kept : held) {
      runtime::InputMessage message;
      message.source = kept.source;
      message.partition = kept.partition;
      message.offset = kept.offset;
      message.timestamp = kept.timestamp;
      message.key = view(kept.key);
      message.value = view(kept.value);
      message.old_value = view(kept.old_value);
      message.source_key = view(kept.source_key);
      message.source_value = view(kept.source_value);
      message.window = kept.window;
      message.retract = kept.retract;
      std::vector<runtime::RecordHeader> headers;
      for (const auto& [name, value] : kept.headers) {
        headers.push_back(
            {name, value ? std::string_view(*value) : std::string_view(), value.has_value()});
      }
      message.headers = headers;
      RETURN_NOT_OK(Process(*stages_[i], message));
    }
  }
  return Status::OK();
}

Status OfflineEngine::Process(StageTasks& stage, const runtime::InputMessage& message) {
  if (stage.paused) {
    auto copy = [](const std::optional<std::string_view>& bytes) {
      return bytes ? std::optional<std::string>(*bytes) : std::nullopt;
    };
    stage.held.push_back({message.source,
                          message.partition,
                          message.offset,
                          message.timestamp,
                          copy(message.key),
                          copy(message.value),
                          copy(message.old_value),
                          copy(message.source_key),
                          copy(message.source_value),
                          message.window,
                          message.retract,
                          {}});
    for (const runtime::RecordHeader& header : message.headers) {
      stage.held.back().headers.emplace_back(
          std::string(header.name),
          header.has_value ? std::optional<std::string>(header.value) : std::nullopt);
    }
    return Status::OK();
  }
  RETURN_NOT_OK(stage.tasks[message.partition]->Process(message));
  std::optional<int64_t>& newest = stage.newest[message.partition];
  newest = std::max(newest.value_or(message.timestamp), message.timestamp);
  return Status::OK();
}

Status OfflineEngine::StartQuery(const std::string& query_id, analyzer::LogicalOperatorPtr plan,
                                 const std::map<std::string, std::string>& properties) {
  planner::PlannerOptions options;
  // Every topic has the run's partition count: a join input keyed otherwise than its partner
  // is re-keyed through a repartition topic, as on Kafka.
  options.partition_count = [this](const std::string&) { return partitions_; };
  ASSIGN_OR_RAISE(planner::PhysicalPlan physical,
                  planner::PlanQuery(query_id, std::move(plan), options));
  plan_descriptions_.push_back(physical.ToString());
  std::vector<std::unique_ptr<StageTasks>> started;
  for (planner::Stage& stage : physical.stages) {
    auto tasks = std::make_unique<StageTasks>();
    tasks->query_id = query_id;
    tasks->plan = std::move(stage.plan);
    tasks->reads_changes = stage.reads_changes;
    for (const planner::StageSource& source : stage.sources) {
      tasks->source_topics.push_back(source.topic);
    }
    const SourceDescription sink = tasks->plan->source;
    const bool internal = stage.writes_repartition;
    runtime::TaskCallbacks callbacks;
    // A re-keying stage passes each row's input on when the query keeps late records: the
    // next stage writes them as they arrived.
    const bool carry_sources = internal && properties.count("LATE_TOPIC") > 0;
    callbacks.on_result = [this, sink, internal,
                           carry_sources](const runtime::TaskResult& result) -> Status {
      // The headers of the input that caused the result, as Kafka Streams forwards the
      // current record's (through repartition topics too). Copies, as the bytes below.
      std::vector<std::pair<std::string, std::optional<std::string>>> headers;
      if (result.source) {
        for (const runtime::RecordHeader& header : result.source->headers) {
          if (runtime::IsInternalHeader(header.name)) continue;
          headers.emplace_back(
              std::string(header.name),
              header.has_value ? std::optional<std::string>(header.value) : std::nullopt);
        }
      }
      // A repartition topic is the plan's business, not an output the tests read.
      if (!internal) {
        TestRecord output;
        output.topic = sink.topic;
        output.key =
            result.key
                ? BytesToJson(FromRegistryFormat(*result.key, sink, true), TestFormat(sink, true),
                              runtime::FormatColumns(sink, ColumnRole::kKey), "/key",
                              output.decimals,
                              runtime::FormatOptionsOf(sink, true).protobuf_nullable)
                : json(nullptr);
        output.value = result.value
                           ? BytesToJson(FromRegistryFormat(*result.value, sink, false),
                                         TestFormat(sink, false),
                                         runtime::FormatColumns(sink, ColumnRole::kValue), "/value",
                                         output.decimals,
                                         runtime::FormatOptionsOf(sink, false).protobuf_nullable)
                           : json(nullptr);
        output.timestamp = result.timestamp;
        output.window = result.window;
        output.session_window = sink.window_type == catalog::WindowType::kSession;
        output.headers = headers;
        NoteEmptyBytes(output.key, sink.key_format, runtime::FormatColumns(sink, ColumnRole::kKey),
                       "/key", output.empty_bytes);
        NoteEmptyBytes(output.value, sink.value_format,
                       runtime::FormatColumns(sink, ColumnRole::kValue), "/value",
                       output.empty_bytes);
        Append(output);
      }
      // Copies: delivering downstream may re-enter this pipeline's encoders.
      auto copy = [](const std::string* bytes) {
        return bytes ? std::optional<std::string>(*bytes) : std::nullopt;
      };
      const std::optional<std::string> key = copy(result.key), value = copy(result.value),
                                       old_value = copy(result.old_value);
      std::optional<std::string> source_key, source_value;
      if (carry_sources && result.source) {
        if (result.source->key) source_key = std::string(*result.source->key);
        source_value = std::string(result.source->value.value_or(""));
      }
      auto view = [](const std::optional<std::string>& bytes) {
        return bytes ? std::optional<std::string_view>(*bytes) : std::nullopt;
      };
      runtime::InputMessage message;
      message.key = view(key);
      message.value = view(value);
      message.timestamp = result.timestamp;
      message.window = result.window;
      message.retract = result.retract;
      message.old_value = view(old_value);
      message.source_key = view(source_key);
      message.source_value = view(source_value);
      std::vector<runtime::RecordHeader> header_views;
      header_views.reserve(headers.size());
      for (const auto& [name, value] : headers) {
        header_views.push_back(
            {name, value ? std::string_view(*value) : std::string_view(), value.has_value()});
      }
      message.headers = header_views;
      return Deliver(sink.topic, message, 1);
    };
    callbacks.on_side_output = [this](const std::string& topic, const std::string* key,
                                      const std::string& value, int64_t timestamp) -> Status {
      TestRecord side;
      side.topic = topic;
      side.key = key ? json(*key) : json(nullptr);
      side.value = json::parse(value, nullptr, /*allow_exceptions=*/false);
      side.timestamp = timestamp;
      Append(side);
      const std::optional<std::string> key_copy =
          key ? std::optional<std::string>(*key) : std::nullopt;
      const std::string value_copy = value;
      runtime::InputMessage message;
      if (key_copy) message.key = *key_copy;
      message.value = value_copy;
      message.timestamp = timestamp;
      return Deliver(topic, message, 1);
    };
    // A re-keying stage runs with none of the query's properties: they apply to its results.
    const std::map<std::string, std::string> no_properties;
    for (int partition = 0; partition < partitions_; ++partition) {
      ASSIGN_OR_RAISE(
          auto task, runtime::StreamTask::Create(query_id, *tasks->plan,
                                                 internal ? no_properties : properties, callbacks));
      tasks->tasks.push_back(std::move(task));
      tasks->newest.emplace_back();
    }
    started.push_back(std::move(tasks));
  }
  for (auto& stage : started) stages_.push_back(std::move(stage));
  return Status::OK();
}

void OfflineEngine::SetTopicWriterSchema(const std::string& topic, bool key,
                                         std::string writer_schema, int32_t schema_id,
                                         bool protobuf,
                                         std::vector<registry::NamedSchema> references) {
  writer_schemas_[{topic, key}] =
      WriterSchema{std::move(writer_schema), schema_id, protobuf, std::move(references)};
}

Status OfflineEngine::Produce(const TestRecord& record) {
  // Encode with the formats of the first source declared on the topic, as its producer would;
  // a producer writing straight into a query's sink topic (a pipeline's test input) uses the
  // sink's formats.
  std::string key_bytes;
  std::optional<std::string> value_bytes;
  std::string key_full_name, value_full_name;  // the message a PROTOBUF writer schema writes
  const auto sources = catalog_->ListSources();
  const catalog::SourceDescription* declared_as = nullptr;
  for (const auto& source : sources) {
    if (source.topic != record.topic) continue;
    if (source.writer_query_id.empty()) {
      declared_as = &source;
      break;
    }
    if (!declared_as) declared_as = &source;
  }
  if (declared_as) {
    const catalog::SourceDescription& source = *declared_as;
    if (!record.key.is_null() && !writer_schemas_.count({record.topic, true})) {
      ASSIGN_OR_RAISE(key_bytes,
                      JsonToBytes(record.key, TestFormat(source, true),
                                  runtime::FormatColumns(source, ColumnRole::kKey),
                                  runtime::FormatOptionsOf(source, true).protobuf_nullable));
      ASSIGN_OR_RAISE(key_bytes, ToRegistryFormat(std::move(key_bytes), source, true));
    }
    if (!record.value.is_null() && !writer_schemas_.count({record.topic, false})) {
      ASSIGN_OR_RAISE(auto bytes,
                      JsonToBytes(record.value, TestFormat(source, false),
                                  runtime::FormatColumns(source, ColumnRole::kValue),
                                  runtime::FormatOptionsOf(source, false).protobuf_nullable));
      ASSIGN_OR_RAISE(bytes, ToRegistryFormat(std::move(bytes), source, false));
      value_bytes = std::move(bytes);
    }
    key_full_name = runtime::FormatOptionsOf(source, true).full_schema_name;
    value_full_name = runtime::FormatOptionsOf(source, false).full_schema_name;
  } else {
    key_bytes = record.key.is_null() ? "" : record.key.dump();
    if (!record.value.is_null()) value_bytes = record.value.dump();
  }
  // A producer's own registered schema.
  if (auto writer = writer_schemas_.find({record.topic, true});
      writer != writer_schemas_.end() && !record.key.is_null()) {
    ASSIGN_OR_RAISE(key_bytes,
                    writer->second.protobuf
                        ? formats::ProtobufMessageFromJson(writer->second.schema, key_full_name,
                                                           writer->second.id, record.key.dump(),
                                                           writer->second.references)
                        : formats::AvroMessageFromJson(writer->second.schema, writer->second.id,
                                                       record.key.dump()));
  }
  if (auto writer = writer_schemas_.find({record.topic, false});
      writer != writer_schemas_.end() && !record.value.is_null()) {
    ASSIGN_OR_RAISE(value_bytes,
                    writer->second.protobuf
                        ? formats::ProtobufMessageFromJson(writer->second.schema, value_full_name,
                                                           writer->second.id, record.value.dump(),
                                                           writer->second.references)
                        : formats::AvroMessageFromJson(writer->second.schema, writer->second.id,
                                                       record.value.dump()));
  }
  runtime::InputMessage message;
  if (!record.key.is_null()) message.key = key_bytes;
  if (value_bytes) message.value = *value_bytes;
  message.timestamp = record.timestamp.value_or(0);
  message.window = record.window;
  std::vector<runtime::RecordHeader> headers;
  headers.reserve(record.headers.size());
  for (const auto& [name, value] : record.headers) {
    headers.push_back(
        {name, value ? std::string_view(*value) : std::string_view(), value.has_value()});
  }
  message.headers = headers;
  return Deliver(record.topic, message, 0);
}

Status OfflineEngine::Deliver(const std::string& topic, runtime::InputMessage message, int depth) {
  if (depth > kMaxDepth) {
    return Status::InvalidArgument("Queries feed each other in a cycle through topic " + topic);
  }
  // The key's bytes pick the partition, as Kafka's default partitioner does (with another
  // hash: only consistency matters here).
  const int32_t partition =
      !message.key || partitions_ == 1
          ? 0
          : static_cast<int32_t>(XXH3_64bits(message.key->data(), message.key->size()) %
                                 static_cast<uint64_t>(partitions_));
  message.partition = partition;
  message.offset = next_offsets_[{topic, partition}]++;
  const runtime::InputMessage written = message;
  // Index loop: a query started while delivering would invalidate iterators.
  for (size_t i = 0; i < stages_.size(); ++i) {
    StageTasks& stage = *stages_[i];
    for (size_t source = 0; source < stage.source_topics.size(); ++source) {
      if (stage.source_topics[source] != topic) continue;
      message = written;
      message.source = source;
      // Only a stage reading a repartition topic reads its change and source headers.
      if (!stage.reads_changes) {
        message.retract = false;
        message.old_value.reset();
        message.source_key.reset();
        message.source_value.reset();
      }
      RETURN_NOT_OK(Process(stage, message));
    }
  }
  return Status::OK();
}

Status OfflineEngine::AdvanceWallClock(int64_t idle_ms) {
  // Index loops: results delivered downstream may start nothing, but may grow outputs.
  for (size_t i = 0; i < stages_.size(); ++i) {
    StageTasks& stage = *stages_[i];
    if (stage.paused) continue;  // a paused query's stream time stands still
    for (size_t partition = 0; partition < stage.tasks.size(); ++partition) {
      if (!stage.newest[partition]) continue;  // a task that saw nothing has no stream time
      RETURN_NOT_OK(stage.tasks[partition]->AdvanceStreamTime(*stage.newest[partition] + idle_ms));
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

runtime::TaskCounters OfflineEngine::counters() const {
  runtime::TaskCounters total;
  for (const auto& stage : stages_) {
    for (const auto& task : stage->tasks) total += task->counters();
  }
  return total;
}

std::vector<std::string> OfflineEngine::DescribePlans() const { return plan_descriptions_; }

}  // namespace sidestream::host
