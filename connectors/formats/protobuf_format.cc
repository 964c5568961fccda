#include "connectors/formats/protobuf_format.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/wire_format_lite.h>
#include <google/protobuf/wrappers.pb.h>

#include <chrono>
#include <cstdio>
#include <limits>
#include <set>
#include <utility>

#include "connectors/formats/scalar_text.h"

namespace sidestream::formats {
namespace {

namespace pb = google::protobuf;
using FieldProto = pb::FieldDescriptorProto;
using types::SqlType;
using types::TypeId;
using types::Value;

constexpr const char* kTimestampFile = "google/protobuf/timestamp.proto";
constexpr const char* kWrappersFile = "google/protobuf/wrappers.proto";
constexpr const char* kDateFile = "google/type/date.proto";
constexpr const char* kTimeFile = "google/type/timeofday.proto";
constexpr const char* kDecimalFile = "confluent/type/decimal.proto";
constexpr const char* kRootMessage = "ConnectDefault1";
constexpr int64_t kNanosPerMilli = 1'000'000;
constexpr int64_t kMillisPerDay = 86'400'000;
constexpr int kMinYear = -32767;  // std::chrono::year's range
constexpr int kMaxYear = 32767;
constexpr int64_t kFirstDay =
    std::chrono::sys_days(std::chrono::year(kMinYear) / 1 / 1).time_since_epoch().count();
constexpr int64_t kLastDay =
    std::chrono::sys_days(std::chrono::year(kMaxYear) / 12 / 31).time_since_epoch().count();
// A hostile Confluent header could claim any number of message indexes.
constexpr int32_t kMaxMessageIndexes = 64;

std::string Lower(std::string text) {
  for (char& c : text) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  return text;
}

// Confluent's scrubName: a name starts with a letter and holds only letters, digits and '_'.
std::string ScrubName(const std::string& name) {
  std::string scrubbed;
  if (name.empty() || !((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z'))) {
    scrubbed = "x";
  }
  for (char c : name) {
    bool valid =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    scrubbed += valid ? c : '_';
  }
  return scrubbed;
}

// proto3 refuses two fields of a message whose names match once lower-cased without '_'
// (their JSON names would clash): such a name gets a numeric suffix.
std::vector<std::string> UniqueFieldNames(const std::vector<std::string>& names) {
  std::set<std::string> taken;
  std::vector<std::string> unique;
  for (const std::string& name : names) {
    std::string candidate = ScrubName(name);
    auto key = [](std::string text) {
      std::string out;
      for (char c : Lower(std::move(text))) {
        if (c != '_') out += c;
      }
      return out;
    };
    for (int suffix = 2; taken.count(key(candidate)); ++suffix) {
      candidate = ScrubName(name) + "_" + std::to_string(suffix);
    }
    taken.insert(key(candidate));
    unique.push_back(candidate);
  }
  return unique;
}

const char* WrapperType(TypeId id) {
  switch (id) {
    case TypeId::kBoolean:
      return ".google.protobuf.BoolValue";
    case TypeId::kInt:
      return ".google.protobuf.Int32Value";
    case TypeId::kBigint:
      return ".google.protobuf.Int64Value";
    case TypeId::kDouble:
      return ".google.protobuf.DoubleValue";
    case TypeId::kString:
      return ".google.protobuf.StringValue";
    case TypeId::kBytes:
      return ".google.protobuf.BytesValue";
    default:
      return nullptr;
  }
}

// Builds the schema file, as Confluent's ProtobufData.fromConnectSchema does for the
// Connect schema ksqlDB derives from the columns.
class SchemaFileBuilder {
 public:
  explicit SchemaFileBuilder(ProtobufNullable nullable) : nullable_(nullable) {}

  Result<pb::FileDescriptorProto> Build(const std::vector<FormatColumn>& columns) {
    file_.set_name("sidestream/connect_default.proto");
    file_.set_syntax("proto3");
    std::vector<types::StructField> fields;
    for (const auto& column : columns) fields.push_back({column.name, column.type});
    pb::DescriptorProto* root = file_.add_message_type();
    root->set_name(kRootMessage);
    next_default_name_ = 2;
    RETURN_NOT_OK(FillMessage(*root, std::string(".") + kRootMessage, fields, ""));
    for (const std::string& dependency : dependencies_) file_.add_dependency(dependency);
    return file_;
  }

 private:
  Status FillMessage(pb::DescriptorProto& message, const std::string& full_name,
                     const std::vector<types::StructField>& fields, const std::string& path) {
    std::vector<std::string> names;
    for (const auto& field : fields) names.push_back(field.name);
    names = UniqueFieldNames(names);
    std::set<std::string> field_names(names.begin(), names.end());
    for (size_t i = 0; i < fields.size(); ++i) {
      const std::string where = path.empty() ? fields[i].name : path + "." + fields[i].name;
      RETURN_NOT_OK(AddField(message, full_name, field_names, names[i], static_cast<int>(i + 1),
                             fields[i].type, where));
    }
    return Status::OK();
  }

  // A nested type's name: Connect's default names, with "Message" added where a field of
  // the enclosing message has the same name (as Confluent does).
  std::string NestedTypeName(const std::set<std::string>& field_names, const std::string& suffix) {
    std::string name = "ConnectDefault" + std::to_string(next_default_name_++) + suffix;
    if (field_names.count(name)) name += "Message";
    return name;
  }

  Status AddField(pb::DescriptorProto& message, const std::string& message_name,
                  const std::set<std::string>& field_names, const std::string& name, int number,
                  const SqlType& type, const std::string& where) {
    FieldProto& field = *message.add_field();
    field.set_name(name);
    field.set_number(number);
    field.set_label(FieldProto::LABEL_OPTIONAL);
    SqlType single = type;
    if (type.id() == TypeId::kArray) {
      field.set_label(FieldProto::LABEL_REPEATED);
      single = type.element();
      if (single.id() == TypeId::kArray || single.id() == TypeId::kMap) {
        return Status::InvalidArgument("column " + where + ": PROTOBUF cannot hold " +
                                       type.ToString() +
                                       " (a repeated field cannot hold a repeated value)");
      }
    }
    switch (single.id()) {
      case TypeId::kBoolean:
      case TypeId::kInt:
      case TypeId::kBigint:
      case TypeId::kDouble:
      case TypeId::kString:
      case TypeId::kBytes:
        if (nullable_ == ProtobufNullable::kWrapper) {
          field.set_type(FieldProto::TYPE_MESSAGE);
          field.set_type_name(WrapperType(single.id()));
          dependencies_.insert(kWrappersFile);
          return Status::OK();
        }
        field.set_type(single.id() == TypeId::kBoolean  ? FieldProto::TYPE_BOOL
                       : single.id() == TypeId::kInt    ? FieldProto::TYPE_INT32
                       : single.id() == TypeId::kBigint ? FieldProto::TYPE_INT64
                       : single.id() == TypeId::kDouble ? FieldProto::TYPE_DOUBLE
                       : single.id() == TypeId::kString ? FieldProto::TYPE_STRING
                                                        : FieldProto::TYPE_BYTES);
        if (nullable_ == ProtobufNullable::kOptional &&
            field.label() != FieldProto::LABEL_REPEATED) {
          // proto3 `optional`: a synthetic oneof of one field gives it presence.
          field.set_proto3_optional(true);
          field.set_oneof_index(message.oneof_decl_size());
          message.add_oneof_decl()->set_name("_" + name);
        }
        return Status::OK();
      case TypeId::kDecimal:
        return SetMessageType(field, ".confluent.type.Decimal", kDecimalFile);
      case TypeId::kDate:
        return SetMessageType(field, ".google.type.Date", kDateFile);
      case TypeId::kTime:
        return SetMessageType(field, ".google.type.TimeOfDay", kTimeFile);
      case TypeId::kTimestamp:
        return SetMessageType(field, ".google.protobuf.Timestamp", kTimestampFile);
      case TypeId::kStruct: {
        std::string nested_name = NestedTypeName(field_names, "");
        field.set_type(FieldProto::TYPE_MESSAGE);
        field.set_type_name(message_name + "." + nested_name);
        pb::DescriptorProto nested;
        nested.set_name(nested_name);
        RETURN_NOT_OK(
            FillMessage(nested, message_name + "." + nested_name, single.fields(), where));
        *message.add_nested_type() = std::move(nested);
        return Status::OK();
      }
      case TypeId::kMap: {
        if (single.key().id() != TypeId::kString) {
          return Status::InvalidArgument("PROTOBUF format only supports MAP types with STRING keys",
                                         {}, "column " + where + " is " + type.ToString());
        }
        // The wire form of a protobuf map: repeated entries of `key = 1`, `value = 2`.
        std::string entry_name = NestedTypeName(field_names, "Entry");
        field.set_label(FieldProto::LABEL_REPEATED);
        field.set_type(FieldProto::TYPE_MESSAGE);
        field.set_type_name(message_name + "." + entry_name);
        pb::DescriptorProto entry;
        entry.set_name(entry_name);
        const std::string entry_full = message_name + "." + entry_name;
        std::set<std::string> entry_fields = {"key", "value"};
        RETURN_NOT_OK(AddField(entry, entry_full, entry_fields, "key", 1, single.key(), where));
        RETURN_NOT_OK(
            AddField(entry, entry_full, entry_fields, "value", 2, single.value(), where + "[]"));
        *message.add_nested_type() = std::move(entry);
        return Status::OK();
      }
      default:
        return Status::InvalidArgument("column " + where + ": PROTOBUF cannot hold " +
                                       type.ToString());
    }
  }

  Status SetMessageType(FieldProto& field, const char* type_name, const char* file) {
    field.set_type(FieldProto::TYPE_MESSAGE);
    field.set_type_name(type_name);
    dependencies_.insert(file);
    return Status::OK();
  }

  ProtobufNullable nullable_;
  pb::FileDescriptorProto file_;
  std::set<std::string> dependencies_;
  int next_default_name_ = 2;
};

void AddScalarField(pb::DescriptorProto& message, const char* name, int number,
                    FieldProto::Type type) {
  FieldProto& field = *message.add_field();
  field.set_name(name);
  field.set_number(number);
  field.set_label(FieldProto::LABEL_OPTIONAL);
  field.set_type(type);
}

// The well-known files the schema may import. Timestamp and the wrappers come from
// libprotobuf's generated descriptors; Date, TimeOfDay (googleapis) and Confluent's Decimal
// are not in libprotobuf, so they are spelled out as their .proto files declare them.
std::vector<pb::FileDescriptorProto> WellKnownFiles() {
  std::vector<pb::FileDescriptorProto> files(5);
  pb::Timestamp::descriptor()->file()->CopyTo(&files[0]);
  pb::Int32Value::descriptor()->file()->CopyTo(&files[1]);
  files[2].set_name(kDateFile);
  files[2].set_package("google.type");
  files[2].set_syntax("proto3");
  pb::DescriptorProto& date = *files[2].add_message_type();
  date.set_name("Date");
  AddScalarField(date, "year", 1, FieldProto::TYPE_INT32);
  AddScalarField(date, "month", 2, FieldProto::TYPE_INT32);
  AddScalarField(date, "day", 3, FieldProto::TYPE_INT32);
  files[3].set_name(kTimeFile);
  files[3].set_package("google.type");
  files[3].set_syntax("proto3");
  pb::DescriptorProto& time = *files[3].add_message_type();
  time.set_name("TimeOfDay");
  AddScalarField(time, "hours", 1, FieldProto::TYPE_INT32);
  AddScalarField(time, "minutes", 2, FieldProto::TYPE_INT32);
  AddScalarField(time, "seconds", 3, FieldProto::TYPE_INT32);
  AddScalarField(time, "nanos", 4, FieldProto::TYPE_INT32);
  files[4].set_name(kDecimalFile);
  files[4].set_package("confluent.type");
  files[4].set_syntax("proto3");
  pb::DescriptorProto& decimal = *files[4].add_message_type();
  decimal.set_name("Decimal");
  AddScalarField(decimal, "value", 1, FieldProto::TYPE_BYTES);
  AddScalarField(decimal, "precision", 2, FieldProto::TYPE_UINT32);
  AddScalarField(decimal, "scale", 3, FieldProto::TYPE_INT32);
  return files;
}

class FirstErrorCollector final : public pb::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element_name, const pb::Message*,
                ErrorLocation, const std::string& message) override {
    if (first_.empty()) first_ = filename + ": " + element_name + ": " + message;
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

// The descriptors and the factory of one schema. Owned by one decoder or encoder; the pool
// outlives the factory, which outlives every message made from it.
struct CompiledSchema {
  std::unique_ptr<pb::DescriptorPool> pool;
  std::unique_ptr<pb::DynamicMessageFactory> factory;
  const pb::Descriptor* root = nullptr;
  const pb::FileDescriptor* file = nullptr;
};

Result<std::unique_ptr<CompiledSchema>> Compile(const std::vector<FormatColumn>& columns,
                                                ProtobufNullable nullable) {
  ASSIGN_OR_RAISE(pb::FileDescriptorProto file, ProtobufSchemaFile(columns, nullable));
  auto compiled = std::make_unique<CompiledSchema>();
  compiled->pool = std::make_unique<pb::DescriptorPool>();
  FirstErrorCollector errors;
  for (const pb::FileDescriptorProto& dependency : WellKnownFiles()) {
    if (compiled->pool->BuildFileCollectingErrors(dependency, &errors) == nullptr) {
      return Status::Internal("PROTOBUF well-known type: " + errors.first());
    }
  }
  compiled->file = compiled->pool->BuildFileCollectingErrors(file, &errors);
  if (compiled->file == nullptr) {
    return Status::InvalidArgument("PROTOBUF cannot hold these columns: " + errors.first());
  }
  compiled->root = compiled->file->FindMessageTypeByName(kRootMessage);
  compiled->factory = std::make_unique<pb::DynamicMessageFactory>(compiled->pool.get());
  return compiled;
}

// How one SQL value maps to a field of a message: the field, and for nested types the
// plans of their parts. For an ARRAY, `children[0]` is the element (the same repeated
// field); for a MAP, `children` are the entry's key and value; for a STRUCT, its fields.
struct FieldPlan {
  std::string where;  // the column, or its path inside the column ("S.F1", "M[]")
  SqlType type;
  const pb::FieldDescriptor* field = nullptr;
  const pb::FieldDescriptor* wrapper_value = nullptr;  // set when the field is a wrapper
  bool has_presence = false;  // a NULL is told apart from the default (optional or message)
  std::vector<FieldPlan> children;
  // DECIMAL, DATE, TIME and TIMESTAMP: the fields of the well-known message, by number.
  std::vector<const pb::FieldDescriptor*> parts;
};

FieldPlan PlanField(const pb::FieldDescriptor* field, const SqlType& type, std::string where) {
  FieldPlan plan;
  plan.where = std::move(where);
  plan.type = type;
  plan.field = field;
  plan.has_presence = field->has_presence();
  const pb::Descriptor* message = field->message_type();
  switch (type.id()) {
    case TypeId::kArray:
      plan.children.push_back(PlanField(field, type.element(), plan.where + "[]"));
      break;
    case TypeId::kMap:
      plan.children.push_back(PlanField(message->FindFieldByNumber(1), type.key(), plan.where));
      plan.children.push_back(
          PlanField(message->FindFieldByNumber(2), type.value(), plan.where + "[]"));
      break;
    case TypeId::kStruct:
      for (size_t i = 0; i < type.fields().size(); ++i) {
        plan.children.push_back(PlanField(message->FindFieldByNumber(static_cast<int>(i + 1)),
                                          type.fields()[i].type,
                                          plan.where + "." + type.fields()[i].name));
      }
      break;
    case TypeId::kDecimal:
    case TypeId::kDate:
    case TypeId::kTime:
    case TypeId::kTimestamp:
      for (int i = 0; i < message->field_count(); ++i) {
        plan.parts.push_back(message->FindFieldByNumber(i + 1));
      }
      break;
    default:
      if (message != nullptr) plan.wrapper_value = message->FindFieldByNumber(1);
      break;
  }
  return plan;
}

std::vector<FieldPlan> PlanColumns(const CompiledSchema& schema,
                                   const std::vector<FormatColumn>& columns) {
  std::vector<FieldPlan> plans;
  for (size_t i = 0; i < columns.size(); ++i) {
    plans.push_back(PlanField(schema.root->FindFieldByNumber(static_cast<int>(i + 1)),
                              columns[i].type, columns[i].name));
  }
  return plans;
}

Status Invalid(const FieldPlan& plan, const std::string& problem) {
  return Status::InvalidArgument("column " + plan.where + ": " + problem);
}

// --- Reading --------------------------------------------------------------------------

// Reads a non-repeated kind from `field` of `message`: the element `index` of a repeated
// field, or the field itself when index < 0.
class MessageReader {
 public:
  Status ReadField(const pb::Message& message, const FieldPlan& plan, Value& out) {
    const pb::Reflection& reflection = *message.GetReflection();
    if (plan.type.id() == TypeId::kArray) {
      const int size = reflection.FieldSize(message, plan.field);
      std::vector<Value> elements(static_cast<size_t>(size));
      for (int i = 0; i < size; ++i) {
        RETURN_NOT_OK(ReadSingle(message, plan.children[0], i, elements[i]));
      }
      out = Value::Array(std::move(elements));
      return Status::OK();
    }
    if (plan.type.id() == TypeId::kMap) {
      const int size = reflection.FieldSize(message, plan.field);
      std::vector<Value> entries(static_cast<size_t>(size) * 2);
      for (int i = 0; i < size; ++i) {
        const pb::Message& entry = reflection.GetRepeatedMessage(message, plan.field, i);
        RETURN_NOT_OK(ReadField(entry, plan.children[0], entries[2 * i]));
        RETURN_NOT_OK(ReadField(entry, plan.children[1], entries[2 * i + 1]));
      }
      out = Value::Map(std::move(entries));
      return Status::OK();
    }
    return ReadSingle(message, plan, -1, out);
  }

 private:
  Status ReadSingle(const pb::Message& message, const FieldPlan& plan, int index, Value& out) {
    const pb::Reflection& reflection = *message.GetReflection();
    const pb::FieldDescriptor* field = plan.field;
    if (index < 0 && plan.has_presence && !reflection.HasField(message, field)) {
      out.SetNull();
      return Status::OK();
    }
    if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      const pb::Message& inner = index < 0 ? reflection.GetMessage(message, field)
                                           : reflection.GetRepeatedMessage(message, field, index);
      if (plan.wrapper_value != nullptr)
        return ReadScalar(inner, plan, plan.wrapper_value, -1, out);
      return ReadMessage(inner, plan, out);
    }
    return ReadScalar(message, plan, field, index, out);
  }

  Status ReadScalar(const pb::Message& message, const FieldPlan& plan,
                    const pb::FieldDescriptor* field, int index, Value& out) {
    const pb::Reflection& reflection = *message.GetReflection();
    const bool single = index < 0;
    switch (plan.type.id()) {
      case TypeId::kBoolean:
        out.SetInteger(TypeId::kBoolean, single
                                             ? reflection.GetBool(message, field)
                                             : reflection.GetRepeatedBool(message, field, index));
        return Status::OK();
      case TypeId::kInt:
        out.SetInteger(TypeId::kInt, single ? reflection.GetInt32(message, field)
                                            : reflection.GetRepeatedInt32(message, field, index));
        return Status::OK();
      case TypeId::kBigint:
        out.SetInteger(TypeId::kBigint, single
                                            ? reflection.GetInt64(message, field)
                                            : reflection.GetRepeatedInt64(message, field, index));
        return Status::OK();
      case TypeId::kDouble:
        out.SetDouble(single ? reflection.GetDouble(message, field)
                             : reflection.GetRepeatedDouble(message, field, index));
        return Status::OK();
      case TypeId::kString:
      case TypeId::kBytes: {
        const std::string& text =
            single ? reflection.GetStringReference(message, field, &scratch_)
                   : reflection.GetRepeatedStringReference(message, field, index, &scratch_);
        if (plan.type.id() == TypeId::kBytes) {
          out = Value::Bytes(text);
          return Status::OK();
        }
        // proto3 parsing checks UTF-8 already; this also covers bytes read as STRING.
        if (!IsUtf8(text)) return Invalid(plan, "STRING is not valid UTF-8");
        out.AssignString(text);
        return Status::OK();
      }
      default:
        return Invalid(plan, "unexpected PROTOBUF scalar for " + plan.type.ToString());
    }
  }

  Status ReadMessage(const pb::Message& inner, const FieldPlan& plan, Value& out) {
    const pb::Reflection& reflection = *inner.GetReflection();
    auto int32_part = [&](size_t i) { return reflection.GetInt32(inner, plan.parts[i]); };
    switch (plan.type.id()) {
      case TypeId::kStruct: {
        std::vector<Value> fields(plan.children.size());
        for (size_t i = 0; i < plan.children.size(); ++i) {
          RETURN_NOT_OK(ReadField(inner, plan.children[i], fields[i]));
        }
        out = Value::Struct(std::move(fields));
        return Status::OK();
      }
      case TypeId::kDecimal:
        return ReadDecimal(inner, plan, out);
      case TypeId::kDate: {
        const int32_t year = int32_part(0), month = int32_part(1), day = int32_part(2);
        const std::chrono::year_month_day date{std::chrono::year(year),
                                               std::chrono::month(static_cast<unsigned>(month)),
                                               std::chrono::day(static_cast<unsigned>(day))};
        if (year < kMinYear || year > kMaxYear || month < 1 || month > 12 || day < 1 || day > 31 ||
            !date.ok()) {
          return Invalid(plan, "not a valid DATE (year " + std::to_string(year) + ", month " +
                                   std::to_string(month) + ", day " + std::to_string(day) + ")");
        }
        out.SetInteger(TypeId::kDate, std::chrono::sys_days(date).time_since_epoch().count());
        return Status::OK();
      }
      case TypeId::kTime: {
        const int32_t hours = int32_part(0), minutes = int32_part(1), seconds = int32_part(2),
                      nanos = int32_part(3);
        if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59 || seconds < 0 || seconds > 59 ||
            nanos < 0 || nanos > 999'999'999) {
          return Invalid(plan, "not a valid TIME (" + std::to_string(hours) + ":" +
                                   std::to_string(minutes) + ":" + std::to_string(seconds) +
                                   " and " + std::to_string(nanos) + " ns)");
        }
        out.SetInteger(TypeId::kTime,
                       ((hours * 60 + minutes) * 60 + seconds) * 1000 + nanos / kNanosPerMilli);
        return Status::OK();
      }
      case TypeId::kTimestamp: {
        const int64_t seconds = reflection.GetInt64(inner, plan.parts[0]);
        const int32_t nanos = reflection.GetInt32(inner, plan.parts[1]);
        int64_t millis;
        if (nanos < 0 || nanos > 999'999'999 || __builtin_mul_overflow(seconds, 1000, &millis) ||
            __builtin_add_overflow(millis, nanos / kNanosPerMilli, &millis)) {
          return Invalid(plan, "not a valid TIMESTAMP (" + std::to_string(seconds) + " s and " +
                                   std::to_string(nanos) + " ns)");
        }
        out.SetInteger(TypeId::kTimestamp, millis);
        return Status::OK();
      }
      default:
        return Invalid(plan, "unexpected PROTOBUF message for " + plan.type.ToString());
    }
  }

  // confluent.type.Decimal: the unscaled value as big-endian two's complement, and a scale;
  // rescaled to the column's type as other formats do.
  Status ReadDecimal(const pb::Message& inner, const FieldPlan& plan, Value& out) {
    const pb::Reflection& reflection = *inner.GetReflection();
    const std::string& bytes = reflection.GetStringReference(inner, plan.parts[0], &scratch_);
    const int32_t scale = reflection.GetInt32(inner, plan.parts[2]);
    if (bytes.size() > 16) {
      return Invalid(plan,
                     "DECIMAL of " + std::to_string(bytes.size()) + " bytes is beyond 38 digits");
    }
    if (scale < 0 || scale > types::kMaxDecimalPrecision) {
      return Invalid(plan, "DECIMAL scale " + std::to_string(scale) + " is out of range");
    }
    unsigned __int128 raw = 0;
    for (unsigned char c : bytes) raw = (raw << 8) | c;
    // Sign-extend from the top bit of the first byte.
    if (!bytes.empty() && bytes.size() < 16 && (static_cast<unsigned char>(bytes[0]) & 0x80)) {
      raw |= ~static_cast<unsigned __int128>(0) << (8 * bytes.size());
    }
    const types::Decimal decimal{static_cast<__int128>(raw), scale};
    types::Decimal rescaled;
    Status parsed = ParseDecimal(types::DecimalToString(decimal), plan.type.precision(),
                                 plan.type.scale(), rescaled);
    if (!parsed.ok()) return Invalid(plan, parsed.message());
    out.SetDecimal(rescaled.unscaled, rescaled.scale);
    return Status::OK();
  }

  std::string scratch_;
};

// --- Writing --------------------------------------------------------------------------

class MessageWriter {
 public:
  Status WriteField(pb::Message& message, const FieldPlan& plan, const Value& value) {
    if (value.is_null()) return Status::OK();  // left out: absent (or proto3's default)
    const pb::Reflection& reflection = *message.GetReflection();
    if (plan.type.id() == TypeId::kArray) {
      for (const Value& element : value.children()) {
        if (element.is_null()) {
          return Invalid(plan, "PROTOBUF cannot hold a NULL element of an ARRAY");
        }
        RETURN_NOT_OK(WriteSingle(message, plan.children[0], /*repeated=*/true, element));
      }
      return Status::OK();
    }
    if (plan.type.id() == TypeId::kMap) {
      const std::vector<Value>& entries = value.children();
      for (size_t i = 0; i + 1 < entries.size(); i += 2) {
        pb::Message& entry = *reflection.AddMessage(&message, plan.field);
        RETURN_NOT_OK(WriteField(entry, plan.children[0], entries[i]));
        RETURN_NOT_OK(WriteField(entry, plan.children[1], entries[i + 1]));
      }
      return Status::OK();
    }
    return WriteSingle(message, plan, /*repeated=*/false, value);
  }

 private:
  Status WriteSingle(pb::Message& message, const FieldPlan& plan, bool repeated,
                     const Value& value) {
    const pb::Reflection& reflection = *message.GetReflection();
    const pb::FieldDescriptor* field = plan.field;
    if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      pb::Message& inner = repeated ? *reflection.AddMessage(&message, field)
                                    : *reflection.MutableMessage(&message, field);
      if (plan.wrapper_value != nullptr) {
        return WriteScalar(inner, plan, plan.wrapper_value, false, value);
      }
      return WriteMessage(inner, plan, value);
    }
    return WriteScalar(message, plan, field, repeated, value);
  }

  static Status WriteScalar(pb::Message& message, const FieldPlan& plan,
                            const pb::FieldDescriptor* field, bool repeated, const Value& value) {
    const pb::Reflection& reflection = *message.GetReflection();
    switch (plan.type.id()) {
      case TypeId::kBoolean:
        repeated ? reflection.AddBool(&message, field, value.boolean())
                 : reflection.SetBool(&message, field, value.boolean());
        return Status::OK();
      case TypeId::kInt: {
        const auto number = static_cast<int32_t>(value.integer());
        repeated ? reflection.AddInt32(&message, field, number)
                 : reflection.SetInt32(&message, field, number);
        return Status::OK();
      }
      case TypeId::kBigint:
        repeated ? reflection.AddInt64(&message, field, value.integer())
                 : reflection.SetInt64(&message, field, value.integer());
        return Status::OK();
      case TypeId::kDouble:
        repeated ? reflection.AddDouble(&message, field, value.float64())
                 : reflection.SetDouble(&message, field, value.float64());
        return Status::OK();
      case TypeId::kString:
      case TypeId::kBytes:
        repeated ? reflection.AddString(&message, field, value.string())
                 : reflection.SetString(&message, field, value.string());
        return Status::OK();
      default:
        return Invalid(plan, "unexpected PROTOBUF scalar for " + plan.type.ToString());
    }
  }

  Status WriteMessage(pb::Message& inner, const FieldPlan& plan, const Value& value) {
    const pb::Reflection& reflection = *inner.GetReflection();
    switch (plan.type.id()) {
      case TypeId::kStruct: {
        const std::vector<Value>& fields = value.children();
        for (size_t i = 0; i < plan.children.size() && i < fields.size(); ++i) {
          RETURN_NOT_OK(WriteField(inner, plan.children[i], fields[i]));
        }
        return Status::OK();
      }
      case TypeId::kDecimal: {
        const types::Decimal decimal = value.decimal();
        reflection.SetString(&inner, plan.parts[0], TwosComplement(decimal.unscaled));
        reflection.SetUInt32(&inner, plan.parts[1], DigitCount(decimal.unscaled));
        reflection.SetInt32(&inner, plan.parts[2], decimal.scale);
        return Status::OK();
      }
      case TypeId::kDate: {
        // The years chrono holds, as when reading (google.type.Date itself says 1..9999).
        if (value.integer() < kFirstDay || value.integer() > kLastDay) {
          return Invalid(plan, "DATE of " + std::to_string(value.integer()) +
                                   " days is outside the years -32767 to 32767");
        }
        const std::chrono::year_month_day date{
            std::chrono::sys_days(std::chrono::days(value.integer()))};
        reflection.SetInt32(&inner, plan.parts[0], static_cast<int>(date.year()));
        reflection.SetInt32(&inner, plan.parts[1], static_cast<int>(unsigned(date.month())));
        reflection.SetInt32(&inner, plan.parts[2], static_cast<int>(unsigned(date.day())));
        return Status::OK();
      }
      case TypeId::kTime: {
        const int64_t millis = value.integer();
        if (millis < 0 || millis >= kMillisPerDay) {
          return Invalid(plan, "TIME of " + std::to_string(millis) + " ms is outside a day");
        }
        reflection.SetInt32(&inner, plan.parts[0], static_cast<int32_t>(millis / 3'600'000));
        reflection.SetInt32(&inner, plan.parts[1], static_cast<int32_t>(millis / 60'000 % 60));
        reflection.SetInt32(&inner, plan.parts[2], static_cast<int32_t>(millis / 1000 % 60));
        reflection.SetInt32(&inner, plan.parts[3],
                            static_cast<int32_t>(millis % 1000 * kNanosPerMilli));
        return Status::OK();
      }
      case TypeId::kTimestamp: {
        const int64_t millis = value.integer();
        // Floor division: a Timestamp's nanos are never negative.
        int64_t seconds = millis / 1000;
        int64_t rest = millis % 1000;
        if (rest < 0) {
          seconds -= 1;
          rest += 1000;
        }
        reflection.SetInt64(&inner, plan.parts[0], seconds);
        reflection.SetInt32(&inner, plan.parts[1], static_cast<int32_t>(rest * kNanosPerMilli));
        return Status::OK();
      }
      default:
        return Invalid(plan, "unexpected PROTOBUF message for " + plan.type.ToString());
    }
  }

  // Java's BigInteger.toByteArray: the fewest big-endian bytes that keep the sign bit.
  static std::string TwosComplement(__int128 unscaled) {
    auto raw = static_cast<unsigned __int128>(unscaled);
    int size = 16;
    while (size > 1) {
      const auto top = static_cast<unsigned char>(raw >> (8 * (size - 1)));
      const auto next_sign = static_cast<unsigned char>(raw >> (8 * (size - 2))) & 0x80;
      if ((top == 0x00 && next_sign == 0) || (top == 0xFF && next_sign != 0)) {
        --size;
      } else {
        break;
      }
    }
    std::string bytes(static_cast<size_t>(size), '\0');
    for (int i = 0; i < size; ++i) {
      bytes[static_cast<size_t>(size - 1 - i)] = static_cast<char>(raw >> (8 * i));
    }
    return bytes;
  }

  // BigDecimal.precision(): the digits of the unscaled value (1 for zero).
  static uint32_t DigitCount(__int128 unscaled) {
    unsigned __int128 magnitude = unscaled < 0 ? -static_cast<unsigned __int128>(unscaled)
                                               : static_cast<unsigned __int128>(unscaled);
    uint32_t digits = 1;
    while (magnitude >= 10) {
      magnitude /= 10;
      ++digits;
    }
    return digits;
  }
};

// --- Decoder and encoder --------------------------------------------------------------

// libprotobuf logs every string with invalid UTF-8 it refuses to parse to stderr; the
// decoder already returns InvalidArgument naming the column, so a hostile topic would only
// flood the log. Its ERROR and lower lines are dropped; FATAL ones still abort.
void QuietProtobufLogs() {
  static const bool quieted = [] {
    pb::SetLogHandler(
        [](pb::LogLevel level, const char* file, int line, const std::string& message) {
          if (level == pb::LOGLEVEL_FATAL) {
            std::fprintf(stderr, "[libprotobuf FATAL %s:%d] %s\n", file, line, message.c_str());
          }
        });
    return true;
  }();
  (void)quieted;
}

bool IsConfluentProtobuf(const FormatOptions& options) {
  return Lower(options.format) == "protobuf";
}

class ProtobufRowDecoder final : public RowDecoder {
 public:
  ProtobufRowDecoder(bool framed, std::vector<FormatColumn> columns,
                     std::unique_ptr<CompiledSchema> schema)
      : framed_(framed), columns_(std::move(columns)), schema_(std::move(schema)) {
    plans_ = PlanColumns(*schema_, columns_);
    message_.reset(schema_->factory->GetPrototype(schema_->root)->New());
  }

  Status Decode(std::string_view bytes, types::Row& row, size_t first_column) override {
    // The row has the columns even when the bytes fail, as with every decoder.
    if (row.size() < first_column + columns_.size()) row.resize(first_column + columns_.size());
    // A protobuf message never starts with a 0 byte (field number 0 does not exist), so a
    // leading 0 is Confluent's magic byte.
    if (framed_ && !bytes.empty() && bytes[0] == 0) {
      ASSIGN_OR_RAISE(ConfluentProtobufFrame frame, ParseConfluentProtobufFrame(bytes));
      if (frame.message_indexes.size() != 1 || frame.message_indexes[0] != 0) {
        return Status::InvalidArgument(
            "PROTOBUF message of schema " + std::to_string(frame.schema_id) +
            " is not the schema's first message, the only one the columns describe");
      }
      bytes = frame.message;
    }
    if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
      return Status::InvalidArgument("PROTOBUF message of " + std::to_string(bytes.size()) +
                                     " bytes is too large");
    }
    if (!message_->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return DescribeBrokenField(bytes);
    }
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i].skip) continue;
      RETURN_NOT_OK(reader_.ReadField(*message_, plans_[i], row[first_column + i]));
    }
    return Status::OK();
  }

 private:
  // ParseFromArray says only that the bytes are broken: find the top-level field whose bytes
  // do not parse, to name its column.
  Status DescribeBrokenField(std::string_view bytes) {
    pb::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(bytes.data()),
                                   static_cast<int>(bytes.size()));
    std::unique_ptr<pb::Message> probe(message_->New());
    while (true) {
      const int start = input.CurrentPosition();
      const uint32_t tag = input.ReadTag();
      if (tag == 0) break;
      const int number = pb::internal::WireFormatLite::GetTagFieldNumber(tag);
      const std::string where = number >= 1 && static_cast<size_t>(number) <= columns_.size()
                                    ? "column " + columns_[static_cast<size_t>(number) - 1].name
                                    : "field " + std::to_string(number) + " (no such column)";
      if (!pb::internal::WireFormatLite::SkipField(&input, tag)) {
        return Status::InvalidArgument(where + ": PROTOBUF bytes are truncated or malformed");
      }
      std::string_view piece = bytes.substr(static_cast<size_t>(start),
                                            static_cast<size_t>(input.CurrentPosition() - start));
      if (!probe->ParseFromArray(piece.data(), static_cast<int>(piece.size()))) {
        return Status::InvalidArgument(
            where +
            ": PROTOBUF bytes do not fit the column's type (truncated, malformed or "
            "invalid UTF-8)");
      }
    }
    return Status::InvalidArgument("not a valid PROTOBUF message (" + std::to_string(bytes.size()) +
                                   " bytes)");
  }

  bool framed_;
  std::vector<FormatColumn> columns_;
  std::unique_ptr<CompiledSchema> schema_;
  std::vector<FieldPlan> plans_;
  std::unique_ptr<pb::Message> message_;  // reused: parsing clears it
  MessageReader reader_;
};

class ProtobufRowEncoder final : public RowEncoder {
 public:
  ProtobufRowEncoder(std::optional<int32_t> schema_id, std::vector<FormatColumn> columns,
                     std::unique_ptr<CompiledSchema> schema)
      : schema_id_(schema_id), columns_(std::move(columns)), schema_(std::move(schema)) {
    plans_ = PlanColumns(*schema_, columns_);
    message_.reset(schema_->factory->GetPrototype(schema_->root)->New());
  }

  Status Encode(const types::Row& row, size_t first_column, std::string& out) override {
    out.clear();
    message_->Clear();
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (first_column + i >= row.size()) break;
      RETURN_NOT_OK(writer_.WriteField(*message_, plans_[i], row[first_column + i]));
    }
    if (schema_id_) AppendConfluentProtobufHeader(*schema_id_, out);
    if (!message_->AppendToString(&out)) {
      return Status::Internal("PROTOBUF message could not be serialized");
    }
    return Status::OK();
  }

 private:
  std::optional<int32_t> schema_id_;
  std::vector<FormatColumn> columns_;
  std::unique_ptr<CompiledSchema> schema_;
  std::vector<FieldPlan> plans_;
  std::unique_ptr<pb::Message> message_;
  MessageWriter writer_;
};

}  // namespace

Result<pb::FileDescriptorProto> ProtobufSchemaFile(const std::vector<FormatColumn>& columns,
                                                   ProtobufNullable nullable) {
  return SchemaFileBuilder(nullable).Build(columns);
}

Result<std::string> ProtobufSchemaText(const std::vector<FormatColumn>& columns,
                                       ProtobufNullable nullable) {
  ASSIGN_OR_RAISE(auto schema, Compile(columns, nullable));
  return schema->file->DebugString();
}

Result<std::unique_ptr<RowDecoder>> MakeProtobufDecoder(const FormatOptions& options,
                                                        std::vector<FormatColumn> columns) {
  QuietProtobufLogs();
  ASSIGN_OR_RAISE(auto schema, Compile(columns, options.protobuf_nullable));
  return std::unique_ptr<RowDecoder>(std::make_unique<ProtobufRowDecoder>(
      IsConfluentProtobuf(options), std::move(columns), std::move(schema)));
}

Result<std::unique_ptr<RowEncoder>> MakeProtobufEncoder(const FormatOptions& options,
                                                        std::vector<FormatColumn> columns) {
  ASSIGN_OR_RAISE(auto schema, Compile(columns, options.protobuf_nullable));
  std::optional<int32_t> schema_id =
      IsConfluentProtobuf(options) ? options.schema_id : std::nullopt;
  return std::unique_ptr<RowEncoder>(
      std::make_unique<ProtobufRowEncoder>(schema_id, std::move(columns), std::move(schema)));
}

void AppendConfluentProtobufHeader(int32_t schema_id, std::string& out) {
  out.push_back('\0');
  const auto id = static_cast<uint32_t>(schema_id);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(id >> shift));
  // The message indexes [0]: written as the single count 0.
  out.push_back('\0');
}

Result<ConfluentProtobufFrame> ParseConfluentProtobufFrame(std::string_view bytes) {
  if (bytes.size() < 6 || bytes[0] != 0) {
    return Status::InvalidArgument(
        "PROTOBUF message lacks Confluent's header (magic byte 0, a 4-byte schema id and the "
        "message indexes)");
  }
  ConfluentProtobufFrame frame;
  uint32_t id = 0;
  for (size_t i = 1; i < 5; ++i) id = (id << 8) | static_cast<unsigned char>(bytes[i]);
  frame.schema_id = static_cast<int32_t>(id);
  std::string_view rest = bytes.substr(5);
  pb::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(rest.data()),
                                 static_cast<int>(rest.size()));
  uint32_t raw_count = 0;
  if (!input.ReadVarint32(&raw_count)) {
    return Status::InvalidArgument("PROTOBUF header: the message indexes are truncated");
  }
  const int32_t count = pb::internal::WireFormatLite::ZigZagDecode32(raw_count);
  if (count < 0 || count > kMaxMessageIndexes) {
    return Status::InvalidArgument("PROTOBUF header: " + std::to_string(count) +
                                   " message indexes is not a valid count");
  }
  if (count == 0) frame.message_indexes.push_back(0);
  for (int32_t i = 0; i < count; ++i) {
    uint32_t raw_index = 0;
    if (!input.ReadVarint32(&raw_index)) {
      return Status::InvalidArgument("PROTOBUF header: the message indexes are truncated");
    }
    frame.message_indexes.push_back(pb::internal::WireFormatLite::ZigZagDecode32(raw_index));
  }
  frame.message = rest.substr(static_cast<size_t>(input.CurrentPosition()));
  return frame;
}

}  // namespace sidestream::formats
