#pragma once

#include <span>
#include <string>
#include <vector>

#include "runtime/source.h"
#include "types/value.h"

namespace sidestream::runtime {

/// A source column read from the record's headers rather than its key or value.
struct HeaderColumn {
  size_t index = 0;        // the column's position in the source's row
  std::string header_key;  // HEADER('name'): that header's value; empty: HEADERS, all of them
};

/// Fills `columns` of `row` from a record's `headers` (ksqlDB's semantics):
/// - HEADERS (ARRAY<STRUCT<KEY STRING, VALUE BYTES>>): every header in order, a null value
///   as NULL; an empty array when there are none;
/// - HEADER('name') (BYTES): the last header called `name`, NULL when there is none or its
///   value is null.
/// Header names and values are bytes taken as they are; `row` must be large enough to hold
/// every column's index. Allocates only for HEADERS columns.
void FillHeaderColumns(std::span<const HeaderColumn> columns, std::span<const RecordHeader> headers,
                       types::Row& row);

}  // namespace sidestream::runtime
