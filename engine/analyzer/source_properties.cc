#include "analyzer/source_properties.h"

namespace sidestream::analyzer {

const std::vector<PropertyDefinition>& SourceProperties() {
  using T = PropertyValueType;
  using S = PropertyScope;
  static const std::vector<PropertyDefinition> kProperties = {
      {"KAFKA_TOPIC", T::kString, S::kBoth, "",
       "Topic that holds the data. Required when declaring a source; a query's sink defaults "
       "to its own name."},
      {"KEY_FORMAT", T::kString, S::kBoth, "KAFKA",
       "Format of message keys: KAFKA, JSON, DELIMITED, PROTOBUF, PROTOBUF_NOSR or NONE."},
      {"VALUE_FORMAT", T::kString, S::kBoth, "",
       "Format of message values: JSON, DELIMITED, KAFKA, PROTOBUF, PROTOBUF_NOSR or NONE "
       "(AVRO is accepted and read as JSON until a schema registry is supported; PROTOBUF "
       "without a registry is written without Confluent's header)."},
      {"FORMAT", T::kString, S::kBoth, "", "Sets KEY_FORMAT and VALUE_FORMAT together."},
      {"PARTITIONS", T::kInteger, S::kBoth, "",
       "Partition count of the topic when Sidestream creates it; a sink defaults to its "
       "source's count."},
      {"REPLICAS", T::kInteger, S::kBoth, "1", "Replication factor of a created topic."},
      {"TIMESTAMP", T::kString, S::kBoth, "",
       "Column that holds event time (BIGINT ms, TIMESTAMP, or STRING with TIMESTAMP_FORMAT); "
       "ROWTIME is the Kafka timestamp otherwise."},
      {"TIMESTAMP_FORMAT", T::kString, S::kBoth, "",
       "Pattern for parsing a STRING TIMESTAMP column, e.g. yyyy-MM-dd'T'HH:mm:ss."},
      {"WRAP_SINGLE_VALUE", T::kBoolean, S::kBoth, "true",
       "Whether a single value column is wrapped in a JSON object."},
      {"WINDOW_TYPE", T::kString, S::kDeclaration, "",
       "For a source with windowed keys: TUMBLING, HOPPING or SESSION."},
      {"WINDOW_SIZE", T::kString, S::kDeclaration, "",
       "For TUMBLING and HOPPING windowed keys: the window size, e.g. '30 SECONDS'."},
      {"KEY_DELIMITER", T::kString, S::kBoth, ",",
       "Delimiter of DELIMITED keys: one character, or TAB or SPACE."},
      {"VALUE_DELIMITER", T::kString, S::kBoth, ",",
       "Delimiter of DELIMITED values: one character, or TAB or SPACE."},
      {"KEY_SCHEMA_ID", T::kInteger, S::kBoth, "", "Schema registry id of the key schema."},
      {"VALUE_SCHEMA_ID", T::kInteger, S::kBoth, "", "Schema registry id of the value schema."},
      {"KEY_SCHEMA_FULL_NAME", T::kString, S::kBoth, "", "Full name of the key schema."},
      {"VALUE_SCHEMA_FULL_NAME", T::kString, S::kBoth, "", "Full name of the value schema."},
      {"VALUE_AVRO_SCHEMA_FULL_NAME", T::kString, S::kBoth, "", "Full name of an AVRO schema."},
      {"KEY_PROTOBUF_NULLABLE_REPRESENTATION", T::kString, S::kBoth, "",
       "PROTOBUF keys: how a NULL is written. OPTIONAL (proto3 optional fields) or WRAPPER "
       "(google.protobuf wrapper messages) keep it NULL; unset, it reads back as its type's "
       "default."},
      {"VALUE_PROTOBUF_NULLABLE_REPRESENTATION", T::kString, S::kBoth, "",
       "PROTOBUF values: how a NULL is written, as KEY_PROTOBUF_NULLABLE_REPRESENTATION."},
      {"RETENTION_MS", T::kInteger, S::kBoth, "", "Retention of a created topic."},
      {"LATE_TOPIC", T::kString, S::kQuery, "",
       "Topic that receives records later than the grace period, with the reason and the "
       "window they missed. Declare it as a stream to query it."},
      {"DEAD_LETTER_TOPIC", T::kString, S::kBoth, "",
       "Topic that receives records that fail to decode, with the error."},
  };
  return kProperties;
}

const PropertyDefinition* FindSourceProperty(const std::string& name) {
  for (const PropertyDefinition& property : SourceProperties()) {
    if (name == property.name) return &property;
  }
  return nullptr;
}

std::string SourcePropertiesMarkdown() {
  std::string text = "| property | type | where | default | meaning |\n|---|---|---|---|---|\n";
  for (const PropertyDefinition& property : SourceProperties()) {
    const char* type = property.type == PropertyValueType::kString    ? "string"
                       : property.type == PropertyValueType::kInteger ? "integer"
                                                                      : "boolean";
    const char* scope = property.scope == PropertyScope::kDeclaration ? "CREATE"
                        : property.scope == PropertyScope::kQuery     ? "AS SELECT"
                                                                      : "both";
    text += std::string("| `") + property.name + "` | " + type + " | " + scope + " | " +
            property.default_value + " | " + property.doc + " |\n";
  }
  return text;
}

}  // namespace sidestream::analyzer
