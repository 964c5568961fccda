// JSON_* functions over STRING values that hold JSON text. nlohmann's ordered_json keeps
// an object's keys in document order, as ksqlDB's Jackson does; it is used without
// exceptions: unparseable text is discarded, and invalid UTF-8 is replaced when written.
#include <absl/strings/escaping.h>

#include <nlohmann/json.hpp>

#include "functions/function_builder.h"

namespace sidestream::functions {

using types::SqlType;
using types::TypeId;
using types::Value;

namespace {

using Arguments = std::span<const Value>;
using Json = nlohmann::ordered_json;

Json Parse(const std::string& text) { return Json::parse(text, nullptr, false); }

std::string Write(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Status NotJson(const std::string& text) {
  return Status::InvalidArgument("Invalid JSON format: " + text);
}

// A strict function of one JSON text whose answer `answer` computes from the parsed
// document; unparseable text is an error, as in ksqlDB.
ScalarFactory OnDocument(std::function<void(const Json&, Value&)> answer) {
  return [answer](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([answer](Arguments arguments, Value& out) {
      Json document = Parse(arguments[0].string());
      if (document.is_discarded()) return NotJson(arguments[0].string());
      answer(document, out);
      return Status::OK();
    });
  };
}

// JSON_ARRAY_CONTAINS: does a JSON element equal the SQL value? Numbers compare by value
// within their kind (integers with INT and BIGINT, floating point with DOUBLE).
bool JsonEquals(const Json& element, const Value& value) {
  switch (value.kind()) {
    case TypeId::kNull:
      return element.is_null();
    case TypeId::kBoolean:
      return element.is_boolean() && element.get<bool>() == value.boolean();
    case TypeId::kInt:
    case TypeId::kBigint:
      return element.is_number_integer() && element.get<int64_t>() == value.integer();
    case TypeId::kDouble:
      return element.is_number_float() && element.get<double>() == value.float64();
    case TypeId::kString:
      return element.is_string() && element.get_ref<const std::string&>() == value.string();
    default:
      return false;
  }
}

// TO_JSON_STRING's rendering, as ksqlDB's JSON format writes each type.
Json ToJson(const Value& value, const SqlType& type) {
  switch (value.kind()) {
    case TypeId::kNull:
      return nullptr;
    case TypeId::kBoolean:
      return value.boolean();
    case TypeId::kInt:
    case TypeId::kBigint:
    case TypeId::kTimestamp:
    case TypeId::kDate:
    case TypeId::kTime:
      return value.integer();
    case TypeId::kDouble:
      return value.float64();
    case TypeId::kDecimal: {
      std::string text;
      types::AppendDecimal(value.decimal(), text);
      return Json::parse(text, nullptr, false);
    }
    case TypeId::kString:
      return value.string();
    case TypeId::kBytes:
      return absl::Base64Escape(value.string());
    case TypeId::kArray: {
      Json array = Json::array();
      const SqlType& element = type.id() == TypeId::kArray ? type.element() : SqlType::Null();
      for (const Value& child : value.children()) array.push_back(ToJson(child, element));
      return array;
    }
    case TypeId::kMap: {
      Json object = Json::object();
      const std::vector<Value>& entries = value.children();
      const SqlType& entry = type.id() == TypeId::kMap ? type.value() : SqlType::Null();
      for (size_t i = 0; i + 1 < entries.size(); i += 2) {
        std::string key;
        if (entries[i].kind() == TypeId::kString) {
          key = entries[i].string();
        } else {
          key = Write(ToJson(entries[i], SqlType::Null()));
        }
        object[key] = ToJson(entries[i + 1], entry);
      }
      return object;
    }
    case TypeId::kStruct: {
      Json object = Json::object();
      const std::vector<Value>& fields = value.children();
      for (size_t i = 0; i < fields.size(); ++i) {
        bool named = type.id() == TypeId::kStruct && i < type.fields().size();
        object[named ? type.fields()[i].name : std::to_string(i)] =
            ToJson(fields[i], named ? type.fields()[i].type : SqlType::Null());
      }
      return object;
    }
  }
  return nullptr;
}

}  // namespace

void AddJsonFunctions(FunctionBuilder& add) {
  using A = Accepts;
  const SqlType kString = SqlType::String();
  add.Scalar("IS_JSON_STRING", {A::kString}, 0, Returns(SqlType::Boolean()),
             "IS_JSON_STRING(s STRING) -> BOOLEAN", "True when s parses as JSON.", false,
             [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
               return Lenient([](Arguments arguments, Value& out) {
                 out =
                     Value::Boolean(!arguments[0].is_null() && Json::accept(arguments[0].string()));
                 return Status::OK();
               });
             });
  add.Scalar("JSON_ARRAY_LENGTH", {A::kString}, 0, Returns(SqlType::Int()),
             "JSON_ARRAY_LENGTH(json STRING) -> INT",
             "The number of elements of a JSON array; NULL when json is not an array.", false,
             OnDocument([](const Json& document, Value& out) {
               out = document.is_array() ? Value::Int(static_cast<int32_t>(document.size()))
                                         : Value::Null();
             }));
  add.Scalar("JSON_KEYS", {A::kString}, 0, Returns(SqlType::Array(kString)),
             "JSON_KEYS(json STRING) -> ARRAY<STRING>",
             "The keys of a JSON object, in order; NULL when json is not an object.", false,
             OnDocument([](const Json& document, Value& out) {
               if (!document.is_object()) {
                 out = Value::Null();
                 return;
               }
               std::vector<Value> keys;
               for (const auto& item : document.items()) keys.push_back(Value::String(item.key()));
               out = Value::Array(std::move(keys));
             }));
  add.Scalar(
      "JSON_RECORDS", {A::kString}, 0, Returns(SqlType::Map(kString, kString)),
      "JSON_RECORDS(json STRING) -> MAP<STRING, STRING>",
      "The entries of a JSON object, each value as JSON text (a string as its text).", false,
      OnDocument([](const Json& document, Value& out) {
        if (!document.is_object()) {
          out = Value::Null();
          return;
        }
        std::vector<Value> entries;
        for (const auto& item : document.items()) {
          entries.push_back(Value::String(item.key()));
          entries.push_back(Value::String(item.value().is_string() ? item.value().get<std::string>()
                                                                   : Write(item.value())));
        }
        out = Value::Map(std::move(entries));
      }));
  add.Scalar("JSON_ARRAY_CONTAINS", {A::kString, A::kAny}, 0, Returns(SqlType::Boolean()),
             "JSON_ARRAY_CONTAINS(json STRING, x) -> BOOLEAN",
             "True when the JSON array holds x; false for anything but an array.", false,
             [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
               return Lenient([](Arguments arguments, Value& out) {
                 out = Value::Boolean(false);
                 if (arguments[0].is_null()) return Status::OK();
                 Json document = Parse(arguments[0].string());
                 if (!document.is_array()) return Status::OK();
                 for (const Json& element : document) {
                   if (JsonEquals(element, arguments[1])) {
                     out = Value::Boolean(true);
                     break;
                   }
                 }
                 return Status::OK();
               });
             });
  add.Scalar("JSON_CONCAT", {A::kString}, 0, Returns(kString),
             "JSON_CONCAT(json STRING, ...) -> STRING",
             "Merges JSON objects (a later key wins); anything else is concatenated as arrays.",
             true, [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
               return Strict([](Arguments arguments, Value& out) {
                 std::vector<Json> documents;
                 bool all_objects = true;
                 for (const Value& argument : arguments) {
                   documents.push_back(Parse(argument.string()));
                   if (documents.back().is_discarded()) return NotJson(argument.string());
                   all_objects = all_objects && documents.back().is_object();
                 }
                 Json result = all_objects ? Json::object() : Json::array();
                 for (Json& document : documents) {
                   if (all_objects) {
                     for (auto& item : document.items())
                       result[item.key()] = std::move(item.value());
                   } else if (document.is_array()) {
                     for (Json& element : document) result.push_back(std::move(element));
                   } else {
                     result.push_back(std::move(document));
                   }
                 }
                 out.AssignString(Write(result));
                 return Status::OK();
               });
             });
  add.Scalar("TO_JSON_STRING", {A::kAny}, 0, Returns(kString), "TO_JSON_STRING(x) -> STRING",
             "x as JSON text.", false,
             [](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
               SqlType type = site.types.at(0);
               return Lenient([type](Arguments arguments, Value& out) {
                 out.AssignString(Write(ToJson(arguments[0], type)));
                 return Status::OK();
               });
             });
}

}  // namespace sidestream::functions
