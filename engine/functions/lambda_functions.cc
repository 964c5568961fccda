// The typing of the higher-order functions TRANSFORM, FILTER and REDUCE. Their lambdas are
// bound by the analyzer and run by the evaluator (expr/evaluator.cc, HigherOrderNode); an
// argument that is a lambda has the type of its body here.
#include "functions/function_builder.h"

namespace sidestream::functions {

using types::SqlType;
using types::TypeId;

namespace {

Status Mismatch(const std::string& name, const std::vector<SqlType>& arguments,
                const std::string& expected) {
  std::string written;
  for (const SqlType& type : arguments) written += (written.empty() ? "" : ", ") + type.ToString();
  return Status::BindError("Function " + name + " does not accept (" + written + "); it takes " +
                           expected);
}

}  // namespace

void AddLambdaFunctions(FunctionBuilder& add) {
  add.HigherOrder(
      "TRANSFORM", 2, 3, -1,
      [](const std::vector<SqlType>& arguments) -> Result<SqlType> {
        const SqlType& collection = arguments[0];
        if (collection.id() == TypeId::kArray && arguments.size() == 2) {
          return SqlType::Array(arguments[1]);
        }
        if (collection.id() == TypeId::kMap && arguments.size() == 3) {
          return SqlType::Map(arguments[1], arguments[2]);
        }
        return Mismatch("TRANSFORM", arguments,
                        "(ARRAY<T>, x => U) or (MAP<K, V>, (k, v) => K2, (k, v) => V2)");
      },
      "TRANSFORM(a ARRAY<T>, x => U) -> ARRAY<U> | TRANSFORM(m MAP<K, V>, (k, v) => K2, (k, v) "
      "=> V2) -> MAP<K2, V2>",
      "Applies the lambdas to every element (or key and value).");
  add.HigherOrder(
      "FILTER", 2, 2, -1,
      [](const std::vector<SqlType>& arguments) -> Result<SqlType> {
        const SqlType& collection = arguments[0];
        bool boolean = arguments[1].id() == TypeId::kBoolean || arguments[1].id() == TypeId::kNull;
        if ((collection.id() == TypeId::kArray || collection.id() == TypeId::kMap) && boolean) {
          return collection;
        }
        return Mismatch("FILTER", arguments,
                        "(ARRAY<T>, x => BOOLEAN) or (MAP<K, V>, (k, v) => BOOLEAN)");
      },
      "FILTER(a ARRAY<T>, x => BOOLEAN) -> ARRAY<T> | FILTER(m MAP<K, V>, (k, v) => BOOLEAN) -> "
      "MAP<K, V>",
      "The elements (or entries) for which the lambda is true.");
  add.HigherOrder(
      "REDUCE", 3, 3, 1,
      [](const std::vector<SqlType>& arguments) -> Result<SqlType> {
        const SqlType& collection = arguments[0];
        if (collection.id() != TypeId::kArray && collection.id() != TypeId::kMap) {
          return Mismatch(
              "REDUCE", arguments,
              "(ARRAY<T>, state S, (s, x) => S) or (MAP<K, V>, state S, (s, k, v) => S)");
        }
        return arguments[1].id() == TypeId::kNull ? arguments[2] : arguments[1];
      },
      "REDUCE(a ARRAY<T>, state S, (s, x) => S) -> S | REDUCE(m MAP<K, V>, state S, (s, k, v) => "
      "S) -> S",
      "Folds the elements (or entries) into the state, from the initial one; the state when "
      "the collection is NULL.");
}

}  // namespace sidestream::functions
