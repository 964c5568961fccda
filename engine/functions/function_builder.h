#pragma once

#include <functional>
#include <string>
#include <vector>

#include "functions/function_registry.h"
#include "functions/scalar_functions.h"

/// How built-in functions are declared: the parameter kinds a call is checked against, the
/// rule from argument types to result type, and (for the families in their own files) the
/// implementation. Used while the registry is built, once, on one thread.
namespace sidestream::functions {

/// What an argument must be. Checked before the result rule runs; NULL fits every kind.
enum class Accepts {
  kAny,
  kNumeric,
  kIntegral,
  kString,
  kText,  // STRING or BYTES; every such argument of a call has the same one
  kBytes,
  kBoolean,
  kArray,
  kNumericArray,  // ARRAY<INT>, ARRAY<BIGINT> or ARRAY<DOUBLE>
  kMap,
  kTemporal,
  kComparable
};

/// The result type from the argument types; a BindError when the arguments do not fit
/// together (ARRAY_UNION of ARRAY<INT> and ARRAY<STRING>).
using ResultRule = std::function<Result<types::SqlType>(const std::vector<types::SqlType>&)>;

ResultRule Returns(types::SqlType type);
ResultRule SameAsArgument(size_t index);
/// STRING, or BYTES when the text arguments are BYTES (CONCAT, SUBSTRING).
ResultRule TextResult();
/// The element type of the ARRAY at `index` (NULL when that argument is NULL).
ResultRule ElementOfArgument(size_t index);
ResultRule ArrayOfArgument(size_t index);

/// The type that all arguments share once numbers are widened (COALESCE, GREATEST).
types::SqlType CommonType(const std::vector<types::SqlType>& types);

/// Builds the implementation of one call site; see MakeScalarFunction.
using ScalarFactory = std::function<Result<std::unique_ptr<ScalarFunction>>(const CallSite&)>;

/// Adds functions to a registry under construction.
class FunctionBuilder {
 public:
  explicit FunctionBuilder(FunctionRegistry& registry) : registry_(registry) {}

  /// Registers `name` with fixed leading parameter kinds; `optional` trailing ones may be
  /// omitted; a variadic tail repeats the last kind. Without `implementation`, the
  /// implementation is looked up by name in scalar_functions.cc.
  void Scalar(const std::string& name, std::vector<Accepts> parameters, int optional,
              ResultRule result, std::string signature, std::string description,
              bool variadic = false, ScalarFactory implementation = nullptr);
  /// Registers a higher-order function (TRANSFORM, FILTER, REDUCE), which the evaluator
  /// runs; see FunctionDefinition::takes_lambdas. `result` checks the arguments.
  void HigherOrder(const std::string& name, int min_arguments, int max_arguments, int lambda_state,
                   ResultRule result, std::string signature, std::string description);
  void Aggregate(const std::string& name, std::vector<Accepts> parameters, int optional,
                 ResultRule result, std::string signature, std::string description,
                 std::vector<int> literal_arguments = {});
  /// Registers a table function; its body is looked up by name in table_functions.h.
  void Table(const std::string& name, std::vector<Accepts> parameters, ResultRule result,
             std::string signature, std::string description);

 private:
  void Add(const std::string& name, FunctionKind kind, std::vector<Accepts> parameters,
           int optional, ResultRule result, std::string signature, std::string description,
           bool variadic, std::vector<int> literal_arguments, ScalarFactory implementation);

  FunctionRegistry& registry_;
};

/// A function body that returns NULL when any argument is NULL, and one that sees NULLs.
std::unique_ptr<ScalarFunction> Strict(ScalarFunction::Body body);
std::unique_ptr<ScalarFunction> Lenient(ScalarFunction::Body body);

/// A STRING result built in a thread-local buffer whose capacity is kept between calls;
/// cleared on each call.
std::string& Scratch();

/// The families of scalar functions that live in their own files.
void AddUrlFunctions(FunctionBuilder& add);
void AddJsonFunctions(FunctionBuilder& add);
void AddArrayFunctions(FunctionBuilder& add);
void AddMapFunctions(FunctionBuilder& add);
void AddDateFunctions(FunctionBuilder& add);
void AddBytesFunctions(FunctionBuilder& add);
void AddStringFunctions(FunctionBuilder& add);
void AddLambdaFunctions(FunctionBuilder& add);
void AddTableFunctions(FunctionBuilder& add);

}  // namespace sidestream::functions
