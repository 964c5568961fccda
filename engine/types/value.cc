#include "types/value.h"

#include <cmath>
#include <cstring>
#include <functional>

#define XXH_INLINE_ALL  // header-only: inlined, nothing to link
#include <xxhash.h>

namespace sidestream::types {

static_assert(sizeof(Value) <= 72, "Value grew: every row and every group's state grow with it");

namespace {
const std::vector<Value>& EmptyChildren() {
  static const std::vector<Value> kEmpty;
  return kEmpty;
}

// murmur3's 64-bit finalizer: a full avalanche in a few instructions. Group keys are
// hashed for every record, so std::hash's byte-wise hashing showed in profiles.
uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// Numbers hash by their value as a double, so equal numbers of different kinds (1, 1.0,
// 1.00) hash equal; 0.0 and -0.0 too.
uint64_t HashNumber(double value) {
  if (value == 0) return 0;
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return Mix(bits);
}

bool IsIntegral(TypeId id) { return id == TypeId::kInt || id == TypeId::kBigint; }

bool IsNumber(TypeId id) {
  return IsIntegral(id) || id == TypeId::kDouble || id == TypeId::kDecimal;
}

double AsDouble(const Value& value) {
  switch (value.kind()) {
    case TypeId::kDouble:
      return value.float64();
    case TypeId::kDecimal:
      return DecimalToDouble(value.decimal());
    default:
      return static_cast<double>(value.integer());
  }
}

// Compares two decimals exactly by aligning scales. A value that would overflow 128 bits
// when scaled up is larger in magnitude than any value at the other's scale, so its sign
// decides (BIGINT 5 against 1E-38, or 1E37 against 0.01, overflowed).
int CompareDecimals(Decimal a, Decimal b) {
  const int sign_a = (a.unscaled > 0) - (a.unscaled < 0);
  const int sign_b = (b.unscaled > 0) - (b.unscaled < 0);
  if (sign_a != sign_b) return sign_a < sign_b ? -1 : 1;
  if (sign_a == 0) return 0;
  while (a.scale < b.scale) {
    if (__builtin_mul_overflow(a.unscaled, 10, &a.unscaled)) return sign_a;
    ++a.scale;
  }
  while (b.scale < a.scale) {
    if (__builtin_mul_overflow(b.unscaled, 10, &b.unscaled)) return -sign_b;
    ++b.scale;
  }
  return a.unscaled < b.unscaled ? -1 : a.unscaled > b.unscaled ? 1 : 0;
}

Decimal ToDecimal(const Value& value) {
  if (value.kind() == TypeId::kDecimal) return value.decimal();
  return Decimal{value.integer(), 0};
}

int CompareNumbers(const Value& a, const Value& b) {
  if (IsIntegral(a.kind()) && IsIntegral(b.kind())) {
    return a.integer() < b.integer() ? -1 : a.integer() > b.integer() ? 1 : 0;
  }
  if (a.kind() != TypeId::kDouble && b.kind() != TypeId::kDouble) {
    return CompareDecimals(ToDecimal(a), ToDecimal(b));
  }
  double x = AsDouble(a);
  double y = AsDouble(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
}  // namespace

Value Value::Boolean(bool value) {
  Value v;
  v.SetInteger(TypeId::kBoolean, value ? 1 : 0);
  return v;
}
Value Value::Int(int32_t value) {
  Value v;
  v.SetInteger(TypeId::kInt, value);
  return v;
}
Value Value::Bigint(int64_t value) {
  Value v;
  v.SetInteger(TypeId::kBigint, value);
  return v;
}
Value Value::Double(double value) {
  Value v;
  v.SetDouble(value);
  return v;
}
Value Value::DecimalValue(__int128 unscaled, int scale) {
  Value v;
  v.SetDecimal(unscaled, scale);
  return v;
}
Value Value::String(std::string value) {
  Value v;
  v.kind_ = TypeId::kString;
  v.string_ = std::move(value);
  return v;
}
Value Value::Bytes(std::string value) {
  Value v;
  v.kind_ = TypeId::kBytes;
  v.string_ = std::move(value);
  return v;
}
Value Value::Timestamp(int64_t milliseconds) {
  Value v;
  v.SetInteger(TypeId::kTimestamp, milliseconds);
  return v;
}
Value Value::Date(int32_t days) {
  Value v;
  v.SetInteger(TypeId::kDate, days);
  return v;
}
Value Value::Time(int32_t milliseconds) {
  Value v;
  v.SetInteger(TypeId::kTime, milliseconds);
  return v;
}
Value Value::Array(std::vector<Value> elements) {
  Value v;
  v.kind_ = TypeId::kArray;
  v.children_ = std::make_shared<std::vector<Value>>(std::move(elements));
  return v;
}
Value Value::Map(std::vector<Value> entries) {
  Value v;
  v.kind_ = TypeId::kMap;
  v.children_ = std::make_shared<std::vector<Value>>(std::move(entries));
  return v;
}
Value Value::Struct(std::vector<Value> fields) {
  Value v;
  v.kind_ = TypeId::kStruct;
  v.children_ = std::make_shared<std::vector<Value>>(std::move(fields));
  return v;
}

const std::vector<Value>& Value::children() const {
  return children_ ? *children_ : EmptyChildren();
}

void Value::AssignString(std::string_view text) {
  kind_ = TypeId::kString;
  string_.assign(text.data(), text.size());
  children_.reset();
}

void Value::SetDecimal(__int128 unscaled, int scale) {
  kind_ = TypeId::kDecimal;
  std::memcpy(decimal_words_, &unscaled, sizeof unscaled);
  scale_ = scale;
  string_.clear();
  children_.reset();
}

std::vector<Value>& Value::MutableChildren() {
  if (!children_) {
    children_ = std::make_shared<std::vector<Value>>();
  } else if (children_.use_count() > 1) {
    children_ = std::make_shared<std::vector<Value>>(*children_);
  }
  return *children_;
}

bool operator==(const Value& a, const Value& b) { return Value::Compare(a, b) == 0; }

int Value::Compare(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return a.is_null() == b.is_null() ? 0 : (a.is_null() ? -1 : 1);
  if (IsNumber(a.kind()) && IsNumber(b.kind())) return CompareNumbers(a, b);
  if (a.kind() != b.kind()) return a.kind() < b.kind() ? -1 : 1;
  switch (a.kind()) {
    case TypeId::kString:
    case TypeId::kBytes:
      return a.string_.compare(b.string_) < 0 ? -1 : (a.string_ == b.string_ ? 0 : 1);
    case TypeId::kArray:
    case TypeId::kMap:
    case TypeId::kStruct: {
      const auto& x = a.children();
      const auto& y = b.children();
      for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
        int order = Compare(x[i], y[i]);
        if (order != 0) return order;
      }
      return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
    }
    default:
      return a.integer_ < b.integer_ ? -1 : a.integer_ > b.integer_ ? 1 : 0;
  }
}

size_t Value::Hash() const {
  switch (kind_) {
    case TypeId::kNull:
      return 0x9e3779b9;
    case TypeId::kInt:
    case TypeId::kBigint:
      return HashNumber(static_cast<double>(integer_));
    case TypeId::kDouble:
      return HashNumber(double_);
    case TypeId::kDecimal:
      return HashNumber(DecimalToDouble(decimal()));
    case TypeId::kString:
    case TypeId::kBytes:
      return XXH3_64bits(string_.data(), string_.size());
    case TypeId::kArray:
    case TypeId::kMap:
    case TypeId::kStruct: {
      size_t hash = static_cast<size_t>(kind_);
      for (const Value& child : children()) hash = hash * 31 + child.Hash();
      return hash;
    }
    default:
      return Mix(static_cast<uint64_t>(integer_)) ^ static_cast<size_t>(kind_);
  }
}

std::string Value::DebugString() const {
  switch (kind_) {
    case TypeId::kNull:
      return "NULL";
    case TypeId::kBoolean:
      return integer_ ? "true" : "false";
    case TypeId::kDouble:
      return std::to_string(double_);
    case TypeId::kDecimal:
      return DecimalToString(decimal());
    case TypeId::kString:
    case TypeId::kBytes:
      return "'" + string_ + "'";
    case TypeId::kArray:
    case TypeId::kStruct: {
      std::string text = kind_ == TypeId::kArray ? "[" : "{";
      for (size_t i = 0; i < children().size(); ++i) {
        text += (i > 0 ? ", " : "") + children()[i].DebugString();
      }
      return text + (kind_ == TypeId::kArray ? "]" : "}");
    }
    case TypeId::kMap: {
      std::string text = "{";
      for (size_t i = 0; i + 1 < children().size(); i += 2) {
        text += (i > 0 ? ", " : "") + children()[i].DebugString() + "=" +
                children()[i + 1].DebugString();
      }
      return text + "}";
    }
    default:
      return std::to_string(integer_);
  }
}

size_t RowHash::operator()(const Row& row) const {
  size_t hash = 17;
  for (const Value& value : row) hash = hash * 31 + value.Hash();
  return hash;
}

bool RowEqual::operator()(const Row& a, const Row& b) const {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!(a[i] == b[i])) return false;
  }
  return true;
}

double DecimalToDouble(const Decimal& decimal) {
  return static_cast<double>(decimal.unscaled) / std::pow(10.0, decimal.scale);
}

void AppendDecimal(const Decimal& decimal, std::string& out) {
  const bool negative = decimal.unscaled < 0;
  unsigned __int128 magnitude = negative ? -static_cast<unsigned __int128>(decimal.unscaled)
                                         : static_cast<unsigned __int128>(decimal.unscaled);
  // Digits from the right; 128-bit division only while the value needs more than 64 bits.
  char buffer[80];
  char* const end = buffer + sizeof buffer;
  char* first = end;
  while (magnitude > UINT64_MAX) {
    *--first = static_cast<char>('0' + static_cast<int>(magnitude % 10));
    magnitude /= 10;
  }
  uint64_t small = static_cast<uint64_t>(magnitude);
  do {
    *--first = static_cast<char>('0' + small % 10);
    small /= 10;
  } while (small > 0);
  const size_t scale = decimal.scale > 0 ? static_cast<size_t>(decimal.scale) : 0;
  if (negative) out += '-';
  const size_t digits = static_cast<size_t>(end - first);
  if (digits <= scale) {
    // All digits are fraction digits: "0." and leading zeros, whatever the scale (a DECIMAL
    // may be declared with a scale far beyond the digits a value holds).
    out += "0.";
    out.append(scale - digits, '0');
    out.append(first, digits);
    return;
  }
  out.append(first, digits - scale);
  if (scale > 0) {
    out += '.';
    out.append(end - scale, scale);
  }
}

std::string DecimalToString(const Decimal& decimal) {
  std::string text;
  AppendDecimal(decimal, text);
  return text;
}

}  // namespace sidestream::types
