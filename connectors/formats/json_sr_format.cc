#include "connectors/formats/json_sr_format.h"

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

  Status Encode(const types::Row& row, size_t first_column, std::string& out) override {
    if (schema_id_ < 0) {
      auto id = registry_->Register(SubjectOf(options_), registry::SchemaType::kJson, schema_);
      if (!id.ok()) return Status(id.status().code(), "JSON_SR: " + id.status().message());
      schema_id_ = *id;
    }
    RETURN_NOT_OK(json_->Encode(row, first_column, payload_));
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
  ASSIGN_OR_RAISE(std::string schema, JsonSchemaOf(options, columns));
  return std::unique_ptr<RowEncoder>(
      std::make_unique<JsonSrRowEncoder>(std::move(registry), options, std::move(schema),
                                         MakeJsonEncoder(options, std::move(columns))));
}

}  // namespace sidestream::formats
