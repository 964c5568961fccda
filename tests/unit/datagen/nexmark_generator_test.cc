#include "connectors/datagen/nexmark_generator.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace sidestream::datagen {
namespace {

using nlohmann::json;

std::vector<std::string> Keys(const json& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  return keys;
}

TEST(NexmarkGeneratorTest, SameSeedSameStreamOtherSeedOtherStream) {
  NexmarkGenerator a({.seed = 7}), b({.seed = 7}), c({.seed = 8});
  GeneratedNexmarkEvent x, y, z;
  int differ = 0;
  for (int i = 0; i < 5000; ++i) {
    a.Next(x);
    b.Next(y);
    c.Next(z);
    ASSERT_EQ(x.value, y.value);
    ASSERT_EQ(x.type, z.type);  // the kind depends on the event id only
    differ += x.value != z.value;
  }
  EXPECT_EQ(differ, 5000);
}

TEST(NexmarkGeneratorTest, OneInFiftyIsAPersonThreeAreAuctionsTheRestBids) {
  NexmarkGenerator generator({.seed = 3});
  GeneratedNexmarkEvent event;
  std::map<NexmarkEventType, int> counts;
  for (int i = 0; i < 50'000; ++i) {
    generator.Next(event);
    ++counts[event.type];
  }
  EXPECT_EQ(counts[NexmarkEventType::kPerson], 1'000);   // 2%
  EXPECT_EQ(counts[NexmarkEventType::kAuction], 3'000);  // 6%
  EXPECT_EQ(counts[NexmarkEventType::kBid], 46'000);     // 92%
}

TEST(NexmarkGeneratorTest, EventsAreJsonWithTheSpecFieldsSizesAndIds) {
  NexmarkGenerator generator({.seed = 5, .start_ms = 1'000'000, .events_per_second = 1000});
  GeneratedNexmarkEvent event;
  const std::map<std::string, std::set<std::string>> fields = {
      {"person",
       {"id", "name", "emailAddress", "creditCard", "city", "state", "dateTime", "extra"}},
      {"auction",
       {"id", "itemName", "description", "initialBid", "reserve", "dateTime", "expires", "seller",
        "category", "extra"}},
      {"bid", {"auction", "bidder", "price", "channel", "url", "dateTime", "extra"}}};
  const char* kinds[] = {"person", "auction", "bid"};
  std::map<std::string, double> bytes;
  std::map<std::string, int> counts;
  int64_t newest_person = 0, newest_auction = 0, previous_time = 0, hot_bids = 0;
  for (int i = 0; i < 20'000; ++i) {
    generator.Next(event);
    ASSERT_EQ(event.event_id, i);
    const json value = json::parse(event.value);  // throws on bad JSON
    const std::string kind = kinds[static_cast<int>(event.type)];
    ASSERT_EQ(value["event_type"], static_cast<int>(event.type));
    ASSERT_EQ(Keys(value).size(), 2u) << event.value;
    const json& body = value.at(kind);
    std::vector<std::string> keys = Keys(body);
    ASSERT_EQ(std::set<std::string>(keys.begin(), keys.end()), fields.at(kind)) << event.value;
    ASSERT_EQ(body["dateTime"].get<int64_t>(), event.event_time);
    ASSERT_EQ(event.event_time, 1'000'000 + i);  // 1000 events per second of event time
    ASSERT_GE(event.event_time, previous_time);
    previous_time = event.event_time;
    ++counts[kind];
    // Sizes as the reference counts them: 8 B per number, some strings, and the padding.
    auto length = [&body](const char* name) {
      return static_cast<double>(body[name].get<std::string>().size());
    };
    if (kind == "person") {
      bytes[kind] += 8 + length("name") + length("emailAddress") + length("creditCard") +
                     length("city") + length("state") + length("extra");
    } else if (kind == "auction") {
      bytes[kind] += 8 + length("itemName") + length("description") + 5 * 8 + length("extra");
    } else {
      bytes[kind] += 4 * 8 + length("extra");
    }
    if (kind == "person") {
      EXPECT_EQ(body["id"].get<int64_t>(), 1000 + newest_person++);
      EXPECT_EQ(body["creditCard"].get<std::string>().size(), 19u);
    } else if (kind == "auction") {
      EXPECT_EQ(body["id"].get<int64_t>(), 1000 + newest_auction++);
      EXPECT_GT(body["expires"].get<int64_t>(), event.event_time);
      EXPECT_GE(body["reserve"].get<int64_t>(), body["initialBid"].get<int64_t>());
      EXPECT_GE(body["category"].get<int64_t>(), 10);
      EXPECT_LT(body["category"].get<int64_t>(), 15);
    } else {
      const int64_t auction = body["auction"].get<int64_t>();
      EXPECT_GE(auction, 1000);
      EXPECT_LT(auction, 1000 + newest_auction + 10);       // at most 10 ahead of the newest
      EXPECT_GE(auction, 1000 + newest_auction - 1 - 100);  // in flight
      hot_bids += (auction - 1000) % 100 == 0;
      EXPECT_GE(body["price"].get<int64_t>(), 100);
      EXPECT_LE(body["price"].get<int64_t>(), 100'000'000);
      EXPECT_EQ(body["url"].get<std::string>().rfind("https://www.nexmark.com/", 0), 0u);
    }
  }
  EXPECT_NEAR(bytes["person"] / counts["person"], 200, 10);
  EXPECT_NEAR(bytes["auction"] / counts["auction"], 500, 25);
  EXPECT_NEAR(bytes["bid"] / counts["bid"], 100, 5);
  // Half the bids go to the newest hot auction (a multiple of 100).
  EXPECT_GT(hot_bids, counts["bid"] * 45 / 100);
}

}  // namespace
}  // namespace sidestream::datagen
