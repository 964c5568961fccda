#include "connectors/formats/scalar_text.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <limits>

namespace sidestream::formats {
namespace {

constexpr int kMaxDecimalDigits = 38;  // what fits __int128 with room for rounding

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && static_cast<unsigned char>(text.front()) <= ' ') text.remove_prefix(1);
  while (!text.empty() && static_cast<unsigned char>(text.back()) <= ' ') text.remove_suffix(1);
  return text;
}

__int128 PowerOfTen(int exponent) {
  __int128 result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}

int DigitCount(__int128 value) {
  if (value < 0) value = -value;
  int digits = 1;
  while (value >= 10) {
    value /= 10;
    ++digits;
  }
  return digits;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const unsigned year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

// Reads exactly `count` digits at `pos`.
bool ReadDigits(std::string_view text, size_t& pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (size_t i = 0; i < count; ++i) {
    if (!IsDigit(text[pos + i])) return false;
    out = out * 10 + (text[pos + i] - '0');
  }
  pos += count;
  return true;
}

bool ReadDate(std::string_view text, size_t& pos, int64_t& days) {
  int year = 0, month = 0, day = 0;
  if (!ReadDigits(text, pos, 4, year) || pos >= text.size() || text[pos++] != '-' ||
      !ReadDigits(text, pos, 2, month) || pos >= text.size() || text[pos++] != '-' ||
      !ReadDigits(text, pos, 2, day)) {
    return false;
  }
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDaysInMonth[month - 1]) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return false;
  days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return true;
}

// HH:mm[:ss[.fraction]] into ms.
bool ReadTime(std::string_view text, size_t& pos, int64_t& milliseconds) {
  int hour = 0, minute = 0, second = 0, millis = 0;
  if (!ReadDigits(text, pos, 2, hour) || pos >= text.size() || text[pos++] != ':' ||
      !ReadDigits(text, pos, 2, minute)) {
    return false;
  }
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    if (!ReadDigits(text, pos, 2, second)) return false;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int digits = 0;
      while (pos < text.size() && IsDigit(text[pos])) {
        if (digits < 3) millis = millis * 10 + (text[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return false;
      for (int i = digits; i < 3; ++i) millis *= 10;
    }
  }
  if (hour > 23 || minute > 59 || second > 59) return false;
  milliseconds = ((hour * 60LL + minute) * 60 + second) * 1000 + millis;
  return true;
}

}  // namespace

bool ParseInteger(std::string_view text, int64_t& out) {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && text.front() == '-') return false;
  }
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, out);
  return error == std::errc() && ptr == end;
}

bool ParseDouble(std::string_view text, double& out) {
  text = TrimSpaces(text);
  if (!text.empty() &&
      (text.back() == 'd' || text.back() == 'D' || text.back() == 'f' || text.back() == 'F')) {
    text.remove_suffix(1);  // Java accepts a float/double type suffix
  }
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text == "NaN") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (text == "Infinity") {
    out = negative ? -std::numeric_limits<double>::infinity()
                   : std::numeric_limits<double>::infinity();
    return true;
  }
  // from_chars would accept "inf", "nan" and hex-less forms Java rejects; require a digit.
  if (text.empty() || !(IsDigit(text.front()) || text.front() == '.')) return false;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, out, std::chars_format::general);
  if (ptr != end) return false;
  if (error == std::errc::result_out_of_range) {
    // Java rounds overflow to infinity and underflow to zero rather than failing.
    bool big = false;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == 'e' || text[i] == 'E') {
        big = i + 1 < text.size() && text[i + 1] != '-';
        break;
      }
    }
    out = big ? std::numeric_limits<double>::infinity() : 0.0;
  } else if (error != std::errc()) {
    return false;
  }
  if (negative) out = -out;
  return true;
}

Status ParseDecimal(std::string_view text, int precision, int scale, types::Decimal& out) {
  std::string_view original = text;
  auto not_a_number = [&] {
    return Status::InvalidArgument("expected " +
                                   types::SqlType::Decimal(precision, scale).ToString() +
                                   " but got " + QuoteForError(original));
  };
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  __int128 unscaled = 0;
  int significant = 0;
  int fraction_digits = 0;
  bool any_digit = false;
  bool in_fraction = false;
  size_t pos = 0;
  for (; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (IsDigit(c)) {
      any_digit = true;
      if (in_fraction) ++fraction_digits;
      if (significant > 0 || c != '0') {
        if (++significant > kMaxDecimalDigits) {
          return Status::InvalidArgument("decimal " + QuoteForError(original) + " has more than " +
                                         std::to_string(kMaxDecimalDigits) + " digits");
        }
      }
      unscaled = unscaled * 10 + (c - '0');
    } else if (c == '.' && !in_fraction) {
      in_fraction = true;
    } else {
      break;
    }
  }
  if (!any_digit) return not_a_number();
  int64_t exponent = 0;
  if (pos < text.size()) {
    if (text[pos] != 'e' && text[pos] != 'E') return not_a_number();
    if (!ParseInteger(text.substr(pos + 1), exponent)) return not_a_number();
    if (exponent > 1000 || exponent < -1000) {
      return Status::InvalidArgument("decimal " + QuoteForError(original) + " is out of range");
    }
  }
  // value = unscaled * 10^-(fraction_digits - exponent); bring it to `scale`.
  int64_t current_scale = fraction_digits - exponent;
  if (current_scale < scale) {
    const int64_t shift = scale - current_scale;
    if (unscaled != 0 && DigitCount(unscaled) + shift > kMaxDecimalDigits) {
      return Status::InvalidArgument("decimal " + QuoteForError(original) + " does not fit " +
                                     types::SqlType::Decimal(precision, scale).ToString());
    }
    if (unscaled != 0) unscaled *= PowerOfTen(static_cast<int>(shift));
  } else if (current_scale > scale) {
    const int64_t shift = current_scale - scale;
    if (shift > kMaxDecimalDigits) {
      unscaled = 0;
    } else {
      const __int128 divisor = PowerOfTen(static_cast<int>(shift));
      const __int128 remainder = unscaled % divisor;
      unscaled /= divisor;
      if (remainder * 2 >= divisor) ++unscaled;  // HALF_UP, as ksqlDB's DecimalUtil
    }
  }
  if (precision > 0 && unscaled != 0 && DigitCount(unscaled) > precision) {
    return Status::InvalidArgument("decimal " + QuoteForError(original) + " does not fit " +
                                   types::SqlType::Decimal(precision, scale).ToString());
  }
  out.unscaled = negative ? -unscaled : unscaled;
  out.scale = scale;
  return Status::OK();
}

bool ParseTimestamp(std::string_view text, int64_t& out) {
  text = TrimSpaces(text);
  size_t pos = 0;
  int64_t days = 0;
  if (!ReadDate(text, pos, days)) return false;
  int64_t milliseconds = 0;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ')) {
    ++pos;
    if (!ReadTime(text, pos, milliseconds)) return false;
  }
  int64_t offset_minutes = 0;
  if (pos < text.size()) {
    if (text[pos] == 'Z' && pos + 1 == text.size()) {
      ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
      const int sign = text[pos] == '-' ? -1 : 1;
      ++pos;
      int hours = 0, minutes = 0;
      if (!ReadDigits(text, pos, 2, hours)) return false;
      if (pos < text.size() && text[pos] == ':') ++pos;
      if (pos < text.size() && !ReadDigits(text, pos, 2, minutes)) return false;
      if (hours > 18 || minutes > 59) return false;
      offset_minutes = sign * (hours * 60 + minutes);
    }
  }
  if (pos != text.size()) return false;
  out = days * 86'400'000 + milliseconds - offset_minutes * 60'000;
  return true;
}

bool ParseDate(std::string_view text, int32_t& out) {
  text = TrimSpaces(text);
  size_t pos = 0;
  int64_t days = 0;
  if (!ReadDate(text, pos, days) || pos != text.size()) return false;
  out = static_cast<int32_t>(days);
  return true;
}

bool ParseTime(std::string_view text, int32_t& out) {
  text = TrimSpaces(text);
  size_t pos = 0;
  int64_t milliseconds = 0;
  if (!ReadTime(text, pos, milliseconds) || pos != text.size()) return false;
  out = static_cast<int32_t>(milliseconds);
  return true;
}

void AppendJavaDouble(double value, std::string& out) {
  // Between 10^-3 and 10^7 Java writes the shortest round-trip digits in plain notation
  // with at least one fraction digit: what to_chars(fixed) writes, plus ".0" for a whole
  // number. (There the shortest digits are never one digit that Java's two-digit rule
  // would change: that needs a subnormal.) The common case for results such as AVG.
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    char buffer[40];
    auto result = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed);
    std::string_view text(buffer, static_cast<size_t>(result.ptr - buffer));
    out.append(text);
    if (text.find('.') == std::string_view::npos) out.append(".0");
    return;
  }
  AppendJavaDoubleGeneral(value, out);
}

void AppendJavaDoubleGeneral(double value, std::string& out) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "Infinity" : "-Infinity";
    return;
  }
  if (value == 0) {
    out += std::signbit(value) ? "-0.0" : "0.0";
    return;
  }
  // Shortest round-trip digits, as Java's Double.toString (JDK 19+) picks them.
  char buffer[64];
  auto result =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  std::string_view text(buffer, static_cast<size_t>(result.ptr - buffer));
  if (text.front() == '-') {
    out += '-';
    text.remove_prefix(1);
  }
  char digits[32];
  size_t digit_count = 0;
  for (size_t i = 0; i < text.find('e'); ++i) {
    if (text[i] != '.') digits[digit_count++] = text[i];
  }
  if (digit_count == 1) {
    // Java prints at least two digits and then picks the two-digit decimal closest to
    // the value (4.9E-324, not 5.0E-324); a trailing zero is dropped again below.
    result = std::to_chars(buffer, buffer + sizeof(buffer), std::fabs(value),
                           std::chars_format::scientific, 1);
    text = std::string_view(buffer, static_cast<size_t>(result.ptr - buffer));
    digits[0] = text[0];
    digits[1] = text[2];
    digit_count = digits[1] == '0' ? 1 : 2;
  }
  const size_t e = text.find('e');
  int exponent = 0;
  std::from_chars(text.data() + e + (text[e + 1] == '+' ? 2 : 1), text.data() + text.size(),
                  exponent);
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {  // reached from the equivalence test only
    if (exponent >= 0) {
      for (int i = 0; i <= exponent; ++i) {
        out += static_cast<size_t>(i) < digit_count ? digits[i] : '0';
      }
      out += '.';
      if (static_cast<size_t>(exponent) + 1 >= digit_count) {
        out += '0';
      } else {
        out.append(digits + exponent + 1, digit_count - static_cast<size_t>(exponent) - 1);
      }
    } else {
      out += "0.";
      out.append(static_cast<size_t>(-exponent - 1), '0');
      out.append(digits, digit_count);
    }
  } else {
    out += digits[0];
    out += '.';
    if (digit_count == 1) {
      out += '0';
    } else {
      out.append(digits + 1, digit_count - 1);
    }
    out += 'E';
    out += std::to_string(exponent);
  }
}

std::string JavaDoubleString(double value) {
  std::string text;
  AppendJavaDouble(value, text);
  return text;
}

void AppendBase64(std::string_view bytes, std::string& out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t chunk = (static_cast<uint8_t>(bytes[i]) << 16) |
                           (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                           static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += kAlphabet[(chunk >> 6) & 63];
    out += kAlphabet[chunk & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t chunk = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) chunk |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += rest == 2 ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += '=';
  }
}

bool DecodeBase64(std::string_view text, std::string& out) {
  out.clear();
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return false;
  uint32_t chunk = 0;
  int bits = 0;
  for (char c : text) {
    int sextet;
    if (c >= 'A' && c <= 'Z') {
      sextet = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      sextet = c - 'a' + 26;
    } else if (IsDigit(c)) {
      sextet = c - '0' + 52;
    } else if (c == '+') {
      sextet = 62;
    } else if (c == '/') {
      sextet = 63;
    } else {
      return false;
    }
    chunk = (chunk << 6) | static_cast<uint32_t>(sextet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((chunk >> bits) & 0xFF);
    }
  }
  return true;
}

void AppendScalarText(const types::Value& value, std::string& out) {
  using types::TypeId;
  switch (value.kind()) {
    case TypeId::kNull:
      return;
    case TypeId::kBoolean:
      out += value.boolean() ? "true" : "false";
      return;
    case TypeId::kDouble:
      AppendJavaDouble(value.float64(), out);
      return;
    case TypeId::kDecimal:
      types::AppendDecimal(value.decimal(), out);
      return;
    case TypeId::kString:
      out += value.string();
      return;
    case TypeId::kBytes:
      AppendBase64(value.string(), out);
      return;
    case TypeId::kInt:
    case TypeId::kBigint:
    case TypeId::kTimestamp:
    case TypeId::kDate:
    case TypeId::kTime: {
      char buffer[24];
      auto result = std::to_chars(buffer, buffer + sizeof(buffer), value.integer());
      out.append(buffer, result.ptr);
      return;
    }
    default:
      out += value.DebugString();
      return;
  }
}

Status ParseScalarText(std::string_view text, const types::SqlType& type, types::Value& out) {
  using types::TypeId;
  auto mismatch = [&] {
    return Status::InvalidArgument("expected " + type.ToString() + " but got " +
                                   QuoteForError(text));
  };
  switch (type.id()) {
    case TypeId::kBoolean: {
      std::string_view trimmed = TrimSpaces(text);
      if (trimmed.size() == 4 && (trimmed[0] | 0x20) == 't' && (trimmed[1] | 0x20) == 'r' &&
          (trimmed[2] | 0x20) == 'u' && (trimmed[3] | 0x20) == 'e') {
        out = types::Value::Boolean(true);
      } else if (trimmed.size() == 5 && (trimmed[0] | 0x20) == 'f' && (trimmed[1] | 0x20) == 'a' &&
                 (trimmed[2] | 0x20) == 'l' && (trimmed[3] | 0x20) == 's' &&
                 (trimmed[4] | 0x20) == 'e') {
        out = types::Value::Boolean(false);
      } else {
        return mismatch();
      }
      return Status::OK();
    }
    case TypeId::kInt: {
      int64_t number = 0;
      if (!ParseInteger(text, number)) return mismatch();
      if (number < std::numeric_limits<int32_t>::min() ||
          number > std::numeric_limits<int32_t>::max()) {
        return Status::InvalidArgument("value " + QuoteForError(text) +
                                       " is out of range for INTEGER");
      }
      out = types::Value::Int(static_cast<int32_t>(number));
      return Status::OK();
    }
    case TypeId::kBigint: {
      int64_t number = 0;
      if (!ParseInteger(text, number)) return mismatch();
      out = types::Value::Bigint(number);
      return Status::OK();
    }
    case TypeId::kDouble: {
      double number = 0;
      if (!ParseDouble(text, number)) return mismatch();
      out = types::Value::Double(number);
      return Status::OK();
    }
    case TypeId::kDecimal: {
      types::Decimal decimal;
      RETURN_NOT_OK(ParseDecimal(TrimSpaces(text), type.precision(), type.scale(), decimal));
      out = types::Value::DecimalValue(decimal.unscaled, decimal.scale);
      return Status::OK();
    }
    case TypeId::kString:
      out.AssignString(text);
      return Status::OK();
    case TypeId::kBytes: {
      std::string bytes;
      if (!DecodeBase64(text, bytes)) return mismatch();
      out = types::Value::Bytes(std::move(bytes));
      return Status::OK();
    }
    case TypeId::kTimestamp: {
      int64_t milliseconds = 0;
      if (!ParseInteger(text, milliseconds) && !ParseTimestamp(text, milliseconds)) {
        return mismatch();
      }
      out = types::Value::Timestamp(milliseconds);
      return Status::OK();
    }
    case TypeId::kDate: {
      int64_t days = 0;
      int32_t parsed = 0;
      if (ParseInteger(text, days) && days >= std::numeric_limits<int32_t>::min() &&
          days <= std::numeric_limits<int32_t>::max()) {
        parsed = static_cast<int32_t>(days);
      } else if (!ParseDate(text, parsed)) {
        return mismatch();
      }
      out = types::Value::Date(parsed);
      return Status::OK();
    }
    case TypeId::kTime: {
      int64_t milliseconds = 0;
      int32_t parsed = 0;
      if (ParseInteger(text, milliseconds) && milliseconds >= 0 && milliseconds < 86'400'000) {
        parsed = static_cast<int32_t>(milliseconds);
      } else if (!ParseTime(text, parsed)) {
        return mismatch();
      }
      out = types::Value::Time(parsed);
      return Status::OK();
    }
    default:
      return Status::InvalidArgument("cannot read " + type.ToString() + " from text " +
                                     QuoteForError(text));
  }
}

std::string QuoteForError(std::string_view text) {
  constexpr size_t kMaxShown = 40;
  std::string quoted = "'";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      quoted += '?';
    } else {
      quoted += static_cast<char>(c);
    }
  }
  if (text.size() > kMaxShown) quoted += "...";
  return quoted + "'";
}

bool IsUtf8(std::string_view text) { return simdjson::validate_utf8(text.data(), text.size()); }

Status CheckUtf8(std::string_view text, std::string_view format) {
  if (IsUtf8(text)) return Status::OK();
  return Status::InvalidArgument(std::string(format) + ": not valid UTF-8 text");
}

}  // namespace sidestream::formats
