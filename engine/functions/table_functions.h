#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "types/value.h"

/// The bodies of the built-in table functions (EXPLODE, CUBE_EXPLODE), which the runtime's
/// FlatMap operator calls once per input row. Their registry entries (kind kTable) are added
/// by AddTableFunctions (function_builder.h).
namespace sidestream::functions {

/// Appends the rows one call produces, one value each, to `rows` (which the caller clears).
/// A NULL argument produces no rows, as in ksqlDB. An error names the function and why.
/// Thread: stateless; any thread.
using TableFunctionBody = Status (*)(std::span<const types::Value> arguments,
                                     std::vector<types::Value>& rows);

/// The body of the table function `name` (upper-case); NotFound when there is none.
Result<TableFunctionBody> FindTableFunction(std::string_view name);

/// CUBE_EXPLODE makes 2^n rows for n non-NULL elements: more than this many is refused.
inline constexpr size_t kCubeExplodeMaxElements = 20;

}  // namespace sidestream::functions
