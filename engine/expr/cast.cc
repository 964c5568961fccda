#include "expr/cast.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "functions/numbers.h"
#include "functions/temporal_format.h"

namespace sidestream::expr {

using types::Decimal;
using types::SqlType;
using types::TypeId;
using types::Value;

namespace {

constexpr int64_t kMsPerDay = 86400000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

Status CannotCast(const Value& in, const SqlType& to) {
  std::string text;
  AppendText(in, text);
  return Status::InvalidArgument("Cannot cast '" + text + "' to " + to.ToString());
}

// Java's (int)/(long) narrowing of a double: truncation, saturation, NaN -> 0.
int64_t DoubleToLong(double value, bool to_int) {
  if (std::isnan(value)) return 0;
  double low = to_int ? -2147483648.0 : -9223372036854775808.0;
  double high = to_int ? 2147483647.0 : 9223372036854775807.0;
  if (value <= low)
    return to_int ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int64_t>::min();
  if (value >= high)
    return to_int ? std::numeric_limits<int32_t>::max() : std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(value);
}

Result<double> ParseJavaDouble(std::string_view raw) {
  std::string_view text = Trim(raw);
  if (!text.empty() &&
      (text.back() == 'd' || text.back() == 'D' || text.back() == 'f' || text.back() == 'F')) {
    text.remove_suffix(1);
  }
  std::string_view body = text;
  bool negative = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (body == "Infinity") {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  double value = 0;
  auto [ptr, error] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (body.empty() || error != std::errc() || ptr != body.data() + body.size()) {
    return Status::InvalidArgument("Cannot cast '" + std::string(raw) + "' to DOUBLE");
  }
  return negative ? -value : value;
}

Result<int64_t> ParseInteger(std::string_view raw, bool to_int) {
  std::string_view text = Trim(raw);
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  int64_t value = 0;
  auto [ptr, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  bool fits = !to_int || (value >= std::numeric_limits<int32_t>::min() &&
                          value <= std::numeric_limits<int32_t>::max());
  if (text.empty() || error != std::errc() || ptr != text.data() + text.size() || !fits) {
    return Status::InvalidArgument("Cannot cast '" + std::string(raw) + "' to " +
                                   (to_int ? "INT" : "BIGINT"));
  }
  return value;
}

// Reads exactly `width` digits at `at`.
bool ReadDigits(std::string_view text, size_t& at, size_t width, int64_t& value) {
  if (at + width > text.size()) return false;
  value = 0;
  for (size_t i = 0; i < width; ++i) {
    char c = text[at + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  at += width;
  return true;
}

// HH:mm[:ss[.fraction]] at `at`, as milliseconds of the day.
bool ParseTimeOfDay(std::string_view text, size_t& at, int64_t& millis) {
  int64_t hour = 0, minute = 0, second = 0, fraction_ms = 0;
  if (!ReadDigits(text, at, 2, hour) || at >= text.size() || text[at++] != ':' ||
      !ReadDigits(text, at, 2, minute)) {
    return false;
  }
  if (at < text.size() && text[at] == ':') {
    ++at;
    if (!ReadDigits(text, at, 2, second)) return false;
    if (at < text.size() && text[at] == '.') {
      ++at;
      int64_t scale = 100;
      size_t begin = at;
      while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) {
        fraction_ms += (text[at++] - '0') * scale;
        scale /= 10;
      }
      if (at == begin) return false;
    }
  }
  if (hour > 23 || minute > 59 || second > 59) return false;
  millis = hour * 3600000 + minute * 60000 + second * 1000 + fraction_ms;
  return true;
}

// ISO-8601: yyyy-MM-dd, optionally followed by T or space and a time, optionally a zone.
bool ParseIsoTimestamp(std::string_view raw, int64_t& epoch_ms, bool& has_time) {
  std::string_view text = Trim(raw);
  size_t at = 0;
  int64_t year = 0, month = 0, day = 0;
  if (!ReadDigits(text, at, 4, year) || at >= text.size() || text[at++] != '-' ||
      !ReadDigits(text, at, 2, month) || at >= text.size() || text[at++] != '-' ||
      !ReadDigits(text, at, 2, day) || month < 1 || month > 12 || day < 1 || day > 31) {
    return false;
  }
  int64_t millis = 0;
  has_time = false;
  if (at < text.size() && (text[at] == 'T' || text[at] == ' ')) {
    ++at;
    if (!ParseTimeOfDay(text, at, millis)) return false;
    has_time = true;
  }
  int64_t offset = 0;
  if (at < text.size()) {
    auto zone = functions::ZoneOffsetMs(text.substr(at));
    if (!zone.ok()) return false;
    offset = *zone;
  }
  epoch_ms =
      functions::DaysFromCivil(year, static_cast<int>(month), static_cast<int>(day)) * kMsPerDay +
      millis - offset;
  return true;
}

void AppendBase64(std::string_view bytes, std::string& out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                 (static_cast<uint8_t>(bytes[i + 1]) << 8) | static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < bytes.size()) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
}

void AppendPadded(int64_t value, int width, std::string& out) {
  std::string digits = std::to_string(value);
  for (int i = static_cast<int>(digits.size()); i < width; ++i) out += '0';
  out += digits;
}

void AppendDate(int64_t days, std::string& out) {
  int64_t year = 0;
  int month = 0, day = 0;
  functions::CivilFromDays(days, year, month, day);
  AppendPadded(year, 4, out);
  out += '-';
  AppendPadded(month, 2, out);
  out += '-';
  AppendPadded(day, 2, out);
}

void AppendTime(int64_t millis, bool always_millis, std::string& out) {
  AppendPadded(millis / 3600000, 2, out);
  out += ':';
  AppendPadded(millis / 60000 % 60, 2, out);
  out += ':';
  AppendPadded(millis / 1000 % 60, 2, out);
  if (always_millis || millis % 1000 != 0) {
    out += '.';
    AppendPadded(millis % 1000, 3, out);
  }
}

Status CastToDecimal(const Value& in, const SqlType& to, Value& out) {
  Result<Decimal> decimal = Decimal{};
  if (in.kind() == TypeId::kString) {
    decimal = functions::ParseDecimal(in.string());
    if (!decimal.ok()) return CannotCast(in, to);
  } else if (in.kind() == TypeId::kInt || in.kind() == TypeId::kBigint ||
             in.kind() == TypeId::kDouble || in.kind() == TypeId::kDecimal) {
    decimal = functions::NumberAsDecimal(in);
    if (!decimal.ok()) return CannotCast(in, to);
  } else {
    return CannotCast(in, to);
  }
  __int128 unscaled = functions::RescaleHalfUp(decimal->unscaled, decimal->scale, to.scale());
  if (to.precision() > 0 && unscaled != 0 && functions::DigitCount(unscaled) > to.precision()) {
    return Status::InvalidArgument("Cannot cast '" + types::DecimalToString(*decimal) + "' to " +
                                   to.ToString() + ": the value does not fit its precision");
  }
  out = Value::DecimalValue(unscaled, to.scale());
  return Status::OK();
}

Status CastToIntegral(const Value& in, const SqlType& to, Value& out) {
  bool to_int = to.id() == TypeId::kInt;
  int64_t value = 0;
  switch (in.kind()) {
    case TypeId::kInt:
    case TypeId::kBigint:
      value = in.integer();
      break;
    case TypeId::kDouble:
      value = DoubleToLong(in.float64(), to_int);
      break;
    case TypeId::kDecimal: {
      Decimal decimal = in.decimal();
      // BigDecimal.intValue()/longValue(): truncate, then keep the low-order bits.
      __int128 whole = decimal.unscaled / functions::PowerOfTen(decimal.scale);
      value = static_cast<int64_t>(static_cast<uint64_t>(whole));
      break;
    }
    case TypeId::kString: {
      ASSIGN_OR_RAISE(value, ParseInteger(in.string(), to_int));
      break;
    }
    default:
      return CannotCast(in, to);
  }
  out = to_int ? Value::Int(static_cast<int32_t>(static_cast<uint32_t>(value)))
               : Value::Bigint(value);
  return Status::OK();
}

Status CastToTemporal(const Value& in, const SqlType& to, Value& out) {
  int64_t epoch_ms = 0;
  switch (in.kind()) {
    case TypeId::kTimestamp:
      epoch_ms = in.integer();
      break;
    case TypeId::kDate:
      epoch_ms = in.integer() * kMsPerDay;
      break;
    case TypeId::kTime:
      if (to.id() != TypeId::kTime) return CannotCast(in, to);
      epoch_ms = in.integer();
      break;
    case TypeId::kString: {
      std::string_view text = Trim(in.string());
      if (to.id() == TypeId::kTime) {
        size_t at = 0;
        int64_t millis = 0;
        if (!ParseTimeOfDay(text, at, millis) || at != text.size()) return CannotCast(in, to);
        out = Value::Time(static_cast<int32_t>(millis));
        return Status::OK();
      }
      bool has_time = false;
      if (!ParseIsoTimestamp(text, epoch_ms, has_time)) return CannotCast(in, to);
      break;
    }
    default:
      return CannotCast(in, to);
  }
  int64_t days = FloorDiv(epoch_ms, kMsPerDay);
  switch (to.id()) {
    case TypeId::kTimestamp:
      out = Value::Timestamp(epoch_ms);
      break;
    case TypeId::kDate:
      out = Value::Date(static_cast<int32_t>(days));
      break;
    default:
      out = Value::Time(static_cast<int32_t>(epoch_ms - days * kMsPerDay));
      break;
  }
  return Status::OK();
}

}  // namespace

void AppendText(const Value& value, std::string& out, const SqlType* type) {
  switch (value.kind()) {
    case TypeId::kNull:
      out += "null";
      break;
    case TypeId::kBoolean:
      out += value.boolean() ? "true" : "false";
      break;
    case TypeId::kInt:
    case TypeId::kBigint: {
      char buffer[24];
      auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value.integer());
      (void)error;
      out.append(buffer, end);
      break;
    }
    case TypeId::kDouble:
      out += functions::JavaDoubleString(value.float64());
      break;
    case TypeId::kDecimal:
      types::AppendDecimal(value.decimal(), out);
      break;
    case TypeId::kString:
      out += value.string();
      break;
    case TypeId::kBytes:
      AppendBase64(value.string(), out);
      break;
    case TypeId::kTimestamp: {
      int64_t days = FloorDiv(value.integer(), kMsPerDay);
      AppendDate(days, out);
      out += 'T';
      AppendTime(value.integer() - days * kMsPerDay, true, out);
      break;
    }
    case TypeId::kDate:
      AppendDate(value.integer(), out);
      break;
    case TypeId::kTime:
      AppendTime(value.integer(), false, out);
      break;
    case TypeId::kArray:
    case TypeId::kStruct: {
      const bool array = value.kind() == TypeId::kArray;
      const bool named = !array && type != nullptr && type->id() == TypeId::kStruct &&
                         type->fields().size() == value.children().size();
      out += array ? "[" : "Struct{";
      const auto& children = value.children();
      bool first = true;
      for (size_t i = 0; i < children.size(); ++i) {
        // Kafka Connect's Struct.toString leaves out NULL fields.
        if (named && children[i].is_null()) continue;
        if (!first) out += array ? ", " : ",";
        first = false;
        const SqlType* child_type = nullptr;
        if (named) {
          out += type->fields()[i].name;
          out += '=';
          child_type = &type->fields()[i].type;
        } else if (array && type != nullptr && type->id() == TypeId::kArray) {
          child_type = &type->element();
        }
        AppendText(children[i], out, child_type);
      }
      out += array ? "]" : "}";
      break;
    }
    case TypeId::kMap: {
      out += '{';
      const auto& children = value.children();
      for (size_t i = 0; i + 1 < children.size(); i += 2) {
        if (i > 0) out += ", ";
        AppendText(children[i], out);
        out += '=';
        AppendText(children[i + 1], out);
      }
      out += '}';
      break;
    }
  }
}

Status CastValue(const Value& in, const SqlType& to, Value& out, const SqlType* from) {
  if (in.is_null() || to.id() == TypeId::kNull) {
    out = Value::Null();
    return Status::OK();
  }
  switch (to.id()) {
    case TypeId::kString: {
      if (in.kind() == TypeId::kString) {
        out.AssignString(in.string());
        return Status::OK();
      }
      thread_local std::string text;
      text.clear();
      AppendText(in, text, from);
      out.AssignString(text);
      return Status::OK();
    }
    case TypeId::kBoolean:
      if (in.kind() == TypeId::kBoolean) {
        out = Value::Boolean(in.boolean());
        return Status::OK();
      }
      if (in.kind() == TypeId::kString) {
        std::string_view text = Trim(in.string());
        std::string lower;
        for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower == "true" || lower == "t" || lower == "yes" || lower == "y") {
          out = Value::Boolean(true);
          return Status::OK();
        }
        if (lower == "false" || lower == "f" || lower == "no" || lower == "n") {
          out = Value::Boolean(false);
          return Status::OK();
        }
      }
      return CannotCast(in, to);
    case TypeId::kInt:
    case TypeId::kBigint:
      return CastToIntegral(in, to, out);
    case TypeId::kDouble:
      switch (in.kind()) {
        case TypeId::kInt:
        case TypeId::kBigint:
        case TypeId::kDouble:
        case TypeId::kDecimal:
          out = Value::Double(functions::NumberAsDouble(in));
          return Status::OK();
        case TypeId::kString: {
          ASSIGN_OR_RAISE(double value, ParseJavaDouble(in.string()));
          out = Value::Double(value);
          return Status::OK();
        }
        default:
          return CannotCast(in, to);
      }
    case TypeId::kDecimal:
      return CastToDecimal(in, to, out);
    case TypeId::kTimestamp:
    case TypeId::kDate:
    case TypeId::kTime:
      return CastToTemporal(in, to, out);
    case TypeId::kBytes:
      if (in.kind() == TypeId::kBytes || in.kind() == TypeId::kString) {
        out = Value::Bytes(in.string());
        return Status::OK();
      }
      return CannotCast(in, to);
    case TypeId::kArray: {
      if (in.kind() != TypeId::kArray) return CannotCast(in, to);
      std::vector<Value> elements(in.children().size());
      for (size_t i = 0; i < elements.size(); ++i) {
        RETURN_NOT_OK(CastValue(
            in.children()[i], to.element(), elements[i],
            from != nullptr && from->id() == TypeId::kArray ? &from->element() : nullptr));
      }
      out = Value::Array(std::move(elements));
      return Status::OK();
    }
    case TypeId::kMap: {
      if (in.kind() != TypeId::kMap) return CannotCast(in, to);
      std::vector<Value> entries(in.children().size());
      for (size_t i = 0; i < entries.size(); ++i) {
        RETURN_NOT_OK(CastValue(in.children()[i], i % 2 == 0 ? to.key() : to.value(), entries[i]));
      }
      out = Value::Map(std::move(entries));
      return Status::OK();
    }
    case TypeId::kStruct: {
      if (in.kind() != TypeId::kStruct) return CannotCast(in, to);
      if (from == nullptr || from->id() != TypeId::kStruct) {
        out = in;
        return Status::OK();
      }
      std::vector<Value> fields(to.fields().size());
      for (size_t i = 0; i < fields.size(); ++i) {
        const auto& source = from->fields();
        for (size_t j = 0; j < source.size() && j < in.children().size(); ++j) {
          if (source[j].name != to.fields()[i].name) continue;
          RETURN_NOT_OK(
              CastValue(in.children()[j], to.fields()[i].type, fields[i], &source[j].type));
        }
      }
      out = Value::Struct(std::move(fields));
      return Status::OK();
    }
    case TypeId::kNull:
      break;
  }
  return CannotCast(in, to);
}

Status Conform(Value& value, const SqlType& type) {
  if (value.is_null()) return Status::OK();
  bool numeric = value.kind() == TypeId::kInt || value.kind() == TypeId::kBigint ||
                 value.kind() == TypeId::kDouble || value.kind() == TypeId::kDecimal;
  if (!numeric || !type.is_numeric()) return Status::OK();
  if (value.kind() == type.id() &&
      (type.id() != TypeId::kDecimal || value.decimal().scale == type.scale())) {
    return Status::OK();
  }
  Value copy = value;
  return CastValue(copy, type, value);
}

}  // namespace sidestream::expr
