#include "catalog/type_json.h"

#include <array>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace sidestream::catalog {
namespace {

using nlohmann::json;
using types::SqlType;
using types::TypeId;

// Stable names written to disk; they must never change once released.
const char* TypeIdName(TypeId id) {
  switch (id) {
    case TypeId::kBoolean:
      return "BOOLEAN";
    case TypeId::kInt:
      return "INT";
    case TypeId::kBigint:
      return "BIGINT";
    case TypeId::kDouble:
      return "DOUBLE";
    case TypeId::kDecimal:
      return "DECIMAL";
    case TypeId::kString:
      return "STRING";
    case TypeId::kBytes:
      return "BYTES";
    case TypeId::kTimestamp:
      return "TIMESTAMP";
    case TypeId::kDate:
      return "DATE";
    case TypeId::kTime:
      return "TIME";
    case TypeId::kArray:
      return "ARRAY";
    case TypeId::kMap:
      return "MAP";
    case TypeId::kStruct:
      return "STRUCT";
    case TypeId::kNull:
      return "NULL";
  }
  return "UNKNOWN";
}

constexpr std::array kAllTypeIds = {
    TypeId::kBoolean, TypeId::kInt,   TypeId::kBigint,    TypeId::kDouble, TypeId::kDecimal,
    TypeId::kString,  TypeId::kBytes, TypeId::kTimestamp, TypeId::kDate,   TypeId::kTime,
    TypeId::kArray,   TypeId::kMap,   TypeId::kStruct,    TypeId::kNull,
};

Status Malformed(const std::string& what) {
  return Status::InvalidArgument("malformed type JSON: " + what);
}

// Reads member `key` of `object` as an int; InvalidArgument when absent or out of range.
Result<int> ReadInt(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) {
    return Malformed(std::string("member '") + key + "' must be an integer");
  }
  // get<int64_t> works for both signed and unsigned storage of an integer.
  if (it->is_number_unsigned() &&
      it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int>::max())) {
    return Malformed(std::string("member '") + key + "' is out of range");
  }
  int64_t value = it->get<int64_t>();
  if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) {
    return Malformed(std::string("member '") + key + "' is out of range");
  }
  return static_cast<int>(value);
}

Result<SqlType> ReadType(const json& object, int depth);

Result<SqlType> ReadChild(const json& object, const char* key, int depth) {
  auto it = object.find(key);
  if (it == object.end()) return Malformed(std::string("member '") + key + "' is missing");
  return ReadType(*it, depth + 1);
}

Result<SqlType> ReadType(const json& object, int depth) {
  if (depth > kMaxTypeDepth) {
    return Malformed("nested deeper than " + std::to_string(kMaxTypeDepth) + " levels");
  }
  if (!object.is_object()) return Malformed("expected an object, got " + object.dump());
  auto name_it = object.find("type");
  if (name_it == object.end() || !name_it->is_string()) {
    return Malformed("member 'type' must be a string");
  }
  const std::string& name = name_it->get_ref<const std::string&>();
  for (TypeId id : kAllTypeIds) {
    if (name != TypeIdName(id)) continue;
    switch (id) {
      case TypeId::kDecimal: {
        ASSIGN_OR_RAISE(int precision, ReadInt(object, "precision"));
        ASSIGN_OR_RAISE(int scale, ReadInt(object, "scale"));
        return SqlType::Decimal(precision, scale);
      }
      case TypeId::kArray: {
        ASSIGN_OR_RAISE(SqlType element, ReadChild(object, "element", depth));
        return SqlType::Array(std::move(element));
      }
      case TypeId::kMap: {
        ASSIGN_OR_RAISE(SqlType key, ReadChild(object, "key", depth));
        ASSIGN_OR_RAISE(SqlType value, ReadChild(object, "value", depth));
        return SqlType::Map(std::move(key), std::move(value));
      }
      case TypeId::kStruct: {
        auto fields_it = object.find("fields");
        if (fields_it == object.end() || !fields_it->is_array()) {
          return Malformed("member 'fields' must be an array");
        }
        std::vector<SqlType::Field> fields;
        for (const json& field : *fields_it) {
          if (!field.is_object()) return Malformed("a STRUCT field must be an object");
          auto field_name = field.find("name");
          if (field_name == field.end() || !field_name->is_string()) {
            return Malformed("a STRUCT field needs a string 'name'");
          }
          ASSIGN_OR_RAISE(SqlType field_type, ReadChild(field, "type", depth));
          fields.push_back({field_name->get<std::string>(), std::move(field_type)});
        }
        return SqlType::Struct(std::move(fields));
      }
      default:
        return SqlType(id);
    }
  }
  return Malformed("unknown type '" + name + "'");
}

}  // namespace

json TypeToJson(const SqlType& type) {
  json object = json::object();
  object["type"] = TypeIdName(type.id());
  switch (type.id()) {
    case TypeId::kDecimal:
      object["precision"] = type.precision();
      object["scale"] = type.scale();
      break;
    case TypeId::kArray:
      object["element"] = TypeToJson(type.element());
      break;
    case TypeId::kMap:
      object["key"] = TypeToJson(type.key());
      object["value"] = TypeToJson(type.value());
      break;
    case TypeId::kStruct: {
      json fields = json::array();
      for (const auto& field : type.fields()) {
        fields.push_back(json{{"name", field.name}, {"type", TypeToJson(field.type)}});
      }
      object["fields"] = std::move(fields);
      break;
    }
    default:
      break;
  }
  return object;
}

Result<SqlType> TypeFromJson(const json& json) {
  // The reads above check every member's kind before touching it; the catch is the boundary
  // required for library exceptions all the same.
  try {
    return ReadType(json, 0);
  } catch (const nlohmann::json::exception& error) {
    return Malformed(error.what());
  }
}

}  // namespace sidestream::catalog
