#include "connectors/datagen/nexmark_generator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>

namespace sidestream::datagen {

namespace {

// The reference generator's configuration defaults (Beam's NexmarkConfiguration, used
// unchanged by Flink's nexmark).
constexpr int64_t kPersonProportion = 1;
constexpr int64_t kAuctionProportion = 3;
constexpr int64_t kTotalProportion = 50;  // with 46 bids
constexpr int64_t kFirstPersonId = 1000;
constexpr int64_t kFirstAuctionId = 1000;
constexpr int64_t kFirstCategoryId = 10;
constexpr int64_t kCategories = 5;
constexpr int64_t kActivePeople = 1000;
constexpr int64_t kInFlightAuctions = 100;
constexpr int64_t kPersonIdLead = 10;  // ids a little ahead of the newest, as in the spec
constexpr int64_t kAuctionIdLead = 10;
// 1 in ratio picks a random recent auction, seller or bidder; the rest pick a "hot" one:
// the newest multiple of 100.
constexpr int64_t kHotAuctionRatio = 2;
constexpr int64_t kHotSellersRatio = 4;
constexpr int64_t kHotBiddersRatio = 4;
constexpr int64_t kHotStride = 100;
constexpr int64_t kHotChannelsRatio = 2;
constexpr int64_t kChannels = 10'000;
constexpr int kAveragePersonBytes = 200;
constexpr int kAverageAuctionBytes = 500;
constexpr int kAverageBidBytes = 100;

constexpr const char* kFirstNames[] = {"Peter", "Paul",  "Luke",  "John",   "Saul",  "Vicky",
                                       "Kate",  "Julie", "Sarah", "Deiter", "Walter"};
constexpr const char* kLastNames[] = {"Shultz", "Abrams", "Spencer", "White", "Bartels",
                                      "Walton", "Smith",  "Jones",   "Noris"};
constexpr const char* kCities[] = {"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
                                   "Bend",    "Redmond",     "Seattle",       "Kent",  "Cheyenne"};
constexpr const char* kStates[] = {"AZ", "CA", "ID", "OR", "WA", "WY"};
constexpr const char* kHotChannels[] = {"Google", "Facebook", "Baidu", "Apple"};

/// SplitMix64: tiny and seedable per event, so that each event depends only on (seed, id)
/// as in the reference, where every event draws from `new Random(eventId)`.
class Random {
 public:
  Random(uint64_t seed, uint64_t stream) : state_(seed * 0x9E3779B97F4A7C15ULL ^ (stream + 1)) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, bound), bound > 0.
  int64_t Below(int64_t bound) {
    return static_cast<int64_t>(Next() % static_cast<uint64_t>(bound));
  }
  /// Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  template <size_t N>
  const char* Pick(const char* const (&choices)[N]) {
    return choices[Below(N)];
  }

 private:
  uint64_t state_;
};

// Ids are dense per kind: the person, auction or bid counters advance only with events of
// their kind, so the newest id follows from the event id alone.
int64_t LastBase0PersonId(int64_t event_id) {
  const int64_t epoch = event_id / kTotalProportion;
  const int64_t offset = std::min(event_id % kTotalProportion, kPersonProportion - 1);
  return epoch * kPersonProportion + offset;
}

int64_t LastBase0AuctionId(int64_t event_id) {
  int64_t epoch = event_id / kTotalProportion;
  int64_t offset = event_id % kTotalProportion;
  if (offset < kPersonProportion) {
    --epoch;
    offset = kAuctionProportion - 1;
  } else if (offset >= kPersonProportion + kAuctionProportion) {
    offset = kAuctionProportion - 1;
  } else {
    offset -= kPersonProportion;
  }
  return epoch * kAuctionProportion + offset;
}

int64_t NextBase0PersonId(int64_t event_id, Random& random) {
  const int64_t people = LastBase0PersonId(event_id) + 1;
  const int64_t active = std::min(people, kActivePeople);
  return people - active + random.Below(active + kPersonIdLead);
}

int64_t NextBase0AuctionId(int64_t event_id, Random& random) {
  const int64_t newest = LastBase0AuctionId(event_id);
  const int64_t oldest = std::max<int64_t>(newest - kInFlightAuctions, 0);
  return oldest + random.Below(newest - oldest + 1 + kAuctionIdLead);
}

/// 3 to max_length - 1 characters: letters with `special` one time in 13, trimmed.
std::string NextString(Random& random, int max_length, char special = ' ') {
  int64_t length = 3 + random.Below(max_length - 3);
  std::string text;
  text.reserve(static_cast<size_t>(length));
  while (length-- > 0) {
    text.push_back(random.Below(13) == 0 ? special : static_cast<char>('a' + random.Below(26)));
  }
  const size_t first = text.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(' ') - first + 1);
}

/// Padding that brings an event of `current_size` bytes to `average_size` on average
/// (within +-20%), as the reference's nextExtra does.
std::string NextExtra(Random& random, int64_t current_size, int64_t average_size) {
  if (current_size > average_size) return "";
  const int64_t wanted = average_size - current_size;
  const auto delta = static_cast<int64_t>(std::llround(static_cast<double>(wanted) * 0.2));
  int64_t length = wanted - delta + (delta == 0 ? 0 : random.Below(2 * delta));
  std::string text;
  text.reserve(static_cast<size_t>(length));
  while (length-- > 0) text.push_back(static_cast<char>('a' + random.Below(26)));
  return text;
}

/// Prices from 1 to 100,000,000 cents, log-uniform.
int64_t NextPrice(Random& random) { return std::llround(std::pow(10.0, random.Unit() * 6) * 100); }

std::string BaseUrl(Random& random) {
  return "https://www.nexmark.com/" + NextString(random, 5, '_') + "/" +
         NextString(random, 5, '_') + "/" + NextString(random, 5, '_') + "/item.htm?query=1";
}

uint32_t ReverseBits(uint32_t value) {
  uint32_t reversed = 0;
  for (int bit = 0; bit < 32; ++bit, value >>= 1) reversed = (reversed << 1) | (value & 1);
  return reversed;
}

void AppendString(std::string& out, const char* name, const std::string& text) {
  // Generated text is letters, spaces, digits and URL characters: nothing to escape.
  out.append(",\"").append(name).append("\":\"").append(text).push_back('"');
}

void AppendNumber(std::string& out, const char* name, int64_t number) {
  out.append(",\"").append(name).append("\":").append(std::to_string(number));
}

}  // namespace

void NexmarkGenerator::Next(GeneratedNexmarkEvent& out) {
  const int64_t id = next_event_id_++;
  auto timestamp = [this](int64_t event_id) {
    return options_.start_ms + static_cast<int64_t>(static_cast<double>(event_id) * 1000.0 /
                                                    options_.events_per_second);
  };
  Random random(options_.seed, static_cast<uint64_t>(id));
  out.event_id = id;
  out.event_time = timestamp(id);
  std::string& value = out.value;
  value.clear();
  const int64_t slot = id % kTotalProportion;
  if (slot < kPersonProportion) {
    out.type = NexmarkEventType::kPerson;
    const std::string name = std::string(random.Pick(kFirstNames)) + " " + random.Pick(kLastNames);
    const std::string email = NextString(random, 7) + "@" + NextString(random, 5) + ".com";
    char card[24];
    std::snprintf(card, sizeof card, "%04d %04d %04d %04d", static_cast<int>(random.Below(10000)),
                  static_cast<int>(random.Below(10000)), static_cast<int>(random.Below(10000)),
                  static_cast<int>(random.Below(10000)));
    const std::string city = random.Pick(kCities);
    const std::string state = random.Pick(kStates);
    const auto size =
        static_cast<int64_t>(8 + name.size() + email.size() + 19 + city.size() + state.size());
    value.append("{\"event_type\":0,\"person\":{\"id\":")
        .append(std::to_string(LastBase0PersonId(id) + kFirstPersonId));
    AppendString(value, "name", name);
    AppendString(value, "emailAddress", email);
    AppendString(value, "creditCard", card);
    AppendString(value, "city", city);
    AppendString(value, "state", state);
    AppendNumber(value, "dateTime", out.event_time);
    AppendString(value, "extra", NextExtra(random, size, kAveragePersonBytes));
  } else if (slot < kPersonProportion + kAuctionProportion) {
    out.type = NexmarkEventType::kAuction;
    int64_t seller = random.Below(kHotSellersRatio) > 0
                         ? LastBase0PersonId(id) / kHotStride * kHotStride
                         : NextBase0PersonId(id, random);
    seller += kFirstPersonId;
    const int64_t category = kFirstCategoryId + random.Below(kCategories);
    const int64_t initial_bid = NextPrice(random);
    // Auctions last up to twice the time it takes for 100 more auctions to start.
    const int64_t events_per_in_flight = kInFlightAuctions * kTotalProportion / kAuctionProportion;
    const int64_t horizon_ms = timestamp(id + events_per_in_flight) - out.event_time;
    const int64_t expires = out.event_time + 1 + random.Below(std::max<int64_t>(horizon_ms * 2, 1));
    const std::string item_name = NextString(random, 20);
    const std::string description = NextString(random, 100);
    const int64_t reserve = initial_bid + NextPrice(random);
    const auto size = static_cast<int64_t>(8 + item_name.size() + description.size() + 5 * 8);
    value.append("{\"event_type\":1,\"auction\":{\"id\":")
        .append(std::to_string(LastBase0AuctionId(id) + kFirstAuctionId));
    AppendString(value, "itemName", item_name);
    AppendString(value, "description", description);
    AppendNumber(value, "initialBid", initial_bid);
    AppendNumber(value, "reserve", reserve);
    AppendNumber(value, "dateTime", out.event_time);
    AppendNumber(value, "expires", expires);
    AppendNumber(value, "seller", seller);
    AppendNumber(value, "category", category);
    AppendString(value, "extra", NextExtra(random, size, kAverageAuctionBytes));
  } else {
    out.type = NexmarkEventType::kBid;
    int64_t auction = random.Below(kHotAuctionRatio) > 0
                          ? LastBase0AuctionId(id) / kHotStride * kHotStride
                          : NextBase0AuctionId(id, random);
    auction += kFirstAuctionId;
    int64_t bidder = random.Below(kHotBiddersRatio) > 0
                         ? LastBase0PersonId(id) / kHotStride * kHotStride + 1
                         : NextBase0PersonId(id, random);
    bidder += kFirstPersonId;
    const int64_t price = NextPrice(random);
    std::string channel, url;
    if (random.Below(kHotChannelsRatio) > 0) {
      // The four hot channels each have one fixed URL for the seed.
      const int64_t hot = random.Below(static_cast<int64_t>(std::size(kHotChannels)));
      Random url_random(options_.seed, ~static_cast<uint64_t>(hot));
      channel = kHotChannels[hot];
      url = BaseUrl(url_random);
    } else {
      const int64_t number = random.Below(kChannels);
      Random url_random(options_.seed, ~static_cast<uint64_t>(kChannels + number));
      channel = "channel-" + std::to_string(number);
      url = BaseUrl(url_random);
      if (url_random.Below(10) > 0) {
        url += "&channel_id=" + std::to_string(ReverseBits(static_cast<uint32_t>(number)));
      }
    }
    value.append("{\"event_type\":2,\"bid\":{\"auction\":").append(std::to_string(auction));
    AppendNumber(value, "bidder", bidder);
    AppendNumber(value, "price", price);
    AppendString(value, "channel", channel);
    AppendString(value, "url", url);
    AppendNumber(value, "dateTime", out.event_time);
    AppendString(value, "extra", NextExtra(random, 4 * 8, kAverageBidBytes));
  }
  value.append("}}");
}

}  // namespace sidestream::datagen
