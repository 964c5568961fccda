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
  std::vector<size_t> present;  // the non-NULL elements: only they vary
  for (size_t i = 0; i < elements.size(); ++i) {
    if (!elements[i].is_null()) present.push_back(i);
  }
  if (present.size() > kCubeExplodeMaxElements) {
    return Status::InvalidArgument("CUBE_EXPLODE of " + std::to_string(present.size()) +
                                   " non-NULL elements would make 2^" +
                                   std::to_string(present.size()) + " rows; at most " +
                                   std::to_string(kCubeExplodeMaxElements) + " are allowed");
  }
  const size_t bits = present.size();
  for (uint64_t mask = 0; mask < (uint64_t{1} << bits); ++mask) {
    std::vector<Value> combination(elements.size());
    for (size_t b = 0; b < bits; ++b) {
      if (mask & (uint64_t{1} << (bits - 1 - b))) combination[present[b]] = elements[present[b]];
    }
    rows.push_back(Value::Array(std::move(combination)));
  }
  return Status::OK();
}

}  // namespace

Result<TableFunctionBody> FindTableFunction(std::string_view name) {
  const FunctionDefinition* definition = FunctionRegistry::BuiltIns().Find(name);
  if (definition != nullptr && definition->table_implementation != nullptr) {
    return definition->table_implementation;
  }
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
