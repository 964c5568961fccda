#include "connectors/formats/row_format.h"

#include <utility>

#include "connectors/formats/avro_format.h"
#include "connectors/formats/delimited_format.h"
#include "connectors/formats/json_format.h"
#include "connectors/formats/json_sr_format.h"
#include "connectors/formats/kafka_format.h"
#include "connectors/formats/protobuf_format.h"
#include "connectors/registry/schema_registry.h"

namespace sidestream::formats {
namespace {

enum class FormatKind {
  kJson,
  kJsonSr,
  kAvro,
  kProtobuf,
  kRegistryProtobuf,
  kDelimited,
  kKafka,
  kNone
};

Result<FormatKind> KindOf(const FormatOptions& options) {
  std::string name;
  for (char c : options.format) name += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
  // With a schema registry, AVRO, JSON_SR and PROTOBUF use Confluent's wire format with
  // registered schemas; without one AVRO and JSON_SR are read and written as JSON, PROTOBUF
  // with the schema of the columns.
  const bool registry = !SchemaRegistryUrlOf(options).empty();
  if (name == "AVRO" && registry) return FormatKind::kAvro;
  if (name == "JSON_SR" && registry) return FormatKind::kJsonSr;
  if (name == "PROTOBUF" && registry) return FormatKind::kRegistryProtobuf;
  if (name == "JSON" || name == "JSON_SR" || name == "AVRO") return FormatKind::kJson;
  if (name == "PROTOBUF" || name == "PROTOBUF_NOSR") return FormatKind::kProtobuf;
  if (name == "DELIMITED") return FormatKind::kDelimited;
  if (name == "KAFKA") return FormatKind::kKafka;
  if (name == "NONE") return FormatKind::kNone;
  return Status::InvalidArgument("unknown format '" + options.format +
                                 "' (expected JSON, JSON_SR, AVRO, PROTOBUF, PROTOBUF_NOSR, "
                                 "DELIMITED, KAFKA or NONE)");
}

Status CheckNoneColumns(const std::vector<FormatColumn>& columns) {
  if (columns.empty()) return Status::OK();
  return Status::InvalidArgument("the 'NONE' format holds no columns, but column " +
                                 columns[0].name + " was given");
}

// NONE: no columns; reads nothing from the bytes and writes nothing.
class NoneRowDecoder final : public RowDecoder {
 public:
  Status Decode(std::string_view, types::Row&, size_t) override { return Status::OK(); }
};

class NoneRowEncoder final : public RowEncoder {
 public:
  Status Encode(const types::Row&, size_t, std::string& out) override {
    out.clear();
    return Status::OK();
  }
};

}  // namespace

std::string SchemaRegistryUrlOf(const FormatOptions& options) {
  return options.schema_registry_url.empty() ? registry::DefaultSchemaRegistryUrl()
                                             : options.schema_registry_url;
}

std::string SubjectOf(const FormatOptions& options) {
  return options.topic + (options.is_key ? "-key" : "-value");
}

Result<std::unique_ptr<RowDecoder>> MakeDecoder(const FormatOptions& options,
                                                std::vector<FormatColumn> columns) {
  ASSIGN_OR_RAISE(FormatKind kind, KindOf(options));
  switch (kind) {
    case FormatKind::kJson:
      return MakeJsonDecoder(options, std::move(columns));
    case FormatKind::kProtobuf:
      return MakeProtobufDecoder(options, std::move(columns));
    case FormatKind::kRegistryProtobuf:
      return MakeRegistryProtobufDecoder(options, std::move(columns));
    case FormatKind::kJsonSr:
      return MakeJsonSrDecoder(options, std::move(columns));
    case FormatKind::kAvro:
      return MakeAvroDecoder(options, std::move(columns));
    case FormatKind::kDelimited:
      return MakeDelimitedDecoder(options, std::move(columns));
    case FormatKind::kKafka:
      return MakeKafkaDecoder(std::move(columns));
    case FormatKind::kNone:
      RETURN_NOT_OK(CheckNoneColumns(columns));
      return std::unique_ptr<RowDecoder>(std::make_unique<NoneRowDecoder>());
  }
  return Status::Internal("unhandled format");
}

Result<std::unique_ptr<RowEncoder>> MakeEncoder(const FormatOptions& options,
                                                std::vector<FormatColumn> columns) {
  ASSIGN_OR_RAISE(FormatKind kind, KindOf(options));
  switch (kind) {
    case FormatKind::kJson:
      return MakeJsonEncoder(options, std::move(columns));
    case FormatKind::kProtobuf:
      return MakeProtobufEncoder(options, std::move(columns));
    case FormatKind::kRegistryProtobuf:
      return MakeRegistryProtobufEncoder(options, std::move(columns));
    case FormatKind::kJsonSr:
      return MakeJsonSrEncoder(options, std::move(columns));
    case FormatKind::kAvro:
      return MakeAvroEncoder(options, std::move(columns));
    case FormatKind::kDelimited:
      return MakeDelimitedEncoder(options, std::move(columns));
    case FormatKind::kKafka:
      return MakeKafkaEncoder(std::move(columns));
    case FormatKind::kNone:
      RETURN_NOT_OK(CheckNoneColumns(columns));
      return std::unique_ptr<RowEncoder>(std::make_unique<NoneRowEncoder>());
  }
  return Status::Internal("unhandled format");
}

}  // namespace sidestream::formats
