#include "functions/telecom_functions.h"

#include <map>

namespace sidestream::functions {

using types::SqlType;
using types::TypeId;

namespace {

bool Fits(TelecomArgument argument, const SqlType& type) {
  if (type.id() == TypeId::kNull) return true;
  switch (argument) {
    case TelecomArgument::kNumeric:
      return type.is_numeric();
    case TelecomArgument::kIntegral:
      return type.is_integral();
    case TelecomArgument::kString:
      return type.id() == TypeId::kString;
  }
  return false;
}

const char* Describe(TelecomArgument argument) {
  switch (argument) {
    case TelecomArgument::kNumeric:
      return "a numeric type";
    case TelecomArgument::kIntegral:
      return "INT or BIGINT";
    case TelecomArgument::kString:
      return "STRING";
  }
  return "?";
}

const std::map<std::string, TelecomFunction>& Table() {
  static const auto* table = [] {
    auto* built = new std::map<std::string, TelecomFunction>();
    for (auto list : {GeoFunctions(), PhraseMatchingFunctions(), AnomalyAggregates(),
                      ModelScoringFunctions()}) {
      for (TelecomFunction& function : list) {
        std::string name = function.definition.name;
        built->emplace(std::move(name), std::move(function));
      }
    }
    return built;
  }();
  return *table;
}

}  // namespace

TypeResolver TelecomTyping(const std::string& name, std::vector<TelecomArgument> arguments,
                           SqlType result) {
  return [name, arguments, result](const std::vector<SqlType>& types) -> Result<SqlType> {
    for (size_t i = 0; i < types.size() && i < arguments.size(); ++i) {
      if (!Fits(arguments[i], types[i])) {
        return Status::BindError("Function " + name + " expects " + Describe(arguments[i]) +
                                 " for argument " + std::to_string(i + 1) + " but got " +
                                 types[i].ToString());
      }
    }
    return result;
  };
}

void AddTelecomDefinitions(FunctionRegistry& registry) {
  for (const auto& [name, function] : Table()) registry.Add(function.definition);
}

Result<std::unique_ptr<ScalarFunction>> MakeTelecomScalarFunction(
    const std::string& name, const std::vector<SqlType>& argument_types,
    const std::vector<const types::Value*>& constant_arguments) {
  auto found = Table().find(name);
  if (found == Table().end() || !found->second.make_scalar) {
    return Status::NotSupported("Scalar function " + name + " has no implementation yet");
  }
  return found->second.make_scalar(argument_types, constant_arguments);
}

Result<std::unique_ptr<AggregateFunction>> MakeTelecomAggregateFunction(
    const std::string& name, const std::vector<SqlType>& argument_types,
    const std::vector<types::Value>& literal_arguments) {
  auto found = Table().find(name);
  if (found == Table().end() || !found->second.make_aggregate) {
    return Status::NotSupported("Aggregate function " + name + " has no implementation yet");
  }
  return found->second.make_aggregate(argument_types, literal_arguments);
}

}  // namespace sidestream::functions
