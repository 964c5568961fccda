#include "connectors/formats/avro_format.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "connectors/formats/json_sr_format.h"
#include "connectors/registry/schema_registry.h"

namespace sidestream::formats {
namespace {

using nlohmann::json;
using types::Row;
using types::SqlType;
using types::Value;

// Each test its own in-memory registry, so ids are predictable.
FormatOptions Avro(const std::string& registry, bool is_key = false) {
  FormatOptions options;
  options.format = "AVRO";
  options.schema_registry_url = "mock://" + registry;
  options.topic = "orders";
  options.is_key = is_key;
  return options;
}

std::shared_ptr<registry::SchemaRegistry> Registry(const std::string& name) {
  auto shared = registry::SharedSchemaRegistry("mock://" + name);
  EXPECT_TRUE(shared.ok()) << shared.status().ToString();
  return *shared;
}

std::vector<FormatColumn> AllTypes() {
  return {
      {"B", SqlType::Boolean()},
      {"I", SqlType::Int()},
      {"L", SqlType::Bigint()},
      {"D", SqlType::Double()},
      {"DEC", SqlType::Decimal(10, 2)},
      {"S", SqlType::String()},
      {"BY", SqlType::Bytes()},
      {"TS", SqlType::Timestamp()},
      {"DT", SqlType::Date()},
      {"TM", SqlType::Time()},
      {"ARR", SqlType::Array(SqlType::Int())},
      {"M", SqlType::Map(SqlType::String(), SqlType::Double())},
      {"ST", SqlType::Struct({{"NAME", SqlType::String()},
                              {"INNER", SqlType::Struct({{"X", SqlType::Bigint()}})}})},
  };
}

Row AllValues() {
  return {
      Value::Boolean(true),
      Value::Int(-7),
      Value::Bigint(1LL << 40),
      Value::Double(2.5),
      Value::DecimalValue(-12345, 2),
      Value::String("héllo"),
      Value::Bytes(std::string("\x00\xff\x10", 3)),
      Value::Timestamp(1700000000123),
      Value::Date(19000),
      Value::Time(3600000),
      Value::Array({Value::Int(1), Value::Null(), Value::Int(3)}),
      Value::Map({Value::String("a"), Value::Double(1.5), Value::String("b"), Value::Null()}),
      Value::Struct({Value::String("n"), Value::Struct({Value::Bigint(9)})}),
  };
}

TEST(AvroSchemaTest, MapsSqlTypesAsKsqlDbDoes) {
  auto text = AvroSchemaOf(Avro("schema"), AllTypes());
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  json schema = json::parse(*text);
  EXPECT_EQ(schema["type"], "record");
  EXPECT_EQ(schema["name"], "KsqlDataSourceSchema");
  EXPECT_EQ(schema["namespace"], "io.confluent.ksql.avro_schemas");
  const json& fields = schema["fields"];
  ASSERT_EQ(fields.size(), 13u);
  auto type_of = [&](size_t i) { return fields[i]["type"]; };
  for (const auto& field : fields) {
    EXPECT_EQ(field["type"][0], "null") << field.dump();
    EXPECT_TRUE(field["default"].is_null());
  }
  EXPECT_EQ(type_of(0)[1], "boolean");
  EXPECT_EQ(type_of(1)[1], "int");
  EXPECT_EQ(type_of(2)[1], "long");
  EXPECT_EQ(type_of(3)[1], "double");
  EXPECT_EQ(type_of(4)[1],
            (json{{"type", "bytes"}, {"logicalType", "decimal"}, {"precision", 10}, {"scale", 2}}));
  EXPECT_EQ(type_of(5)[1], "string");
  EXPECT_EQ(type_of(6)[1], "bytes");
  EXPECT_EQ(type_of(7)[1], (json{{"type", "long"}, {"logicalType", "timestamp-millis"}}));
  EXPECT_EQ(type_of(8)[1], (json{{"type", "int"}, {"logicalType", "date"}}));
  EXPECT_EQ(type_of(9)[1], (json{{"type", "int"}, {"logicalType", "time-millis"}}));
  EXPECT_EQ(type_of(10)[1]["type"], "array");
  EXPECT_EQ(type_of(10)[1]["items"], json::array({"null", "int"}));
  EXPECT_EQ(type_of(11)[1]["type"], "map");
  EXPECT_EQ(type_of(11)[1]["values"], json::array({"null", "double"}));
  EXPECT_EQ(type_of(12)[1]["type"], "record");
  EXPECT_EQ(type_of(12)[1]["name"], "KsqlDataSourceSchema_ST");
  EXPECT_EQ(type_of(12)[1]["fields"][1]["type"][1]["name"], "KsqlDataSourceSchema_ST_INNER");
}

TEST(AvroSchemaTest, FullSchemaNameAndUnwrappedKeys) {
  FormatOptions options = Avro("schema-name");
  options.full_schema_name = "com.example.Order";
  json schema = json::parse(*AvroSchemaOf(options, {{"A", SqlType::Int()}}));
  EXPECT_EQ(schema["name"], "Order");
  EXPECT_EQ(schema["namespace"], "com.example");
  // A key of one column is its bare (nullable) type.
  auto key = AvroSchemaOf(Avro("schema-name", true), {{"K", SqlType::String()}});
  EXPECT_EQ(json::parse(*key), json::array({"null", "string"}));
}

TEST(AvroSchemaTest, MapKeysMustBeStrings) {
  auto schema =
      AvroSchemaOf(Avro("schema-map"), {{"M", SqlType::Map(SqlType::Int(), SqlType::Int())}});
  ASSERT_FALSE(schema.ok());
  EXPECT_NE(schema.status().message().find("column M"), std::string::npos);
}

TEST(AvroSchemaTest, ColumnsOfASchema) {
  auto text = AvroSchemaOf(Avro("infer"), AllTypes());
  auto columns = ColumnsOfAvroSchema(*text, "ROWVAL");
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  auto expected = AllTypes();
  ASSERT_EQ(columns->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*columns)[i].name, expected[i].name);
    EXPECT_EQ((*columns)[i].type, expected[i].type) << (*columns)[i].type.ToString();
  }
  auto single = ColumnsOfAvroSchema(R"(["null","long"])", "ROWKEY");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ((*single)[0].name, "ROWKEY");
  EXPECT_EQ((*single)[0].type, SqlType::Bigint());
  auto bad = ColumnsOfAvroSchema(R"({"type":"record","name":"R","fields":[{"name":"U",
      "type":["int","string"]}]})",
                                 "X");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("U"), std::string::npos);
}

TEST(AvroFormatTest, RoundTripsEveryTypeWithTheWireHeader) {
  auto encoder = MakeEncoder(Avro("roundtrip"), AllTypes());
  ASSERT_TRUE(encoder.ok()) << encoder.status().ToString();
  std::string bytes;
  ASSERT_TRUE((*encoder)->Encode(AllValues(), 0, bytes).ok());
  auto message = registry::ParseWireHeader(bytes);
  ASSERT_TRUE(message.ok());
  auto latest = Registry("roundtrip")->GetLatest("orders-value");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(message->schema_id, latest->id);

  auto decoder = MakeDecoder(Avro("roundtrip"), AllTypes());
  ASSERT_TRUE(decoder.ok()) << decoder.status().ToString();
  Row row(AllTypes().size());
  Status status = (*decoder)->Decode(bytes, row, 0);
  ASSERT_TRUE(status.ok()) << status.ToString();
  Row expected = AllValues();
  for (size_t i = 0; i < row.size(); ++i) {
    EXPECT_EQ(row[i], expected[i]) << AllTypes()[i].name << ": " << row[i].DebugString();
  }
  EXPECT_EQ(row[4].decimal().scale, 2);
}

TEST(AvroFormatTest, NullsInEveryColumn) {
  auto encoder = MakeEncoder(Avro("nulls"), AllTypes());
  ASSERT_TRUE(encoder.ok());
  std::string bytes;
  ASSERT_TRUE((*encoder)->Encode(Row(AllTypes().size()), 0, bytes).ok());
  // One union branch byte (null) per field after the header.
  EXPECT_EQ(bytes.size(), registry::kWireHeaderBytes + AllTypes().size());
  auto decoder = MakeDecoder(Avro("nulls"), AllTypes());
  Row row = AllValues();
  ASSERT_TRUE((*decoder)->Decode(bytes, row, 0).ok());
  for (const auto& value : row) EXPECT_TRUE(value.is_null()) << value.DebugString();
}

TEST(AvroFormatTest, UnwrappedKeyAndOffsetColumns) {
  auto encoder = MakeEncoder(Avro("key", true), {{"K", SqlType::Bigint()}});
  ASSERT_TRUE(encoder.ok());
  std::string bytes;
  Row row = {Value::String("ignored"), Value::Bigint(42)};
  ASSERT_TRUE((*encoder)->Encode(row, 1, bytes).ok());
  auto latest = Registry("key")->GetLatest("orders-key");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->schema, R"(["null","long"])");
  auto decoder = MakeDecoder(Avro("key", true), {{"K", SqlType::Bigint()}});
  Row decoded(2);
  ASSERT_TRUE((*decoder)->Decode(bytes, decoded, 1).ok());
  EXPECT_EQ(decoded[1], Value::Bigint(42));
}

TEST(AvroFormatTest, ResolvesANewerWriterSchemaByName) {
  // The writer added a field, reordered the rest, used int for a BIGINT column, a lower-case
  // name and a decimal of another scale; the reader's column Z is absent.
  auto registry = Registry("evolution");
  const std::string writer = R"({"type":"record","name":"W","fields":[
      {"name":"EXTRA","type":"string"},
      {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":3}},
      {"name":"ID","type":["null","int"]}]})";
  auto id = registry->Register("orders-value", registry::SchemaType::kAvro, writer);
  ASSERT_TRUE(id.ok());
  // EXTRA="x", amount=12.345 (12345 = 0x3039), ID=branch 1, int 5 (zigzag 10).
  std::string bytes;
  registry::AppendWireHeader(*id, bytes);
  bytes += std::string("\x02x", 2);
  bytes += std::string("\x04\x30\x39", 3);
  bytes += std::string("\x02\x0a", 2);
  std::vector<FormatColumn> columns = {
      {"ID", SqlType::Bigint()}, {"AMOUNT", SqlType::Decimal(10, 2)}, {"Z", SqlType::String()}};
  auto decoder = MakeDecoder(Avro("evolution"), columns);
  ASSERT_TRUE(decoder.ok());
  Row row(3, Value::String("stale"));
  Status status = (*decoder)->Decode(bytes, row, 0);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(row[0], Value::Bigint(5));
  EXPECT_EQ(row[1], Value::DecimalValue(1235, 2));  // 12.345 rounded half up to 12.35
  EXPECT_TRUE(row[2].is_null());
}

TEST(AvroFormatTest, DecimalsOfDifferentScalesKeepTheirOwnScale) {
  // avro-c shares one node for every "bytes": each decimal's scale must come from its field.
  std::vector<FormatColumn> columns = {{"A", SqlType::Decimal(4, 2)},
                                       {"B", SqlType::Decimal(5, 3)},
                                       {"L", SqlType::Array(SqlType::Decimal(17, 0))}};
  auto encoder = MakeEncoder(Avro("scales"), columns);
  std::string bytes;
  Row row = {Value::DecimalValue(1001, 2), Value::DecimalValue(10012, 3),
             Value::Array({Value::DecimalValue(12345678987654321, 0)})};
  ASSERT_TRUE((*encoder)->Encode(row, 0, bytes).ok());
  auto decoder = MakeDecoder(Avro("scales"), columns);
  Row decoded(3);
  ASSERT_TRUE((*decoder)->Decode(bytes, decoded, 0).ok());
  EXPECT_EQ(decoded[0], Value::DecimalValue(1001, 2)) << decoded[0].DebugString();
  EXPECT_EQ(decoded[1], Value::DecimalValue(10012, 3)) << decoded[1].DebugString();
  EXPECT_EQ(decoded[2], row[2]) << decoded[2].DebugString();
}

TEST(AvroFormatTest, WrongTypesNameTheColumn) {
  auto registry = Registry("mismatch");
  auto id =
      registry->Register("orders-value", registry::SchemaType::kAvro,
                         R"({"type":"record","name":"W","fields":[{"name":"A","type":"string"}]})");
  std::string bytes;
  registry::AppendWireHeader(*id, bytes);
  bytes += std::string("\x02x", 2);
  auto decoder = MakeDecoder(Avro("mismatch"), {{"A", SqlType::Int()}});
  Row row(1);
  Status status = (*decoder)->Decode(bytes, row, 0);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("column A"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("string"), std::string::npos) << status.message();
}

TEST(AvroFormatTest, HostileMessagesGiveClearErrors) {
  std::vector<FormatColumn> columns = {{"A", SqlType::String()}, {"B", SqlType::Int()}};
  auto encoder = MakeEncoder(Avro("hostile"), columns);
  std::string good;
  ASSERT_TRUE((*encoder)->Encode({Value::String("abcdef"), Value::Int(3)}, 0, good).ok());
  auto decoder = MakeDecoder(Avro("hostile"), columns);
  Row row(2);
  auto error_of = [&](const std::string& bytes) {
    Status status = (*decoder)->Decode(bytes, row, 0);
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    return status.message();
  };
  EXPECT_NE(error_of(std::string("\x00\x00", 2)).find("shorter than the 5-byte"),
            std::string::npos);
  EXPECT_NE(error_of("{\"A\":1}").find("magic byte 123"), std::string::npos);
  std::string unknown;
  registry::AppendWireHeader(999, unknown);
  unknown += std::string("\x00\x00", 2);
  EXPECT_NE(error_of(unknown).find("unknown schema id 999"), std::string::npos);
  // A body cut short inside column A's string.
  EXPECT_NE(error_of(good.substr(0, good.size() - 4)).find("column A"), std::string::npos);
  // A length prefix of 2^62 bytes for A's string: refused, not allocated.
  std::string huge = good.substr(0, registry::kWireHeaderBytes);
  huge += std::string("\x02\xfe\xff\xff\xff\xff\xff\xff\xff\x7f", 10);
  EXPECT_NE(error_of(huge).find("column A"), std::string::npos);
  // Negative length.
  std::string negative = good.substr(0, registry::kWireHeaderBytes) + std::string("\x02\x01", 2);
  EXPECT_NE(error_of(negative).find("column A"), std::string::npos);
  // A union branch that does not exist.
  std::string branch = good.substr(0, registry::kWireHeaderBytes) + std::string("\x08", 1);
  EXPECT_NE(error_of(branch).find("column A"), std::string::npos);
  // Not UTF-8.
  std::string latin1 =
      good.substr(0, registry::kWireHeaderBytes) + std::string("\x02\x02\xe9\x02\x06", 5);
  EXPECT_NE(error_of(latin1).find("column A"), std::string::npos);
}

TEST(AvroFormatTest, RandomBodiesNeverCrash) {
  auto encoder = MakeEncoder(Avro("fuzz"), AllTypes());
  std::string good;
  ASSERT_TRUE((*encoder)->Encode(AllValues(), 0, good).ok());
  auto decoder = MakeDecoder(Avro("fuzz"), AllTypes());
  std::mt19937 random(7);
  Row row(AllTypes().size());
  int failures = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(random() % 4);
    for (int f = 0; f < flips; ++f) {
      size_t at =
          registry::kWireHeaderBytes + random() % (bytes.size() - registry::kWireHeaderBytes);
      bytes[at] = static_cast<char>(random());
    }
    bytes.resize(registry::kWireHeaderBytes +
                 random() % (bytes.size() - registry::kWireHeaderBytes + 1));
    if (!(*decoder)->Decode(bytes, row, 0).ok()) ++failures;
  }
  EXPECT_GT(failures, 0);
  // The decoder still works after all that.
  ASSERT_TRUE((*decoder)->Decode(good, row, 0).ok());
  EXPECT_EQ(row[5], Value::String("héllo"));
}

TEST(AvroFormatTest, ProjectedColumnsAreSkipped) {
  auto columns = AllTypes();
  auto encoder = MakeEncoder(Avro("projection"), columns);
  std::string bytes;
  ASSERT_TRUE((*encoder)->Encode(AllValues(), 0, bytes).ok());
  for (auto& column : columns) column.skip = column.name != "S";
  auto decoder = MakeDecoder(Avro("projection"), columns);
  Row row(columns.size(), Value::Int(1));
  ASSERT_TRUE((*decoder)->Decode(bytes, row, 0).ok());
  EXPECT_EQ(row[5], Value::String("héllo"));
  EXPECT_EQ(row[0], Value::Int(1));  // untouched
}

TEST(AvroFormatTest, WithoutARegistryAvroIsJson) {
  FormatOptions options;
  options.format = "AVRO";
  auto encoder = MakeEncoder(options, {{"A", SqlType::Int()}});
  ASSERT_TRUE(encoder.ok());
  std::string bytes;
  ASSERT_TRUE((*encoder)->Encode({Value::Int(1)}, 0, bytes).ok());
  EXPECT_EQ(bytes, R"({"A":1})");
}

TEST(JsonSrFormatTest, RoundTripWithHeaderAndJsonSchema) {
  FormatOptions options = Avro("jsonsr");
  options.format = "JSON_SR";
  std::vector<FormatColumn> columns = {{"A", SqlType::Int()}, {"S", SqlType::String()}};
  auto encoder = MakeEncoder(options, columns);
  ASSERT_TRUE(encoder.ok()) << encoder.status().ToString();
  std::string bytes;
  ASSERT_TRUE((*encoder)->Encode({Value::Int(4), Value::String("x")}, 0, bytes).ok());
  auto message = registry::ParseWireHeader(bytes);
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->payload, R"({"A":4,"S":"x"})");
  auto latest = Registry("jsonsr")->GetLatest("orders-value");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->type, registry::SchemaType::kJson);
  json schema = json::parse(latest->schema);
  EXPECT_EQ(schema["type"], "object");
  EXPECT_EQ(schema["$schema"], "http://json-schema.org/draft-07/schema#");
  EXPECT_EQ(schema["properties"]["A"]["oneOf"][1]["connect.type"], "int32");
  auto decoder = MakeDecoder(options, columns);
  Row row(2);
  ASSERT_TRUE((*decoder)->Decode(bytes, row, 0).ok());
  EXPECT_EQ(row[0], Value::Int(4));
  Status bare = (*decoder)->Decode(R"({"A":4})", row, 0);
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.message().find("JSON_SR: unknown magic byte"), std::string::npos);
}

TEST(AvroSchemaTest, InferenceUpperCasesNamesAndUnwrapsWholeSchemas) {
  // ksqlDB: names upper-cased when no schema id names the schema (nested ones too); a key, or a
  // value with WRAP_SINGLE_VALUE=false, is the whole schema as one column.
  const std::string schema = R"({"type":"record","name":"R","fields":[
      {"name":"c1","type":{"type":"record","name":"S","fields":[{"name":"f1","type":"int"}]}}]})";
  auto upper = ColumnsOfAvroSchema(schema, "ROWVAL", /*whole_schema=*/false, /*upper_case=*/true);
  ASSERT_TRUE(upper.ok()) << upper.status().ToString();
  ASSERT_EQ(upper->size(), 1u);
  EXPECT_EQ((*upper)[0].name, "C1");
  EXPECT_EQ((*upper)[0].type, SqlType::Struct({{"F1", SqlType::Int()}}));
  auto original = ColumnsOfAvroSchema(schema, "ROWVAL", false, false);
  ASSERT_TRUE(original.ok());
  EXPECT_EQ((*original)[0].name, "c1");
  auto whole = ColumnsOfAvroSchema(schema, "ROWKEY", /*whole_schema=*/true, true);
  ASSERT_TRUE(whole.ok());
  ASSERT_EQ(whole->size(), 1u);
  EXPECT_EQ((*whole)[0].name, "ROWKEY");
  EXPECT_EQ((*whole)[0].type, SqlType::Struct({{"C1", SqlType::Struct({{"F1", SqlType::Int()}})}}));
}

TEST(JsonSchemaTest, ColumnsOfAJsonSchema) {
  // Kafka Connect's reading: integer is BIGINT unless connect.type narrows it, oneOf [null, T]
  // is T, properties in connect.index order.
  auto columns = ColumnsOfJsonSchema(R"({"type":"object","properties":{
      "b":{"type":"string","connect.index":1},
      "a":{"oneOf":[{"type":"null"},{"type":"integer","connect.type":"int32"}],"connect.index":0},
      "c":{"type":"integer","connect.index":2},
      "m":{"type":"object","additionalProperties":{"type":"number"},"connect.index":3}}})",
                                     "ROWVAL", false, true);
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  ASSERT_EQ(columns->size(), 4u);
  EXPECT_EQ((*columns)[0].name, "A");
  EXPECT_EQ((*columns)[0].type, SqlType::Int());
  EXPECT_EQ((*columns)[1].name, "B");
  EXPECT_EQ((*columns)[1].type, SqlType::String());
  EXPECT_EQ((*columns)[2].type, SqlType::Bigint());
  EXPECT_EQ((*columns)[3].type, SqlType::Map(SqlType::String(), SqlType::Double()));
  auto key = ColumnsOfJsonSchema(R"({"oneOf":[{"type":"null"},{"type":"integer"}]})", "ROWKEY",
                                 true, true);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ((*key)[0].name, "ROWKEY");
  EXPECT_EQ((*key)[0].type, SqlType::Bigint());
  EXPECT_FALSE(
      ColumnsOfJsonSchema(R"({"oneOf":[{"type":"string"},{"type":"integer"}]})", "X", true, true)
          .ok());
}

TEST(AvroFormatTest, WritesWithTheRegisteredSchemaASchemaIdNames) {
  // VALUE_SCHEMA_ID: the registered schema is written, its fields filled by name; a field the
  // row lacks (or holds NULL for) takes its default, else NULL; no new schema is registered.
  auto registry = Registry("schema-id");
  auto id = registry->Register("other-value", registry::SchemaType::kAvro,
                               R"({"type":"record","name":"W","fields":[
      {"name":"c1","type":"int"},
      {"name":"c2","type":"int","default":100},
      {"name":"c3","type":["null","string"],"default":null}]})");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  FormatOptions options = Avro("schema-id");
  options.schema_id = *id;
  auto encoder = MakeEncoder(options, {{"c1", SqlType::Int()}});
  ASSERT_TRUE(encoder.ok()) << encoder.status().ToString();
  std::string bytes;
  ASSERT_TRUE((*encoder)->Encode({Value::Int(4)}, 0, bytes).ok());
  auto message = registry::ParseWireHeader(bytes);
  ASSERT_TRUE(message.ok());
  EXPECT_EQ(message->schema_id, *id);
  EXPECT_FALSE(registry->GetLatest("orders-value").ok());
  std::vector<FormatColumn> all = {
      {"C1", SqlType::Int()}, {"C2", SqlType::Int()}, {"C3", SqlType::String()}};
  auto decoder = MakeDecoder(Avro("schema-id"), all);
  ASSERT_TRUE(decoder.ok());
  Row row(3);
  ASSERT_TRUE((*decoder)->Decode(bytes, row, 0).ok());
  EXPECT_EQ(row[0], Value::Int(4));
  EXPECT_EQ(row[1], Value::Int(100));
  EXPECT_TRUE(row[2].is_null());
  // A required field without a default cannot take a NULL.
  auto strict = registry->Register("strict-value", registry::SchemaType::kAvro,
                                   R"({"type":"record","name":"S","fields":[
      {"name":"c1","type":"int"},{"name":"c2","type":"double"}]})");
  ASSERT_TRUE(strict.ok());
  options.schema_id = *strict;
  auto failing = MakeEncoder(options, {{"c1", SqlType::Int()}});
  ASSERT_TRUE(failing.ok());
  Status status = (*failing)->Encode({Value::Int(4)}, 0, bytes);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("field c2"), std::string::npos) << status.ToString();
}

}  // namespace
}  // namespace sidestream::formats
