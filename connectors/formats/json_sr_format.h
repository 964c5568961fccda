#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "connectors/formats/row_format.h"

/// JSON_SR rows: the JSON of json_format behind Confluent's 5-byte wire-format header, with
/// a JSON Schema registered for what is written.
namespace sidestream::formats {

/// The JSON Schema (text) written for `columns`, in Kafka Connect's JsonSchemaData shape:
/// an object whose properties are oneOf [null, T], with connect.index and connect.type.
Result<std::string> JsonSchemaOf(const FormatOptions& options,
                                 const std::vector<FormatColumn>& columns);

/// The columns a JSON Schema describes (schema inference), read as Kafka Connect's
/// JsonSchemaData reads it: an object's properties in connect.index order (else as written),
/// or one column named `single_name` for any other schema or when `whole_schema` (an
/// unwrapped key, or WRAP_SINGLE_VALUE=false). "integer" is BIGINT unless connect.type says
/// int8/int16/int32; "number" is DOUBLE; oneOf/anyOf [null, T] is T; the Connect titles of
/// Decimal, Date, Time and Timestamp give those types; an object with connect.type map or
/// only additionalProperties is a MAP with STRING keys. With `upper_case`, field names are
/// upper-cased (inference without a schema id). InvalidArgument naming the field whose type
/// has no SQL equivalent.
Result<std::vector<FormatColumn>> ColumnsOfJsonSchema(std::string_view schema_text,
                                                      const std::string& single_name,
                                                      bool whole_schema, bool upper_case);

/// A decoder: checks the header and decodes the JSON after it (the schema id is not
/// fetched: JSON carries its field names). InvalidArgument when no registry is configured.
Result<std::unique_ptr<RowDecoder>> MakeJsonSrDecoder(const FormatOptions& options,
                                                      std::vector<FormatColumn> columns);
/// An encoder: registers JsonSchemaOf(columns) under "<topic>-value" (or "-key") at the first
/// record, then writes the header and the JSON.
Result<std::unique_ptr<RowEncoder>> MakeJsonSrEncoder(const FormatOptions& options,
                                                      std::vector<FormatColumn> columns);

}  // namespace sidestream::formats
