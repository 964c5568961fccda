#include "connectors/formats/protobuf_format.h"

#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/wire_format_lite.h>
#include <google/protobuf/wrappers.pb.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "connectors/formats/json_format.h"
#include "connectors/formats/scalar_text.h"
#include "connectors/registry/schema_registry.h"

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
constexpr const char* kMetaFile = "confluent/meta.proto";
// confluent.Meta's extension number on every options message (meta.proto).
constexpr int kMetaExtension = 1088;
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

std::string Upper(std::string text) {
  for (char& c : text) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
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

// Confluent's confluent/meta.proto, as it declares itself: a Meta message (doc, params,
// tags) extending the file, message and field options under number 1088. Schemas carry a
// Decimal's precision and scale in (confluent.field_meta).params.
pb::FileDescriptorProto MetaFile() {
  pb::FileDescriptorProto file;
  file.set_name(kMetaFile);
  file.set_package("confluent");
  file.set_syntax("proto3");
  file.add_dependency("google/protobuf/descriptor.proto");
  pb::DescriptorProto& meta = *file.add_message_type();
  meta.set_name("Meta");
  AddScalarField(meta, "doc", 1, FieldProto::TYPE_STRING);
  pb::DescriptorProto& entry = *meta.add_nested_type();
  entry.set_name("ParamsEntry");
  entry.mutable_options()->set_map_entry(true);
  AddScalarField(entry, "key", 1, FieldProto::TYPE_STRING);
  AddScalarField(entry, "value", 2, FieldProto::TYPE_STRING);
  FieldProto& params = *meta.add_field();
  params.set_name("params");
  params.set_number(2);
  params.set_label(FieldProto::LABEL_REPEATED);
  params.set_type(FieldProto::TYPE_MESSAGE);
  params.set_type_name(".confluent.Meta.ParamsEntry");
  FieldProto& tags = *meta.add_field();
  tags.set_name("tags");
  tags.set_number(3);
  tags.set_label(FieldProto::LABEL_REPEATED);
  tags.set_type(FieldProto::TYPE_STRING);
  for (const auto& [name, extendee] :
       {std::pair<const char*, const char*>{"file_meta", ".google.protobuf.FileOptions"},
        {"message_meta", ".google.protobuf.MessageOptions"},
        {"field_meta", ".google.protobuf.FieldOptions"},
        {"enum_meta", ".google.protobuf.EnumOptions"},
        {"enum_value_meta", ".google.protobuf.EnumValueOptions"}}) {
    FieldProto& extension = *file.add_extension();
    extension.set_name(name);
    extension.set_number(kMetaExtension);
    extension.set_label(FieldProto::LABEL_OPTIONAL);
    extension.set_type(FieldProto::TYPE_MESSAGE);
    extension.set_type_name(".confluent.Meta");
    extension.set_extendee(extendee);
  }
  return file;
}

// (confluent.field_meta).params of `field`: a custom option of a pool built at run time is
// kept as unknown fields of the options message, read here with libprotobuf's parser.
std::map<std::string, std::string> FieldMetaParams(const pb::FieldDescriptor* field) {
  std::map<std::string, std::string> params;
  const pb::FieldOptions& options = field->options();
  const pb::UnknownFieldSet& unknown = options.GetReflection()->GetUnknownFields(options);
  for (int i = 0; i < unknown.field_count(); ++i) {
    const pb::UnknownField& option = unknown.field(i);
    if (option.number() != kMetaExtension ||
        option.type() != pb::UnknownField::TYPE_LENGTH_DELIMITED) {
      continue;
    }
    pb::UnknownFieldSet meta;
    if (!meta.ParseFromString(option.length_delimited())) continue;
    for (int j = 0; j < meta.field_count(); ++j) {
      const pb::UnknownField& param = meta.field(j);
      if (param.number() != 2 || param.type() != pb::UnknownField::TYPE_LENGTH_DELIMITED) continue;
      pb::UnknownFieldSet entry;
      if (!entry.ParseFromString(param.length_delimited())) continue;
      std::string key, value;
      for (int k = 0; k < entry.field_count(); ++k) {
        const pb::UnknownField& part = entry.field(k);
        if (part.type() != pb::UnknownField::TYPE_LENGTH_DELIMITED) continue;
        if (part.number() == 1) key = part.length_delimited();
        if (part.number() == 2) value = part.length_delimited();
      }
      params[key] = value;
    }
  }
  return params;
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

// --- Registered schemas ---------------------------------------------------------------

// Reads .proto text (a schema as the registry holds it) with libprotobuf's own parser.
class ProtoTextErrors final : public pb::io::ErrorCollector {
 public:
  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    if (first_.empty()) {
      first_ =
          "line " + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message;
    }
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

// Parses .proto text into `file`; InvalidArgument naming the first error, after `what`.
Status ParseProtoText(const std::string& text, const std::string& what,
                      pb::FileDescriptorProto& file) {
  pb::io::ArrayInputStream input(text.data(), static_cast<int>(text.size()));
  ProtoTextErrors errors;
  pb::io::Tokenizer tokenizer(&input, &errors);
  pb::compiler::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (text.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !parser.Parse(&tokenizer, &file)) {
    return Status::InvalidArgument(what + " does not parse: " + errors.first());
  }
  return Status::OK();
}

// Adds `name` to `pool` when the schema imports it: the well-known files this format knows
// (already built), a schema the registered one references (`references`), or another file
// compiled into libprotobuf (struct.proto, any.proto...).
Status AddImport(pb::DescriptorPool& pool, const std::string& name,
                 const std::vector<registry::NamedSchema>& references, int depth = 0) {
  if (pool.FindFileByName(name) != nullptr) return Status::OK();
  if (depth > 32) return Status::InvalidArgument("PROTOBUF imports nest too deep at " + name);
  auto referenced =
      std::find_if(references.begin(), references.end(),
                   [&](const registry::NamedSchema& schema) { return schema.name == name; });
  if (referenced != references.end()) {
    pb::FileDescriptorProto file;
    RETURN_NOT_OK(
        ParseProtoText(referenced->schema, "the PROTOBUF schema referenced as " + name, file));
    file.set_name(name);
    for (const std::string& dependency : file.dependency()) {
      RETURN_NOT_OK(AddImport(pool, dependency, references, depth + 1));
    }
    FirstErrorCollector errors;
    if (pool.BuildFileCollectingErrors(file, &errors) == nullptr) {
      return Status::InvalidArgument("the PROTOBUF schema referenced as " + name +
                                     " is not valid: " + errors.first());
    }
    return Status::OK();
  }
  const pb::FileDescriptor* generated = pb::DescriptorPool::generated_pool()->FindFileByName(name);
  if (generated == nullptr) {
    return Status::InvalidArgument("the PROTOBUF schema imports " + name +
                                   ", which is neither a well-known file nor one of its schema "
                                   "references");
  }
  for (int i = 0; i < generated->dependency_count(); ++i) {
    RETURN_NOT_OK(AddImport(pool, generated->dependency(i)->name(), {}));
  }
  pb::FileDescriptorProto file;
  generated->CopyTo(&file);
  FirstErrorCollector errors;
  if (pool.BuildFileCollectingErrors(file, &errors) == nullptr) {
    return Status::Internal("PROTOBUF import " + name + ": " + errors.first());
  }
  return Status::OK();
}

// Compiles a registered schema's text, whose imports may name `references`; `root` is left
// unset (see SelectMessage).
Result<std::unique_ptr<CompiledSchema>> CompileSchemaText(
    const std::string& text, const std::vector<registry::NamedSchema>& references) {
  pb::FileDescriptorProto file;
  RETURN_NOT_OK(ParseProtoText(text, "the registered PROTOBUF schema", file));
  file.set_name("sidestream/registered.proto");
  auto compiled = std::make_unique<CompiledSchema>();
  compiled->pool = std::make_unique<pb::DescriptorPool>();
  FirstErrorCollector build_errors;
  for (const pb::FileDescriptorProto& dependency : WellKnownFiles()) {
    if (compiled->pool->BuildFileCollectingErrors(dependency, &build_errors) == nullptr) {
      return Status::Internal("PROTOBUF well-known type: " + build_errors.first());
    }
  }
  // Confluent's meta.proto: options such as (confluent.field_meta) resolve against it, and
  // Confluent's parser accepts them without the import, so the import is added here.
  const bool uses_meta = text.find("confluent.field_meta") != std::string::npos ||
                         text.find("confluent.message_meta") != std::string::npos ||
                         text.find("confluent.file_meta") != std::string::npos ||
                         std::find(file.dependency().begin(), file.dependency().end(), kMetaFile) !=
                             file.dependency().end();
  if (uses_meta) {
    RETURN_NOT_OK(AddImport(*compiled->pool, "google/protobuf/descriptor.proto", {}));
    if (compiled->pool->BuildFileCollectingErrors(MetaFile(), &build_errors) == nullptr) {
      return Status::Internal("PROTOBUF confluent/meta.proto: " + build_errors.first());
    }
    if (std::find(file.dependency().begin(), file.dependency().end(), kMetaFile) ==
        file.dependency().end()) {
      file.add_dependency(kMetaFile);
    }
  }
  for (const std::string& dependency : file.dependency()) {
    RETURN_NOT_OK(AddImport(*compiled->pool, dependency, references));
  }
  compiled->file = compiled->pool->BuildFileCollectingErrors(file, &build_errors);
  if (compiled->file == nullptr) {
    return Status::InvalidArgument("the registered PROTOBUF schema is not valid: " +
                                   build_errors.first());
  }
  compiled->factory = std::make_unique<pb::DynamicMessageFactory>(compiled->pool.get());
  return compiled;
}

// Compiles `registered` with the schemas it references, read from `registry`.
Result<std::unique_ptr<CompiledSchema>> CompileRegistered(
    registry::SchemaRegistry& registry, const registry::RegisteredSchema& registered) {
  ASSIGN_OR_RAISE(std::vector<registry::NamedSchema> references,
                  registry::ReferencedSchemas(registry, registered));
  return CompileSchemaText(registered.schema, references);
}

// The message `full_name` names (its full name, or its name without the file's package),
// or the file's first message when `full_name` is empty. NotFound when there is none.
Result<const pb::Descriptor*> SelectMessage(const CompiledSchema& schema,
                                            const std::string& full_name) {
  const pb::Descriptor* message = nullptr;
  if (full_name.empty()) {
    if (schema.file->message_type_count() > 0) message = schema.file->message_type(0);
  } else {
    message = schema.pool->FindMessageTypeByName(full_name);
    if (message == nullptr && !schema.file->package().empty()) {
      message = schema.pool->FindMessageTypeByName(schema.file->package() + "." + full_name);
    }
  }
  if (message == nullptr) {
    return Status::NotFound(full_name.empty()
                                ? std::string("the PROTOBUF schema declares no message")
                                : "the PROTOBUF schema has no message " + full_name);
  }
  return message;
}

// The message at Confluent's message-index path: top-level message i0, its nested type i1...
Result<const pb::Descriptor*> MessageAtIndexes(const pb::FileDescriptor& file,
                                               const std::vector<int32_t>& indexes) {
  const pb::Descriptor* message = nullptr;
  for (int32_t index : indexes) {
    const int count = message == nullptr ? file.message_type_count() : message->nested_type_count();
    if (index < 0 || index >= count) {
      return Status::InvalidArgument("PROTOBUF header: message index " + std::to_string(index) +
                                     " is not in the schema");
    }
    message = message == nullptr ? file.message_type(index) : message->nested_type(index);
  }
  if (message == nullptr) return Status::InvalidArgument("PROTOBUF header: no message index");
  return message;
}

// The message-index path of `message`, for the header of what is written with it.
std::vector<int32_t> IndexesOf(const pb::Descriptor* message) {
  std::vector<int32_t> indexes;
  for (; message != nullptr; message = message->containing_type()) {
    indexes.insert(indexes.begin(), message->index());
  }
  return indexes;
}

const pb::FieldDescriptor* FindFieldByName(const pb::Descriptor* message, const std::string& name) {
  if (const pb::FieldDescriptor* exact = message->FindFieldByName(name)) return exact;
  const std::string lower = Lower(name);
  for (int i = 0; i < message->field_count(); ++i) {
    if (Lower(message->field(i)->name()) == lower) return message->field(i);
  }
  return nullptr;
}

// A protobuf map, or its wire form spelled out (repeated entries of `key = 1`, `value = 2`),
// as the schemas derived from columns declare a MAP.
bool IsMapLike(const pb::FieldDescriptor* field) {
  if (field->is_map()) return true;
  const pb::Descriptor* entry = field->message_type();
  if (!field->is_repeated() || entry == nullptr || entry->field_count() != 2) return false;
  const pb::FieldDescriptor* key = entry->FindFieldByNumber(1);
  const pb::FieldDescriptor* value = entry->FindFieldByNumber(2);
  return key != nullptr && value != nullptr && key->name() == "key" && value->name() == "value" &&
         !key->is_repeated();
}

bool IsWrapper(const pb::Descriptor* message) { return message->file()->name() == kWrappersFile; }

// The well-known message for DECIMAL, DATE, TIME and TIMESTAMP, and its fields' kinds.
struct WellKnownShape {
  const char* full_name;
  std::vector<pb::FieldDescriptor::CppType> parts;
};

std::optional<WellKnownShape> ShapeOf(TypeId id) {
  using F = pb::FieldDescriptor;
  switch (id) {
    case TypeId::kDecimal:
      return WellKnownShape{"confluent.type.Decimal",
                            {F::CPPTYPE_STRING, F::CPPTYPE_UINT32, F::CPPTYPE_INT32}};
    case TypeId::kDate:
      return WellKnownShape{"google.type.Date",
                            {F::CPPTYPE_INT32, F::CPPTYPE_INT32, F::CPPTYPE_INT32}};
    case TypeId::kTime:
      return WellKnownShape{
          "google.type.TimeOfDay",
          {F::CPPTYPE_INT32, F::CPPTYPE_INT32, F::CPPTYPE_INT32, F::CPPTYPE_INT32}};
    case TypeId::kTimestamp:
      return WellKnownShape{"google.protobuf.Timestamp", {F::CPPTYPE_INT64, F::CPPTYPE_INT32}};
    default:
      return std::nullopt;
  }
}

// Whether a scalar field (not a message) can hold a SQL scalar type, both ways.
bool ScalarFits(const pb::FieldDescriptor* field, TypeId id) {
  using F = pb::FieldDescriptor;
  switch (id) {
    case TypeId::kBoolean:
      return field->cpp_type() == F::CPPTYPE_BOOL;
    case TypeId::kInt:
      return field->cpp_type() == F::CPPTYPE_INT32;
    case TypeId::kBigint:
      return field->cpp_type() == F::CPPTYPE_INT32 || field->cpp_type() == F::CPPTYPE_INT64 ||
             field->cpp_type() == F::CPPTYPE_UINT32 || field->cpp_type() == F::CPPTYPE_UINT64;
    case TypeId::kDouble:
      return field->cpp_type() == F::CPPTYPE_DOUBLE || field->cpp_type() == F::CPPTYPE_FLOAT;
    case TypeId::kString:
      return field->type() == F::TYPE_STRING || field->cpp_type() == F::CPPTYPE_ENUM;
    case TypeId::kBytes:
      return field->type() == F::TYPE_BYTES;
    default:
      return false;
  }
}

std::string DescribeField(const pb::FieldDescriptor* field) {
  std::string kind = field->is_map()         ? "map"
                     : field->message_type() ? field->message_type()->full_name()
                     : field->enum_type()    ? field->enum_type()->full_name()
                                             : field->type_name();
  return (field->is_repeated() && !field->is_map() ? "repeated " : "") + kind;
}

// Plans how `type` is read from or written to `field` of a registered schema, matching
// STRUCT fields by name. InvalidArgument when the field cannot hold the type; with
// `require_all` (writing), also when a STRUCT field has no field in the schema.
Result<FieldPlan> PlanRegisteredField(const pb::FieldDescriptor* field, const SqlType& type,
                                      const std::string& where, bool require_all,
                                      bool element = false, int depth = 0) {
  FieldPlan plan;
  plan.where = where;
  plan.type = type;
  plan.field = field;
  if (field == nullptr) return plan;
  plan.has_presence = field->has_presence();
  auto mismatch = [&] {
    return Status::InvalidArgument("column " + where + " is " + type.ToString() +
                                   ", which the registered PROTOBUF field " + field->name() + " (" +
                                   DescribeField(field) + ") cannot hold");
  };
  if (depth > 32) return Status::InvalidArgument("column " + where + " nests too deeply");
  if (!element && type.id() == TypeId::kArray) {
    if (!field->is_repeated() || IsMapLike(field)) return mismatch();
    ASSIGN_OR_RAISE(FieldPlan child, PlanRegisteredField(field, type.element(), where + "[]",
                                                         require_all, true, depth + 1));
    plan.children.push_back(std::move(child));
    return plan;
  }
  if (!element && type.id() == TypeId::kMap) {
    if (!IsMapLike(field)) return mismatch();
    const pb::Descriptor* entry = field->message_type();
    ASSIGN_OR_RAISE(FieldPlan key, PlanRegisteredField(entry->FindFieldByNumber(1), type.key(),
                                                       where, require_all, false, depth + 1));
    ASSIGN_OR_RAISE(FieldPlan value,
                    PlanRegisteredField(entry->FindFieldByNumber(2), type.value(), where + "[]",
                                        require_all, false, depth + 1));
    plan.children.push_back(std::move(key));
    plan.children.push_back(std::move(value));
    return plan;
  }
  if (!element && field->is_repeated()) return mismatch();
  const pb::Descriptor* message = field->message_type();
  if (auto shape = ShapeOf(type.id())) {
    if (message == nullptr || message->full_name() != shape->full_name ||
        message->field_count() < static_cast<int>(shape->parts.size())) {
      return mismatch();
    }
    for (size_t i = 0; i < shape->parts.size(); ++i) {
      const pb::FieldDescriptor* part = message->FindFieldByNumber(static_cast<int>(i + 1));
      if (part == nullptr || part->is_repeated() || part->cpp_type() != shape->parts[i]) {
        return mismatch();
      }
      plan.parts.push_back(part);
    }
    return plan;
  }
  if (type.id() == TypeId::kStruct) {
    if (message == nullptr || IsWrapper(message) || IsMapLike(field)) return mismatch();
    for (const types::StructField& struct_field : type.fields()) {
      const pb::FieldDescriptor* child = FindFieldByName(message, struct_field.name);
      if (child == nullptr && require_all) {
        return Status::InvalidArgument("column " + where + "." + struct_field.name +
                                       " has no field in the registered PROTOBUF message " +
                                       message->full_name());
      }
      ASSIGN_OR_RAISE(FieldPlan child_plan,
                      PlanRegisteredField(child, struct_field.type, where + "." + struct_field.name,
                                          require_all, false, depth + 1));
      plan.children.push_back(std::move(child_plan));
    }
    return plan;
  }
  const pb::FieldDescriptor* value_field = field;
  if (message != nullptr) {
    if (!IsWrapper(message) || message->FindFieldByNumber(1) == nullptr) return mismatch();
    plan.wrapper_value = message->FindFieldByNumber(1);
    value_field = plan.wrapper_value;
  }
  if (!ScalarFits(value_field, type.id())) return mismatch();
  return plan;
}

// Plans every column against the fields of `message`, by name.
Result<std::vector<FieldPlan>> PlanRegisteredColumns(const pb::Descriptor* message,
                                                     const std::vector<FormatColumn>& columns,
                                                     bool require_all) {
  std::vector<FieldPlan> plans;
  for (const FormatColumn& column : columns) {
    const pb::FieldDescriptor* field = FindFieldByName(message, column.name);
    if (field == nullptr && require_all) {
      return Status::InvalidArgument("column " + column.name +
                                     " has no field in the registered PROTOBUF message " +
                                     message->full_name());
    }
    ASSIGN_OR_RAISE(FieldPlan plan,
                    PlanRegisteredField(field, column.type, column.name, require_all));
    plans.push_back(std::move(plan));
  }
  return plans;
}

// The SQL type of a field of a registered schema (schema inference), as ksqlDB (Confluent's
// ProtobufData) converts it: unsigned and 64-bit integers are BIGINT, float is DOUBLE, an
// enum is STRING, wrappers are their value, a repeated field an ARRAY, a map a MAP.
Result<SqlType> SqlTypeOfField(const pb::FieldDescriptor* field, bool element, int depth,
                               bool upper_case) {
  using F = pb::FieldDescriptor;
  const std::string where = field->full_name();
  if (depth > 32) {
    return Status::InvalidArgument("PROTOBUF field " + where + " nests too deeply (recursive?)");
  }
  if (IsMapLike(field)) {
    const pb::Descriptor* entry = field->message_type();
    ASSIGN_OR_RAISE(SqlType key,
                    SqlTypeOfField(entry->FindFieldByNumber(1), false, depth + 1, upper_case));
    if (key.id() != TypeId::kString) {
      return Status::InvalidArgument("PROTOBUF field " + where +
                                     " is a map whose keys are not strings; only MAP<STRING, "
                                     "...> is supported");
    }
    ASSIGN_OR_RAISE(SqlType value,
                    SqlTypeOfField(entry->FindFieldByNumber(2), false, depth + 1, upper_case));
    return SqlType::Map(std::move(key), std::move(value));
  }
  if (field->is_repeated() && !element) {
    ASSIGN_OR_RAISE(SqlType inner, SqlTypeOfField(field, true, depth + 1, upper_case));
    return SqlType::Array(std::move(inner));
  }
  switch (field->cpp_type()) {
    case F::CPPTYPE_BOOL:
      return SqlType::Boolean();
    case F::CPPTYPE_INT32:
      return SqlType::Int();
    case F::CPPTYPE_INT64:
    case F::CPPTYPE_UINT32:
    case F::CPPTYPE_UINT64:
      return SqlType::Bigint();
    case F::CPPTYPE_FLOAT:
    case F::CPPTYPE_DOUBLE:
      return SqlType::Double();
    case F::CPPTYPE_ENUM:
      return SqlType::String();
    case F::CPPTYPE_STRING:
      return field->type() == F::TYPE_BYTES ? SqlType::Bytes() : SqlType::String();
    case F::CPPTYPE_MESSAGE:
      break;
  }
  const pb::Descriptor* message = field->message_type();
  if (IsWrapper(message))
    return SqlTypeOfField(message->FindFieldByNumber(1), false, depth + 1, upper_case);
  if (message->full_name() == "google.protobuf.Timestamp") return SqlType::Timestamp();
  if (message->full_name() == "google.type.Date") return SqlType::Date();
  if (message->full_name() == "google.type.TimeOfDay") return SqlType::Time();
  if (message->full_name() == "confluent.type.Decimal") {
    // Confluent's ProtobufData: the precision and scale are (confluent.field_meta) params.
    const auto params = FieldMetaParams(field);
    auto precision = params.find("precision");
    auto scale = params.find("scale");
    if (precision != params.end()) {
      const int digits = std::atoi(precision->second.c_str());
      const int places = scale == params.end() ? 0 : std::atoi(scale->second.c_str());
      if (digits >= 1 && digits <= types::kMaxDecimalPrecision && places >= 0 && places <= digits) {
        return SqlType::Decimal(digits, places);
      }
    }
    return Status::NotSupported("PROTOBUF field " + where +
                                " is a confluent.type.Decimal, whose precision cannot be "
                                "inferred here: declare the columns");
  }
  std::vector<types::StructField> fields;
  for (int i = 0; i < message->field_count(); ++i) {
    ASSIGN_OR_RAISE(SqlType type, SqlTypeOfField(message->field(i), false, depth + 1, upper_case));
    fields.push_back({upper_case ? Upper(message->field(i)->name()) : message->field(i)->name(),
                      std::move(type)});
  }
  return SqlType::Struct(std::move(fields));
}

Result<std::vector<FormatColumn>> ColumnsOfMessage(const pb::Descriptor* message, bool upper_case) {
  std::vector<FormatColumn> columns;
  for (int i = 0; i < message->field_count(); ++i) {
    ASSIGN_OR_RAISE(SqlType type, SqlTypeOfField(message->field(i), false, 0, upper_case));
    columns.push_back({upper_case ? Upper(message->field(i)->name()) : message->field(i)->name(),
                       std::move(type)});
  }
  return columns;
}

// --- Reading --------------------------------------------------------------------------

// Reads a non-repeated kind from `field` of `message`: the element `index` of a repeated
// field, or the field itself when index < 0.
class MessageReader {
 public:
  Status ReadField(const pb::Message& message, const FieldPlan& plan, Value& out) {
    if (plan.field == nullptr) {  // a registered schema without this column: NULL
      out.SetNull();
      return Status::OK();
    }
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
      case TypeId::kBigint: {
        // A registered schema may hold a BIGINT in any integer field (uint32, fixed64, ...).
        int64_t number = 0;
        switch (field->cpp_type()) {
          case pb::FieldDescriptor::CPPTYPE_INT32:
            number = single ? reflection.GetInt32(message, field)
                            : reflection.GetRepeatedInt32(message, field, index);
            break;
          case pb::FieldDescriptor::CPPTYPE_UINT32:
            number = single ? reflection.GetUInt32(message, field)
                            : reflection.GetRepeatedUInt32(message, field, index);
            break;
          case pb::FieldDescriptor::CPPTYPE_UINT64: {
            const uint64_t unsigned_number =
                single ? reflection.GetUInt64(message, field)
                       : reflection.GetRepeatedUInt64(message, field, index);
            if (unsigned_number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
              return Invalid(
                  plan, "uint64 " + std::to_string(unsigned_number) + " is beyond BIGINT's range");
            }
            number = static_cast<int64_t>(unsigned_number);
            break;
          }
          default:
            number = single ? reflection.GetInt64(message, field)
                            : reflection.GetRepeatedInt64(message, field, index);
            break;
        }
        out.SetInteger(TypeId::kBigint, number);
        return Status::OK();
      }
      case TypeId::kDouble:
        if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_FLOAT) {
          out.SetDouble(single ? reflection.GetFloat(message, field)
                               : reflection.GetRepeatedFloat(message, field, index));
          return Status::OK();
        }
        out.SetDouble(single ? reflection.GetDouble(message, field)
                             : reflection.GetRepeatedDouble(message, field, index));
        return Status::OK();
      case TypeId::kString:
        if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM) {
          // An enum reads as its value's name, as ksqlDB does.
          const pb::EnumValueDescriptor* value =
              single ? reflection.GetEnum(message, field)
                     : reflection.GetRepeatedEnum(message, field, index);
          out.AssignString(value->name());
          return Status::OK();
        }
        [[fallthrough]];
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
    // Left out: absent (or proto3's default).
    if (value.is_null() || plan.field == nullptr) return Status::OK();
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
        return WriteBigint(message, plan, field, repeated, value.integer());
      case TypeId::kDouble:
        if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_FLOAT) {
          const auto number = static_cast<float>(value.float64());
          repeated ? reflection.AddFloat(&message, field, number)
                   : reflection.SetFloat(&message, field, number);
          return Status::OK();
        }
        repeated ? reflection.AddDouble(&message, field, value.float64())
                 : reflection.SetDouble(&message, field, value.float64());
        return Status::OK();
      case TypeId::kString:
        if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM) {
          const pb::EnumValueDescriptor* enum_value =
              field->enum_type()->FindValueByName(value.string());
          if (enum_value == nullptr) {
            return Invalid(plan, "'" + value.string() + "' is not a value of the enum " +
                                     field->enum_type()->full_name());
          }
          repeated ? reflection.AddEnum(&message, field, enum_value)
                   : reflection.SetEnum(&message, field, enum_value);
          return Status::OK();
        }
        [[fallthrough]];
      case TypeId::kBytes:
        repeated ? reflection.AddString(&message, field, value.string())
                 : reflection.SetString(&message, field, value.string());
        return Status::OK();
      default:
        return Invalid(plan, "unexpected PROTOBUF scalar for " + plan.type.ToString());
    }
  }

  // A BIGINT into a registered schema's integer field, checked against the field's range.
  static Status WriteBigint(pb::Message& message, const FieldPlan& plan,
                            const pb::FieldDescriptor* field, bool repeated, int64_t number) {
    const pb::Reflection& reflection = *message.GetReflection();
    auto out_of_range = [&] {
      return Invalid(plan, "BIGINT " + std::to_string(number) + " does not fit the " +
                               field->type_name() + " field " + field->name());
    };
    switch (field->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_INT32:
        if (number < std::numeric_limits<int32_t>::min() ||
            number > std::numeric_limits<int32_t>::max()) {
          return out_of_range();
        }
        repeated ? reflection.AddInt32(&message, field, static_cast<int32_t>(number))
                 : reflection.SetInt32(&message, field, static_cast<int32_t>(number));
        return Status::OK();
      case pb::FieldDescriptor::CPPTYPE_UINT32:
        if (number < 0 || number > std::numeric_limits<uint32_t>::max()) return out_of_range();
        repeated ? reflection.AddUInt32(&message, field, static_cast<uint32_t>(number))
                 : reflection.SetUInt32(&message, field, static_cast<uint32_t>(number));
        return Status::OK();
      case pb::FieldDescriptor::CPPTYPE_UINT64:
        if (number < 0) return out_of_range();
        repeated ? reflection.AddUInt64(&message, field, static_cast<uint64_t>(number))
                 : reflection.SetUInt64(&message, field, static_cast<uint64_t>(number));
        return Status::OK();
      default:
        repeated ? reflection.AddInt64(&message, field, number)
                 : reflection.SetInt64(&message, field, number);
        return Status::OK();
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

// Names the top-level field whose bytes do not parse. `name_of` names a field number.
template <typename NameOf>
Status DescribeBrokenMessage(const pb::Message& prototype, std::string_view bytes, NameOf name_of) {
  pb::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(bytes.data()),
                                 static_cast<int>(bytes.size()));
  std::unique_ptr<pb::Message> probe(prototype.New());
  while (true) {
    const int start = input.CurrentPosition();
    const uint32_t tag = input.ReadTag();
    if (tag == 0) break;
    const std::string where = name_of(pb::internal::WireFormatLite::GetTagFieldNumber(tag));
    if (!pb::internal::WireFormatLite::SkipField(&input, tag)) {
      return Status::InvalidArgument(where + ": PROTOBUF bytes are truncated or malformed");
    }
    std::string_view piece = bytes.substr(static_cast<size_t>(start),
                                          static_cast<size_t>(input.CurrentPosition() - start));
    if (!probe->ParseFromArray(piece.data(), static_cast<int>(piece.size()))) {
      return Status::InvalidArgument(
          where +
          ": PROTOBUF bytes do not fit the column's type (truncated, malformed or invalid "
          "UTF-8)");
    }
  }
  return Status::InvalidArgument("not a valid PROTOBUF message (" + std::to_string(bytes.size()) +
                                 " bytes)");
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
    return DescribeBrokenMessage(*message_, bytes, [this](int number) {
      return number >= 1 && static_cast<size_t>(number) <= columns_.size()
                 ? "column " + columns_[static_cast<size_t>(number) - 1].name
                 : "field " + std::to_string(number) + " (no such column)";
    });
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

// PROTOBUF with a schema registry: each message is read with the writer's schema, fetched
// by the id in its header (once per id: the registry client caches it, and this decoder
// keeps the compiled schema), and its fields are matched to the columns by name, so a newer
// compatible writer schema still decodes; absent fields are NULL.
class RegistryProtobufDecoder final : public RowDecoder {
 public:
  RegistryProtobufDecoder(std::shared_ptr<registry::SchemaRegistry> registry,
                          std::vector<FormatColumn> columns)
      : registry_(std::move(registry)), columns_(std::move(columns)) {}

  Status Decode(std::string_view bytes, types::Row& row, size_t first_column) override {
    if (row.size() < first_column + columns_.size()) row.resize(first_column + columns_.size());
    ASSIGN_OR_RAISE(ConfluentProtobufFrame frame, ParseConfluentProtobufFrame(bytes));
    ASSIGN_OR_RAISE(Writer * writer, WriterFor(frame));
    if (frame.message.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
      return Status::InvalidArgument("PROTOBUF message of " + std::to_string(frame.message.size()) +
                                     " bytes is too large");
    }
    if (!writer->message->ParseFromArray(frame.message.data(),
                                         static_cast<int>(frame.message.size()))) {
      const pb::Descriptor* descriptor = writer->message->GetDescriptor();
      return DescribeBrokenMessage(*writer->message, frame.message, [&](int number) {
        const pb::FieldDescriptor* field = descriptor->FindFieldByNumber(number);
        return field != nullptr
                   ? "field " + field->name() + " of schema " + std::to_string(frame.schema_id)
                   : "field " + std::to_string(number) + " (not in schema " +
                         std::to_string(frame.schema_id) + ")";
      });
    }
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i].skip) continue;
      RETURN_NOT_OK(reader_.ReadField(*writer->message, writer->plans[i], row[first_column + i]));
    }
    return Status::OK();
  }

 private:
  struct Writer {
    std::unique_ptr<CompiledSchema> schema;
    std::vector<FieldPlan> plans;
    std::unique_ptr<pb::Message> message;  // reused: parsing clears it
  };
  using Key = std::pair<int32_t, std::vector<int32_t>>;

  Result<Writer*> WriterFor(const ConfluentProtobufFrame& frame) {
    if (last_ != nullptr && last_key_.first == frame.schema_id &&
        last_key_.second == frame.message_indexes) {
      return last_;
    }
    Key key{frame.schema_id, frame.message_indexes};
    auto found = writers_.find(key);
    if (found == writers_.end()) {
      auto schema = registry_->GetById(frame.schema_id);
      if (!schema.ok() && schema.status().code() != StatusCode::kUnavailable) {
        // Remembered: every record naming an unknown id would ask the registry again.
        return Remember(key,
                        Status::InvalidArgument("PROTOBUF message names schema id " +
                                                std::to_string(frame.schema_id) +
                                                ", which the registry at " + registry_->url() +
                                                " does not give: " + schema.status().message()));
      }
      if (!schema.ok()) return schema.status();
      if (schema->type != registry::SchemaType::kProtobuf) {
        return Remember(
            key, Status::InvalidArgument("PROTOBUF message names schema id " +
                                         std::to_string(frame.schema_id) + ", which is a " +
                                         registry::SchemaTypeName(schema->type) + " schema"));
      }
      auto writer = CompileWriter(*schema, frame);
      // A referenced schema the registry could not give now may come at the next record.
      if (!writer.ok() && writer.status().code() == StatusCode::kUnavailable) {
        return writer.status();
      }
      found = writers_.emplace(key, std::move(writer)).first;
    }
    if (!found->second.ok()) return found->second.status();
    last_key_ = std::move(key);
    last_ = found->second->get();
    return last_;
  }

  Result<Writer*> Remember(const Key& key, Status status) {
    writers_.emplace(key, status);
    return status;
  }

  Result<std::unique_ptr<Writer>> CompileWriter(const registry::RegisteredSchema& registered,
                                                const ConfluentProtobufFrame& frame) {
    const std::string what = "PROTOBUF schema id " + std::to_string(registered.id);
    auto writer = std::make_unique<Writer>();
    auto schema = CompileRegistered(*registry_, registered);
    if (!schema.ok()) {
      return Status(schema.status().code() == StatusCode::kUnavailable
                        ? StatusCode::kUnavailable
                        : StatusCode::kInvalidArgument,
                    what + ": " + schema.status().message());
    }
    writer->schema = std::move(*schema);
    auto message = MessageAtIndexes(*writer->schema->file, frame.message_indexes);
    if (!message.ok()) return Status::InvalidArgument(what + ": " + message.status().message());
    auto plans = PlanRegisteredColumns(*message, columns_, /*require_all=*/false);
    if (!plans.ok()) return Status::InvalidArgument(what + ": " + plans.status().message());
    writer->plans = std::move(*plans);
    writer->message.reset(writer->schema->factory->GetPrototype(*message)->New());
    return writer;
  }

  std::shared_ptr<registry::SchemaRegistry> registry_;
  std::vector<FormatColumn> columns_;
  std::map<Key, Result<std::unique_ptr<Writer>>> writers_;
  Key last_key_;
  Writer* last_ = nullptr;
  MessageReader reader_;
};

// PROTOBUF with a schema registry: writes with the schema registered under the subject
// (derived from the columns, registered at the first record), or with the registered schema
// `options.schema_id` names (KEY_/VALUE_SCHEMA_ID), whose fields the columns fill by name.
class RegistryProtobufEncoder final : public RowEncoder {
 public:
  static Result<std::unique_ptr<RowEncoder>> Create(const FormatOptions& options,
                                                    std::vector<FormatColumn> columns) {
    ASSIGN_OR_RAISE(auto registry, registry::SharedSchemaRegistry(SchemaRegistryUrlOf(options)));
    auto encoder = std::unique_ptr<RegistryProtobufEncoder>(new RegistryProtobufEncoder());
    encoder->registry_ = std::move(registry);
    encoder->subject_ = SubjectOf(options);
    encoder->columns_ = std::move(columns);
    if (options.schema_id) {
      RETURN_NOT_OK(encoder->UseRegisteredSchema(*options.schema_id, options.full_schema_name));
    } else {
      ASSIGN_OR_RAISE(encoder->schema_, Compile(encoder->columns_, options.protobuf_nullable));
      encoder->plans_ = PlanColumns(*encoder->schema_, encoder->columns_);
      encoder->schema_text_ = encoder->schema_->file->DebugString();
      encoder->indexes_ = {0};
      encoder->message_.reset(
          encoder->schema_->factory->GetPrototype(encoder->schema_->root)->New());
    }
    return std::unique_ptr<RowEncoder>(std::move(encoder));
  }

  Status Encode(const types::Row& row, size_t first_column, std::string& out) override {
    out.clear();
    if (!schema_id_) {
      auto id = registry_->Register(subject_, registry::SchemaType::kProtobuf, schema_text_);
      if (!id.ok()) {
        return Status(id.status().code(), "registering the PROTOBUF schema under " + subject_ +
                                              " at " + registry_->url() + ": " +
                                              id.status().message());
      }
      schema_id_ = *id;
    }
    message_->Clear();
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (first_column + i >= row.size()) break;
      RETURN_NOT_OK(writer_.WriteField(*message_, plans_[i], row[first_column + i]));
    }
    AppendConfluentProtobufHeader(*schema_id_, indexes_, out);
    if (!message_->AppendToString(&out)) {
      return Status::Internal("PROTOBUF message could not be serialized");
    }
    return Status::OK();
  }

 private:
  RegistryProtobufEncoder() = default;

  // ksqlDB's rule for a sink with a schema id: write with that schema, whose message must
  // have a field for every column, of a type that holds it (the schema may have more).
  Status UseRegisteredSchema(int32_t id, const std::string& full_name) {
    ASSIGN_OR_RAISE(
        registry::SchemaToWrite registered,
        registry::GetSchemaToWrite(*registry_, id, registry::SchemaType::kProtobuf, subject_));
    const std::string& what = registered.what;
    auto schema = CompileRegistered(*registry_, registered.registered);
    if (!schema.ok()) {
      return Status(schema.status().code() == StatusCode::kUnavailable
                        ? StatusCode::kUnavailable
                        : StatusCode::kInvalidArgument,
                    what + ": " + schema.status().message());
    }
    schema_ = std::move(*schema);
    auto message = SelectMessage(*schema_, full_name);
    if (!message.ok()) return Status::InvalidArgument(what + ": " + message.status().message());
    auto plans = PlanRegisteredColumns(*message, columns_, /*require_all=*/true);
    if (!plans.ok()) {
      return Status::InvalidArgument("the result's columns are not compatible with " + what + ": " +
                                     plans.status().message());
    }
    plans_ = std::move(*plans);
    schema_id_ = id;
    indexes_ = IndexesOf(*message);
    message_.reset(schema_->factory->GetPrototype(*message)->New());
    return Status::OK();
  }

  std::shared_ptr<registry::SchemaRegistry> registry_;
  std::string subject_;
  std::vector<FormatColumn> columns_;
  std::unique_ptr<CompiledSchema> schema_;
  std::string schema_text_;  // registered at the first record, unless schema_id_ is set
  std::optional<int32_t> schema_id_;
  std::vector<int32_t> indexes_;  // the written message's path in the schema
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

Result<std::unique_ptr<RowDecoder>> MakeRegistryProtobufDecoder(const FormatOptions& options,
                                                                std::vector<FormatColumn> columns) {
  QuietProtobufLogs();
  ASSIGN_OR_RAISE(auto registry, registry::SharedSchemaRegistry(SchemaRegistryUrlOf(options)));
  return std::unique_ptr<RowDecoder>(
      std::make_unique<RegistryProtobufDecoder>(std::move(registry), std::move(columns)));
}

Result<std::unique_ptr<RowEncoder>> MakeRegistryProtobufEncoder(const FormatOptions& options,
                                                                std::vector<FormatColumn> columns) {
  QuietProtobufLogs();
  return RegistryProtobufEncoder::Create(options, std::move(columns));
}

Result<std::vector<FormatColumn>> ColumnsOfProtobufSchema(
    const std::string& schema_text, const std::string& full_name, bool upper_case,
    const std::vector<registry::NamedSchema>& references) {
  ASSIGN_OR_RAISE(auto schema, CompileSchemaText(schema_text, references));
  ASSIGN_OR_RAISE(const pb::Descriptor* message, SelectMessage(*schema, full_name));
  return ColumnsOfMessage(message, upper_case);
}

namespace {

// ksqlDB's runner fills a test value's fields into the schema case-insensitively: renames each
// key that names no field exactly to the field it names in another case (nested too).
void MatchFieldNames(nlohmann::ordered_json& value, const pb::Descriptor* descriptor, int depth) {
  if (!value.is_object() || depth > 32) return;
  nlohmann::ordered_json renamed = nlohmann::ordered_json::object();
  for (auto& [key, element] : value.items()) {
    const pb::FieldDescriptor* field = descriptor->FindFieldByName(key);
    for (int i = 0; field == nullptr && i < descriptor->field_count(); ++i) {
      const pb::FieldDescriptor* candidate = descriptor->field(i);
      if (candidate->json_name() == key || Lower(candidate->name()) == Lower(key)) {
        field = candidate;
      }
    }
    if (field != nullptr && field->message_type() != nullptr && !field->is_map()) {
      if (field->is_repeated() && element.is_array()) {
        for (auto& item : element) MatchFieldNames(item, field->message_type(), depth + 1);
      } else {
        MatchFieldNames(element, field->message_type(), depth + 1);
      }
    }
    renamed[field != nullptr ? field->name() : key] = std::move(element);
  }
  value = std::move(renamed);
}

}  // namespace

Result<std::string> ProtobufMessageFromJson(const std::string& schema_text,
                                            const std::string& full_name, int32_t schema_id,
                                            std::string_view value_json,
                                            const std::vector<registry::NamedSchema>& references) {
  QuietProtobufLogs();
  ASSIGN_OR_RAISE(auto schema, CompileSchemaText(schema_text, references));
  ASSIGN_OR_RAISE(const pb::Descriptor* descriptor, SelectMessage(*schema, full_name));
  std::unique_ptr<pb::Message> message(schema->factory->GetPrototype(descriptor)->New());
  pb::util::JsonParseOptions parse_options;
  parse_options.ignore_unknown_fields = true;
  auto named = nlohmann::ordered_json::parse(value_json, nullptr, /*allow_exceptions=*/false);
  std::string text(value_json);
  if (!named.is_discarded()) {
    MatchFieldNames(named, descriptor, 0);
    text = named.dump();
  }
  const auto parsed = pb::util::JsonStringToMessage(text, message.get(), parse_options);
  if (!parsed.ok()) {
    // What libprotobuf's JSON mapping cannot hold (a number for a confluent.type.Decimal)
    // goes through a Row of the message's columns, as ksqlDB's runner converts test values.
    auto columns = ColumnsOfMessage(descriptor, /*upper_case=*/false);
    auto plans = columns.ok() ? PlanRegisteredColumns(descriptor, *columns, /*require_all=*/true)
                              : Result<std::vector<FieldPlan>>(columns.status());
    Status converted = plans.status();
    if (converted.ok()) {
      FormatOptions json_options;
      json_options.format = "JSON";
      types::Row row(columns->size());
      converted = MakeJsonDecoder(json_options, *columns)->Decode(text, row, 0);
      message->Clear();
      MessageWriter writer;
      for (size_t i = 0; converted.ok() && i < row.size(); ++i) {
        converted = writer.WriteField(*message, (*plans)[i], row[i]);
      }
    }
    if (!converted.ok()) {
      return Status::InvalidArgument("JSON does not fit the PROTOBUF message " +
                                     descriptor->full_name() + ": " + parsed.ToString());
    }
  }
  std::string out;
  AppendConfluentProtobufHeader(schema_id, IndexesOf(descriptor), out);
  message->AppendToString(&out);
  return out;
}

Result<std::string> ProtobufWireToJson(const std::string& schema_registry_url,
                                       std::string_view bytes,
                                       const std::vector<FormatColumn>& known_columns) {
  ASSIGN_OR_RAISE(ConfluentProtobufFrame frame, ParseConfluentProtobufFrame(bytes));
  ASSIGN_OR_RAISE(auto registry, registry::SharedSchemaRegistry(schema_registry_url));
  ASSIGN_OR_RAISE(registry::RegisteredSchema registered, registry->GetById(frame.schema_id));
  ASSIGN_OR_RAISE(auto schema, CompileRegistered(*registry, registered));
  ASSIGN_OR_RAISE(const pb::Descriptor* message,
                  MessageAtIndexes(*schema->file, frame.message_indexes));
  // The writer's fields, typed as the known columns where they name one (a DECIMAL's
  // precision is not in the schema).
  std::vector<FormatColumn> columns;
  for (int i = 0; i < message->field_count(); ++i) {
    const std::string& name = message->field(i)->name();
    auto known = std::find_if(known_columns.begin(), known_columns.end(),
                              [&](const FormatColumn& c) { return Lower(c.name) == Lower(name); });
    if (known != known_columns.end()) {
      columns.push_back({name, known->type});
      continue;
    }
    ASSIGN_OR_RAISE(SqlType type, SqlTypeOfField(message->field(i), false, 0, false));
    columns.push_back({name, std::move(type)});
  }
  FormatOptions registry_options;
  registry_options.format = "PROTOBUF";
  registry_options.schema_registry_url = schema_registry_url;
  ASSIGN_OR_RAISE(auto decoder, MakeRegistryProtobufDecoder(registry_options, columns));
  types::Row row(columns.size());
  RETURN_NOT_OK(decoder->Decode(bytes, row, 0));
  FormatOptions json_options;
  json_options.format = "JSON";
  ASSIGN_OR_RAISE(auto encoder, MakeEncoder(json_options, columns));
  std::string out;
  RETURN_NOT_OK(encoder->Encode(row, 0, out));
  return out;
}

void AppendConfluentProtobufHeader(int32_t schema_id, const std::vector<int32_t>& indexes,
                                   std::string& out) {
  if (indexes.size() == 1 && indexes[0] == 0) {
    AppendConfluentProtobufHeader(schema_id, out);
    return;
  }
  out.push_back('\0');
  const auto id = static_cast<uint32_t>(schema_id);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(id >> shift));
  uint8_t varint[10];  // a varint of 32 bits takes at most 5
  auto append = [&](int32_t number) {
    const uint32_t zigzag = pb::internal::WireFormatLite::ZigZagEncode32(number);
    uint8_t* end = pb::io::CodedOutputStream::WriteVarint32ToArray(zigzag, varint);
    out.append(reinterpret_cast<const char*>(varint), static_cast<size_t>(end - varint));
  };
  append(static_cast<int32_t>(indexes.size()));
  for (int32_t index : indexes) append(index);
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
