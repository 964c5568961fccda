#pragma once

// The column sets the format fuzzers decode with, shared with the seed generator
// (fuzz_seeds.cc) so that its seeds fit them.

#include <string>
#include <vector>

#include "connectors/formats/row_format.h"
#include "types/sql_type.h"

namespace sidestream::fuzz {

using formats::FormatColumn;
using types::SqlType;

/// The value columns of the CDR stream (queries/sources/cdr.sql).
inline std::vector<FormatColumn> CdrValueColumns() {
  return {{"CDR_ID", SqlType::String()},      {"RECORD_TYPE", SqlType::String()},
          {"CALLER", SqlType::String()},      {"CALLEE", SqlType::String()},
          {"IMSI", SqlType::String()},        {"IMEI", SqlType::String()},
          {"START_TS", SqlType::Bigint()},    {"DURATION_S", SqlType::Int()},
          {"SETUP_MS", SqlType::Int()},       {"CELL_ID", SqlType::String()},
          {"LAT", SqlType::Double()},         {"LON", SqlType::Double()},
          {"TERMINATION", SqlType::String()}, {"BYTES_UP", SqlType::Bigint()},
          {"BYTES_DOWN", SqlType::Bigint()},  {"SMS_TEXT", SqlType::String()},
          {"ROAMING", SqlType::Boolean()},    {"CHARGE", SqlType::Double()}};
}

/// The CDR columns as a projected decoder sees them: the query reads a few, and the rest
/// are skipped unparsed.
inline std::vector<FormatColumn> ProjectedCdrValueColumns() {
  std::vector<FormatColumn> columns = CdrValueColumns();
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string& name = columns[i].name;
    columns[i].skip = !(name == "CALLER" || name == "DURATION_S" || name == "CELL_ID" ||
                        name == "ROAMING" || name == "CHARGE");
  }
  return columns;
}

/// Every scalar SQL type once, with decimals of a small precision, of the largest that
/// 128 bits hold, and of precisions and scales beyond it (SQL allows DECIMAL(1000, 999)).
inline std::vector<FormatColumn> ScalarColumns() {
  return {{"BOOL_COL", SqlType::Boolean()},
          {"INT_COL", SqlType::Int()},
          {"BIGINT_COL", SqlType::Bigint()},
          {"DOUBLE_COL", SqlType::Double()},
          {"DEC_COL", SqlType::Decimal(10, 2)},
          {"WIDE_DEC_COL", SqlType::Decimal(38, 10)},
          {"HUGE_DEC_COL", SqlType::Decimal(60, 40)},
          {"HUGE_SCALE_DEC_COL", SqlType::Decimal(1000, 999)},
          {"STRING_COL", SqlType::String()},
          {"BYTES_COL", SqlType::Bytes()},
          {"TS_COL", SqlType::Timestamp()},
          {"DATE_COL", SqlType::Date()},
          {"TIME_COL", SqlType::Time()}};
}

/// ARRAY, MAP and STRUCT, nested in each other, with scalar leaves of every kind.
inline std::vector<FormatColumn> NestedColumns() {
  const SqlType inner = SqlType::Struct({{"D", SqlType::Array(SqlType::Bigint())},
                                         {"E", SqlType::Map(SqlType::String(), SqlType::Boolean())},
                                         {"f", SqlType::Decimal(6, 3)}});
  return {
      {"ARR", SqlType::Array(SqlType::Int())},
      {"ARR_ARR", SqlType::Array(SqlType::Array(SqlType::String()))},
      {"MAP_COL", SqlType::Map(SqlType::String(), SqlType::Double())},
      {"INT_KEY_MAP", SqlType::Map(SqlType::Int(), SqlType::String())},
      {"MAP_OF_STRUCTS", SqlType::Map(SqlType::String(), SqlType::Array(inner))},
      {"STRUCT_COL", SqlType::Struct({{"A", SqlType::Int()},
                                      {"B", SqlType::String()},
                                      {"C", inner},
                                      {"T", SqlType::Timestamp()},
                                      {"BYTES", SqlType::Bytes()}})},
  };
}

/// Every type of ScalarColumns and NestedColumns in one schema.
inline std::vector<FormatColumn> AllTypeColumns() {
  std::vector<FormatColumn> columns = ScalarColumns();
  for (auto& column : NestedColumns()) columns.push_back(column);
  return columns;
}

/// AllTypeColumns without what PROTOBUF refuses: an ARRAY of ARRAY, a MAP with INT keys.
inline std::vector<FormatColumn> ProtobufColumns() {
  std::vector<FormatColumn> columns;
  for (const FormatColumn& column : AllTypeColumns()) {
    const SqlType& type = column.type;
    if (type.id() == types::TypeId::kArray && type.element().id() == types::TypeId::kArray) {
      continue;
    }
    if (type.id() == types::TypeId::kMap && type.key().id() != types::TypeId::kString) continue;
    columns.push_back(column);
  }
  return columns;
}

}  // namespace sidestream::fuzz
