// ksqlDB's test-only functions, as its conformance runner loads them: from
// ksqldb-engine/src/test/java/io/confluent/ksql/function/{udf,udaf} (TestUdf, TestUdtf,
// ThrowingUdtf, BadUdf, WhenCondition, WhenResult, TestUdaf, VarArgUdaf, MiddleVarArgUdaf,
// GenericVarArgUdaf, ObjVarColArgUdaf) and the `ext` folder's udf-example jar (ToStruct). Each
// follows its Java definition: the overloads, the typing and the results.
#include "server/qtt_test_functions.h"

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "functions/aggregate_function.h"
#include "functions/function_builder.h"
#include "functions/numbers.h"
#include "functions/scalar_functions.h"
#include "types/sql_type.h"
#include "types/value.h"

namespace sidestream::server {

using functions::AggregateFunction;
using functions::FunctionDefinition;
using functions::FunctionKind;
using functions::FunctionRegistry;
using types::SqlType;
using types::TypeId;
using types::Value;

namespace {

// ksqlDB's message when no overload of a function takes the call's argument types.
Status NotAccepted(const std::string& name, const std::vector<SqlType>& types) {
  std::string list;
  for (const SqlType& type : types) {
    if (!list.empty()) list += ", ";
    list += type.ToString();
  }
  return Status::BindError("Function '" + name + "' does not accept parameters (" + list + ").");
}

bool IsNull(const SqlType& type) { return type.id() == TypeId::kNull; }
bool Is(const SqlType& type, TypeId id) { return IsNull(type) || type.id() == id; }
// A Java long parameter: BIGINT, or INT widened to it.
bool IsLong(const SqlType& type) { return IsNull(type) || type.is_integral(); }

// The STRUCT<A VARCHAR> that TestUdf, TestUdtf and ToStruct declare.
SqlType StructA() { return SqlType::Struct({{"A", SqlType::String()}}); }
bool IsStructA(const SqlType& type) { return IsNull(type) || type == StructA(); }

// Java's String.length(): UTF-16 code units.
int64_t JavaLength(const std::string& text) {
  int64_t length = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++length;  // a code point starts here
    if (c >= 0xF0) ++length;           // beyond the BMP: a surrogate pair
  }
  return length;
}

FunctionDefinition Definition(const std::string& name, FunctionKind kind, int min_arguments,
                              int max_arguments, std::string signature) {
  FunctionDefinition definition;
  definition.name = name;
  definition.kind = kind;
  definition.min_arguments = min_arguments;
  definition.max_arguments = max_arguments;
  definition.signature = std::move(signature);
  definition.description = "A test function of ksqlDB's conformance runner.";
  return definition;
}

// ---- UDAFs ----

// VarArgUdaf and MiddleVarArgUdaf: the sum of the BIGINT argument (0 when NULL) and the
// lengths of the non-NULL strings; MID_VAR_ARG's map() adds its two initial arguments.
// Plain Udafs, not TableUdafs: nothing to undo.
class LongAndLengths : public AggregateFunction {
 public:
  explicit LongAndLengths(int64_t constant) : constant_(constant) {}
  Value Initial() const override { return Value::Bigint(0); }
  Status Add(Value& state, const std::vector<Value>& arguments) const override {
    int64_t sum = state.integer();
    if (!arguments.empty() && !arguments[0].is_null()) sum += arguments[0].integer();
    for (size_t i = 1; i < arguments.size(); ++i) {
      if (!arguments[i].is_null()) sum += JavaLength(arguments[i].string());
    }
    state = Value::Bigint(sum);
    return Status::OK();
  }
  void Undo(Value&, const std::vector<Value>&) const override {}
  void Merge(Value& state, const Value& other) const override {
    state = Value::Bigint(state.integer() + other.integer());
  }
  Value Result(const Value& state) const override {
    return Value::Bigint(state.integer() + constant_);
  }

 private:
  int64_t constant_;
};

// GenericVarArgUdaf and ObjVarColArgUdaf: the first argument of every record whose
// arguments are all non-NULL, in order.
class FirstWhenAllPresent : public AggregateFunction {
 public:
  Value Initial() const override { return Value::Array({}); }
  Status Add(Value& state, const std::vector<Value>& arguments) const override {
    for (const Value& argument : arguments) {
      if (argument.is_null()) return Status::OK();
    }
    state.MutableChildren().push_back(arguments.at(0));
    return Status::OK();
  }
  void Undo(Value&, const std::vector<Value>&) const override {}
  void Merge(Value& state, const Value& other) const override {
    auto& children = state.MutableChildren();
    children.insert(children.end(), other.children().begin(), other.children().end());
  }
  Value Result(const Value& state) const override { return state; }
};

// TestUdaf's overloads. kLong and kInt are TableUdafs (they undo); the others are not.
enum class TestUdafKind { kLong, kInt, kDouble, kStringLength, kStruct };

class TestUdaf : public AggregateFunction {
 public:
  TestUdaf(TestUdafKind kind, int64_t initial_length) : kind_(kind), initial_(initial_length) {}
  Value Initial() const override {
    switch (kind_) {
      case TestUdafKind::kDouble:
        return Value::Double(0.0);
      case TestUdafKind::kStringLength:
        return Value::Bigint(initial_);
      case TestUdafKind::kStruct:
        return Value::Struct({Value::Int(0), Value::Int(0)});
      default:
        return Value::Bigint(0);
    }
  }
  // A NULL input is skipped: the Java bodies would throw on it.
  Status Add(Value& state, const std::vector<Value>& arguments) const override {
    const Value& input = arguments.at(0);
    if (input.is_null()) return Status::OK();
    switch (kind_) {
      case TestUdafKind::kDouble:
        state = Value::Double(state.float64() + input.float64());
        break;
      case TestUdafKind::kStringLength:
        state = Value::Bigint(state.integer() + JavaLength(input.string()));
        break;
      case TestUdafKind::kStruct:
        AddStruct(state, input);
        break;
      default:
        state = Value::Bigint(state.integer() + input.integer());
    }
    return Status::OK();
  }
  void Undo(Value& state, const std::vector<Value>& arguments) const override {
    const Value& input = arguments.at(0);
    if (input.is_null()) return;
    if (kind_ == TestUdafKind::kLong || kind_ == TestUdafKind::kInt) {
      state = Value::Bigint(state.integer() - input.integer());
    }
  }
  void Merge(Value& state, const Value& other) const override {
    switch (kind_) {
      case TestUdafKind::kDouble:
        state = Value::Double(state.float64() + other.float64());
        break;
      case TestUdafKind::kStruct:
        AddStruct(state, other);
        break;
      default:
        state = Value::Bigint(state.integer() + other.integer());
    }
  }
  Value Result(const Value& state) const override { return state; }

 private:
  // {SUM(in->A), SUM(in->B)} as INTs (Java int arithmetic wraps).
  static void AddStruct(Value& state, const Value& input) {
    std::vector<Value> fields = state.children();
    for (size_t i = 0; i < 2 && i < input.children().size(); ++i) {
      const Value& field = input.children()[i];
      if (field.is_null()) continue;
      uint32_t sum =
          static_cast<uint32_t>(fields[i].integer()) + static_cast<uint32_t>(field.integer());
      fields[i] = Value::Int(static_cast<int32_t>(sum));
    }
    state = Value::Struct(std::move(fields));
  }

  TestUdafKind kind_;
  int64_t initial_;
};

Result<TestUdafKind> TestUdafOverload(const std::vector<SqlType>& types) {
  if (types.size() == 1) {
    switch (types[0].id()) {
      case TypeId::kBigint:
      case TypeId::kNull:
        return TestUdafKind::kLong;
      case TypeId::kInt:
        return TestUdafKind::kInt;
      case TypeId::kDouble:
        return TestUdafKind::kDouble;
      case TypeId::kStruct:
        if (types[0] == SqlType::Struct({{"A", SqlType::Int()}, {"B", SqlType::Int()}})) {
          return TestUdafKind::kStruct;
        }
        break;
      default:
        break;
    }
  } else if (types.size() == 2 && Is(types[0], TypeId::kString) && Is(types[1], TypeId::kString)) {
    return TestUdafKind::kStringLength;
  }
  return NotAccepted("TEST_UDAF", types);
}

FunctionDefinition TestUdafDefinition() {
  FunctionDefinition definition = Definition(
      "TEST_UDAF", FunctionKind::kAggregate, 1, 2,
      "TEST_UDAF(x INT|BIGINT|DOUBLE|STRUCT<A INT, B INT>) | TEST_UDAF(s STRING, initial STRING)");
  definition.literal_arguments = {1};
  definition.resolve = [](const std::vector<SqlType>& types) -> Result<SqlType> {
    ASSIGN_OR_RAISE(TestUdafKind kind, TestUdafOverload(types));
    switch (kind) {
      case TestUdafKind::kDouble:
        return SqlType::Double();
      case TestUdafKind::kStruct:
        return types[0];
      default:
        return SqlType::Bigint();
    }
  };
  definition.aggregate_implementation =
      [](const std::vector<SqlType>& types, const std::vector<Value>& literals,
         const SqlType&) -> Result<std::unique_ptr<AggregateFunction>> {
    ASSIGN_OR_RAISE(TestUdafKind kind, TestUdafOverload(types));
    int64_t initial = 0;
    if (kind == TestUdafKind::kStringLength) {
      if (literals.size() < 2 || literals[1].is_null()) {
        return Status::InvalidArgument("TEST_UDAF needs a non-NULL initial string");
      }
      initial = JavaLength(literals[1].string());
    }
    return std::unique_ptr<AggregateFunction>(std::make_unique<TestUdaf>(kind, initial));
  };
  return definition;
}

// VAR_ARG(BIGINT, STRING...) and MID_VAR_ARG(BIGINT, STRING..., INT, INT); the last two
// of MID_VAR_ARG are its factory's arguments, so literals.
FunctionDefinition VarArgDefinition(bool middle) {
  const std::string name = middle ? "MID_VAR_ARG" : "VAR_ARG";
  FunctionDefinition definition =
      Definition(name, FunctionKind::kAggregate, middle ? 3 : 1, -1,
                 middle ? "MID_VAR_ARG(x BIGINT, s STRING..., first INT, second INT) -> BIGINT"
                        : "VAR_ARG(x BIGINT, s STRING...) -> BIGINT");
  const size_t tail = middle ? 2 : 0;
  definition.literal_tail = static_cast<int>(tail);
  definition.resolve = [name, tail](const std::vector<SqlType>& types) -> Result<SqlType> {
    bool fits = IsLong(types.at(0));
    for (size_t i = 1; i + tail < types.size(); ++i) fits = fits && Is(types[i], TypeId::kString);
    for (size_t i = types.size() - tail; i < types.size(); ++i) {
      fits = fits && Is(types[i], TypeId::kInt);
    }
    if (!fits) return NotAccepted(name, types);
    return SqlType::Bigint();
  };
  definition.aggregate_implementation =
      [tail](const std::vector<SqlType>& types, const std::vector<Value>& literals,
             const SqlType&) -> Result<std::unique_ptr<AggregateFunction>> {
    int64_t constant = 0;
    for (size_t i = types.size() - tail; i < types.size(); ++i) {
      if (literals.at(i).is_null()) return Status::InvalidArgument("MID_VAR_ARG: NULL argument");
      constant += literals[i].integer();
    }
    return std::unique_ptr<AggregateFunction>(std::make_unique<LongAndLengths>(constant));
  };
  return definition;
}

// GENERIC_VAR_ARG(A, B, C...) -> ARRAY<A>: the variadic arguments share one type.
// OBJ_COL_ARG(INT, ANY...) -> ARRAY<INT>.
FunctionDefinition FirstWhenAllPresentDefinition(bool generic) {
  const std::string name = generic ? "GENERIC_VAR_ARG" : "OBJ_COL_ARG";
  FunctionDefinition definition =
      Definition(name, FunctionKind::kAggregate, generic ? 2 : 1, -1,
                 generic ? "GENERIC_VAR_ARG(a A, b B, c C...) -> ARRAY<A>"
                         : "OBJ_COL_ARG(x INT, y ANY...) -> ARRAY<INT>");
  definition.resolve = [name, generic](const std::vector<SqlType>& types) -> Result<SqlType> {
    if (!generic) {
      if (!Is(types.at(0), TypeId::kInt)) return NotAccepted(name, types);
      return SqlType::Array(SqlType::Int());
    }
    const SqlType* variadic = nullptr;
    for (size_t i = 2; i < types.size(); ++i) {
      if (IsNull(types[i])) continue;
      if (variadic == nullptr) {
        variadic = &types[i];
      } else if (!(*variadic == types[i])) {
        return NotAccepted(name, types);
      }
    }
    return SqlType::Array(types.at(0));
  };
  definition.aggregate_implementation =
      [](const std::vector<SqlType>&, const std::vector<Value>&,
         const SqlType&) -> Result<std::unique_ptr<AggregateFunction>> {
    return std::unique_ptr<AggregateFunction>(std::make_unique<FirstWhenAllPresent>());
  };
  return definition;
}

// ---- UDFs ----

// TestUdf's overloads; each but the STRUCT ones returns its Java method's name.
enum class TestUdfOverload {
  kIntString,
  kLongString,
  kLongLongString,
  kLongVarargs,
  kStruct,
  kReturnStruct
};

// Java's resolution: an exact match first, then with INT widened to BIGINT, varargs last.
Result<TestUdfOverload> PickTestUdf(const std::vector<SqlType>& types) {
  const size_t n = types.size();
  if (n == 0) return TestUdfOverload::kReturnStruct;
  if (n == 1 && types[0].id() == TypeId::kStruct) {
    if (IsStructA(types[0])) return TestUdfOverload::kStruct;
    return NotAccepted("TEST_UDF", types);
  }
  if (n == 2 && Is(types[1], TypeId::kString)) {
    if (types[0].id() == TypeId::kInt) return TestUdfOverload::kIntString;
    if (IsLong(types[0])) return TestUdfOverload::kLongString;
  }
  if (n == 3 && IsLong(types[0]) && IsLong(types[1]) && Is(types[2], TypeId::kString)) {
    return TestUdfOverload::kLongLongString;
  }
  bool longs = true;
  for (const SqlType& type : types) longs = longs && IsLong(type);
  if (longs) return TestUdfOverload::kLongVarargs;
  return NotAccepted("TEST_UDF", types);
}

const char* MethodName(TestUdfOverload overload) {
  switch (overload) {
    case TestUdfOverload::kIntString:
      return "doStuffIntString";
    case TestUdfOverload::kLongString:
      return "doStuffLongString";
    case TestUdfOverload::kLongLongString:
      return "doStuffLongLongString";
    default:
      return "doStuffLongVarargs";
  }
}

FunctionDefinition TestUdfDefinition() {
  FunctionDefinition definition =
      Definition("TEST_UDF", FunctionKind::kScalar, 0, -1,
                 "TEST_UDF() -> STRUCT<A STRING> | TEST_UDF(s STRUCT<A STRING>) -> STRING | "
                 "TEST_UDF(INT|BIGINT, STRING) | TEST_UDF(BIGINT, BIGINT, STRING) | "
                 "TEST_UDF(BIGINT...) -> STRING");
  definition.resolve = [](const std::vector<SqlType>& types) -> Result<SqlType> {
    ASSIGN_OR_RAISE(TestUdfOverload overload, PickTestUdf(types));
    return overload == TestUdfOverload::kReturnStruct ? StructA() : SqlType::String();
  };
  definition.implementation =
      [](const functions::CallSite& site) -> Result<std::unique_ptr<functions::ScalarFunction>> {
    ASSIGN_OR_RAISE(TestUdfOverload overload, PickTestUdf(site.types));
    if (overload == TestUdfOverload::kReturnStruct) {
      return functions::Lenient([](std::span<const Value>, Value& out) {
        out = Value::Struct({Value::String("foo")});
        return Status::OK();
      });
    }
    if (overload == TestUdfOverload::kStruct) {
      // struct.getString("A"); a NULL struct throws in Java, an error here.
      return functions::Lenient([](std::span<const Value> arguments, Value& out) {
        if (arguments[0].is_null()) return Status::InvalidArgument("TEST_UDF: NULL struct");
        out = arguments[0].children().at(0);
        return Status::OK();
      });
    }
    std::string method = MethodName(overload);
    return functions::Lenient([method](std::span<const Value>, Value& out) {
      out = Value::String(method);
      return Status::OK();
    });
  };
  return definition;
}

// ToStruct (the udf-example jar): wraps a string in a STRUCT<A VARCHAR>.
FunctionDefinition ToStructDefinition() {
  FunctionDefinition definition =
      Definition("TOSTRUCT", FunctionKind::kScalar, 1, 1, "TOSTRUCT(s STRING) -> STRUCT<A STRING>");
  definition.resolve = [](const std::vector<SqlType>& types) -> Result<SqlType> {
    if (!Is(types.at(0), TypeId::kString)) return NotAccepted("TOSTRUCT", types);
    return StructA();
  };
  definition.implementation =
      [](const functions::CallSite&) -> Result<std::unique_ptr<functions::ScalarFunction>> {
    return functions::Lenient([](std::span<const Value> arguments, Value& out) {
      out = Value::Struct({arguments[0]});
      return Status::OK();
    });
  };
  return definition;
}

// BadUdf: blowUp(INT) -> STRING throws; mightThrow(BOOLEAN) -> INT throws when true, else 0;
// returnNull(STRING) -> STRING is NULL on every other call (the first included), else its
// argument. A NULL for Java's int or boolean parameter throws too.
enum class BadUdfOverload { kBlowUp, kMightThrow, kReturnNull };

Result<BadUdfOverload> PickBadUdf(const std::vector<SqlType>& types) {
  if (types.size() == 1) {
    if (types[0].id() == TypeId::kInt) return BadUdfOverload::kBlowUp;
    if (types[0].id() == TypeId::kBoolean) return BadUdfOverload::kMightThrow;
    if (Is(types[0], TypeId::kString)) return BadUdfOverload::kReturnNull;
  }
  return NotAccepted("BAD_UDF", types);
}

FunctionDefinition BadUdfDefinition() {
  FunctionDefinition definition =
      Definition("BAD_UDF", FunctionKind::kScalar, 1, 1,
                 "BAD_UDF(INT) -> STRING | BAD_UDF(BOOLEAN) -> INT | BAD_UDF(STRING) -> STRING");
  definition.resolve = [](const std::vector<SqlType>& types) -> Result<SqlType> {
    ASSIGN_OR_RAISE(BadUdfOverload overload, PickBadUdf(types));
    return overload == BadUdfOverload::kMightThrow ? SqlType::Int() : SqlType::String();
  };
  definition.implementation =
      [](const functions::CallSite& site) -> Result<std::unique_ptr<functions::ScalarFunction>> {
    ASSIGN_OR_RAISE(BadUdfOverload overload, PickBadUdf(site.types));
    switch (overload) {
      case BadUdfOverload::kBlowUp:
        return functions::Lenient(
            [](std::span<const Value>, Value&) { return Status::InvalidArgument("boom!"); });
      case BadUdfOverload::kMightThrow:
        return functions::Lenient([](std::span<const Value> arguments, Value& out) {
          if (arguments[0].is_null() || arguments[0].boolean()) {
            return Status::InvalidArgument("You asked me to throw...");
          }
          out = Value::Int(0);
          return Status::OK();
        });
      case BadUdfOverload::kReturnNull:
        break;
    }
    // The Java object's counter, one per call site.
    auto calls = std::make_shared<std::atomic<int64_t>>(0);
    return functions::Lenient([calls](std::span<const Value> arguments, Value& out) {
      out = calls->fetch_add(1) % 2 == 0 ? Value::Null() : arguments[0];
      return Status::OK();
    });
  };
  return definition;
}

// WhenCondition(BOOLEAN, BOOLEAN) -> BOOLEAN and WhenResult(INT, BOOLEAN) -> INT: the first
// argument, or an error when the second is false (CASE evaluated a branch it should not).
FunctionDefinition WhenDefinition(bool condition) {
  const std::string name = condition ? "WHENCONDITION" : "WHENRESULT";
  const TypeId first = condition ? TypeId::kBoolean : TypeId::kInt;
  FunctionDefinition definition =
      Definition(name, FunctionKind::kScalar, 2, 2,
                 name + (condition ? "(value BOOLEAN, should_be_evaluated BOOLEAN) -> BOOLEAN"
                                   : "(value INT, should_be_evaluated BOOLEAN) -> INT"));
  definition.resolve = [name, first](const std::vector<SqlType>& types) -> Result<SqlType> {
    if (!Is(types.at(0), first) || !Is(types.at(1), TypeId::kBoolean)) {
      return NotAccepted(name, types);
    }
    return SqlType(first == TypeId::kBoolean ? SqlType::Boolean() : SqlType::Int());
  };
  const std::string message = condition ? "When condition in case is not running lazily!"
                                        : "Then expression in case is not running lazily!";
  definition.implementation =
      [message](const functions::CallSite&) -> Result<std::unique_ptr<functions::ScalarFunction>> {
    return functions::Lenient([message](std::span<const Value> arguments, Value& out) {
      if (arguments[0].is_null() || arguments[1].is_null() || !arguments[1].boolean()) {
        return Status::InvalidArgument(message);
      }
      out = arguments[0];
      return Status::OK();
    });
  };
  return definition;
}

// ---- UDTFs ----

// Java's String.valueOf of an argument TestUdtf receives (Struct's toString for the
// STRUCT<A VARCHAR>: its non-NULL fields, "Struct{A=bar}").
Result<std::string> JavaString(const Value& value) {
  switch (value.kind()) {
    case TypeId::kInt:
    case TypeId::kBigint:
      return std::to_string(value.integer());
    case TypeId::kDouble:
      return functions::JavaDoubleString(value.float64());
    case TypeId::kBoolean:
      return std::string(value.boolean() ? "true" : "false");
    case TypeId::kString:
      return value.string();
    case TypeId::kDecimal:
      return types::DecimalToString(value.decimal());
    case TypeId::kStruct: {
      const Value& a = value.children().at(0);
      return a.is_null() ? std::string("Struct{}") : "Struct{A=" + a.string() + "}";
    }
    default:
      // A NULL where Java takes a primitive or calls a method: it throws.
      return Status::InvalidArgument("TEST_UDTF cannot take a NULL here");
  }
}

// The first element of an ARRAY, or the first value of a MAP (each maps one key here).
Result<const Value*> FirstOf(const Value& collection) {
  if (collection.kind() == TypeId::kArray && !collection.children().empty()) {
    return &collection.children()[0];
  }
  if (collection.kind() == TypeId::kMap && collection.children().size() >= 2) {
    return &collection.children()[1];
  }
  return Status::InvalidArgument("TEST_UDTF needs a non-empty ARRAY or MAP");
}

// standardParams, parameterizedListParams and parameterizedMapParams: seven rows, the
// arguments (or their collections' first values) as strings; listXReturn: the argument.
Status TestUdtf(std::span<const Value> arguments, std::vector<Value>& rows) {
  if (arguments.size() == 1) {
    const Value& value = arguments[0];
    if (value.kind() == TypeId::kDecimal) {
      // listBigDecimalReturnWithSchemaProvider returns DECIMAL(30, 10).
      types::Decimal decimal = value.decimal();
      rows.push_back(
          Value::DecimalValue(functions::RescaleHalfUp(decimal.unscaled, decimal.scale, 10), 10));
    } else {
      rows.push_back(value);
    }
    return Status::OK();
  }
  for (const Value& argument : arguments) {
    const Value* value = &argument;
    if (argument.kind() == TypeId::kArray || argument.kind() == TypeId::kMap) {
      ASSIGN_OR_RAISE(value, FirstOf(argument));
    }
    ASSIGN_OR_RAISE(std::string text, JavaString(*value));
    rows.push_back(Value::String(std::move(text)));
  }
  return Status::OK();
}

// ThrowingUdtf.throwIfTrue: throws when its argument is true, else one row of it.
Status ThrowingUdtf(std::span<const Value> arguments, std::vector<Value>& rows) {
  if (arguments[0].is_null()) return Status::InvalidArgument("THROWING_UDTF: NULL argument");
  if (arguments[0].boolean()) return Status::InvalidArgument("You asked me to throw...");
  rows.push_back(arguments[0]);
  return Status::OK();
}

// TestUdtf's typing: one INT, BIGINT, DOUBLE, BOOLEAN, STRING, DECIMAL or STRUCT<A VARCHAR>
// (the same type back, DECIMAL(30, 10) for a DECIMAL), or the seven of standardParams, as
// they are, as ARRAYs, or as MAPs with STRING keys (the first may have BIGINT keys).
Result<SqlType> TestUdtfType(const std::vector<SqlType>& types) {
  if (types.size() == 1) {
    const SqlType& type = types[0];
    switch (type.id()) {
      case TypeId::kInt:
      case TypeId::kBigint:
      case TypeId::kDouble:
      case TypeId::kBoolean:
      case TypeId::kString:
        return type;
      case TypeId::kDecimal:
        return SqlType::Decimal(30, 10);
      case TypeId::kStruct:
        if (IsStructA(type)) return type;
        break;
      default:
        break;
    }
    return NotAccepted("TEST_UDTF", types);
  }
  const TypeId expected[] = {TypeId::kInt,    TypeId::kBigint,  TypeId::kDouble, TypeId::kBoolean,
                             TypeId::kString, TypeId::kDecimal, TypeId::kStruct};
  if (types.size() != 7) return NotAccepted("TEST_UDTF", types);
  const TypeId shape = types[0].id();
  for (size_t i = 0; i < 7; ++i) {
    const SqlType& type = types[i];
    if (type.id() != shape && !(shape == TypeId::kInt && type.id() == expected[i])) {
      return NotAccepted("TEST_UDTF", types);
    }
    const SqlType* element = &type;
    if (shape == TypeId::kArray) {
      element = &type.element();
    } else if (shape == TypeId::kMap) {
      const bool key_ok =
          type.key().id() == TypeId::kString || (i == 0 && type.key().id() == TypeId::kBigint);
      if (!key_ok) return NotAccepted("TEST_UDTF", types);
      element = &type.value();
    } else if (shape != TypeId::kInt) {
      return NotAccepted("TEST_UDTF", types);
    }
    const bool fits =
        expected[i] == TypeId::kStruct ? IsStructA(*element) : element->id() == expected[i];
    if (!fits) return NotAccepted("TEST_UDTF", types);
  }
  return SqlType::String();
}

FunctionDefinition TestUdtfDefinition() {
  FunctionDefinition definition =
      Definition("TEST_UDTF", FunctionKind::kTable, 1, 7,
                 "TEST_UDTF(x) -> x | TEST_UDTF(INT, BIGINT, DOUBLE, BOOLEAN, STRING, DECIMAL, "
                 "STRUCT<A STRING>) -> STRING (or ARRAYs or MAPs of them)");
  definition.resolve = TestUdtfType;
  definition.table_implementation = &TestUdtf;
  return definition;
}

FunctionDefinition ThrowingUdtfDefinition() {
  FunctionDefinition definition = Definition("THROWING_UDTF", FunctionKind::kTable, 1, 1,
                                             "THROWING_UDTF(should_throw BOOLEAN) -> BOOLEAN");
  definition.resolve = [](const std::vector<SqlType>& types) -> Result<SqlType> {
    if (!Is(types.at(0), TypeId::kBoolean)) return NotAccepted("THROWING_UDTF", types);
    return SqlType::Boolean();
  };
  definition.table_implementation = &ThrowingUdtf;
  return definition;
}

}  // namespace

void AddQttTestFunctions(FunctionRegistry& registry) {
  registry.Add(BadUdfDefinition());
  registry.Add(WhenDefinition(/*condition=*/true));
  registry.Add(WhenDefinition(/*condition=*/false));
  registry.Add(FirstWhenAllPresentDefinition(/*generic=*/true));
  registry.Add(FirstWhenAllPresentDefinition(/*generic=*/false));
  registry.Add(TestUdfDefinition());
  registry.Add(TestUdtfDefinition());
  registry.Add(ThrowingUdtfDefinition());
  registry.Add(VarArgDefinition(/*middle=*/false));
  registry.Add(VarArgDefinition(/*middle=*/true));
  registry.Add(TestUdafDefinition());
  registry.Add(ToStructDefinition());
}

}  // namespace sidestream::server
