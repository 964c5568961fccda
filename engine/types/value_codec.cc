#include "types/value_codec.h"

#include <cstring>

namespace sidestream::types {

namespace {

void PutFixed(uint64_t value, std::string& out) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  out.append(bytes, 8);
}

void PutLength(uint64_t value, std::string& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

// The kinds whose value is integer(): they are stored as 8 bytes.
bool IsIntegerKind(TypeId kind) {
  return kind == TypeId::kBoolean || kind == TypeId::kInt || kind == TypeId::kBigint ||
         kind == TypeId::kTimestamp || kind == TypeId::kDate || kind == TypeId::kTime;
}

void EncodeValue(const Value& value, std::string& out) {
  out.push_back(static_cast<char>(value.kind()));
  if (IsIntegerKind(value.kind())) {
    PutFixed(static_cast<uint64_t>(value.integer()), out);
    return;
  }
  switch (value.kind()) {
    case TypeId::kDouble: {
      uint64_t bits;
      const double number = value.float64();
      std::memcpy(&bits, &number, sizeof bits);
      PutFixed(bits, out);
      break;
    }
    case TypeId::kDecimal: {
      const Decimal decimal = value.decimal();
      const auto unscaled = static_cast<unsigned __int128>(decimal.unscaled);
      PutFixed(static_cast<uint64_t>(unscaled), out);
      PutFixed(static_cast<uint64_t>(unscaled >> 64), out);
      PutFixed(static_cast<uint64_t>(static_cast<int64_t>(decimal.scale)), out);
      break;
    }
    case TypeId::kString:
    case TypeId::kBytes:
      PutLength(value.string().size(), out);
      out.append(value.string());
      break;
    case TypeId::kArray:
    case TypeId::kMap:
    case TypeId::kStruct:
      PutLength(value.children().size(), out);
      for (const Value& child : value.children()) EncodeValue(child, out);
      break;
    default:  // NULL: the kind byte says it all
      break;
  }
}

/// Reads values from a byte range, failing on anything EncodeRow cannot have written.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  Status Fixed(uint64_t& value) {
    if (bytes_.size() - at_ < 8) return Truncated();
    value = 0;
    for (int i = 0; i < 8; ++i) {
      value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes_[at_ + i])) << (8 * i);
    }
    at_ += 8;
    return Status::OK();
  }

  Status Length(uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ >= bytes_.size()) return Truncated();
      const auto byte = static_cast<unsigned char>(bytes_[at_++]);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value <= bytes_.size() ? Status::OK() : Truncated();
    }
    return Status::Corruption("state bytes: a length is too long");
  }

  Status ReadValue(Value& value, int depth) {
    if (depth > 64) return Status::Corruption("state bytes: values nest too deeply");
    if (at_ >= bytes_.size()) return Truncated();
    const auto kind = static_cast<TypeId>(static_cast<unsigned char>(bytes_[at_++]));
    uint64_t word = 0, high = 0, length = 0;
    if (IsIntegerKind(kind)) {
      RETURN_NOT_OK(Fixed(word));
      value.SetInteger(kind, static_cast<int64_t>(word));
      return Status::OK();
    }
    switch (kind) {
      case TypeId::kNull:
        value.SetNull();
        return Status::OK();
      case TypeId::kDouble: {
        RETURN_NOT_OK(Fixed(word));
        double number;
        std::memcpy(&number, &word, sizeof number);
        value.SetDouble(number);
        return Status::OK();
      }
      case TypeId::kDecimal:
        RETURN_NOT_OK(Fixed(word));
        RETURN_NOT_OK(Fixed(high));
        RETURN_NOT_OK(Fixed(length));  // the scale
        // No DECIMAL type has a scale beyond its largest precision (a value's text would
        // take that many digits).
        if (static_cast<int64_t>(length) < -kMaxDecimalPrecision ||
            static_cast<int64_t>(length) > kMaxDecimalPrecision) {
          return Status::Corruption("state bytes: a DECIMAL scale of " +
                                    std::to_string(static_cast<int64_t>(length)));
        }
        value.SetDecimal(static_cast<__int128>((static_cast<unsigned __int128>(high) << 64) | word),
                         static_cast<int>(static_cast<int64_t>(length)));
        return Status::OK();
      case TypeId::kString:
      case TypeId::kBytes: {
        RETURN_NOT_OK(Length(length));
        if (bytes_.size() - at_ < length) return Truncated();
        std::string text(bytes_.substr(at_, length));
        at_ += length;
        value = kind == TypeId::kString ? Value::String(std::move(text))
                                        : Value::Bytes(std::move(text));
        return Status::OK();
      }
      case TypeId::kArray:
      case TypeId::kMap:
      case TypeId::kStruct: {
        RETURN_NOT_OK(Length(length));
        std::vector<Value> children(length);
        for (Value& child : children) RETURN_NOT_OK(ReadValue(child, depth + 1));
        value = kind == TypeId::kArray ? Value::Array(std::move(children))
                : kind == TypeId::kMap ? Value::Map(std::move(children))
                                       : Value::Struct(std::move(children));
        return Status::OK();
      }
      default:  // an unknown kind byte
        break;
    }
    return Status::Corruption("state bytes: unknown value kind " +
                              std::to_string(static_cast<int>(kind)));
  }

  bool done() const { return at_ == bytes_.size(); }

 private:
  static Status Truncated() { return Status::Corruption("state bytes end early"); }

  std::string_view bytes_;
  size_t at_ = 0;
};

}  // namespace

void EncodeRow(const Row& row, std::string& out) {
  PutLength(row.size(), out);
  for (const Value& value : row) EncodeValue(value, out);
}

Status DecodeRow(std::string_view bytes, Row& row) {
  Reader reader(bytes);
  uint64_t count = 0;
  RETURN_NOT_OK(reader.Length(count));
  row.resize(count);
  for (Value& value : row) RETURN_NOT_OK(reader.ReadValue(value, 0));
  if (!reader.done()) return Status::Corruption("state bytes: trailing bytes after the row");
  return Status::OK();
}

}  // namespace sidestream::types
