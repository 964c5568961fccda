#include "connectors/formats/avro_format.h"

#include <avro.h>
#include <strings.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>

#include "connectors/formats/json_format.h"
#include "connectors/formats/scalar_text.h"
#include "connectors/registry/schema_registry.h"

namespace sidestream::formats {

using nlohmann::json;
using types::SqlType;
using types::TypeId;

namespace {

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// ---------------------------------------------------------------------------------------------
// SQL schema -> Avro schema (ksqlDB's AvroSchemas / Connect's AvroData shapes).

json Nullable(json type) { return json::array({"null", std::move(type)}); }

Result<json> AvroTypeOf(const SqlType& type, const std::string& record_name) {
  switch (type.id()) {
    case TypeId::kBoolean:
      return json("boolean");
    case TypeId::kInt:
      return json("int");
    case TypeId::kBigint:
      return json("long");
    case TypeId::kDouble:
      return json("double");
    case TypeId::kString:
      return json("string");
    case TypeId::kBytes:
      return json("bytes");
    case TypeId::kDecimal:
      return json{{"type", "bytes"},
                  {"logicalType", "decimal"},
                  {"precision", type.precision()},
                  {"scale", type.scale()}};
    case TypeId::kDate:
      return json{{"type", "int"}, {"logicalType", "date"}};
    case TypeId::kTime:
      return json{{"type", "int"}, {"logicalType", "time-millis"}};
    case TypeId::kTimestamp:
      return json{{"type", "long"}, {"logicalType", "timestamp-millis"}};
    case TypeId::kArray: {
      ASSIGN_OR_RAISE(json items, AvroTypeOf(type.element(), record_name));
      return json{{"type", "array"}, {"items", Nullable(std::move(items))}};
    }
    case TypeId::kMap: {
      if (type.key().id() != TypeId::kString) {
        return Status::InvalidArgument("AVRO maps have STRING keys only, not " +
                                       type.key().ToString());
      }
      ASSIGN_OR_RAISE(json values, AvroTypeOf(type.value(), record_name));
      return json{{"type", "map"}, {"values", Nullable(std::move(values))}};
    }
    case TypeId::kStruct: {
      json fields = json::array();
      for (const auto& field : type.fields()) {
        ASSIGN_OR_RAISE(json field_type, AvroTypeOf(field.type, record_name + "_" + field.name));
        fields.push_back({{"name", field.name},
                          {"type", Nullable(std::move(field_type))},
                          {"default", nullptr}});
      }
      return json{{"type", "record"}, {"name", record_name}, {"fields", std::move(fields)}};
    }
    case TypeId::kNull:
      break;
  }
  return Status::InvalidArgument("AVRO cannot hold a column of type " + type.ToString());
}

// ---------------------------------------------------------------------------------------------
// avro-c plumbing.

// avro-c allocates what a length prefix in the message asks for: a hostile length must not
// reach malloc (under the sanitizers a huge request aborts the process). While a decoder
// reads, allocations above this thread's cap fail, and avro-c reports ENOMEM instead.
thread_local size_t allocation_cap = 0;  // 0: no cap (schemas, encoders)

void* CappedAllocator(void*, void* pointer, size_t, size_t new_size) {
  if (new_size == 0) {
    std::free(pointer);
    return nullptr;
  }
  if (allocation_cap != 0 && new_size > allocation_cap) return nullptr;
  return std::realloc(pointer, new_size);
}

void InstallAllocator() {
  static const bool installed = [] {
    avro_set_allocator(CappedAllocator, nullptr);
    return true;
  }();
  (void)installed;
}

class AllocationCap {
 public:
  explicit AllocationCap(size_t payload) { allocation_cap = 64 * payload + (1 << 20); }
  ~AllocationCap() { allocation_cap = 0; }
};

std::string AvroError() {
  const char* text = avro_strerror();
  return text != nullptr && *text != '\0' ? text : "malformed AVRO data";
}

// One parsed schema with a generic value of it, reused for every record.
class AvroSchemaValue {
 public:
  AvroSchemaValue() = default;
  AvroSchemaValue(const AvroSchemaValue&) = delete;
  AvroSchemaValue& operator=(const AvroSchemaValue&) = delete;
  ~AvroSchemaValue() {
    if (has_value_) avro_value_decref(&value_);
    if (iface_ != nullptr) avro_value_iface_decref(iface_);
    if (schema_ != nullptr) avro_schema_decref(schema_);
  }

  Status Parse(const std::string& text) {
    InstallAllocator();
    if (avro_schema_from_json_length(text.data(), text.size(), &schema_) != 0) {
      schema_ = nullptr;
      return Status::InvalidArgument("not a valid AVRO schema: " + AvroError());
    }
    iface_ = avro_generic_class_from_schema(schema_);
    if (iface_ == nullptr) return Status::InvalidArgument("unusable AVRO schema: " + AvroError());
    if (avro_generic_value_new(iface_, &value_) != 0) {
      return Status::Internal("cannot allocate an AVRO value: " + AvroError());
    }
    has_value_ = true;
    json parsed = json::parse(text, nullptr, false);
    if (!parsed.is_discarded()) CollectLogicalTypes(parsed, schema_, nullptr, 0);
    return Status::OK();
  }

  avro_schema_t schema() const { return schema_; }
  avro_value_t& value() { return value_; }

  // A logicalType annotation (avro-c keeps none: they come from the schema's JSON).
  struct Logical {
    std::string name;  // "decimal", "timestamp-micros", ...
    int scale = 0;
  };
  // The annotation of child `index` of `parent` (a record's field, a union's branch, an array's
  // items or a map's values: 0); of the whole schema when `parent` is null. Keyed by the
  // parent because avro-c shares one node per primitive type ("bytes" of every decimal).
  const Logical* LogicalOf(avro_schema_t parent, size_t index) const {
    auto found = logical_.find({parent, index});
    return found == logical_.end() ? nullptr : &found->second;
  }
  // The default of field `index` of `record` (its JSON); null when it has none.
  const json* DefaultOf(avro_schema_t record, size_t index) const {
    auto found = defaults_.find({record, index});
    return found == defaults_.end() ? nullptr : &found->second;
  }

 private:
  // Walks the JSON beside avro-c's tree and remembers the logical types by schema node.
  void CollectLogicalTypes(const json& node, avro_schema_t schema, avro_schema_t parent,
                           size_t index) {
    if (schema == nullptr) return;
    if (node.is_array()) {
      if (!is_avro_union(schema)) return;
      for (size_t i = 0; i < node.size() && i < avro_schema_union_size(schema); ++i) {
        CollectLogicalTypes(node[i], avro_schema_union_branch(schema, static_cast<int>(i)), schema,
                            i);
      }
      return;
    }
    if (!node.is_object() || !node.contains("type")) return;
    const json& type = node["type"];
    if (!type.is_string()) {
      CollectLogicalTypes(type, schema, parent, index);
      return;
    }
    if (node.contains("logicalType") && node["logicalType"].is_string()) {
      Logical logical{node["logicalType"].get<std::string>(), 0};
      if (node.contains("scale") && node["scale"].is_number_integer()) {
        logical.scale = node["scale"].get<int>();
      }
      logical_[{parent, index}] = std::move(logical);
    }
    const std::string& kind = type.get_ref<const std::string&>();
    if (kind == "record" && is_avro_record(schema) && node.contains("fields") &&
        node["fields"].is_array()) {
      const json& fields = node["fields"];
      for (size_t i = 0; i < fields.size() && i < avro_schema_record_size(schema); ++i) {
        if (fields[i].is_object() && fields[i].contains("default")) {
          defaults_[{schema, i}] = fields[i]["default"];
        }
        if (fields[i].is_object() && fields[i].contains("type")) {
          CollectLogicalTypes(fields[i]["type"],
                              avro_schema_record_field_get_by_index(schema, static_cast<int>(i)),
                              schema, i);
        }
      }
    } else if (kind == "array" && is_avro_array(schema) && node.contains("items")) {
      CollectLogicalTypes(node["items"], avro_schema_array_items(schema), schema, 0);
    } else if (kind == "map" && is_avro_map(schema) && node.contains("values")) {
      CollectLogicalTypes(node["values"], avro_schema_map_values(schema), schema, 0);
    }
  }

  avro_schema_t schema_ = nullptr;
  avro_value_iface_t* iface_ = nullptr;
  avro_value_t value_{};
  bool has_value_ = false;
  std::map<std::pair<avro_schema_t, size_t>, Logical> logical_;
  std::map<std::pair<avro_schema_t, size_t>, json> defaults_;
};

const char* AvroTypeName(avro_type_t type) {
  switch (type) {
    case AVRO_STRING:
      return "string";
    case AVRO_BYTES:
      return "bytes";
    case AVRO_INT32:
      return "int";
    case AVRO_INT64:
      return "long";
    case AVRO_FLOAT:
      return "float";
    case AVRO_DOUBLE:
      return "double";
    case AVRO_BOOLEAN:
      return "boolean";
    case AVRO_NULL:
      return "null";
    case AVRO_RECORD:
      return "record";
    case AVRO_ENUM:
      return "enum";
    case AVRO_FIXED:
      return "fixed";
    case AVRO_MAP:
      return "map";
    case AVRO_ARRAY:
      return "array";
    case AVRO_UNION:
      return "union";
    case AVRO_LINK:
      return "link";
  }
  return "unknown";
}

// Big-endian two's complement (Avro's decimal) -> __int128.
Result<__int128> UnscaledFromBytes(const char* bytes, size_t size) {
  if (size > 16) return Status::InvalidArgument("decimal of " + std::to_string(size) + " bytes");
  if (size == 0) return static_cast<__int128>(0);
  unsigned __int128 raw =
      (static_cast<unsigned char>(bytes[0]) & 0x80) ? ~static_cast<unsigned __int128>(0) : 0;
  for (size_t i = 0; i < size; ++i) raw = (raw << 8) | static_cast<unsigned char>(bytes[i]);
  return static_cast<__int128>(raw);
}

// Sets a bytes or fixed value from `bytes`; a fixed one is padded to its size with the
// sign of a decimal's leading byte. False when `bytes` are longer than the fixed size.
bool SetBytesOrFixed(avro_value_t& target, avro_schema_t node, avro_type_t kind, std::string& bytes,
                     int& rc) {
  if (kind != AVRO_FIXED) {
    rc = avro_value_set_bytes(&target, bytes.data(), bytes.size());
    return true;
  }
  const size_t size = static_cast<size_t>(avro_schema_fixed_size(node));
  if (bytes.size() > size) return false;
  const char fill = !bytes.empty() && (bytes[0] & 0x80) ? '\xff' : '\0';
  bytes.insert(0, size - bytes.size(), fill);
  rc = avro_value_set_fixed(&target, bytes.data(), bytes.size());
  return true;
}

void AppendUnscaled(__int128 unscaled, std::string& out) {
  // Minimal two's complement: drop leading bytes that only repeat the sign.
  unsigned char bytes[16];
  auto raw = static_cast<unsigned __int128>(unscaled);
  for (int i = 15; i >= 0; --i) {
    bytes[i] = static_cast<unsigned char>(raw & 0xff);
    raw >>= 8;
  }
  int start = 0;
  while (start < 15 && ((bytes[start] == 0x00 && (bytes[start + 1] & 0x80) == 0) ||
                        (bytes[start] == 0xff && (bytes[start + 1] & 0x80) != 0))) {
    ++start;
  }
  out.append(reinterpret_cast<const char*>(bytes + start), 16 - start);
}

__int128 Pow10(int exponent) {
  __int128 result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}

// unscaled * 10^-from as a value with scale `to`, rounding half away from zero.
Result<__int128> Rescale(__int128 unscaled, int from, int to) {
  if (from == to) return unscaled;
  if (to > from) {
    if (to - from > 38) return Status::InvalidArgument("decimal scale out of range");
    return unscaled * Pow10(to - from);
  }
  if (from - to > 38) return static_cast<__int128>(0);
  const __int128 divisor = Pow10(from - to);
  __int128 quotient = unscaled / divisor, remainder = unscaled % divisor;
  if (remainder * 2 >= divisor) ++quotient;
  if (remainder * 2 <= -divisor) --quotient;
  return quotient;
}

// ---------------------------------------------------------------------------------------------
// Decoding: an avro_value_t -> a Value of the column's SQL type.

class AvroReader {
 public:
  explicit AvroReader(const AvroSchemaValue& schema) : schema_(schema) {}

  // `logical`: the annotation of `source`'s schema, from its parent (LogicalOf).
  Status Read(avro_value_t& source, const SqlType& type, types::Value& out,
              const AvroSchemaValue::Logical* logical) {
    avro_type_t kind = avro_value_get_type(&source);
    if (kind == AVRO_UNION) {
      avro_value_t branch;
      int discriminant = 0;
      if (avro_value_get_discriminant(&source, &discriminant) != 0 ||
          avro_value_get_current_branch(&source, &branch) != 0) {
        return Status::InvalidArgument("union without a branch: " + AvroError());
      }
      return Read(
          branch, type, out,
          schema_.LogicalOf(avro_value_get_schema(&source), static_cast<size_t>(discriminant)));
    }
    if (kind == AVRO_NULL) {
      out.SetNull();
      return Status::OK();
    }
    switch (type.id()) {
      case TypeId::kBoolean:
        if (kind == AVRO_BOOLEAN) {
          int flag = 0;
          avro_value_get_boolean(&source, &flag);
          out.SetInteger(TypeId::kBoolean, flag != 0);
          return Status::OK();
        }
        break;
      case TypeId::kInt:
      case TypeId::kBigint:
      case TypeId::kDate: {
        if (kind == AVRO_INT32) {
          int32_t number = 0;
          avro_value_get_int(&source, &number);
          out.SetInteger(type.id(), number);
          return Status::OK();
        }
        if (kind == AVRO_INT64 && type.id() != TypeId::kDate) {
          int64_t number = 0;
          avro_value_get_long(&source, &number);
          if (type.id() == TypeId::kInt && (number < INT32_MIN || number > INT32_MAX)) {
            return Status::InvalidArgument("long " + std::to_string(number) +
                                           " does not fit an INT");
          }
          out.SetInteger(type.id(), number);
          return Status::OK();
        }
        break;
      }
      case TypeId::kTimestamp:
      case TypeId::kTime: {
        const bool micros = logical != nullptr &&
                            (logical->name == "timestamp-micros" || logical->name == "time-micros");
        if (kind == AVRO_INT32) {
          int32_t number = 0;
          avro_value_get_int(&source, &number);
          out.SetInteger(type.id(), number);
          return Status::OK();
        }
        if (kind == AVRO_INT64) {
          int64_t number = 0;
          avro_value_get_long(&source, &number);
          out.SetInteger(type.id(), micros ? number / 1000 : number);
          return Status::OK();
        }
        break;
      }
      case TypeId::kDouble: {
        if (kind == AVRO_DOUBLE) {
          double number = 0;
          avro_value_get_double(&source, &number);
          out.SetDouble(number);
          return Status::OK();
        }
        if (kind == AVRO_FLOAT) {
          float number = 0;
          avro_value_get_float(&source, &number);
          out.SetDouble(number);
          return Status::OK();
        }
        if (kind == AVRO_INT32 || kind == AVRO_INT64) {
          int64_t number = 0;
          if (kind == AVRO_INT32) {
            int32_t small = 0;
            avro_value_get_int(&source, &small);
            number = small;
          } else {
            avro_value_get_long(&source, &number);
          }
          out.SetDouble(static_cast<double>(number));
          return Status::OK();
        }
        break;
      }
      case TypeId::kDecimal: {
        if (kind == AVRO_BYTES || kind == AVRO_FIXED) {
          const void* bytes = nullptr;
          size_t size = 0;
          if (kind == AVRO_BYTES) {
            avro_value_get_bytes(&source, &bytes, &size);
          } else {
            avro_value_get_fixed(&source, &bytes, &size);
          }
          const int writer_scale =
              logical != nullptr && logical->name == "decimal" ? logical->scale : type.scale();
          ASSIGN_OR_RAISE(__int128 unscaled,
                          UnscaledFromBytes(static_cast<const char*>(bytes), size));
          ASSIGN_OR_RAISE(__int128 rescaled, Rescale(unscaled, writer_scale, type.scale()));
          out.SetDecimal(rescaled, type.scale());
          return Status::OK();
        }
        break;
      }
      case TypeId::kString: {
        if (kind == AVRO_STRING) {
          const char* text = nullptr;
          size_t size = 0;
          avro_value_get_string(&source, &text, &size);
          std::string_view view(text, size > 0 ? size - 1 : 0);  // size counts the NUL
          RETURN_NOT_OK(CheckUtf8(view, "AVRO"));
          out.AssignString(view);
          return Status::OK();
        }
        // ksqlDB coerces a writer's number or boolean to a STRING column's text.
        if (kind == AVRO_INT32 || kind == AVRO_INT64 || kind == AVRO_DOUBLE || kind == AVRO_FLOAT ||
            kind == AVRO_BOOLEAN) {
          std::string text;
          if (kind == AVRO_INT32) {
            int32_t number = 0;
            avro_value_get_int(&source, &number);
            text = std::to_string(number);
          } else if (kind == AVRO_INT64) {
            int64_t number = 0;
            avro_value_get_long(&source, &number);
            text = std::to_string(number);
          } else if (kind == AVRO_BOOLEAN) {
            int flag = 0;
            avro_value_get_boolean(&source, &flag);
            text = flag ? "true" : "false";
          } else {
            double number = 0;
            if (kind == AVRO_DOUBLE) {
              avro_value_get_double(&source, &number);
            } else {
              float small = 0;
              avro_value_get_float(&source, &small);
              number = small;
            }
            text = JavaDoubleString(number);
          }
          out.AssignString(text);
          return Status::OK();
        }
        if (kind == AVRO_ENUM) {
          int symbol = 0;
          avro_value_get_enum(&source, &symbol);
          const char* name = avro_schema_enum_get(avro_value_get_schema(&source), symbol);
          if (name == nullptr) {
            return Status::InvalidArgument("enum symbol " + std::to_string(symbol) +
                                           " is not in the schema");
          }
          out.AssignString(name);
          return Status::OK();
        }
        break;
      }
      case TypeId::kBytes: {
        if (kind == AVRO_BYTES || kind == AVRO_FIXED) {
          const void* bytes = nullptr;
          size_t size = 0;
          if (kind == AVRO_BYTES) {
            avro_value_get_bytes(&source, &bytes, &size);
          } else {
            avro_value_get_fixed(&source, &bytes, &size);
          }
          out = types::Value::Bytes(std::string(static_cast<const char*>(bytes), size));
          return Status::OK();
        }
        break;
      }
      case TypeId::kArray: {
        if (kind != AVRO_ARRAY) break;
        size_t size = 0;
        avro_value_get_size(&source, &size);
        std::vector<types::Value> elements(size);
        for (size_t i = 0; i < size; ++i) {
          avro_value_t element;
          avro_value_get_by_index(&source, i, &element, nullptr);
          Status status = Read(element, type.element(), elements[i],
                               schema_.LogicalOf(avro_value_get_schema(&source), 0));
          if (!status.ok()) {
            return Status::InvalidArgument("element " + std::to_string(i) + ": " +
                                           status.message());
          }
        }
        out = types::Value::Array(std::move(elements));
        return Status::OK();
      }
      case TypeId::kMap: {
        if (kind != AVRO_MAP) break;
        if (type.key().id() != TypeId::kString) {
          return Status::InvalidArgument("AVRO maps have STRING keys only, not " +
                                         type.key().ToString());
        }
        size_t size = 0;
        avro_value_get_size(&source, &size);
        std::vector<types::Value> entries(2 * size);
        for (size_t i = 0; i < size; ++i) {
          avro_value_t entry;
          const char* key = nullptr;
          avro_value_get_by_index(&source, i, &entry, &key);
          std::string_view key_text = key != nullptr ? key : "";
          RETURN_NOT_OK(CheckUtf8(key_text, "AVRO"));
          entries[2 * i] = types::Value::String(std::string(key_text));
          Status status = Read(entry, type.value(), entries[2 * i + 1],
                               schema_.LogicalOf(avro_value_get_schema(&source), 0));
          if (!status.ok()) {
            return Status::InvalidArgument("map key '" + std::string(key_text) +
                                           "': " + status.message());
          }
        }
        out = types::Value::Map(std::move(entries));
        return Status::OK();
      }
      case TypeId::kStruct: {
        if (kind != AVRO_RECORD) break;
        avro_schema_t record = avro_value_get_schema(&source);
        const auto& fields = type.fields();
        std::vector<types::Value> values(fields.size());
        for (size_t f = 0; f < fields.size(); ++f) {
          int index = FieldIndex(record, fields[f].name);
          if (index < 0) continue;  // absent in the writer's schema: NULL
          avro_value_t field;
          avro_value_get_by_index(&source, static_cast<size_t>(index), &field, nullptr);
          Status status = Read(field, fields[f].type, values[f],
                               schema_.LogicalOf(record, static_cast<size_t>(index)));
          if (!status.ok()) {
            return Status::InvalidArgument("field " + fields[f].name + ": " + status.message());
          }
        }
        out = types::Value::Struct(std::move(values));
        return Status::OK();
      }
      case TypeId::kNull:
        out.SetNull();
        return Status::OK();
    }
    return Status::InvalidArgument("expected " + type.ToString() + " but the AVRO schema has " +
                                   AvroTypeName(kind));
  }

  // The index of the record's field named `name` (exact first, then case-insensitively);
  // -1 when absent.
  static int FieldIndex(avro_schema_t record, const std::string& name) {
    const size_t count = avro_schema_record_size(record);
    for (size_t i = 0; i < count; ++i) {
      const char* field = avro_schema_record_field_name(record, static_cast<int>(i));
      if (field != nullptr && name == field) return static_cast<int>(i);
    }
    for (size_t i = 0; i < count; ++i) {
      const char* field = avro_schema_record_field_name(record, static_cast<int>(i));
      if (field != nullptr && strcasecmp(name.c_str(), field) == 0) return static_cast<int>(i);
    }
    return -1;
  }

 private:
  const AvroSchemaValue& schema_;
};

// One writer schema as a decoder uses it: the parsed schema, and where each column is.
struct WriterSchema {
  AvroSchemaValue avro;
  bool is_record = false;
  std::vector<int> field_of_column;  // -1: absent, so NULL
};

class AvroRowDecoder final : public RowDecoder {
 public:
  AvroRowDecoder(std::shared_ptr<registry::SchemaRegistry> registry, FormatOptions options,
                 std::vector<FormatColumn> columns)
      : registry_(std::move(registry)),
        options_(std::move(options)),
        columns_(std::move(columns)),
        reader_(avro_reader_memory(nullptr, 0)) {}
  ~AvroRowDecoder() override { avro_reader_free(reader_); }

  Status Decode(std::string_view bytes, types::Row& row, size_t first_column) override {
    auto message = registry::ParseWireHeader(bytes);
    if (!message.ok()) return Status::InvalidArgument("AVRO: " + message.status().message());
    if (message->schema_id != last_id_ || last_ == nullptr) {
      ASSIGN_OR_RAISE(last_, WriterOf(message->schema_id));
      last_id_ = message->schema_id;
    }
    WriterSchema& writer = *last_;
    const std::string_view payload = message->payload;
    avro_reader_memory_set_source(reader_, payload.data(), static_cast<int64_t>(payload.size()));
    AllocationCap cap(payload.size());
    avro_value_t& value = writer.avro.value();
    if (!writer.is_record) {
      if (avro_value_read(reader_, &value) != 0) {
        return Status::InvalidArgument("column " + ColumnName(0) +
                                       ": AVRO data does not match schema id " +
                                       std::to_string(last_id_) + ": " + AvroError());
      }
      return Fill(value, 0, row, first_column, writer.avro.LogicalOf(nullptr, 0));
    }
    // Field by field, so an error names the field the body stopped fitting at.
    avro_schema_t record = writer.avro.schema();
    const size_t fields = avro_schema_record_size(record);
    for (size_t i = 0; i < fields; ++i) {
      avro_value_t field;
      avro_value_get_by_index(&value, i, &field, nullptr);
      if (avro_value_read(reader_, &field) != 0) {
        const char* name = avro_schema_record_field_name(record, static_cast<int>(i));
        return Status::InvalidArgument("column " + std::string(name ? name : "?") +
                                       ": AVRO data does not match schema id " +
                                       std::to_string(last_id_) + ": " + AvroError());
      }
    }
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (columns_[c].skip) continue;
      const int index = writer.field_of_column[c];
      if (index < 0) {
        row[first_column + c].SetNull();
        continue;
      }
      avro_value_t field;
      avro_value_get_by_index(&value, static_cast<size_t>(index), &field, nullptr);
      RETURN_NOT_OK(Fill(field, c, row, first_column,
                         writer.avro.LogicalOf(record, static_cast<size_t>(index))));
    }
    return Status::OK();
  }

 private:
  std::string ColumnName(size_t column) const {
    return column < columns_.size() ? columns_[column].name : "?";
  }

  Status Fill(avro_value_t& source, size_t column, types::Row& row, size_t first_column,
              const AvroSchemaValue::Logical* logical) {
    if (column >= columns_.size()) return Status::OK();
    if (columns_[column].skip) return Status::OK();
    AvroReader reader(last_->avro);
    Status status = reader.Read(source, columns_[column].type, row[first_column + column], logical);
    if (!status.ok()) {
      return Status::InvalidArgument("column " + columns_[column].name + ": " + status.message());
    }
    return Status::OK();
  }

  Result<WriterSchema*> WriterOf(int32_t id) {
    auto found = writers_.find(id);
    if (found != writers_.end()) return found->second.get();
    auto registered = registry_->GetById(id);
    if (!registered.ok()) {
      const Status& status = registered.status();
      if (status.code() == StatusCode::kUnavailable) {
        return Status::Unavailable("AVRO: schema id " + std::to_string(id) + ": " +
                                   status.message());
      }
      return Status::InvalidArgument("AVRO: unknown schema id " + std::to_string(id) + " (" +
                                     status.message() + ")");
    }
    if (registered->type != registry::SchemaType::kAvro) {
      return Status::InvalidArgument("AVRO: schema id " + std::to_string(id) + " is a " +
                                     registry::SchemaTypeName(registered->type) +
                                     " schema, not AVRO");
    }
    auto writer = std::make_unique<WriterSchema>();
    Status parsed = writer->avro.Parse(registered->schema);
    if (!parsed.ok()) {
      return Status::InvalidArgument("AVRO: schema id " + std::to_string(id) + ": " +
                                     parsed.message());
    }
    // An unwrapped column (a key, WRAP_SINGLE_VALUE=false) is the whole message, even a
    // STRUCT written as a bare record.
    writer->is_record =
        is_avro_record(writer->avro.schema()) && !JsonUnwrapped(options_, columns_.size());
    writer->field_of_column.assign(columns_.size(), -1);
    if (writer->is_record) {
      for (size_t c = 0; c < columns_.size(); ++c) {
        writer->field_of_column[c] =
            AvroReader::FieldIndex(writer->avro.schema(), columns_[c].name);
      }
    } else if (columns_.size() > 1) {
      return Status::InvalidArgument("AVRO: schema id " + std::to_string(id) +
                                     " is not a record, but " + std::to_string(columns_.size()) +
                                     " columns are expected");
    }
    WriterSchema* raw = writer.get();
    writers_.emplace(id, std::move(writer));
    return raw;
  }

  std::shared_ptr<registry::SchemaRegistry> registry_;
  FormatOptions options_;
  std::vector<FormatColumn> columns_;
  avro_reader_t reader_;
  std::unordered_map<int32_t, std::unique_ptr<WriterSchema>> writers_;
  int32_t last_id_ = -1;
  WriterSchema* last_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// Encoding: a Value -> an avro_value_t of the derived schema.

Status WriteValue(const types::Value& value, const SqlType& type, avro_value_t& target);

// `target` is a ["null", T] union.
Status WriteNullable(const types::Value& value, const SqlType& type, avro_value_t& target) {
  avro_value_t branch;
  if (value.is_null()) {
    if (avro_value_set_branch(&target, 0, &branch) != 0) return Status::Internal(AvroError());
    avro_value_set_null(&branch);
    return Status::OK();
  }
  if (avro_value_set_branch(&target, 1, &branch) != 0) return Status::Internal(AvroError());
  return WriteValue(value, type, branch);
}

Status WriteValue(const types::Value& value, const SqlType& type, avro_value_t& target) {
  int rc = 0;
  switch (type.id()) {
    case TypeId::kBoolean:
      rc = avro_value_set_boolean(&target, value.boolean() ? 1 : 0);
      break;
    case TypeId::kInt:
    case TypeId::kDate:
    case TypeId::kTime:
      rc = avro_value_set_int(&target, static_cast<int32_t>(value.integer()));
      break;
    case TypeId::kBigint:
    case TypeId::kTimestamp:
      rc = avro_value_set_long(&target, value.integer());
      break;
    case TypeId::kDouble:
      rc = avro_value_set_double(&target, value.kind() == TypeId::kDouble ? value.float64()
                                          : value.kind() == TypeId::kDecimal
                                              ? types::DecimalToDouble(value.decimal())
                                              : static_cast<double>(value.integer()));
      break;
    case TypeId::kDecimal: {
      __int128 unscaled = 0;
      if (value.kind() == TypeId::kDecimal) {
        ASSIGN_OR_RAISE(unscaled,
                        Rescale(value.decimal().unscaled, value.decimal().scale, type.scale()));
      } else {
        ASSIGN_OR_RAISE(unscaled, Rescale(static_cast<__int128>(value.integer()), 0, type.scale()));
      }
      std::string bytes;
      AppendUnscaled(unscaled, bytes);
      rc = avro_value_set_bytes(&target, bytes.data(), bytes.size());
      break;
    }
    case TypeId::kString:
      // avro-c counts the terminating NUL, which std::string keeps.
      rc = avro_value_set_string_len(&target, value.string().c_str(), value.string().size() + 1);
      break;
    case TypeId::kBytes:
      rc = avro_value_set_bytes(&target, const_cast<char*>(value.string().data()),
                                value.string().size());
      break;
    case TypeId::kArray: {
      for (const auto& element : value.children()) {
        avro_value_t item;
        if (avro_value_append(&target, &item, nullptr) != 0) return Status::Internal(AvroError());
        RETURN_NOT_OK(WriteNullable(element, type.element(), item));
      }
      break;
    }
    case TypeId::kMap: {
      const auto& entries = value.children();
      for (size_t i = 0; i + 1 < entries.size(); i += 2) {
        if (entries[i].is_null()) return Status::InvalidArgument("AVRO map key is NULL");
        avro_value_t item;
        int is_new = 0;
        if (avro_value_add(&target, entries[i].string().c_str(), &item, nullptr, &is_new) != 0) {
          return Status::Internal(AvroError());
        }
        RETURN_NOT_OK(WriteNullable(entries[i + 1], type.value(), item));
      }
      break;
    }
    case TypeId::kStruct: {
      const auto& fields = type.fields();
      const auto& values = value.children();
      for (size_t f = 0; f < fields.size(); ++f) {
        avro_value_t field;
        if (avro_value_get_by_index(&target, f, &field, nullptr) != 0) {
          return Status::Internal(AvroError());
        }
        static const types::Value kNull{};
        RETURN_NOT_OK(WriteNullable(f < values.size() ? values[f] : kNull, fields[f].type, field));
      }
      break;
    }
    case TypeId::kNull:
      break;
  }
  if (rc != 0) return Status::InvalidArgument(AvroError());
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Encoding into a registered schema (KEY_/VALUE_SCHEMA_ID): a Value -> an avro_value_t of any
// writer schema, as Kafka Connect's AvroData writes a ksqlDB row into the schema it is given.

Status FillFromJson(const json& value, avro_value_t& target, const AvroSchemaValue& schema,
                    const AvroSchemaValue::Logical* logical);

// Whether a union branch can hold a non-NULL value of `type`.
bool BranchHolds(avro_schema_t branch, const SqlType& type) {
  switch (avro_typeof(branch)) {
    case AVRO_BOOLEAN:
      return type.id() == TypeId::kBoolean;
    case AVRO_INT32:
      return type.id() == TypeId::kInt || type.id() == TypeId::kDate || type.id() == TypeId::kTime;
    case AVRO_INT64:
      return type.id() == TypeId::kBigint || type.id() == TypeId::kTimestamp ||
             type.id() == TypeId::kInt;
    case AVRO_FLOAT:
    case AVRO_DOUBLE:
      return type.id() == TypeId::kDouble;
    case AVRO_STRING:
    case AVRO_ENUM:
      return type.id() == TypeId::kString;
    case AVRO_BYTES:
    case AVRO_FIXED:
      return type.id() == TypeId::kBytes || type.id() == TypeId::kDecimal;
    case AVRO_ARRAY:
      return type.id() == TypeId::kArray;
    case AVRO_MAP:
      return type.id() == TypeId::kMap;
    case AVRO_RECORD:
      return type.id() == TypeId::kStruct;
    default:
      return false;
  }
}

Status WriteToSchema(const types::Value& value, const SqlType& type, avro_value_t& target,
                     const AvroSchemaValue& schema, const AvroSchemaValue::Logical* logical);

// Fills a record's fields by name from `lookup` (exact name first, then case-insensitively);
// a field with no value, or a NULL one, takes its default, else NULL.
template <typename Lookup>
Status WriteRecord(const Lookup& lookup, avro_value_t& target, const AvroSchemaValue& schema) {
  avro_schema_t node = avro_value_get_schema(&target);
  const size_t fields = avro_schema_record_size(node);
  static const types::Value kNull{};
  for (size_t i = 0; i < fields; ++i) {
    const char* name = avro_schema_record_field_name(node, static_cast<int>(i));
    std::pair<const types::Value*, const SqlType*> found = lookup(name);
    avro_value_t field;
    if (avro_value_get_by_index(&target, i, &field, nullptr) != 0) {
      return Status::Internal(AvroError());
    }
    Status status;
    if (found.first != nullptr && !found.first->is_null()) {
      status = WriteToSchema(*found.first, *found.second, field, schema, schema.LogicalOf(node, i));
    } else if (const json* fallback = schema.DefaultOf(node, i); fallback != nullptr) {
      status = FillFromJson(*fallback, field, schema, schema.LogicalOf(node, i));
    } else {
      status = WriteToSchema(kNull, SqlType::Int(), field, schema, nullptr);
    }
    if (!status.ok()) {
      return Status::InvalidArgument("field " + std::string(name) + ": " + status.message());
    }
  }
  return Status::OK();
}

Status WriteToSchema(const types::Value& value, const SqlType& type, avro_value_t& target,
                     const AvroSchemaValue& schema, const AvroSchemaValue::Logical* logical) {
  avro_schema_t node = avro_value_get_schema(&target);
  const avro_type_t kind = avro_value_get_type(&target);
  if (kind == AVRO_UNION) {
    const size_t branches = avro_schema_union_size(node);
    for (size_t i = 0; i < branches; ++i) {
      avro_schema_t branch_schema = avro_schema_union_branch(node, static_cast<int>(i));
      const bool fits = value.is_null() ? avro_typeof(branch_schema) == AVRO_NULL
                                        : BranchHolds(branch_schema, type);
      if (!fits) continue;
      avro_value_t branch;
      if (avro_value_set_branch(&target, static_cast<int>(i), &branch) != 0) {
        return Status::Internal(AvroError());
      }
      if (value.is_null())
        return avro_value_set_null(&branch) == 0 ? Status::OK() : Status::Internal(AvroError());
      return WriteToSchema(value, type, branch, schema, schema.LogicalOf(node, i));
    }
    return Status::InvalidArgument(value.is_null() ? "NULL does not fit the registered union"
                                                   : "a " + type.ToString() +
                                                         " does not fit the registered union");
  }
  if (value.is_null()) {
    return Status::InvalidArgument(std::string("NULL for a registered ") + AvroTypeName(kind) +
                                   " that is not nullable and has no default");
  }
  auto mismatch = [&] {
    return Status::InvalidArgument("a " + type.ToString() + " does not fit the registered " +
                                   AvroTypeName(kind));
  };
  const bool micros =
      logical != nullptr && (logical->name == "timestamp-micros" || logical->name == "time-micros");
  int rc = 0;
  switch (kind) {
    case AVRO_BOOLEAN:
      if (value.kind() != TypeId::kBoolean) return mismatch();
      rc = avro_value_set_boolean(&target, value.boolean() ? 1 : 0);
      break;
    case AVRO_INT32:
      if (!BranchHolds(node, type)) return mismatch();
      rc = avro_value_set_int(&target, static_cast<int32_t>(value.integer()));
      break;
    case AVRO_INT64:
      if (!BranchHolds(node, type)) return mismatch();
      rc = avro_value_set_long(&target, micros ? value.integer() * 1000 : value.integer());
      break;
    case AVRO_FLOAT:
    case AVRO_DOUBLE: {
      double number = 0;
      if (value.kind() == TypeId::kDouble) {
        number = value.float64();
      } else if (value.kind() == TypeId::kDecimal) {
        number = types::DecimalToDouble(value.decimal());
      } else if (value.kind() == TypeId::kInt || value.kind() == TypeId::kBigint) {
        number = static_cast<double>(value.integer());
      } else {
        return mismatch();
      }
      rc = kind == AVRO_FLOAT ? avro_value_set_float(&target, static_cast<float>(number))
                              : avro_value_set_double(&target, number);
      break;
    }
    case AVRO_STRING:
      if (value.kind() != TypeId::kString) return mismatch();
      rc = avro_value_set_string_len(&target, value.string().c_str(), value.string().size() + 1);
      break;
    case AVRO_ENUM: {
      if (value.kind() != TypeId::kString) return mismatch();
      const int symbol = avro_schema_enum_get_by_name(node, value.string().c_str());
      if (symbol < 0) {
        return Status::InvalidArgument("'" + value.string() + "' is not a symbol of the enum");
      }
      rc = avro_value_set_enum(&target, symbol);
      break;
    }
    case AVRO_BYTES:
    case AVRO_FIXED: {
      std::string bytes;
      if (logical != nullptr && logical->name == "decimal") {
        __int128 unscaled = 0;
        if (value.kind() == TypeId::kDecimal) {
          ASSIGN_OR_RAISE(unscaled,
                          Rescale(value.decimal().unscaled, value.decimal().scale, logical->scale));
        } else if (value.kind() == TypeId::kInt || value.kind() == TypeId::kBigint) {
          ASSIGN_OR_RAISE(unscaled,
                          Rescale(static_cast<__int128>(value.integer()), 0, logical->scale));
        } else {
          return mismatch();
        }
        AppendUnscaled(unscaled, bytes);
      } else if (value.kind() == TypeId::kBytes) {
        bytes = value.string();
      } else {
        return mismatch();
      }
      if (!SetBytesOrFixed(target, node, kind, bytes, rc)) return mismatch();
      break;
    }
    case AVRO_ARRAY:
      if (value.kind() != TypeId::kArray || type.id() != TypeId::kArray) return mismatch();
      for (const auto& element : value.children()) {
        avro_value_t item;
        if (avro_value_append(&target, &item, nullptr) != 0) return Status::Internal(AvroError());
        RETURN_NOT_OK(
            WriteToSchema(element, type.element(), item, schema, schema.LogicalOf(node, 0)));
      }
      break;
    case AVRO_MAP: {
      if (value.kind() != TypeId::kMap || type.id() != TypeId::kMap) return mismatch();
      const auto& entries = value.children();
      for (size_t i = 0; i + 1 < entries.size(); i += 2) {
        if (entries[i].is_null()) return Status::InvalidArgument("AVRO map key is NULL");
        avro_value_t item;
        if (avro_value_add(&target, entries[i].string().c_str(), &item, nullptr, nullptr) != 0) {
          return Status::Internal(AvroError());
        }
        RETURN_NOT_OK(
            WriteToSchema(entries[i + 1], type.value(), item, schema, schema.LogicalOf(node, 0)));
      }
      break;
    }
    case AVRO_RECORD: {
      if (value.kind() != TypeId::kStruct || type.id() != TypeId::kStruct) return mismatch();
      const auto& fields = type.fields();
      const auto& values = value.children();
      auto lookup = [&](const char* name) -> std::pair<const types::Value*, const SqlType*> {
        for (int pass = 0; pass < 2; ++pass) {
          for (size_t f = 0; f < fields.size() && f < values.size(); ++f) {
            if (pass == 0 ? fields[f].name == name
                          : strcasecmp(fields[f].name.c_str(), name) == 0) {
              return {&values[f], &fields[f].type};
            }
          }
        }
        return {nullptr, nullptr};
      };
      return WriteRecord(lookup, target, schema);
    }
    default:
      return mismatch();
  }
  if (rc != 0) return Status::InvalidArgument(AvroError());
  return Status::OK();
}

class AvroRowEncoder final : public RowEncoder {
 public:
  AvroRowEncoder(std::shared_ptr<registry::SchemaRegistry> registry, FormatOptions options,
                 std::vector<FormatColumn> columns, std::string schema_text, bool unwrapped)
      : registry_(std::move(registry)),
        options_(std::move(options)),
        columns_(std::move(columns)),
        schema_text_(std::move(schema_text)),
        unwrapped_(unwrapped),
        writer_(avro_writer_memory(nullptr, 0)) {}
  ~AvroRowEncoder() override { avro_writer_free(writer_); }

  Status Init() { return avro_.Parse(schema_text_); }

  // Writes with the schema registered under `id` (KEY_/VALUE_SCHEMA_ID), already in
  // schema_text_, filling its fields by name rather than registering one of the columns.
  void UseRegisteredSchema(int32_t id) {
    schema_id_ = id;
    registered_ = true;
  }

  Status Encode(const types::Row& row, size_t first_column, std::string& out) override {
    if (registered_) {
      RETURN_NOT_OK(FillRegistered(row, first_column));
      return Write(out);
    }
    if (schema_id_ < 0) {
      auto id = registry_->Register(SubjectOf(options_), registry::SchemaType::kAvro, schema_text_);
      if (!id.ok()) {
        return Status(id.status().code(), "AVRO: " + id.status().message());
      }
      schema_id_ = *id;
    }
    avro_value_t& value = avro_.value();
    avro_value_reset(&value);
    static const types::Value kNull{};
    for (size_t c = 0; c < columns_.size(); ++c) {
      const types::Value& cell = first_column + c < row.size() ? row[first_column + c] : kNull;
      avro_value_t target;
      if (unwrapped_) {
        target = value;
      } else if (avro_value_get_by_index(&value, c, &target, nullptr) != 0) {
        return Status::Internal(AvroError());
      }
      Status status = WriteNullable(cell, columns_[c].type, target);
      if (!status.ok()) {
        return Status::InvalidArgument("column " + columns_[c].name + ": " + status.message());
      }
    }
    return Write(out);
  }

 private:
  Status FillRegistered(const types::Row& row, size_t first_column) {
    avro_value_t& value = avro_.value();
    avro_value_reset(&value);
    static const types::Value kNull{};
    auto cell = [&](size_t c) -> const types::Value& {
      return first_column + c < row.size() ? row[first_column + c] : kNull;
    };
    Status status;
    if (unwrapped_) {
      status = WriteToSchema(cell(0), columns_[0].type, value, avro_, avro_.LogicalOf(nullptr, 0));
    } else if (avro_value_get_type(&value) != AVRO_RECORD) {
      status = Status::InvalidArgument("the registered schema is not a record");
    } else {
      auto lookup = [&](const char* name) -> std::pair<const types::Value*, const SqlType*> {
        for (int pass = 0; pass < 2; ++pass) {
          for (size_t c = 0; c < columns_.size(); ++c) {
            if (pass == 0 ? columns_[c].name == name
                          : strcasecmp(columns_[c].name.c_str(), name) == 0) {
              return {&cell(c), &columns_[c].type};
            }
          }
        }
        return {nullptr, nullptr};
      };
      status = WriteRecord(lookup, value, avro_);
    }
    if (!status.ok()) {
      return Status::InvalidArgument("AVRO: the row does not fit the registered schema " +
                                     std::to_string(schema_id_) + ": " + status.message());
    }
    return Status::OK();
  }

  Status Write(std::string& out) {
    avro_value_t& value = avro_.value();
    size_t size = 0;
    if (avro_value_sizeof(&value, &size) != 0) return Status::Internal(AvroError());
    out.clear();
    registry::AppendWireHeader(schema_id_, out);
    out.resize(registry::kWireHeaderBytes + size);
    avro_writer_memory_set_dest(writer_, out.data() + registry::kWireHeaderBytes,
                                static_cast<int64_t>(size));
    if (avro_value_write(writer_, &value) != 0) {
      return Status::Internal("AVRO: cannot write the record: " + AvroError());
    }
    return Status::OK();
  }

  std::shared_ptr<registry::SchemaRegistry> registry_;
  FormatOptions options_;
  std::vector<FormatColumn> columns_;
  std::string schema_text_;
  bool unwrapped_;
  AvroSchemaValue avro_;
  avro_writer_t writer_;
  int32_t schema_id_ = -1;
  bool registered_ = false;  // schema_text_ is the registered schema schema_id_
};

Result<std::shared_ptr<registry::SchemaRegistry>> RegistryOf(const FormatOptions& options) {
  return registry::SharedSchemaRegistry(SchemaRegistryUrlOf(options));
}

// ---------------------------------------------------------------------------------------------
// Avro schema -> SQL columns.

// `upper_case`: record field names upper-cased, as ksqlDB infers them when no schema id is
// given (ConnectKsqlSchemaTranslator's default policy).
Result<SqlType> SqlTypeOf(const json& node, bool upper_case) {
  if (node.is_array()) {
    // A union: ["null", T] is a nullable T; anything else has no SQL type.
    const json* only = nullptr;
    for (const auto& branch : node) {
      if (branch.is_string() && branch.get<std::string>() == "null") continue;
      if (only != nullptr) return Status::InvalidArgument("a union of several types");
      only = &branch;
    }
    if (only == nullptr) return Status::InvalidArgument("a union of null only");
    return SqlTypeOf(*only, upper_case);
  }
  if (node.is_string()) {
    const std::string& name = node.get_ref<const std::string&>();
    if (name == "boolean") return SqlType::Boolean();
    if (name == "int") return SqlType::Int();
    if (name == "long") return SqlType::Bigint();
    if (name == "float" || name == "double") return SqlType::Double();
    if (name == "string") return SqlType::String();
    if (name == "bytes") return SqlType::Bytes();
    return Status::InvalidArgument("type '" + name + "'");
  }
  if (!node.is_object() || !node.contains("type")) return Status::InvalidArgument("no type");
  const json& type = node["type"];
  if (!type.is_string()) return SqlTypeOf(type, upper_case);
  const std::string& kind = type.get_ref<const std::string&>();
  const std::string logical = node.value("logicalType", std::string());
  if (logical == "decimal") {
    return SqlType::Decimal(node.value("precision", 64), node.value("scale", 0));
  }
  if (logical == "date" && kind == "int") return SqlType::Date();
  if ((logical == "time-millis" && kind == "int") || (logical == "time-micros" && kind == "long")) {
    return SqlType::Time();
  }
  if ((logical == "timestamp-millis" || logical == "timestamp-micros") && kind == "long") {
    return SqlType::Timestamp();
  }
  if (kind == "array") {
    ASSIGN_OR_RAISE(SqlType items, SqlTypeOf(node.value("items", json()), upper_case));
    return SqlType::Array(std::move(items));
  }
  if (kind == "map") {
    ASSIGN_OR_RAISE(SqlType values, SqlTypeOf(node.value("values", json()), upper_case));
    return SqlType::Map(SqlType::String(), std::move(values));
  }
  if (kind == "enum") return SqlType::String();
  if (kind == "fixed") return SqlType::Bytes();
  if (kind == "record") {
    std::vector<types::StructField> fields;
    for (const auto& field : node.value("fields", json::array())) {
      const std::string name = field.value("name", std::string());
      auto field_type = SqlTypeOf(field.value("type", json()), upper_case);
      if (!field_type.ok()) {
        return Status::InvalidArgument("field " + name + ": " + field_type.status().message());
      }
      fields.push_back({upper_case ? Upper(name) : name, std::move(*field_type)});
    }
    return SqlType::Struct(std::move(fields));
  }
  return SqlTypeOf(type, upper_case);
}

// ---------------------------------------------------------------------------------------------
// A test file's JSON value -> an avro_value_t of any writer schema.

bool BranchFits(avro_schema_t branch, const json& value) {
  switch (avro_typeof(branch)) {
    case AVRO_NULL:
      return value.is_null();
    case AVRO_BOOLEAN:
      return value.is_boolean();
    case AVRO_INT32:
    case AVRO_INT64:
      return value.is_number_integer();
    case AVRO_FLOAT:
    case AVRO_DOUBLE:
      return value.is_number();
    case AVRO_STRING:
    case AVRO_ENUM:
      return value.is_string();
    case AVRO_BYTES:
    case AVRO_FIXED:
      return value.is_string() || value.is_number();
    case AVRO_ARRAY:
      return value.is_array();
    case AVRO_MAP:
    case AVRO_RECORD:
      return value.is_object();
    default:
      return false;
  }
}

Status FillFromJson(const json& value, avro_value_t& target, const AvroSchemaValue& schema,
                    const AvroSchemaValue::Logical* logical) {
  avro_schema_t node = avro_value_get_schema(&target);
  avro_type_t kind = avro_value_get_type(&target);
  auto mismatch = [&] {
    return Status::InvalidArgument("JSON " + value.dump() + " does not fit AVRO " +
                                   AvroTypeName(kind));
  };
  int rc = 0;
  switch (kind) {
    case AVRO_UNION: {
      // A branch of the value's own type first; else a string branch takes a number or a
      // boolean as its text, as ksqlDB's runner coerces test values.
      const size_t branches = avro_schema_union_size(node);
      for (int pass = 0; pass < 2; ++pass) {
        for (size_t i = 0; i < branches; ++i) {
          avro_schema_t branch_schema = avro_schema_union_branch(node, static_cast<int>(i));
          const bool fits = pass == 0 ? BranchFits(branch_schema, value)
                                      : avro_typeof(branch_schema) == AVRO_STRING &&
                                            (value.is_number() || value.is_boolean());
          if (!fits) continue;
          avro_value_t branch;
          if (avro_value_set_branch(&target, static_cast<int>(i), &branch) != 0) break;
          return FillFromJson(value, branch, schema, schema.LogicalOf(node, i));
        }
      }
      return mismatch();
    }
    case AVRO_NULL:
      if (!value.is_null()) return mismatch();
      rc = avro_value_set_null(&target);
      break;
    case AVRO_BOOLEAN:
      if (!value.is_boolean()) return mismatch();
      rc = avro_value_set_boolean(&target, value.get<bool>() ? 1 : 0);
      break;
    case AVRO_INT32:
      if (!value.is_number()) return mismatch();
      rc = avro_value_set_int(&target, value.get<int32_t>());
      break;
    case AVRO_INT64:
      if (!value.is_number()) return mismatch();
      rc = avro_value_set_long(&target, value.get<int64_t>());
      break;
    case AVRO_FLOAT:
      if (!value.is_number()) return mismatch();
      rc = avro_value_set_float(&target, value.get<float>());
      break;
    case AVRO_DOUBLE:
      if (!value.is_number()) return mismatch();
      rc = avro_value_set_double(&target, value.get<double>());
      break;
    case AVRO_STRING: {
      const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
      rc = avro_value_set_string_len(&target, text.c_str(), text.size() + 1);
      break;
    }
    case AVRO_ENUM: {
      if (!value.is_string()) return mismatch();
      const int symbol = avro_schema_enum_get_by_name(node, value.get<std::string>().c_str());
      if (symbol < 0) return mismatch();
      rc = avro_value_set_enum(&target, symbol);
      break;
    }
    case AVRO_BYTES:
    case AVRO_FIXED: {
      std::string bytes;
      if (logical != nullptr && logical->name == "decimal") {
        const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
        types::Decimal decimal;
        RETURN_NOT_OK(ParseDecimal(text, types::kMaxDecimalPrecision, logical->scale, decimal));
        ASSIGN_OR_RAISE(__int128 unscaled,
                        Rescale(decimal.unscaled, decimal.scale, logical->scale));
        AppendUnscaled(unscaled, bytes);
      } else if (!value.is_string() || !DecodeBase64(value.get<std::string>(), bytes)) {
        return mismatch();
      }
      if (!SetBytesOrFixed(target, node, kind, bytes, rc)) return mismatch();
      break;
    }
    case AVRO_ARRAY:
      if (!value.is_array()) return mismatch();
      for (const auto& element : value) {
        avro_value_t item;
        if (avro_value_append(&target, &item, nullptr) != 0) return Status::Internal(AvroError());
        RETURN_NOT_OK(FillFromJson(element, item, schema, schema.LogicalOf(node, 0)));
      }
      break;
    case AVRO_MAP:
      if (!value.is_object()) return mismatch();
      for (const auto& [key, element] : value.items()) {
        avro_value_t item;
        if (avro_value_add(&target, key.c_str(), &item, nullptr, nullptr) != 0) {
          return Status::Internal(AvroError());
        }
        RETURN_NOT_OK(FillFromJson(element, item, schema, schema.LogicalOf(node, 0)));
      }
      break;
    case AVRO_RECORD: {
      if (!value.is_object()) return mismatch();
      const size_t fields = avro_schema_record_size(node);
      for (size_t i = 0; i < fields; ++i) {
        const char* name = avro_schema_record_field_name(node, static_cast<int>(i));
        const json* found = nullptr;
        for (const auto& [key, element] : value.items()) {
          if (key == name) found = &element;
        }
        for (const auto& [key, element] : value.items()) {
          if (found == nullptr && strcasecmp(key.c_str(), name) == 0) found = &element;
        }
        static const json kNull;
        avro_value_t field;
        avro_value_get_by_index(&target, i, &field, nullptr);
        Status status = FillFromJson(found != nullptr ? *found : kNull, field, schema,
                                     schema.LogicalOf(node, i));
        if (!status.ok()) {
          return Status::InvalidArgument("field " + std::string(name) + ": " + status.message());
        }
      }
      break;
    }
    default:
      return mismatch();
  }
  if (rc != 0) return Status::InvalidArgument(AvroError());
  return Status::OK();
}

}  // namespace

Result<std::string> AvroMessageFromJson(const std::string& writer_schema, int32_t schema_id,
                                        std::string_view value_json) {
  AvroSchemaValue schema;
  RETURN_NOT_OK(schema.Parse(writer_schema));
  json value = json::parse(value_json, nullptr, false);
  if (value.is_discarded()) return Status::InvalidArgument("not JSON: " + std::string(value_json));
  avro_value_t& target = schema.value();
  RETURN_NOT_OK(FillFromJson(value, target, schema, schema.LogicalOf(nullptr, 0)));
  size_t size = 0;
  if (avro_value_sizeof(&target, &size) != 0) return Status::Internal(AvroError());
  std::string out;
  registry::AppendWireHeader(schema_id, out);
  out.resize(registry::kWireHeaderBytes + size);
  avro_writer_t writer =
      avro_writer_memory(out.data() + registry::kWireHeaderBytes, static_cast<int64_t>(size));
  const int rc = avro_value_write(writer, &target);
  avro_writer_free(writer);
  if (rc != 0) return Status::Internal("AVRO: cannot write the record: " + AvroError());
  return out;
}

Result<std::string> AvroSchemaOf(const FormatOptions& options,
                                 const std::vector<FormatColumn>& columns) {
  std::string full_name =
      options.full_schema_name.empty() ? kDefaultAvroSchemaFullName : options.full_schema_name;
  std::string name_space, name = full_name;
  if (size_t dot = full_name.rfind('.'); dot != std::string::npos) {
    name_space = full_name.substr(0, dot);
    name = full_name.substr(dot + 1);
  }
  if (JsonUnwrapped(options, columns.size())) {
    auto type = AvroTypeOf(columns[0].type, name);
    if (!type.ok()) {
      return Status::InvalidArgument("column " + columns[0].name + ": " + type.status().message());
    }
    return Nullable(std::move(*type)).dump();
  }
  json fields = json::array();
  for (const auto& column : columns) {
    auto type = AvroTypeOf(column.type, name + "_" + column.name);
    if (!type.ok()) {
      return Status::InvalidArgument("column " + column.name + ": " + type.status().message());
    }
    fields.push_back(
        {{"name", column.name}, {"type", Nullable(std::move(*type))}, {"default", nullptr}});
  }
  json record = {{"type", "record"}, {"name", name}};
  if (!name_space.empty()) record["namespace"] = name_space;
  record["fields"] = std::move(fields);
  return record.dump();
}

Result<std::vector<FormatColumn>> ColumnsOfAvroSchema(std::string_view schema_json,
                                                      const std::string& single_name,
                                                      bool whole_schema, bool upper_case) {
  json schema = json::parse(schema_json, nullptr, false);
  if (schema.is_discarded()) return Status::InvalidArgument("the AVRO schema is not JSON");
  std::vector<FormatColumn> columns;
  if (!whole_schema && schema.is_object() && schema.value("type", json()) == "record") {
    for (const auto& field : schema.value("fields", json::array())) {
      const std::string name = field.value("name", std::string());
      auto type = SqlTypeOf(field.value("type", json()), upper_case);
      if (!type.ok()) {
        return Status::InvalidArgument("AVRO field " + name +
                                       " has no SQL type: " + type.status().message());
      }
      columns.push_back({upper_case ? Upper(name) : name, std::move(*type)});
    }
    return columns;
  }
  auto type = SqlTypeOf(schema, upper_case);
  if (!type.ok()) {
    return Status::InvalidArgument("the AVRO schema has no SQL type: " + type.status().message());
  }
  columns.push_back({single_name, std::move(*type)});
  return columns;
}

Result<std::unique_ptr<RowDecoder>> MakeAvroDecoder(const FormatOptions& options,
                                                    std::vector<FormatColumn> columns) {
  ASSIGN_OR_RAISE(auto registry, RegistryOf(options));
  InstallAllocator();
  return std::unique_ptr<RowDecoder>(
      std::make_unique<AvroRowDecoder>(std::move(registry), options, std::move(columns)));
}

Result<std::unique_ptr<RowEncoder>> MakeAvroEncoder(const FormatOptions& options,
                                                    std::vector<FormatColumn> columns) {
  ASSIGN_OR_RAISE(auto registry, RegistryOf(options));
  std::string schema;
  if (options.schema_id) {
    // ksqlDB writes with the schema the id names; the analyzer checked the columns fit it.
    ASSIGN_OR_RAISE(registry::SchemaToWrite registered,
                    registry::GetSchemaToWrite(*registry, *options.schema_id,
                                               registry::SchemaType::kAvro, SubjectOf(options)));
    schema = std::move(registered.registered.schema);
  } else {
    ASSIGN_OR_RAISE(schema, AvroSchemaOf(options, columns));
  }
  const bool unwrapped = JsonUnwrapped(options, columns.size());
  auto encoder = std::make_unique<AvroRowEncoder>(std::move(registry), options, std::move(columns),
                                                  std::move(schema), unwrapped);
  RETURN_NOT_OK(encoder->Init());
  if (options.schema_id) encoder->UseRegisteredSchema(*options.schema_id);
  return std::unique_ptr<RowEncoder>(std::move(encoder));
}

}  // namespace sidestream::formats
