#pragma once

#include <memory>
#include <vector>

#include "connectors/formats/row_format.h"

/// JSON (and JSON_SR; AVRO read as JSON) rows: simdjson ondemand for reading,
/// a hand-written writer for Java-compatible number forms.
namespace sidestream::formats {

/// True when the message is the bare value of its one column rather than an object:
/// a key of one column, or a value of one column with WRAP_SINGLE_VALUE=false.
bool JsonUnwrapped(const FormatOptions& options, size_t column_count);

/// A JSON decoder for `columns`. Never fails for a valid schema (MAP keys other than
/// STRING are read from the JSON key text).
std::unique_ptr<RowDecoder> MakeJsonDecoder(const FormatOptions& options,
                                            std::vector<FormatColumn> columns);
/// A JSON encoder for `columns`.
std::unique_ptr<RowEncoder> MakeJsonEncoder(const FormatOptions& options,
                                            std::vector<FormatColumn> columns);

}  // namespace sidestream::formats
