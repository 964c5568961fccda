#pragma once

#include <string>

#include "common/status.h"
#include "types/sql_type.h"
#include "types/value.h"

namespace sidestream::expr {

/// Converts `in` to type `to` as ksqlDB's CAST does: strings parse to numbers, BOOLEAN
/// and temporals (invalid text gives InvalidArgument naming the value); numbers narrow
/// like Java's casts (wrapping, truncating toward zero); DECIMAL rescales HALF_UP and
/// gives InvalidArgument when the value does not fit the precision; everything prints
/// to STRING with ksqlDB's text. NULL casts to NULL. `in` and `out` must not alias.
/// `from`, the input's type when known, gives STRUCT fields their names: a STRUCT prints
/// as Kafka Connect's Struct{NAME=value,...} and casts to another STRUCT field by field,
/// by name (fields the input lacks are NULL).
Status CastValue(const types::Value& in, const types::SqlType& to, types::Value& out,
                 const types::SqlType* from = nullptr);

/// Makes `value` exactly of `type` when it is a number of another numeric kind or a
/// DECIMAL of another scale (implicit widening: INT -> BIGINT -> DECIMAL -> DOUBLE).
/// Other values are left as they are.
Status Conform(types::Value& value, const types::SqlType& type);

/// Appends ksqlDB's text for `value` (what CAST(value AS STRING) gives) to `out`:
/// DOUBLE as Java's Double.toString, DECIMAL in plain notation, TIMESTAMP as
/// 2021-06-01T10:00:00.000 (UTC), DATE as 2021-06-01, TIME as 10:00:00, BYTES in base64.
void AppendText(const types::Value& value, std::string& out, const types::SqlType* type = nullptr);

}  // namespace sidestream::expr
