#pragma once

#include <memory>
#include <vector>

#include "connectors/formats/row_format.h"

/// DELIMITED rows: one CSV record per message, as ksqlDB reads and writes it with Apache
/// Commons CSV (quote '"', doubled quotes inside quotes, empty field = NULL).
namespace sidestream::formats {

/// InvalidArgument naming the column when a column is an ARRAY, MAP or STRUCT.
Result<std::unique_ptr<RowDecoder>> MakeDelimitedDecoder(const FormatOptions& options,
                                                         std::vector<FormatColumn> columns);
Result<std::unique_ptr<RowEncoder>> MakeDelimitedEncoder(const FormatOptions& options,
                                                         std::vector<FormatColumn> columns);

}  // namespace sidestream::formats
