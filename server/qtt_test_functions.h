#pragma once

#include "functions/function_registry.h"

/// The functions of ksqlDB's test sources that its conformance cases call (TEST_UDF,
/// VAR_ARG, TEST_UDTF, ...): ksqlDB's runner loads them from its test classpath and its `ext`
/// folder, so `sidestream qtt` adds them to the registry before it runs a case. They follow
/// their Java definitions and are never registered by `run` or `serve`.
namespace sidestream::server {

/// Adds the test functions to `registry`; for FunctionRegistry::Extend.
void AddQttTestFunctions(functions::FunctionRegistry& registry);

}  // namespace sidestream::server
