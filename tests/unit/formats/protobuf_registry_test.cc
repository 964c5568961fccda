// PROTOBUF on a schema registry: Confluent's wire format, writer schemas fetched by id and
// compiled from their .proto text, schema inference, and sinks with KEY_/VALUE_SCHEMA_ID.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "connectors/formats/protobuf_format.h"
#include "connectors/formats/row_format.h"
#include "connectors/registry/schema_registry.h"

namespace sidestream::formats {
namespace {

using types::Row;
using types::SqlType;
using types::TypeId;
using types::Value;

// Each test its own in-memory registry, so ids are predictable.
FormatOptions Registry(const std::string& name, std::optional<int32_t> schema_id = std::nullopt) {
  FormatOptions options;
  options.format = "PROTOBUF";
  options.schema_registry_url = "mock://" + name;
  options.topic = "calls";
  options.schema_id = schema_id;
  return options;
}

std::shared_ptr<registry::SchemaRegistry> Client(const std::string& name) {
  auto shared = registry::SharedSchemaRegistry("mock://" + name);
  EXPECT_TRUE(shared.ok()) << shared.status().ToString();
  return *shared;
}

int32_t RegisterProto(const std::string& registry, const std::string& subject,
                      const std::string& text) {
  auto id = Client(registry)->Register(subject, registry::SchemaType::kProtobuf, text);
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  return id.ok() ? *id : -1;
}

// A producer's schema: other field numbers and order than the columns, unsigned and float
// fields, an enum, a wrapper, a nested message, a map and a repeated field, as a second
// message of the file.
constexpr const char* kProducerSchema = R"(syntax = "proto3";
package telco;
import "google/protobuf/wrappers.proto";
import "google/protobuf/timestamp.proto";
message Other { string unused = 1; }
message Call {
  enum Kind { VOICE = 0; SMS = 1; }
  message Cell { string id = 1; float load = 2; }
  uint32 duration = 7;
  Kind kind = 3;
  google.protobuf.StringValue caller = 1;
  Cell cell = 2;
  map<string, int64> counters = 4;
  repeated sint32 hops = 5;
  google.protobuf.Timestamp start = 6;
  string extra = 8;
})";

std::vector<FormatColumn> CallColumns() {
  return {{"CALLER", SqlType::String()},
          {"DURATION", SqlType::Bigint()},
          {"KIND", SqlType::String()},
          {"CELL", SqlType::Struct({{"ID", SqlType::String()}, {"LOAD", SqlType::Double()}})},
          {"COUNTERS", SqlType::Map(SqlType::String(), SqlType::Bigint())},
          {"HOPS", SqlType::Array(SqlType::Int())},
          {"START", SqlType::Timestamp()},
          {"MISSING", SqlType::String()}};
}

TEST(ProtobufRegistryTest, RoundTripRegistersTheColumnsSchema) {
  const std::vector<FormatColumn> columns = {{"ID", SqlType::Bigint()},
                                             {"NAME", SqlType::String()}};
  auto encoder = MakeEncoder(Registry("pb-roundtrip"), columns);
  auto decoder = MakeDecoder(Registry("pb-roundtrip"), columns);
  ASSERT_TRUE(encoder.ok()) << encoder.status().ToString();
  ASSERT_TRUE(decoder.ok()) << decoder.status().ToString();
  Row row = {Value::Bigint(42), Value::String("alice")};
  std::string bytes;
  ASSERT_TRUE((*encoder)->Encode(row, 0, bytes).ok());
  // Magic byte, id 1 (the first registered), message indexes [0] as the single byte 0.
  ASSERT_GE(bytes.size(), 6u);
  EXPECT_EQ(bytes.substr(0, 6), std::string("\0\0\0\0\1\0", 6));
  auto latest = Client("pb-roundtrip")->GetLatest("calls-value");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->type, registry::SchemaType::kProtobuf);
  EXPECT_NE(latest->schema.find("ConnectDefault1"), std::string::npos) << latest->schema;
  Row back(2);
  ASSERT_TRUE((*decoder)->Decode(bytes, back, 0).ok());
  EXPECT_EQ(back[0].integer(), 42);
  EXPECT_EQ(back[1].string(), "alice");
}

TEST(ProtobufRegistryTest, DecodesAProducersSchemaByFieldName) {
  const int32_t id = RegisterProto("pb-producer", "calls-value", kProducerSchema);
  auto bytes = ProtobufMessageFromJson(kProducerSchema, "telco.Call", id, R"({
      "caller": "alice", "duration": 4000000000, "kind": "SMS",
      "cell": {"id": "c7", "load": 0.5}, "counters": {"up": 3},
      "hops": [1, -2], "start": "1970-01-01T00:00:01.500Z", "extra": "x"})");
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  // The second message of the file: indexes [1], a count of 1 then 1, zig-zag encoded.
  EXPECT_EQ(bytes->substr(5, 2), std::string("\2\2", 2));
  auto decoder = MakeDecoder(Registry("pb-producer"), CallColumns());
  ASSERT_TRUE(decoder.ok()) << decoder.status().ToString();
  Row row(CallColumns().size());
  Status status = (*decoder)->Decode(*bytes, row, 0);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(row[0].string(), "alice");
  EXPECT_EQ(row[1].integer(), 4000000000);
  EXPECT_EQ(row[2].string(), "SMS");
  ASSERT_EQ(row[3].children().size(), 2u);
  EXPECT_EQ(row[3].children()[0].string(), "c7");
  EXPECT_DOUBLE_EQ(row[3].children()[1].float64(), 0.5);
  ASSERT_EQ(row[4].children().size(), 2u);
  EXPECT_EQ(row[4].children()[0].string(), "up");
  EXPECT_EQ(row[4].children()[1].integer(), 3);
  ASSERT_EQ(row[5].children().size(), 2u);
  EXPECT_EQ(row[5].children()[1].integer(), -2);
  EXPECT_EQ(row[6].integer(), 1500);
  EXPECT_TRUE(row[7].is_null());
}

TEST(ProtobufRegistryTest, MalformedRecordsAreErrorsNamingWhat) {
  const std::vector<FormatColumn> columns = {{"ID", SqlType::Bigint()}};
  const int32_t id = RegisterProto("pb-malformed", "calls-value",
                                   "syntax = \"proto3\"; message M { int64 id = 1; }");
  auto decoder = MakeDecoder(Registry("pb-malformed"), columns);
  ASSERT_TRUE(decoder.ok());
  auto good = ProtobufMessageFromJson("syntax = \"proto3\"; message M { int64 id = 1; }", "", id,
                                      R"({"id": 300})");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  auto expect_error = [&](const std::string& bytes, const std::string& words) {
    Row row(1);
    Status status = (*decoder)->Decode(bytes, row, 0);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
    EXPECT_NE(status.message().find(words), std::string::npos) << status.message();
  };
  std::string unknown_id = *good;
  unknown_id[4] = 99;
  expect_error(unknown_id, "schema id 99");
  expect_error(unknown_id, "schema id 99");  // remembered, still an error
  std::string wrong_magic = *good;
  wrong_magic[0] = 1;
  expect_error(wrong_magic, "magic byte");
  expect_error(good->substr(0, 3), "header");
  expect_error(good->substr(0, good->size() - 1), "truncated or malformed");
  std::string bad_index = good->substr(0, 5) + std::string("\2\10", 2) + good->substr(6);
  expect_error(bad_index, "message index 4");
  Row row(1);
  ASSERT_TRUE((*decoder)->Decode(*good, row, 0).ok());
  EXPECT_EQ(row[0].integer(), 300);
}

TEST(ProtobufRegistryTest, AFieldOfAnotherTypeIsAnError) {
  const int32_t id = RegisterProto("pb-mismatch", "calls-value",
                                   "syntax = \"proto3\"; message M { string id = 1; }");
  auto decoder = MakeDecoder(Registry("pb-mismatch"), {{"ID", SqlType::Bigint()}});
  ASSERT_TRUE(decoder.ok());
  auto bytes = ProtobufMessageFromJson("syntax = \"proto3\"; message M { string id = 1; }", "", id,
                                       R"({"id": "x"})");
  ASSERT_TRUE(bytes.ok());
  Row row(1);
  Status status = (*decoder)->Decode(*bytes, row, 0);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("column ID is BIGINT"), std::string::npos) << status.message();
}

TEST(ProtobufRegistryTest, InfersColumnsFromTheSchemaText) {
  auto columns = ColumnsOfProtobufSchema(kProducerSchema, "telco.Call");
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  std::vector<std::string> described;
  for (const auto& column : *columns)
    described.push_back(column.name + " " + column.type.ToString());
  EXPECT_EQ(described,
            (std::vector<std::string>{"DURATION BIGINT", "KIND STRING", "CALLER STRING",
                                      "CELL STRUCT<`ID` STRING, `LOAD` DOUBLE>",
                                      "COUNTERS MAP<STRING, BIGINT>", "HOPS ARRAY<INTEGER>",
                                      "START TIMESTAMP", "EXTRA STRING"}));
  auto first = ColumnsOfProtobufSchema(kProducerSchema, "");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].name, "UNUSED");
  EXPECT_EQ(ColumnsOfProtobufSchema(kProducerSchema, "Nope").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ColumnsOfProtobufSchema("syntax = \"proto3\"; message {", "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ColumnsOfProtobufSchema("syntax = \"proto3\"; import \"other.proto\"; message M {}", "")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(ColumnsOfProtobufSchema("syntax = \"proto3\"; message M { M self = 1; }", "").ok());
}

TEST(ProtobufRegistryTest, ReadsAndInfersASchemaThatImportsItsReferences) {
  // Confluent's schema references: the producer's schema imports event.proto, registered
  // under its own subject.
  auto client = Client("pb-references");
  const std::string event = "syntax = \"proto3\"; package ev; message Event { int64 ts = 1; }";
  const std::string logistics =
      "syntax = \"proto3\"; import \"event.proto\"; message Logistics { ev.Event event = 1; "
      "string id = 2; }";
  ASSERT_TRUE(client->Register("event.proto", registry::SchemaType::kProtobuf, event).ok());
  auto id = client->Register("calls-value", registry::SchemaType::kProtobuf, logistics,
                             {{"event.proto", "event.proto", 1}});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto referenced = registry::ReferencedSchemas(*client, *client->GetById(*id));
  ASSERT_TRUE(referenced.ok()) << referenced.status().ToString();

  auto columns = ColumnsOfProtobufSchema(logistics, "", true, *referenced);
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  ASSERT_EQ(columns->size(), 2u);
  EXPECT_EQ((*columns)[0].name, "EVENT");
  EXPECT_EQ((*columns)[0].type.ToString(), "STRUCT<`TS` BIGINT>");
  // Without the references the import names what is missing.
  auto unresolved = ColumnsOfProtobufSchema(logistics, "");
  ASSERT_FALSE(unresolved.ok());
  EXPECT_NE(unresolved.status().message().find("event.proto"), std::string::npos);

  auto bytes =
      ProtobufMessageFromJson(logistics, "", *id, R"({"event":{"ts":"7"},"id":"x1"})", *referenced);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto decoder = MakeDecoder(Registry("pb-references"), *columns);
  ASSERT_TRUE(decoder.ok()) << decoder.status().ToString();
  Row row(2);
  ASSERT_TRUE((*decoder)->Decode(*bytes, row, 0).ok());
  EXPECT_EQ(row[0].DebugString(), "{7}");  // STRUCT<TS BIGINT>
  EXPECT_EQ(row[1].string(), "x1");
}

TEST(ProtobufRegistryTest, InfersADecimalFromConfluentFieldMeta) {
  // Confluent's schemas give a Decimal's precision and scale in (confluent.field_meta), often
  // without importing confluent/meta.proto.
  const std::string text =
      "syntax = \"proto3\"; import \"confluent/type/decimal.proto\"; message M { "
      "confluent.type.Decimal d = 1 [(confluent.field_meta) = { params: [{ value: \"4\", key: "
      "\"precision\" }, { value: \"2\", key: \"scale\" }]}]; }";
  auto columns = ColumnsOfProtobufSchema(text, "");
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  ASSERT_EQ(columns->size(), 1u);
  EXPECT_EQ((*columns)[0].type, SqlType::Decimal(4, 2));
  // Without the precision there is nothing to infer.
  EXPECT_EQ(ColumnsOfProtobufSchema("syntax = \"proto3\"; import \"confluent/type/decimal.proto\"; "
                                    "message M { confluent.type.Decimal d = 1; }",
                                    "")
                .status()
                .code(),
            StatusCode::kNotSupported);
}

TEST(ProtobufRegistryTest, SinkWritesWithTheSchemaIdItNames) {
  const std::string text =
      "syntax = \"proto3\"; message Key { int32 id = 1; } "
      "message Value { int32 c1 = 1; string c2 = 2; }";
  const int32_t id = RegisterProto("pb-sink", "other-value", text);
  FormatOptions options = Registry("pb-sink", id);
  options.full_schema_name = "Value";
  const std::vector<FormatColumn> columns = {{"C1", SqlType::Int()}};
  auto encoder = MakeEncoder(options, columns);
  ASSERT_TRUE(encoder.ok()) << encoder.status().ToString();
  std::string bytes;
  ASSERT_TRUE((*encoder)->Encode(Row{Value::Int(4)}, 0, bytes).ok());
  EXPECT_EQ(bytes.substr(0, 7), std::string("\0\0\0\0", 4) + static_cast<char>(id) + "\2\2");
  // Nothing new was registered: the sink writes with the schema it was given.
  EXPECT_FALSE(Client("pb-sink")->GetLatest("calls-value").ok());
  auto json = ProtobufWireToJson("mock://pb-sink", bytes, {});
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(*json, R"({"c1":4,"c2":""})");
}

TEST(ProtobufRegistryTest, TestValuesFillTheNamedMessageCaseInsensitively) {
  // As ksqlDB's runner writes a case's input: the message KEY_/VALUE_SCHEMA_FULL_NAME names,
  // fields matched in any case, a number into a confluent.type.Decimal.
  const std::string text =
      "syntax = \"proto3\"; import \"confluent/type/decimal.proto\"; "
      "message A { int32 K0 = 1; } message B { int32 K1 = 1; "
      "confluent.type.Decimal D = 2 [(confluent.field_meta) = { params: [{ key: \"precision\", "
      "value: \"4\" }, { key: \"scale\", value: \"2\" }]}]; }";
  const int32_t id = RegisterProto("pb-test-values", "in-value", text);
  auto bytes = ProtobufMessageFromJson(text, "B", id, R"({"k1":42,"d":10.01})");
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  FormatOptions options = Registry("pb-test-values", id);
  options.full_schema_name = "B";
  auto decoder = MakeDecoder(options, {{"K1", SqlType::Int()}, {"D", SqlType::Decimal(4, 2)}});
  ASSERT_TRUE(decoder.ok()) << decoder.status().ToString();
  Row row(2);
  Status status = (*decoder)->Decode(*bytes, row, 0);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(row[0], Value::Int(42));
  EXPECT_EQ(row[1], Value::DecimalValue(1001, 2));
}

TEST(ProtobufRegistryTest, SinkRefusesASchemaThatCannotHoldItsColumns) {
  const int32_t id =
      RegisterProto("pb-refuse", "other-value", "syntax = \"proto3\"; message V { int32 c1 = 1; }");
  auto wrong_type = MakeEncoder(Registry("pb-refuse", id), {{"C1", SqlType::String()}});
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_type.status().message().find("column C1 is STRING"), std::string::npos)
      << wrong_type.status().message();
  auto missing =
      MakeEncoder(Registry("pb-refuse", id), {{"C1", SqlType::Int()}, {"C2", SqlType::String()}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("column C2 has no field"), std::string::npos)
      << missing.status().message();
  auto unknown = MakeEncoder(Registry("pb-refuse", 77), {{"C1", SqlType::Int()}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("id 77"), std::string::npos)
      << unknown.status().message();
  const int32_t avro =
      Client("pb-refuse")->Register("a-value", registry::SchemaType::kAvro, "\"string\"").value();
  EXPECT_FALSE(MakeEncoder(Registry("pb-refuse", avro), {{"C1", SqlType::Int()}}).ok());
}

}  // namespace
}  // namespace sidestream::formats
