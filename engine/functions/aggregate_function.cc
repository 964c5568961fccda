#include "functions/aggregate_function.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "functions/counted_values.h"
#include "functions/numbers.h"
#include "functions/telecom_functions.h"

namespace sidestream::functions {

using types::Decimal;
using types::SqlType;
using types::TypeId;
using types::Value;

namespace {

using Arguments = std::vector<Value>;

const Value& First(const Arguments& arguments) {
  static const Value kNull{};
  return arguments.empty() ? kNull : arguments[0];
}

// COUNT(*) and COUNT(x); state: BIGINT.
class Count final : public AggregateFunction {
 public:
  explicit Count(bool star) : star_(star) {}
  Value Initial() const override { return Value::Bigint(0); }
  Status Add(Value& state, const Arguments& arguments) const override {
    if (star_ || !First(arguments).is_null()) {
      state.SetInteger(TypeId::kBigint, state.integer() + 1);
    }
    return Status::OK();
  }
  void Undo(Value& state, const Arguments& arguments) const override {
    if (star_ || !First(arguments).is_null())
      state.SetInteger(TypeId::kBigint, state.integer() - 1);
  }
  void Merge(Value& state, const Value& other) const override {
    state.SetInteger(TypeId::kBigint, state.integer() + other.integer());
  }
  Value Result(const Value& state) const override { return state; }

 private:
  bool star_;
};

// Adds (sign +1) or subtracts (-1) `x` to a sum of `type`; INT and BIGINT wrap.
Value AddNumber(const Value& sum, const Value& x, const SqlType& type, int sign) {
  switch (type.id()) {
    case TypeId::kInt:
      return Value::Int(static_cast<int32_t>(static_cast<uint32_t>(sum.integer()) +
                                             static_cast<uint32_t>(sign * x.integer())));
    case TypeId::kBigint:
      return Value::Bigint(
          static_cast<int64_t>(static_cast<uint64_t>(sum.integer()) +
                               static_cast<uint64_t>(sign) * static_cast<uint64_t>(x.integer())));
    case TypeId::kDecimal: {
      auto decimal = NumberAsDecimal(x);
      Decimal value = decimal.ok() ? *decimal : Decimal{};
      __int128 scaled = RescaleHalfUp(value.unscaled, value.scale, type.scale());
      return Value::DecimalValue(sum.decimal().unscaled + sign * scaled, type.scale());
    }
    default:
      return Value::Double(NumberAsDouble(sum) + sign * NumberAsDouble(x));
  }
}

Value ZeroOf(const SqlType& type) {
  switch (type.id()) {
    case TypeId::kInt:
      return Value::Int(0);
    case TypeId::kBigint:
      return Value::Bigint(0);
    case TypeId::kDecimal:
      return Value::DecimalValue(0, type.scale());
    default:
      return Value::Double(0);
  }
}

// SUM, and SUM_LIST over the elements of an array; state is the running sum in the result
// type (0 before any input, as ksqlDB). NULL inputs and NULL elements are skipped.
class Sum final : public AggregateFunction {
 public:
  Sum(SqlType type, bool list) : type_(std::move(type)), list_(list) {}
  Value Initial() const override { return ZeroOf(type_); }
  Status Add(Value& state, const Arguments& arguments) const override {
    Fold(state, First(arguments), 1);
    __int128 unscaled = type_.id() == TypeId::kDecimal ? state.decimal().unscaled : 0;
    if (unscaled >= PowerOfTen(type_.precision()) || -unscaled >= PowerOfTen(type_.precision())) {
      int digits = type_.precision() - type_.scale();
      return Status::InvalidArgument("Numeric field overflow: A field with precision " +
                                     std::to_string(type_.precision()) + " and scale " +
                                     std::to_string(type_.scale()) +
                                     " must round to an absolute value less than 10^" +
                                     std::to_string(digits) + ". Got " + state.DebugString());
    }
    return Status::OK();
  }
  void Undo(Value& state, const Arguments& arguments) const override {
    Fold(state, First(arguments), -1);
  }
  void Merge(Value& state, const Value& other) const override {
    state = AddNumber(state, other, type_, 1);
  }
  Value Result(const Value& state) const override { return state; }

 private:
  void Fold(Value& state, const Value& x, int sign) const {
    if (x.is_null()) return;
    if (!list_) {
      state = AddNumber(state, x, type_, sign);
      return;
    }
    for (const Value& element : x.children()) {
      if (!element.is_null()) state = AddNumber(state, element, type_, sign);
    }
  }

  SqlType type_;
  bool list_;
};

// AVG: state STRUCT(sum, count). Integer inputs sum exactly in a BIGINT so that Undo
// is exact; the result is DOUBLE (or the DECIMAL type for DECIMAL input).
class Average final : public AggregateFunction {
 public:
  Average(SqlType input, SqlType result)
      : sum_type_(input.is_integral() ? SqlType::Bigint() : input), result_(std::move(result)) {}
  Value Initial() const override { return Value::Struct({ZeroOf(sum_type_), Value::Bigint(0)}); }
  Status Add(Value& state, const Arguments& arguments) const override {
    Fold(state, First(arguments), 1);
    return Status::OK();
  }
  void Undo(Value& state, const Arguments& arguments) const override {
    Fold(state, First(arguments), -1);
  }
  void Merge(Value& state, const Value& other) const override {
    auto& fields = state.MutableChildren();
    const auto& more = other.children();
    fields[0] = AddNumber(fields[0], more[0], sum_type_, 1);
    fields[1].SetInteger(TypeId::kBigint, fields[1].integer() + more[1].integer());
  }
  Value Result(const Value& state) const override {
    const Value& sum = state.children()[0];
    int64_t count = state.children()[1].integer();
    if (result_.id() == TypeId::kDecimal) {
      if (count == 0) return Value::DecimalValue(0, result_.scale());
      Decimal decimal = sum.decimal();
      __int128 numerator = decimal.unscaled;
      int shift = result_.scale() - decimal.scale;
      __int128 denominator = count;
      if (shift >= 0) {
        numerator *= PowerOfTen(shift);
      } else {
        denominator *= PowerOfTen(-shift);
      }
      return Value::DecimalValue(DivideHalfUp(numerator, denominator), result_.scale());
    }
    // ksqlDB's AVG gives 0.0 before any non-NULL input.
    if (count == 0) return Value::Double(0);
    return Value::Double(NumberAsDouble(sum) / static_cast<double>(count));
  }

 private:
  void Fold(Value& state, const Value& x, int sign) const {
    if (x.is_null()) return;
    // In place: the stored state is not shared, so this allocates nothing.
    auto& fields = state.MutableChildren();
    fields[0] = AddNumber(fields[0], x, sum_type_, sign);
    fields[1].SetInteger(TypeId::kBigint, fields[1].integer() + sign);
  }
  SqlType sum_type_;
  SqlType result_;
};

// MIN and MAX: state is the extreme so far (NULL before any non-NULL input). ksqlDB
// does not allow them on tables, so Undo never runs there; it leaves the state as is.
class Extreme final : public AggregateFunction {
 public:
  explicit Extreme(bool max) : max_(max) {}
  Value Initial() const override { return Value::Null(); }
  Status Add(Value& state, const Arguments& arguments) const override {
    Merge(state, First(arguments));
    return Status::OK();
  }
  void Undo(Value&, const Arguments&) const override {}
  void Merge(Value& state, const Value& other) const override {
    if (other.is_null()) return;
    if (state.is_null() || (Value::Compare(other, state) > 0) == max_) {
      if (state.is_null() || Value::Compare(other, state) != 0) state = other;
    }
  }
  Value Result(const Value& state) const override { return state; }

 private:
  bool max_;
};

// COUNT_DISTINCT (exact, unlike ksqlDB's approximate sketch) and HISTOGRAM: state is each
// non-NULL value with its count (counted_values.h), so Undo and Merge are exact.
class Multiset final : public AggregateFunction {
 public:
  explicit Multiset(bool histogram) : histogram_(histogram) {}
  Value Initial() const override { return Value::Map({}); }
  Status Add(Value& state, const Arguments& arguments) const override {
    if (!First(arguments).is_null()) counted_values::Change(state, First(arguments), 1);
    return Status::OK();
  }
  void Undo(Value& state, const Arguments& arguments) const override {
    if (!First(arguments).is_null()) counted_values::Change(state, First(arguments), -1);
  }
  void Merge(Value& state, const Value& other) const override {
    counted_values::ForEach(other, [&state](const Value& value, int64_t count) {
      counted_values::Change(state, value, count);
    });
  }
  Value Result(const Value& state) const override {
    if (histogram_) return counted_values::ToMap(state);
    return Value::Bigint(counted_values::Size(state));
  }

 private:
  bool histogram_;
};

// STDDEV_SAMP and STDDEV_POP: state STRUCT(count BIGINT, mean DOUBLE, m2 DOUBLE), updated
// with Welford's method, reversed for Undo, combined with Chan's formula for Merge.
class StandardDeviation final : public AggregateFunction {
 public:
  explicit StandardDeviation(bool sample) : sample_(sample) {}
  Value Initial() const override {
    return Value::Struct({Value::Bigint(0), Value::Double(0), Value::Double(0)});
  }
  Status Add(Value& state, const Arguments& arguments) const override {
    if (First(arguments).is_null()) return Status::OK();
    double x = NumberAsDouble(First(arguments));
    auto [count, mean, m2] = Read(state);
    ++count;
    double delta = x - mean;
    mean += delta / static_cast<double>(count);
    m2 += delta * (x - mean);
    Write(state, count, mean, m2);
    return Status::OK();
  }
  void Undo(Value& state, const Arguments& arguments) const override {
    if (First(arguments).is_null()) return;
    double x = NumberAsDouble(First(arguments));
    auto [count, mean, m2] = Read(state);
    if (count <= 1) {
      Write(state, 0, 0, 0);
      return;
    }
    double previous_mean = (mean * static_cast<double>(count) - x) / static_cast<double>(count - 1);
    m2 -= (x - previous_mean) * (x - mean);
    Write(state, count - 1, previous_mean, std::max(m2, 0.0));
  }
  void Merge(Value& state, const Value& other) const override {
    auto [n1, mean1, m21] = Read(state);
    auto [n2, mean2, m22] = Read(other);
    if (n2 == 0) return;
    if (n1 == 0) {
      state = other;
      return;
    }
    int64_t n = n1 + n2;
    double delta = mean2 - mean1;
    double mean = mean1 + delta * static_cast<double>(n2) / static_cast<double>(n);
    double m2 =
        m21 + m22 +
        delta * delta * static_cast<double>(n1) * static_cast<double>(n2) / static_cast<double>(n);
    Write(state, n, mean, m2);
  }
  Value Result(const Value& state) const override {
    auto [count, mean, m2] = Read(state);
    (void)mean;
    // ksqlDB gives 0.0 while there are too few values.
    int64_t divisor = sample_ ? count - 1 : count;
    if (divisor <= 0) return Value::Double(0);
    return Value::Double(std::sqrt(m2 / static_cast<double>(divisor)));
  }

 private:
  static std::tuple<int64_t, double, double> Read(const Value& state) {
    const auto& fields = state.children();
    return {fields[0].integer(), fields[1].float64(), fields[2].float64()};
  }
  static void Write(Value& state, int64_t count, double mean, double m2) {
    auto& fields = state.MutableChildren();
    fields[0].SetInteger(TypeId::kBigint, count);
    fields[1].SetDouble(mean);
    fields[2].SetDouble(m2);
  }
  bool sample_;
};

// Orders records across all tasks of the process, as ksqlDB's by-offset aggregates do
// with a static sequence: a record added later has a larger number.
std::atomic<int64_t> g_sequence{0};

// LATEST_BY_OFFSET and EARLIEST_BY_OFFSET: state ARRAY of STRUCT(sequence, value), at most
// n entries, ordered by sequence. Tables may not use them in ksqlDB; Undo leaves the state.
class ByOffset final : public AggregateFunction {
 public:
  ByOffset(bool latest, int64_t n, bool array_result, bool ignore_nulls)
      : latest_(latest), n_(n), array_result_(array_result), ignore_nulls_(ignore_nulls) {}
  Value Initial() const override { return Value::Array({}); }
  Status Add(Value& state, const Arguments& arguments) const override {
    const Value& x = First(arguments);
    if (x.is_null() && ignore_nulls_) return Status::OK();
    if (!latest_ && static_cast<int64_t>(state.children().size()) >= n_) return Status::OK();
    std::vector<Value>& entries = state.MutableChildren();
    entries.push_back(Value::Struct({Value::Bigint(g_sequence.fetch_add(1) + 1), x}));
    Keep(entries);
    return Status::OK();
  }
  void Undo(Value&, const Arguments&) const override {}
  void Merge(Value& state, const Value& other) const override {
    std::vector<Value> entries = state.children();
    entries.insert(entries.end(), other.children().begin(), other.children().end());
    std::stable_sort(entries.begin(), entries.end(), [](const Value& a, const Value& b) {
      return a.children()[0].integer() < b.children()[0].integer();
    });
    Keep(entries);
    state = Value::Array(std::move(entries));
  }
  Value Result(const Value& state) const override {
    const auto& entries = state.children();
    if (!array_result_) {
      if (entries.empty()) return Value::Null();
      return (latest_ ? entries.back() : entries.front()).children()[1];
    }
    std::vector<Value> values;
    for (const Value& entry : entries) values.push_back(entry.children()[1]);
    return Value::Array(std::move(values));
  }

 private:
  void Keep(std::vector<Value>& entries) const {
    auto excess = static_cast<int64_t>(entries.size()) - n_;
    if (excess <= 0) return;
    if (latest_) {
      entries.erase(entries.begin(), entries.begin() + excess);
    } else {
      entries.resize(static_cast<size_t>(n_));
    }
  }
  bool latest_;
  int64_t n_;
  bool array_result_;
  bool ignore_nulls_;
};

// COLLECT_LIST (every value, NULLs too, in arrival order) and COLLECT_SET (distinct
// values): state is the ARRAY itself. Undo removes one (the last) occurrence.
class Collect final : public AggregateFunction {
 public:
  explicit Collect(bool set) : set_(set) {}
  Value Initial() const override { return Value::Array({}); }
  Status Add(Value& state, const Arguments& arguments) const override {
    Append(state, First(arguments));
    return Status::OK();
  }
  void Undo(Value& state, const Arguments& arguments) const override {
    const auto& elements = state.children();
    auto found = std::find(elements.rbegin(), elements.rend(), First(arguments));
    if (found == elements.rend()) return;
    auto position = std::distance(elements.begin(), std::next(found).base());
    auto& mutable_elements = state.MutableChildren();
    mutable_elements.erase(mutable_elements.begin() + position);
  }
  void Merge(Value& state, const Value& other) const override {
    for (const Value& x : other.children()) Append(state, x);
  }
  Value Result(const Value& state) const override { return state; }

 private:
  void Append(Value& state, const Value& x) const {
    const auto& elements = state.children();
    if (set_ && std::find(elements.begin(), elements.end(), x) != elements.end()) return;
    state.MutableChildren().push_back(x);
  }
  bool set_;
};

// TOPK and TOPKDISTINCT: state ARRAY of the k largest non-NULL values, largest first.
// Stream-only in ksqlDB; Undo leaves the state.
class TopK final : public AggregateFunction {
 public:
  TopK(int64_t k, bool distinct) : k_(k), distinct_(distinct) {}
  Value Initial() const override { return Value::Array({}); }
  Status Add(Value& state, const Arguments& arguments) const override {
    const Value& x = First(arguments);
    if (!x.is_null()) Insert(state, {x});
    return Status::OK();
  }
  void Undo(Value&, const Arguments&) const override {}
  void Merge(Value& state, const Value& other) const override { Insert(state, other.children()); }
  Value Result(const Value& state) const override { return state; }

 private:
  void Insert(Value& state, const std::vector<Value>& values) const {
    std::vector<Value> elements = state.children();
    for (const Value& x : values) {
      if (distinct_ && std::find(elements.begin(), elements.end(), x) != elements.end()) continue;
      elements.push_back(x);
    }
    std::stable_sort(elements.begin(), elements.end(),
                     [](const Value& a, const Value& b) { return Value::Compare(a, b) > 0; });
    if (static_cast<int64_t>(elements.size()) > k_) elements.resize(static_cast<size_t>(k_));
    state = Value::Array(std::move(elements));
  }
  int64_t k_;
  bool distinct_;
};

Result<int64_t> PositiveLiteral(const std::vector<Value>& literals, size_t index,
                                const std::string& name, int64_t fallback) {
  if (index >= literals.size() || literals[index].is_null()) return fallback;
  const Value& value = literals[index];
  if (value.kind() != TypeId::kInt && value.kind() != TypeId::kBigint) {
    return Status::InvalidArgument(name + " expects an integer literal for argument " +
                                   std::to_string(index + 1));
  }
  if (value.integer() <= 0) {
    return Status::InvalidArgument(name + " expects a positive count but got " +
                                   std::to_string(value.integer()));
  }
  return value.integer();
}

}  // namespace

Result<std::unique_ptr<AggregateFunction>> MakeAggregateFunction(
    const std::string& name, const std::vector<SqlType>& argument_types,
    const std::vector<Value>& literal_arguments, const SqlType& result_type) {
  const FunctionDefinition* definition = FunctionRegistry::BuiltIns().Find(name);
  if (definition != nullptr && definition->aggregate_implementation) {
    return definition->aggregate_implementation(argument_types, literal_arguments, result_type);
  }
  SqlType input = argument_types.empty() ? SqlType::Null() : argument_types[0];
  using Pointer = std::unique_ptr<AggregateFunction>;
  if (name == "COUNT") return Pointer(std::make_unique<Count>(argument_types.empty()));
  if (name == "SUM" || name == "SUM_LIST") {
    return Pointer(std::make_unique<Sum>(result_type, name == "SUM_LIST"));
  }
  if (name == "AVG") return Pointer(std::make_unique<Average>(input, result_type));
  if (name == "MIN" || name == "MAX") return Pointer(std::make_unique<Extreme>(name == "MAX"));
  if (name == "COUNT_DISTINCT") return Pointer(std::make_unique<Multiset>(false));
  if (name == "HISTOGRAM") return Pointer(std::make_unique<Multiset>(true));
  if (name == "STDDEV_SAMP" || name == "STDDEV_POP") {
    return Pointer(std::make_unique<StandardDeviation>(name == "STDDEV_SAMP"));
  }
  if (name == "LATEST_BY_OFFSET" || name == "EARLIEST_BY_OFFSET") {
    bool array_result = argument_types.size() >= 2 && argument_types[1].is_integral();
    int64_t n = 1;
    if (array_result) {
      ASSIGN_OR_RAISE(n, PositiveLiteral(literal_arguments, 1, name, 1));
    }
    bool ignore_nulls = true;
    // The boolean is the second argument when no n is given, else the third.
    for (size_t i = 1; i < literal_arguments.size(); ++i) {
      if (literal_arguments[i].kind() == TypeId::kBoolean) {
        ignore_nulls = literal_arguments[i].boolean();
      }
    }
    return Pointer(
        std::make_unique<ByOffset>(name == "LATEST_BY_OFFSET", n, array_result, ignore_nulls));
  }
  if (name == "COLLECT_LIST" || name == "COLLECT_SET") {
    return Pointer(std::make_unique<Collect>(name == "COLLECT_SET"));
  }
  if (name == "TOPK" || name == "TOPKDISTINCT") {
    ASSIGN_OR_RAISE(int64_t k, PositiveLiteral(literal_arguments, 1, name, 1));
    return Pointer(std::make_unique<TopK>(k, name == "TOPKDISTINCT"));
  }
  return MakeTelecomAggregateFunction(name, argument_types, literal_arguments);
}

}  // namespace sidestream::functions
