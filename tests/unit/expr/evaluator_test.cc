#include "expr/evaluator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "analyzer/analyzer.h"
#include "session/script_runner.h"
#include "sql/parser.h"

namespace sidestream::expr {
namespace {

using testing::HasSubstr;
using types::Value;

// Parses and analyzes "SELECT <expression> FROM t", compiles the projection and
// evaluates it over one row given by column name (missing columns are NULL).
class EvaluatorTest : public testing::Test {
 protected:
  void SetUp() override {
    catalog_ = std::move(catalog::Catalog::Open(":memory:").value());
    session::ScriptRunner runner(*catalog_);
    auto created = runner.Run(
        "CREATE STREAM t (k STRING KEY, i INT, j INT, b BIGINT, d DOUBLE, p DECIMAL(6, 2), "
        "s STRING, u STRING, flag BOOLEAN, ts TIMESTAMP, a ARRAY<INT>, m MAP<STRING, INT>, "
        "st STRUCT<x INT, y STRING>) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON', "
        "PARTITIONS=1);");
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  Result<Value> Eval(const std::string& expression,
                     const std::map<std::string, Value>& columns = {}) {
    auto statement = sql::ParseStatement("SELECT " + expression + " FROM t EMIT CHANGES;");
    if (!statement.ok()) return statement.status();
    analyzer::Analyzer analyzer(*catalog_);
    auto analyzed = analyzer.Analyze(**statement);
    if (!analyzed.ok()) return analyzed.status();
    const analyzer::LogicalOperator* project = analyzed->plan.get();
    while (project->kind != analyzer::LogicalOperatorKind::kProject) {
      project = project->children.at(0).get();
    }
    const analyzer::Schema& input = project->children.at(0)->output;
    types::Row row(input.columns.size());
    for (const auto& [name, value] : columns) {
      int index = input.Find(name);
      EXPECT_GE(index, 0) << name;
      if (index >= 0) row[static_cast<size_t>(index)] = value;
    }
    auto evaluator = Evaluator::Compile(*project->expressions.at(0));
    if (!evaluator.ok()) return evaluator.status();
    Value out;
    RETURN_NOT_OK((*evaluator)->Evaluate(row, out));
    // Evaluating twice into the same output must give the same value (scratch reuse).
    Value again = Value::String("stale");
    RETURN_NOT_OK((*evaluator)->Evaluate(row, again));
    EXPECT_EQ(out.DebugString(), again.DebugString());
    EXPECT_EQ(out.kind(), again.kind());
    return out;
  }

  // The value's text and kind, e.g. "42:INT".
  std::string Show(const std::string& expression,
                   const std::map<std::string, Value>& columns = {}) {
    auto value = Eval(expression, columns);
    if (!value.ok()) return "error: " + value.status().message();
    return value->DebugString() + ":" + Kind(*value);
  }

  static std::string Kind(const Value& value) {
    switch (value.kind()) {
      case types::TypeId::kNull:
        return "NULL";
      case types::TypeId::kBoolean:
        return "BOOLEAN";
      case types::TypeId::kInt:
        return "INT";
      case types::TypeId::kBigint:
        return "BIGINT";
      case types::TypeId::kDouble:
        return "DOUBLE";
      case types::TypeId::kDecimal:
        return "DECIMAL(" + std::to_string(value.decimal().scale) + ")";
      case types::TypeId::kString:
        return "STRING";
      case types::TypeId::kTimestamp:
        return "TIMESTAMP";
      case types::TypeId::kDate:
        return "DATE";
      case types::TypeId::kTime:
        return "TIME";
      case types::TypeId::kArray:
        return "ARRAY";
      case types::TypeId::kMap:
        return "MAP";
      case types::TypeId::kStruct:
        return "STRUCT";
      default:
        return "OTHER";
    }
  }

  std::unique_ptr<catalog::Catalog> catalog_;
};

TEST_F(EvaluatorTest, Literals) {
  EXPECT_EQ(Show("1"), "1:INT");
  EXPECT_EQ(Show("3000000000"), "3000000000:BIGINT");
  EXPECT_EQ(Show("1.50"), "1.50:DECIMAL(2)");
  EXPECT_EQ(Show("'abc'"), "'abc':STRING");
  EXPECT_EQ(Show("true"), "true:BOOLEAN");
  EXPECT_EQ(Show("CAST(NULL AS INT)"), "NULL:NULL");
}

TEST_F(EvaluatorTest, IntegerArithmeticWrapsAndTruncates) {
  EXPECT_EQ(Show("i + 1", {{"I", Value::Int(2147483647)}}), "-2147483648:INT");
  EXPECT_EQ(Show("b * 2", {{"B", Value::Bigint(INT64_MAX)}}), "-2:BIGINT");
  EXPECT_EQ(Show("i / j", {{"I", Value::Int(-7)}, {"J", Value::Int(2)}}), "-3:INT");
  EXPECT_EQ(Show("i % j", {{"I", Value::Int(-7)}, {"J", Value::Int(2)}}), "-1:INT");
  EXPECT_EQ(Show("i / j", {{"I", Value::Int(INT32_MIN)}, {"J", Value::Int(-1)}}),
            "-2147483648:INT");
  EXPECT_EQ(Show("i + b", {{"I", Value::Int(1)}, {"B", Value::Bigint(5)}}), "6:BIGINT");
  EXPECT_EQ(Show("-i", {{"I", Value::Int(INT32_MIN)}}), "-2147483648:INT");
}

TEST_F(EvaluatorTest, DivisionByZeroIsNull) {
  EXPECT_EQ(Show("i / j", {{"I", Value::Int(1)}, {"J", Value::Int(0)}}), "NULL:NULL");
  EXPECT_EQ(Show("i % j", {{"I", Value::Int(1)}, {"J", Value::Int(0)}}), "NULL:NULL");
  EXPECT_EQ(Show("p / 0"), "NULL:NULL");
  EXPECT_EQ(Show("p / 0", {{"P", Value::DecimalValue(100, 2)}}), "NULL:NULL");
  auto inf = Eval("d / 0", {{"D", Value::Double(1)}});
  ASSERT_TRUE(inf.ok());
  EXPECT_TRUE(std::isinf(inf->float64()));
}

TEST_F(EvaluatorTest, DecimalArithmeticKeepsTheBoundScale) {
  Value p = Value::DecimalValue(1050, 2);  // 10.50
  EXPECT_EQ(Show("p + 1.5", {{"P", p}}), "12.00:DECIMAL(2)");
  EXPECT_EQ(Show("p * 2", {{"P", p}}), "21.00:DECIMAL(2)");
  EXPECT_EQ(Show("p - i", {{"P", p}, {"I", Value::Int(11)}}), "-0.50:DECIMAL(2)");
  // 10.50 / 3 at scale max(6, 2 + 10 + 1) = 13, HALF_UP.
  EXPECT_EQ(Show("p / 3", {{"P", p}}), "3.5000000000000:DECIMAL(13)");
  EXPECT_EQ(Show("p % 4", {{"P", p}}), "2.50:DECIMAL(2)");
  EXPECT_EQ(Show("p + d", {{"P", p}, {"D", Value::Double(0.25)}}), "10.750000:DOUBLE");
}

TEST_F(EvaluatorTest, NullPropagation) {
  for (const char* expression : {"i + 1", "i * j", "-i", "s || 'x'", "s + u", "CAST(s AS INT)",
                                 "s LIKE 'a%'", "i BETWEEN 1 AND 3", "i IN (1, 2)", "a[1]",
                                 "m['x']", "st->x", "UCASE(s)", "ABS(i)", "NOT flag"}) {
    EXPECT_EQ(Show(expression), "NULL:NULL") << expression;
  }
  // As in ksqlDB's generated code, a comparison with a NULL side is false.
  EXPECT_EQ(Show("i = 1"), "false:BOOLEAN");
  EXPECT_EQ(Show("i < j"), "false:BOOLEAN");
  EXPECT_EQ(Show("i IS NULL"), "true:BOOLEAN");
  EXPECT_EQ(Show("i IS NOT NULL"), "false:BOOLEAN");
  EXPECT_EQ(Show("i IS DISTINCT FROM j"), "false:BOOLEAN");
  EXPECT_EQ(Show("i IS DISTINCT FROM 1"), "true:BOOLEAN");
  EXPECT_EQ(Show("i IS NOT DISTINCT FROM j"), "true:BOOLEAN");
  EXPECT_EQ(Show("COALESCE(i, 7)"), "7:INT");
}

TEST_F(EvaluatorTest, ThreeValuedLogic) {
  Value t = Value::Boolean(true);
  Value f = Value::Boolean(false);
  EXPECT_EQ(Show("flag AND false"), "false:BOOLEAN");
  EXPECT_EQ(Show("flag AND true"), "NULL:NULL");
  EXPECT_EQ(Show("flag OR true"), "true:BOOLEAN");
  EXPECT_EQ(Show("flag OR false"), "NULL:NULL");
  EXPECT_EQ(Show("flag AND true", {{"FLAG", t}}), "true:BOOLEAN");
  EXPECT_EQ(Show("NOT flag", {{"FLAG", f}}), "true:BOOLEAN");
  EXPECT_EQ(Show("i IN (1, NULL)", {{"I", Value::Int(2)}}), "NULL:NULL");
  EXPECT_EQ(Show("i IN (1, 2)", {{"I", Value::Int(2)}}), "true:BOOLEAN");
  EXPECT_EQ(Show("i NOT IN (1, 3)", {{"I", Value::Int(2)}}), "true:BOOLEAN");
}

TEST_F(EvaluatorTest, ComparisonsAcrossNumericKinds) {
  EXPECT_EQ(Show("i = b", {{"I", Value::Int(3)}, {"B", Value::Bigint(3)}}), "true:BOOLEAN");
  EXPECT_EQ(Show("i < d", {{"I", Value::Int(3)}, {"D", Value::Double(3.5)}}), "true:BOOLEAN");
  EXPECT_EQ(Show("p >= 1.5", {{"P", Value::DecimalValue(150, 2)}}), "true:BOOLEAN");
  EXPECT_EQ(Show("s <> 'a'", {{"S", Value::String("b")}}), "true:BOOLEAN");
  EXPECT_EQ(Show("i BETWEEN 1 AND 3", {{"I", Value::Int(3)}}), "true:BOOLEAN");
  EXPECT_EQ(Show("i NOT BETWEEN 1 AND 3", {{"I", Value::Int(4)}}), "true:BOOLEAN");
  EXPECT_EQ(Show("ts > '2021-01-01T00:00:00'", {{"TS", Value::Timestamp(1609459200001)}}),
            "true:BOOLEAN");
}

TEST_F(EvaluatorTest, StringConcatenation) {
  EXPECT_EQ(Show("s || u", {{"S", Value::String("ab")}, {"U", Value::String("cd")}}),
            "'abcd':STRING");
  EXPECT_EQ(Show("s + '!'", {{"S", Value::String("hi")}}), "'hi!':STRING");
}

TEST_F(EvaluatorTest, SearchedAndSimpleCase) {
  const char* searched = "CASE WHEN i > 10 THEN 'big' WHEN i > 5 THEN 'mid' ELSE 'small' END";
  EXPECT_EQ(Show(searched, {{"I", Value::Int(11)}}), "'big':STRING");
  EXPECT_EQ(Show(searched, {{"I", Value::Int(6)}}), "'mid':STRING");
  EXPECT_EQ(Show(searched), "'small':STRING");
  EXPECT_EQ(Show("CASE i WHEN 1 THEN 'one' END", {{"I", Value::Int(2)}}), "NULL:NULL");
  EXPECT_EQ(Show("CASE i WHEN 1 THEN 'one' END", {{"I", Value::Int(1)}}), "'one':STRING");
  // Branches widen to the CASE's type.
  EXPECT_EQ(Show("CASE WHEN flag THEN i ELSE b END",
                 {{"FLAG", Value::Boolean(true)}, {"I", Value::Int(4)}}),
            "4:BIGINT");
}

// A STRUCT prints with its field names (NULL fields left out, as Kafka Connect does) and
// casts to another STRUCT by field name.
TEST_F(EvaluatorTest, CastStructsByFieldName) {
  const std::map<std::string, Value> row = {
      {"ST", Value::Struct({Value::Int(1), Value::String("a")})}};
  EXPECT_EQ(Show("CAST(st AS STRING)", row), "'Struct{X=1,Y=a}':STRING");
  EXPECT_EQ(
      Show("CAST(st AS STRING)", {{"ST", Value::Struct({Value::Null(), Value::String("a")})}}),
      "'Struct{Y=a}':STRING");
  EXPECT_EQ(Show("CAST(st AS STRUCT<y STRING, z INT, x STRING>)", row), "{'a', NULL, '1'}:STRUCT");
  EXPECT_THAT(Show("CAST(st AS STRUCT<x BOOLEAN>)", row), HasSubstr("is not supported"));
}

TEST_F(EvaluatorTest, CastMatrix) {
  EXPECT_EQ(Show("CAST(s AS INT)", {{"S", Value::String(" 42 ")}}), "42:INT");
  EXPECT_EQ(Show("CAST(s AS BIGINT)", {{"S", Value::String("-9000000000")}}), "-9000000000:BIGINT");
  EXPECT_EQ(Show("CAST(s AS DOUBLE)", {{"S", Value::String("1.5e3")}}), "1500.000000:DOUBLE");
  EXPECT_EQ(Show("CAST(s AS DECIMAL(5, 1))", {{"S", Value::String("2.25")}}), "2.3:DECIMAL(1)");
  EXPECT_EQ(Show("CAST(s AS BOOLEAN)", {{"S", Value::String("TRUE")}}), "true:BOOLEAN");
  EXPECT_EQ(Show("CAST(d AS STRING)", {{"D", Value::Double(1)}}), "'1.0':STRING");
  EXPECT_EQ(Show("CAST(d AS STRING)", {{"D", Value::Double(1.2e7)}}), "'1.2E7':STRING");
  EXPECT_EQ(Show("CAST(d AS INT)", {{"D", Value::Double(-2.9)}}), "-2:INT");
  EXPECT_EQ(Show("CAST(b AS INT)", {{"B", Value::Bigint(4294967297)}}), "1:INT");
  EXPECT_EQ(Show("CAST(p AS STRING)", {{"P", Value::DecimalValue(150, 2)}}), "'1.50':STRING");
  EXPECT_EQ(Show("CAST(p AS DECIMAL(4, 1))", {{"P", Value::DecimalValue(-125, 2)}}),
            "-1.3:DECIMAL(1)");
  EXPECT_EQ(Show("CAST(p AS INT)", {{"P", Value::DecimalValue(-199, 2)}}), "-1:INT");
  EXPECT_EQ(Show("CAST(flag AS STRING)", {{"FLAG", Value::Boolean(false)}}), "'false':STRING");
  EXPECT_EQ(Show("CAST(i AS DOUBLE)", {{"I", Value::Int(3)}}), "3.000000:DOUBLE");
  EXPECT_EQ(Show("CAST(ts AS STRING)", {{"TS", Value::Timestamp(1609459200123)}}),
            "'2021-01-01T00:00:00.123':STRING");
  EXPECT_EQ(Show("CAST(ts AS DATE)", {{"TS", Value::Timestamp(86400000 * 3 + 5)}}), "3:DATE");
  EXPECT_EQ(Show("CAST(s AS TIMESTAMP)", {{"S", Value::String("1970-01-02T00:00:01")}}),
            "86401000:TIMESTAMP");
  EXPECT_EQ(Show("CAST(a AS ARRAY<STRING>)", {{"A", Value::Array({Value::Int(1)})}}),
            "['1']:ARRAY");
}

// As in ksqlDB, a failed CAST is NULL: the enclosing expression goes on.
TEST_F(EvaluatorTest, CastFailuresGiveNull) {
  for (const auto& [expression, text] :
       std::vector<std::pair<std::string, std::string>>{{"CAST(s AS INT)", "abc"},
                                                        {"CAST(s AS INT)", "3000000000"},
                                                        {"CAST(s AS DOUBLE)", "1.x"},
                                                        {"CAST(s AS BOOLEAN)", "maybe"},
                                                        {"CAST(s AS DECIMAL(3, 2))", "12.5"},
                                                        {"CAST(s AS TIMESTAMP)", "yesterday"}}) {
    EXPECT_EQ(Show(expression, {{"S", Value::String(text)}}).substr(0, 5), "NULL:")
        << expression << " of " << text;
  }
  EXPECT_EQ(Show("IFNULL(CAST(s AS INT), -1)", {{"S", Value::String("abc")}}), "-1:INT");
}

// ksqlDB's nested error handling: a failing function call given to another function is
// NULL, and so is a failing STRUCT field; a failing top-level call fails the expression.
TEST_F(EvaluatorTest, NestedFunctionFailuresGiveNull) {
  auto top = Eval("PARSE_DATE(s, 'yyyy-MM-dd')", {{"S", Value::String("abcd")}});
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Show("IFNULL(PARSE_DATE(s, 'yyyy-MM-dd'), PARSE_DATE('1900-01-01', 'yyyy-MM-dd'))",
                 {{"S", Value::String("abcd")}}),
            "-25567:DATE");  // days since the epoch
  EXPECT_EQ(
      Show("STRUCT(d := PARSE_DATE(s, 'yyyy-MM-dd'))", {{"S", Value::String("abcd")}}).substr(0, 6),
      "{NULL}");
}

TEST_F(EvaluatorTest, LikeWithWildcardsAndEscape) {
  auto like = [&](const std::string& text, const std::string& pattern) {
    return Show("s LIKE " + pattern, {{"S", Value::String(text)}});
  };
  EXPECT_EQ(like("hello", "'h%o'"), "true:BOOLEAN");
  EXPECT_EQ(like("hello", "'h_llo'"), "true:BOOLEAN");
  EXPECT_EQ(like("hello", "'H%'"), "false:BOOLEAN");  // case-sensitive
  EXPECT_EQ(like("hello", "'%l%l%'"), "true:BOOLEAN");
  EXPECT_EQ(like("hello", "'h_lo'"), "false:BOOLEAN");
  EXPECT_EQ(like("50%", "'50!%' ESCAPE '!'"), "true:BOOLEAN");
  EXPECT_EQ(like("500", "'50!%' ESCAPE '!'"), "false:BOOLEAN");
  EXPECT_EQ(like("a_b", "'a!_b' ESCAPE '!'"), "true:BOOLEAN");
  EXPECT_EQ(like("axb", "'a!_b' ESCAPE '!'"), "false:BOOLEAN");
  EXPECT_EQ(like("é", "'_'"), "true:BOOLEAN");  // one code point
  EXPECT_EQ(Show("s NOT LIKE 'a%'", {{"S", Value::String("abc")}}), "false:BOOLEAN");
  EXPECT_EQ(Show("s LIKE u", {{"S", Value::String("abc")}, {"U", Value::String("%c")}}),
            "true:BOOLEAN");
}

TEST_F(EvaluatorTest, SubscriptAndDereference) {
  Value array = Value::Array({Value::Int(10), Value::Int(20), Value::Int(30)});
  EXPECT_EQ(Show("a[1]", {{"A", array}}), "10:INT");
  EXPECT_EQ(Show("a[-1]", {{"A", array}}), "30:INT");
  EXPECT_EQ(Show("a[4]", {{"A", array}}), "NULL:NULL");
  EXPECT_EQ(Show("a[0]", {{"A", array}}), "NULL:NULL");
  EXPECT_EQ(Show("a[-4]", {{"A", array}}), "NULL:NULL");
  Value map = Value::Map({Value::String("x"), Value::Int(1), Value::String("y"), Value::Int(2)});
  EXPECT_EQ(Show("m['y']", {{"M", map}}), "2:INT");
  EXPECT_EQ(Show("m['z']", {{"M", map}}), "NULL:NULL");
  Value st = Value::Struct({Value::Int(5), Value::String("five")});
  EXPECT_EQ(Show("st->y", {{"ST", st}}), "'five':STRING");
}

TEST_F(EvaluatorTest, Constructors) {
  EXPECT_EQ(Show("ARRAY[i, 2, 3]", {{"I", Value::Int(1)}}), "[1, 2, 3]:ARRAY");
  EXPECT_EQ(Show("ARRAY[1, 2.5]"), "[1.0, 2.5]:ARRAY");
  EXPECT_EQ(Show("MAP('a' := i)", {{"I", Value::Int(1)}}), "{'a'=1}:MAP");
  EXPECT_EQ(Show("STRUCT(A := i, B := 'x')", {{"I", Value::Int(1)}}), "{1, 'x'}:STRUCT");
}

TEST_F(EvaluatorTest, FunctionsThroughSql) {
  EXPECT_EQ(Show("SUBSTRING(s, 2, 3)", {{"S", Value::String("abcdef")}}), "'bcd':STRING");
  EXPECT_EQ(Show("ROUND(p, 1)", {{"P", Value::DecimalValue(125, 2)}}), "1.30:DECIMAL(2)");
  EXPECT_EQ(Show("ROUND(d)", {{"D", Value::Double(2.5)}}), "3:BIGINT");
  EXPECT_EQ(Show("CONCAT(s, u, 'z')", {{"S", Value::String("x")}}), "'xz':STRING");
  EXPECT_EQ(Show("REGEXP_EXTRACT('(\\d+)', s, 1)", {{"S", Value::String("ab123cd")}}),
            "'123':STRING");
  EXPECT_EQ(Show("TIMESTAMPTOSTRING(b, 'yyyy-MM-dd HH:mm:ss.SSS')",
                 {{"B", Value::Bigint(1609459200123)}}),
            "'2021-01-01 00:00:00.123':STRING");
  EXPECT_EQ(Show("ABS(i) + LEN(s)", {{"I", Value::Int(-3)}, {"S", Value::String("abcd")}}),
            "7:INT");
  auto bad_regex = Eval("REGEXP_LIKE(s, '(')");
  EXPECT_FALSE(bad_regex.ok());
}

TEST_F(EvaluatorTest, EndToEndProjection) {
  struct Case {
    const char* expression;
    std::map<std::string, Value> row;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {"i * 2 + 1", {{"I", Value::Int(20)}}, "41:INT"},
      {"(b - i) / 2", {{"B", Value::Bigint(10)}, {"I", Value::Int(3)}}, "3:BIGINT"},
      {"d * 2", {{"D", Value::Double(0.1)}}, "0.200000:DOUBLE"},
      {"UCASE(s) || '-' || LCASE(u)",
       {{"S", Value::String("ab")}, {"U", Value::String("CD")}},
       "'AB-cd':STRING"},
      {"CASE WHEN i IS NULL THEN -1 ELSE i END", {}, "-1:INT"},
      {"i > 5 AND s LIKE 'x%'", {{"I", Value::Int(6)}, {"S", Value::String("xy")}}, "true:BOOLEAN"},
      {"NOT (i IN (1, 2, 3))", {{"I", Value::Int(5)}}, "true:BOOLEAN"},
      {"IFNULL(s, 'none')", {}, "'none':STRING"},
      {"LPAD(s, 5, '*')", {{"S", Value::String("ab")}}, "'***ab':STRING"},
      {"SPLIT(s, ',')[2]", {{"S", Value::String("a,b,c")}}, "'b':STRING"},
      {"ARRAY_LENGTH(a)", {{"A", Value::Array({Value::Int(1), Value::Int(2)})}}, "2:INT"},
      {"m['k'] * 10", {{"M", Value::Map({Value::String("k"), Value::Int(4)})}}, "40:INT"},
      {"st->x + 1", {{"ST", Value::Struct({Value::Int(1), Value::String("a")})}}, "2:INT"},
      {"CAST(i AS STRING) + 'x'", {{"I", Value::Int(7)}}, "'7x':STRING"},
      {"p * 2 > 3", {{"P", Value::DecimalValue(151, 2)}}, "true:BOOLEAN"},
      {"INSTR(s, 'b')", {{"S", Value::String("abcb")}}, "2:INT"},
      {"TRIM(s)", {{"S", Value::String("  x  ")}}, "'x':STRING"},
      {"GREATEST(i, j, 3)", {{"I", Value::Int(1)}, {"J", Value::Int(9)}}, "9:INT"},
      {"i % 3 = 0 OR flag",
       {{"I", Value::Int(4)}, {"FLAG", Value::Boolean(false)}},
       "false:BOOLEAN"},
      {"k", {{"K", Value::String("key")}}, "'key':STRING"},
      {"UNIX_TIMESTAMP(ts)", {{"TS", Value::Timestamp(1234)}}, "1234:BIGINT"},
  };
  for (const Case& c : cases) EXPECT_EQ(Show(c.expression, c.row), c.expected) << c.expression;
}

TEST_F(EvaluatorTest, AggregatesAreNotCompiledHere) {
  auto statement = sql::ParseStatement("SELECT k, COUNT(*) FROM t GROUP BY k EMIT CHANGES;");
  ASSERT_TRUE(statement.ok());
  analyzer::Analyzer analyzer(*catalog_);
  auto analyzed = analyzer.Analyze(**statement);
  ASSERT_TRUE(analyzed.ok()) << analyzed.status().ToString();
  const analyzer::LogicalOperator* node = analyzed->plan.get();
  while (node->kind != analyzer::LogicalOperatorKind::kAggregate) node = node->children.at(0).get();
  auto compiled = Evaluator::Compile(*node->aggregates.at(0).call);
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.status().code(), StatusCode::kNotSupported);
}

}  // namespace
}  // namespace sidestream::expr
