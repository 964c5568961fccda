#include "functions/function_builder.h"

#include <algorithm>

namespace sidestream::functions {

using types::SqlType;
using types::TypeId;

namespace {

bool Fits(Accepts accepts, const SqlType& type) {
  if (type.id() == TypeId::kNull) return true;
  switch (accepts) {
    case Accepts::kAny:
      return true;
    case Accepts::kNumeric:
      return type.is_numeric();
    case Accepts::kIntegral:
      return type.is_integral();
    case Accepts::kString:
      return type.id() == TypeId::kString;
    case Accepts::kText:
      return type.id() == TypeId::kString || type.id() == TypeId::kBytes;
    case Accepts::kBytes:
      return type.id() == TypeId::kBytes;
    case Accepts::kBoolean:
      return type.id() == TypeId::kBoolean;
    case Accepts::kArray:
      return type.id() == TypeId::kArray;
    case Accepts::kNumericArray:
      return type.id() == TypeId::kArray &&
             (type.element().is_integral() || type.element().id() == TypeId::kDouble);
    case Accepts::kMap:
      return type.id() == TypeId::kMap;
    case Accepts::kTemporal:
      return type.is_temporal() || type.id() == TypeId::kBigint;
    case Accepts::kComparable:
      return type.is_numeric() || type.is_temporal() || type.id() == TypeId::kString ||
             type.id() == TypeId::kBoolean || type.id() == TypeId::kBytes;
  }
  return false;
}

const char* Describe(Accepts accepts) {
  switch (accepts) {
    case Accepts::kAny:
      return "any type";
    case Accepts::kNumeric:
      return "a numeric type";
    case Accepts::kIntegral:
      return "INT or BIGINT";
    case Accepts::kString:
      return "STRING";
    case Accepts::kText:
      return "STRING or BYTES";
    case Accepts::kBytes:
      return "BYTES";
    case Accepts::kBoolean:
      return "BOOLEAN";
    case Accepts::kArray:
      return "an ARRAY";
    case Accepts::kNumericArray:
      return "ARRAY<INT>, ARRAY<BIGINT> or ARRAY<DOUBLE>";
    case Accepts::kMap:
      return "a MAP";
    case Accepts::kTemporal:
      return "a TIMESTAMP, DATE, TIME or BIGINT";
    case Accepts::kComparable:
      return "a comparable type";
  }
  return "?";
}

}  // namespace

ResultRule Returns(SqlType type) {
  return [type](const std::vector<SqlType>&) { return type; };
}

ResultRule SameAsArgument(size_t index) {
  return [index](const std::vector<SqlType>& arguments) { return arguments.at(index); };
}

ResultRule TextResult() {
  return [](const std::vector<SqlType>& arguments) {
    for (const SqlType& type : arguments) {
      if (type.id() == TypeId::kBytes) return SqlType::Bytes();
    }
    return SqlType::String();
  };
}

ResultRule ElementOfArgument(size_t index) {
  return [index](const std::vector<SqlType>& arguments) {
    const SqlType& array = arguments.at(index);
    return array.id() == TypeId::kArray ? array.element() : SqlType::Null();
  };
}

ResultRule ArrayOfArgument(size_t index) {
  return [index](const std::vector<SqlType>& arguments) {
    return SqlType::Array(arguments.at(index));
  };
}

SqlType CommonType(const std::vector<SqlType>& types) {
  SqlType common = SqlType::Null();
  for (const SqlType& type : types) {
    if (common.id() == TypeId::kNull) {
      common = type;
    } else if (common.is_numeric() && type.is_numeric()) {
      auto widened = types::CommonNumericType(common, type);
      if (widened.ok()) common = *widened;
    }
  }
  return common;
}

void FunctionBuilder::Scalar(const std::string& name, std::vector<Accepts> parameters, int optional,
                             ResultRule result, std::string signature, std::string description,
                             bool variadic, ScalarFactory implementation) {
  Add(name, FunctionKind::kScalar, std::move(parameters), optional, std::move(result),
      std::move(signature), std::move(description), variadic, {}, std::move(implementation));
}

void FunctionBuilder::HigherOrder(const std::string& name, int min_arguments, int max_arguments,
                                  int lambda_state, ResultRule result, std::string signature,
                                  std::string description) {
  FunctionDefinition definition;
  definition.name = name;
  definition.min_arguments = min_arguments;
  definition.max_arguments = max_arguments;
  definition.signature = std::move(signature);
  definition.description = std::move(description);
  definition.takes_lambdas = true;
  definition.lambda_state = lambda_state;
  definition.resolve = std::move(result);
  registry_.Add(std::move(definition));
}

void FunctionBuilder::Aggregate(const std::string& name, std::vector<Accepts> parameters,
                                int optional, ResultRule result, std::string signature,
                                std::string description, std::vector<int> literal_arguments) {
  Add(name, FunctionKind::kAggregate, std::move(parameters), optional, std::move(result),
      std::move(signature), std::move(description), false, std::move(literal_arguments), nullptr);
}

void FunctionBuilder::Table(const std::string& name, std::vector<Accepts> parameters,
                            ResultRule result, std::string signature, std::string description) {
  Add(name, FunctionKind::kTable, std::move(parameters), 0, std::move(result), std::move(signature),
      std::move(description), false, {}, nullptr);
}

void FunctionBuilder::Add(const std::string& name, FunctionKind kind,
                          std::vector<Accepts> parameters, int optional, ResultRule result,
                          std::string signature, std::string description, bool variadic,
                          std::vector<int> literal_arguments, ScalarFactory implementation) {
  FunctionDefinition definition;
  definition.name = name;
  definition.kind = kind;
  definition.max_arguments = variadic ? -1 : static_cast<int>(parameters.size());
  definition.min_arguments = static_cast<int>(parameters.size()) - optional;
  definition.signature = std::move(signature);
  definition.description = std::move(description);
  definition.literal_arguments = std::move(literal_arguments);
  definition.implementation = std::move(implementation);
  definition.resolve = [name, parameters,
                        result](const std::vector<SqlType>& arguments) -> Result<SqlType> {
    const SqlType* text = nullptr;  // the first STRING or BYTES of a kText parameter
    for (size_t i = 0; i < arguments.size(); ++i) {
      Accepts accepts =
          parameters.empty() ? Accepts::kAny : parameters[std::min(i, parameters.size() - 1)];
      if (!Fits(accepts, arguments[i])) {
        return Status::BindError("Function " + name + " expects " + Describe(accepts) +
                                 " for argument " + std::to_string(i + 1) + " but got " +
                                 arguments[i].ToString());
      }
      if (accepts != Accepts::kText || arguments[i].id() == TypeId::kNull) continue;
      if (text == nullptr) {
        text = &arguments[i];
      } else if (text->id() != arguments[i].id()) {
        return Status::BindError("Function " + name + " expects " + text->ToString() +
                                 " for argument " + std::to_string(i + 1) +
                                 ", like the earlier ones, but got " + arguments[i].ToString());
      }
    }
    return result(arguments);
  };
  registry_.Add(std::move(definition));
}

std::unique_ptr<ScalarFunction> Strict(ScalarFunction::Body body) {
  return std::make_unique<ScalarFunction>(std::move(body), true);
}

std::unique_ptr<ScalarFunction> Lenient(ScalarFunction::Body body) {
  return std::make_unique<ScalarFunction>(std::move(body), false);
}

std::string& Scratch() {
  thread_local std::string buffer;
  buffer.clear();
  return buffer;
}

}  // namespace sidestream::functions
