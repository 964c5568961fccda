#pragma once

#include <memory>
#include <string>
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

/// A decoder: checks the header and decodes the JSON after it (the schema id is not
/// fetched: JSON carries its field names). InvalidArgument when no registry is configured.
Result<std::unique_ptr<RowDecoder>> MakeJsonSrDecoder(const FormatOptions& options,
                                                      std::vector<FormatColumn> columns);
/// An encoder: registers JsonSchemaOf(columns) under "<topic>-value" (or "-key") at the first
/// record, then writes the header and the JSON.
Result<std::unique_ptr<RowEncoder>> MakeJsonSrEncoder(const FormatOptions& options,
                                                      std::vector<FormatColumn> columns);

}  // namespace sidestream::formats
