#pragma once

#include <memory>
#include <vector>

#include "connectors/formats/row_format.h"

/// KAFKA rows: ksqlDB's primitive serdes for a single column. INT is 4 bytes and BIGINT
/// 8 bytes big-endian, DOUBLE 8 bytes IEEE-754 big-endian, STRING UTF-8, BYTES raw.
/// With no columns (a keyless stream's key) it reads and writes nothing.
namespace sidestream::formats {

/// InvalidArgument for more than one column or a type KAFKA cannot hold (BOOLEAN,
/// DECIMAL, temporal and nested types).
Result<std::unique_ptr<RowDecoder>> MakeKafkaDecoder(std::vector<FormatColumn> columns);
Result<std::unique_ptr<RowEncoder>> MakeKafkaEncoder(std::vector<FormatColumn> columns);

}  // namespace sidestream::formats
