#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "connectors/formats/row_format.h"

/// AVRO rows in Confluent's wire format (a 5-byte header naming the schema id, then the Avro
/// binary body), encoded and decoded with Debian's avro-c.
namespace sidestream::formats {

/// ksqlDB's default name of the record it derives ("io.confluent.ksql.avro_schemas."
/// "KsqlDataSourceSchema").
inline constexpr const char* kDefaultAvroSchemaFullName =
    "io.confluent.ksql.avro_schemas.KsqlDataSourceSchema";

/// The Avro schema (JSON text) that ksqlDB derives for `columns`: a record named
/// `options.full_schema_name` (or the default) whose fields are nullable unions
/// ["null", T] with default null; DECIMAL is bytes with logicalType decimal, DATE int/date,
/// TIME int/time-millis, TIMESTAMP long/timestamp-millis, MAP an Avro map (STRING keys
/// only), STRUCT a nested record named <parent>_<FIELD>. A single unwrapped column (a key,
/// or WRAP_SINGLE_VALUE=false) is its bare nullable type. InvalidArgument when a column
/// cannot be held (a MAP with non-STRING keys).
Result<std::string> AvroSchemaOf(const FormatOptions& options,
                                 const std::vector<FormatColumn>& columns);

/// The columns an Avro schema describes (schema inference for CREATE without columns):
/// a record's fields in order, or one column named `single_name` for any other schema or
/// when `whole_schema` (an unwrapped key, or WRAP_SINGLE_VALUE=false: ksqlDB's
/// UNWRAP_SINGLES). With `upper_case`, record field names (nested ones too) are
/// upper-cased, as ksqlDB infers them when no KEY_/VALUE_SCHEMA_ID is given. InvalidArgument
/// naming the field when its type has no SQL equivalent.
Result<std::vector<FormatColumn>> ColumnsOfAvroSchema(std::string_view schema_json,
                                                      const std::string& single_name,
                                                      bool whole_schema = false,
                                                      bool upper_case = false);

/// For test harnesses: the wire-format message of `value_json` (a JSON value as ksqlDB's
/// test files write it: decimals as numbers or text, bytes as base64) under any
/// `writer_schema`, with the header naming `schema_id`. InvalidArgument naming the field
/// that does not fit.
Result<std::string> AvroMessageFromJson(const std::string& writer_schema, int32_t schema_id,
                                        std::string_view value_json);

/// A decoder: reads the writer's schema by the id in each message (from the registry, once
/// per id) and fills the columns by name, case-insensitively, so a newer compatible writer
/// schema (added or removed fields, int widened to long) still decodes; absent fields are
/// NULL. InvalidArgument when the registry is not configured.
Result<std::unique_ptr<RowDecoder>> MakeAvroDecoder(const FormatOptions& options,
                                                    std::vector<FormatColumn> columns);
/// An encoder: registers AvroSchemaOf(columns) under "<topic>-value" (or "-key") at the
/// first record and writes the wire format.
Result<std::unique_ptr<RowEncoder>> MakeAvroEncoder(const FormatOptions& options,
                                                    std::vector<FormatColumn> columns);

}  // namespace sidestream::formats
