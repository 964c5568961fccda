#include "functions/numbers.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace sidestream::functions {

using types::Decimal;
using types::TypeId;
using types::Value;

namespace {

// The shortest round-trip digits of a finite, non-zero |value| and the decimal exponent of
// the first digit: value = d0.d1d2... * 10^exponent.
void ShortestDigits(double value, std::string& digits, int& exponent) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), std::fabs(value),
                                    std::chars_format::scientific);
  (void)error;  // 64 characters always suffice for a double.
  std::string_view text(buffer, static_cast<size_t>(end - buffer));
  size_t e = text.find('e');
  digits.clear();
  for (size_t i = 0; i < e; ++i) {
    if (text[i] != '.') digits += text[i];
  }
  exponent = std::atoi(std::string(text.substr(e + 1)).c_str());
  if (digits.size() == 1) {
    // Java keeps at least two significant digits and picks the two nearest the exact
    // value (4.9E-324, not 5.0E-324); a trailing zero is dropped again.
    auto [end2, error2] = std::to_chars(buffer, buffer + sizeof(buffer), std::fabs(value),
                                        std::chars_format::scientific, 1);
    (void)error2;
    std::string_view two(buffer, static_cast<size_t>(end2 - buffer));
    size_t e2 = two.find('e');
    digits = std::string(1, two[0]) + (two[2] == '0' ? "" : std::string(1, two[2]));
    exponent = std::atoi(std::string(two.substr(e2 + 1)).c_str());
  }
}

}  // namespace

__int128 PowerOfTen(int exponent) {
  __int128 result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}

__int128 DivideHalfUp(__int128 a, __int128 b) {
  __int128 quotient = a / b;
  __int128 remainder = a % b;
  if (remainder == 0) return quotient;
  __int128 twice = remainder < 0 ? -remainder * 2 : remainder * 2;
  __int128 divisor = b < 0 ? -b : b;
  if (twice >= divisor) quotient += ((a < 0) != (b < 0)) ? -1 : 1;
  return quotient;
}

__int128 RescaleHalfUp(__int128 unscaled, int from_scale, int to_scale) {
  if (to_scale >= from_scale) return unscaled * PowerOfTen(to_scale - from_scale);
  int drop = from_scale - to_scale;
  if (drop > 38) return 0;
  return DivideHalfUp(unscaled, PowerOfTen(drop));
}

int DigitCount(__int128 unscaled) {
  if (unscaled < 0) unscaled = -unscaled;
  int count = 1;
  while (unscaled >= 10) {
    unscaled /= 10;
    ++count;
  }
  return count;
}

Result<Decimal> ParseDecimal(std::string_view text) {
  auto invalid = [&] {
    return Status::InvalidArgument("Cannot convert '" + std::string(text) + "' to a DECIMAL");
  };
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  std::string_view body = text.substr(begin, end - begin);
  size_t i = 0;
  bool negative = false;
  if (i < body.size() && (body[i] == '+' || body[i] == '-')) negative = body[i++] == '-';
  __int128 unscaled = 0;
  int scale = 0;
  int digits = 0;
  bool point = false;
  for (; i < body.size(); ++i) {
    char c = body[i];
    if (c == '.' && !point) {
      point = true;
    } else if (c >= '0' && c <= '9') {
      if (digits >= 38) return invalid();
      if (unscaled != 0 || c != '0') ++digits;
      unscaled = unscaled * 10 + (c - '0');
      if (point) ++scale;
    } else {
      break;
    }
  }
  bool any_digit = false;
  for (char c : body.substr(0, i)) any_digit = any_digit || (c >= '0' && c <= '9');
  if (!any_digit) return invalid();
  if (i < body.size()) {
    if (body[i] != 'e' && body[i] != 'E') return invalid();
    int exponent = 0;
    auto [ptr, error] =
        std::from_chars(body.data() + i + 1 + (body.size() > i + 1 && body[i + 1] == '+'),
                        body.data() + body.size(), exponent);
    if (error != std::errc() || ptr != body.data() + body.size()) return invalid();
    scale -= exponent;
  }
  if (scale < 0) {
    if (digits - scale > 38) return invalid();
    unscaled *= PowerOfTen(-scale);
    scale = 0;
  }
  return Decimal{negative ? -unscaled : unscaled, scale};
}

std::string JavaDoubleString(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";
  std::string digits;
  int exponent = 0;
  ShortestDigits(value, digits, exponent);
  std::string text = value < 0 ? "-" : "";
  double magnitude = std::fabs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    if (exponent >= 0) {
      while (static_cast<int>(digits.size()) <= exponent) digits += '0';
      text += digits.substr(0, static_cast<size_t>(exponent) + 1);
      std::string fraction = digits.substr(static_cast<size_t>(exponent) + 1);
      text += "." + (fraction.empty() ? std::string("0") : fraction);
    } else {
      text += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    }
    return text;
  }
  text += digits.substr(0, 1) + ".";
  text += digits.size() > 1 ? digits.substr(1) : "0";
  return text + "E" + std::to_string(exponent);
}

Result<Decimal> DecimalFromDouble(double value) {
  if (!std::isfinite(value)) {
    return Status::InvalidArgument("Cannot convert " + JavaDoubleString(value) + " to a DECIMAL");
  }
  if (value == 0) return Decimal{0, 1};
  std::string digits;
  int exponent = 0;
  ShortestDigits(value, digits, exponent);
  __int128 unscaled = 0;
  for (char c : digits) unscaled = unscaled * 10 + (c - '0');
  int scale = static_cast<int>(digits.size()) - 1 - exponent;
  if (scale < 0) {
    if (static_cast<int>(digits.size()) - scale > 38) {
      return Status::InvalidArgument("Cannot convert " + JavaDoubleString(value) +
                                     " to a DECIMAL: out of range");
    }
    unscaled *= PowerOfTen(-scale);
    scale = 0;
  }
  // BigDecimal.valueOf keeps at least one fraction digit ("1.0").
  if (scale == 0) {
    unscaled *= 10;
    scale = 1;
  }
  return Decimal{value < 0 ? -unscaled : unscaled, scale};
}

double NumberAsDouble(const Value& value) {
  switch (value.kind()) {
    case TypeId::kDouble:
      return value.float64();
    case TypeId::kDecimal:
      return types::DecimalToDouble(value.decimal());
    default:
      return static_cast<double>(value.integer());
  }
}

Result<Decimal> NumberAsDecimal(const Value& value) {
  switch (value.kind()) {
    case TypeId::kDouble:
      return DecimalFromDouble(value.float64());
    case TypeId::kDecimal:
      return value.decimal();
    default:
      return Decimal{value.integer(), 0};
  }
}

}  // namespace sidestream::functions
