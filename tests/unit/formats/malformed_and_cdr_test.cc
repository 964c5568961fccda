#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "connectors/datagen/cdr_generator.h"
#include "connectors/formats/row_format.h"

namespace sidestream::formats {
namespace {

using types::Row;
using types::SqlType;

std::unique_ptr<RowDecoder> JsonDecoder(std::vector<FormatColumn> columns, bool wrap = true) {
  FormatOptions options;
  options.wrap_single_value = wrap;
  auto decoder = MakeDecoder(options, std::move(columns));
  EXPECT_TRUE(decoder.ok());
  return std::move(decoder).value();
}

TEST(JsonMalformed, EveryBadMessageIsInvalidArgument) {
  SqlType point = SqlType::Struct({{"X", SqlType::Int()}});
  auto decoder = JsonDecoder({{"A", SqlType::Int()},
                              {"B", SqlType::String()},
                              {"C", SqlType::Decimal(4, 2)},
                              {"D", SqlType::Array(SqlType::Int())},
                              {"E", point},
                              {"F", SqlType::Boolean()},
                              {"G", SqlType::Double()},
                              {"H", SqlType::Timestamp()},
                              {"I", SqlType::Bytes()},
                              {"J", SqlType::Map(SqlType::String(), SqlType::Int())}});
  const std::vector<std::string> corpus = {
      "{",
      "{\"a\": 1",
      "{\"a\": 1,}",
      "{\"a\" 1}",
      "{\"a\": }",
      "{\"b\": \"unterminated}",
      "{\"a\": 1} trailing",
      "{\"a\": 1}{\"a\": 2}",
      "[1, 2",
      "[1, 2]",
      "\"just a string\"",
      "42",
      "true",
      "nul",
      "{\"a\": tru}",
      "{\"a\": \"abc\"}",
      "{\"a\": 1.5e400}",
      "{\"a\": 99999999999}",
      "{\"a\": 123456789012345678901234567890}",
      "{\"a\": {}}",
      "{\"a\": [1]}",
      "{\"c\": 123.45}",
      "{\"c\": \"1.2.3\"}",
      "{\"c\": 1e99999}",
      "{\"d\": [1, \"x\"]}",
      "{\"d\": {\"x\": 1}}",
      "{\"e\": {\"x\": \"y\"}}",
      "{\"e\": [1]}",
      "{\"f\": 1}",
      "{\"f\": \"maybe\"}",
      "{\"g\": \"1.5x\"}",
      "{\"g\": [1.5]}",
      "{\"h\": \"yesterday\"}",
      "{\"i\": \"not base64!\"}",
      "{\"j\": {\"k\": \"v\"}}",
      "{\"j\": [1, 2]}",
      std::string("{\"b\": \"\xff\xfe\"}"),
      std::string("{\"b\": \"\xc3\"}"),
      std::string("{\"a\": 1\0}", 9),
      "{\"a\": -}",
      "{\"a\": 01}",
      "{\"b\": \"bad escape \\x\"}",
      std::string(100000, '['),
      std::string(50000, '{'),
      "{\"d\": " + std::string(10000, '[') + std::string(10000, ']') + "}",
      "{\"zzz\": " + std::string(5000, '[') + "}",
      "\x01\x02\x03",
      "   ",
  };
  ASSERT_GE(corpus.size(), 25u);
  int errors = 0;
  for (const std::string& message : corpus) {
    Row row;
    Status status = decoder->Decode(message, row, 0);
    if (message == "   ") {
      EXPECT_TRUE(status.ok());  // an empty message is all NULL, like null
      continue;
    }
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument)
        << message.substr(0, 60) << " -> " << status.ToString();
    EXPECT_FALSE(status.message().empty());
    ++errors;
    // The decoder stays usable after an error.
    Row good;
    ASSERT_TRUE(decoder->Decode(R"({"a": 1})", good, 0).ok()) << message.substr(0, 60);
    EXPECT_EQ(good[0].integer(), 1);
  }
  EXPECT_GE(errors, 25);
}

TEST(JsonMalformed, ColumnNamedInTypeErrors) {
  auto decoder = JsonDecoder({{"A", SqlType::Int()}, {"NESTED", SqlType::Array(SqlType::Int())}});
  Row row;
  Status status = decoder->Decode(R"({"nested": [1, "x"]})", row, 0);
  EXPECT_EQ(status.message(), "column NESTED: expected INTEGER but got 'x'");
  status = decoder->Decode(R"({"a": 1e10})", row, 0);
  EXPECT_NE(status.message().find("column A: number '1e10' is out of range for INTEGER"),
            std::string::npos)
      << status.message();
}

TEST(CdrSample, EveryLineDecodes) {
  std::ifstream file(std::string(SIDESTREAM_SHARED_DIR) + "/cdr/sample-60min.jsonl");
  ASSERT_TRUE(file.good()) << "missing " << SIDESTREAM_SHARED_DIR << "/cdr/sample-60min.jsonl";
  auto decoder = JsonDecoder(datagen::CdrValueColumns());
  auto projected = JsonDecoder({{"CALLER", SqlType::String()},
                                {"START_TS", SqlType::Bigint()},
                                {"CHARGE", SqlType::Double()}});
  FormatOptions options;
  auto encoder = MakeEncoder(options, datagen::CdrValueColumns());
  ASSERT_TRUE(encoder.ok());
  std::string line;
  std::string encoded;
  size_t records = 0;
  size_t sms_texts = 0;
  Row row;
  Row again;
  Row slice;
  while (std::getline(file, line)) {
    if (line.empty()) continue;
    ASSERT_TRUE(decoder->Decode(line, row, 0).ok()) << line;
    ASSERT_TRUE(projected->Decode(line, slice, 0).ok()) << line;
    ASSERT_EQ(row.size(), 18u);
    EXPECT_FALSE(row[2].is_null());
    EXPECT_EQ(slice[0], row[2]);
    EXPECT_EQ(slice[1], row[6]);
    EXPECT_EQ(slice[2], row[17]);
    if (!row[15].is_null()) ++sms_texts;
    // Encoding and decoding again gives the same row.
    ASSERT_TRUE((*encoder)->Encode(row, 0, encoded).ok());
    ASSERT_TRUE(decoder->Decode(encoded, again, 0).ok()) << encoded;
    ASSERT_EQ(again, row) << line << "\n" << encoded;
    ++records;
  }
  EXPECT_EQ(records, 18856u);
  EXPECT_GT(sms_texts, 0u);
}

}  // namespace
}  // namespace sidestream::formats
