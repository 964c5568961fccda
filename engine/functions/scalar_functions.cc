#include "functions/scalar_functions.h"

#include <re2/re2.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "functions/function_builder.h"
#include "functions/numbers.h"
#include "functions/telecom_functions.h"
#include "functions/temporal_format.h"

namespace sidestream::functions {

using types::Decimal;
using types::SqlType;
using types::TypeId;
using types::Value;

namespace {

using Arguments = std::span<const Value>;
using Body = ScalarFunction::Body;

using Factory = ScalarFactory;

// ------------------------------------------------------------------ UTF-8 helpers

size_t CodePointLength(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

int64_t CodePointCount(std::string_view text) {
  int64_t count = 0;
  for (size_t i = 0; i < text.size(); i += CodePointLength(static_cast<unsigned char>(text[i]))) {
    ++count;
  }
  return count;
}

// Byte offset of code point `index` (clamped to the end).
size_t ByteOffset(std::string_view text, int64_t index) {
  size_t at = 0;
  for (int64_t i = 0; i < index && at < text.size(); ++i) {
    at += CodePointLength(static_cast<unsigned char>(text[at]));
  }
  return std::min(at, text.size());
}

bool IsJavaWhitespace(char c) { return static_cast<unsigned char>(c) <= ' '; }

// ------------------------------------------------------------------ math

// Drops digits from `unscaled` (at `from_scale`) down to `to_scale` < `from_scale`, a tie going
// toward positive infinity: ksqlDB's ROUND keeps Math.round's rule, so it uses BigDecimal's
// HALF_UP for positive values and HALF_DOWN for negative ones (ROUND(-1.5, 0) is -1.0).
__int128 RescaleHalfCeiling(__int128 unscaled, int from_scale, int to_scale) {
  int drop = from_scale - to_scale;
  if (drop > 38) return 0;
  __int128 unit = PowerOfTen(drop);
  __int128 shifted = unscaled + unit / 2;
  __int128 quotient = shifted / unit;
  return shifted % unit < 0 ? quotient - 1 : quotient;  // floor division
}

Value Round(const Value& x, int64_t digits, bool truncate) {
  switch (x.kind()) {
    case TypeId::kInt:
    case TypeId::kBigint: {
      if (digits >= 0) return x;
      if (digits < -18) return x.kind() == TypeId::kInt ? Value::Int(0) : Value::Bigint(0);
      int64_t unit = static_cast<int64_t>(PowerOfTen(static_cast<int>(-digits)));
      __int128 value = x.integer();
      __int128 rounded = truncate ? value / unit * unit : DivideHalfUp(value, unit) * unit;
      return x.kind() == TypeId::kInt ? Value::Int(static_cast<int32_t>(rounded))
                                      : Value::Bigint(static_cast<int64_t>(rounded));
    }
    case TypeId::kDouble: {
      double value = x.float64();
      if (!std::isfinite(value)) return x;
      auto decimal = DecimalFromDouble(value);
      if (!decimal.ok()) return x;
      int target = static_cast<int>(std::clamp<int64_t>(digits, -30, 30));
      __int128 unscaled = decimal->unscaled;
      int scale = decimal->scale;
      if (target >= scale) return x;  // no digit to drop
      __int128 rounded = !truncate             ? RescaleHalfCeiling(unscaled, scale, target)
                         : scale - target > 38 ? 0
                                               : unscaled / PowerOfTen(scale - target);
      // BigDecimal.doubleValue() rounds once, as strtod does; dividing by 10^target would
      // round twice once `rounded` passes 2^53 (cosh(9.1) to 13 places).
      std::string text =
          std::to_string(static_cast<int64_t>(rounded)) + "e" + std::to_string(-target);
      return Value::Double(std::strtod(text.c_str(), nullptr));
    }
    case TypeId::kDecimal: {
      Decimal decimal = x.decimal();
      int target = static_cast<int>(std::clamp<int64_t>(digits, -38, 38));
      __int128 rounded;
      if (target >= decimal.scale) return x;
      if (truncate) {
        rounded = decimal.unscaled / PowerOfTen(decimal.scale - target);
      } else {
        rounded = RescaleHalfCeiling(decimal.unscaled, decimal.scale, target);
      }
      if (target < 0) return Value::DecimalValue(rounded * PowerOfTen(-target), 0);
      return Value::DecimalValue(rounded, target);
    }
    default:
      return x;
  }
}

Body UnaryDouble(double (*function)(double)) {
  return [function](Arguments arguments, Value& out) {
    out = Value::Double(function(NumberAsDouble(arguments[0])));
    return Status::OK();
  };
}

void AddMath(std::map<std::string, Factory>& table) {
  table["ABS"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([](Arguments arguments, Value& out) {
      const Value& x = arguments[0];
      switch (x.kind()) {
        case TypeId::kInt:
          out = Value::Int(x.integer() < 0
                               ? static_cast<int32_t>(0u - static_cast<uint32_t>(x.integer()))
                               : static_cast<int32_t>(x.integer()));
          break;
        case TypeId::kBigint:
          out = Value::Bigint(x.integer() < 0
                                  ? static_cast<int64_t>(0ull - static_cast<uint64_t>(x.integer()))
                                  : x.integer());
          break;
        case TypeId::kDouble:
          out = Value::Double(std::fabs(x.float64()));
          break;
        case TypeId::kDecimal:
          out = Value::DecimalValue(
              x.decimal().unscaled < 0 ? -x.decimal().unscaled : x.decimal().unscaled,
              x.decimal().scale);
          break;
        default:
          out = x;
      }
      return Status::OK();
    });
  };
  for (bool ceil : {true, false}) {
    table[ceil ? "CEIL" : "FLOOR"] =
        [ceil](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
      return Strict([ceil](Arguments arguments, Value& out) {
        const Value& x = arguments[0];
        if (x.kind() == TypeId::kDouble) {
          out = Value::Double(ceil ? std::ceil(x.float64()) : std::floor(x.float64()));
        } else if (x.kind() == TypeId::kDecimal) {
          Decimal decimal = x.decimal();
          __int128 unit = PowerOfTen(decimal.scale);
          __int128 whole = decimal.unscaled / unit;
          __int128 remainder = decimal.unscaled % unit;
          if (remainder > 0 && ceil) ++whole;
          if (remainder < 0 && !ceil) --whole;
          out = Value::DecimalValue(whole * unit, decimal.scale);
        } else {
          out = x;
        }
        return Status::OK();
      });
    };
  }
  for (bool truncate : {false, true}) {
    table[truncate ? "TRUNC" : "ROUND"] =
        [truncate](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
      bool with_digits = site.types.size() > 1;
      return Strict([truncate, with_digits](Arguments arguments, Value& out) {
        const Value& x = arguments[0];
        if (!with_digits && x.kind() == TypeId::kDouble) {
          // Math.round: half up toward positive infinity; TRUNC: toward zero.
          double value = x.float64();
          double rounded = truncate ? std::trunc(value) : std::floor(value + 0.5);
          if (std::isnan(rounded)) rounded = 0;
          out = Value::Bigint(rounded >= 9.2233720368547758e18    ? INT64_MAX
                              : rounded <= -9.2233720368547758e18 ? INT64_MIN
                                                                  : static_cast<int64_t>(rounded));
          return Status::OK();
        }
        out = Round(x, with_digits ? arguments[1].integer() : 0, truncate);
        return Status::OK();
      });
    };
  }
  table["SIGN"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([](Arguments arguments, Value& out) {
      const Value& x = arguments[0];
      int sign = 0;
      if (x.kind() == TypeId::kDecimal) {
        sign = x.decimal().unscaled > 0 ? 1 : x.decimal().unscaled < 0 ? -1 : 0;
      } else {
        double value = NumberAsDouble(x);
        sign = value > 0 ? 1 : value < 0 ? -1 : 0;
      }
      out = Value::Int(sign);
      return Status::OK();
    });
  };
  static const std::pair<const char*, double (*)(double)> kUnary[] = {
      {"SQRT", [](double x) { return std::sqrt(x); }},
      {"CBRT", [](double x) { return std::cbrt(x); }},
      {"EXP", [](double x) { return std::exp(x); }},
      {"LN", [](double x) { return std::log(x); }},
      {"ACOS", [](double x) { return std::acos(x); }},
      {"ASIN", [](double x) { return std::asin(x); }},
      {"ATAN", [](double x) { return std::atan(x); }},
      {"COS", [](double x) { return std::cos(x); }},
      {"COSH", [](double x) { return std::cosh(x); }},
      {"COT", [](double x) { return 1.0 / std::tan(x); }},
      {"SIN", [](double x) { return std::sin(x); }},
      {"SINH", [](double x) { return std::sinh(x); }},
      {"TAN", [](double x) { return std::tan(x); }},
      {"TANH", [](double x) { return std::tanh(x); }},
      {"DEGREES", [](double x) { return x * 180.0 / M_PI; }},
      {"RADIANS", [](double x) { return x * M_PI / 180.0; }},
  };
  for (const auto& [name, function] : kUnary) {
    auto pointer = function;
    table[name] = [pointer](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
      return Strict(UnaryDouble(pointer));
    };
  }
  table["LOG"] = [](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
    bool with_base = site.types.size() == 2;
    return Strict([with_base](Arguments arguments, Value& out) {
      double x = NumberAsDouble(arguments[with_base ? 1 : 0]);
      if (!with_base) {
        out = Value::Double(std::log(x));
        return Status::OK();
      }
      // ksqlDB: a base that is not positive, or is 1, has no logarithm.
      double base = NumberAsDouble(arguments[0]);
      out = Value::Double(base <= 0 || base == 1 ? std::nan("") : std::log(x) / std::log(base));
      return Status::OK();
    });
  };
  table["POWER"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([](Arguments arguments, Value& out) {
      out = Value::Double(std::pow(NumberAsDouble(arguments[0]), NumberAsDouble(arguments[1])));
      return Status::OK();
    });
  };
  table["ATAN2"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([](Arguments arguments, Value& out) {
      out = Value::Double(std::atan2(NumberAsDouble(arguments[0]), NumberAsDouble(arguments[1])));
      return Status::OK();
    });
  };
  table["PI"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([](Arguments, Value& out) {
      out = Value::Double(M_PI);
      return Status::OK();
    });
  };
  table["RANDOM"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([](Arguments, Value& out) {
      thread_local std::mt19937_64 generator{std::random_device{}()};
      out = Value::Double(std::uniform_real_distribution<double>(0.0, 1.0)(generator));
      return Status::OK();
    });
  };
  for (bool greatest : {true, false}) {
    table[greatest ? "GREATEST" : "LEAST"] =
        [greatest](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
      // NULL arguments are skipped; NULL only when all are NULL.
      return Lenient([greatest](Arguments arguments, Value& out) {
        const Value* best = nullptr;
        for (const Value& argument : arguments) {
          if (argument.is_null()) continue;
          if (best == nullptr || (Value::Compare(argument, *best) > 0) == greatest) {
            if (best == nullptr || Value::Compare(argument, *best) != 0) best = &argument;
          }
        }
        out = best == nullptr ? Value::Null() : *best;
        return Status::OK();
      });
    };
  }
  table["GEO_DISTANCE"] = [](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
    // ksqlDB: the unit is trimmed and case-insensitive; NULL or blank means kilometres.
    auto radius_for = [](const Value& unit) -> Result<double> {
      if (unit.is_null()) return 6371.0;
      std::string lower;
      for (char c : unit.string()) {
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      lower.erase(0, lower.find_first_not_of(" \t\r\n"));
      lower.erase(lower.find_last_not_of(" \t\r\n") + 1);
      if (lower.empty() || lower == "km" || lower == "kilometer" || lower == "kilometers" ||
          lower == "kilometre" || lower == "kilometres") {
        return 6371.0;
      }
      if (lower == "mi" || lower == "mile" || lower == "miles") return 3959.0;
      return Status::InvalidArgument("GEO_DISTANCE unit must be KM or MILES but is '" +
                                     unit.string() + "'");
    };
    std::optional<double> fixed_radius;
    if (site.types.size() < 5) {
      fixed_radius = 6371.0;
    } else if (const Value* unit = site.constant(4); unit != nullptr) {
      ASSIGN_OR_RAISE(double radius, radius_for(*unit));
      fixed_radius = radius;
    }
    // Lenient: a NULL unit is not a NULL result.
    return Lenient([fixed_radius, radius_for](Arguments arguments, Value& out) {
      for (size_t i = 0; i < 4; ++i) {
        if (arguments[i].is_null()) {
          out = Value::Null();
          return Status::OK();
        }
      }
      double radius = 0;
      if (fixed_radius.has_value()) {
        radius = *fixed_radius;
      } else {
        ASSIGN_OR_RAISE(radius, radius_for(arguments[4]));
      }
      double lat1 = NumberAsDouble(arguments[0]);
      double lon1 = NumberAsDouble(arguments[1]);
      double lat2 = NumberAsDouble(arguments[2]);
      double lon2 = NumberAsDouble(arguments[3]);
      if (std::fabs(lat1) > 90 || std::fabs(lat2) > 90 || std::fabs(lon1) > 180 ||
          std::fabs(lon2) > 180) {
        return Status::InvalidArgument(
            "GEO_DISTANCE: latitudes must be within [-90, 90] and longitudes within [-180, 180]");
      }
      out = Value::Double(HaversineDistance(lat1, lon1, lat2, lon2, radius));
      return Status::OK();
    });
  };
}

// ------------------------------------------------------------------ strings

template <typename Transform>
Factory StringTransform(Transform transform) {
  return [transform](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([transform](Arguments arguments, Value& out) {
      std::string& buffer = Scratch();
      transform(std::string_view(arguments[0].string()), buffer);
      out.AssignString(buffer);
      return Status::OK();
    });
  };
}

void AddStrings(std::map<std::string, Factory>& table) {
  Factory length = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([](Arguments arguments, Value& out) {
      const std::string& text = arguments[0].string();
      bool bytes = arguments[0].kind() == TypeId::kBytes;
      out = Value::Int(static_cast<int32_t>(bytes ? text.size() : CodePointCount(text)));
      return Status::OK();
    });
  };
  table["LEN"] = length;
  table["LENGTH"] = length;
  auto upper = StringTransform([](std::string_view in, std::string& out) {
    for (char c : in) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  });
  auto lower = StringTransform([](std::string_view in, std::string& out) {
    for (char c : in) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  table["UCASE"] = upper;
  table["UPPER"] = upper;
  table["LCASE"] = lower;
  table["LOWER"] = lower;
  table["TRIM"] = StringTransform([](std::string_view in, std::string& out) {
    while (!in.empty() && IsJavaWhitespace(in.front())) in.remove_prefix(1);
    while (!in.empty() && IsJavaWhitespace(in.back())) in.remove_suffix(1);
    out += in;
  });
  table["LTRIM"] = StringTransform([](std::string_view in, std::string& out) {
    while (!in.empty() && IsJavaWhitespace(in.front())) in.remove_prefix(1);
    out += in;
  });
  table["RTRIM"] = StringTransform([](std::string_view in, std::string& out) {
    while (!in.empty() && IsJavaWhitespace(in.back())) in.remove_suffix(1);
    out += in;
  });
  // ksqlDB's INITCAP: the first letter of each space-separated word upper-cased, the
  // rest lower-cased.
  table["INITCAP"] = StringTransform([](std::string_view in, std::string& out) {
    bool start = true;
    for (char c : in) {
      unsigned char byte = static_cast<unsigned char>(c);
      out += static_cast<char>(start ? std::toupper(byte) : std::tolower(byte));
      start = std::isspace(byte) != 0;
    }
  });
  table["REVERSE"] = StringTransform([](std::string_view in, std::string& out) {
    size_t end = in.size();
    std::vector<size_t> starts;
    for (size_t i = 0; i < end; i += CodePointLength(static_cast<unsigned char>(in[i]))) {
      starts.push_back(i);
    }
    for (size_t k = starts.size(); k-- > 0;) {
      out += in.substr(starts[k], end - starts[k]);
      end = starts[k];
    }
  });
  // CONCAT, CONCAT_WS and SUBSTRING take BYTES as well as STRING, and then give BYTES.
  auto is_bytes = [](const CallSite& site) {
    return std::any_of(site.types.begin(), site.types.end(),
                       [](const SqlType& type) { return type.id() == TypeId::kBytes; });
  };
  auto assign_text = [](bool bytes, const std::string& text, Value& out) {
    if (bytes) {
      out = Value::Bytes(text);
    } else {
      out.AssignString(text);
    }
  };
  table["CONCAT"] = [is_bytes,
                     assign_text](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
    bool bytes = is_bytes(site);
    return Lenient([bytes, assign_text](Arguments arguments, Value& out) {
      std::string& buffer = Scratch();
      for (const Value& argument : arguments) {
        if (!argument.is_null()) buffer += argument.string();
      }
      assign_text(bytes, buffer, out);
      return Status::OK();
    });
  };
  table["CONCAT_WS"] =
      [is_bytes, assign_text](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
    bool bytes = is_bytes(site);
    return Lenient([bytes, assign_text](Arguments arguments, Value& out) {
      if (arguments[0].is_null()) {
        out = Value::Null();
        return Status::OK();
      }
      std::string& buffer = Scratch();
      bool first = true;
      for (size_t i = 1; i < arguments.size(); ++i) {
        if (arguments[i].is_null()) continue;
        if (!first) buffer += arguments[0].string();
        buffer += arguments[i].string();
        first = false;
      }
      assign_text(bytes, buffer, out);
      return Status::OK();
    });
  };
  table["SUBSTRING"] =
      [is_bytes, assign_text](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
    bool with_length = site.types.size() == 3;
    bool bytes = is_bytes(site);
    return Strict([with_length, bytes, assign_text](Arguments arguments, Value& out) {
      std::string_view text = arguments[0].string();
      // Characters of a STRING, bytes of BYTES.
      int64_t size = bytes ? static_cast<int64_t>(text.size()) : CodePointCount(text);
      int64_t position = arguments[1].integer();
      // ksqlDB: positions count from 1; 0 acts as 1; negative counts from the end.
      int64_t start = position >= 0 ? std::min(size, std::max<int64_t>(0, position - 1))
                                    : std::max<int64_t>(0, size + position);
      int64_t end = size;
      if (with_length) {
        end = std::max(start, std::min(size, start + arguments[2].integer()));
      }
      size_t begin_byte = bytes ? start : ByteOffset(text, start);
      size_t end_byte = bytes ? end : ByteOffset(text, end);
      std::string& buffer = Scratch();
      buffer.append(text.substr(begin_byte, end_byte - begin_byte));
      assign_text(bytes, buffer, out);
      return Status::OK();
    });
  };
  table["REPLACE"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([](Arguments arguments, Value& out) {
      std::string_view text = arguments[0].string();
      std::string_view from = arguments[1].string();
      std::string_view to = arguments[2].string();
      std::string& buffer = Scratch();
      if (from.empty()) {  // Java inserts the replacement around every character.
        buffer += to;
        for (size_t i = 0; i < text.size();) {
          size_t length = CodePointLength(static_cast<unsigned char>(text[i]));
          buffer += text.substr(i, length);
          buffer += to;
          i += length;
        }
      } else {
        size_t at = 0;
        for (size_t found; (found = text.find(from, at)) != std::string_view::npos;
             at = found + from.size()) {
          buffer += text.substr(at, found - at);
          buffer += to;
        }
        buffer += text.substr(at);
      }
      out.AssignString(buffer);
      return Status::OK();
    });
  };
  table["INSTR"] = [](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
    size_t count = site.types.size();
    return Strict([count](Arguments arguments, Value& out) {
      std::string_view text = arguments[0].string();
      std::string_view sub = arguments[1].string();
      int64_t position = count > 2 ? arguments[2].integer() : 1;
      int64_t occurrence = count > 3 ? arguments[3].integer() : 1;
      int64_t length = static_cast<int64_t>(text.size());
      int64_t found = -1;
      if (occurrence > 0 && position != 0) {
        if (position > 0) {
          int64_t from = position - 1;
          for (int64_t n = 0; n < occurrence; ++n) {
            if (from > length) {
              found = -1;
              break;
            }
            size_t at = text.find(sub, static_cast<size_t>(from));
            found = at == std::string_view::npos ? -1 : static_cast<int64_t>(at);
            if (found < 0) break;
            from = found + 1;
          }
        } else {
          int64_t from = length + position;
          for (int64_t n = 0; n < occurrence; ++n) {
            if (from < 0) {
              found = -1;
              break;
            }
            size_t at = text.rfind(sub, static_cast<size_t>(from));
            found = at == std::string_view::npos ? -1 : static_cast<int64_t>(at);
            if (found < 0) break;
            from = found - 1;
          }
        }
      }
      out = Value::Int(found < 0 ? 0
                                 : static_cast<int32_t>(
                                       CodePointCount(text.substr(0, static_cast<size_t>(found)))) +
                                       1);
      return Status::OK();
    });
  };
  // LPAD and RPAD count characters of a STRING, bytes of BYTES.
  for (bool left : {true, false}) {
    table[left ? "LPAD" : "RPAD"] =
        [left, is_bytes,
         assign_text](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
      bool bytes = is_bytes(site);
      return Strict([left, bytes, assign_text](Arguments arguments, Value& out) {
        std::string_view text = arguments[0].string();
        int64_t target = arguments[1].integer();
        std::string_view padding = arguments[2].string();
        // ksqlDB: NULL for a negative length or an empty padding.
        if (target < 0 || padding.empty()) {
          out = Value::Null();
          return Status::OK();
        }
        auto length = [bytes](std::string_view s) {
          return bytes ? static_cast<int64_t>(s.size()) : CodePointCount(s);
        };
        auto offset = [bytes](std::string_view s, int64_t index) {
          return bytes ? std::min(static_cast<size_t>(index), s.size()) : ByteOffset(s, index);
        };
        int64_t size = length(text);
        std::string& buffer = Scratch();
        if (size >= target) {
          buffer.append(text.substr(0, offset(text, target)));
        } else {
          std::string pad;
          int64_t pad_length = length(padding);
          while (length(pad) + pad_length <= target - size) pad += padding;
          pad.append(padding.substr(0, offset(padding, target - size - length(pad))));
          if (left) {
            buffer += pad;
            buffer += text;
          } else {
            buffer += text;
            buffer += pad;
          }
        }
        assign_text(bytes, buffer, out);
        return Status::OK();
      });
    };
  }
  table["SPLIT"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([](Arguments arguments, Value& out) {
      std::string_view text = arguments[0].string();
      std::string_view delimiter = arguments[1].string();
      std::vector<Value> parts;
      if (delimiter.empty()) {
        for (size_t i = 0; i < text.size();) {
          size_t length = CodePointLength(static_cast<unsigned char>(text[i]));
          parts.push_back(Value::String(std::string(text.substr(i, length))));
          i += length;
        }
      } else {
        size_t at = 0;
        for (size_t found; (found = text.find(delimiter, at)) != std::string_view::npos;
             at = found + delimiter.size()) {
          parts.push_back(Value::String(std::string(text.substr(at, found - at))));
        }
        parts.push_back(Value::String(std::string(text.substr(at))));
      }
      out = Value::Array(std::move(parts));
      return Status::OK();
    });
  };
}

// ------------------------------------------------------------------ regular expressions

// The compiled pattern of a call: built once when the pattern is a literal, else per call.
class RegexArgument {
 public:
  static Result<RegexArgument> Make(const CallSite& site, size_t index) {
    RegexArgument argument;
    argument.index_ = index;
    if (const Value* constant = site.constant(index); constant != nullptr && !constant->is_null()) {
      ASSIGN_OR_RAISE(argument.compiled_, Compile(constant->string()));
    }
    return argument;
  }

  // The pattern for this call; `holder` keeps a per-call compilation alive.
  Result<const RE2*> Get(Arguments arguments, std::shared_ptr<const RE2>& holder) const {
    if (compiled_) return compiled_.get();
    ASSIGN_OR_RAISE(holder, Compile(arguments[index_].string()));
    return holder.get();
  }

 private:
  static Result<std::shared_ptr<const RE2>> Compile(const std::string& pattern) {
    RE2::Options options;
    options.set_log_errors(false);
    auto compiled = std::make_shared<const RE2>(pattern, options);
    if (!compiled->ok()) {
      return Status::InvalidArgument("Invalid regular expression '" + pattern +
                                     "': " + compiled->error());
    }
    return std::shared_ptr<const RE2>(compiled);
  }

  size_t index_ = 0;
  std::shared_ptr<const RE2> compiled_;
};

// Java's replacement syntax ($1, \$) in RE2's (\1, $).
std::string JavaReplacementToRe2(std::string_view replacement) {
  std::string converted;
  for (size_t i = 0; i < replacement.size(); ++i) {
    char c = replacement[i];
    if (c == '\\' && i + 1 < replacement.size()) {
      char next = replacement[++i];
      if (next == '\\') {
        converted += "\\\\";
      } else {
        converted += next;
      }
    } else if (c == '$' && i + 1 < replacement.size() &&
               std::isdigit(static_cast<unsigned char>(replacement[i + 1]))) {
      converted += '\\';
    } else {
      converted += c;
    }
  }
  return converted;
}

void AddRegex(std::map<std::string, Factory>& table) {
  table["REGEXP_EXTRACT"] = [](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
    ASSIGN_OR_RAISE(RegexArgument pattern, RegexArgument::Make(site, 0));
    bool with_group = site.types.size() == 3;
    return Strict([pattern, with_group](Arguments arguments, Value& out) {
      std::shared_ptr<const RE2> holder;
      ASSIGN_OR_RAISE(const RE2* regex, pattern.Get(arguments, holder));
      int64_t group = with_group ? arguments[2].integer() : 0;
      if (group < 0 || group > regex->NumberOfCapturingGroups()) {
        out = Value::Null();
        return Status::OK();
      }
      std::vector<re2::StringPiece> groups(static_cast<size_t>(group) + 1);
      const std::string& text = arguments[1].string();
      if (!regex->Match(text, 0, text.size(), RE2::UNANCHORED, groups.data(),
                        static_cast<int>(groups.size())) ||
          groups.back().data() == nullptr) {
        out = Value::Null();
      } else {
        out.AssignString(std::string_view(groups.back().data(), groups.back().size()));
      }
      return Status::OK();
    });
  };
  table["REGEXP_REPLACE"] = [](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
    ASSIGN_OR_RAISE(RegexArgument pattern, RegexArgument::Make(site, 1));
    return Strict([pattern](Arguments arguments, Value& out) {
      std::shared_ptr<const RE2> holder;
      ASSIGN_OR_RAISE(const RE2* regex, pattern.Get(arguments, holder));
      std::string& buffer = Scratch();
      buffer = arguments[0].string();
      RE2::GlobalReplace(&buffer, *regex, JavaReplacementToRe2(arguments[2].string()));
      out.AssignString(buffer);
      return Status::OK();
    });
  };
  table["REGEXP_LIKE"] = [](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
    ASSIGN_OR_RAISE(RegexArgument pattern, RegexArgument::Make(site, 1));
    return Strict([pattern](Arguments arguments, Value& out) {
      std::shared_ptr<const RE2> holder;
      ASSIGN_OR_RAISE(const RE2* regex, pattern.Get(arguments, holder));
      out = Value::Boolean(RE2::PartialMatch(arguments[0].string(), *regex));
      return Status::OK();
    });
  };
  table["REGEXP_SPLIT_TO_ARRAY"] =
      [](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
    ASSIGN_OR_RAISE(RegexArgument pattern, RegexArgument::Make(site, 1));
    return Strict([pattern](Arguments arguments, Value& out) {
      std::shared_ptr<const RE2> holder;
      ASSIGN_OR_RAISE(const RE2* regex, pattern.Get(arguments, holder));
      const std::string& text = arguments[0].string();
      std::vector<Value> parts;
      size_t at = 0;
      size_t search = 0;
      re2::StringPiece match;
      while (search <= text.size() &&
             regex->Match(text, search, text.size(), RE2::UNANCHORED, &match, 1)) {
        size_t begin = static_cast<size_t>(match.data() - text.data());
        if (match.empty()) {  // an empty match splits nothing; step over one byte
          search = begin + 1;
          continue;
        }
        parts.push_back(Value::String(text.substr(at, begin - at)));
        at = begin + match.size();
        search = at;
      }
      parts.push_back(Value::String(text.substr(at)));
      out = Value::Array(std::move(parts));
      return Status::OK();
    });
  };
}

// ------------------------------------------------------------------ JSON

// Splits a JSONPath ($.a.b[0], $['a']) into object keys and array indexes.
bool ParseJsonPath(std::string_view path, std::vector<std::variant<std::string, size_t>>& steps) {
  size_t i = 0;
  if (i < path.size() && path[i] == '$') ++i;
  while (i < path.size()) {
    if (path[i] == '.') {
      size_t end = ++i;
      while (end < path.size() && path[end] != '.' && path[end] != '[') ++end;
      if (end == i) return false;
      steps.emplace_back(std::string(path.substr(i, end - i)));
      i = end;
    } else if (path[i] == '[') {
      size_t close = path.find(']', i);
      if (close == std::string_view::npos) return false;
      std::string_view inside = path.substr(i + 1, close - i - 1);
      if (inside.size() >= 2 && (inside.front() == '\'' || inside.front() == '"')) {
        steps.emplace_back(std::string(inside.substr(1, inside.size() - 2)));
      } else {
        size_t index = 0;
        for (char c : inside) {
          if (!std::isdigit(static_cast<unsigned char>(c))) return false;
          index = index * 10 + static_cast<size_t>(c - '0');
        }
        steps.emplace_back(index);
      }
      i = close + 1;
    } else {
      return false;
    }
  }
  return true;
}

void AddJson(std::map<std::string, Factory>& table) {
  table["EXTRACTJSONFIELD"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([](Arguments arguments, Value& out) {
      std::vector<std::variant<std::string, size_t>> steps;
      if (!ParseJsonPath(arguments[1].string(), steps)) {
        return Status::InvalidArgument("Invalid JSON path '" + arguments[1].string() + "'");
      }
      nlohmann::json document =
          nlohmann::json::parse(arguments[0].string(), nullptr, /*allow_exceptions=*/false);
      const nlohmann::json* node = &document;
      out = Value::Null();
      if (document.is_discarded()) return Status::OK();
      for (const auto& step : steps) {
        if (const std::string* key = std::get_if<std::string>(&step)) {
          if (!node->is_object()) return Status::OK();
          auto found = node->find(*key);
          if (found == node->end()) return Status::OK();
          node = &*found;
        } else {
          size_t index = std::get<size_t>(step);
          if (!node->is_array() || index >= node->size()) return Status::OK();
          node = &(*node)[index];
        }
      }
      if (node->is_null()) return Status::OK();
      if (node->is_string()) {
        out.AssignString(node->get_ref<const std::string&>());
      } else {
        out.AssignString(node->dump());
      }
      return Status::OK();
    });
  };
}

// ------------------------------------------------------------------ general

void AddGeneral(std::map<std::string, Factory>& table) {
  table["COALESCE"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Lenient([](Arguments arguments, Value& out) {
      for (const Value& argument : arguments) {
        if (!argument.is_null()) {
          out = argument;
          return Status::OK();
        }
      }
      out = Value::Null();
      return Status::OK();
    });
  };
  table["IFNULL"] = table["COALESCE"];
  table["NULLIF"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Lenient([](Arguments arguments, Value& out) {
      if (!arguments[1].is_null() && arguments[0] == arguments[1]) {
        out = Value::Null();
      } else {
        out = arguments[0];
      }
      return Status::OK();
    });
  };
  table["AS_VALUE"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Lenient([](Arguments arguments, Value& out) {
      out = arguments[0];
      return Status::OK();
    });
  };
  table["ARRAY_LENGTH"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([](Arguments arguments, Value& out) {
      out = Value::Int(static_cast<int32_t>(arguments[0].children().size()));
      return Status::OK();
    });
  };
  table["ARRAY_CONTAINS"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    // ksqlDB: a NULL array contains nothing; a NULL value is looked for like any other.
    return Lenient([](Arguments arguments, Value& out) {
      bool found = false;
      if (!arguments[0].is_null()) {
        for (const Value& element : arguments[0].children()) {
          if (element == arguments[1]) {
            found = true;
            break;
          }
        }
      }
      out = Value::Boolean(found);
      return Status::OK();
    });
  };
}

// ------------------------------------------------------------------ time

constexpr int64_t kMsPerDay = 86400000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A format argument, compiled once when it is a literal.
class PatternArgument {
 public:
  static Result<PatternArgument> Make(const CallSite& site, size_t index) {
    PatternArgument argument;
    argument.index_ = index;
    if (const Value* constant = site.constant(index); constant != nullptr && !constant->is_null()) {
      ASSIGN_OR_RAISE(TemporalPattern pattern, TemporalPattern::Compile(constant->string()));
      argument.compiled_ = std::make_shared<const TemporalPattern>(std::move(pattern));
    }
    return argument;
  }
  Result<std::shared_ptr<const TemporalPattern>> Get(Arguments arguments) const {
    if (compiled_) return compiled_;
    ASSIGN_OR_RAISE(TemporalPattern pattern, TemporalPattern::Compile(arguments[index_].string()));
    return std::make_shared<const TemporalPattern>(std::move(pattern));
  }

 private:
  size_t index_ = 0;
  std::shared_ptr<const TemporalPattern> compiled_;
};

// The zone argument at `index` (a fixed offset or a region such as Europe/Paris); UTC
// when the call has none. Abseil caches the regions it loads.
Result<TimeZone> ZoneArgument(Arguments arguments, size_t index) {
  if (arguments.size() <= index) return TimeZone::Fixed(0);
  return TimeZone::Find(arguments[index].string());
}

int64_t AsEpochMs(const Value& value) {
  return value.kind() == TypeId::kDate ? value.integer() * kMsPerDay : value.integer();
}

void AddTime(std::map<std::string, Factory>& table) {
  table["UNIX_TIMESTAMP"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([](Arguments arguments, Value& out) {
      out = Value::Bigint(arguments.empty() ? NowMs() : AsEpochMs(arguments[0]));
      return Status::OK();
    });
  };
  table["UNIX_DATE"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([](Arguments arguments, Value& out) {
      int64_t days = 0;
      if (arguments.empty()) {
        days = NowMs() / kMsPerDay;
      } else if (arguments[0].kind() == TypeId::kDate) {
        days = arguments[0].integer();
      } else {
        int64_t ms = arguments[0].integer();
        days = ms / kMsPerDay - (ms % kMsPerDay < 0);
      }
      out = Value::Int(static_cast<int32_t>(days));
      return Status::OK();
    });
  };
  Factory format = [](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
    ASSIGN_OR_RAISE(PatternArgument pattern, PatternArgument::Make(site, 1));
    return Strict([pattern](Arguments arguments, Value& out) {
      ASSIGN_OR_RAISE(auto compiled, pattern.Get(arguments));
      ASSIGN_OR_RAISE(TimeZone zone, ZoneArgument(arguments, 2));
      std::string& buffer = Scratch();
      compiled->Format(AsEpochMs(arguments[0]), zone, buffer);
      out.AssignString(buffer);
      return Status::OK();
    });
  };
  table["TIMESTAMPTOSTRING"] = format;
  table["FORMAT_TIMESTAMP"] = format;
  table["FORMAT_DATE"] = format;
  for (const char* name : {"STRINGTOTIMESTAMP", "PARSE_TIMESTAMP", "PARSE_DATE"}) {
    std::string kind = name;
    table[name] = [kind](const CallSite& site) -> Result<std::unique_ptr<ScalarFunction>> {
      ASSIGN_OR_RAISE(PatternArgument pattern, PatternArgument::Make(site, 1));
      return Strict([pattern, kind](Arguments arguments, Value& out) {
        ASSIGN_OR_RAISE(auto compiled, pattern.Get(arguments));
        ASSIGN_OR_RAISE(TimeZone zone, ZoneArgument(arguments, 2));
        ASSIGN_OR_RAISE(int64_t epoch_ms, compiled->Parse(arguments[0].string(), zone));
        if (kind == "STRINGTOTIMESTAMP") {
          out = Value::Bigint(epoch_ms);
        } else if (kind == "PARSE_TIMESTAMP") {
          out = Value::Timestamp(epoch_ms);
        } else {
          out =
              Value::Date(static_cast<int32_t>(epoch_ms / kMsPerDay - (epoch_ms % kMsPerDay < 0)));
        }
        return Status::OK();
      });
    };
  }
  table["FROM_UNIXTIME"] = [](const CallSite&) -> Result<std::unique_ptr<ScalarFunction>> {
    return Strict([](Arguments arguments, Value& out) {
      out = Value::Timestamp(arguments[0].integer());
      return Status::OK();
    });
  };
}

const std::map<std::string, Factory>& Factories() {
  static const std::map<std::string, Factory>* table = [] {
    auto* built = new std::map<std::string, Factory>();
    AddMath(*built);
    AddStrings(*built);
    AddRegex(*built);
    AddJson(*built);
    AddGeneral(*built);
    AddTime(*built);
    return built;
  }();
  return *table;
}

}  // namespace

Result<std::unique_ptr<ScalarFunction>> MakeScalarFunction(
    const std::string& name, const std::vector<SqlType>& argument_types,
    const std::vector<const Value*>& constant_arguments, const SqlType& result_type) {
  CallSite site{name, argument_types, constant_arguments, result_type};
  const FunctionDefinition* definition = FunctionRegistry::BuiltIns().Find(name);
  if (definition != nullptr && definition->implementation) return definition->implementation(site);
  const auto& table = Factories();
  auto found = table.find(name);
  if (found == table.end()) {
    return MakeTelecomScalarFunction(name, argument_types, constant_arguments);
  }
  return found->second(site);
}

}  // namespace sidestream::functions
