#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "types/sql_type.h"

/// JSON form of SQL types, used by the catalog to persist column and custom types.
namespace sidestream::catalog {

/// Writes `type` as a JSON object, e.g. {"type":"DECIMAL","precision":6,"scale":2},
/// {"type":"ARRAY","element":{...}}, {"type":"MAP","key":{...},"value":{...}},
/// {"type":"STRUCT","fields":[{"name":"A","type":{...}}]}. Never throws.
/// Pure function; safe from any thread.
nlohmann::json TypeToJson(const types::SqlType& type);

/// Reads a type written by TypeToJson. Returns InvalidArgument describing the first problem
/// (unknown type name, missing or mistyped member, nesting deeper than kMaxTypeDepth).
/// Never throws. Pure function; safe from any thread.
Result<types::SqlType> TypeFromJson(const nlohmann::json& json);

/// Deepest nesting TypeFromJson accepts; guards the recursion against hostile input.
inline constexpr int kMaxTypeDepth = 64;

}  // namespace sidestream::catalog
