#include "connectors/datagen/cdr_generator.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace sidestream::datagen {
namespace {

TEST(CdrGeneratorTest, SameSeedSameStream) {
  CdrGenerator a(CdrGeneratorOptions{.seed = 7});
  CdrGenerator b(CdrGeneratorOptions{.seed = 7});
  GeneratedCdr x, y;
  for (int i = 0; i < 1000; ++i) {
    a.Next(x);
    b.Next(y);
    ASSERT_EQ(x.value, y.value);
  }
}

TEST(CdrGeneratorTest, RecordsFollowTheSchemaWithLateArrivalsAndPatterns) {
  CdrGenerator generator(CdrGeneratorOptions{.seed = 3, .records_per_second = 200});
  GeneratedCdr record;
  std::map<std::string, int> types, patterns;
  int64_t newest = 0;
  int late = 0;
  const int kRecords = 200'000;
  for (int i = 0; i < kRecords; ++i) {
    generator.Next(record);
    nlohmann::json value = nlohmann::json::parse(record.value);
    ASSERT_EQ(value.size(), 18u) << record.value;
    ASSERT_EQ(value["caller"], record.key);
    ASSERT_EQ(value["start_ts"].get<int64_t>(), record.event_time);
    ASSERT_TRUE(value["lat"].is_number() && value["roaming"].is_boolean());
    types[value["record_type"].get<std::string>()]++;
    if (!record.pattern.empty()) patterns[record.pattern]++;
    if (record.event_time < newest) ++late;
    newest = std::max(newest, record.event_time);
  }
  EXPECT_EQ(types.size(), 3u);
  EXPECT_GT(types["VOICE"], kRecords / 2);
  EXPECT_NEAR(late, kRecords * 0.011, kRecords * 0.005);  // about 1.1% arrive late
  EXPECT_GT(patterns["call_burst"], 60);
  EXPECT_GT(patterns["threat_sms"], 10);
  EXPECT_GT(patterns["near_miss_sms"], 10);
}

// W3 needs as many distinct callers as records: with distinct_callers_first each subscriber
// calls once before any calls again; drawn at random, many repeat.
TEST(CdrGeneratorTest, DistinctCallersFirstGivesEveryRecordANewCaller) {
  auto distinct_callers = [](bool distinct_first) {
    CdrGenerator generator(
        CdrGeneratorOptions{.subscribers = 10'000, .distinct_callers_first = distinct_first});
    std::set<std::string> callers;
    GeneratedCdr record;
    for (int i = 0; i < 10'000; ++i) {
      generator.Next(record);
      callers.insert(record.key);
    }
    return callers.size();
  };
  EXPECT_GE(distinct_callers(true), 9'900u);   // planted patterns reuse a few callers
  EXPECT_LT(distinct_callers(false), 7'000u);  // about 1 - 1/e of them
}

}  // namespace
}  // namespace sidestream::datagen
