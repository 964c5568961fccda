// Runs under tests/servers/with_apicurio.sh, which starts Apicurio Registry and sets
// SIDESTREAM_SCHEMA_REGISTRY_URL.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "connectors/formats/avro_format.h"
#include "connectors/formats/row_format.h"
#include "connectors/registry/schema_registry.h"

namespace sidestream {
namespace {

using formats::FormatColumn;
using formats::FormatOptions;
using types::Row;
using types::SqlType;
using types::Value;

std::string RegistryUrl() {
  const char* url = std::getenv("SIDESTREAM_SCHEMA_REGISTRY_URL");
  return url != nullptr ? url : "";
}

// Subjects unique to this run, so reruns against one registry do not collide.
std::string Topic(const std::string& name) {
  return name + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007);
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RegistryUrl().empty()) GTEST_SKIP() << "SIDESTREAM_SCHEMA_REGISTRY_URL is not set";
  }
  FormatOptions Options(const std::string& format, const std::string& topic) {
    FormatOptions options;
    options.format = format;
    options.schema_registry_url = RegistryUrl();
    options.topic = topic;
    return options;
  }
};

TEST_F(RegistryTest, ProtobufSchemaReferencesRoundTrip) {
  // A .proto that imports another registered under its own subject (Confluent's references).
  auto registry = registry::MakeHttpSchemaRegistry(RegistryUrl());
  const std::string topic = Topic("refs");
  const std::string event_subject = topic + "-event.proto";
  ASSERT_TRUE(registry
                  ->Register(event_subject, registry::SchemaType::kProtobuf,
                             "syntax = \"proto3\";\nmessage Event {\n  int64 ts = 1;\n}\n")
                  .ok());
  auto id = registry->Register(
      topic + "-value", registry::SchemaType::kProtobuf,
      "syntax = \"proto3\";\nimport \"event.proto\";\nmessage Logistics {\n  Event event = 1;\n}\n",
      {{"event.proto", event_subject, 1}});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  // A fresh client reads the references from the registry, not from its cache.
  auto fresh = registry::MakeHttpSchemaRegistry(RegistryUrl());
  auto schema = fresh->GetById(*id);
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  ASSERT_EQ(schema->references.size(), 1u);
  EXPECT_EQ(schema->references[0].subject, event_subject);
  auto referenced = registry::ReferencedSchemas(*fresh, *schema);
  ASSERT_TRUE(referenced.ok()) << referenced.status().ToString();
  ASSERT_EQ(referenced->size(), 1u);
  EXPECT_EQ((*referenced)[0].name, "event.proto");
  EXPECT_NE((*referenced)[0].schema.find("message Event"), std::string::npos);
  EXPECT_EQ(fresh->GetVersion(event_subject, 9).status().code(), StatusCode::kNotFound);
}

TEST_F(RegistryTest, RegisterGetByIdAndLatestWithACache) {
  auto registry = registry::MakeHttpSchemaRegistry(RegistryUrl());
  const std::string subject = Topic("client") + "-value";
  const std::string v1 = R"({"type":"record","name":"R","fields":[{"name":"A","type":"int"}]})";
  const std::string v2 = R"({"type":"record","name":"R","fields":[{"name":"A","type":"int"},)"
                         R"({"name":"B","type":["null","string"],"default":null}]})";
  auto id1 = registry->Register(subject, registry::SchemaType::kAvro, v1);
  ASSERT_TRUE(id1.ok()) << id1.status().ToString();
  auto id2 = registry->Register(subject, registry::SchemaType::kAvro, v2);
  ASSERT_TRUE(id2.ok()) << id2.status().ToString();
  EXPECT_NE(*id1, *id2);
  auto latest = registry->GetLatest(subject);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->id, *id2);
  EXPECT_EQ(latest->version, 2);

  // A fresh client: the first lookup by id asks the registry, the rest are cached.
  auto fresh = registry::MakeHttpSchemaRegistry(RegistryUrl());
  auto by_id = fresh->GetById(*id1);
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  EXPECT_EQ(nlohmann::json::parse(by_id->schema), nlohmann::json::parse(v1));
  const int64_t sent = fresh->requests_sent();
  EXPECT_EQ(sent, 1);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(fresh->GetById(*id1).ok());
  EXPECT_EQ(fresh->requests_sent(), sent);
  // Registering the same schema again under the same subject: cached too.
  const int64_t before = registry->requests_sent();
  EXPECT_EQ(*registry->Register(subject, registry::SchemaType::kAvro, v1), *id1);
  EXPECT_EQ(registry->requests_sent(), before);

  auto missing = fresh->GetById(987654321);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fresh->GetLatest(Topic("nothing")).status().code(), StatusCode::kNotFound);
}

TEST_F(RegistryTest, AvroRoundTripRegistersTheKsqlSchema) {
  const std::string topic = Topic("orders");
  std::vector<FormatColumn> columns = {
      {"ID", SqlType::Bigint()},
      {"AMOUNT", SqlType::Decimal(12, 2)},
      {"ITEMS", SqlType::Array(SqlType::String())},
      {"ADDRESS", SqlType::Struct({{"CITY", SqlType::String()}, {"ZIP", SqlType::Int()}})},
      {"TAGS", SqlType::Map(SqlType::String(), SqlType::Int())},
      {"AT", SqlType::Timestamp()}};
  Row row = {Value::Bigint(7),
             Value::DecimalValue(123456, 2),
             Value::Array({Value::String("a"), Value::Null()}),
             Value::Struct({Value::String("Oslo"), Value::Null()}),
             Value::Map({Value::String("k"), Value::Int(1)}),
             Value::Null()};
  auto encoder = formats::MakeEncoder(Options("AVRO", topic), columns);
  ASSERT_TRUE(encoder.ok()) << encoder.status().ToString();
  std::string bytes;
  Status encoded = (*encoder)->Encode(row, 0, bytes);
  ASSERT_TRUE(encoded.ok()) << encoded.ToString();

  auto registry = registry::MakeHttpSchemaRegistry(RegistryUrl());
  auto latest = registry->GetLatest(topic + "-value");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  auto message = registry::ParseWireHeader(bytes);
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->schema_id, latest->id);
  auto schema = nlohmann::json::parse(latest->schema);
  EXPECT_EQ(schema["name"], "KsqlDataSourceSchema");
  EXPECT_EQ(schema["fields"][1]["type"][1]["logicalType"], "decimal");

  auto decoder = formats::MakeDecoder(Options("AVRO", topic), columns);
  ASSERT_TRUE(decoder.ok());
  Row decoded(columns.size());
  Status status = (*decoder)->Decode(bytes, decoded, 0);
  ASSERT_TRUE(status.ok()) << status.ToString();
  for (size_t i = 0; i < row.size(); ++i) EXPECT_EQ(decoded[i], row[i]) << columns[i].name;
}

TEST_F(RegistryTest, ANewerCompatibleWriterSchemaDecodesIntoOldColumns) {
  const std::string topic = Topic("evolve");
  std::vector<FormatColumn> v1 = {{"ID", SqlType::Int()}, {"NAME", SqlType::String()}};
  std::vector<FormatColumn> v2 = {
      {"ID", SqlType::Bigint()}, {"NAME", SqlType::String()}, {"EMAIL", SqlType::String()}};
  auto old_encoder = formats::MakeEncoder(Options("AVRO", topic), v1);
  auto new_encoder = formats::MakeEncoder(Options("AVRO", topic), v2);
  std::string old_bytes, new_bytes;
  ASSERT_TRUE((*old_encoder)->Encode({Value::Int(1), Value::String("a")}, 0, old_bytes).ok());
  Status status =
      (*new_encoder)
          ->Encode({Value::Bigint(2), Value::String("b"), Value::String("e")}, 0, new_bytes);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_NE(registry::ParseWireHeader(old_bytes)->schema_id,
            registry::ParseWireHeader(new_bytes)->schema_id);
  auto reader = formats::MakeDecoder(Options("AVRO", topic), v1);
  Row row(2);
  ASSERT_TRUE((*reader)->Decode(old_bytes, row, 0).ok());
  EXPECT_EQ(row[0], Value::Int(1));
  status = (*reader)->Decode(new_bytes, row, 0);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(row[0], Value::Int(2));
  EXPECT_EQ(row[1], Value::String("b"));
}

TEST_F(RegistryTest, UnknownSchemaIdNamesTheId) {
  auto decoder = formats::MakeDecoder(Options("AVRO", Topic("unknown")), {{"A", SqlType::Int()}});
  std::string bytes;
  registry::AppendWireHeader(987654321, bytes);
  bytes += std::string("\x02\x02", 2);
  Row row(1);
  Status status = (*decoder)->Decode(bytes, row, 0);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("unknown schema id 987654321"), std::string::npos)
      << status.message();
}

TEST_F(RegistryTest, JsonSrRegistersAJsonSchema) {
  const std::string topic = Topic("jsonsr");
  std::vector<FormatColumn> columns = {{"A", SqlType::Int()}, {"B", SqlType::String()}};
  auto encoder = formats::MakeEncoder(Options("JSON_SR", topic), columns);
  std::string bytes;
  Status status = (*encoder)->Encode({Value::Int(3), Value::String("x")}, 0, bytes);
  ASSERT_TRUE(status.ok()) << status.ToString();
  auto latest = registry::MakeHttpSchemaRegistry(RegistryUrl())->GetLatest(topic + "-value");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->type, registry::SchemaType::kJson);
  EXPECT_EQ(registry::ParseWireHeader(bytes)->schema_id, latest->id);
  auto decoder = formats::MakeDecoder(Options("JSON_SR", topic), columns);
  Row row(2);
  ASSERT_TRUE((*decoder)->Decode(bytes, row, 0).ok());
  EXPECT_EQ(row[1], Value::String("x"));
}

}  // namespace
}  // namespace sidestream
