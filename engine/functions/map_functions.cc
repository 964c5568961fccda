// MAP_* functions, AS_MAP and ENTRIES. A MAP value's children alternate keys and values.
#include <algorithm>

#include "functions/function_builder.h"

namespace sidestream::functions {

using types::SqlType;
using types::TypeId;
using types::Value;

namespace {

using Arguments = std::span<const Value>;

// The keys (`keys`) or values of a map as an array.
ScalarFactory MapHalf(bool keys) {
  return [keys](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([keys](Arguments arguments, Value& out) {
      const std::vector<Value>& entries = arguments[0].children();
      std::vector<Value> half;
      half.reserve(entries.size() / 2);
      for (size_t i = keys ? 0 : 1; i < entries.size(); i += 2) half.push_back(entries[i]);
      out = Value::Array(std::move(half));
      return Status::OK();
    });
  };
}

// Sets `key` to `value` in the flattened `entries`, in place when the key is there.
void Put(std::vector<Value>& entries, const Value& key, const Value& value) {
  for (size_t i = 0; i < entries.size(); i += 2) {
    if (entries[i] == key) {
      entries[i + 1] = value;
      return;
    }
  }
  entries.push_back(key);
  entries.push_back(value);
}

}  // namespace

void AddMapFunctions(FunctionBuilder& add) {
  using A = Accepts;
  add.Scalar(
      "MAP_KEYS", {A::kMap}, 0,
      [](const std::vector<SqlType>& arguments) -> Result<SqlType> {
        const SqlType& map = arguments[0];
        return SqlType::Array(map.id() == TypeId::kMap ? map.key() : SqlType::String());
      },
      "MAP_KEYS(m MAP<K, V>) -> ARRAY<K>", "The keys of m, in no particular order.", false,
      MapHalf(true));
  add.Scalar(
      "MAP_VALUES", {A::kMap}, 0,
      [](const std::vector<SqlType>& arguments) -> Result<SqlType> {
        const SqlType& map = arguments[0];
        return SqlType::Array(map.id() == TypeId::kMap ? map.value() : SqlType::Null());
      },
      "MAP_VALUES(m MAP<K, V>) -> ARRAY<V>", "The values of m, in no particular order.", false,
      MapHalf(false));
  add.Scalar(
      "MAP_UNION", {A::kMap, A::kMap}, 0,
      [](const std::vector<SqlType>& arguments) -> Result<SqlType> {
        const SqlType& left = arguments[0];
        const SqlType& right = arguments[1];
        if (left.id() == TypeId::kMap && right.id() == TypeId::kMap && left != right) {
          return Status::BindError("Function MAP_UNION expects maps of one type but got " +
                                   left.ToString() + " and " + right.ToString());
        }
        return left.id() == TypeId::kMap ? left : right;
      },
      "MAP_UNION(a MAP<K, V>, b MAP<K, V>) -> MAP<K, V>",
      "The entries of a and b; b's value wins for a key in both. NULL when both are.", false,
      [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
        return Lenient([](Arguments arguments, Value& out) {
          if (arguments[0].is_null() && arguments[1].is_null()) {
            out = Value::Null();
            return Status::OK();
          }
          std::vector<Value> entries;
          for (const Value& map : arguments) {
            if (map.is_null()) continue;
            const std::vector<Value>& children = map.children();
            for (size_t i = 0; i + 1 < children.size(); i += 2) {
              Put(entries, children[i], children[i + 1]);
            }
          }
          out = Value::Map(std::move(entries));
          return Status::OK();
        });
      });
  add.Scalar(
      "AS_MAP", {A::kArray, A::kArray}, 0,
      [](const std::vector<SqlType>& arguments) -> Result<SqlType> {
        const SqlType& keys = arguments[0];
        if (keys.id() == TypeId::kArray && keys.element().id() != TypeId::kString &&
            keys.element().id() != TypeId::kNull) {
          return Status::BindError("Function AS_MAP expects ARRAY<STRING> keys but got " +
                                   keys.ToString());
        }
        const SqlType& values = arguments[1];
        return SqlType::Map(SqlType::String(),
                            values.id() == TypeId::kArray ? values.element() : SqlType::Null());
      },
      "AS_MAP(keys ARRAY<STRING>, values ARRAY<V>) -> MAP<STRING, V>",
      "Pairs keys with values by position; a key past the values maps to NULL.", false,
      [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
        return Strict([](Arguments arguments, Value& out) {
          const std::vector<Value>& keys = arguments[0].children();
          const std::vector<Value>& values = arguments[1].children();
          std::vector<Value> entries;
          for (size_t i = 0; i < keys.size(); ++i) {
            Put(entries, keys[i], i < values.size() ? values[i] : Value::Null());
          }
          out = Value::Map(std::move(entries));
          return Status::OK();
        });
      });
  add.Scalar(
      "ENTRIES", {A::kMap, A::kBoolean}, 0,
      [](const std::vector<SqlType>& arguments) -> Result<SqlType> {
        const SqlType& map = arguments[0];
        SqlType value = map.id() == TypeId::kMap ? map.value() : SqlType::Null();
        return SqlType::Array(SqlType::Struct({{"K", SqlType::String()}, {"V", value}}));
      },
      "ENTRIES(m MAP<STRING, V>, sorted BOOLEAN) -> ARRAY<STRUCT<K STRING, V V>>",
      "The entries of m as structs, sorted by key when sorted is true.", false,
      [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
        return Lenient([](Arguments arguments, Value& out) {
          if (arguments[0].is_null()) {
            out = Value::Null();
            return Status::OK();
          }
          const std::vector<Value>& children = arguments[0].children();
          std::vector<Value> entries;
          for (size_t i = 0; i + 1 < children.size(); i += 2) {
            entries.push_back(Value::Struct({children[i], children[i + 1]}));
          }
          if (!arguments[1].is_null() && arguments[1].boolean()) {
            std::stable_sort(entries.begin(), entries.end(), [](const Value& a, const Value& b) {
              return Value::Compare(a.children()[0], b.children()[0]) < 0;
            });
          }
          out = Value::Array(std::move(entries));
          return Status::OK();
        });
      });
}

}  // namespace sidestream::functions
