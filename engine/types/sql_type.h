#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace sidestream::types {

/// The SQL types of the dialect (ksqlDB's set).
enum class TypeId {
  kBoolean,
  kInt,     // 32-bit signed
  kBigint,  // 64-bit signed
  kDouble,
  kDecimal,  // precision and scale
  kString,   // VARCHAR / STRING
  kBytes,
  kTimestamp,  // milliseconds since the epoch, UTC
  kDate,       // days since the epoch
  kTime,       // milliseconds since midnight
  kArray,
  kMap,
  kStruct,
  kNull,  // the type of a bare NULL literal; fits any other type
};

struct StructField;

/// The largest precision of a DECIMAL type (and so the largest scale of a DECIMAL value).
inline constexpr int kMaxDecimalPrecision = 1000;

/// A SQL type: a value type, cheap to copy for scalars.
/// ARRAY has one child (the element), MAP two (key, value), STRUCT one per field.
class SqlType {
 public:
  SqlType() = default;
  explicit SqlType(TypeId id) : id_(id) {}

  static SqlType Boolean() { return SqlType(TypeId::kBoolean); }
  static SqlType Int() { return SqlType(TypeId::kInt); }
  static SqlType Bigint() { return SqlType(TypeId::kBigint); }
  static SqlType Double() { return SqlType(TypeId::kDouble); }
  static SqlType String() { return SqlType(TypeId::kString); }
  static SqlType Bytes() { return SqlType(TypeId::kBytes); }
  static SqlType Timestamp() { return SqlType(TypeId::kTimestamp); }
  static SqlType Date() { return SqlType(TypeId::kDate); }
  static SqlType Time() { return SqlType(TypeId::kTime); }
  static SqlType Null() { return SqlType(TypeId::kNull); }
  static SqlType Decimal(int precision, int scale);
  static SqlType Array(SqlType element);
  static SqlType Map(SqlType key, SqlType value);
  using Field = StructField;
  static SqlType Struct(std::vector<Field> fields);

  TypeId id() const { return id_; }
  int precision() const { return precision_; }
  int scale() const { return scale_; }
  /// ARRAY element type. Precondition: id() == kArray.
  const SqlType& element() const;
  /// MAP key and value types. Precondition: id() == kMap.
  const SqlType& key() const;
  const SqlType& value() const;
  /// STRUCT fields in declaration order. Precondition: id() == kStruct.
  const std::vector<StructField>& fields() const { return *children_; }

  bool is_numeric() const {
    return id_ == TypeId::kInt || id_ == TypeId::kBigint || id_ == TypeId::kDouble ||
           id_ == TypeId::kDecimal;
  }
  bool is_integral() const { return id_ == TypeId::kInt || id_ == TypeId::kBigint; }
  bool is_nested() const {
    return id_ == TypeId::kArray || id_ == TypeId::kMap || id_ == TypeId::kStruct;
  }
  bool is_temporal() const {
    return id_ == TypeId::kTimestamp || id_ == TypeId::kDate || id_ == TypeId::kTime;
  }

  /// ksqlDB's spelling: "BIGINT", "DECIMAL(6, 2)", "ARRAY<STRING>", "STRUCT<`A` INT>".
  std::string ToString() const;

  friend bool operator==(const SqlType& a, const SqlType& b);
  friend bool operator!=(const SqlType& a, const SqlType& b) { return !(a == b); }

 private:
  TypeId id_ = TypeId::kNull;
  int precision_ = 0;
  int scale_ = 0;
  // Shared because types are immutable once built; copies stay cheap.
  std::shared_ptr<const std::vector<StructField>> children_;
};

/// A named member of a STRUCT (names are empty for ARRAY and MAP children).
struct StructField {
  std::string name;
  SqlType type;
};

inline const SqlType& SqlType::element() const { return children_->at(0).type; }
inline const SqlType& SqlType::key() const { return children_->at(0).type; }
inline const SqlType& SqlType::value() const { return children_->at(1).type; }

/// Looks up a scalar type by its SQL name (INT, INTEGER, BIGINT, VARCHAR, STRING, ...),
/// case-insensitively. Returns NotFound for unknown names.
Result<SqlType> ScalarTypeFromName(const std::string& name);

/// The type both operands widen to in arithmetic and comparison
/// (INT < BIGINT < DECIMAL < DOUBLE), or an error when there is none.
Result<SqlType> CommonNumericType(const SqlType& left, const SqlType& right);

/// True when a value of `from` can be used where `to` is expected without a CAST
/// (NULL fits everything; INT widens to BIGINT, DECIMAL and DOUBLE; ...).
bool ImplicitlyConvertible(const SqlType& from, const SqlType& to);

/// True when CAST(x AS to) is allowed for x of type `from`.
bool Castable(const SqlType& from, const SqlType& to);

}  // namespace sidestream::types
