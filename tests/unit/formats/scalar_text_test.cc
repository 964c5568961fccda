#include "connectors/formats/scalar_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace sidestream::formats {
namespace {

TEST(JavaDouble, MatchesDoubleToString) {
  const std::pair<double, const char*> table[] = {
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {1.0, "1.0"},
      {-1.0, "-1.0"},
      {0.1, "0.1"},
      {0.001, "0.001"},
      {0.0001, "1.0E-4"},
      {1.0e-5, "1.0E-5"},
      {100.0, "100.0"},
      {1234.589, "1234.589"},
      {9999999.0, "9999999.0"},
      {1.0e7, "1.0E7"},
      {1.2e7, "1.2E7"},
      {123456789.0, "1.23456789E8"},
      {1.7976931348623157e308, "1.7976931348623157E308"},
      {4.9e-324, "4.9E-324"},
      {2.2250738585072014e-308, "2.2250738585072014E-308"},
      {1.0e23, "1.0E23"},
      {0.30000000000000004, "0.30000000000000004"},
      {2.0e-3, "0.002"},
      {-1.5e-7, "-1.5E-7"},
      {3.14159, "3.14159"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
      {std::numeric_limits<double>::infinity(), "Infinity"},
      {-std::numeric_limits<double>::infinity(), "-Infinity"},
  };
  for (const auto& [value, expected] : table) {
    EXPECT_EQ(JavaDoubleString(value), expected) << value;
  }
}

// The plain-notation fast path (10^-3 <= |x| < 10^7) writes what the general path does,
// for random magnitudes, whole numbers and two-decimal numbers in that range, and its edges.
TEST(JavaDouble, FastPathMatchesGeneralPath) {
  std::mt19937_64 random(42);
  std::uniform_real_distribution<double> exponent(-3.0, 7.0);
  std::vector<double> values = {1e-3, -1e-3, std::nextafter(1e7, 0.0), 0.5, 2.0, 1e6, 12.5};
  for (int i = 0; i < 200000; ++i) {
    double value = std::pow(10.0, exponent(random));
    values.push_back(i % 2 ? value : -value);
    values.push_back(std::round(value * 100) / 100);  // two decimals, like money
    values.push_back(std::round(value));
  }
  for (double value : values) {
    if (std::fabs(value) < 1e-3 || std::fabs(value) >= 1e7) continue;
    std::string fast, general;
    AppendJavaDouble(value, fast);
    AppendJavaDoubleGeneral(value, general);
    ASSERT_EQ(fast, general) << std::hexfloat << value;
  }
}

TEST(ScalarText, IntegersAreStrict) {
  int64_t out = 0;
  EXPECT_TRUE(ParseInteger("42", out));
  EXPECT_EQ(out, 42);
  EXPECT_TRUE(ParseInteger("+3", out));
  EXPECT_EQ(out, 3);
  EXPECT_TRUE(ParseInteger("-9223372036854775808", out));
  for (const char* bad :
       {"", "+", "-", "1.0", " 1", "1 ", "0x10", "9223372036854775808", "1e3", "+-1", "abc"}) {
    EXPECT_FALSE(ParseInteger(bad, out)) << bad;
  }
}

TEST(ScalarText, Doubles) {
  double out = 0;
  EXPECT_TRUE(ParseDouble(" 1.5 ", out));
  EXPECT_EQ(out, 1.5);
  EXPECT_TRUE(ParseDouble("-2e3", out));
  EXPECT_EQ(out, -2000);
  EXPECT_TRUE(ParseDouble("NaN", out));
  EXPECT_TRUE(std::isnan(out));
  EXPECT_TRUE(ParseDouble("-Infinity", out));
  EXPECT_EQ(out, -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(ParseDouble("1e999", out));
  EXPECT_TRUE(std::isinf(out));
  for (const char* bad : {"", "abc", "inf", "nan", "1.2.3", "1,5", "--1"}) {
    EXPECT_FALSE(ParseDouble(bad, out)) << bad;
  }
}

TEST(ScalarText, DecimalsRescaleAndRound) {
  types::Decimal out;
  ASSERT_TRUE(ParseDecimal(".12", 33, 16, out).ok());
  EXPECT_EQ(types::DecimalToString(out), "0.1200000000000000");
  ASSERT_TRUE(ParseDecimal("12.0", 6, 4, out).ok());
  EXPECT_EQ(types::DecimalToString(out), "12.0000");
  ASSERT_TRUE(ParseDecimal("-01.795", 4, 2, out).ok());
  EXPECT_EQ(types::DecimalToString(out), "-1.80");
  ASSERT_TRUE(ParseDecimal("1.5e2", 5, 1, out).ok());
  EXPECT_EQ(types::DecimalToString(out), "150.0");
  ASSERT_TRUE(ParseDecimal("12345678987654321.2345678987654321", 33, 16, out).ok());
  EXPECT_EQ(types::DecimalToString(out), "12345678987654321.2345678987654321");
  EXPECT_FALSE(ParseDecimal("100.0", 4, 2, out).ok());
  EXPECT_FALSE(ParseDecimal("1e100", 38, 0, out).ok());
  EXPECT_FALSE(ParseDecimal("12a", 4, 2, out).ok());
  EXPECT_FALSE(ParseDecimal("", 4, 2, out).ok());
  EXPECT_FALSE(ParseDecimal(".", 4, 2, out).ok());
  EXPECT_FALSE(ParseDecimal("123456789012345678901234567890123456789012", 38, 0, out).ok());
}

TEST(ScalarText, Temporals) {
  int64_t ms = 0;
  ASSERT_TRUE(ParseTimestamp("1970-01-01T00:00:00Z", ms));
  EXPECT_EQ(ms, 0);
  ASSERT_TRUE(ParseTimestamp("2026-01-15T00:00:00.097", ms));
  EXPECT_EQ(ms, 1768435200097);
  ASSERT_TRUE(ParseTimestamp("1970-01-01T01:00:00+01:00", ms));
  EXPECT_EQ(ms, 0);
  ASSERT_TRUE(ParseTimestamp("1969-12-31", ms));
  EXPECT_EQ(ms, -86400000);
  EXPECT_FALSE(ParseTimestamp("2021-02-29T00:00:00", ms));
  EXPECT_FALSE(ParseTimestamp("2021-13-01", ms));
  EXPECT_FALSE(ParseTimestamp("2021-01-01T25:00", ms));
  int32_t days = 0;
  ASSERT_TRUE(ParseDate("2000-03-01", days));
  EXPECT_EQ(days, 11017);
  int32_t time = 0;
  ASSERT_TRUE(ParseTime("23:59:59.999", time));
  EXPECT_EQ(time, 86399999);
  EXPECT_FALSE(ParseTime("24:00", time));
}

TEST(ScalarText, Base64RoundTrip) {
  for (std::string bytes : {std::string(), std::string("a"), std::string("ab"), std::string("abc"),
                            std::string("\0\xff\x7f", 3)}) {
    std::string text;
    AppendBase64(bytes, text);
    std::string back;
    ASSERT_TRUE(DecodeBase64(text, back)) << text;
    EXPECT_EQ(back, bytes);
  }
  std::string text;
  AppendBase64("hi!", text);
  EXPECT_EQ(text, "aGkh");
  std::string back;
  EXPECT_FALSE(DecodeBase64("a$==", back));
  EXPECT_FALSE(DecodeBase64("a", back));
}

}  // namespace
}  // namespace sidestream::formats
