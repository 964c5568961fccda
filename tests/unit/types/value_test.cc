#include "types/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "types/value_codec.h"

namespace sidestream::types {
namespace {

TEST(ValueTest, DecimalsPrintWithTheirScale) {
  const __int128 max = std::numeric_limits<__int128>::max();
  const __int128 min = std::numeric_limits<__int128>::min();
  const std::pair<Decimal, const char*> table[] = {
      {{12345, 2}, "123.45"},
      {{-5, 3}, "-0.005"},
      {{0, 2}, "0.00"},
      {{7, 0}, "7"},
      {{12, -1}, "12"},  // a negative scale prints the unscaled digits
      {{static_cast<__int128>(1) << 64, 0}, "18446744073709551616"},
      {{max, 38}, "1.70141183460469231731687303715884105727"},
      {{min, 0}, "-170141183460469231731687303715884105728"},
  };
  for (const auto& [decimal, expected] : table) {
    EXPECT_EQ(DecimalToString(decimal), expected);
    std::string appended = "x=";
    AppendDecimal(decimal, appended);
    EXPECT_EQ(appended, std::string("x=") + expected);
  }
  // A scale beyond the digits of any 128-bit value (found by tests/fuzz/row_codec_fuzzer: a
  // scale of 80 or more read past the digit buffer).
  EXPECT_EQ(DecimalToString({1, 100}), "0." + std::string(99, '0') + "1");
  EXPECT_EQ(DecimalToString({-25, 80}), "-0." + std::string(78, '0') + "25");
  EXPECT_EQ(DecimalToString({0, 500}), "0." + std::string(500, '0'));
  EXPECT_EQ(DecimalToString({min, 45}), "-0.000000170141183460469231731687303715884105728");
}

TEST(ValueTest, ScalarsShareStorageByKind) {
  Value value = Value::DecimalValue(-123456789, 4);
  EXPECT_EQ(DecimalToString(value.decimal()), "-12345.6789");
  value.SetDouble(2.5);
  EXPECT_EQ(value.float64(), 2.5);
  value.SetInteger(TypeId::kBigint, -7);
  EXPECT_EQ(value.integer(), -7);
  value.AssignString("cell-17");
  EXPECT_EQ(value.string(), "cell-17");
  EXPECT_EQ(Value::Compare(Value::DecimalValue(250, 2), Value::Double(2.5)), 0);
}

// Aligning scales must not overflow 128 bits (found by tests/fuzz/row_codec_fuzzer): a
// value too large to scale up is larger than anything at the other's scale.
TEST(ValueTest, DecimalsCompareExactlyWhenAligningScalesWouldOverflow) {
  __int128 e37 = 1;
  for (int i = 0; i < 37; ++i) e37 *= 10;
  EXPECT_EQ(Value::Compare(Value::DecimalValue(e37, 0), Value::DecimalValue(1, 2)), 1);
  EXPECT_EQ(Value::Compare(Value::DecimalValue(1, 2), Value::DecimalValue(e37, 0)), -1);
  EXPECT_EQ(Value::Compare(Value::DecimalValue(-e37, 0), Value::DecimalValue(-1, 2)), -1);
  EXPECT_EQ(Value::Compare(Value::DecimalValue(-e37, 0), Value::DecimalValue(1, 2)), -1);
  EXPECT_EQ(Value::Compare(Value::Bigint(5), Value::DecimalValue(1, 38)), 1);
  EXPECT_EQ(Value::Compare(Value::Bigint(-5), Value::DecimalValue(-1, 38)), -1);
  EXPECT_EQ(Value::Compare(Value::DecimalValue(e37, 38), Value::DecimalValue(e37, 37)), -1);
  EXPECT_EQ(Value::Compare(Value::DecimalValue(0, 0), Value::DecimalValue(0, 1000000000)), 0);
  EXPECT_EQ(Value::Compare(Value::DecimalValue(250, 2), Value::DecimalValue(25, 1)), 0);
  EXPECT_EQ(Value::Compare(Value::DecimalValue(-250, 2), Value::Int(-3)), 1);
}

// Group keys mix kinds (an INT key against a BIGINT literal): equal values hash equal.
TEST(ValueTest, EqualNumbersHashEqualAcrossKinds) {
  EXPECT_EQ(Value::Int(7).Hash(), Value::Bigint(7).Hash());
  EXPECT_EQ(Value::Bigint(7).Hash(), Value::Double(7.0).Hash());
  EXPECT_EQ(Value::Double(7.0).Hash(), Value::DecimalValue(700, 2).Hash());
  EXPECT_EQ(Value::Double(0.0).Hash(), Value::Double(-0.0).Hash());
  EXPECT_NE(Value::Bigint(7).Hash(), Value::Bigint(8).Hash());
  EXPECT_EQ(Value::String("cell-1").Hash(), Value::String(std::string("cell-") + "1").Hash());
  EXPECT_NE(Value::String("cell-1").Hash(), Value::String("cell-2").Hash());
}

TEST(ValueCodecTest, RowsRoundTripEveryKind) {
  const __int128 min = std::numeric_limits<__int128>::min();
  const Row row = {Value::Null(),
                   Value::Boolean(true),
                   Value::Int(-7),
                   Value::Bigint(std::numeric_limits<int64_t>::min()),
                   Value::Double(-0.1),
                   Value::DecimalValue(min, 38),
                   Value::DecimalValue(12, -1),
                   Value::String(std::string("caf\xc3\xa9\0x", 7)),
                   Value::Bytes(std::string(300, '\xff')),
                   Value::Timestamp(1768435200123),
                   Value::Date(-1),
                   Value::Time(86399999),
                   Value::Array({Value::Int(1), Value::Null()}),
                   Value::Map({Value::String("k"), Value::Struct({Value::Double(2.5)})}),
                   Value::Struct({})};
  std::string bytes;
  EncodeRow(row, bytes);
  Row decoded;
  ASSERT_TRUE(DecodeRow(bytes, decoded).ok());
  ASSERT_EQ(decoded.size(), row.size());
  for (size_t i = 0; i < row.size(); ++i) {
    EXPECT_EQ(decoded[i].kind(), row[i].kind()) << i;
    EXPECT_EQ(decoded[i].DebugString(), row[i].DebugString()) << i;
  }
  EXPECT_EQ(decoded[5].decimal().unscaled, min);
  EXPECT_EQ(decoded[5].decimal().scale, 38);
  EXPECT_EQ(decoded[7].string().size(), 7u);
  EXPECT_TRUE(std::isnan(decoded[4].float64()) == false && decoded[4].float64() == -0.1);
}

TEST(ValueCodecTest, DamagedBytesAreCorruptionNotACrash) {
  std::string bytes;
  EncodeRow({Value::String("abc"), Value::Array({Value::Bigint(1)})}, bytes);
  Row decoded;
  for (size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_EQ(DecodeRow(bytes.substr(0, length), decoded).code(), StatusCode::kCorruption)
        << length;
  }
  EXPECT_EQ(DecodeRow(bytes + "x", decoded).code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeRow(std::string("\x01\x63"), decoded).code(), StatusCode::kCorruption);
}

// A damaged DECIMAL scale is Corruption (found by tests/fuzz/row_codec_fuzzer: a scale of
// 1.6 billion made DebugString build a 1.6 GB string).
TEST(ValueCodecTest, DecimalScalesBeyondAnyTypeAreCorruption) {
  Row decoded;
  for (int scale : {0, 38, kMaxDecimalPrecision, -kMaxDecimalPrecision}) {
    std::string bytes;
    EncodeRow({Value::DecimalValue(5, scale)}, bytes);
    ASSERT_TRUE(DecodeRow(bytes, decoded).ok()) << scale;
    EXPECT_EQ(decoded[0].decimal().scale, scale);
  }
  for (int scale : {kMaxDecimalPrecision + 1, 1'600'000'000, -kMaxDecimalPrecision - 1}) {
    std::string bytes;
    EncodeRow({Value::DecimalValue(5, scale)}, bytes);
    EXPECT_EQ(DecodeRow(bytes, decoded).code(), StatusCode::kCorruption) << scale;
  }
}

}  // namespace
}  // namespace sidestream::types
