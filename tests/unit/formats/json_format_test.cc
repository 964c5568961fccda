#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "connectors/formats/row_format.h"

namespace sidestream::formats {
namespace {

using types::Row;
using types::SqlType;
using types::Value;

FormatOptions Json(bool is_key = false, bool wrap = true) {
  FormatOptions options;
  options.format = "JSON";
  options.is_key = is_key;
  options.wrap_single_value = wrap;
  return options;
}

std::unique_ptr<RowDecoder> Decoder(std::vector<FormatColumn> columns,
                                    FormatOptions options = Json()) {
  auto decoder = MakeDecoder(options, std::move(columns));
  EXPECT_TRUE(decoder.ok()) << decoder.status().ToString();
  return std::move(decoder).value();
}

std::unique_ptr<RowEncoder> Encoder(std::vector<FormatColumn> columns,
                                    FormatOptions options = Json()) {
  auto encoder = MakeEncoder(options, std::move(columns));
  EXPECT_TRUE(encoder.ok()) << encoder.status().ToString();
  return std::move(encoder).value();
}

Row DecodeOk(RowDecoder& decoder, std::string_view bytes) {
  Row row;
  Status status = decoder.Decode(bytes, row, 0);
  EXPECT_TRUE(status.ok()) << bytes << ": " << status.ToString();
  return row;
}

std::string EncodeOk(RowEncoder& encoder, const Row& row) {
  std::string out = "garbage";
  Status status = encoder.Encode(row, 0, out);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return out;
}

TEST(JsonDecode, ScalarsByNameCaseInsensitively) {
  auto decoder = Decoder({{"ID", SqlType::Bigint()},
                          {"NAME", SqlType::String()},
                          {"OK", SqlType::Boolean()},
                          {"PRICE", SqlType::Double()},
                          {"N", SqlType::Int()}});
  Row row = DecodeOk(*decoder, R"({"id": 7, "Name": "x\ny", "ok": true, "price": 1.5, "n": -3})");
  ASSERT_EQ(row.size(), 5u);
  EXPECT_EQ(row[0].kind(), types::TypeId::kBigint);
  EXPECT_EQ(row[0].integer(), 7);
  EXPECT_EQ(row[1].string(), "x\ny");
  EXPECT_TRUE(row[2].boolean());
  EXPECT_EQ(row[3].float64(), 1.5);
  EXPECT_EQ(row[4].kind(), types::TypeId::kInt);
  EXPECT_EQ(row[4].integer(), -3);
}

TEST(JsonDecode, ExactMatchWinsOverCaseInsensitive) {
  auto decoder = Decoder({{"A", SqlType::Int()}, {"a", SqlType::Int()}});
  Row row = DecodeOk(*decoder, R"({"a": 1, "A": 2})");
  EXPECT_EQ(row[0].integer(), 2);
  EXPECT_EQ(row[1].integer(), 1);
  auto single = Decoder({{"FOO", SqlType::Int()}, {"BAR", SqlType::Int()}});
  row = DecodeOk(*single, R"({"foo": 1, "FOO": 2})");
  EXPECT_EQ(row[0].integer(), 2);
  row = DecodeOk(*single, R"({"FOO": 3, "foo": 4})");
  EXPECT_EQ(row[0].integer(), 3);
}

TEST(JsonDecode, MissingFieldsAndNullsAreNull) {
  auto decoder = Decoder({{"A", SqlType::Int()}, {"B", SqlType::String()}});
  Row row = DecodeOk(*decoder, R"({"b": null, "other": [1, {"x": 2}]})");
  EXPECT_TRUE(row[0].is_null());
  EXPECT_TRUE(row[1].is_null());
  // A row reused across messages does not keep old values.
  Row reused;
  ASSERT_TRUE(decoder->Decode(R"({"a": 1, "b": "x"})", reused, 0).ok());
  ASSERT_TRUE(decoder->Decode(R"({})", reused, 0).ok());
  EXPECT_TRUE(reused[0].is_null());
  EXPECT_TRUE(reused[1].is_null());
  row = DecodeOk(*decoder, "null");
  EXPECT_TRUE(row[0].is_null());
}

TEST(JsonDecode, FillsTheSliceAfterFirstColumn) {
  auto decoder = Decoder({{"V", SqlType::Int()}});
  Row row(3, Value::String("keep"));
  ASSERT_TRUE(decoder->Decode(R"({"V": 5})", row, 2).ok());
  EXPECT_EQ(row[0].string(), "keep");
  EXPECT_EQ(row[2].integer(), 5);
}

TEST(JsonDecode, NumericStringsAreCoerced) {
  auto decoder = Decoder({{"I", SqlType::Int()},
                          {"B", SqlType::Bigint()},
                          {"D", SqlType::Double()},
                          {"M", SqlType::Decimal(4, 2)},
                          {"F", SqlType::Boolean()}});
  Row row = DecodeOk(*decoder, R"({"I": "12", "B": "-9000000000", "D": "2.5", "M": "06.40",
                                   "F": "true"})");
  EXPECT_EQ(row[0].integer(), 12);
  EXPECT_EQ(row[1].integer(), -9000000000);
  EXPECT_EQ(row[2].float64(), 2.5);
  EXPECT_EQ(types::DecimalToString(row[3].decimal()), "6.40");
  EXPECT_TRUE(row[4].boolean());
}

TEST(JsonDecode, NumbersAndBooleansCoerceToStrings) {
  auto decoder = Decoder({{"S", SqlType::Array(SqlType::String())}, {"T", SqlType::String()}});
  Row row = DecodeOk(*decoder, R"({"S": [1, 2.50, true, null], "T": {"a": [1, 2] }})");
  ASSERT_EQ(row[0].children().size(), 4u);
  EXPECT_EQ(row[0].children()[0].string(), "1");
  EXPECT_EQ(row[0].children()[1].string(), "2.50");
  EXPECT_EQ(row[0].children()[2].string(), "true");
  EXPECT_TRUE(row[0].children()[3].is_null());
  EXPECT_EQ(row[1].string(), R"({"a":[1,2]})");
}

TEST(JsonDecode, FractionIntoIntegerTruncatesAsKsqlDb) {
  auto decoder = Decoder({{"I", SqlType::Int()}, {"B", SqlType::Bigint()}});
  Row row = DecodeOk(*decoder, R"({"I": 2.9, "B": -7.5})");
  EXPECT_EQ(row[0].integer(), 2);
  EXPECT_EQ(row[1].integer(), -7);
}

TEST(JsonDecode, DecimalsAreExact) {
  auto decoder = Decoder({{"A", SqlType::Decimal(38, 18)},
                          {"B", SqlType::Decimal(6, 4)},
                          {"C", SqlType::Decimal(4, 2)}});
  Row row = DecodeOk(*decoder, R"({"A": 12345678901234567890.123456789012345678, "B": 12.365,
                                   "C": 1.005})");
  EXPECT_EQ(types::DecimalToString(row[0].decimal()), "12345678901234567890.123456789012345678");
  EXPECT_EQ(types::DecimalToString(row[1].decimal()), "12.3650");
  EXPECT_EQ(types::DecimalToString(row[2].decimal()), "1.01");  // HALF_UP
  Row bad;
  Status status = decoder->Decode(R"({"C": 123.4})", bad, 0);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("column C"), std::string::npos) << status.message();
}

TEST(JsonDecode, Temporals) {
  auto decoder = Decoder({{"TS", SqlType::Timestamp()},
                          {"TS2", SqlType::Timestamp()},
                          {"D", SqlType::Date()},
                          {"D2", SqlType::Date()},
                          {"T", SqlType::Time()},
                          {"T2", SqlType::Time()}});
  Row row = DecodeOk(*decoder, R"({"TS": 1768435200097, "TS2": "2026-01-15T00:00:00.097Z",
      "D": 19000, "D2": "2022-01-08", "T": 3600000, "T2": "01:00:00.5"})");
  EXPECT_EQ(row[0].kind(), types::TypeId::kTimestamp);
  EXPECT_EQ(row[0].integer(), 1768435200097);
  EXPECT_EQ(row[1].integer(), 1768435200097);
  EXPECT_EQ(row[2].integer(), 19000);
  EXPECT_EQ(row[3].integer(), 19000);
  EXPECT_EQ(row[4].integer(), 3600000);
  EXPECT_EQ(row[5].integer(), 3600500);
}

TEST(JsonDecode, NestedTypes) {
  SqlType address = SqlType::Struct({{"STREET", SqlType::String()}, {"ZIP", SqlType::Int()}});
  auto decoder = Decoder({{"TAGS", SqlType::Array(SqlType::Bigint())},
                          {"SCORES", SqlType::Map(SqlType::String(), SqlType::Double())},
                          {"ADDRESS", address},
                          {"DEEP", SqlType::Array(SqlType::Array(address))}});
  Row row = DecodeOk(*decoder, R"({"tags": [1, "2", null], "scores": {"a": 1.5, "b": null},
      "address": {"street": "Main", "Zip": "123", "extra": 1},
      "deep": [[{"STREET": "x"}], []]})");
  ASSERT_EQ(row[0].kind(), types::TypeId::kArray);
  EXPECT_EQ(row[0].children()[1].integer(), 2);
  EXPECT_TRUE(row[0].children()[2].is_null());
  ASSERT_EQ(row[1].children().size(), 4u);
  EXPECT_EQ(row[1].children()[0].string(), "a");
  EXPECT_EQ(row[1].children()[1].float64(), 1.5);
  EXPECT_TRUE(row[1].children()[3].is_null());
  EXPECT_EQ(row[2].children()[0].string(), "Main");
  EXPECT_EQ(row[2].children()[1].integer(), 123);
  EXPECT_EQ(row[3].children()[0].children()[0].children()[0].string(), "x");
  EXPECT_TRUE(row[3].children()[0].children()[0].children()[1].is_null());
  EXPECT_TRUE(row[3].children()[1].children().empty());
}

// A reused row's struct is filled in place: a later message without a field leaves it NULL,
// not the earlier message's value, and a copy taken of the earlier struct is unchanged.
TEST(JsonDecode, ReusedRowStructsAreRefilledCleanly) {
  SqlType point = SqlType::Struct({{"X", SqlType::Int()}, {"NAME", SqlType::String()}});
  auto decoder = Decoder({{"P", point}});
  Row row;
  ASSERT_TRUE(decoder->Decode(R"({"p": {"x": 1, "name": "first"}})", row, 0).ok());
  const Value kept = row[0];
  ASSERT_TRUE(decoder->Decode(R"({"p": {"name": "second"}})", row, 0).ok());
  EXPECT_TRUE(row[0].children()[0].is_null());
  EXPECT_EQ(row[0].children()[1].string(), "second");
  EXPECT_EQ(kept.children()[0].integer(), 1);
  EXPECT_EQ(kept.children()[1].string(), "first");
  ASSERT_TRUE(decoder->Decode(R"({"p": null})", row, 0).ok());
  EXPECT_TRUE(row[0].is_null());
}

// Escaping scans 16 bytes at a time (SSE2), then 8, then single bytes: a character that
// needs escaping is found at every position, in strings of every length around those
// steps; bytes of UTF-8 (0x80 and up) are copied as they are.
TEST(JsonEncode, EscapesAtEveryPositionRoundTrip) {
  auto encoder = Encoder({{"S", SqlType::String()}});
  auto decoder = Decoder({{"S", SqlType::String()}});
  for (char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
    for (size_t length = 1; length <= 40; ++length) {
      for (size_t at = 0; at < length; ++at) {
        std::string text(length, 'a');
        text[at] = special;
        std::string json = EncodeOk(*encoder, {Value::String(text)});
        Row row = DecodeOk(*decoder, json);
        ASSERT_EQ(row[0].string(), text) << json;
      }
    }
  }
  EXPECT_EQ(EncodeOk(*encoder, {Value::String("plain text longer than 8")}),
            R"({"S":"plain text longer than 8"})");
  const std::string utf8 = "Anruf von M\xc3\xbcnchen nach K\xc3\xb6ln, \xe2\x82\xac 0,09";
  EXPECT_EQ(EncodeOk(*encoder, {Value::String(utf8)}), "{\"S\":\"" + utf8 + "\"}");
}

TEST(JsonDecode, UnwrappedSingleValues) {
  auto value = Decoder({{"V", SqlType::Int()}}, Json(false, false));
  EXPECT_EQ(DecodeOk(*value, "10")[0].integer(), 10);
  EXPECT_TRUE(DecodeOk(*value, "null")[0].is_null());
  auto key = Decoder({{"K", SqlType::String()}}, Json(true));
  EXPECT_EQ(DecodeOk(*key, R"("Hey")")[0].string(), "Hey");
  auto array = Decoder({{"V", SqlType::Array(SqlType::String())}}, Json(false, false));
  EXPECT_EQ(DecodeOk(*array, R"(["a", 1])")[0].children()[1].string(), "1");
  auto map = Decoder({{"V", SqlType::Map(SqlType::String(), SqlType::Int())}}, Json(false, false));
  EXPECT_EQ(DecodeOk(*map, R"({"a": 1})")[0].children()[1].integer(), 1);
  auto text = Decoder({{"V", SqlType::String()}}, Json(false, false));
  EXPECT_EQ(DecodeOk(*text, R"({"a": [1, 2]})")[0].string(), R"({"a":[1,2]})");
  // A wrapped single value is an object.
  auto wrapped = Decoder({{"FOO", SqlType::Int()}});
  EXPECT_EQ(DecodeOk(*wrapped, R"({"FOO": 10})")[0].integer(), 10);
}

// An AVRO key of one column (read as JSON without a registry) is bare, as a JSON one is.
// (A PROTOBUF key is a message even with one column: see protobuf_format_test.cc.)
TEST(JsonDecode, AvroKeyOfOneColumnIsBare) {
  FormatOptions avro = Json(true);
  avro.format = "AVRO";
  auto key = Decoder({{"ID", SqlType::Int()}}, avro);
  EXPECT_EQ(DecodeOk(*key, "10")[0].integer(), 10);
}

TEST(JsonDecode, NotAnObjectForManyColumns) {
  auto decoder = Decoder({{"A", SqlType::Int()}, {"B", SqlType::Int()}});
  Row row;
  Status status = decoder->Decode("[1, 2]", row, 0);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("expected a JSON object"), std::string::npos);
}

TEST(JsonDecode, ErrorNamesColumnAndProblem) {
  auto decoder = Decoder({{"DURATION_S", SqlType::Int()}});
  Row row;
  Status status = decoder->Decode(R"({"duration_s": "abc"})", row, 0);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "column DURATION_S: expected INTEGER but got 'abc'");
}

TEST(JsonDecode, ProjectionSkipsOtherFields) {
  auto decoder = Decoder({{"CALLER", SqlType::String()}, {"CHARGE", SqlType::Double()}});
  Row row = DecodeOk(*decoder, R"({"cdr_id":"1","caller":"+49","nested":{"a":[1,2,{"b":3}]},
                                   "charge":1.25,"roaming":false})");
  EXPECT_EQ(row[0].string(), "+49");
  EXPECT_EQ(row[1].float64(), 1.25);
}

TEST(JsonEncode, ObjectInSchemaOrder) {
  auto encoder = Encoder({{"ID", SqlType::Bigint()},
                          {"NAME", SqlType::String()},
                          {"PRICE", SqlType::Double()},
                          {"AMOUNT", SqlType::Decimal(4, 2)},
                          {"OK", SqlType::Boolean()},
                          {"MISSING", SqlType::Int()}});
  Row row = {Value::Bigint(1),      Value::String("a\"b\\c\n\x01"),
             Value::Double(100),    Value::DecimalValue(150, 2),
             Value::Boolean(false), Value::Null()};
  EXPECT_EQ(EncodeOk(*encoder, row),
            R"({"ID":1,"NAME":"a\"b\\c\n\u0001","PRICE":100.0,"AMOUNT":1.50,"OK":false,)"
            R"("MISSING":null})");
}

TEST(JsonEncode, DoublesInJavaForm) {
  auto encoder = Encoder({{"V", SqlType::Double()}}, Json(false, false));
  EXPECT_EQ(EncodeOk(*encoder, {Value::Double(1.2e7)}), "1.2E7");
  EXPECT_EQ(EncodeOk(*encoder, {Value::Double(4.9e-324)}), "4.9E-324");
  EXPECT_EQ(EncodeOk(*encoder, {Value::Double(0.1)}), "0.1");
  EXPECT_EQ(EncodeOk(*encoder, {Value::Double(std::nan(""))}), R"("NaN")");
  EXPECT_EQ(EncodeOk(*encoder, {Value::Double(-INFINITY)}), R"("-Infinity")");
}

TEST(JsonEncode, TemporalsBytesAndNested) {
  SqlType point = SqlType::Struct({{"X", SqlType::Int()}, {"Y", SqlType::Double()}});
  auto encoder = Encoder({{"TS", SqlType::Timestamp()},
                          {"D", SqlType::Date()},
                          {"T", SqlType::Time()},
                          {"B", SqlType::Bytes()},
                          {"A", SqlType::Array(point)},
                          {"M", SqlType::Map(SqlType::String(), SqlType::Bigint())}});
  Row row = {Value::Timestamp(1000),
             Value::Date(19000),
             Value::Time(61000),
             Value::Bytes("hi!"),
             Value::Array({Value::Struct({Value::Int(1), Value::Double(2)}), Value::Null()}),
             Value::Map({Value::String("k"), Value::Bigint(5)})};
  EXPECT_EQ(EncodeOk(*encoder, row),
            R"({"TS":1000,"D":19000,"T":61000,"B":"aGkh","A":[{"X":1,"Y":2.0},null],)"
            R"("M":{"k":5}})");
}

TEST(JsonEncode, UnwrappedKeyAndValue) {
  auto key = Encoder({{"K", SqlType::String()}}, Json(true));
  EXPECT_EQ(EncodeOk(*key, {Value::String("Hey")}), R"("Hey")");
  auto value = Encoder({{"FOO", SqlType::Boolean()}}, Json(false, false));
  EXPECT_EQ(EncodeOk(*value, {Value::Null()}), "null");
  auto wrapped = Encoder({{"FOO", SqlType::Boolean()}});
  EXPECT_EQ(EncodeOk(*wrapped, {Value::Boolean(true)}), R"({"FOO":true})");
}

// Every type survives encode then decode unchanged.
TEST(JsonRoundTrip, EveryType) {
  SqlType nested = SqlType::Struct({{"L", SqlType::Array(SqlType::Decimal(10, 3))},
                                    {"M", SqlType::Map(SqlType::String(), SqlType::Boolean())}});
  std::vector<FormatColumn> columns = {{"BO", SqlType::Boolean()},
                                       {"I", SqlType::Int()},
                                       {"BI", SqlType::Bigint()},
                                       {"DO", SqlType::Double()},
                                       {"DE", SqlType::Decimal(12, 4)},
                                       {"S", SqlType::String()},
                                       {"BY", SqlType::Bytes()},
                                       {"TS", SqlType::Timestamp()},
                                       {"DA", SqlType::Date()},
                                       {"TI", SqlType::Time()},
                                       {"N", nested},
                                       {"NU", SqlType::Int()}};
  Row row = {Value::Boolean(true),
             Value::Int(-2147483647 - 1),
             Value::Bigint(9223372036854775807),
             Value::Double(-1.7976931348623157e308),
             Value::DecimalValue(-123456789, 4),
             Value::String("ünïcødé \"quoted\" \t"),
             Value::Bytes(std::string("\0\xff\x10", 3)),
             Value::Timestamp(-1),
             Value::Date(-719162),
             Value::Time(86399999),
             Value::Struct({Value::Array({Value::DecimalValue(1, 3), Value::Null()}),
                            Value::Map({Value::String("x"), Value::Boolean(false)})}),
             Value::Null()};
  for (bool wrap : {true, false}) {
    auto encoder = Encoder(columns, Json(false, wrap));
    auto decoder = Decoder(columns, Json(false, wrap));
    std::string bytes = EncodeOk(*encoder, row);
    Row back = DecodeOk(*decoder, bytes);
    ASSERT_EQ(back.size(), row.size());
    for (size_t i = 0; i < row.size(); ++i) {
      EXPECT_EQ(back[i], row[i]) << columns[i].name << " " << back[i].DebugString() << " vs "
                                 << row[i].DebugString() << " in " << bytes;
      EXPECT_EQ(back[i].kind(), row[i].kind()) << columns[i].name;
    }
    EXPECT_EQ(back[6].string(), row[6].string());
  }
}

TEST(JsonRoundTrip, SingleColumnOfEachType) {
  std::vector<std::pair<SqlType, Value>> cases = {
      {SqlType::Boolean(), Value::Boolean(false)},
      {SqlType::Int(), Value::Int(33)},
      {SqlType::Bigint(), Value::Bigint(998877665544332211)},
      {SqlType::Double(), Value::Double(654.321)},
      {SqlType::Decimal(6, 4), Value::DecimalValue(123650, 4)},
      {SqlType::String(), Value::String("Hey")},
      {SqlType::Array(SqlType::Double()), Value::Array({Value::Double(10.1)})},
      {SqlType::Struct({{"F", SqlType::Double()}}), Value::Struct({Value::Double(45.67)})},
  };
  for (const auto& [type, value] : cases) {
    for (FormatOptions options : {Json(true), Json(false, true), Json(false, false)}) {
      auto encoder = Encoder({{"K", type}}, options);
      auto decoder = Decoder({{"K", type}}, options);
      std::string bytes = EncodeOk(*encoder, {value});
      Row back = DecodeOk(*decoder, bytes);
      EXPECT_EQ(back[0], value) << type.ToString() << " via " << bytes;
    }
  }
}

}  // namespace
}  // namespace sidestream::formats
