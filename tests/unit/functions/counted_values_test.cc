// counted_values: the multiset behind COUNT_DISTINCT and HISTOGRAM, checked against std::map
// through random changes that cross from the small layout to the hashed one, grow the table
// and empty it again, and through a changelog round trip of its state.
#include "functions/counted_values.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "types/value_codec.h"

namespace sidestream::functions {
namespace {

using types::Value;

std::map<std::string, int64_t> Contents(const Value& state) {
  std::map<std::string, int64_t> contents;
  counted_values::ForEach(state, [&](const Value& value, int64_t count) {
    EXPECT_TRUE(contents.emplace(value.DebugString(), count).second) << "listed twice";
  });
  return contents;
}

std::map<std::string, int64_t> MapContents(const Value& map) {
  std::map<std::string, int64_t> contents;
  const auto& children = map.children();
  EXPECT_EQ(children.size() % 2, 0u);
  for (size_t i = 0; i + 1 < children.size(); i += 2) {
    EXPECT_FALSE(children[i].is_null());
    contents[children[i].DebugString()] = children[i + 1].integer();
  }
  return contents;
}

// Values 0..range-1, as strings or as integers (INT and BIGINT alike, as equal numbers are).
Value Pick(std::mt19937_64& random, int range, bool strings) {
  const auto n = static_cast<int64_t>(random() % static_cast<uint64_t>(range));
  if (strings) return Value::String("+4917" + std::to_string(n));
  return random() % 2 ? Value::Bigint(n) : Value::Int(static_cast<int32_t>(n));
}

class CountedValuesTest : public testing::TestWithParam<bool> {};

TEST_P(CountedValuesTest, MatchesAMapThroughGrowthAndRemoval) {
  std::mt19937_64 random(7);
  Value state = Value::Map({});
  std::map<std::string, int64_t> expected;
  // Grow to ~1,500 values (small layout, then tables of 64 up to 4,096 slots), then remove
  // more than is added, down to empty.
  for (int step = 0; step < 20'000; ++step) {
    const bool growing = step < 12'000;
    const Value value = Pick(random, 2'000, GetParam());
    const int64_t delta = growing ? (random() % 4 == 0 ? -1 : 1) : (random() % 4 == 0 ? 1 : -3);
    counted_values::Change(state, value, delta);
    int64_t& count = expected[value.DebugString()];
    count += delta;
    if (count <= 0) expected.erase(value.DebugString());
    ASSERT_EQ(counted_values::Size(state), static_cast<int64_t>(expected.size())) << step;
    if (step % 500 == 0 || expected.size() < 40) {
      ASSERT_EQ(Contents(state), expected) << step;
      ASSERT_EQ(MapContents(counted_values::ToMap(state)), expected) << step;
    }
  }
  // Then every value still held goes, one at a time, through backward-shift deletion.
  std::vector<std::pair<Value, int64_t>> left;
  counted_values::ForEach(
      state, [&](const Value& value, int64_t count) { left.emplace_back(value, count); });
  ASSERT_GT(left.size(), 100u);
  for (const auto& [value, count] : left) {
    counted_values::Change(state, value, -count);
    expected.erase(value.DebugString());
    ASSERT_EQ(Contents(state), expected);
  }
  EXPECT_EQ(counted_values::Size(state), 0);
}

TEST_P(CountedValuesTest, StateSurvivesTheChangelogCodec) {
  std::mt19937_64 random(11);
  Value state = Value::Map({});
  std::map<std::string, int64_t> expected;
  for (int step = 0; step < 3'000; ++step) {
    const Value value = Pick(random, 500, GetParam());
    counted_values::Change(state, value, 1);
    ++expected[value.DebugString()];
    if (step % 700 == 0 || step == 10) {  // small and hashed states both go through the codec
      std::string bytes;
      types::EncodeRow({state}, bytes);
      types::Row decoded;
      const Status status = types::DecodeRow(bytes, decoded);
      ASSERT_TRUE(status.ok()) << status.ToString();
      state = decoded[0];
      ASSERT_EQ(Contents(state), expected) << step;
    }
  }
  EXPECT_EQ(counted_values::Size(state), static_cast<int64_t>(expected.size()));
}

// A state from a damaged changelog (here: a full table whose count says 1, and a table of 3
// slots) is rebuilt from the values it holds, never probed forever or out of bounds.
TEST(CountedValuesDamagedTest, ADamagedTableIsRebuilt) {
  std::vector<Value> full;
  for (int i = 0; i < 4; ++i) {
    full.push_back(Value::Bigint(i));
    full.push_back(Value::Bigint(1));
  }
  full.push_back(Value::Bigint(1));
  Value state = Value::Map(full);
  counted_values::Change(state, Value::Bigint(9), 1);
  EXPECT_EQ(counted_values::Size(state), 5);
  EXPECT_EQ(Contents(state),
            (std::map<std::string, int64_t>{{"0", 1}, {"1", 1}, {"2", 1}, {"3", 1}, {"9", 1}}));

  Value odd = Value::Map({Value::Bigint(1), Value::Bigint(2), Value::Null(), Value::Null(),
                          Value::Null(), Value::Null(), Value::Bigint(7)});
  counted_values::Change(odd, Value::Bigint(1), 1);
  EXPECT_EQ(Contents(odd), (std::map<std::string, int64_t>{{"1", 3}}));
}

INSTANTIATE_TEST_SUITE_P(Kinds, CountedValuesTest, testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Strings" : "Numbers"; });

}  // namespace
}  // namespace sidestream::functions
