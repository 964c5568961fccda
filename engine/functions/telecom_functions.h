#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "functions/aggregate_function.h"
#include "functions/function_registry.h"
#include "functions/scalar_functions.h"
#include "types/sql_type.h"
#include "types/value.h"

/// The telecom functions, kept apart from the ksqlDB built-ins: geo (geo_functions.cc),
/// phrase matching with Hyperscan (phrase_matching.cc) and anomaly aggregates
/// (anomaly_aggregates.cc) and XGBoost model scoring (model_scoring.cc). Each file lists its
/// functions with their registry entries and factories; the registry and MakeScalarFunction /
/// MakeAggregateFunction consult this list after their own tables. Thread-safety: the lists are
/// built once and read-only after that.
namespace sidestream::functions {

/// Builds a scalar call's implementation from its argument types and the values of its
/// literal arguments (null where an argument is not a literal).
using TelecomScalarFactory = std::function<Result<std::unique_ptr<ScalarFunction>>(
    const std::vector<types::SqlType>& argument_types,
    const std::vector<const types::Value*>& constant_arguments)>;
/// Builds an aggregate call's implementation; `literal_arguments` as MakeAggregateFunction.
using TelecomAggregateFactory = std::function<Result<std::unique_ptr<AggregateFunction>>(
    const std::vector<types::SqlType>& argument_types,
    const std::vector<types::Value>& literal_arguments)>;

/// One telecom function: its registry entry and one of the two factories.
struct TelecomFunction {
  FunctionDefinition definition;
  TelecomScalarFactory make_scalar;        // set for scalar functions
  TelecomAggregateFactory make_aggregate;  // set for aggregates
};

/// What an argument of a telecom function must be.
enum class TelecomArgument { kNumeric, kIntegral, kString };

/// A typing rule that checks each argument against `arguments` (a NULL literal fits any)
/// and returns `result`; the message names the function and the argument.
TypeResolver TelecomTyping(const std::string& name, std::vector<TelecomArgument> arguments,
                           types::SqlType result);

std::vector<TelecomFunction> GeoFunctions();
std::vector<TelecomFunction> PhraseMatchingFunctions();
std::vector<TelecomFunction> AnomalyAggregates();
std::vector<TelecomFunction> ModelScoringFunctions();

/// Adds every telecom function's definition to `registry`.
void AddTelecomDefinitions(FunctionRegistry& registry);
/// The implementation of telecom scalar `name` (upper case); NotSupported when unknown.
Result<std::unique_ptr<ScalarFunction>> MakeTelecomScalarFunction(
    const std::string& name, const std::vector<types::SqlType>& argument_types,
    const std::vector<const types::Value*>& constant_arguments);
/// The implementation of telecom aggregate `name` (upper case); NotSupported when unknown.
Result<std::unique_ptr<AggregateFunction>> MakeTelecomAggregateFunction(
    const std::string& name, const std::vector<types::SqlType>& argument_types,
    const std::vector<types::Value>& literal_arguments);

/// Great-circle distance by the haversine formula, in the unit of `radius` (6371.0 for
/// kilometres), computed in ksqlDB's GEO_DISTANCE order so that results agree to the bit.
/// Precondition: latitudes in [-90, 90], longitudes in [-180, 180].
double HaversineDistance(double lat1, double lon1, double lat2, double lon2, double radius);

}  // namespace sidestream::functions
