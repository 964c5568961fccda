#include "connectors/formats/protobuf_format.h"

#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/wrappers.pb.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "connectors/formats/row_format.h"

namespace sidestream::formats {
namespace {

namespace pb = google::protobuf;
using FieldProto = pb::FieldDescriptorProto;
using types::Row;
using types::SqlType;
using types::TypeId;
using types::Value;

FormatOptions Protobuf(ProtobufNullable nullable = ProtobufNullable::kDefault,
                       std::string format = "PROTOBUF_NOSR") {
  FormatOptions options;
  options.format = std::move(format);
  options.protobuf_nullable = nullable;
  return options;
}

struct Codec {
  std::unique_ptr<RowDecoder> decoder;
  std::unique_ptr<RowEncoder> encoder;
};

Codec MakeCodec(const FormatOptions& options, const std::vector<FormatColumn>& columns) {
  auto decoder = MakeDecoder(options, columns);
  auto encoder = MakeEncoder(options, columns);
  EXPECT_TRUE(decoder.ok()) << decoder.status().ToString();
  EXPECT_TRUE(encoder.ok()) << encoder.status().ToString();
  return {std::move(decoder).value(), std::move(encoder).value()};
}

std::string Encode(Codec& codec, const Row& row) {
  std::string out = "garbage";
  Status status = codec.encoder->Encode(row, 0, out);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return out;
}

Row Decode(Codec& codec, std::string_view bytes, size_t columns) {
  Row row(columns);
  Status status = codec.decoder->Decode(bytes, row, 0);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return row;
}

// The one field `number` of encoded bytes, read with libprotobuf's UnknownFieldSet (not our
// descriptors), to check the wire form independently.
std::string LengthDelimitedField(const std::string& bytes, int number) {
  pb::UnknownFieldSet fields;
  EXPECT_TRUE(fields.ParseFromString(bytes));
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() == number &&
        fields.field(i).type() == pb::UnknownField::TYPE_LENGTH_DELIMITED) {
      return fields.field(i).length_delimited();
    }
  }
  ADD_FAILURE() << "no length-delimited field " << number;
  return "";
}

TEST(ProtobufSchemaTest, MapsColumnsToConnectDefaultFieldsInOrder) {
  std::vector<FormatColumn> columns = {
      {"ID", SqlType::Bigint()},
      {"S", SqlType::Struct(
                {{"F0", SqlType::Int()}, {"INNER", SqlType::Struct({{"X", SqlType::String()}})}})},
      {"TAGS", SqlType::Array(SqlType::String())},
      {"M", SqlType::Map(SqlType::String(), SqlType::Double())},
      {"AMOUNT", SqlType::Decimal(10, 2)},
      {"D", SqlType::Date()},
      {"T", SqlType::Time()},
      {"TS", SqlType::Timestamp()},
      {"B", SqlType::Bytes()},
      {"OK", SqlType::Boolean()}};
  auto file = ProtobufSchemaFile(columns, ProtobufNullable::kDefault);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->syntax(), "proto3");
  ASSERT_EQ(file->message_type_size(), 1);
  const pb::DescriptorProto& root = file->message_type(0);
  EXPECT_EQ(root.name(), "ConnectDefault1");
  ASSERT_EQ(root.field_size(), 10);
  for (int i = 0; i < root.field_size(); ++i) {
    EXPECT_EQ(root.field(i).number(), i + 1);
    EXPECT_EQ(root.field(i).name(), columns[static_cast<size_t>(i)].name);
  }
  EXPECT_EQ(root.field(0).type(), FieldProto::TYPE_INT64);
  EXPECT_EQ(root.field(1).type_name(), ".ConnectDefault1.ConnectDefault2");
  EXPECT_EQ(root.nested_type(0).name(), "ConnectDefault2");
  EXPECT_EQ(root.nested_type(0).nested_type(0).name(), "ConnectDefault3");
  EXPECT_EQ(root.field(2).label(), FieldProto::LABEL_REPEATED);
  EXPECT_EQ(root.field(2).type(), FieldProto::TYPE_STRING);
  EXPECT_EQ(root.field(3).label(), FieldProto::LABEL_REPEATED);
  EXPECT_EQ(root.field(3).type_name(), ".ConnectDefault1.ConnectDefault4Entry");
  const pb::DescriptorProto& entry = root.nested_type(1);
  EXPECT_EQ(entry.name(), "ConnectDefault4Entry");
  EXPECT_EQ(entry.field(0).name(), "key");
  EXPECT_EQ(entry.field(0).type(), FieldProto::TYPE_STRING);
  EXPECT_EQ(entry.field(1).name(), "value");
  EXPECT_EQ(entry.field(1).type(), FieldProto::TYPE_DOUBLE);
  EXPECT_EQ(root.field(4).type_name(), ".confluent.type.Decimal");
  EXPECT_EQ(root.field(5).type_name(), ".google.type.Date");
  EXPECT_EQ(root.field(6).type_name(), ".google.type.TimeOfDay");
  EXPECT_EQ(root.field(7).type_name(), ".google.protobuf.Timestamp");
  EXPECT_EQ(root.field(8).type(), FieldProto::TYPE_BYTES);
  EXPECT_EQ(root.field(9).type(), FieldProto::TYPE_BOOL);
  std::vector<std::string> dependencies(file->dependency().begin(), file->dependency().end());
  EXPECT_EQ(dependencies, (std::vector<std::string>{
                              "confluent/type/decimal.proto", "google/protobuf/timestamp.proto",
                              "google/type/date.proto", "google/type/timeofday.proto"}));
}

TEST(ProtobufSchemaTest, NullableRepresentations) {
  std::vector<FormatColumn> columns = {{"I", SqlType::Int()}, {"S", SqlType::String()}};
  auto optional = ProtobufSchemaText(columns, ProtobufNullable::kOptional);
  ASSERT_TRUE(optional.ok()) << optional.status().ToString();
  EXPECT_NE(optional->find("optional int32 I = 1;"), std::string::npos) << *optional;
  EXPECT_NE(optional->find("optional string S = 2;"), std::string::npos) << *optional;
  auto wrapper = ProtobufSchemaText(columns, ProtobufNullable::kWrapper);
  ASSERT_TRUE(wrapper.ok()) << wrapper.status().ToString();
  EXPECT_NE(wrapper->find("import \"google/protobuf/wrappers.proto\";"), std::string::npos);
  EXPECT_NE(wrapper->find(".google.protobuf.Int32Value I = 1;"), std::string::npos) << *wrapper;
  EXPECT_NE(wrapper->find(".google.protobuf.StringValue S = 2;"), std::string::npos) << *wrapper;
}

TEST(ProtobufSchemaTest, ScrubsNamesAndKeepsThemDistinctInProto3) {
  // proto3 refuses fields whose names match lower-cased without '_'.
  auto file = ProtobufSchemaFile(
      {{"foo", SqlType::Int()}, {"FOO", SqlType::Int()}, {"1st col", SqlType::Int()}},
      ProtobufNullable::kDefault);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->message_type(0).field(0).name(), "foo");
  EXPECT_EQ(file->message_type(0).field(1).name(), "FOO_2");
  EXPECT_EQ(file->message_type(0).field(2).name(), "x1st_col");
  auto codec = MakeDecoder(Protobuf(), {{"foo", SqlType::Int()}, {"FOO", SqlType::Int()}});
  EXPECT_TRUE(codec.ok()) << codec.status().ToString();
}

TEST(ProtobufSchemaTest, RefusesWhatProtobufCannotHold) {
  auto map = MakeDecoder(Protobuf(), {{"M", SqlType::Map(SqlType::Int(), SqlType::Double())}});
  ASSERT_FALSE(map.ok());
  EXPECT_EQ(map.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(map.status().message().find("only supports MAP types with STRING keys"),
            std::string::npos);
  auto nested = MakeEncoder(Protobuf(), {{"A", SqlType::Array(SqlType::Array(SqlType::Int()))}});
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("column A"), std::string::npos);
}

TEST(ProtobufFormatTest, WritesTheWireFormOfTheProtobufDocs) {
  // https://protobuf.dev/programming-guides/encoding/: field 1 = 150 is 08 96 01, and field
  // 2 = "testing" is 12 07 74 65 73 74 69 6e 67.
  Codec codec = MakeCodec(Protobuf(), {{"A", SqlType::Int()}, {"B", SqlType::String()}});
  EXPECT_EQ(Encode(codec, {Value::Int(150), Value::String("testing")}),
            std::string("\x08\x96\x01\x12\x07testing", 12));
  Row row = Decode(codec, std::string("\x12\x07testing\x08\x96\x01", 12), 2);
  EXPECT_EQ(row[0], Value::Int(150));
  EXPECT_EQ(row[1], Value::String("testing"));
}

TEST(ProtobufFormatTest, AKeyOfOneColumnIsStillAMessage) {
  FormatOptions key = Protobuf(ProtobufNullable::kDefault, "PROTOBUF");
  key.is_key = true;
  Codec codec = MakeCodec(key, {{"ID", SqlType::Int()}});
  EXPECT_EQ(Encode(codec, {Value::Int(10)}), "\x08\x0a");
  EXPECT_EQ(Decode(codec, "\x08\x0a", 1)[0], Value::Int(10));
}

TEST(ProtobufFormatTest, ScalarsRoundTripAndNullReadsBackAsTheDefault) {
  std::vector<FormatColumn> columns = {{"B", SqlType::Boolean()}, {"I", SqlType::Int()},
                                       {"L", SqlType::Bigint()},  {"D", SqlType::Double()},
                                       {"S", SqlType::String()},  {"Y", SqlType::Bytes()}};
  Codec codec = MakeCodec(Protobuf(), columns);
  Row full = {Value::Boolean(true), Value::Int(-7),         Value::Bigint(998877665544332211),
              Value::Double(1.25),  Value::String("héllo"), Value::Bytes(std::string("\0\xff", 2))};
  Row back = Decode(codec, Encode(codec, full), columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    EXPECT_EQ(back[i], full[i]) << columns[i].name << ": " << back[i].DebugString();
    EXPECT_EQ(back[i].kind(), full[i].kind()) << columns[i].name;
  }
  // proto3: a NULL is left out and reads back as its type's default.
  Row nulls(columns.size());
  EXPECT_EQ(Encode(codec, nulls), "");
  Row defaults = Decode(codec, "", columns.size());
  EXPECT_EQ(defaults[0], Value::Boolean(false));
  EXPECT_EQ(defaults[1], Value::Int(0));
  EXPECT_EQ(defaults[2], Value::Bigint(0));
  EXPECT_EQ(defaults[3], Value::Double(0));
  EXPECT_EQ(defaults[4], Value::String(""));
  EXPECT_EQ(defaults[5], Value::Bytes(""));
}

TEST(ProtobufFormatTest, OptionalAndWrapperKeepNullApartFromTheDefault) {
  std::vector<FormatColumn> columns = {
      {"I", SqlType::Int()}, {"S", SqlType::String()}, {"D", SqlType::Double()}};
  for (ProtobufNullable nullable : {ProtobufNullable::kOptional, ProtobufNullable::kWrapper}) {
    Codec codec = MakeCodec(Protobuf(nullable), columns);
    Row row = {Value::Null(), Value::String(""), Value::Double(0)};
    Row back = Decode(codec, Encode(codec, row), columns.size());
    EXPECT_TRUE(back[0].is_null()) << back[0].DebugString();
    EXPECT_EQ(back[1], Value::String(""));
    EXPECT_EQ(back[2], Value::Double(0));
    EXPECT_FALSE(back[2].is_null());
  }
  // A wrapper is a google.protobuf.Int32Value message in field 1.
  Codec wrapper = MakeCodec(Protobuf(ProtobufNullable::kWrapper), {{"I", SqlType::Int()}});
  pb::Int32Value value;
  ASSERT_TRUE(value.ParseFromString(LengthDelimitedField(Encode(wrapper, {Value::Int(42)}), 1)));
  EXPECT_EQ(value.value(), 42);
}

TEST(ProtobufFormatTest, NestedTypesRoundTrip) {
  const SqlType point = SqlType::Struct({{"X", SqlType::Int()}, {"LABEL", SqlType::String()}});
  std::vector<FormatColumn> columns = {
      {"S", point},
      {"NULL_S", point},
      {"POINTS", SqlType::Array(point)},
      {"NUMBERS", SqlType::Array(SqlType::Bigint())},
      {"M", SqlType::Map(SqlType::String(), SqlType::Double())},
      {"MS", SqlType::Map(SqlType::String(), point)},
      {"MA", SqlType::Map(SqlType::String(), SqlType::Array(SqlType::Int()))},
      {"NULL_A", SqlType::Array(SqlType::Int())}};
  Codec codec = MakeCodec(Protobuf(), columns);
  const Value p1 = Value::Struct({Value::Int(1), Value::String("a")});
  const Value p2 = Value::Struct({Value::Int(2), Value::Null()});
  Row row = {
      p1,
      Value::Null(),
      Value::Array({p1, p2}),
      Value::Array({Value::Bigint(12), Value::Bigint(-34), Value::Bigint(999)}),
      Value::Map({Value::String("a"), Value::Double(1.1), Value::String("b"), Value::Double(2.2)}),
      Value::Map({Value::String("k"), p1, Value::String("none"), Value::Null()}),
      Value::Map({Value::String("k"), Value::Array({Value::Int(5), Value::Int(6)})}),
      Value::Null()};
  Row back = Decode(codec, Encode(codec, row), columns.size());
  EXPECT_EQ(back[0], p1);
  EXPECT_TRUE(back[1].is_null()) << "a NULL STRUCT stays NULL: " << back[1].DebugString();
  // A NULL field inside a STRUCT reads back as its default.
  EXPECT_EQ(back[2], Value::Array({p1, Value::Struct({Value::Int(2), Value::String("")})}));
  EXPECT_EQ(back[3], row[3]);
  EXPECT_EQ(back[4], row[4]);
  EXPECT_EQ(back[5], row[5]) << back[5].DebugString();
  EXPECT_EQ(back[6], row[6]);
  EXPECT_EQ(back[7], Value::Array({})) << "a NULL ARRAY reads back empty";

  Row null_element = row;
  null_element[3] = Value::Array({Value::Bigint(1), Value::Null()});
  std::string out;
  Status status = codec.encoder->Encode(null_element, 0, out);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("NUMBERS"), std::string::npos) << status.ToString();
}

TEST(ProtobufFormatTest, DecimalsAreConfluentDecimals) {
  Codec codec = MakeCodec(Protobuf(), {{"A", SqlType::Decimal(6, 2)}});
  std::string bytes = Encode(codec, {Value::DecimalValue(1234, 2)});
  // confluent.type.Decimal: value (big-endian two's complement), precision, scale.
  EXPECT_EQ(LengthDelimitedField(bytes, 1), std::string("\x0a\x02\x04\xd2\x10\x04\x18\x02", 8));
  EXPECT_EQ(Decode(codec, bytes, 1)[0], Value::DecimalValue(1234, 2));
  for (__int128 unscaled : {__int128{0}, __int128{-1}, __int128{128}, __int128{-129},
                            __int128{999999}, __int128{-999999}}) {
    Row back = Decode(codec, Encode(codec, {Value::DecimalValue(unscaled, 2)}), 1);
    EXPECT_EQ(back[0].decimal().unscaled, unscaled) << static_cast<int64_t>(unscaled);
    EXPECT_EQ(back[0].decimal().scale, 2);
  }
  Codec wide = MakeCodec(Protobuf(), {{"W", SqlType::Decimal(38, 0)}});
  const __int128 big = static_cast<__int128>(1) << 120;
  EXPECT_EQ(Decode(wide, Encode(wide, {Value::DecimalValue(-big, 0)}), 1)[0].decimal().unscaled,
            -big);
  // A value of another scale is rescaled to the column's: 1.5 (15, scale 1) is 1.50.
  Codec one = MakeCodec(Protobuf(), {{"A", SqlType::Decimal(2, 1)}});
  Row back = Decode(codec, Encode(one, {Value::DecimalValue(15, 1)}), 1);
  EXPECT_EQ(back[0].decimal().unscaled, 150);
  EXPECT_EQ(back[0].decimal().scale, 2);
  // Too many digits for the column is an error naming it.
  Row row(1);
  Status status = one.decoder->Decode(bytes, row, 0);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("column A"), std::string::npos) << status.ToString();
}

TEST(ProtobufFormatTest, TemporalTypesAreWellKnownMessages) {
  Codec codec = MakeCodec(
      Protobuf(), {{"TS", SqlType::Timestamp()}, {"D", SqlType::Date()}, {"T", SqlType::Time()}});
  Row row = {Value::Timestamp(-1), Value::Date(19000), Value::Time(45296789)};
  std::string bytes = Encode(codec, row);
  pb::Timestamp timestamp;
  ASSERT_TRUE(timestamp.ParseFromString(LengthDelimitedField(bytes, 1)));
  EXPECT_EQ(timestamp.seconds(), -1);
  EXPECT_EQ(timestamp.nanos(), 999000000);
  // 19000 days after 1970-01-01 is 2022-01-08: google.type.Date {year, month, day}.
  EXPECT_EQ(LengthDelimitedField(bytes, 2), std::string("\x08\xe6\x0f\x10\x01\x18\x08", 7));
  // 12:34:56.789: google.type.TimeOfDay {hours, minutes, seconds, nanos}.
  Row back = Decode(codec, bytes, 3);
  EXPECT_EQ(back[0], row[0]);
  EXPECT_EQ(back[1], row[1]);
  EXPECT_EQ(back[2], row[2]);
  EXPECT_EQ(back[0].kind(), TypeId::kTimestamp);
  EXPECT_EQ(back[1].kind(), TypeId::kDate);
  EXPECT_EQ(back[2].kind(), TypeId::kTime);
  // A NULL temporal value is an absent message: it stays NULL.
  Row nulls = Decode(codec, "", 3);
  EXPECT_TRUE(nulls[0].is_null() && nulls[1].is_null() && nulls[2].is_null());
  // February 30th is not a date.
  Row bad(3);
  Status status =
      codec.decoder->Decode(std::string("\x12\x06\x08\xe6\x0f\x10\x02\x18\x1e", 9), bad, 0);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("column D"), std::string::npos) << status.ToString();
}

TEST(ProtobufFormatTest, BrokenBytesNameTheColumn) {
  Codec codec = MakeCodec(Protobuf(), {{"ID", SqlType::Int()},
                                       {"NAME", SqlType::String()},
                                       {"S", SqlType::Struct({{"X", SqlType::String()}})}});
  std::string good =
      Encode(codec, {Value::Int(7), Value::String("abcdef"), Value::Struct({Value::String("x")})});
  struct BrokenCase {
    std::string bytes;
    std::string expected;  // in the message
  };
  const std::vector<BrokenCase> cases = {
      {good.substr(0, good.size() - 4), "column"},
      {std::string("\x12\x10short", 7), "column NAME"},
      {std::string("\x12\x02\xff\xfe", 4), "column NAME"},       // invalid UTF-8
      {std::string("\x1a\x04\x0a\x02\xc3\x28", 6), "column S"},  // nested invalid UTF-8
      {std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 12), "column ID"},
      {std::string("\x07", 1), "PROTOBUF"},  // wire type 7
      {std::string("\xff\xff\xff\xff\xff", 5), "PROTOBUF"},
  };
  for (const BrokenCase& broken : cases) {
    Row row;  // sized by the decoder even when the bytes fail (found by protobuf_fuzzer)
    Status status = codec.decoder->Decode(broken.bytes, row, 0);
    EXPECT_EQ(row.size(), 3u);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
    EXPECT_NE(status.message().find(broken.expected), std::string::npos) << status.ToString();
  }
  // The decoder is fine afterwards.
  Row row = Decode(codec, good, 3);
  EXPECT_EQ(row[1], Value::String("abcdef"));
}

TEST(ProtobufFormatTest, ConfluentWireFormat) {
  std::string header;
  AppendConfluentProtobufHeader(258, header);
  EXPECT_EQ(header, std::string("\x00\x00\x00\x01\x02\x00", 6));
  auto frame = ParseConfluentProtobufFrame(header + "\x08\x01");
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  EXPECT_EQ(frame->schema_id, 258);
  EXPECT_EQ(frame->message_indexes, std::vector<int32_t>{0});
  EXPECT_EQ(frame->message, "\x08\x01");
  // Indexes [1, 2]: count 2, then 1 and 2, all zig-zag.
  auto path =
      ParseConfluentProtobufFrame(std::string("\x00\x00\x00\x00\x05\x04\x02\x04\x08\x01", 10));
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(path->message_indexes, (std::vector<int32_t>{1, 2}));
  EXPECT_FALSE(ParseConfluentProtobufFrame(std::string("\x00\x00\x00", 3)).ok());
  EXPECT_FALSE(ParseConfluentProtobufFrame(std::string("\x00\x00\x00\x00\x05\x7f", 6)).ok());

  FormatOptions framed = Protobuf(ProtobufNullable::kDefault, "PROTOBUF");
  framed.schema_id = 258;
  Codec codec = MakeCodec(framed, {{"I", SqlType::Int()}});
  std::string bytes = Encode(codec, {Value::Int(1)});
  EXPECT_EQ(bytes, header + "\x08\x01");
  EXPECT_EQ(Decode(codec, bytes, 1)[0], Value::Int(1));
  // PROTOBUF reads bare messages too (no registry); PROTOBUF_NOSR never strips a header.
  EXPECT_EQ(Decode(codec, "\x08\x05", 1)[0], Value::Int(5));
  Codec bare = MakeCodec(Protobuf(), {{"I", SqlType::Int()}});
  Row row(1);
  EXPECT_FALSE(bare.decoder->Decode(bytes, row, 0).ok());
  // A message other than the schema's first is not what the columns describe.
  const std::string second_message("\x00\x00\x00\x00\x05\x02\x02\x08\x01", 9);
  EXPECT_FALSE(codec.decoder->Decode(second_message, row, 0).ok());
}

TEST(ProtobufFormatTest, SkippedColumnsAreLeftAlone) {
  std::vector<FormatColumn> columns = {{"A", SqlType::Int()}, {"B", SqlType::String()}};
  Codec codec = MakeCodec(Protobuf(), columns);
  std::string bytes = Encode(codec, {Value::Int(3), Value::String("b")});
  columns[1].skip = true;
  auto projected = MakeDecoder(Protobuf(), columns);
  ASSERT_TRUE(projected.ok());
  Row row = {Value::String("key"), Value::Null(), Value::String("kept")};
  ASSERT_TRUE((*projected)->Decode(bytes, row, 1).ok());
  EXPECT_EQ(row[0], Value::String("key"));
  EXPECT_EQ(row[1], Value::Int(3));
  EXPECT_EQ(row[2], Value::String("kept"));
}

}  // namespace
}  // namespace sidestream::formats
