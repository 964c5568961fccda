#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "types/sql_type.h"

namespace sidestream::types {

/// An exact decimal: unscaled * 10^-scale. Precision lives in the column's SqlType.
struct Decimal {
  __int128 unscaled = 0;
  int scale = 0;
};

/// One SQL value. Scalars live inline; STRING and BYTES in a std::string (short strings
/// stay in its inline buffer, so most CDR fields do not allocate); ARRAY, MAP and STRUCT
/// share an immutable child vector, so copies are cheap.
///
/// kind() is the TypeId of the value (kNull for NULL). INT, BIGINT, TIMESTAMP (ms since
/// the epoch), DATE (days since the epoch) and TIME (ms since midnight) are all read
/// with integer(). A MAP's children are key0, value0, key1, value1, ...; a STRUCT's are
/// its fields in declaration order.
class Value {
 public:
  Value() = default;

  static Value Null() { return Value(); }
  static Value Boolean(bool value);
  static Value Int(int32_t value);
  static Value Bigint(int64_t value);
  static Value Double(double value);
  static Value DecimalValue(__int128 unscaled, int scale);
  static Value String(std::string value);
  static Value Bytes(std::string value);
  static Value Timestamp(int64_t milliseconds);
  static Value Date(int32_t days);
  static Value Time(int32_t milliseconds);
  static Value Array(std::vector<Value> elements);
  /// `entries` alternates keys and values.
  static Value Map(std::vector<Value> entries);
  static Value Struct(std::vector<Value> fields);

  TypeId kind() const { return kind_; }
  bool is_null() const { return kind_ == TypeId::kNull; }

  bool boolean() const { return integer_ != 0; }
  int64_t integer() const { return integer_; }
  double float64() const { return double_; }
  Decimal decimal() const {
    __int128 unscaled;
    std::memcpy(&unscaled, decimal_words_, sizeof unscaled);
    return Decimal{unscaled, scale_};
  }
  const std::string& string() const { return string_; }
  /// ARRAY elements, MAP key/value pairs (flattened) or STRUCT fields.
  const std::vector<Value>& children() const;

  /// In-place setters. They reuse this value's storage (a string keeps its buffer), so
  /// decoders and operators that refill the same rows allocate nothing.
  /// AssignString sets a STRING holding `text`.
  void AssignString(std::string_view text);
  void SetNull() {
    kind_ = TypeId::kNull;
    ClearStorage();
  }
  /// BOOLEAN (0 or 1), INT, BIGINT, TIMESTAMP, DATE or TIME.
  void SetInteger(TypeId kind, int64_t value) {
    kind_ = kind;
    integer_ = value;
    ClearStorage();
  }
  void SetDouble(double value) {
    kind_ = TypeId::kDouble;
    double_ = value;
    ClearStorage();
  }
  void SetDecimal(__int128 unscaled, int scale);
  /// The children, to change in place (an aggregate's running state); copied first when
  /// another value shares them, so copies never see the change.
  std::vector<Value>& MutableChildren();

  /// Equality as SQL's IS NOT DISTINCT FROM: NULL equals NULL; INT 1 equals BIGINT 1;
  /// numbers compare by value across INT, BIGINT, DOUBLE and DECIMAL.
  friend bool operator==(const Value& a, const Value& b);
  friend bool operator!=(const Value& a, const Value& b) { return !(a == b); }

  /// Total order for sorting and MIN/MAX: NULL first, then by value; numbers across
  /// kinds by numeric value; strings bytewise.
  static int Compare(const Value& a, const Value& b);

  /// A hash consistent with operator== (numbers that are equal hash equal).
  size_t Hash() const;

  /// A readable form for logs and test failures: NULL, 42, 1.5, 'text', [1, 2], {K=V}.
  std::string DebugString() const;

 private:
  // Inline setters run per column of every record: drop a string's text (its buffer stays)
  // and any children.
  void ClearStorage() {
    string_.clear();
    if (children_) children_.reset();
  }

  TypeId kind_ = TypeId::kNull;
  int scale_ = 0;
  // The scalar, read as kind_ says. A DECIMAL's unscaled value is kept as two words, so a
  // Value needs 8-byte alignment only (72 bytes, not 96: state of many groups stays small).
  union {
    int64_t integer_ = 0;
    double double_;
    uint64_t decimal_words_[2];
  };
  std::string string_;
  std::shared_ptr<std::vector<Value>> children_;  // shared until MutableChildren
};

/// The values of one record, in its schema's column order.
using Row = std::vector<Value>;

/// Hash and equality of rows, for hash maps keyed by GROUP BY values.
struct RowHash {
  size_t operator()(const Row& row) const;
};
struct RowEqual {
  bool operator()(const Row& a, const Row& b) const;
};

/// Decimal helpers: the value as a double, and as a plain decimal string ("12.50").
double DecimalToDouble(const Decimal& decimal);
std::string DecimalToString(const Decimal& decimal);
void AppendDecimal(const Decimal& decimal, std::string& out);

}  // namespace sidestream::types
