#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "types/sql_type.h"
#include "types/value.h"

/// Message formats: bytes of a Kafka key or value <-> a slice of a Row.
namespace sidestream::formats {

/// One column of the key or the value, in schema order.
struct FormatColumn {
  std::string name;  // as in the schema (upper case unless quoted)
  types::SqlType type;
  /// The query never reads this column: decoders neither parse nor write it (projection
  /// pushdown), so it keeps whatever the row held. Encoders ignore the flag.
  bool skip = false;
};

/// How PROTOBUF writes a NULL scalar (ksqlDB's `PROTOBUF_NULLABLE_REPRESENTATION`): left out,
/// so it reads back as its type's default (proto3); as a proto3 `optional` field; or as a
/// `google.protobuf.*Value` wrapper message. The last two keep NULL apart from the default.
enum class ProtobufNullable { kDefault, kOptional, kWrapper };

/// Which format, and its options (from the WITH clause).
struct FormatOptions {
  std::string format = "JSON";    // JSON, JSON_SR, AVRO, PROTOBUF, PROTOBUF_NOSR, DELIMITED,
                                  // KAFKA, NONE
  char delimiter = ',';           // DELIMITED; TAB and SPACE already resolved to the character
  bool wrap_single_value = true;  // JSON: a single column as a bare value when false
  bool is_key = false;            // keys and values differ (a JSON key of one column is unwrapped)
  ProtobufNullable protobuf_nullable = ProtobufNullable::kDefault;  // PROTOBUF, PROTOBUF_NOSR
  /// PROTOBUF: the registry id written in Confluent's wire format; unset, the bare message.
  std::optional<int32_t> schema_id;
  /// AVRO and JSON_SR: the schema registry (http://..., or mock://NAME in memory); empty
  /// means registry::DefaultSchemaRegistryUrl(). With neither, they are read and written as
  /// plain JSON, as before registry support.
  std::string schema_registry_url;
  /// The topic: schemas are registered under "<topic>-key" or "<topic>-value".
  std::string topic;
  /// AVRO: the full name of the record written (KEY_/VALUE_SCHEMA_FULL_NAME); empty for
  /// ksqlDB's default.
  std::string full_schema_name;
};

/// The registry url that `options` resolve to (theirs, else the process default); empty when
/// none is configured.
std::string SchemaRegistryUrlOf(const FormatOptions& options);
/// "<topic>-key" or "<topic>-value".
std::string SubjectOf(const FormatOptions& options);

/// Decodes message bytes into columns [first_column, first_column + columns) of a Row.
/// Thread: one task at a time (decoders keep reusable parse buffers).
class RowDecoder {
 public:
  virtual ~RowDecoder() = default;
  /// Fills the columns from `bytes`. Fields match columns case-insensitively; missing
  /// fields are NULL; numeric strings are coerced to numbers, as ksqlDB does. Returns
  /// InvalidArgument naming the column and the problem ("column DURATION_S: expected
  /// INTEGER but got 'abc'") when the bytes do not fit the schema, and Unavailable when the
  /// schema registry a format needs cannot be reached (retriable: the record is not at fault).
  virtual Status Decode(std::string_view bytes, types::Row& row, size_t first_column) = 0;
};

/// Encodes columns [first_column, first_column + columns) of a Row into message bytes.
class RowEncoder {
 public:
  virtual ~RowEncoder() = default;
  /// Appends nothing to a cleared `out` and writes the encoded columns. JSON numbers use
  /// Java's Double.toString form for DOUBLE (1.0, 1.2E7), as ksqlDB does.
  virtual Status Encode(const types::Row& row, size_t first_column, std::string& out) = 0;
};

/// InvalidArgument when the format cannot hold the columns (e.g. KAFKA with two columns).
Result<std::unique_ptr<RowDecoder>> MakeDecoder(const FormatOptions& options,
                                                std::vector<FormatColumn> columns);
Result<std::unique_ptr<RowEncoder>> MakeEncoder(const FormatOptions& options,
                                                std::vector<FormatColumn> columns);

}  // namespace sidestream::formats
