#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "types/sql_type.h"
#include "types/value.h"

/// Runtime implementations of the scalar functions in the FunctionRegistry.
namespace sidestream::functions {

/// One scalar function bound to one call site: its argument types are fixed and its
/// constant arguments (regex patterns, format strings) are already compiled.
/// Thread-safety: Call is const and safe from several threads at once.
class ScalarFunction {
 public:
  using Body = std::function<Status(std::span<const types::Value> arguments, types::Value& out)>;

  /// `null_on_null`: a NULL argument makes the result NULL without running `body`.
  ScalarFunction(Body body, bool null_on_null)
      : body_(std::move(body)), null_on_null_(null_on_null) {}

  /// Writes the result for `arguments` (evaluated, in call order) into `out`, reusing its
  /// storage. InvalidArgument for inputs the user should hear about (a bad format).
  Status Call(std::span<const types::Value> arguments, types::Value& out) const {
    if (null_on_null_) {
      for (const types::Value& argument : arguments) {
        if (argument.is_null()) {
          out = types::Value::Null();
          return Status::OK();
        }
      }
    }
    return body_(arguments, out);
  }

 private:
  Body body_;
  bool null_on_null_;
};

/// What a scalar function's implementation sees of one call site: its argument types, the
/// value of each argument that is a literal (else null) and the resolved result type.
struct CallSite {
  const std::string& name;
  const std::vector<types::SqlType>& types;
  const std::vector<const types::Value*>& constants;
  const types::SqlType& result;

  const types::Value* constant(size_t index) const {
    return index < constants.size() ? constants[index] : nullptr;
  }
};

/// Builds the implementation of scalar function `name` (upper case) for a call with the
/// given argument types and result type (as the registry resolved them).
/// `constant_arguments[i]` points at the value of argument i when it is a literal, else
/// is null; patterns given as literals are compiled here, once. InvalidArgument for a
/// constant that does not compile (a bad regex); NotSupported for an unknown name.
Result<std::unique_ptr<ScalarFunction>> MakeScalarFunction(
    const std::string& name, const std::vector<types::SqlType>& argument_types,
    const std::vector<const types::Value*>& constant_arguments, const types::SqlType& result_type);

}  // namespace sidestream::functions
