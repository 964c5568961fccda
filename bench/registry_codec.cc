#include "bench/registry_codec.h"

#include <avro.h>
#include <google/protobuf/descriptor.pb.h>

#include <cctype>

#include "connectors/formats/protobuf_format.h"
#include "connectors/registry/schema_registry.h"

namespace sidestream::bench {
namespace {

namespace pb = google::protobuf;

bool SameName(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

// avro-c's reader, schema and one reusable value of the registered writer schema.
struct RegistryCodec::Avro {
  avro_schema_t schema = nullptr;
  avro_value_iface_t* iface = nullptr;
  avro_value_t value{};
  bool has_value = false;
  avro_reader_t reader = nullptr;
  ~Avro() {
    if (reader != nullptr) avro_reader_free(reader);
    if (has_value) avro_value_decref(&value);
    if (iface != nullptr) avro_value_iface_decref(iface);
    if (schema != nullptr) avro_schema_decref(schema);
  }
};

RegistryCodec::~RegistryCodec() = default;

Result<std::unique_ptr<RegistryCodec>> RegistryCodec::Create(
    const std::string& format, const std::string& topic,
    std::vector<formats::FormatColumn> columns) {
  if (format != "AVRO" && format != "PROTOBUF") {
    return Status::InvalidArgument("registry format '" + format + "': expected AVRO or PROTOBUF");
  }
  std::unique_ptr<RegistryCodec> codec(new RegistryCodec());
  codec->format_ = format;
  codec->columns_ = std::move(columns);
  formats::FormatOptions json;
  json.format = "JSON";
  ASSIGN_OR_RAISE(codec->json_decoder_, formats::MakeDecoder(json, codec->columns_));
  formats::FormatOptions wire;
  wire.format = format;
  wire.schema_registry_url = kBenchRegistryUrl;
  wire.topic = topic;
  ASSIGN_OR_RAISE(codec->encoder_, formats::MakeEncoder(wire, codec->columns_));
  return codec;
}

Result<std::string> RegistryCodec::FromJson(const std::string& json) {
  types::Row row(columns_.size());
  RETURN_NOT_OK(json_decoder_->Decode(json, row, 0));
  std::string out;
  RETURN_NOT_OK(encoder_->Encode(row, 0, out));
  return out;
}

Status RegistryCodec::PrepareCeiling() {
  if (format_ == "PROTOBUF") {
    if (message_type_ != nullptr) return Status::OK();
    // The schema the encoder registered, built into a pool of its own.
    ASSIGN_OR_RAISE(pb::FileDescriptorProto file,
                    formats::ProtobufSchemaFile(columns_, formats::ProtobufNullable::kDefault));
    if (file.dependency_size() > 0) {
      return Status::NotSupported("the PROTOBUF ceiling takes scalar columns only");
    }
    pool_ = std::make_unique<pb::DescriptorPool>();
    const pb::FileDescriptor* built = pool_->BuildFile(file);
    if (built == nullptr) return Status::Internal("the PROTOBUF ceiling's schema does not build");
    message_type_ = built->message_type(0);
    factory_ = std::make_unique<pb::DynamicMessageFactory>(pool_.get());
    return Status::OK();
  }
  if (avro_ != nullptr) return Status::OK();
  ASSIGN_OR_RAISE(auto registry, registry::SharedSchemaRegistry(kBenchRegistryUrl));
  ASSIGN_OR_RAISE(auto latest, registry->GetLatest("cdr-value"));
  avro_ = std::make_unique<Avro>();
  if (avro_schema_from_json_length(latest.schema.data(), latest.schema.size(), &avro_->schema) !=
      0) {
    return Status::Internal(std::string("AVRO ceiling schema: ") + avro_strerror());
  }
  avro_->iface = avro_generic_class_from_schema(avro_->schema);
  if (avro_->iface == nullptr || avro_generic_value_new(avro_->iface, &avro_->value) != 0) {
    return Status::Internal(std::string("AVRO ceiling value: ") + avro_strerror());
  }
  avro_->has_value = true;
  avro_->reader = avro_reader_memory(nullptr, 0);
  return Status::OK();
}

Result<size_t> RegistryCodec::DecodeCeiling(const std::vector<std::string>& values,
                                            const std::vector<std::string>& fields) {
  RETURN_NOT_OK(PrepareCeiling());
  size_t checksum = 0;
  if (format_ == "PROTOBUF") {
    std::vector<const pb::FieldDescriptor*> wanted;
    for (const std::string& name : fields) {
      for (int i = 0; i < message_type_->field_count(); ++i) {
        if (SameName(message_type_->field(i)->name(), name)) {
          wanted.push_back(message_type_->field(i));
        }
      }
    }
    std::unique_ptr<pb::Message> message(factory_->GetPrototype(message_type_)->New());
    const pb::Reflection& reflection = *message->GetReflection();
    std::string scratch;
    for (const std::string& value : values) {
      // Confluent's header for the first message: 5 bytes and the index byte 0.
      if (value.size() < 6 ||
          !message->ParseFromArray(value.data() + 6, static_cast<int>(value.size() - 6))) {
        return Status::InvalidArgument("the PROTOBUF ceiling cannot parse a message");
      }
      for (const pb::FieldDescriptor* field : wanted) {
        switch (field->cpp_type()) {
          case pb::FieldDescriptor::CPPTYPE_STRING:
            checksum += reflection.GetStringReference(*message, field, &scratch).size();
            break;
          case pb::FieldDescriptor::CPPTYPE_INT32:
            checksum += static_cast<size_t>(reflection.GetInt32(*message, field));
            break;
          case pb::FieldDescriptor::CPPTYPE_INT64:
            checksum += static_cast<size_t>(reflection.GetInt64(*message, field));
            break;
          default:
            checksum += 1;
        }
      }
    }
    return checksum;
  }
  std::vector<size_t> wanted;
  const size_t field_count = avro_schema_record_size(avro_->schema);
  for (const std::string& name : fields) {
    for (size_t i = 0; i < field_count; ++i) {
      const char* field_name = avro_schema_record_field_name(avro_->schema, static_cast<int>(i));
      if (field_name != nullptr && SameName(field_name, name)) wanted.push_back(i);
    }
  }
  for (const std::string& value : values) {
    if (value.size() < registry::kWireHeaderBytes) {
      return Status::InvalidArgument("the AVRO ceiling got a message without a header");
    }
    avro_reader_memory_set_source(avro_->reader, value.data() + registry::kWireHeaderBytes,
                                  static_cast<int64_t>(value.size() - registry::kWireHeaderBytes));
    if (avro_value_read(avro_->reader, &avro_->value) != 0) {
      return Status::InvalidArgument(std::string("the AVRO ceiling cannot read a message: ") +
                                     avro_strerror());
    }
    for (size_t index : wanted) {
      avro_value_t field, branch;
      avro_value_get_by_index(&avro_->value, index, &field, nullptr);
      if (avro_value_get_current_branch(&field, &branch) != 0) continue;
      switch (avro_value_get_type(&branch)) {
        case AVRO_STRING: {
          const char* text = nullptr;
          size_t size = 0;
          avro_value_get_string(&branch, &text, &size);
          checksum += size;
          break;
        }
        case AVRO_INT32: {
          int32_t number = 0;
          avro_value_get_int(&branch, &number);
          checksum += static_cast<size_t>(number);
          break;
        }
        case AVRO_INT64: {
          int64_t number = 0;
          avro_value_get_long(&branch, &number);
          checksum += static_cast<size_t>(number);
          break;
        }
        default:
          checksum += 1;
      }
    }
  }
  return checksum;
}

}  // namespace sidestream::bench
