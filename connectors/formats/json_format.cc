#include "connectors/formats/json_format.h"

#include <simdjson.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "connectors/formats/field_matcher.h"
#include "connectors/formats/scalar_text.h"

namespace sidestream::formats {
namespace {

namespace ondemand = simdjson::ondemand;
using types::SqlType;
using types::TypeId;
using types::Value;

// How a column (or a nested element) is read: its type, the plans of its children and,
// for a STRUCT, the matcher of its field names. Built once per decoder.
struct TypePlan {
  SqlType type;
  std::vector<TypePlan> children;         // ARRAY: element; MAP: key, value; STRUCT: fields
  std::unique_ptr<FieldMatcher> matcher;  // STRUCT only
};

TypePlan MakePlan(const SqlType& type) {
  TypePlan plan;
  plan.type = type;
  switch (type.id()) {
    case TypeId::kArray:
      plan.children.push_back(MakePlan(type.element()));
      break;
    case TypeId::kMap:
      plan.children.push_back(MakePlan(type.key()));
      plan.children.push_back(MakePlan(type.value()));
      break;
    case TypeId::kStruct: {
      std::vector<std::string> names;
      for (const auto& field : type.fields()) {
        names.push_back(field.name);
        plan.children.push_back(MakePlan(field.type));
      }
      plan.matcher = std::make_unique<FieldMatcher>(std::move(names));
      break;
    }
    default:
      break;
  }
  return plan;
}

const char* JsonTypeName(ondemand::json_type type) {
  switch (type) {
    case ondemand::json_type::array:
      return "an array";
    case ondemand::json_type::object:
      return "an object";
    case ondemand::json_type::number:
      return "a number";
    case ondemand::json_type::string:
      return "a string";
    case ondemand::json_type::boolean:
      return "a boolean";
    case ondemand::json_type::null:
      return "null";
  }
  return "an unknown JSON value";
}

std::string_view TrimTrailingSpace(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' ||
                           text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

std::string_view TrimSpace(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\r' ||
                           text.front() == '\t')) {
    text.remove_prefix(1);
  }
  return TrimTrailingSpace(text);
}

// Reads one JSON message into Values. Holds the column being read for error messages.
class JsonReader {
 public:
  explicit JsonReader(std::string_view column) : column_(column) {}

  // A field's name. The raw key (up to its closing quote) is the name unless it has
  // escapes: unescaping copies it, and this runs for every field of every message. Keys are
  // short, so a plain scan beats strpbrk's setup; the NUL the decoder writes after the
  // message bounds it.
  static simdjson::error_code FieldKey(ondemand::field& field, std::string_view& key) {
    const char* raw = field.key().raw();
    const char* end = raw;
    while (*end != '"' && *end != '\\' && *end != '\0') ++end;
    if (*end == '"') {
      key = std::string_view(raw, static_cast<size_t>(end - raw));
      return simdjson::SUCCESS;
    }
    return field.unescaped_key().get(key);
  }

  Status Error(const std::string& problem) const {
    return Status::InvalidArgument("column " + std::string(column_) + ": " + problem);
  }
  Status Malformed(simdjson::error_code error) const {
    return Error(std::string("malformed JSON (") + simdjson::error_message(error) + ")");
  }

  // V is ondemand::value or ondemand::document (a scalar document is no value in simdjson).
  template <typename V>
  Status Read(V& json, const TypePlan& plan, Value& out) {
    ondemand::json_type json_type = ondemand::json_type::null;
    if (auto error = json.type().get(json_type)) return Malformed(error);
    if (json_type == ondemand::json_type::null) {
      bool is_null = false;
      if (auto error = json.is_null().get(is_null); error || !is_null) {
        return Malformed(error ? error : simdjson::INCORRECT_TYPE);
      }
      out.SetNull();
      return Status::OK();
    }
    switch (plan.type.id()) {
      case TypeId::kBoolean:
        return ReadBoolean(json, json_type, plan.type, out);
      case TypeId::kInt:
      case TypeId::kBigint:
      case TypeId::kTimestamp:
      case TypeId::kDate:
      case TypeId::kTime:
        return ReadIntegral(json, json_type, plan.type, out);
      case TypeId::kDouble:
        return ReadDouble(json, json_type, plan.type, out);
      case TypeId::kDecimal:
        return ReadDecimal(json, json_type, plan.type, out);
      case TypeId::kString:
        return ReadString(json, json_type, out);
      case TypeId::kBytes:
        return ReadBytes(json, json_type, plan.type, out);
      case TypeId::kArray:
        return ReadArray(json, json_type, plan, out);
      case TypeId::kMap:
        return ReadMap(json, json_type, plan, out);
      case TypeId::kStruct:
        return ReadStruct(json, json_type, plan, out);
      case TypeId::kNull:
        return Error("cannot read a column of type NULL");
    }
    return Error("unknown column type");
  }

 private:
  template <typename V>
  Status Mismatch(V& json, ondemand::json_type json_type, const SqlType& type) {
    if (json_type == ondemand::json_type::string) {
      std::string_view text;
      if (auto error = json.get_string().get(text)) return Malformed(error);
      return Error("expected " + type.ToString() + " but got " + QuoteForError(text));
    }
    if (json_type == ondemand::json_type::number || json_type == ondemand::json_type::boolean) {
      std::string_view token;
      if (auto error = Token(json).get(token)) return Malformed(error);
      return Error("expected " + type.ToString() + " but got " +
                   std::string(TrimTrailingSpace(token.substr(0, 40))));
    }
    return Error("expected " + type.ToString() + " but got " + JsonTypeName(json_type));
  }

  // A numeric string or other text coerced by the shared text rules.
  template <typename V>
  Status ReadFromString(V& json, const SqlType& type, Value& out) {
    std::string_view text;
    if (auto error = json.get_string().get(text)) return Malformed(error);
    Status status = ParseScalarText(text, type, out);
    if (!status.ok()) return Error(status.message());
    return Status::OK();
  }

  template <typename V>
  Status ReadBoolean(V& json, ondemand::json_type json_type, const SqlType& type, Value& out) {
    if (json_type == ondemand::json_type::boolean) {
      bool flag = false;
      if (auto error = json.get_bool().get(flag)) return Malformed(error);
      out.SetInteger(TypeId::kBoolean, flag ? 1 : 0);
      return Status::OK();
    }
    if (json_type == ondemand::json_type::string) return ReadFromString(json, type, out);
    return Mismatch(json, json_type, type);
  }

  template <typename V>
  Status ReadIntegral(V& json, ondemand::json_type json_type, const SqlType& type, Value& out) {
    if (json_type == ondemand::json_type::string) return ReadFromString(json, type, out);
    if (json_type != ondemand::json_type::number) return Mismatch(json, json_type, type);
    int64_t number = 0;
    // The usual case first: one parse. A failed get_int64 leaves the value readable.
    if (!json.get_int64().get(number)) return SetIntegral(json, type, number, out);
    ondemand::number_type number_type = ondemand::number_type::signed_integer;
    if (json.get_number_type().get(number_type) ||
        number_type == ondemand::number_type::unsigned_integer) {
      return OutOfRange(json, type);
    }
    if (number_type == ondemand::number_type::signed_integer) {
      if (json.get_int64().get(number)) return OutOfRange(json, type);
    } else {
      // ksqlDB reads a fractional number into an integral column as Java's longValue():
      // truncated toward zero.
      double real = 0;
      if (json.get_double().get(real) || !std::isfinite(real) || real >= 9.2233720368547758e18 ||
          real < -9.2233720368547758e18) {
        return OutOfRange(json, type);
      }
      number = static_cast<int64_t>(real);
    }
    return SetIntegral(json, type, number, out);
  }

  // Stores `number` as the integral `type`, checking that type's range.
  template <typename V>
  Status SetIntegral(V& json, const SqlType& type, int64_t number, Value& out) {
    switch (type.id()) {
      case TypeId::kInt:
        if (number < std::numeric_limits<int32_t>::min() ||
            number > std::numeric_limits<int32_t>::max()) {
          return OutOfRange(json, type);
        }
        out.SetInteger(TypeId::kInt, number);
        break;
      case TypeId::kBigint:
      case TypeId::kTimestamp:
        out.SetInteger(type.id(), number);
        break;
      case TypeId::kDate:
        if (number < std::numeric_limits<int32_t>::min() ||
            number > std::numeric_limits<int32_t>::max()) {
          return OutOfRange(json, type);
        }
        out.SetInteger(TypeId::kDate, number);
        break;
      default:  // TIME
        if (number < 0 || number >= 86'400'000) return OutOfRange(json, type);
        out.SetInteger(TypeId::kTime, number);
        break;
    }
    return Status::OK();
  }

  template <typename V>
  Status OutOfRange(V& json, const SqlType& type) {
    std::string_view token;
    if (auto error = Token(json).get(token)) return Malformed(error);
    return Error("number " + QuoteForError(TrimTrailingSpace(token)) + " is out of range for " +
                 type.ToString());
  }

  template <typename V>
  Status ReadDouble(V& json, ondemand::json_type json_type, const SqlType& type, Value& out) {
    if (json_type == ondemand::json_type::string) return ReadFromString(json, type, out);
    if (json_type != ondemand::json_type::number) return Mismatch(json, json_type, type);
    double number = 0;
    if (json.get_double().get(number)) return OutOfRange(json, type);
    out.SetDouble(number);
    return Status::OK();
  }

  template <typename V>
  Status ReadDecimal(V& json, ondemand::json_type json_type, const SqlType& type, Value& out) {
    if (json_type == ondemand::json_type::string) return ReadFromString(json, type, out);
    if (json_type != ondemand::json_type::number) return Mismatch(json, json_type, type);
    // The raw token keeps every digit; a double would not.
    std::string_view token;
    if (auto error = Token(json).get(token)) return Malformed(error);
    types::Decimal decimal;
    Status status = ParseDecimal(TrimTrailingSpace(token), type.precision(), type.scale(), decimal);
    if (!status.ok()) return Error(status.message());
    out.SetDecimal(decimal.unscaled, decimal.scale);
    return Status::OK();
  }

  template <typename V>
  Status ReadString(V& json, ondemand::json_type json_type, Value& out) {
    switch (json_type) {
      case ondemand::json_type::string: {
        std::string_view text;
        if (auto error = json.get_string().get(text)) return Malformed(error);
        out.AssignString(text);
        return Status::OK();
      }
      case ondemand::json_type::number:
      case ondemand::json_type::boolean: {
        // ksqlDB writes the JSON text of a scalar into a STRING column.
        std::string_view token;
        if (auto error = Token(json).get(token)) return Malformed(error);
        if (json_type == ondemand::json_type::boolean) {
          bool flag = false;
          if (auto error = json.get_bool().get(flag)) return Malformed(error);
        }
        out.AssignString(TrimTrailingSpace(token));
        return Status::OK();
      }
      default: {
        // An object or array goes into a STRING column as its compact JSON text.
        std::string_view raw;
        if (auto error = RawJson(json).get(raw)) return Malformed(error);
        raw = TrimTrailingSpace(raw);
        scratch_.resize(raw.size());
        size_t length = 0;
        if (auto error = simdjson::minify(raw.data(), raw.size(), scratch_.data(), length)) {
          return Malformed(error);
        }
        out.AssignString(std::string_view(scratch_.data(), length));
        return Status::OK();
      }
    }
  }

  // The raw token of a scalar (a value returns it bare, a document wrapped in a result).
  static simdjson::simdjson_result<std::string_view> Token(ondemand::value& json) {
    return json.raw_json_token();
  }
  static simdjson::simdjson_result<std::string_view> Token(ondemand::document& json) {
    return json.raw_json_token();
  }

  // The text of an object or array, through the container: this simdjson has no
  // raw_json() on values and documents.
  template <typename V>
  static simdjson::simdjson_result<std::string_view> RawJson(V& json) {
    ondemand::json_type json_type = ondemand::json_type::null;
    if (auto error = json.type().get(json_type)) return error;
    if (json_type == ondemand::json_type::array) {
      ondemand::array array;
      if (auto error = json.get_array().get(array)) return error;
      return array.raw_json();
    }
    ondemand::object object;
    if (auto error = json.get_object().get(object)) return error;
    return object.raw_json();
  }

  template <typename V>
  Status ReadBytes(V& json, ondemand::json_type json_type, const SqlType& type, Value& out) {
    if (json_type != ondemand::json_type::string) return Mismatch(json, json_type, type);
    return ReadFromString(json, type, out);
  }

  template <typename V>
  Status ReadArray(V& json, ondemand::json_type json_type, const TypePlan& plan, Value& out) {
    if (json_type != ondemand::json_type::array) return Mismatch(json, json_type, plan.type);
    ondemand::array array;
    if (auto error = json.get_array().get(array)) return Malformed(error);
    std::vector<Value> elements;
    for (auto element_result : array) {
      ondemand::value element;
      if (auto error = std::move(element_result).get(element)) return Malformed(error);
      elements.emplace_back();
      RETURN_NOT_OK(Read(element, plan.children[0], elements.back()));
    }
    out = Value::Array(std::move(elements));
    return Status::OK();
  }

  template <typename V>
  Status ReadMap(V& json, ondemand::json_type json_type, const TypePlan& plan, Value& out) {
    if (json_type != ondemand::json_type::object) return Mismatch(json, json_type, plan.type);
    ondemand::object object;
    if (auto error = json.get_object().get(object)) return Malformed(error);
    std::vector<Value> entries;
    for (auto field_result : object) {
      ondemand::field field;
      std::string_view key;
      if (auto error = std::move(field_result).get(field)) return Malformed(error);
      if (auto error = field.unescaped_key().get(key)) return Malformed(error);
      entries.emplace_back();
      if (plan.children[0].type.id() == TypeId::kString) {
        entries.back().AssignString(key);
      } else {
        Status status = ParseScalarText(key, plan.children[0].type, entries.back());
        if (!status.ok()) return Error("map key: " + status.message());
      }
      entries.emplace_back();
      ondemand::value item = field.value();
      RETURN_NOT_OK(Read(item, plan.children[1], entries.back()));
    }
    out = Value::Map(std::move(entries));
    return Status::OK();
  }

  template <typename V>
  Status ReadStruct(V& json, ondemand::json_type json_type, const TypePlan& plan, Value& out) {
    if (json_type != ondemand::json_type::object) return Mismatch(json, json_type, plan.type);
    ondemand::object object;
    if (auto error = json.get_object().get(object)) return Malformed(error);
    // Fields are read into the value's own children, which a reused row's value already
    // has: no allocation per message.
    const size_t count = plan.children.size();
    if (out.kind() != TypeId::kStruct) out = Value::Struct(std::vector<Value>(count));
    std::vector<Value>& fields = out.MutableChildren();
    fields.resize(count);
    std::vector<FieldMatcher::Match> heap_matched;
    std::array<FieldMatcher::Match, 32> stack_matched;
    FieldMatcher::Match* matched = stack_matched.data();
    if (count > stack_matched.size()) {
      heap_matched.resize(count);
      matched = heap_matched.data();
    }
    std::fill(matched, matched + count, FieldMatcher::Match::kNone);
    size_t position = 0;
    for (auto field_result : object) {
      ondemand::field field;
      std::string_view key;
      if (auto error = std::move(field_result).get(field)) return Malformed(error);
      if (auto error = FieldKey(field, key)) return Malformed(error);
      FieldMatcher::Match match;
      const int index = plan.matcher->Find(key, position++, match);
      if (index < 0 || match <= matched[index]) continue;
      matched[index] = match;
      ondemand::value item = field.value();
      RETURN_NOT_OK(Read(item, plan.children[index], fields[index]));
    }
    for (size_t i = 0; i < count; ++i) {
      if (matched[i] == FieldMatcher::Match::kNone) fields[i].SetNull();
    }
    return Status::OK();
  }

  std::string_view column_;
  std::vector<char> scratch_;
};

class JsonRowDecoder final : public RowDecoder {
 public:
  JsonRowDecoder(const FormatOptions& options, std::vector<FormatColumn> columns)
      : columns_(std::move(columns)),
        unwrapped_(JsonUnwrapped(options, columns_.size())),
        matched_(columns_.size(), FieldMatcher::Match::kNone) {
    std::vector<std::string> names;
    for (const auto& column : columns_) {
      names.push_back(column.name);
      plans_.push_back(MakePlan(column.type));
    }
    matcher_ = std::make_unique<FieldMatcher>(std::move(names));
  }

  Status Decode(std::string_view bytes, types::Row& row, size_t first_column) override {
    if (row.size() < first_column + columns_.size()) row.resize(first_column + columns_.size());
    if (TrimTrailingSpace(bytes).empty()) {
      // An empty message carries no fields: every column is NULL, like a JSON null.
      for (size_t i = 0; i < columns_.size(); ++i) row[first_column + i].SetNull();
      return Status::OK();
    }
    if (buffer_.size() < bytes.size() + simdjson::SIMDJSON_PADDING) {
      buffer_.resize(bytes.size() + simdjson::SIMDJSON_PADDING);
    }
    std::memcpy(buffer_.data(), bytes.data(), bytes.size());
    buffer_[bytes.size()] = '\0';  // stops FieldKey's scan, whatever an older message left
    ondemand::document document;
    if (auto error = parser_.iterate(buffer_.data(), bytes.size(), buffer_.size()).get(document)) {
      return MessageError(error);
    }
    ondemand::json_type root_type = ondemand::json_type::null;
    if (auto error = document.type().get(root_type)) return MessageError(error);
    const bool scalar_root =
        root_type != ondemand::json_type::object && root_type != ondemand::json_type::array;
    std::string_view root_token;
    if (scalar_root) {
      if (auto error = document.raw_json_token().get(root_token)) return MessageError(error);
    }
    Status status = unwrapped_ ? DecodeUnwrapped(document, row, first_column)
                               : DecodeObject(document, row, first_column);
    RETURN_NOT_OK(status);
    // Anything but whitespace after the first value is an error, as Jackson reports it.
    if (scalar_root) {
      // A scalar message is one token: nothing may follow it.
      if (TrimSpace(bytes) != TrimTrailingSpace(root_token)) {
        return Status::InvalidArgument("malformed JSON: unexpected content after the value in " +
                                       QuoteForError(bytes));
      }
      return Status::OK();
    }
    const char* location = nullptr;
    if (!document.current_location().get(location)) {
      return Status::InvalidArgument(
          "malformed JSON: unexpected content after the value: " +
          QuoteForError(std::string_view(
              location, bytes.size() - static_cast<size_t>(location - buffer_.data()))));
    }
    return Status::OK();
  }

 private:
  static Status MessageError(simdjson::error_code error) {
    return Status::InvalidArgument(std::string("malformed JSON (") +
                                   simdjson::error_message(error) + ")");
  }

  Status DecodeUnwrapped(ondemand::document& document, types::Row& row, size_t first_column) {
    JsonReader reader(columns_[0].name);
    return reader.Read(document, plans_[0], row[first_column]);
  }

  Status DecodeObject(ondemand::document& document, types::Row& row, size_t first_column) {
    ondemand::json_type json_type = ondemand::json_type::null;
    if (auto error = document.type().get(json_type)) return MessageError(error);
    if (json_type == ondemand::json_type::null) {
      bool is_null = false;
      if (auto error = document.is_null().get(is_null); error || !is_null) {
        return MessageError(error ? error : simdjson::INCORRECT_TYPE);
      }
      for (size_t i = 0; i < columns_.size(); ++i) row[first_column + i].SetNull();
      return Status::OK();
    }
    if (json_type != ondemand::json_type::object) {
      return Status::InvalidArgument("expected a JSON object with fields for the columns " +
                                     ColumnList() + " but got " + JsonTypeName(json_type));
    }
    ondemand::object object;
    if (auto error = document.get_object().get(object)) return MessageError(error);
    std::fill(matched_.begin(), matched_.end(), FieldMatcher::Match::kNone);
    size_t position = 0;
    for (auto field_result : object) {
      ondemand::field field;
      std::string_view key;
      if (auto error = std::move(field_result).get(field)) return MessageError(error);
      if (auto error = JsonReader::FieldKey(field, key)) return MessageError(error);
      FieldMatcher::Match match;
      const int index = matcher_->Find(key, position++, match);
      // Fields the decoder does not project, or that the query never reads, are skipped
      // unparsed by simdjson.
      if (index < 0 || match <= matched_[index] || columns_[index].skip) continue;
      matched_[index] = match;
      ondemand::value item = field.value();
      JsonReader reader(columns_[index].name);
      RETURN_NOT_OK(reader.Read(item, plans_[index], row[first_column + index]));
    }
    for (size_t i = 0; i < columns_.size(); ++i) {
      // A skipped column is never written, so it stays NULL in a reused row.
      if (matched_[i] == FieldMatcher::Match::kNone && !columns_[i].skip) {
        row[first_column + i].SetNull();
      }
    }
    return Status::OK();
  }

  std::string ColumnList() const {
    std::string list;
    for (size_t i = 0; i < columns_.size() && i < 8; ++i) {
      list += (i > 0 ? ", " : "") + columns_[i].name;
    }
    if (columns_.size() > 8) list += ", ...";
    return list;
  }

  std::vector<FormatColumn> columns_;
  std::vector<TypePlan> plans_;
  std::unique_ptr<FieldMatcher> matcher_;
  bool unwrapped_;
  std::vector<FieldMatcher::Match> matched_;  // per column, for the message being read
  ondemand::parser parser_;                   // reused: keeps its buffers across messages
  std::vector<char> buffer_;                  // the message plus simdjson's padding
};

// The position of the first byte of `text` that JSON must escape (a control character,
// '"' or '\\'), or text.size(): 16 bytes per step with SSE2, then 8 with SWAR (a byte test
// on a whole word), then single bytes.
size_t FirstToEscape(std::string_view text) {
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i last_control = _mm_set1_epi8(0x1f);
  for (; i + 16 <= text.size(); i += 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(chunk, last_control), chunk);
    const __m128i special =
        _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash));
    const int mask = _mm_movemask_epi8(_mm_or_si128(control, special));
    if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  auto zero_byte = [](uint64_t x) { return (x - kOnes) & ~x & kHighs; };
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    const uint64_t control = (word - kOnes * 0x20) & ~word & kHighs;  // a byte < 0x20
    if ((control | zero_byte(word ^ (kOnes * '"')) | zero_byte(word ^ (kOnes * '\\'))) != 0) break;
  }
  for (; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == '"' || c == '\\') return i;
  }
  return i;
}

void AppendJsonString(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t i = FirstToEscape(text);
  if (i == text.size()) {
    // Nothing to escape (the usual case): one resize, one copy.
    const size_t at = out.size();
    out.resize(at + text.size() + 2);
    char* p = out.data() + at;
    p[0] = '"';
    std::memcpy(p + 1, text.data(), text.size());
    p[text.size() + 1] = '"';
    return;
  }
  out += '"';
  size_t start = 0;
  for (; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + start, i - start);
    start = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(text.data() + start, text.size() - start);
  out += '"';
}

Status AppendJsonValue(const Value& value, const SqlType& type, std::string& out) {
  switch (value.kind()) {
    case TypeId::kNull:
      out += "null";
      return Status::OK();
    case TypeId::kBoolean:
      out += value.boolean() ? "true" : "false";
      return Status::OK();
    case TypeId::kDouble:
      // Jackson writes non-finite doubles as strings.
      if (!std::isfinite(value.float64())) {
        out += '"';
        AppendJavaDouble(value.float64(), out);
        out += '"';
      } else {
        AppendJavaDouble(value.float64(), out);
      }
      return Status::OK();
    case TypeId::kString:
      AppendJsonString(value.string(), out);
      return Status::OK();
    case TypeId::kBytes: {
      out += '"';
      AppendBase64(value.string(), out);
      out += '"';
      return Status::OK();
    }
    case TypeId::kArray: {
      const SqlType element = type.id() == TypeId::kArray ? type.element() : SqlType::Null();
      out += '[';
      bool first = true;
      for (const Value& child : value.children()) {
        if (!first) out += ',';
        first = false;
        RETURN_NOT_OK(AppendJsonValue(child, element, out));
      }
      out += ']';
      return Status::OK();
    }
    case TypeId::kMap: {
      const SqlType item = type.id() == TypeId::kMap ? type.value() : SqlType::Null();
      const auto& entries = value.children();
      out += '{';
      std::string key;
      for (size_t i = 0; i + 1 < entries.size(); i += 2) {
        if (i > 0) out += ',';
        key.clear();
        if (entries[i].is_null()) {
          key = "null";  // as ksqlDB's JSON serializer writes a NULL key (MAP(NULL := 1))
        } else {
          AppendScalarText(entries[i], key);
        }
        AppendJsonString(key, out);
        out += ':';
        RETURN_NOT_OK(AppendJsonValue(entries[i + 1], item, out));
      }
      out += '}';
      return Status::OK();
    }
    case TypeId::kStruct: {
      const auto& children = value.children();
      if (type.id() != TypeId::kStruct || type.fields().size() != children.size()) {
        return Status::Internal("a STRUCT value of " + std::to_string(children.size()) +
                                " fields does not match the column type " + type.ToString());
      }
      out += '{';
      for (size_t i = 0; i < children.size(); ++i) {
        if (i > 0) out += ',';
        AppendJsonString(type.fields()[i].name, out);
        out += ':';
        RETURN_NOT_OK(AppendJsonValue(children[i], type.fields()[i].type, out));
      }
      out += '}';
      return Status::OK();
    }
    default:  // INT, BIGINT, DECIMAL (scale kept) and the temporal types as numbers
      AppendScalarText(value, out);
      return Status::OK();
  }
}

class JsonRowEncoder final : public RowEncoder {
 public:
  JsonRowEncoder(const FormatOptions& options, std::vector<FormatColumn> columns)
      : columns_(std::move(columns)), unwrapped_(JsonUnwrapped(options, columns_.size())) {
    // Field names are the same in every record: escape them once.
    for (size_t i = 0; i < columns_.size(); ++i) {
      std::string prefix = i == 0 ? "{" : ",";
      AppendJsonString(columns_[i].name, prefix);
      prefixes_.push_back(prefix + ":");
    }
  }

  Status Encode(const types::Row& row, size_t first_column, std::string& out) override {
    out.clear();
    if (row.size() < first_column + columns_.size()) {
      return Status::Internal("JSON encoder: row has " + std::to_string(row.size()) +
                              " values, need " + std::to_string(first_column + columns_.size()));
    }
    if (unwrapped_) return AppendJsonValue(row[first_column], columns_[0].type, out);
    if (columns_.empty()) out += '{';
    for (size_t i = 0; i < columns_.size(); ++i) {
      out += prefixes_[i];
      RETURN_NOT_OK(AppendJsonValue(row[first_column + i], columns_[i].type, out));
    }
    out += '}';
    return Status::OK();
  }

 private:
  std::vector<FormatColumn> columns_;
  bool unwrapped_;
  std::vector<std::string> prefixes_;  // per column: `{"NAME":` for the first, `,"NAME":` after
};

}  // namespace

bool JsonUnwrapped(const FormatOptions& options, size_t column_count) {
  return column_count == 1 && (options.is_key || !options.wrap_single_value);
}

std::unique_ptr<RowDecoder> MakeJsonDecoder(const FormatOptions& options,
                                            std::vector<FormatColumn> columns) {
  return std::make_unique<JsonRowDecoder>(options, std::move(columns));
}

std::unique_ptr<RowEncoder> MakeJsonEncoder(const FormatOptions& options,
                                            std::vector<FormatColumn> columns) {
  return std::make_unique<JsonRowEncoder>(options, std::move(columns));
}

}  // namespace sidestream::formats
