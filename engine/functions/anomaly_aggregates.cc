// Anomaly aggregates: an exponentially weighted mean and variance per group, and the
// z-score of each new value against the group's baseline before it. Chained after a
// per-minute table (CELL_HEALTH), the group's state is the per-key baseline that a query
// keeps across windows.
#include <cmath>

#include "functions/numbers.h"
#include "functions/telecom_functions.h"

namespace sidestream::functions {

using types::SqlType;
using types::TypeId;
using types::Value;

namespace {

enum class EwOutput { kMean, kVariance, kZScore };

// State: STRUCT(count BIGINT, mean DOUBLE, variance DOUBLE, z DOUBLE or NULL), where z is
// the latest value's score against the mean and variance before it. West's incremental
// weighted update: diff = x - mean; mean += alpha * diff; var = (1 - alpha) * (var +
// alpha * diff^2). The first value sets the mean. NULL inputs are skipped. Arrival order
// matters, so Undo (a table's retraction) cannot be reversed exactly: it leaves the state
// as it is, and these aggregates are meant for streams. Merge (sessions) weighs the two
// baselines by their counts.
class ExponentiallyWeighted final : public AggregateFunction {
 public:
  ExponentiallyWeighted(double alpha, EwOutput output) : alpha_(alpha), output_(output) {}

  Value Initial() const override {
    return Value::Struct({Value::Bigint(0), Value::Double(0), Value::Double(0), Value::Null()});
  }
  Status Add(Value& state, const std::vector<Value>& arguments) const override {
    if (arguments.empty() || arguments[0].is_null()) return Status::OK();
    double x = NumberAsDouble(arguments[0]);
    if (!std::isfinite(x)) return Status::OK();
    auto& fields = state.MutableChildren();
    int64_t count = fields[0].integer();
    double mean = fields[1].float64();
    double variance = fields[2].float64();
    if (count == 0) {
      fields[1] = Value::Double(x);
      fields[3] = Value::Null();
    } else {
      double diff = x - mean;
      fields[3] = variance > 0 ? Value::Double(diff / std::sqrt(variance)) : Value::Null();
      fields[1] = Value::Double(mean + alpha_ * diff);
      fields[2] = Value::Double((1 - alpha_) * (variance + alpha_ * diff * diff));
    }
    fields[0] = Value::Bigint(count + 1);
    return Status::OK();
  }
  void Undo(Value&, const std::vector<Value>&) const override {}
  void Merge(Value& state, const Value& other) const override {
    const auto& more = other.children();
    int64_t n2 = more[0].integer();
    if (n2 == 0) return;
    auto& fields = state.MutableChildren();
    int64_t n1 = fields[0].integer();
    if (n1 == 0) {
      state = other;
      return;
    }
    double w1 = static_cast<double>(n1) / static_cast<double>(n1 + n2);
    double w2 = 1 - w1;
    double mean1 = fields[1].float64();
    double mean2 = more[1].float64();
    double mean = w1 * mean1 + w2 * mean2;
    double variance = w1 * (fields[2].float64() + (mean1 - mean) * (mean1 - mean)) +
                      w2 * (more[2].float64() + (mean2 - mean) * (mean2 - mean));
    fields[0] = Value::Bigint(n1 + n2);
    fields[1] = Value::Double(mean);
    fields[2] = Value::Double(variance);
  }
  Value Result(const Value& state) const override {
    const auto& fields = state.children();
    if (fields[0].integer() == 0) return Value::Null();
    switch (output_) {
      case EwOutput::kMean:
        return fields[1];
      case EwOutput::kVariance:
        return fields[2];
      case EwOutput::kZScore:
        return fields[3];
    }
    return Value::Null();
  }

 private:
  double alpha_;
  EwOutput output_;
};

Result<double> AlphaLiteral(const std::string& name, const std::vector<Value>& literals) {
  const Value* alpha = literals.size() > 1 ? &literals[1] : nullptr;
  if (alpha == nullptr || alpha->is_null() ||
      !(alpha->kind() == TypeId::kDouble || alpha->kind() == TypeId::kDecimal ||
        alpha->kind() == TypeId::kInt || alpha->kind() == TypeId::kBigint)) {
    return Status::InvalidArgument(name + " expects a numeric literal smoothing factor alpha");
  }
  double value = NumberAsDouble(*alpha);
  if (!(value > 0 && value <= 1)) {
    return Status::InvalidArgument(name + " smoothing factor alpha must be in (0, 1] but is " +
                                   JavaDoubleString(value));
  }
  return value;
}

TelecomFunction Weighted(const std::string& name, EwOutput output, std::string description) {
  TelecomFunction function;
  function.definition.name = name;
  function.definition.kind = FunctionKind::kAggregate;
  function.definition.min_arguments = 2;
  function.definition.max_arguments = 2;
  function.definition.literal_arguments = {1};
  function.definition.signature = name + "(x numeric, alpha DOUBLE) -> DOUBLE";
  function.definition.description = std::move(description);
  function.definition.resolve = TelecomTyping(
      name, {TelecomArgument::kNumeric, TelecomArgument::kNumeric}, SqlType::Double());
  function.make_aggregate =
      [name, output](
          const std::vector<SqlType>&,
          const std::vector<Value>& literals) -> Result<std::unique_ptr<AggregateFunction>> {
    ASSIGN_OR_RAISE(double alpha, AlphaLiteral(name, literals));
    return std::unique_ptr<AggregateFunction>(
        std::make_unique<ExponentiallyWeighted>(alpha, output));
  };
  return function;
}

}  // namespace

std::vector<TelecomFunction> AnomalyAggregates() {
  return {
      Weighted("EWMA", EwOutput::kMean,
               "Exponentially weighted mean of x in arrival order; alpha in (0, 1] weighs the "
               "newest value."),
      Weighted("EWM_VARIANCE", EwOutput::kVariance,
               "Exponentially weighted variance of x in arrival order (West's update)."),
      Weighted("EWMA_ZSCORE", EwOutput::kZScore,
               "How many weighted standard deviations the newest x lies from the weighted mean "
               "of the values before it; NULL until that baseline has a spread."),
  };
}

}  // namespace sidestream::functions
