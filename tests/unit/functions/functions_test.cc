#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "functions/aggregate_function.h"
#include "functions/function_registry.h"
#include "functions/numbers.h"
#include "functions/scalar_functions.h"
#include "functions/temporal_format.h"
#include "types/value_codec.h"

namespace sidestream::functions {
namespace {

using types::SqlType;
using types::Value;

// Calls scalar `name`; arguments given as literals are also passed as constants.
std::string Call(const std::string& name, std::vector<Value> arguments,
                 SqlType result = SqlType::String()) {
  std::vector<SqlType> types;
  std::vector<const Value*> constants;
  for (const Value& argument : arguments) {
    types.push_back(SqlType(argument.kind()));
    constants.push_back(&argument);
  }
  auto function = MakeScalarFunction(name, types, constants, result);
  if (!function.ok()) return "error: " + function.status().message();
  Value out;
  Status status = (*function)->Call(arguments, out);
  if (!status.ok()) return "error: " + status.message();
  return out.DebugString();
}

Value S(const char* text) { return Value::String(text); }
Value I(int32_t value) { return Value::Int(value); }

TEST(NumbersTest, JavaDoubleText) {
  EXPECT_EQ(JavaDoubleString(1.0), "1.0");
  EXPECT_EQ(JavaDoubleString(100.0), "100.0");
  EXPECT_EQ(JavaDoubleString(1.2e7), "1.2E7");
  EXPECT_EQ(JavaDoubleString(4.9e-324), "4.9E-324");
  EXPECT_EQ(JavaDoubleString(0.001), "0.001");
  EXPECT_EQ(JavaDoubleString(1e-4), "1.0E-4");
  EXPECT_EQ(JavaDoubleString(-0.5), "-0.5");
  EXPECT_EQ(JavaDoubleString(0.0), "0.0");
}

TEST(NumbersTest, DecimalRoundingIsHalfUp) {
  EXPECT_EQ(static_cast<int64_t>(RescaleHalfUp(125, 2, 1)), 13);
  EXPECT_EQ(static_cast<int64_t>(RescaleHalfUp(-125, 2, 1)), -13);
  EXPECT_EQ(static_cast<int64_t>(RescaleHalfUp(124, 2, 1)), 12);
  EXPECT_EQ(static_cast<int64_t>(RescaleHalfUp(12, 1, 3)), 1200);
  auto parsed = ParseDecimal("1.50");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(static_cast<int64_t>(parsed->unscaled), 150);
  EXPECT_EQ(parsed->scale, 2);
  EXPECT_FALSE(ParseDecimal("1.2.3").ok());
  EXPECT_FALSE(ParseDecimal("").ok());
}

TEST(ScalarFunctionsTest, Math) {
  EXPECT_EQ(Call("ABS", {I(-3)}), "3");
  EXPECT_EQ(Call("ABS", {Value::Null()}), "NULL");
  EXPECT_EQ(Call("CEIL", {Value::DecimalValue(-125, 2)}), "-1.00");
  EXPECT_EQ(Call("FLOOR", {Value::DecimalValue(-125, 2)}), "-2.00");
  EXPECT_EQ(Call("ROUND", {Value::Double(-2.5)}), "-2");
  EXPECT_EQ(Call("ROUND", {Value::Double(2.345), I(2)}), "2.350000");
  EXPECT_EQ(Call("ROUND", {I(1250), I(-2)}), "1300");
  EXPECT_EQ(Call("ROUND", {Value::DecimalValue(125, 2), I(1)}), "1.3");
  // ksqlDB keeps Math.round's tie rule with digits too: toward positive infinity.
  EXPECT_EQ(Call("ROUND", {Value::Double(-1.5), I(0)}), "-1.000000");
  EXPECT_EQ(Call("ROUND", {Value::Double(-1.7), I(0)}), "-2.000000");
  EXPECT_EQ(Call("ROUND", {Value::Double(-12345.678), I(-1)}), "-12350.000000");
  EXPECT_EQ(Call("ROUND", {Value::DecimalValue(-135, 2), I(1)}), "-1.3");
  EXPECT_EQ(Call("ROUND", {Value::DecimalValue(135, 2), I(1)}), "1.4");
  EXPECT_EQ(Call("ROUND", {Value::DecimalValue(-1250, 2), I(-1)}), "-10");
  // More places than the double has digits: the value comes back unchanged, bit for bit.
  auto round = MakeScalarFunction("ROUND", {SqlType::Double(), SqlType::Int()}, {nullptr, nullptr},
                                  SqlType::Double());
  ASSERT_TRUE(round.ok());
  Value rounded;
  ASSERT_TRUE(
      (*round)->Call(std::vector<Value>{Value::Double(4477.646407574158), I(13)}, rounded).ok());
  EXPECT_EQ(JavaDoubleString(rounded.float64()), "4477.646407574158");
  ASSERT_TRUE(
      (*round)->Call(std::vector<Value>{Value::Double(0.98765432109876543), I(16)}, rounded).ok());
  EXPECT_EQ(JavaDoubleString(rounded.float64()), "0.9876543210987654");
  EXPECT_EQ(Call("TRUNC", {Value::Double(-2.7)}), "-2");
  EXPECT_EQ(Call("TRUNC", {Value::DecimalValue(129, 2), I(1)}), "1.2");
  EXPECT_EQ(Call("SIGN", {Value::Double(-0.1)}), "-1");
  EXPECT_EQ(Call("SQRT", {I(16)}), "4.000000");
  EXPECT_EQ(Call("LOG", {I(2), I(8)}), "3.000000");
  EXPECT_EQ(Call("LOG", {I(1), I(13)}), "nan");
  EXPECT_EQ(Call("LOG", {I(-2), I(8)}), "nan");
  EXPECT_EQ(Call("POWER", {I(2), I(10)}), "1024.000000");
  EXPECT_EQ(Call("GREATEST", {I(1), Value::Null(), I(5)}), "5");
  EXPECT_EQ(Call("LEAST", {I(1), Value::Null(), I(5)}), "1");
  EXPECT_EQ(Call("GREATEST", {Value::Null()}), "NULL");
  // London to Paris is about 343.5 km.
  std::string km = Call("GEO_DISTANCE", {Value::Double(51.5074), Value::Double(-0.1278),
                                         Value::Double(48.8566), Value::Double(2.3522)});
  EXPECT_NEAR(std::stod(km), 343.5, 1.0);
  std::string miles =
      Call("GEO_DISTANCE", {Value::Double(51.5074), Value::Double(-0.1278), Value::Double(48.8566),
                            Value::Double(2.3522), S("MILES")});
  EXPECT_NEAR(std::stod(miles), 213.5, 1.0);
  EXPECT_EQ(Call("GEO_DISTANCE", {I(0), I(0), I(0), I(0), S("parsecs")}).rfind("error", 0), 0u);
  double random = std::stod(Call("RANDOM", {}));
  EXPECT_GE(random, 0.0);
  EXPECT_LT(random, 1.0);
}

TEST(ScalarFunctionsTest, Strings) {
  EXPECT_EQ(Call("SUBSTRING", {S("hello"), I(2)}), "'ello'");
  EXPECT_EQ(Call("SUBSTRING", {S("hello"), I(0), I(2)}), "'he'");
  EXPECT_EQ(Call("SUBSTRING", {S("hello"), I(-3)}), "'llo'");
  EXPECT_EQ(Call("SUBSTRING", {S("hello"), I(-3), I(2)}), "'ll'");
  EXPECT_EQ(Call("SUBSTRING", {S("hello"), I(10)}), "''");
  EXPECT_EQ(Call("SUBSTRING", {S("hello"), Value::Null()}), "NULL");
  EXPECT_EQ(Call("INSTR", {S("CORPORATE FLOOR"), S("OR")}), "2");
  EXPECT_EQ(Call("INSTR", {S("CORPORATE FLOOR"), S("OR"), I(3)}), "5");
  EXPECT_EQ(Call("INSTR", {S("CORPORATE FLOOR"), S("OR"), I(3), I(2)}), "14");
  EXPECT_EQ(Call("INSTR", {S("CORPORATE FLOOR"), S("OR"), I(-3), I(2)}), "2");
  EXPECT_EQ(Call("INSTR", {S("abc"), S("z")}), "0");
  EXPECT_EQ(Call("LPAD", {S("ab"), I(5), S("xy")}), "'xyxab'");
  EXPECT_EQ(Call("RPAD", {S("ab"), I(5), S("xy")}), "'abxyx'");
  EXPECT_EQ(Call("LPAD", {S("abcdef"), I(3), S("x")}), "'abc'");
  EXPECT_EQ(Call("LPAD", {S("ab"), I(5), S("")}), "NULL");
  EXPECT_EQ(Call("INITCAP", {S("hello wORLD")}), "'Hello World'");
  EXPECT_EQ(Call("TRIM", {S(" \t x ")}), "'x'");
  EXPECT_EQ(Call("LTRIM", {S("  x ")}), "'x '");
  EXPECT_EQ(Call("RTRIM", {S("  x ")}), "'  x'");
  EXPECT_EQ(Call("UCASE", {S("aB")}), "'AB'");
  EXPECT_EQ(Call("LCASE", {S("aB")}), "'ab'");
  EXPECT_EQ(Call("REVERSE", {S("abc")}), "'cba'");
  EXPECT_EQ(Call("LEN", {S("héllo")}), "5");
  EXPECT_EQ(Call("CONCAT", {S("a"), Value::Null(), S("b")}), "'ab'");
  EXPECT_EQ(Call("CONCAT_WS", {S("-"), S("a"), Value::Null(), S("b")}), "'a-b'");
  EXPECT_EQ(Call("CONCAT_WS", {Value::Null(), S("a")}), "NULL");
  EXPECT_EQ(Call("REPLACE", {S("banana"), S("an"), S("_")}), "'b__a'");
  EXPECT_EQ(Call("SPLIT", {S("a,,b"), S(",")}), "['a', '', 'b']");
  EXPECT_EQ(Call("SPLIT", {S("ab"), S("")}), "['a', 'b']");
  EXPECT_EQ(Call("MASK", {S("Ab1-")}), "'Xxn-'");
}

TEST(ScalarFunctionsTest, RegularExpressions) {
  EXPECT_EQ(Call("REGEXP_EXTRACT", {S("\\d+"), S("a12b34")}), "'12'");
  EXPECT_EQ(Call("REGEXP_EXTRACT", {S("(\\w)(\\d)"), S("a1"), I(2)}), "'1'");
  EXPECT_EQ(Call("REGEXP_EXTRACT", {S("z"), S("abc")}), "NULL");
  EXPECT_EQ(Call("REGEXP_REPLACE", {S("a1b22"), S("\\d+"), S("<$0>")}), "'a<1>b<22>'");
  EXPECT_EQ(Call("REGEXP_LIKE", {S("abc"), S("b")}), "true");
  EXPECT_EQ(Call("REGEXP_SPLIT_TO_ARRAY", {S("a1b22c"), S("\\d+")}), "['a', 'b', 'c']");
  EXPECT_EQ(Call("REGEXP_LIKE", {S("abc"), S("(")}).rfind("error", 0), 0u);
}

TEST(ScalarFunctionsTest, GeneralAndJson) {
  EXPECT_EQ(Call("COALESCE", {Value::Null(), I(2), I(3)}), "2");
  EXPECT_EQ(Call("IFNULL", {Value::Null(), I(2)}), "2");
  EXPECT_EQ(Call("NULLIF", {I(2), I(2)}), "NULL");
  EXPECT_EQ(Call("NULLIF", {I(2), I(3)}), "2");
  EXPECT_EQ(Call("ARRAY_CONTAINS", {Value::Array({I(1), I(2)}), I(2)}), "true");
  EXPECT_EQ(Call("ARRAY_CONTAINS", {Value::Null(), I(2)}), "false");
  EXPECT_EQ(Call("ARRAY_LENGTH", {Value::Array({I(1)})}), "1");
  EXPECT_EQ(Call("EXTRACTJSONFIELD", {S(R"({"a":{"b":[1,"x"]}})"), S("$.a.b[1]")}), "'x'");
  EXPECT_EQ(Call("EXTRACTJSONFIELD", {S(R"({"a":{"b":[1,"x"]}})"), S("$.a.b[0]")}), "'1'");
  EXPECT_EQ(Call("EXTRACTJSONFIELD", {S(R"({"a":1})"), S("$.missing")}), "NULL");
  EXPECT_EQ(Call("EXTRACTJSONFIELD", {S("not json"), S("$.a")}), "NULL");
  EXPECT_EQ(Call("NO_SUCH_FUNCTION", {}).rfind("error", 0), 0u);
}

// What SHOW FUNCTIONS lists must run: every scalar function in the registry has an
// implementation (calls with NULL-typed arguments, so no argument kind is refused).
TEST(ScalarFunctionsTest, EveryRegisteredScalarIsImplemented) {
  for (const FunctionDefinition* definition : FunctionRegistry::BuiltIns().List()) {
    // Higher-order functions run in the evaluator (tests/sql/runtime/lambda_functions.test).
    if (definition->kind != FunctionKind::kScalar || definition->takes_lambdas) continue;
    std::vector<SqlType> types(static_cast<size_t>(definition->min_arguments), SqlType::Null());
    auto result = definition->resolve(types);
    ASSERT_TRUE(result.ok()) << definition->name << ": " << result.status().message();
    std::vector<const Value*> constants(types.size(), nullptr);
    auto function = MakeScalarFunction(definition->name, types, constants, *result);
    EXPECT_TRUE(function.ok() || function.status().code() != StatusCode::kNotSupported)
        << definition->name << ": " << function.status().message();
  }
}

TEST(ScalarFunctionsTest, Time) {
  EXPECT_EQ(
      Call("TIMESTAMPTOSTRING", {Value::Bigint(1609459200123), S("yyyy-MM-dd'T'HH:mm:ss.SSS")}),
      "'2021-01-01T00:00:00.123'");
  EXPECT_EQ(Call("TIMESTAMPTOSTRING", {Value::Bigint(0), S("dd/MM/yy HH:mm"), S("+02:00")}),
            "'01/01/70 02:00'");
  EXPECT_EQ(Call("FORMAT_TIMESTAMP", {Value::Timestamp(0), S("MMM d, yyyy h a")}),
            "'Jan 1, 1970 12 AM'");
  EXPECT_EQ(Call("STRINGTOTIMESTAMP", {S("2021-01-01 00:00:01"), S("yyyy-MM-dd HH:mm:ss")}),
            "1609459201000");
  EXPECT_EQ(Call("STRINGTOTIMESTAMP", {S("2021-01-01 02:00"), S("yyyy-MM-dd HH:mm"), S("UTC+2")}),
            "1609459200000");
  EXPECT_EQ(Call("STRINGTOTIMESTAMP", {S("garbage"), S("yyyy")}).rfind("error", 0), 0u);
  EXPECT_EQ(Call("PARSE_DATE", {S("1970-01-03"), S("yyyy-MM-dd")}), "2");
  EXPECT_EQ(Call("FORMAT_DATE", {Value::Date(2), S("yyyyMMdd")}), "'19700103'");
  EXPECT_EQ(Call("FROM_UNIXTIME", {Value::Bigint(5)}), "5");
  EXPECT_EQ(Call("UNIX_DATE", {Value::Date(7)}), "7");
  EXPECT_EQ(
      Call("TIMESTAMPTOSTRING", {Value::Bigint(0), S("yyyy-MM-dd HH:mm z"), S("America/Denver")}),
      "'1969-12-31 17:00 MST'");
  EXPECT_EQ(
      Call("PARSE_TIMESTAMP", {S("2021-07-01 12:00"), S("yyyy-MM-dd HH:mm"), S("Europe/Paris")}),
      "1625133600000");
  EXPECT_EQ(
      Call("TIMESTAMPTOSTRING", {Value::Bigint(0), S("yyyy"), S("Mars/Olympus")}).rfind("error", 0),
      0u);
  EXPECT_EQ(Call("FORMAT_TIMESTAMP", {Value::Null(), S("yyyy")}), "NULL");
}

// ------------------------------------------------------------------ aggregates

std::unique_ptr<AggregateFunction> Make(const std::string& name, std::vector<SqlType> types,
                                        SqlType result, std::vector<Value> literals = {}) {
  auto made = MakeAggregateFunction(name, types, literals, result);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  return std::move(made).value();
}

std::string Fold(const AggregateFunction& function, const std::vector<Value>& inputs) {
  Value state = function.Initial();
  for (const Value& input : inputs) {
    Status added = function.Add(state, {input});
    if (!added.ok()) return added.message();
  }
  return function.Result(state).DebugString();
}

// PERCENTILE_APPROX over 100,000 values of a skewed distribution, judged as a t-digest is, by
// rank: the share of values at or below the estimate is within 0.005 of p in the middle and
// 0.0005 at the tails (a digest is most exact there). Two halves merged agree with the whole;
// the state survives the changelog's encoding, pending values included.
TEST(AggregateFunctionsTest, PercentileApproxTracksExactPercentiles) {
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> setup_ms(7.0, 0.5);
  std::vector<double> values(100000);
  for (double& value : values) value = setup_ms(random);
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  auto rank = [&](double estimate) {
    return static_cast<double>(std::upper_bound(sorted.begin(), sorted.end(), estimate) -
                               sorted.begin()) /
           static_cast<double>(sorted.size());
  };
  for (double p : {0.01, 0.5, 0.9, 0.99, 0.999}) {
    auto percentile = Make("PERCENTILE_APPROX", {SqlType::Double(), SqlType::Double()},
                           SqlType::Double(), {Value::Null(), Value::Double(p)});
    Value whole = percentile->Initial(), first = percentile->Initial(),
          second = percentile->Initial();
    for (size_t i = 0; i < values.size(); ++i) {
      ASSERT_TRUE(percentile->Add(whole, {Value::Double(values[i])}).ok());
      ASSERT_TRUE(percentile->Add(i % 2 == 0 ? first : second, {Value::Double(values[i])}).ok());
    }
    const double tolerance = (p <= 0.01 || p >= 0.99) ? 0.0005 : 0.005;
    EXPECT_NEAR(rank(percentile->Result(whole).float64()), p, tolerance) << "p " << p;
    percentile->Merge(first, second);
    EXPECT_NEAR(rank(percentile->Result(first).float64()), p, tolerance) << "merged, p " << p;

    std::string bytes;
    types::EncodeRow({whole}, bytes);
    types::Row decoded;
    ASSERT_TRUE(types::DecodeRow(bytes, decoded).ok());
    EXPECT_EQ(percentile->Result(decoded[0]).float64(), percentile->Result(whole).float64());
  }
  auto empty = Make("PERCENTILE_APPROX", {SqlType::Double(), SqlType::Double()}, SqlType::Double(),
                    {Value::Null(), Value::Double(0.5)});
  EXPECT_EQ(Fold(*empty, {Value::Null(), Value::Double(NAN)}), "NULL");
}

TEST(AggregateFunctionsTest, CountSumAvgWithUndoAndMerge) {
  auto count_star = Make("COUNT", {}, SqlType::Bigint());
  Value state = count_star->Initial();
  ASSERT_TRUE(count_star->Add(state, {}).ok());
  ASSERT_TRUE(count_star->Add(state, {}).ok());
  count_star->Undo(state, {});
  EXPECT_EQ(count_star->Result(state).DebugString(), "1");
  auto count = Make("COUNT", {SqlType::Int()}, SqlType::Bigint());
  EXPECT_EQ(Fold(*count, {I(1), Value::Null(), I(3)}), "2");

  auto sum = Make("SUM", {SqlType::Int()}, SqlType::Int());
  EXPECT_EQ(Fold(*sum, {I(2147483647), I(1)}), "-2147483648");
  Value sum_state = sum->Initial();
  ASSERT_TRUE(sum->Add(sum_state, {I(5)}).ok());
  ASSERT_TRUE(sum->Add(sum_state, {I(7)}).ok());
  sum->Undo(sum_state, {I(5)});
  EXPECT_EQ(sum->Result(sum_state).kind(), types::TypeId::kInt);
  EXPECT_EQ(sum->Result(sum_state).DebugString(), "7");
  auto decimal_sum = Make("SUM", {SqlType::Decimal(6, 2)}, SqlType::Decimal(6, 2));
  EXPECT_EQ(Fold(*decimal_sum, {Value::DecimalValue(150, 2), Value::DecimalValue(25, 2)}), "1.75");
  // ksqlDB fails the query when a DECIMAL sum no longer fits its precision.
  auto small_sum = Make("SUM", {SqlType::Decimal(4, 1)}, SqlType::Decimal(4, 1));
  EXPECT_EQ(Fold(*small_sum, {Value::DecimalValue(5009, 1), Value::DecimalValue(3008, 1)}),
            "801.7");
  EXPECT_EQ(Fold(*small_sum, {Value::DecimalValue(5009, 1), Value::DecimalValue(5008, 1)}),
            "Numeric field overflow: A field with precision 4 and scale 1 must round to an "
            "absolute value less than 10^3. Got 1001.7");

  // SUM_LIST sums the elements of each array, skipping NULL arrays and elements.
  auto sum_list = Make("SUM_LIST", {SqlType::Array(SqlType::Int())}, SqlType::Int());
  Value list_state = sum_list->Initial();
  ASSERT_TRUE(sum_list->Add(list_state, {Value::Array({I(1), I(2)})}).ok());
  ASSERT_TRUE(sum_list->Add(list_state, {Value::Array({I(3), Value::Null()})}).ok());
  ASSERT_TRUE(sum_list->Add(list_state, {Value::Null()}).ok());
  sum_list->Undo(list_state, {Value::Array({I(1)})});
  EXPECT_EQ(sum_list->Result(list_state).DebugString(), "5");

  auto avg = Make("AVG", {SqlType::Int()}, SqlType::Double());
  EXPECT_EQ(Fold(*avg, {I(1), I(2), Value::Null()}), "1.500000");
  EXPECT_EQ(Fold(*avg, {}), "0.000000");
  Value a = avg->Initial();
  Value b = avg->Initial();
  ASSERT_TRUE(avg->Add(a, {I(1)}).ok());
  ASSERT_TRUE(avg->Add(b, {I(4)}).ok());
  ASSERT_TRUE(avg->Add(b, {I(10)}).ok());
  avg->Undo(b, {I(10)});
  avg->Merge(a, b);
  EXPECT_EQ(avg->Result(a).DebugString(), "2.500000");
}

TEST(AggregateFunctionsTest, MinMaxAndStandardDeviation) {
  auto min = Make("MIN", {SqlType::Int()}, SqlType::Int());
  auto max = Make("MAX", {SqlType::String()}, SqlType::String());
  EXPECT_EQ(Fold(*min, {I(3), Value::Null(), I(-1)}), "-1");
  EXPECT_EQ(Fold(*max, {S("a"), S("c"), S("b")}), "'c'");
  EXPECT_EQ(Fold(*min, {}), "NULL");
  auto samp = Make("STDDEV_SAMP", {SqlType::Double()}, SqlType::Double());
  auto pop = Make("STDDEV_POP", {SqlType::Double()}, SqlType::Double());
  std::vector<Value> values = {Value::Double(2), Value::Double(4), Value::Double(4),
                               Value::Double(4), Value::Double(5), Value::Double(5),
                               Value::Double(7), Value::Double(9)};
  EXPECT_EQ(Fold(*pop, values), "2.000000");
  Value left = samp->Initial();
  Value right = samp->Initial();
  for (size_t i = 0; i < values.size(); ++i)
    ASSERT_TRUE(samp->Add(i < 3 ? left : right, {values[i]}).ok());
  ASSERT_TRUE(samp->Add(right, {Value::Double(100)}).ok());
  samp->Undo(right, {Value::Double(100)});
  samp->Merge(left, right);
  EXPECT_NEAR(samp->Result(left).float64(), std::sqrt(32.0 / 7.0), 1e-9);
  EXPECT_EQ(Fold(*samp, {Value::Double(1)}), "0.000000");
}

TEST(AggregateFunctionsTest, ByOffset) {
  auto latest = Make("LATEST_BY_OFFSET", {SqlType::Int()}, SqlType::Int());
  EXPECT_EQ(Fold(*latest, {I(1), I(2), Value::Null()}), "2");
  auto latest_with_nulls = Make("LATEST_BY_OFFSET", {SqlType::Int(), SqlType::Boolean()},
                                SqlType::Int(), {Value::Null(), Value::Boolean(false)});
  EXPECT_EQ(Fold(*latest_with_nulls, {I(1), Value::Null()}), "NULL");
  auto earliest = Make("EARLIEST_BY_OFFSET", {SqlType::Int()}, SqlType::Int());
  EXPECT_EQ(Fold(*earliest, {Value::Null(), I(1), I(2)}), "1");
  auto latest_two = Make("LATEST_BY_OFFSET", {SqlType::Int(), SqlType::Int()},
                         SqlType::Array(SqlType::Int()), {Value::Null(), I(2)});
  EXPECT_EQ(Fold(*latest_two, {I(1), I(2), I(3)}), "[2, 3]");
  auto earliest_two = Make("EARLIEST_BY_OFFSET", {SqlType::Int(), SqlType::Int()},
                           SqlType::Array(SqlType::Int()), {Value::Null(), I(2)});
  EXPECT_EQ(Fold(*earliest_two, {I(1), I(2), I(3)}), "[1, 2]");
  // Merge orders by arrival: the session added later wins for LATEST.
  Value older = latest->Initial();
  Value newer = latest->Initial();
  ASSERT_TRUE(latest->Add(older, {I(1)}).ok());
  ASSERT_TRUE(latest->Add(newer, {I(2)}).ok());
  ASSERT_TRUE(latest->Add(older, {I(3)}).ok());
  Value merged = newer;
  latest->Merge(merged, older);
  EXPECT_EQ(latest->Result(merged).DebugString(), "3");
  EXPECT_FALSE(MakeAggregateFunction("TOPK", {SqlType::Int(), SqlType::Int()},
                                     {Value::Null(), I(0)}, SqlType::Array(SqlType::Int()))
                   .ok());
}

TEST(AggregateFunctionsTest, CollectionsAndHistogram) {
  auto list = Make("COLLECT_LIST", {SqlType::Int()}, SqlType::Array(SqlType::Int()));
  Value state = list->Initial();
  for (int x : {1, 2, 1, 3}) ASSERT_TRUE(list->Add(state, {I(x)}).ok());
  list->Undo(state, {I(1)});
  EXPECT_EQ(list->Result(state).DebugString(), "[1, 2, 3]");
  auto set = Make("COLLECT_SET", {SqlType::Int()}, SqlType::Array(SqlType::Int()));
  EXPECT_EQ(Fold(*set, {I(1), I(2), I(1)}), "[1, 2]");
  auto topk = Make("TOPK", {SqlType::Int(), SqlType::Int()}, SqlType::Array(SqlType::Int()),
                   {Value::Null(), I(2)});
  EXPECT_EQ(Fold(*topk, {I(5), I(9), Value::Null(), I(9), I(1)}), "[9, 9]");
  auto topk_distinct = Make("TOPKDISTINCT", {SqlType::Int(), SqlType::Int()},
                            SqlType::Array(SqlType::Int()), {Value::Null(), I(2)});
  EXPECT_EQ(Fold(*topk_distinct, {I(5), I(9), I(9), I(1)}), "[9, 5]");
  auto histogram =
      Make("HISTOGRAM", {SqlType::String()}, SqlType::Map(SqlType::String(), SqlType::Bigint()));
  Value h = histogram->Initial();
  for (const char* x : {"a", "b", "a"}) ASSERT_TRUE(histogram->Add(h, {S(x)}).ok());
  histogram->Undo(h, {S("b")});
  Value other = histogram->Initial();
  ASSERT_TRUE(histogram->Add(other, {S("c")}).ok());
  histogram->Merge(h, other);
  EXPECT_EQ(histogram->Result(h).DebugString(), "{'a'=2, 'c'=1}");
  auto distinct = Make("COUNT_DISTINCT", {SqlType::String()}, SqlType::Bigint());
  Value d = distinct->Initial();
  for (const char* x : {"a", "b", "a"}) ASSERT_TRUE(distinct->Add(d, {S(x)}).ok());
  distinct->Undo(d, {S("b")});
  EXPECT_EQ(distinct->Result(d).DebugString(), "1");
  EXPECT_FALSE(MakeAggregateFunction("NOPE", {}, {}, SqlType::Int()).ok());
}

}  // namespace
}  // namespace sidestream::functions

namespace sidestream::functions {
namespace {

TEST(FunctionRegistryExtendTest, RefusedOnceTheRegistryIsBuilt) {
  ASSERT_NE(FunctionRegistry::BuiltIns().Find("COUNT"), nullptr);
  bool ran = false;
  Status status = FunctionRegistry::Extend([&ran](FunctionRegistry&) { ran = true; });
  EXPECT_FALSE(status.ok());
  EXPECT_FALSE(ran);
  // Test-only functions of `sidestream qtt` are not built in.
  EXPECT_EQ(FunctionRegistry::BuiltIns().Find("TEST_UDF"), nullptr);
}

TEST(FunctionRegistryExtendTest, LiteralTailCountsFromTheLastArgument) {
  FunctionDefinition definition;
  definition.literal_tail = 2;
  EXPECT_FALSE(IsLiteralArgument(definition, 0, 4));
  EXPECT_FALSE(IsLiteralArgument(definition, 1, 4));
  EXPECT_TRUE(IsLiteralArgument(definition, 2, 4));
  EXPECT_TRUE(IsLiteralArgument(definition, 3, 4));
  definition.literal_tail = 0;
  definition.literal_arguments = {1};
  EXPECT_FALSE(IsLiteralArgument(definition, 0, 3));
  EXPECT_TRUE(IsLiteralArgument(definition, 1, 3));
}

}  // namespace
}  // namespace sidestream::functions
