#include "types/sql_type.h"

#include <algorithm>
#include <cctype>

namespace sidestream::types {

SqlType SqlType::Decimal(int precision, int scale) {
  SqlType type(TypeId::kDecimal);
  type.precision_ = precision;
  type.scale_ = scale;
  return type;
}

SqlType SqlType::Array(SqlType element) {
  SqlType type(TypeId::kArray);
  type.children_ =
      std::make_shared<const std::vector<Field>>(std::vector<Field>{Field{"", std::move(element)}});
  return type;
}

SqlType SqlType::Map(SqlType key, SqlType value) {
  SqlType type(TypeId::kMap);
  type.children_ = std::make_shared<const std::vector<Field>>(
      std::vector<Field>{Field{"", std::move(key)}, Field{"", std::move(value)}});
  return type;
}

SqlType SqlType::Struct(std::vector<Field> fields) {
  SqlType type(TypeId::kStruct);
  type.children_ = std::make_shared<const std::vector<Field>>(std::move(fields));
  return type;
}

std::string SqlType::ToString() const {
  switch (id_) {
    case TypeId::kBoolean:
      return "BOOLEAN";
    case TypeId::kInt:
      return "INTEGER";
    case TypeId::kBigint:
      return "BIGINT";
    case TypeId::kDouble:
      return "DOUBLE";
    case TypeId::kDecimal:
      return "DECIMAL(" + std::to_string(precision_) + ", " + std::to_string(scale_) + ")";
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
      return "ARRAY<" + element().ToString() + ">";
    case TypeId::kMap:
      return "MAP<" + key().ToString() + ", " + value().ToString() + ">";
    case TypeId::kStruct: {
      std::string text = "STRUCT<";
      for (size_t i = 0; i < fields().size(); ++i) {
        if (i > 0) text += ", ";
        text += "`" + fields()[i].name + "` " + fields()[i].type.ToString();
      }
      return text + ">";
    }
    case TypeId::kNull:
      return "NULL";
  }
  return "UNKNOWN";
}

bool operator==(const SqlType& a, const SqlType& b) {
  if (a.id_ != b.id_) return false;
  if (a.id_ == TypeId::kDecimal) return a.precision_ == b.precision_ && a.scale_ == b.scale_;
  if (!a.is_nested()) return true;
  const auto& left = *a.children_;
  const auto& right = *b.children_;
  if (left.size() != right.size()) return false;
  for (size_t i = 0; i < left.size(); ++i) {
    if (left[i].name != right[i].name || left[i].type != right[i].type) return false;
  }
  return true;
}

Result<SqlType> ScalarTypeFromName(const std::string& name) {
  std::string upper = name;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  if (upper == "BOOLEAN" || upper == "BOOL") return SqlType::Boolean();
  if (upper == "INT" || upper == "INTEGER") return SqlType::Int();
  if (upper == "BIGINT") return SqlType::Bigint();
  if (upper == "DOUBLE") return SqlType::Double();
  if (upper == "STRING" || upper == "VARCHAR") return SqlType::String();
  if (upper == "BYTES") return SqlType::Bytes();
  if (upper == "TIMESTAMP") return SqlType::Timestamp();
  if (upper == "DATE") return SqlType::Date();
  if (upper == "TIME") return SqlType::Time();
  return Status::NotFound("Unknown type '" + name + "'");
}

namespace {
int NumericRank(TypeId id) {
  switch (id) {
    case TypeId::kInt:
      return 1;
    case TypeId::kBigint:
      return 2;
    case TypeId::kDecimal:
      return 3;
    case TypeId::kDouble:
      return 4;
    default:
      return 0;
  }
}

// The DECIMAL that holds every value of an integral type exactly.
SqlType DecimalFor(const SqlType& type) {
  if (type.id() == TypeId::kInt) return SqlType::Decimal(10, 0);
  if (type.id() == TypeId::kBigint) return SqlType::Decimal(19, 0);
  return type;
}
}  // namespace

Result<SqlType> CommonNumericType(const SqlType& left, const SqlType& right) {
  if (left.id() == TypeId::kNull) return right;
  if (right.id() == TypeId::kNull) return left;
  if (!left.is_numeric() || !right.is_numeric()) {
    return Status::BindError("Expected numeric operands but got " + left.ToString() + " and " +
                             right.ToString());
  }
  if (left.id() == TypeId::kDecimal || right.id() == TypeId::kDecimal) {
    if (left.id() == TypeId::kDouble || right.id() == TypeId::kDouble) return SqlType::Double();
    SqlType a = DecimalFor(left);
    SqlType b = DecimalFor(right);
    int scale = std::max(a.scale(), b.scale());
    int integer_digits = std::max(a.precision() - a.scale(), b.precision() - b.scale());
    return SqlType::Decimal(std::min(integer_digits + scale, 38), scale);
  }
  return NumericRank(left.id()) >= NumericRank(right.id()) ? left : right;
}

bool ImplicitlyConvertible(const SqlType& from, const SqlType& to) {
  if (from.id() == TypeId::kNull || from == to) return true;
  if (from.is_numeric() && to.is_numeric()) {
    if (to.id() == TypeId::kDecimal && from.id() == TypeId::kDecimal) {
      return to.precision() - to.scale() >= from.precision() - from.scale() &&
             to.scale() >= from.scale();
    }
    return NumericRank(from.id()) <= NumericRank(to.id());
  }
  if (from.id() == to.id() && from.is_nested()) {
    if (from.id() == TypeId::kArray) return ImplicitlyConvertible(from.element(), to.element());
    if (from.id() == TypeId::kMap) {
      return ImplicitlyConvertible(from.key(), to.key()) &&
             ImplicitlyConvertible(from.value(), to.value());
    }
    return from == to;
  }
  return false;
}

bool Castable(const SqlType& from, const SqlType& to) {
  if (ImplicitlyConvertible(from, to)) return true;
  if (to.id() == TypeId::kString) return true;  // everything prints
  if (from.id() == TypeId::kString) {
    return !to.is_nested();  // strings parse to scalars only, as in ksqlDB
  }
  if (from.is_numeric() && to.is_numeric()) return true;
  if (from.id() == TypeId::kBoolean && to.is_numeric()) return false;
  if (from.is_temporal() && to.is_temporal()) return true;
  if (from.is_integral() && to.id() == TypeId::kTimestamp) return false;
  if (from.id() == to.id() && from.id() == TypeId::kArray)
    return Castable(from.element(), to.element());
  if (from.id() == to.id() && from.id() == TypeId::kMap) {
    return Castable(from.key(), to.key()) && Castable(from.value(), to.value());
  }
  if (from.id() == to.id() && from.id() == TypeId::kStruct) {
    // Field by field, by name; a field only one side has is dropped or NULL.
    for (const auto& target : to.fields()) {
      for (const auto& source : from.fields()) {
        if (source.name == target.name && !Castable(source.type, target.type)) return false;
      }
    }
    return true;
  }
  return false;
}

}  // namespace sidestream::types
