#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "connectors/formats/row_format.h"

namespace sidestream::formats {
namespace {

using types::Row;
using types::SqlType;
using types::Value;

FormatOptions Format(std::string name, char delimiter = ',') {
  FormatOptions options;
  options.format = std::move(name);
  options.delimiter = delimiter;
  options.wrap_single_value = false;
  return options;
}

std::unique_ptr<RowDecoder> Decoder(const FormatOptions& options,
                                    std::vector<FormatColumn> columns) {
  auto decoder = MakeDecoder(options, std::move(columns));
  EXPECT_TRUE(decoder.ok()) << decoder.status().ToString();
  return std::move(decoder).value();
}

std::unique_ptr<RowEncoder> Encoder(const FormatOptions& options,
                                    std::vector<FormatColumn> columns) {
  auto encoder = MakeEncoder(options, std::move(columns));
  EXPECT_TRUE(encoder.ok()) << encoder.status().ToString();
  return std::move(encoder).value();
}

std::string Encode(RowEncoder& encoder, const Row& row) {
  std::string out = "garbage";
  Status status = encoder.Encode(row, 0, out);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return out;
}

Row Decode(RowDecoder& decoder, std::string_view bytes) {
  Row row;
  Status status = decoder.Decode(bytes, row, 0);
  EXPECT_TRUE(status.ok()) << bytes << ": " << status.ToString();
  return row;
}

std::vector<FormatColumn> Mixed() {
  return {{"ID", SqlType::Bigint()},
          {"NAME", SqlType::String()},
          {"VALUE", SqlType::Int()},
          {"PRICE", SqlType::Double()},
          {"AMOUNT", SqlType::Decimal(33, 16)},
          {"OK", SqlType::Boolean()}};
}

TEST(Delimited, DecodesFieldsAndEmptyAsNull) {
  auto decoder = Decoder(Format("DELIMITED"), Mixed());
  Row row = Decode(*decoder, "0,zero,0,1.5,.12,true");
  EXPECT_EQ(row[0].integer(), 0);
  EXPECT_EQ(row[1].string(), "zero");
  EXPECT_EQ(row[3].float64(), 1.5);
  EXPECT_EQ(types::DecimalToString(row[4].decimal()), "0.1200000000000000");
  EXPECT_TRUE(row[5].boolean());
  row = Decode(*decoder, ",,100,,,");
  EXPECT_TRUE(row[0].is_null());
  EXPECT_TRUE(row[1].is_null());
  EXPECT_EQ(row[2].integer(), 100);
  EXPECT_TRUE(row[5].is_null());
}

TEST(Delimited, QuotedFields) {
  auto decoder = Decoder(
      Format("DELIMITED"),
      {{"A", SqlType::String()}, {"B", SqlType::String()}, {"C", SqlType::Decimal(33, 16)}});
  Row row = Decode(*decoder, R"("a,b","say ""hi""","-12345.12")");
  EXPECT_EQ(row[0].string(), "a,b");
  EXPECT_EQ(row[1].string(), "say \"hi\"");
  EXPECT_EQ(types::DecimalToString(row[2].decimal()), "-12345.1200000000000000");
  row = Decode(*decoder, "\"line\nbreak\",x,1");
  EXPECT_EQ(row[0].string(), "line\nbreak");
}

TEST(Delimited, EncodesWithMinimalQuoting) {
  auto encoder = Encoder(Format("DELIMITED"), {{"A", SqlType::String()},
                                               {"B", SqlType::String()},
                                               {"C", SqlType::Double()},
                                               {"D", SqlType::Decimal(33, 16)}});
  EXPECT_EQ(Encode(*encoder, {Value::String("plain"), Value::String("a,b"), Value::Double(1e7),
                              Value::DecimalValue(1200, 4)}),
            "plain,\"a,b\",1.0E7,0.1200");
  EXPECT_EQ(Encode(*encoder, {Value::DecimalValue(-123451200, 4), Value::String("say \"hi\""),
                              Value::Null(), Value::Null()}),
            "\"-12345.1200\",\"say \"\"hi\"\"\",,");
  EXPECT_EQ(Encode(*encoder, {Value::Null(), Value::Null(), Value::Double(100), Value::Null()}),
            ",,100.0,");
  EXPECT_EQ(Encode(*encoder,
                   {Value::String("x"), Value::String("new\nline"), Value::Null(), Value::Null()}),
            "x,\"new\nline\",,");
  // The first field starting with a non-alphanumeric character is quoted (Commons CSV).
  EXPECT_EQ(
      Encode(*encoder, {Value::String("-1"), Value::String("-1"), Value::Null(), Value::Null()}),
      "\"-1\",-1,,");
}

TEST(Delimited, CustomDelimiters) {
  for (char delimiter : {'|', '\t', ' ', '$'}) {
    auto columns = std::vector<FormatColumn>{
        {"ID", SqlType::Bigint()}, {"NAME", SqlType::String()}, {"VALUE", SqlType::Int()}};
    auto decoder = Decoder(Format("DELIMITED", delimiter), columns);
    auto encoder = Encoder(Format("DELIMITED", delimiter), columns);
    std::string text = std::string("100") + delimiter + "a,b" + delimiter + "500";
    Row row = Decode(*decoder, text);
    EXPECT_EQ(row[1].string(), "a,b");
    EXPECT_EQ(Encode(*encoder, row), text);
  }
}

TEST(Delimited, WrongColumnCountAndBadNumbers) {
  auto decoder = Decoder(Format("DELIMITED"), {{"A", SqlType::Int()}, {"B", SqlType::Bigint()}});
  Row row;
  Status status = decoder->Decode("1,2,3", row, 0);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("expected 2 columns but got 3"), std::string::npos);
  EXPECT_EQ(decoder->Decode("1", row, 0).code(), StatusCode::kInvalidArgument);
  status = decoder->Decode("1.5,2", row, 0);
  EXPECT_EQ(status.message(), "column A: expected INTEGER but got '1.5'");
  EXPECT_EQ(decoder->Decode("1, 2", row, 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(decoder->Decode("\"1,2", row, 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(decoder->Decode("\"1\"x,2", row, 0).code(), StatusCode::kInvalidArgument);
}

TEST(Delimited, NestedTypesRejected) {
  auto decoder = MakeDecoder(Format("DELIMITED"),
                             {{"A", SqlType::Int()}, {"TAGS", SqlType::Array(SqlType::Int())}});
  ASSERT_FALSE(decoder.ok());
  EXPECT_EQ(decoder.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(decoder.status().message().find("TAGS"), std::string::npos);
  EXPECT_FALSE(
      MakeEncoder(Format("DELIMITED"), {{"M", SqlType::Map(SqlType::String(), SqlType::Int())}})
          .ok());
}

TEST(Delimited, RoundTripEveryScalarType) {
  std::vector<FormatColumn> columns = {
      {"BO", SqlType::Boolean()}, {"I", SqlType::Int()},           {"BI", SqlType::Bigint()},
      {"DO", SqlType::Double()},  {"DE", SqlType::Decimal(10, 2)}, {"S", SqlType::String()},
      {"BY", SqlType::Bytes()},   {"TS", SqlType::Timestamp()},    {"DA", SqlType::Date()},
      {"TI", SqlType::Time()},    {"NU", SqlType::String()}};
  Row row = {Value::Boolean(false),
             Value::Int(-5),
             Value::Bigint(1LL << 40),
             Value::Double(0.1),
             Value::DecimalValue(-5, 2),
             Value::String("a \"b\", c"),
             Value::Bytes("\x01\x02"),
             Value::Timestamp(1000),
             Value::Date(-3),
             Value::Time(5),
             Value::Null()};
  auto encoder = Encoder(Format("DELIMITED"), columns);
  auto decoder = Decoder(Format("DELIMITED"), columns);
  std::string text = Encode(*encoder, row);
  Row back = Decode(*decoder, text);
  ASSERT_EQ(back.size(), row.size());
  for (size_t i = 0; i < row.size(); ++i) {
    EXPECT_EQ(back[i], row[i]) << columns[i].name << " in " << text;
    EXPECT_EQ(back[i].kind(), row[i].kind()) << columns[i].name;
  }
}

TEST(Kafka, ByteLayouts) {
  auto int_encoder = Encoder(Format("KAFKA"), {{"K", SqlType::Int()}});
  EXPECT_EQ(Encode(*int_encoder, {Value::Int(1)}), std::string("\0\0\0\1", 4));
  EXPECT_EQ(Encode(*int_encoder, {Value::Int(-2)}), std::string("\xff\xff\xff\xfe", 4));
  auto bigint_encoder = Encoder(Format("KAFKA"), {{"K", SqlType::Bigint()}});
  EXPECT_EQ(Encode(*bigint_encoder, {Value::Bigint(0x0102030405060708)}),
            std::string("\1\2\3\4\5\6\7\x08", 8));
  auto double_encoder = Encoder(Format("KAFKA"), {{"K", SqlType::Double()}});
  EXPECT_EQ(Encode(*double_encoder, {Value::Double(1.0)}), std::string("\x3f\xf0\0\0\0\0\0\0", 8));
  auto string_encoder = Encoder(Format("KAFKA"), {{"K", SqlType::String()}});
  EXPECT_EQ(Encode(*string_encoder, {Value::String("+491700001707")}), "+491700001707");
  EXPECT_EQ(Encode(*string_encoder, {Value::Null()}), "");
}

TEST(Kafka, RoundTripAndSizes) {
  std::vector<std::pair<SqlType, Value>> cases = {
      {SqlType::Int(), Value::Int(-2147483647 - 1)},
      {SqlType::Bigint(), Value::Bigint(-1)},
      {SqlType::Double(), Value::Double(-2.2)},
      {SqlType::String(), Value::String("ünï")},
      {SqlType::Bytes(), Value::Bytes(std::string("\0\1", 2))},
  };
  for (const auto& [type, value] : cases) {
    auto encoder = Encoder(Format("KAFKA"), {{"K", type}});
    auto decoder = Decoder(Format("KAFKA"), {{"K", type}});
    Row back = Decode(*decoder, Encode(*encoder, {value}));
    EXPECT_EQ(back[0], value) << type.ToString();
    EXPECT_EQ(back[0].kind(), value.kind());
  }
  auto decoder = Decoder(Format("KAFKA"), {{"K", SqlType::Int()}});
  Row row;
  Status status = decoder->Decode("abc", row, 0);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("KAFKA format: expected 4 bytes for INTEGER but got 3"),
            std::string::npos)
      << status.message();
  auto bigint = Decoder(Format("KAFKA"), {{"K", SqlType::Bigint()}});
  EXPECT_EQ(bigint->Decode("1234", row, 0).code(), StatusCode::kInvalidArgument);
}

TEST(Kafka, UnsupportedSchemas) {
  for (SqlType type : {SqlType::Boolean(), SqlType::Decimal(4, 2), SqlType::Array(SqlType::Int()),
                       SqlType::Struct({{"F", SqlType::Int()}})}) {
    auto decoder = MakeDecoder(Format("KAFKA"), {{"K", type}});
    EXPECT_EQ(decoder.status().code(), StatusCode::kInvalidArgument) << type.ToString();
    EXPECT_FALSE(MakeEncoder(Format("KAFKA"), {{"K", type}}).ok());
  }
  auto two = MakeDecoder(Format("KAFKA"), {{"A", SqlType::Int()}, {"B", SqlType::Int()}});
  EXPECT_EQ(two.status().code(), StatusCode::kInvalidArgument);
  // No columns (a keyless stream's KAFKA key): nothing to read or write.
  auto none = Decoder(Format("KAFKA"), {});
  Row row;
  EXPECT_TRUE(none->Decode("whatever", row, 0).ok());
}

TEST(NoneFormat, ReadsAndWritesNothing) {
  auto decoder = Decoder(Format("NONE"), {});
  Row row = {Value::Int(1)};
  EXPECT_TRUE(decoder->Decode("ignored bytes", row, 1).ok());
  EXPECT_EQ(row.size(), 1u);
  auto encoder = Encoder(Format("NONE"), {});
  EXPECT_EQ(Encode(*encoder, row), "");
  EXPECT_FALSE(MakeDecoder(Format("NONE"), {{"A", SqlType::Int()}}).ok());
  EXPECT_EQ(MakeDecoder(Format("XML"), {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(MakeDecoder(Format("json_sr"), {{"A", SqlType::Int()}}).ok());
  EXPECT_TRUE(MakeDecoder(Format("AVRO"), {{"A", SqlType::Int()}}).ok());
}

}  // namespace
}  // namespace sidestream::formats
