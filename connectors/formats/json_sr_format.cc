#include "connectors/formats/json_sr_format.h"

#include <cctype>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "connectors/formats/json_format.h"
#include "connectors/registry/schema_registry.h"

namespace sidestream::formats {

using nlohmann::json;
using types::SqlType;
using types::TypeId;

namespace {

json Nullable(json type) { return json{{"oneOf", json::array({json{{"type", "null"}}, type})}}; }

json JsonSchemaTypeOf(const SqlType& type) {
  switch (type.id()) {
    case TypeId::kBoolean:
      return {{"type", "boolean"}};
    case TypeId::kInt:
      return {{"type", "integer"}, {"connect.type", "int32"}};
    case TypeId::kBigint:
      return {{"type", "integer"}, {"connect.type", "int64"}};
    case TypeId::kDouble:
      return {{"type", "number"}, {"connect.type", "float64"}};
    case TypeId::kDecimal:
      return {{"type", "number"},
              {"title", "org.apache.kafka.connect.data.Decimal"},
              {"connect.type", "bytes"},
              {"connect.parameters",
               {{"scale", std::to_string(type.scale())},
                {"connect.decimal.precision", std::to_string(type.precision())}}}};
    case TypeId::kString:
      return {{"type", "string"}};
    case TypeId::kBytes:
      return {{"type", "string"}, {"connect.type", "bytes"}};
    case TypeId::kDate:
      return {{"type", "integer"},
              {"title", "org.apache.kafka.connect.data.Date"},
              {"connect.type", "int32"}};
    case TypeId::kTime:
      return {{"type", "integer"},
              {"title", "org.apache.kafka.connect.data.Time"},
              {"connect.type", "int32"}};
    case TypeId::kTimestamp:
      return {{"type", "integer"},
              {"title", "org.apache.kafka.connect.data.Timestamp"},
              {"connect.type", "int64"}};
    case TypeId::kArray:
      return {{"type", "array"}, {"items", Nullable(JsonSchemaTypeOf(type.element()))}};
    case TypeId::kMap:
      return {{"type", "object"},
              {"additionalProperties", Nullable(JsonSchemaTypeOf(type.value()))},
              {"connect.type", "map"}};
    case TypeId::kStruct: {
      json properties = json::object();
      int index = 0;
      for (const auto& field : type.fields()) {
        json property = Nullable(JsonSchemaTypeOf(field.type));
        property["connect.index"] = index++;
        properties[field.name] = std::move(property);
      }
      return {{"type", "object"}, {"properties", std::move(properties)}};
    }
    case TypeId::kNull:
      break;
  }
  return {{"type", "null"}};
}

// ---------------------------------------------------------------------------------------------
// JSON Schema -> SQL types (Kafka Connect's JsonSchemaData.toConnectSchema, then ksqlDB's
// ConnectKsqlSchemaTranslator: every type nullable, int8/int16 widened to INT, float to DOUBLE).

using ordered_json = nlohmann::ordered_json;

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

Result<SqlType> SqlTypeOfJsonSchema(const ordered_json& node, bool upper_case, int depth) {
  if (depth > 64) return Status::InvalidArgument("nested too deeply");
  if (node.is_boolean()) return Status::InvalidArgument("a boolean schema");
  if (!node.is_object()) return Status::InvalidArgument("not a schema");
  for (const char* combiner : {"oneOf", "anyOf"}) {
    if (!node.contains(combiner)) continue;
    // [null, T] is a nullable T; a union of several types has no SQL type.
    const ordered_json* only = nullptr;
    for (const auto& branch : node[combiner]) {
      if (branch.is_object() && branch.value("type", ordered_json()) == "null") continue;
      if (only != nullptr) return Status::InvalidArgument("a union of several types");
      only = &branch;
    }
    if (only == nullptr) return Status::InvalidArgument("a union of null only");
    return SqlTypeOfJsonSchema(*only, upper_case, depth + 1);
  }
  ordered_json type = node.value("type", ordered_json());
  if (type.is_array()) {
    // ["null", T] is a nullable T.
    ordered_json only;
    for (const auto& branch : type) {
      if (branch == "null") continue;
      if (!only.is_null()) return Status::InvalidArgument("a union of several types");
      only = branch;
    }
    type = only;
  }
  if (!type.is_string()) {
    if (node.contains("properties"))
      type = "object";
    else
      return Status::InvalidArgument("no type");
  }
  const std::string kind = type.get<std::string>();
  const std::string title = node.value("title", std::string());
  const std::string connect_type = node.value("connect.type", std::string());
  if (kind == "boolean") return SqlType::Boolean();
  if (kind == "integer") {
    if (title == "org.apache.kafka.connect.data.Date") return SqlType::Date();
    if (title == "org.apache.kafka.connect.data.Time") return SqlType::Time();
    if (title == "org.apache.kafka.connect.data.Timestamp") return SqlType::Timestamp();
    if (connect_type == "int8" || connect_type == "int16" || connect_type == "int32") {
      return SqlType::Int();
    }
    return SqlType::Bigint();
  }
  if (kind == "number") {
    if (title == "org.apache.kafka.connect.data.Decimal") {
      const ordered_json parameters = node.value("connect.parameters", ordered_json::object());
      auto number = [&](const char* name, int fallback) {
        const ordered_json value = parameters.value(name, ordered_json());
        if (value.is_number_integer()) return value.get<int>();
        if (value.is_string()) return std::atoi(value.get<std::string>().c_str());
        return fallback;
      };
      return SqlType::Decimal(number("connect.decimal.precision", 64), number("scale", 0));
    }
    return SqlType::Double();
  }
  if (kind == "string") {
    if (connect_type == "bytes") return SqlType::Bytes();
    return SqlType::String();
  }
  if (kind == "array") {
    ASSIGN_OR_RAISE(SqlType items, SqlTypeOfJsonSchema(node.value("items", ordered_json()),
                                                       upper_case, depth + 1));
    return SqlType::Array(std::move(items));
  }
  if (kind == "object") {
    const bool map = connect_type == "map" ||
                     (!node.contains("properties") && node.contains("additionalProperties") &&
                      node["additionalProperties"].is_object());
    if (map) {
      ASSIGN_OR_RAISE(SqlType values,
                      SqlTypeOfJsonSchema(node["additionalProperties"], upper_case, depth + 1));
      return SqlType::Map(SqlType::String(), std::move(values));
    }
    // Fields in connect.index order; a property without one comes next, as written.
    std::map<int64_t, std::pair<std::string, const ordered_json*>> ordered;
    static const ordered_json kNoProperties = ordered_json::object();
    const ordered_json& properties = node.contains("properties") && node["properties"].is_object()
                                         ? node["properties"]
                                         : kNoProperties;
    for (const auto& [name, property] : properties.items()) {
      int64_t index = static_cast<int64_t>(ordered.size());
      if (property.is_object() && property.contains("connect.index") &&
          property["connect.index"].is_number_integer()) {
        index = property["connect.index"].get<int64_t>();
      }
      ordered[index] = {name, &property};
    }
    std::vector<types::StructField> fields;
    for (const auto& [index, field] : ordered) {
      auto field_type = SqlTypeOfJsonSchema(*field.second, upper_case, depth + 1);
      if (!field_type.ok()) {
        return Status::InvalidArgument("field " + field.first + ": " +
                                       field_type.status().message());
      }
      fields.push_back({upper_case ? Upper(field.first) : field.first, std::move(*field_type)});
    }
    return SqlType::Struct(std::move(fields));
  }
  return Status::InvalidArgument("type '" + kind + "'");
}

class JsonSrRowDecoder final : public RowDecoder {
 public:
  explicit JsonSrRowDecoder(std::unique_ptr<RowDecoder> json) : json_(std::move(json)) {}

  Status Decode(std::string_view bytes, types::Row& row, size_t first_column) override {
    auto message = registry::ParseWireHeader(bytes);
    if (!message.ok()) return Status::InvalidArgument("JSON_SR: " + message.status().message());
    return json_->Decode(message->payload, row, first_column);
  }

 private:
  std::unique_ptr<RowDecoder> json_;
};

class JsonSrRowEncoder final : public RowEncoder {
 public:
  JsonSrRowEncoder(std::shared_ptr<registry::SchemaRegistry> registry, FormatOptions options,
                   std::string schema, std::unique_ptr<RowEncoder> json)
      : registry_(std::move(registry)),
        options_(std::move(options)),
        schema_(std::move(schema)),
        json_(std::move(json)) {}

  // Writes the columns of the schema registered under `id` (KEY_/VALUE_SCHEMA_ID), as the
  // encoder's columns: column i is the row's column sources[i], or NULL when it is -1.
  void UseRegisteredSchema(int32_t id, std::vector<int> sources) {
    schema_id_ = id;
    sources_ = std::move(sources);
    registered_ = true;
  }

  Status Encode(const types::Row& row, size_t first_column, std::string& out) override {
    if (schema_id_ < 0) {
      auto id = registry_->Register(SubjectOf(options_), registry::SchemaType::kJson, schema_);
      if (!id.ok()) return Status(id.status().code(), "JSON_SR: " + id.status().message());
      schema_id_ = *id;
    }
    if (registered_) {
      scratch_.assign(sources_.size(), types::Value());
      for (size_t i = 0; i < sources_.size(); ++i) {
        const size_t from = first_column + static_cast<size_t>(sources_[i]);
        if (sources_[i] >= 0 && from < row.size()) scratch_[i] = row[from];
      }
      RETURN_NOT_OK(json_->Encode(scratch_, 0, payload_));
    } else {
      RETURN_NOT_OK(json_->Encode(row, first_column, payload_));
    }
    out.clear();
    registry::AppendWireHeader(schema_id_, out);
    out += payload_;
    return Status::OK();
  }

 private:
  std::shared_ptr<registry::SchemaRegistry> registry_;
  FormatOptions options_;
  std::string schema_;
  std::unique_ptr<RowEncoder> json_;
  std::string payload_;
  int32_t schema_id_ = -1;
  bool registered_ = false;
  std::vector<int> sources_;
  types::Row scratch_;
};

}  // namespace

Result<std::string> JsonSchemaOf(const FormatOptions& options,
                                 const std::vector<FormatColumn>& columns) {
  // "$schema" lets a registry that guesses the kind of a schema (Apicurio) see JSON Schema
  // even for a bare oneOf.
  json schema;
  if (JsonUnwrapped(options, columns.size())) {
    schema = Nullable(JsonSchemaTypeOf(columns[0].type));
  } else {
    std::vector<types::StructField> fields;
    for (const auto& column : columns) fields.push_back({column.name, column.type});
    schema = JsonSchemaTypeOf(SqlType::Struct(std::move(fields)));
  }
  schema["$schema"] = "http://json-schema.org/draft-07/schema#";
  return schema.dump();
}

Result<std::vector<FormatColumn>> ColumnsOfJsonSchema(std::string_view schema_text,
                                                      const std::string& single_name,
                                                      bool whole_schema, bool upper_case) {
  ordered_json schema = ordered_json::parse(schema_text, nullptr, false);
  if (schema.is_discarded()) return Status::InvalidArgument("the JSON schema is not JSON");
  ASSIGN_OR_RAISE(SqlType type, SqlTypeOfJsonSchema(schema, upper_case, 0));
  std::vector<FormatColumn> columns;
  if (whole_schema || type.id() != TypeId::kStruct) {
    columns.push_back({single_name, std::move(type)});
    return columns;
  }
  for (const auto& field : type.fields()) columns.push_back({field.name, field.type});
  return columns;
}

Result<std::unique_ptr<RowDecoder>> MakeJsonSrDecoder(const FormatOptions& options,
                                                      std::vector<FormatColumn> columns) {
  ASSIGN_OR_RAISE(auto registry, registry::SharedSchemaRegistry(SchemaRegistryUrlOf(options)));
  (void)registry;  // JSON names its fields: the writer's schema is not needed to read it
  return std::unique_ptr<RowDecoder>(
      std::make_unique<JsonSrRowDecoder>(MakeJsonDecoder(options, std::move(columns))));
}

Result<std::unique_ptr<RowEncoder>> MakeJsonSrEncoder(const FormatOptions& options,
                                                      std::vector<FormatColumn> columns) {
  ASSIGN_OR_RAISE(auto registry, registry::SharedSchemaRegistry(SchemaRegistryUrlOf(options)));
  if (!options.schema_id) {
    ASSIGN_OR_RAISE(std::string schema, JsonSchemaOf(options, columns));
    return std::unique_ptr<RowEncoder>(
        std::make_unique<JsonSrRowEncoder>(std::move(registry), options, std::move(schema),
                                           MakeJsonEncoder(options, std::move(columns))));
  }
  // ksqlDB writes the columns of the schema the id names (the analyzer checked that the
  // result's columns lead them): the others are NULL.
  ASSIGN_OR_RAISE(registry::SchemaToWrite registered,
                  registry::GetSchemaToWrite(*registry, *options.schema_id,
                                             registry::SchemaType::kJson, SubjectOf(options)));
  const std::string& what = registered.what;
  const bool unwrapped = JsonUnwrapped(options, columns.size());
  auto written =
      ColumnsOfJsonSchema(registered.registered.schema, unwrapped ? columns[0].name : "ROWVAL",
                          unwrapped, /*upper_case=*/false);
  if (!written.ok()) return Status::InvalidArgument(what + ": " + written.status().message());
  std::vector<int> sources;
  for (const FormatColumn& column : *written) {
    int source = -1;
    for (size_t c = 0; c < columns.size() && source < 0; ++c) {
      if (columns[c].name == column.name) source = static_cast<int>(c);
    }
    sources.push_back(source);
  }
  if (unwrapped) sources = {0};
  auto encoder = std::make_unique<JsonSrRowEncoder>(std::move(registry), options, std::string(),
                                                    MakeJsonEncoder(options, *written));
  encoder->UseRegisteredSchema(*options.schema_id, std::move(sources));
  return std::unique_ptr<RowEncoder>(std::move(encoder));
}

}  // namespace sidestream::formats
