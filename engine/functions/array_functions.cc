// ARRAY_* functions, SLICE and GENERATE_SERIES, with ksqlDB's NULL rules: a NULL array
// gives NULL (ARRAY_CONCAT: unless both are NULL, a NULL side is empty); NULL elements are
// values like any other, except for ARRAY_MIN and ARRAY_MAX, which skip them.
#include <algorithm>

#include "functions/function_builder.h"
#include "functions/numbers.h"

namespace sidestream::functions {

using types::SqlType;
using types::TypeId;
using types::Value;

namespace {

using Arguments = std::span<const Value>;

// ARRAY<T> for arguments `arrays` that must all be arrays of one element type (a NULL
// argument fits any); ARRAY<NULL> when every one is NULL.
ResultRule SameArrays(std::string name, std::vector<size_t> arrays) {
  return [name, arrays](const std::vector<SqlType>& arguments) -> Result<SqlType> {
    SqlType common = SqlType::Null();
    for (size_t index : arrays) {
      const SqlType& type = arguments.at(index);
      if (type.id() == TypeId::kNull) continue;
      if (common.id() == TypeId::kNull || common.element().id() == TypeId::kNull) {
        common = type;
      } else if (type.element().id() != TypeId::kNull && type != common) {
        return Status::BindError("Function " + name + " expects arrays of one type but got " +
                                 common.ToString() + " and " + type.ToString());
      }
    }
    return common.id() == TypeId::kNull ? SqlType::Array(SqlType::Null()) : common;
  };
}

// Element types ARRAY_MIN, ARRAY_MAX and ARRAY_SORT can order.
ResultRule OrderableElements(std::string name, ResultRule result) {
  return [name, result](const std::vector<SqlType>& arguments) -> Result<SqlType> {
    const SqlType& array = arguments.at(0);
    if (array.id() == TypeId::kArray &&
        (array.element().is_nested() || array.element().id() == TypeId::kBytes)) {
      return Status::BindError("Function " + name + " cannot order elements of type " +
                               array.element().ToString());
    }
    return result(arguments);
  };
}

bool Contains(const std::vector<Value>& values, const Value& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// Appends the elements of `from` not yet in `out` (first occurrences, in order); with
// `filter`, only those for which it holds.
template <typename Filter>
void AppendDistinct(const std::vector<Value>& from, std::vector<Value>& out, Filter filter) {
  for (const Value& element : from) {
    if (filter(element) && !Contains(out, element)) out.push_back(element);
  }
}

// A strict function of arrays whose result is built by `combine`.
ScalarFactory ArrayFunction(std::function<void(Arguments, std::vector<Value>&)> combine) {
  return [combine](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([combine](Arguments arguments, Value& out) {
      std::vector<Value> elements;
      combine(arguments, elements);
      out = Value::Array(std::move(elements));
      return Status::OK();
    });
  };
}

// ARRAY_MIN and ARRAY_MAX: NULL elements are skipped; NULL when none is left.
ScalarFactory Extreme(bool greatest) {
  return [greatest](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([greatest](Arguments arguments, Value& out) {
      const Value* best = nullptr;
      for (const Value& element : arguments[0].children()) {
        if (element.is_null()) continue;
        int order = best == nullptr ? 0 : Value::Compare(element, *best);
        if (best == nullptr || (greatest ? order > 0 : order < 0)) best = &element;
      }
      out = best == nullptr ? Value::Null() : *best;
      return Status::OK();
    });
  };
}

// ARRAY_JOIN's text for an element: Java's String.valueOf.
void AppendElementText(const Value& element, std::string& out) {
  switch (element.kind()) {
    case TypeId::kNull:
      out += "null";
      break;
    case TypeId::kBoolean:
      out += element.boolean() ? "true" : "false";
      break;
    case TypeId::kDouble:
      out += JavaDoubleString(element.float64());
      break;
    case TypeId::kDecimal:
      types::AppendDecimal(element.decimal(), out);
      break;
    case TypeId::kString:
      out += element.string();
      break;
    default:
      out += std::to_string(element.integer());
  }
}

Result<std::unique_ptr<ScalarFunction>> MakeGenerateSeries(const CallSite& site) {
  bool bigint = site.result.element().id() == TypeId::kBigint;
  bool with_step = site.types.size() == 3;
  return Strict([bigint, with_step](Arguments arguments, Value& out) {
    int64_t start = arguments[0].integer();
    int64_t end = arguments[1].integer();
    int64_t step = with_step ? arguments[2].integer() : (end >= start ? 1 : -1);
    if (step == 0) return Status::InvalidArgument("GENERATE_SERIES step cannot be zero");
    if ((end > start && step < 0) || (end < start && step > 0)) {
      return Status::InvalidArgument("GENERATE_SERIES step has wrong sign");
    }
    constexpr int64_t kMaxElements = 1'000'000;
    if ((static_cast<__int128>(end) - start) / step >= kMaxElements) {
      return Status::InvalidArgument("GENERATE_SERIES would make more than 1000000 elements");
    }
    std::vector<Value> series;
    for (__int128 at = start; step > 0 ? at <= end : at >= end; at += step) {
      series.push_back(bigint ? Value::Bigint(static_cast<int64_t>(at))
                              : Value::Int(static_cast<int32_t>(at)));
    }
    out = Value::Array(std::move(series));
    return Status::OK();
  });
}

}  // namespace

void AddArrayFunctions(FunctionBuilder& add) {
  using A = Accepts;
  add.Scalar("ARRAY_CONCAT", {A::kArray, A::kArray}, 0, SameArrays("ARRAY_CONCAT", {0, 1}),
             "ARRAY_CONCAT(a ARRAY<T>, b ARRAY<T>) -> ARRAY<T>",
             "The elements of a then of b; NULL when both are NULL.", false,
             [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
               return Lenient([](Arguments arguments, Value& out) {
                 if (arguments[0].is_null() && arguments[1].is_null()) {
                   out = Value::Null();
                   return Status::OK();
                 }
                 std::vector<Value> elements;
                 for (const Value& array : arguments) {
                   if (array.is_null()) continue;
                   elements.insert(elements.end(), array.children().begin(),
                                   array.children().end());
                 }
                 out = Value::Array(std::move(elements));
                 return Status::OK();
               });
             });
  add.Scalar("ARRAY_DISTINCT", {A::kArray}, 0, SameAsArgument(0),
             "ARRAY_DISTINCT(a ARRAY<T>) -> ARRAY<T>",
             "The distinct elements of a, in order of first appearance.", false,
             ArrayFunction([](Arguments arguments, std::vector<Value>& out) {
               AppendDistinct(arguments[0].children(), out, [](const Value&) { return true; });
             }));
  add.Scalar("ARRAY_UNION", {A::kArray, A::kArray}, 0, SameArrays("ARRAY_UNION", {0, 1}),
             "ARRAY_UNION(a ARRAY<T>, b ARRAY<T>) -> ARRAY<T>", "The distinct elements of a and b.",
             false, ArrayFunction([](Arguments arguments, std::vector<Value>& out) {
               for (const Value& array : arguments) {
                 AppendDistinct(array.children(), out, [](const Value&) { return true; });
               }
             }));
  add.Scalar("ARRAY_INTERSECT", {A::kArray, A::kArray}, 0, SameArrays("ARRAY_INTERSECT", {0, 1}),
             "ARRAY_INTERSECT(a ARRAY<T>, b ARRAY<T>) -> ARRAY<T>",
             "The distinct elements of a that b holds.", false,
             ArrayFunction([](Arguments arguments, std::vector<Value>& out) {
               const std::vector<Value>& other = arguments[1].children();
               AppendDistinct(arguments[0].children(), out,
                              [&other](const Value& element) { return Contains(other, element); });
             }));
  add.Scalar("ARRAY_EXCEPT", {A::kArray, A::kArray}, 0, SameArrays("ARRAY_EXCEPT", {0, 1}),
             "ARRAY_EXCEPT(a ARRAY<T>, b ARRAY<T>) -> ARRAY<T>",
             "The distinct elements of a that b does not hold.", false,
             ArrayFunction([](Arguments arguments, std::vector<Value>& out) {
               const std::vector<Value>& other = arguments[1].children();
               AppendDistinct(arguments[0].children(), out,
                              [&other](const Value& element) { return !Contains(other, element); });
             }));
  add.Scalar("ARRAY_REMOVE", {A::kArray, A::kAny}, 0, SameAsArgument(0),
             "ARRAY_REMOVE(a ARRAY<T>, x T) -> ARRAY<T>",
             "a without the elements equal to x (NULL removes the NULLs).", false,
             [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
               return Lenient([](Arguments arguments, Value& out) {
                 if (arguments[0].is_null()) {
                   out = Value::Null();
                   return Status::OK();
                 }
                 std::vector<Value> kept;
                 for (const Value& element : arguments[0].children()) {
                   if (element != arguments[1]) kept.push_back(element);
                 }
                 out = Value::Array(std::move(kept));
                 return Status::OK();
               });
             });
  add.Scalar("ARRAY_MAX", {A::kArray}, 0, OrderableElements("ARRAY_MAX", ElementOfArgument(0)),
             "ARRAY_MAX(a ARRAY<T>) -> T", "The largest non-NULL element of a.", false,
             Extreme(true));
  add.Scalar("ARRAY_MIN", {A::kArray}, 0, OrderableElements("ARRAY_MIN", ElementOfArgument(0)),
             "ARRAY_MIN(a ARRAY<T>) -> T", "The smallest non-NULL element of a.", false,
             Extreme(false));
  add.Scalar("ARRAY_SORT", {A::kArray, A::kString}, 1,
             OrderableElements("ARRAY_SORT", SameAsArgument(0)),
             "ARRAY_SORT(a ARRAY<T> [, 'ASC'|'DESC']) -> ARRAY<T>",
             "a sorted, NULLs last; NULL for another direction.", false,
             [](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
               bool with_direction = site.types.size() == 2;
               return Strict([with_direction](Arguments arguments, Value& out) {
                 bool descending = false;
                 if (with_direction) {
                   std::string direction = arguments[1].string();
                   for (char& c : direction)
                     c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                   if (direction != "ASC" && direction != "DESC") {
                     out = Value::Null();
                     return Status::OK();
                   }
                   descending = direction == "DESC";
                 }
                 std::vector<Value> sorted = arguments[0].children();
                 std::stable_sort(sorted.begin(), sorted.end(),
                                  [descending](const Value& a, const Value& b) {
                                    if (a.is_null() || b.is_null())
                                      return !a.is_null() && b.is_null();
                                    int order = Value::Compare(a, b);
                                    return descending ? order > 0 : order < 0;
                                  });
                 out = Value::Array(std::move(sorted));
                 return Status::OK();
               });
             });
  add.Scalar(
      "ARRAY_JOIN", {A::kArray, A::kString}, 1,
      [](const std::vector<SqlType>& arguments) -> Result<SqlType> {
        const SqlType& array = arguments.at(0);
        if (array.id() == TypeId::kArray && array.element().is_nested()) {
          return Status::BindError(
              "Function ARRAY_JOIN joins arrays of primitive types "
              "but got " +
              array.ToString());
        }
        return SqlType::String();
      },
      "ARRAY_JOIN(a ARRAY<T> [, delimiter STRING]) -> STRING",
      "The elements of a as text, joined by delimiter (',' by default; NULL: none).", false,
      [](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
        bool with_delimiter = site.types.size() == 2;
        return Lenient([with_delimiter](Arguments arguments, Value& out) {
          if (arguments[0].is_null()) {
            out = Value::Null();
            return Status::OK();
          }
          std::string_view delimiter = ",";
          if (with_delimiter) {
            delimiter = arguments[1].is_null() ? "" : std::string_view(arguments[1].string());
          }
          std::string& text = Scratch();
          bool first = true;
          for (const Value& element : arguments[0].children()) {
            if (!first) text += delimiter;
            AppendElementText(element, text);
            first = false;
          }
          out.AssignString(text);
          return Status::OK();
        });
      });
  add.Scalar(
      "SLICE", {A::kArray, A::kIntegral, A::kIntegral}, 0, SameAsArgument(0),
      "SLICE(a ARRAY<T>, from INT, to INT) -> ARRAY<T>",
      "Elements from..to of a, counted from 1, both included; NULL when out of range.", false,
      [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
        return Lenient([](Arguments arguments, Value& out) {
          out = Value::Null();
          if (arguments[0].is_null()) return Status::OK();
          const std::vector<Value>& elements = arguments[0].children();
          int64_t size = static_cast<int64_t>(elements.size());
          // Java's List.subList(from - 1, to): a NULL bound is the array's end.
          int64_t begin = arguments[1].is_null() ? 0 : arguments[1].integer() - 1;
          int64_t end = arguments[2].is_null() ? size : arguments[2].integer();
          if (begin < 0 || end > size || begin > end) return Status::OK();
          out = Value::Array(std::vector<Value>(elements.begin() + begin, elements.begin() + end));
          return Status::OK();
        });
      });
  add.Scalar(
      "GENERATE_SERIES", {A::kIntegral, A::kIntegral, A::kIntegral}, 1,
      [](const std::vector<SqlType>& arguments) -> Result<SqlType> {
        bool bigint = arguments[0].id() == TypeId::kBigint || arguments[1].id() == TypeId::kBigint;
        return SqlType::Array(bigint ? SqlType::Bigint() : SqlType::Int());
      },
      "GENERATE_SERIES(start, end [, step]) -> ARRAY<INT> or ARRAY<BIGINT>",
      "start, start + step, ... up to end, included.", false, MakeGenerateSeries);
}

}  // namespace sidestream::functions
