#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "types/value.h"

/// A compact binary form of Rows, for state that leaves the process (changelog topics).
/// Each value is its kind byte, then its payload: integers and doubles as 8 little-endian
/// bytes, a DECIMAL as 16 bytes and 8 for its scale, STRING and BYTES as a length and the bytes,
/// ARRAY, MAP and STRUCT as a count and their children. A Row is a count and its values.
namespace sidestream::types {

/// Appends `row` to `out`.
void EncodeRow(const Row& row, std::string& out);

/// Reads a Row written by EncodeRow; Corruption when `bytes` is not one.
Status DecodeRow(std::string_view bytes, Row& row);

}  // namespace sidestream::types
