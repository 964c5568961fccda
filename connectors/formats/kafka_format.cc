#include "connectors/formats/kafka_format.h"

#include <bit>
#include <cstring>
#include <string>
#include <utility>

#include "connectors/formats/scalar_text.h"

namespace sidestream::formats {
namespace {

using types::TypeId;
using types::Value;

Status CheckKafkaColumns(const std::vector<FormatColumn>& columns) {
  if (columns.size() > 1) {
    return Status::InvalidArgument("KAFKA format holds one column, but " +
                                   std::to_string(columns.size()) + " were given");
  }
  if (columns.empty()) return Status::OK();
  switch (columns[0].type.id()) {
    case TypeId::kInt:
    case TypeId::kBigint:
    case TypeId::kDouble:
    case TypeId::kString:
    case TypeId::kBytes:
      return Status::OK();
    default:
      return Status::InvalidArgument("column " + columns[0].name + ": the 'KAFKA' format does " +
                                     "not support type '" + columns[0].type.ToString() + "'");
  }
}

uint64_t ReadBigEndian(std::string_view bytes) {
  uint64_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<uint8_t>(c);
  return value;
}

void AppendBigEndian(uint64_t value, int size, std::string& out) {
  for (int shift = (size - 1) * 8; shift >= 0; shift -= 8) {
    out += static_cast<char>((value >> shift) & 0xFF);
  }
}

class KafkaRowDecoder final : public RowDecoder {
 public:
  explicit KafkaRowDecoder(std::vector<FormatColumn> columns) : columns_(std::move(columns)) {}

  Status Decode(std::string_view bytes, types::Row& row, size_t first_column) override {
    if (columns_.empty()) return Status::OK();
    if (row.size() < first_column + 1) row.resize(first_column + 1);
    Value& out = row[first_column];
    switch (columns_[0].type.id()) {
      case TypeId::kInt:
        RETURN_NOT_OK(CheckSize(bytes, 4));
        out.SetInteger(TypeId::kInt,
                       static_cast<int32_t>(static_cast<uint32_t>(ReadBigEndian(bytes))));
        return Status::OK();
      case TypeId::kBigint:
        RETURN_NOT_OK(CheckSize(bytes, 8));
        out.SetInteger(TypeId::kBigint, static_cast<int64_t>(ReadBigEndian(bytes)));
        return Status::OK();
      case TypeId::kDouble:
        RETURN_NOT_OK(CheckSize(bytes, 8));
        out.SetDouble(std::bit_cast<double>(ReadBigEndian(bytes)));
        return Status::OK();
      case TypeId::kString:
        if (!IsUtf8(bytes)) {
          return CheckUtf8(bytes, "column " + columns_[0].name + ": KAFKA format");
        }
        out.AssignString(bytes);
        return Status::OK();
      default:
        out = Value::Bytes(std::string(bytes));
        return Status::OK();
    }
  }

 private:
  Status CheckSize(std::string_view bytes, size_t expected) const {
    if (bytes.size() == expected) return Status::OK();
    return Status::InvalidArgument(
        "column " + columns_[0].name + ": KAFKA format: expected " + std::to_string(expected) +
        " bytes for " + columns_[0].type.ToString() + " but got " + std::to_string(bytes.size()));
  }

  std::vector<FormatColumn> columns_;
};

class KafkaRowEncoder final : public RowEncoder {
 public:
  explicit KafkaRowEncoder(std::vector<FormatColumn> columns) : columns_(std::move(columns)) {}

  Status Encode(const types::Row& row, size_t first_column, std::string& out) override {
    out.clear();
    if (columns_.empty()) return Status::OK();
    if (row.size() <= first_column) {
      return Status::Internal("KAFKA encoder: row has no column " + std::to_string(first_column));
    }
    const Value& value = row[first_column];
    if (value.is_null()) return Status::OK();  // the caller sends a null key or tombstone
    switch (columns_[0].type.id()) {
      case TypeId::kInt:
        AppendBigEndian(static_cast<uint32_t>(static_cast<int32_t>(value.integer())), 4, out);
        return Status::OK();
      case TypeId::kBigint:
        AppendBigEndian(static_cast<uint64_t>(value.integer()), 8, out);
        return Status::OK();
      case TypeId::kDouble: {
        const double number = value.kind() == TypeId::kDouble
                                  ? value.float64()
                                  : static_cast<double>(value.integer());
        AppendBigEndian(std::bit_cast<uint64_t>(number), 8, out);
        return Status::OK();
      }
      default:
        out = value.string();
        return Status::OK();
    }
  }

 private:
  std::vector<FormatColumn> columns_;
};

}  // namespace

Result<std::unique_ptr<RowDecoder>> MakeKafkaDecoder(std::vector<FormatColumn> columns) {
  RETURN_NOT_OK(CheckKafkaColumns(columns));
  return std::unique_ptr<RowDecoder>(std::make_unique<KafkaRowDecoder>(std::move(columns)));
}

Result<std::unique_ptr<RowEncoder>> MakeKafkaEncoder(std::vector<FormatColumn> columns) {
  RETURN_NOT_OK(CheckKafkaColumns(columns));
  return std::unique_ptr<RowEncoder>(std::make_unique<KafkaRowEncoder>(std::move(columns)));
}

}  // namespace sidestream::formats
