#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "types/sql_type.h"
#include "types/value.h"

namespace sidestream::functions {

/// The behaviour of one aggregate call. Its running state is a types::Value (a BIGINT
/// for COUNT, a STRUCT of sum and count for AVG, ...), so that state stores can keep and
/// persist any aggregate without knowing it. The object itself is stateless.
/// Thread-safety: const methods; one object may serve many tasks.
class AggregateFunction {
 public:
  virtual ~AggregateFunction() = default;

  /// The state before any input.
  virtual types::Value Initial() const = 0;
  /// Folds one record into the state. `arguments` holds the evaluated non-literal
  /// arguments in call order (empty for COUNT(*)). InvalidArgument when the result does
  /// not fit its type (a DECIMAL sum past its precision): as in ksqlDB, the query fails.
  virtual Status Add(types::Value& state, const std::vector<types::Value>& arguments) const = 0;
  /// Removes one earlier record (aggregations over tables see the old row retracted).
  virtual void Undo(types::Value& state, const std::vector<types::Value>& arguments) const = 0;
  /// Folds `other` into `state` (sessions that merge).
  virtual void Merge(types::Value& state, const types::Value& other) const = 0;
  /// The aggregate's result for a state.
  virtual types::Value Result(const types::Value& state) const = 0;
};

/// Creates the implementation of aggregate `name` (upper case) for the given argument
/// types; `literal_arguments` holds the values of the arguments the registry marks as
/// literal (TOPK's k, LATEST_BY_OFFSET's n and ignore_nulls), NULL where absent.
/// NotSupported when the aggregate has no implementation yet.
Result<std::unique_ptr<AggregateFunction>> MakeAggregateFunction(
    const std::string& name, const std::vector<types::SqlType>& argument_types,
    const std::vector<types::Value>& literal_arguments, const types::SqlType& result_type);

}  // namespace sidestream::functions
