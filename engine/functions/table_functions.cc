// EXPLODE and CUBE_EXPLODE, ksqlDB's built-in table functions.
#include "functions/table_functions.h"

#include <string>

#include "functions/function_builder.h"

namespace sidestream::functions {

using types::SqlType;
using types::TypeId;
using types::Value;

namespace {

// One row per element, NULL elements included.
Status Explode(std::span<const Value> arguments, std::vector<Value>& rows) {
  const Value& array = arguments[0];
  if (array.is_null()) return Status::OK();
  if (array.kind() != TypeId::kArray) {
    return Status::InvalidArgument("EXPLODE expects an ARRAY");
  }
  rows.insert(rows.end(), array.children().begin(), array.children().end());
  return Status::OK();
}

// Every combination of the elements and NULL, as ksqlDB's Cube: the first element is the
// most significant bit of the combination's number, a set bit keeps the element, and a
// NULL element has only its NULL combination (no duplicates).
Status CubeExplode(std::span<const Value> arguments, std::vector<Value>& rows) {
  const Value& array = arguments[0];
  if (array.is_null()) return Status::OK();
  if (array.kind() != TypeId::kArray) {
    return Status::InvalidArgument("CUBE_EXPLODE expects an ARRAY");
  }
  const std::vector<Value>& elements = array.children();
  const size_t count = elements.size();
  size_t present = 0;
  for (const Value& element : elements) present += !element.is_null();
  if (present > kCubeExplodeMaxElements) {
    return Status::InvalidArgument("CUBE_EXPLODE of " + std::to_string(present) +
                                   " non-NULL elements would make 2^" + std::to_string(present) +
                                   " rows; at most " + std::to_string(kCubeExplodeMaxElements) +
                                   " are allowed");
  }
  // More than 63 elements can only be mostly NULLs; a 64-bit mask cannot number them.
  if (count >= 64) {
    return Status::InvalidArgument("CUBE_EXPLODE takes at most 63 elements, got " +
                                   std::to_string(count));
  }
  uint64_t null_mask = 0;
  for (size_t i = 0; i < count; ++i) {
    if (elements[i].is_null()) null_mask |= uint64_t{1} << (count - 1 - i);
  }
  const uint64_t combinations = uint64_t{1} << count;
  for (uint64_t mask = 0; mask < combinations; ++mask) {
    if (mask & null_mask) continue;
    std::vector<Value> combination(count);
    for (size_t i = 0; i < count; ++i) {
      if (mask & (uint64_t{1} << (count - 1 - i))) combination[i] = elements[i];
    }
    rows.push_back(Value::Array(std::move(combination)));
  }
  return Status::OK();
}

}  // namespace

Result<TableFunctionBody> FindTableFunction(std::string_view name) {
  if (name == "EXPLODE") return &Explode;
  if (name == "CUBE_EXPLODE") return &CubeExplode;
  return Status::NotFound("no table function called " + std::string(name));
}

void AddTableFunctions(FunctionBuilder& add) {
  using A = Accepts;
  add.Table("EXPLODE", {A::kArray}, ElementOfArgument(0), "EXPLODE(array ARRAY<T>) -> T",
            "One row per element of the array; none for a NULL array.");
  add.Table("CUBE_EXPLODE", {A::kArray}, SameAsArgument(0),
            "CUBE_EXPLODE(array ARRAY<T>) -> ARRAY<T>",
            "One row per combination of the elements and NULL (a grouping-sets cube).");
}

}  // namespace sidestream::functions
