// Anomaly aggregates: an exponentially weighted mean and variance per group, and the
// z-score of each new value against the group's baseline before it; approximate percentiles
// with a t-digest. Chained after a per-minute table (CELL_HEALTH), the group's state is the
// per-key baseline that a query keeps across windows.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

#include "functions/numbers.h"
#include "functions/telecom_functions.h"
#include "tdigest.h"  // third_party/crick_tdigest

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

// -log10 of P(X >= k) for X ~ Binomial(n, p): how surprising k or more events in n trials
// are at rate p. Summed in log space from k up (the terms shrink fast past the mean).
double BinomialSurprise(int64_t k, int64_t n, double p) {
  if (k <= 0) return 0;
  if (k > n) k = n;
  if (p <= 0) return 300;  // certain not to happen: as surprising as a double can say
  if (p >= 1) return 0;
  const double log_p = std::log(p), log_q = std::log1p(-p), log_n = std::lgamma(n + 1.0);
  double total = 0;
  for (int64_t i = k; i <= n; ++i) {
    double term = std::exp(log_n - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) + i * log_p +
                           (n - i) * log_q);
    total += term;
    if (term < total * 1e-17) break;
  }
  return total > 0 ? std::min(300.0, -std::log10(std::min(1.0, total))) : 300;
}

// State: STRUCT(events DOUBLE, trials DOUBLE, surprise DOUBLE or NULL): the group's earlier
// rows' totals (its baseline) and the newest row's surprise. The baseline rate is the group's
// own, shrunk toward a prior rate with the weight of `prior_weight` trials, so that a group
// with little history leans on the prior (a cell that served 15 calls cannot tell 3% drops
// from 10%). A row whose surprise reaches `exclude_above` stays out of the baseline: a
// 10-minute outage must not become the cell's normal within its first minutes.
class BinomialSurpriseAggregate final : public AggregateFunction {
 public:
  BinomialSurpriseAggregate(double prior_weight, double exclude_above)
      : prior_weight_(prior_weight), exclude_above_(exclude_above) {}

  Value Initial() const override {
    return Value::Struct({Value::Double(0), Value::Double(0), Value::Null()});
  }
  Status Add(Value& state, const std::vector<Value>& arguments) const override {
    auto& fields = state.MutableChildren();
    fields[2] = Value::Null();
    if (arguments.size() < 3 || arguments[0].is_null() || arguments[1].is_null() ||
        arguments[2].is_null()) {
      return Status::OK();
    }
    const double events = NumberAsDouble(arguments[0]), trials = NumberAsDouble(arguments[1]);
    const double prior = NumberAsDouble(arguments[2]);
    if (!(trials >= 0 && events >= 0 && events <= trials && prior >= 0 && prior <= 1)) {
      return Status::OK();
    }
    const double baseline_events = fields[0].float64(), baseline_trials = fields[1].float64();
    const double rate =
        (baseline_events + prior_weight_ * prior) / (baseline_trials + prior_weight_);
    const double surprise =
        BinomialSurprise(static_cast<int64_t>(events), static_cast<int64_t>(trials), rate);
    fields[2] = Value::Double(surprise);
    if (surprise < exclude_above_) {
      fields[0] = Value::Double(baseline_events + events);
      fields[1] = Value::Double(baseline_trials + trials);
    }
    return Status::OK();
  }
  void Undo(Value&, const std::vector<Value>&) const override {}
  void Merge(Value& state, const Value& other) const override {
    auto& fields = state.MutableChildren();
    fields[0] = Value::Double(fields[0].float64() + other.children()[0].float64());
    fields[1] = Value::Double(fields[1].float64() + other.children()[1].float64());
  }
  Value Result(const Value& state) const override { return state.children()[2]; }

 private:
  double prior_weight_;
  double exclude_above_;
};

Result<double> PositiveLiteral(const std::string& name, const char* what,
                               const std::vector<Value>& literals, size_t index) {
  const Value* literal = literals.size() > index ? &literals[index] : nullptr;
  if (literal == nullptr || literal->is_null() ||
      !(literal->kind() == TypeId::kDouble || literal->kind() == TypeId::kDecimal ||
        literal->kind() == TypeId::kInt || literal->kind() == TypeId::kBigint)) {
    return Status::InvalidArgument(name + " expects a numeric literal " + what);
  }
  double value = NumberAsDouble(*literal);
  if (!(value > 0) || !std::isfinite(value)) {
    return Status::InvalidArgument(name + " " + what + " must be positive but is " +
                                   JavaDoubleString(value));
  }
  return value;
}

TelecomFunction BinomialSurpriseFunction() {
  const std::string name = "BINOMIAL_SURPRISE";
  TelecomFunction function;
  function.definition.name = name;
  function.definition.kind = FunctionKind::kAggregate;
  function.definition.min_arguments = 5;
  function.definition.max_arguments = 5;
  function.definition.literal_arguments = {3, 4};
  function.definition.signature = name +
                                  "(events numeric, trials numeric, prior_rate DOUBLE, "
                                  "prior_weight DOUBLE, exclude_above DOUBLE) -> DOUBLE";
  function.definition.description =
      "-log10 of the chance of at least `events` in `trials` at the group's baseline rate: its "
      "earlier rows' events over trials, shrunk toward prior_rate with the weight of "
      "prior_weight trials. Rows scoring exclude_above or more stay out of the baseline. 4 "
      "means a 1 in 10,000 chance.";
  function.definition.resolve = TelecomTyping(
      name,
      {TelecomArgument::kNumeric, TelecomArgument::kNumeric, TelecomArgument::kNumeric,
       TelecomArgument::kNumeric, TelecomArgument::kNumeric},
      SqlType::Double());
  function.make_aggregate =
      [name](const std::vector<SqlType>&,
             const std::vector<Value>& literals) -> Result<std::unique_ptr<AggregateFunction>> {
    ASSIGN_OR_RAISE(double weight, PositiveLiteral(name, "prior_weight", literals, 3));
    ASSIGN_OR_RAISE(double exclude_above, PositiveLiteral(name, "exclude_above", literals, 4));
    return std::unique_ptr<AggregateFunction>(
        std::make_unique<BinomialSurpriseAggregate>(weight, exclude_above));
  };
  return function;
}

// PERCENTILE_APPROX: a t-digest (crick's merging digest) per group. State: ARRAY whose first
// element is BYTES holding the merged digest (min, max, then each centroid's mean and weight,
// as doubles), followed by the values added since the last merge. Values are merged in
// batches, so an Add appends one double and a merge costs O(centroids + batch). Undo leaves
// the state (a digest cannot forget a value): it is meant for streams, like EWMA.
class PercentileApprox final : public AggregateFunction {
 public:
  PercentileApprox(double percentile, double compression)
      : percentile_(percentile), compression_(compression) {}

  Value Initial() const override { return Value::Array({Value::Bytes(std::string())}); }
  Status Add(Value& state, const std::vector<Value>& arguments) const override {
    if (arguments.empty() || arguments[0].is_null()) return Status::OK();
    const double x = NumberAsDouble(arguments[0]);
    if (!std::isfinite(x)) return Status::OK();
    auto& elements = state.MutableChildren();
    elements.push_back(Value::Double(x));
    if (elements.size() > kBatch) {
      Digest digest = Load(state);
      Store(digest.get(), state);
    }
    return Status::OK();
  }
  void Undo(Value&, const std::vector<Value>&) const override {}
  void Merge(Value& state, const Value& other) const override {
    Digest digest = Load(state);
    Digest more = Load(other);
    tdigest_merge(digest.get(), more.get());
    Store(digest.get(), state);
  }
  Value Result(const Value& state) const override {
    Digest digest = Load(state);
    tdigest_query_prep(digest.get());
    if (digest->total_weight == 0) return Value::Null();
    return Value::Double(tdigest_quantile(digest.get(), percentile_));
  }

 private:
  static constexpr size_t kBatch = 256;
  struct Free {
    void operator()(tdigest_t* digest) const { tdigest_free(digest); }
  };
  using Digest = std::unique_ptr<tdigest_t, Free>;

  // The digest of a state: its merged centroids, as they were (sorted by mean, so they go
  // back in place: re-adding them would merge them again and blur the tails), plus its
  // pending values. Damaged bytes (not whole centroids, more than fit) load as an empty digest.
  Digest Load(const Value& state) const {
    Digest digest(tdigest_new(compression_));
    if (!digest) throw std::bad_alloc();
    const auto& elements = state.children();
    if (elements.empty()) return digest;
    const std::string& merged = elements[0].string();
    const size_t doubles = merged.size() / sizeof(double);
    const size_t centroids = doubles >= 2 ? (doubles - 2) / 2 : 0;
    if (merged.size() % (2 * sizeof(double)) == 0 && doubles >= 2 &&
        centroids < static_cast<size_t>(digest->size)) {
      std::vector<double> numbers(doubles);
      std::memcpy(numbers.data(), merged.data(), merged.size());
      digest->min = numbers[0];
      digest->max = numbers[1];
      for (size_t i = 0; i < centroids; ++i) {
        digest->centroids[i] = {numbers[2 + 2 * i], numbers[3 + 2 * i]};
        digest->total_weight += numbers[3 + 2 * i];
      }
      digest->ncentroids = static_cast<int>(centroids);
    }
    for (size_t i = 1; i < elements.size(); ++i) {
      if (elements[i].kind() == TypeId::kDouble)
        tdigest_add(digest.get(), elements[i].float64(), 1);
    }
    tdigest_flush(digest.get());
    return digest;
  }
  static void Store(tdigest_t* digest, Value& state) {
    tdigest_flush(digest);
    std::vector<double> numbers;
    numbers.reserve(2 + 2 * static_cast<size_t>(digest->ncentroids));
    numbers.push_back(digest->min);
    numbers.push_back(digest->max);
    for (int i = 0; i < digest->ncentroids; ++i) {
      numbers.push_back(digest->centroids[i].mean);
      numbers.push_back(digest->centroids[i].weight);
    }
    std::string bytes(numbers.size() * sizeof(double), '\0');
    std::memcpy(bytes.data(), numbers.data(), bytes.size());
    state = Value::Array({Value::Bytes(std::move(bytes))});
  }

  double percentile_;
  double compression_;
};

TelecomFunction PercentileApproxFunction() {
  const std::string name = "PERCENTILE_APPROX";
  TelecomFunction function;
  function.definition.name = name;
  function.definition.kind = FunctionKind::kAggregate;
  function.definition.min_arguments = 2;
  function.definition.max_arguments = 3;
  function.definition.literal_arguments = {1, 2};
  function.definition.signature =
      name + "(x numeric, percentile DOUBLE [, compression DOUBLE]) -> DOUBLE";
  function.definition.description =
      "The approximate percentile (0 to 1: 0.5 is the median) of x, from a t-digest of "
      "`compression` centroids (default 100, from 20 to 1000; more is more exact and larger). "
      "Its error is smallest at the tails, where anomaly thresholds live. NULLs are skipped.";
  function.definition.resolve = TelecomTyping(
      name, {TelecomArgument::kNumeric, TelecomArgument::kNumeric, TelecomArgument::kNumeric},
      SqlType::Double());
  function.make_aggregate =
      [name](const std::vector<SqlType>&,
             const std::vector<Value>& literals) -> Result<std::unique_ptr<AggregateFunction>> {
    const Value* percentile = literals.size() > 1 ? &literals[1] : nullptr;
    if (percentile == nullptr || percentile->is_null() ||
        !(percentile->kind() == TypeId::kDouble || percentile->kind() == TypeId::kDecimal ||
          percentile->kind() == TypeId::kInt || percentile->kind() == TypeId::kBigint)) {
      return Status::InvalidArgument(name + " expects a numeric literal percentile");
    }
    const double p = NumberAsDouble(*percentile);
    if (!(p >= 0 && p <= 1)) {
      return Status::InvalidArgument(name + " percentile must be between 0 and 1 but is " +
                                     JavaDoubleString(p));
    }
    double compression = 100;
    if (literals.size() > 2 && !literals[2].is_null()) {
      ASSIGN_OR_RAISE(compression, PositiveLiteral(name, "compression", literals, 2));
      if (compression < 20 || compression > 1000) {
        return Status::InvalidArgument(name + " compression must be between 20 and 1000 but is " +
                                       JavaDoubleString(compression));
      }
    }
    return std::unique_ptr<AggregateFunction>(std::make_unique<PercentileApprox>(p, compression));
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
      BinomialSurpriseFunction(),
      PercentileApproxFunction(),
  };
}

}  // namespace sidestream::functions
