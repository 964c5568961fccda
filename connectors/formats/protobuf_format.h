#pragma once

#include <google/protobuf/descriptor.pb.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/formats/row_format.h"
#include "connectors/registry/schema_registry.h"

/// PROTOBUF and PROTOBUF_NOSR rows, through libprotobuf's DynamicMessage and reflection.
///
/// The schema is built at run time from the columns as ksqlDB (Confluent's ProtobufData)
/// builds it: a proto3 message `ConnectDefault1` whose fields are the columns, numbered 1..n
/// in column order; a STRUCT is a nested message (`ConnectDefault2`, ... in depth-first
/// order), an ARRAY a repeated field, a MAP a repeated `ConnectDefaultNEntry` message of
/// `key = 1` and `value = 2` (a protobuf map's wire form), DECIMAL `confluent.type.Decimal`,
/// DATE `google.type.Date`, TIME `google.type.TimeOfDay` and TIMESTAMP
/// `google.protobuf.Timestamp`. Both keys and values are always a message (a single column
/// too). How a NULL scalar is written follows `FormatOptions::protobuf_nullable`: by default
/// it is left out and reads back as its type's default (proto3), as OPTIONAL it is a proto3
/// `optional` field, as WRAPPER a `google.protobuf.*Value` message; either way a NULL
/// STRUCT, DECIMAL or temporal value stays NULL, and a NULL ARRAY or MAP reads back empty.
namespace sidestream::formats {

/// The schema file for `columns` (message `ConnectDefault1`), with the imports it needs
/// (google/protobuf/timestamp.proto, wrappers.proto, google/type/date.proto,
/// timeofday.proto, confluent/type/decimal.proto) listed as dependencies.
/// InvalidArgument when PROTOBUF cannot hold a column (a MAP key other than STRING, an
/// ARRAY of ARRAY).
Result<google::protobuf::FileDescriptorProto> ProtobufSchemaFile(
    const std::vector<FormatColumn>& columns, ProtobufNullable nullable);

/// The .proto text of that schema, as a schema registry would store it.
Result<std::string> ProtobufSchemaText(const std::vector<FormatColumn>& columns,
                                       ProtobufNullable nullable);

/// A decoder for PROTOBUF or PROTOBUF_NOSR (`options.format`). PROTOBUF reads Confluent's
/// wire format (see ParseConfluentProtobufFrame) when the bytes start with the magic byte 0,
/// else the bare message (a protobuf message never starts with a 0 byte). Errors are
/// InvalidArgument naming the column whose bytes are broken.
Result<std::unique_ptr<RowDecoder>> MakeProtobufDecoder(const FormatOptions& options,
                                                        std::vector<FormatColumn> columns);
/// An encoder for PROTOBUF or PROTOBUF_NOSR. PROTOBUF with `options.schema_id` writes
/// Confluent's wire format with that id; without one (no registry) it writes the bare
/// message, as PROTOBUF_NOSR does.
Result<std::unique_ptr<RowEncoder>> MakeProtobufEncoder(const FormatOptions& options,
                                                        std::vector<FormatColumn> columns);

/// PROTOBUF with a schema registry (`options.schema_registry_url` or the process default):
/// reads Confluent's wire format with the writer's schema, fetched by the id in each message
/// (cached per id) and compiled from its .proto text with libprotobuf's parser; the message
/// the header's indexes name fills the columns by field name, case-insensitively (absent
/// fields are NULL). InvalidArgument, naming what, for a wrong magic byte, a truncated header
/// or body, an id the registry does not have, or a field whose type cannot hold its column;
/// Unavailable when the registry cannot be reached.
Result<std::unique_ptr<RowDecoder>> MakeRegistryProtobufDecoder(const FormatOptions& options,
                                                                std::vector<FormatColumn> columns);
/// PROTOBUF with a schema registry: without `options.schema_id`, registers the schema of the
/// columns (ProtobufSchemaText) under SubjectOf(options) at the first record and writes with
/// it; with one (KEY_/VALUE_SCHEMA_ID), writes with that registered schema's message
/// (`options.full_schema_name`, else the first), filling its fields by name. InvalidArgument
/// at creation when that schema cannot hold the columns (a column without a field, or of a
/// type its field cannot hold), as ksqlDB refuses such a sink.
Result<std::unique_ptr<RowEncoder>> MakeRegistryProtobufEncoder(const FormatOptions& options,
                                                                std::vector<FormatColumn> columns);

/// The columns a registered .proto schema describes (inference for CREATE without columns):
/// the fields of message `full_name` (else the first message), named in upper case when
/// `upper_case` (ksqlDB keeps the schema's names when a SCHEMA_ID names it, since it writes
/// with that schema). Integers of 64 bits or unsigned are BIGINT, float DOUBLE, an enum STRING.
/// InvalidArgument when the text does not parse or a field has no SQL type; NotFound when
/// there is no such message, InvalidArgument for an import that is neither a well-known file
/// nor one of `references` (the schema references the registry gives with it: see
/// registry::ReferencedSchemas).
Result<std::vector<FormatColumn>> ColumnsOfProtobufSchema(
    const std::string& schema_text, const std::string& full_name, bool upper_case = true,
    const std::vector<registry::NamedSchema>& references = {});

/// For test harnesses: `value_json` (proto3's JSON mapping) as the wire-format message of
/// message `full_name` (else the first) of `schema_text` (which may import `references`),
/// with the header naming `schema_id`.
Result<std::string> ProtobufMessageFromJson(
    const std::string& schema_text, const std::string& full_name, int32_t schema_id,
    std::string_view value_json, const std::vector<registry::NamedSchema>& references = {});

/// For test harnesses: a wire-format message as a JSON object of every field of its writer's
/// schema (fetched from the registry), named as the schema names them; a field named like one
/// of `known_columns` takes that column's type.
Result<std::string> ProtobufWireToJson(const std::string& schema_registry_url,
                                       std::string_view bytes,
                                       const std::vector<FormatColumn>& known_columns);

/// Confluent's wire format of a PROTOBUF message: magic byte 0, the schema id as 4 bytes
/// big-endian, then the message indexes (the path to the message in the schema file: a
/// zig-zag varint count and the zig-zag varint indexes; the first top-level message, path
/// [0], is the single byte 0), then the message.
struct ConfluentProtobufFrame {
  int32_t schema_id = 0;
  std::vector<int32_t> message_indexes;  // {0} for the first top-level message
  std::string_view message;              // points into the framed bytes
};

/// Appends the header for the first top-level message of schema `schema_id` to `out`.
void AppendConfluentProtobufHeader(int32_t schema_id, std::string& out);
/// Appends the header for the message at path `indexes` of schema `schema_id` to `out`.
void AppendConfluentProtobufHeader(int32_t schema_id, const std::vector<int32_t>& indexes,
                                   std::string& out);

/// Splits framed bytes. InvalidArgument when the magic byte, the id or the indexes are
/// missing or broken.
Result<ConfluentProtobufFrame> ParseConfluentProtobufFrame(std::string_view bytes);

}  // namespace sidestream::formats
