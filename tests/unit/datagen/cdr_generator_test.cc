#include "connectors/datagen/cdr_generator.h"

#include <gtest/gtest.h>

#include <cmath>
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

// Impossible travel (queries/impossible_travel.sql) must find the planted trips only: a caller
// calls from a home cell or a neighbour, so two records 500 km apart within 10 minutes always
// include a planted one.
TEST(CdrGeneratorTest, OnlyPlantedTravelCoversFiveHundredKilometresInTenMinutes) {
  CdrGenerator generator(CdrGeneratorOptions{.seed = 5, .records_per_second = 500});
  struct Last {
    double lat = 0, lon = 0;
    int64_t time = 0;
    bool planted = false;
  };
  std::map<std::string, Last> last;
  GeneratedCdr record;
  int far_pairs = 0, unplanted_far_pairs = 0;
  for (int i = 0; i < 200'000; ++i) {
    generator.Next(record);
    const nlohmann::json value = nlohmann::json::parse(record.value);
    const double lat = value["lat"].get<double>(), lon = value["lon"].get<double>();
    const bool planted = record.pattern == "impossible_travel";
    auto found = last.find(record.key);
    if (found != last.end() && std::abs(found->second.time - record.event_time) <= 600'000) {
      constexpr double kRadians = 3.14159265358979323846 / 180.0;
      const double a = std::pow(std::sin((lat - found->second.lat) * kRadians / 2), 2) +
                       std::cos(lat * kRadians) * std::cos(found->second.lat * kRadians) *
                           std::pow(std::sin((lon - found->second.lon) * kRadians / 2), 2);
      if (2 * 6371.0 * std::asin(std::sqrt(a)) >= 500) {
        ++far_pairs;
        if (!planted && !found->second.planted) ++unplanted_far_pairs;
      }
    }
    last[record.key] = {lat, lon, record.event_time, planted};
  }
  EXPECT_GE(far_pairs, 5);
  EXPECT_EQ(unplanted_far_pairs, 0);
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
  EXPECT_GE(distinct_callers(true), 9'850u);   // planted patterns (bursts, travel) reuse a few
  EXPECT_LT(distinct_callers(false), 7'000u);  // about 1 - 1/e of them
}

// With campaigns, each sends kCampaignRecipients records to campaign_sends, half per arm, and
// the treatment arm's recipients convert (a DATA session of 100 MB or more, within a minute of
// the send) about four times as often as the control arm's.
TEST(CdrGeneratorTest, CampaignsSendBothArmsAndTheTreatmentConvertsMore) {
  CdrGenerator generator(
      CdrGeneratorOptions{.seed = 5, .records_per_second = 1000, .campaign_every_ms = 60'000});
  std::map<std::string, std::set<std::string>> sent;  // by arm
  std::map<std::string, int64_t> sent_at;             // by recipient
  std::set<std::string> converted;
  std::map<std::string, int> per_campaign;
  GeneratedCdr record;
  for (int i = 0; i < 300'000; ++i) {  // 300 s of event time: 5 campaigns
    generator.Next(record);
    nlohmann::json value = nlohmann::json::parse(record.value);
    if (record.topic == "campaign_sends") {
      ASSERT_EQ(value["msisdn"], record.key);
      ASSERT_EQ(value["sent_ts"].get<int64_t>(), record.event_time);
      sent[value["arm"].get<std::string>()].insert(record.key);
      sent_at[record.key] = record.event_time;
      per_campaign[value["campaign_id"].get<std::string>()]++;
      continue;
    }
    ASSERT_EQ(record.topic, "cdr");
    auto at = sent_at.find(record.key);
    if (value["record_type"] == "DATA" && value["bytes_down"].get<int64_t>() >= 100'000'000 &&
        at != sent_at.end() && record.event_time >= at->second &&
        record.event_time < at->second + 60'000) {
      converted.insert(record.key);
    }
  }
  EXPECT_EQ(per_campaign.size(), 5u);
  for (const auto& [campaign, sends] : per_campaign) EXPECT_EQ(sends, kCampaignRecipients);
  auto rate = [&](const std::string& arm) {
    int hits = 0;
    for (const std::string& msisdn : sent[arm]) hits += converted.count(msisdn);
    return static_cast<double>(hits) / static_cast<double>(sent[arm].size());
  };
  ASSERT_GT(sent["treatment"].size(), 200u);
  ASSERT_GT(sent["control"].size(), 200u);
  EXPECT_NEAR(rate("treatment"), 0.40, 0.08);
  EXPECT_NEAR(rate("control"), 0.10, 0.06);
}

}  // namespace
}  // namespace sidestream::datagen
