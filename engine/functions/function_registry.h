#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "functions/aggregate_function.h"
#include "functions/table_functions.h"
#include "types/sql_type.h"

/// The built-in functions: their names, arity and typing rules. The analyzer resolves
/// calls here; the runtime attaches evaluators to the same names.
namespace sidestream::functions {

/// kTable: a table function (EXPLODE), which turns one row into any number of rows; only
/// a SELECT list may call one, and the runtime's FlatMap operator runs it
/// (functions/table_functions.h).
enum class FunctionKind { kScalar, kAggregate, kTable };

/// "SCALAR", "AGGREGATE" or "TABLE", as ksqlDB's SHOW FUNCTIONS prints a function's type.
const char* FunctionKindName(FunctionKind kind);

class ScalarFunction;
class FunctionRegistry;
struct CallSite;

/// Computes a call's result type from its argument types, or a BindError saying which
/// argument does not fit. Argument count is checked before it is called.
using TypeResolver =
    std::function<Result<types::SqlType>(const std::vector<types::SqlType>& arguments)>;

/// Builds an aggregate call's implementation, as MakeAggregateFunction.
using AggregateFactory = std::function<Result<std::unique_ptr<AggregateFunction>>(
    const std::vector<types::SqlType>& argument_types,
    const std::vector<types::Value>& literal_arguments, const types::SqlType& result_type)>;

/// One built-in function.
struct FunctionDefinition {
  std::string name;  // upper-case
  FunctionKind kind = FunctionKind::kScalar;
  int min_arguments = 0;
  int max_arguments = 0;      // -1: any number
  bool accepts_star = false;  // COUNT(*)
  /// Indexes of arguments that must be literals (TOPK's k, LATEST_BY_OFFSET's n).
  std::vector<int> literal_arguments;
  /// How many trailing arguments must be literals, whatever the call's argument count (a
  /// variadic aggregate's initial arguments, as ksqlDB's UDAF factory parameters).
  int literal_tail = 0;
  /// Indexes of arguments that may be a bare time unit (TIMESTAMPADD(SECONDS, ...)); the
  /// analyzer passes such a unit as a STRING literal holding its name.
  std::vector<int> unit_arguments;
  /// Higher-order functions (TRANSFORM, FILTER, REDUCE) take lambdas, which the evaluator
  /// runs: a lambda's parameters are the parts of argument 0 (an ARRAY's element, or a
  /// MAP's key and value), after the type of argument `lambda_state` when it is >= 0
  /// (REDUCE's state).
  bool takes_lambdas = false;
  int lambda_state = -1;
  std::string signature;    // "SUBSTRING(str STRING, pos INT [, length INT]) -> STRING"
  std::string description;  // one line, for DESCRIBE FUNCTION
  TypeResolver resolve;
  /// Builds a scalar function's implementation for one call site; null for the functions
  /// whose implementations scalar_functions.cc looks up by name.
  std::function<Result<std::unique_ptr<ScalarFunction>>(const CallSite&)> implementation;
  /// An aggregate's implementation; null for those aggregate_function.cc makes by name.
  AggregateFactory aggregate_implementation;
  /// A table function's body; null for those table_functions.cc finds by name.
  TableFunctionBody table_implementation = nullptr;
};

/// Whether argument `index` of a call with `count` arguments must be a literal.
bool IsLiteralArgument(const FunctionDefinition& definition, size_t index, size_t count);

/// Adds functions to a registry while it is built.
using RegistryExtension = std::function<void(FunctionRegistry& registry)>;

/// A read-only table of functions, keyed by upper-case name.
/// Thread-safety: immutable after construction; BuiltIns() is safe from any thread.
class FunctionRegistry {
 public:
  /// The registry of every built-in function, built once.
  static const FunctionRegistry& BuiltIns();
  /// Makes BuiltIns() include the functions `extension` adds (a test harness's functions,
  /// such as ksqlDB's test-only UDFs that `sidestream qtt` registers). Only before the
  /// first BuiltIns() call: FailedPrecondition after, as the registry is then read-only.
  /// Thread-safety: safe from any thread.
  static Status Extend(RegistryExtension extension);

  /// Case-insensitive lookup; null when unknown.
  const FunctionDefinition* Find(std::string_view name) const;
  /// The known name nearest to `name` ("COUNT" for "CONT"), or "" when none is close.
  std::string Suggest(std::string_view name) const;
  /// Every function, ordered by name.
  std::vector<const FunctionDefinition*> List() const;

  void Add(FunctionDefinition definition);

 private:
  std::map<std::string, FunctionDefinition> functions_;
};

}  // namespace sidestream::functions
