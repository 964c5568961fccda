#include "functions/function_registry.h"

#include <algorithm>
#include <cctype>
#include <mutex>

#include "common/did_you_mean.h"
#include "functions/function_builder.h"
#include "functions/telecom_functions.h"

namespace sidestream::functions {

using types::SqlType;
using types::TypeId;

namespace {

std::string Upper(std::string_view text) {
  std::string upper(text);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return upper;
}

ResultRule DoubleOrDecimal() {
  return [](const std::vector<SqlType>& arguments) {
    return arguments.at(0).id() == TypeId::kDecimal ? arguments.at(0) : SqlType::Double();
  };
}

// ROUND(DOUBLE) and TRUNC(DOUBLE) give BIGINT in ksqlDB; with a scale argument, the input type.
ResultRule RoundResult() {
  return [](const std::vector<SqlType>& arguments) {
    const SqlType& input = arguments.at(0);
    if (arguments.size() == 1 && input.id() == TypeId::kDouble) return SqlType::Bigint();
    if (arguments.size() == 1 && input.id() == TypeId::kDecimal) {
      // ksqlDB's provideDecimalSchema: the integer digits only (a carry can overflow them).
      return SqlType::Decimal(std::max(1, input.precision() - input.scale()), 0);
    }
    return input.id() == TypeId::kNull ? SqlType::Bigint() : input;
  };
}

// The type that all arguments share (COALESCE, GREATEST).
ResultRule CommonArgumentType() {
  return [](const std::vector<SqlType>& arguments) { return CommonType(arguments); };
}

// LATEST_BY_OFFSET(x) -> x; LATEST_BY_OFFSET(x, n [, ignore_nulls]) -> ARRAY<x>.
ResultRule ByOffsetResult() {
  return [](const std::vector<SqlType>& arguments) {
    if (arguments.size() >= 2 && arguments[1].is_integral()) return SqlType::Array(arguments[0]);
    return arguments.at(0);
  };
}

using Builder = FunctionBuilder;

void AddAggregates(Builder& add) {
  using A = Accepts;
  add.Aggregate("COUNT", {A::kAny}, 1, Returns(SqlType::Bigint()), "COUNT(*|x) -> BIGINT",
                "Counts records, or the non-NULL values of x.");
  add.Aggregate("SUM", {A::kNumeric}, 0, SameAsArgument(0), "SUM(x numeric) -> type of x",
                "Sums the non-NULL values of x.");
  add.Aggregate("SUM_LIST", {A::kNumericArray}, 0, ElementOfArgument(0),
                "SUM_LIST(x ARRAY<numeric>) -> element type of x",
                "Sums the non-NULL elements of every non-NULL x.");
  add.Aggregate("AVG", {A::kNumeric}, 0, DoubleOrDecimal(), "AVG(x numeric) -> DOUBLE",
                "Averages the non-NULL values of x.");
  add.Aggregate("MIN", {A::kComparable}, 0, SameAsArgument(0), "MIN(x) -> type of x",
                "The smallest non-NULL value of x.");
  add.Aggregate("MAX", {A::kComparable}, 0, SameAsArgument(0), "MAX(x) -> type of x",
                "The largest non-NULL value of x.");
  add.Aggregate("COUNT_DISTINCT", {A::kAny}, 0, Returns(SqlType::Bigint()),
                "COUNT_DISTINCT(x) -> BIGINT", "Counts the distinct non-NULL values of x.");
  add.Aggregate("STDDEV_SAMP", {A::kNumeric}, 0, Returns(SqlType::Double()),
                "STDDEV_SAMP(x numeric) -> DOUBLE", "Sample standard deviation of x.");
  add.Aggregate("STDDEV_POP", {A::kNumeric}, 0, Returns(SqlType::Double()),
                "STDDEV_POP(x numeric) -> DOUBLE", "Population standard deviation of x.");
  add.Aggregate("LATEST_BY_OFFSET", {A::kAny, A::kAny, A::kBoolean}, 2, ByOffsetResult(),
                "LATEST_BY_OFFSET(x [, n INT] [, ignore_nulls BOOLEAN]) -> x or ARRAY<x>",
                "The value of x in the record with the greatest offset.", {1, 2});
  add.Aggregate("EARLIEST_BY_OFFSET", {A::kAny, A::kAny, A::kBoolean}, 2, ByOffsetResult(),
                "EARLIEST_BY_OFFSET(x [, n INT] [, ignore_nulls BOOLEAN]) -> x or ARRAY<x>",
                "The value of x in the record with the least offset.", {1, 2});
  add.Aggregate("COLLECT_LIST", {A::kAny}, 0, ArrayOfArgument(0), "COLLECT_LIST(x) -> ARRAY<x>",
                "Every value of x, in arrival order.");
  add.Aggregate("COLLECT_SET", {A::kAny}, 0, ArrayOfArgument(0), "COLLECT_SET(x) -> ARRAY<x>",
                "The distinct values of x.");
  add.Aggregate("TOPK", {A::kComparable, A::kIntegral}, 0, ArrayOfArgument(0),
                "TOPK(x, k INT) -> ARRAY<x>", "The k largest values of x.", {1});
  add.Aggregate("TOPKDISTINCT", {A::kComparable, A::kIntegral}, 0, ArrayOfArgument(0),
                "TOPKDISTINCT(x, k INT) -> ARRAY<x>", "The k largest distinct values of x.", {1});
  add.Aggregate("HISTOGRAM", {A::kString}, 0,
                Returns(SqlType::Map(SqlType::String(), SqlType::Bigint())),
                "HISTOGRAM(x STRING) -> MAP<STRING, BIGINT>", "Counts each distinct value of x.");
}

void AddMath(Builder& add) {
  using A = Accepts;
  const SqlType kDouble = SqlType::Double();
  add.Scalar("ABS", {A::kNumeric}, 0, SameAsArgument(0), "ABS(x) -> type of x", "Absolute value.");
  add.Scalar("CEIL", {A::kNumeric}, 0, SameAsArgument(0), "CEIL(x) -> type of x", "Rounds up.");
  add.Scalar("FLOOR", {A::kNumeric}, 0, SameAsArgument(0), "FLOOR(x) -> type of x", "Rounds down.");
  add.Scalar("ROUND", {A::kNumeric, A::kIntegral}, 1, RoundResult(), "ROUND(x [, digits INT])",
             "Rounds half up to the given digits.");
  add.Scalar("TRUNC", {A::kNumeric, A::kIntegral}, 1, RoundResult(), "TRUNC(x [, digits INT])",
             "Truncates toward zero.");
  add.Scalar("SIGN", {A::kNumeric}, 0, Returns(SqlType::Int()), "SIGN(x) -> INT", "-1, 0 or 1.");
  for (const char* name : {"SQRT", "CBRT", "EXP", "LN", "ACOS", "ASIN", "ATAN", "COS", "COSH",
                           "COT", "SIN", "SINH", "TAN", "TANH", "DEGREES", "RADIANS"}) {
    add.Scalar(name, {A::kNumeric}, 0, Returns(kDouble), std::string(name) + "(x) -> DOUBLE",
               "Mathematical function.");
  }
  add.Scalar("LOG", {A::kNumeric, A::kNumeric}, 1, Returns(kDouble), "LOG([base,] x) -> DOUBLE",
             "Logarithm, natural unless a base is given.");
  add.Scalar("POWER", {A::kNumeric, A::kNumeric}, 0, Returns(kDouble),
             "POWER(base, exponent) -> DOUBLE", "Raises base to exponent.");
  add.Scalar("ATAN2", {A::kNumeric, A::kNumeric}, 0, Returns(kDouble), "ATAN2(y, x) -> DOUBLE",
             "Angle of the point (x, y).");
  add.Scalar("PI", {}, 0, Returns(kDouble), "PI() -> DOUBLE", "The constant pi.");
  add.Scalar("RANDOM", {}, 0, Returns(kDouble), "RANDOM() -> DOUBLE", "Uniform in [0, 1).");
  add.Scalar("GREATEST", {A::kComparable}, 0, CommonArgumentType(), "GREATEST(x, ...)",
             "The largest argument.", true);
  add.Scalar("LEAST", {A::kComparable}, 0, CommonArgumentType(), "LEAST(x, ...)",
             "The smallest argument.", true);
  add.Scalar("GEO_DISTANCE", {A::kNumeric, A::kNumeric, A::kNumeric, A::kNumeric, A::kString}, 1,
             Returns(kDouble), "GEO_DISTANCE(lat1, lon1, lat2, lon2 [, 'KM'|'MILES']) -> DOUBLE",
             "Great-circle distance between two points.");
}

void AddStrings(Builder& add) {
  using A = Accepts;
  const SqlType kString = SqlType::String();
  add.Scalar("LEN", {A::kText}, 0, Returns(SqlType::Int()), "LEN(s STRING or BYTES) -> INT",
             "Length of s: characters of a STRING, bytes of BYTES.");
  add.Scalar("LENGTH", {A::kText}, 0, Returns(SqlType::Int()), "LENGTH(s STRING or BYTES) -> INT",
             "Length of s: characters of a STRING, bytes of BYTES.");
  for (const char* name :
       {"UCASE", "LCASE", "UPPER", "LOWER", "TRIM", "LTRIM", "RTRIM", "INITCAP", "REVERSE"}) {
    add.Scalar(name, {A::kString}, 0, Returns(kString), std::string(name) + "(s) -> STRING",
               "String function.");
  }
  add.Scalar("CONCAT", {A::kText}, 0, TextResult(), "CONCAT(s, ...) -> STRING or BYTES",
             "Joins the strings (or byte strings); NULLs are skipped.", true);
  add.Scalar("CONCAT_WS", {A::kText}, 0, TextResult(), "CONCAT_WS(sep, s, ...) -> STRING or BYTES",
             "Joins the strings (or byte strings) with a separator.", true);
  add.Scalar("SUBSTRING", {A::kText, A::kIntegral, A::kIntegral}, 1, TextResult(),
             "SUBSTRING(s, pos INT [, length INT]) -> STRING or BYTES",
             "Part of s; pos counts characters (bytes for BYTES) from 1.");
  add.Scalar("REPLACE", {A::kString, A::kString, A::kString}, 0, Returns(kString),
             "REPLACE(s, from, to) -> STRING", "Replaces every occurrence.");
  add.Scalar("INSTR", {A::kString, A::kString, A::kIntegral, A::kIntegral}, 2,
             Returns(SqlType::Int()), "INSTR(s, sub [, position [, occurrence]]) -> INT",
             "Position of sub in s, from 1; 0 when absent.");
  add.Scalar("LPAD", {A::kText, A::kIntegral, A::kText}, 0, TextResult(),
             "LPAD(s, length INT, padding) -> STRING or BYTES", "Pads on the left.");
  add.Scalar("RPAD", {A::kText, A::kIntegral, A::kText}, 0, TextResult(),
             "RPAD(s, length INT, padding) -> STRING or BYTES", "Pads on the right.");
  add.Scalar("SPLIT", {A::kString, A::kString}, 0, Returns(SqlType::Array(kString)),
             "SPLIT(s, delimiter) -> ARRAY<STRING>", "Splits s.");
  add.Scalar("REGEXP_EXTRACT", {A::kString, A::kString, A::kIntegral}, 1, Returns(kString),
             "REGEXP_EXTRACT(pattern, s [, group]) -> STRING", "First match of an RE2 pattern.");
  add.Scalar("REGEXP_REPLACE", {A::kString, A::kString, A::kString}, 0, Returns(kString),
             "REGEXP_REPLACE(s, pattern, replacement) -> STRING", "Replaces RE2 matches.");
  add.Scalar("REGEXP_LIKE", {A::kString, A::kString}, 0, Returns(SqlType::Boolean()),
             "REGEXP_LIKE(s, pattern) -> BOOLEAN", "True when s matches the RE2 pattern.");
  add.Scalar("REGEXP_SPLIT_TO_ARRAY", {A::kString, A::kString}, 0, Returns(SqlType::Array(kString)),
             "REGEXP_SPLIT_TO_ARRAY(s, pattern) -> ARRAY<STRING>", "Splits s at RE2 matches.");
  add.Scalar("EXTRACTJSONFIELD", {A::kString, A::kString}, 0, Returns(kString),
             "EXTRACTJSONFIELD(json, path) -> STRING", "A field of a JSON string by JSONPath.");
}

void AddGeneral(Builder& add) {
  using A = Accepts;
  add.Scalar("COALESCE", {A::kAny}, 0, CommonArgumentType(), "COALESCE(x, ...)",
             "The first non-NULL argument.", true);
  add.Scalar("IFNULL", {A::kAny, A::kAny}, 0, SameAsArgument(0), "IFNULL(x, fallback)",
             "x, or fallback when x is NULL.");
  add.Scalar("NULLIF", {A::kAny, A::kAny}, 0, SameAsArgument(0), "NULLIF(x, y)",
             "NULL when x = y, else x.");
  add.Scalar("AS_VALUE", {A::kAny}, 0, SameAsArgument(0), "AS_VALUE(x)",
             "Copies a key column into the value.");
  add.Scalar("ARRAY_LENGTH", {A::kArray}, 0, Returns(SqlType::Int()), "ARRAY_LENGTH(a) -> INT",
             "Number of elements.");
  add.Scalar("ARRAY_CONTAINS", {A::kArray, A::kAny}, 0, Returns(SqlType::Boolean()),
             "ARRAY_CONTAINS(a, x) -> BOOLEAN", "True when a holds x.");
}

void AddTime(Builder& add) {
  using A = Accepts;
  const SqlType kString = SqlType::String();
  add.Scalar("UNIX_TIMESTAMP", {A::kTemporal}, 1, Returns(SqlType::Bigint()),
             "UNIX_TIMESTAMP([ts]) -> BIGINT", "Milliseconds since the epoch.");
  add.Scalar("UNIX_DATE", {A::kTemporal}, 1, Returns(SqlType::Int()), "UNIX_DATE([date]) -> INT",
             "Days since the epoch.");
  add.Scalar("TIMESTAMPTOSTRING", {A::kIntegral, A::kString, A::kString}, 1, Returns(kString),
             "TIMESTAMPTOSTRING(ms BIGINT, format [, zone]) -> STRING", "Formats epoch ms.");
  add.Scalar("STRINGTOTIMESTAMP", {A::kString, A::kString, A::kString}, 1,
             Returns(SqlType::Bigint()), "STRINGTOTIMESTAMP(s, format [, zone]) -> BIGINT",
             "Parses epoch ms.");
  add.Scalar("FORMAT_TIMESTAMP", {A::kTemporal, A::kString, A::kString}, 1, Returns(kString),
             "FORMAT_TIMESTAMP(ts, format [, zone]) -> STRING", "Formats a TIMESTAMP.");
  add.Scalar("PARSE_TIMESTAMP", {A::kString, A::kString, A::kString}, 1,
             Returns(SqlType::Timestamp()), "PARSE_TIMESTAMP(s, format [, zone]) -> TIMESTAMP",
             "Parses a TIMESTAMP.");
  add.Scalar("FROM_UNIXTIME", {A::kIntegral}, 0, Returns(SqlType::Timestamp()),
             "FROM_UNIXTIME(ms BIGINT) -> TIMESTAMP", "Epoch ms to TIMESTAMP.");
  add.Scalar("PARSE_DATE", {A::kString, A::kString}, 0, Returns(SqlType::Date()),
             "PARSE_DATE(s, format) -> DATE", "Parses a DATE.");
  add.Scalar("FORMAT_DATE", {A::kTemporal, A::kString}, 0, Returns(kString),
             "FORMAT_DATE(date, format) -> STRING", "Formats a DATE.");
}

}  // namespace

namespace {

// The extensions BuiltIns() runs when it builds the registry, and whether it has.
struct Extensions {
  std::mutex mutex;
  std::vector<RegistryExtension> list;
  bool built = false;
};

Extensions& RegisteredExtensions() {
  static auto* extensions = new Extensions();
  return *extensions;
}

}  // namespace

Status FunctionRegistry::Extend(RegistryExtension extension) {
  Extensions& extensions = RegisteredExtensions();
  std::lock_guard<std::mutex> lock(extensions.mutex);
  if (extensions.built) {
    return Status::Internal(
        "the function registry is already built; extend it before its first use");
  }
  extensions.list.push_back(std::move(extension));
  return Status::OK();
}

bool IsLiteralArgument(const FunctionDefinition& definition, size_t index, size_t count) {
  if (definition.literal_tail > 0 && index + definition.literal_tail >= count) return true;
  return std::find(definition.literal_arguments.begin(), definition.literal_arguments.end(),
                   static_cast<int>(index)) != definition.literal_arguments.end();
}

const FunctionRegistry& FunctionRegistry::BuiltIns() {
  static const FunctionRegistry* registry = [] {
    auto* built = new FunctionRegistry();
    Builder builder(*built);
    AddAggregates(builder);
    AddMath(builder);
    AddStrings(builder);
    AddGeneral(builder);
    AddTime(builder);
    AddTelecomDefinitions(*built);
    AddUrlFunctions(builder);
    AddJsonFunctions(builder);
    AddArrayFunctions(builder);
    AddMapFunctions(builder);
    AddDateFunctions(builder);
    AddBytesFunctions(builder);
    AddStringFunctions(builder);
    AddLambdaFunctions(builder);
    AddTableFunctions(builder);
    built->functions_.at("COUNT").accepts_star = true;
    for (const char* name :
         {"TIMESTAMPADD", "TIMESTAMPSUB", "DATEADD", "DATESUB", "TIMEADD", "TIMESUB"}) {
      built->functions_.at(name).unit_arguments = {0};
    }
    Extensions& extensions = RegisteredExtensions();
    std::lock_guard<std::mutex> lock(extensions.mutex);
    for (const RegistryExtension& extension : extensions.list) extension(*built);
    extensions.built = true;
    return built;
  }();
  return *registry;
}

const char* FunctionKindName(FunctionKind kind) {
  switch (kind) {
    case FunctionKind::kScalar:
      return "SCALAR";
    case FunctionKind::kAggregate:
      return "AGGREGATE";
    case FunctionKind::kTable:
      return "TABLE";
  }
  return "SCALAR";
}

void FunctionRegistry::Add(FunctionDefinition definition) {
  std::string name = definition.name;
  functions_[name] = std::move(definition);
}

const FunctionDefinition* FunctionRegistry::Find(std::string_view name) const {
  auto found = functions_.find(Upper(name));
  return found == functions_.end() ? nullptr : &found->second;
}

std::string FunctionRegistry::Suggest(std::string_view name) const {
  std::vector<std::string> names;
  names.reserve(functions_.size());
  for (const auto& [known, unused] : functions_) names.push_back(known);
  return NearestName(name, names);
}

std::vector<const FunctionDefinition*> FunctionRegistry::List() const {
  std::vector<const FunctionDefinition*> list;
  for (const auto& [unused, definition] : functions_) list.push_back(&definition);
  return list;
}

}  // namespace sidestream::functions
