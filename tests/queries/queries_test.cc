// The telecom jobs in queries/ over both shared CDR samples (sample-60min and
// sample-v2-120min, with its campaign_sends and venues topics), scored against the planted
// ground truth in their .truth.json files. Runs offline through the same formats and
// operators as on Kafka. Each job's precision and recall are printed; the goal is recall
// 100% and precision >= 95%.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "host/offline_engine.h"

namespace sidestream::host {
namespace {

using nlohmann::json;
using Keys = std::set<std::string>;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

std::vector<json> ReadLines(const std::string& path) {
  std::vector<json> lines;
  std::ifstream file(path);
  for (std::string line; std::getline(file, line);) {
    if (!line.empty()) lines.push_back(json::parse(line));
  }
  return lines;
}

// One sample: its records, the topics beside them, and its truth.
struct Sample {
  std::string name;
  json truth;
  std::vector<json> cdrs;            // arrival order
  std::vector<json> campaign_sends;  // empty for the 60-minute sample
  std::vector<json> venues;
};

const Sample& LoadSample(const std::string& name) {
  static std::map<std::string, Sample> samples;
  auto found = samples.find(name);
  if (found != samples.end()) return found->second;
  std::string base = std::string(SIDESTREAM_SHARED_DIR) + "/cdr/" + name;
  Sample sample;
  sample.name = name;
  sample.truth = json::parse(ReadFile(base + ".truth.json"));
  sample.cdrs = ReadLines(base + ".jsonl");
  sample.campaign_sends = ReadLines(base + ".campaign_sends.jsonl");
  sample.venues = ReadLines(base + ".venues.jsonl");
  return samples.emplace(name, std::move(sample)).first->second;
}

double HaversineKm(double lat1, double lon1, double lat2, double lon2) {
  auto radians = [](double degrees) { return degrees * M_PI / 180; };
  double a = std::pow(std::sin(radians(lat2 - lat1) / 2), 2) +
             std::cos(radians(lat1)) * std::cos(radians(lat2)) *
                 std::pow(std::sin(radians(lon2 - lon1) / 2), 2);
  return 2 * 6371.0 * std::asin(std::sqrt(std::min(a, 1.0)));
}

// Precision and recall of `found` against `expected`, printed and returned.
struct Score {
  double precision = 0;
  double recall = 0;
};
Score Measure(const std::string& job, const std::string& sample, const Keys& found,
              const Keys& expected) {
  size_t hits = 0;
  for (const auto& key : found) hits += expected.count(key);
  Score score;
  score.precision = found.empty() ? (expected.empty() ? 1 : 0)
                                  : static_cast<double>(hits) / static_cast<double>(found.size());
  score.recall =
      expected.empty() ? 1 : static_cast<double>(hits) / static_cast<double>(expected.size());
  std::cout << "[score] " << job << " on " << sample << ": precision " << score.precision
            << " recall " << score.recall << " (" << found.size() << " found, " << expected.size()
            << " expected)\n";
  for (const auto& key : expected) {
    if (!found.count(key)) std::cout << "  missed: " << key << "\n";
  }
  return score;
}

class QueriesTest : public testing::TestWithParam<std::string> {
 protected:
  const Sample& sample() { return LoadSample(GetParam()); }
  const json& truth() { return sample().truth; }

  static void SetUpTestSuite() {
    // PREDICT's models: the ones the repository ships.
    setenv("SIDESTREAM_MODELS_DIR", SIDESTREAM_SOURCE_DIR "/models", 1);
  }

  // Declares the three sources, runs the job's `files` in order, then feeds the sample: the
  // venues first (a table), the CDRs in arrival order, and each campaign send once the CDRs
  // reach its sent_ts, as a live feed would interleave them.
  std::unique_ptr<OfflineEngine> RunJob(const std::vector<std::string>& files) {
    auto engine = OfflineEngine::Create();
    EXPECT_TRUE(engine.ok());
    std::string root = SIDESTREAM_SOURCE_DIR "/queries/";
    std::vector<std::string> scripts = {
        root + "sources/cdr.sql", root + "sources/campaign_sends.sql", root + "sources/venues.sql"};
    for (const std::string& file : files) scripts.push_back(root + file);
    for (const std::string& sql : scripts) {
      auto executed = (*engine)->Execute(ReadFile(sql));
      EXPECT_TRUE(executed.ok()) << sql << ": " << executed.status().ToString();
    }
    auto produce = [&](const std::string& topic, const json& value, const json& key) {
      TestRecord record;
      record.topic = topic;
      record.value = value;
      record.key = key;
      Status status = (*engine)->Produce(record);
      EXPECT_TRUE(status.ok()) << status.ToString();
    };
    for (const json& venue : sample().venues) produce("venues", venue, venue["venue_id"]);
    size_t next_send = 0;
    const auto& sends = sample().campaign_sends;
    for (const json& cdr : sample().cdrs) {
      while (next_send < sends.size() &&
             sends[next_send]["sent_ts"].get<int64_t>() <= cdr["start_ts"].get<int64_t>()) {
        produce("campaign_sends", sends[next_send], sends[next_send]["msisdn"]);
        ++next_send;
      }
      produce("cdr", cdr, cdr["caller"]);
    }
    for (; next_send < sends.size(); ++next_send) {
      produce("campaign_sends", sends[next_send], sends[next_send]["msisdn"]);
    }
    EXPECT_EQ(static_cast<int64_t>(sample().cdrs.size()), truth()["records"].get<int64_t>());
    EXPECT_EQ((*engine)->counters().decode_errors, 0);
    return std::move(engine).value();
  }

  // The keys of the live rows of a table topic (a tombstone deletes its key).
  template <typename KeyOf>
  static Keys LiveKeys(const std::vector<TestRecord>& records, KeyOf key_of) {
    std::map<std::string, bool> live;
    for (const auto& record : records) live[key_of(record)] = !record.value.is_null();
    Keys keys;
    for (const auto& [key, alive] : live) {
      if (alive) keys.insert(key);
    }
    return keys;
  }
  static std::string KeyText(const TestRecord& record) {
    return record.key.is_string() ? record.key.get<std::string>() : record.key.dump();
  }
};

TEST_P(QueriesTest, ThreatSmsFindsEveryPlantedThreat) {
  auto engine = RunJob({"threat_sms.sql"});
  Keys flagged;
  for (const auto& record : engine->Output("THREAT_SMS")) {
    flagged.insert(record.value["CDR_ID"].get<std::string>());
    EXPECT_FALSE(record.value["PHRASE"].is_null());
  }
  Keys planted;
  for (const auto& threat : truth()["threat_sms"]) planted.insert(threat["cdr_id"]);
  Score score = Measure("THREAT_SMS", GetParam(), flagged, planted);
  EXPECT_EQ(score.recall, 1.0);
  // An independent oracle for the job's definition, by words rather than patterns: a
  // phrase's words appear in order as whole words (any case), and the next word, if any in
  // the same clause, is a function word. Near misses that only contain a phrase
  // ("bombastic") or use it as a modifier ("a shooting star") are not threats.
  const std::vector<std::vector<std::string>> phrases = {
      {"bomb"},   {"gun"},     {"shooting"}, {"kill", "you"}, {"explosive"},
      {"kidnap"}, {"hostage"}, {"ransom"},   {"help", "me"},  {"attack"}};
  const std::set<std::string> function_words = {
      "at",   "in",      "on",     "near",   "by",   "from",  "to",   "with",  "for",
      "of",   "outside", "inside", "behind", "here", "there", "now",  "again", "please",
      "the",  "a",       "an",     "this",   "that", "my",    "your", "our",   "their",
      "his",  "her",     "and",    "or",     "but",  "so",    "is",   "are",   "was",
      "were", "will",    "has",    "have",   "had",  "i",     "we",   "you",   "they",
      "he",   "she",     "it",     "me",     "us",   "them"};
  auto is_threat = [&](const std::string& text) {
    // Words in lower case; punctuation ends a clause, written as an empty word.
    std::vector<std::string> words;
    std::string word;
    for (char c : text + " ") {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        continue;
      }
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
      if (!std::isspace(static_cast<unsigned char>(c))) words.emplace_back();
    }
    for (size_t i = 0; i < words.size(); ++i) {
      for (const auto& phrase : phrases) {
        if (i + phrase.size() > words.size() ||
            !std::equal(phrase.begin(), phrase.end(), words.begin() + static_cast<long>(i))) {
          continue;
        }
        const size_t next = i + phrase.size();
        if (next == words.size() || words[next].empty() || function_words.count(words[next])) {
          return true;
        }
      }
    }
    return false;
  };
  Keys defined;
  for (const json& cdr : sample().cdrs) {
    if (cdr["record_type"] == "SMS" && cdr["sms_text"].is_string() &&
        is_threat(cdr["sms_text"].get<std::string>())) {
      defined.insert(cdr["cdr_id"]);
    }
  }
  EXPECT_EQ(flagged, defined);
  EXPECT_GE(score.precision, 0.95);
  for (const auto& near_miss : truth()["near_miss_sms"]) {
    EXPECT_EQ(flagged.count(near_miss["cdr_id"]), 0u) << "near miss flagged: " << near_miss;
  }
}

TEST_P(QueriesTest, CallBurstsFlagsThePlantedCallers) {
  auto engine = RunJob({"call_bursts.sql"});
  Keys flagged = LiveKeys(engine->Output("CALL_BURSTS"),
                          [](const TestRecord& record) { return record.key.get<std::string>(); });
  Keys planted;
  for (const auto& burst : truth()["call_burst"]) planted.insert(burst["caller"]);
  Score score = Measure("CALL_BURSTS", GetParam(), flagged, planted);
  EXPECT_EQ(score.recall, 1.0);
  EXPECT_GE(score.precision, 0.95);
}

TEST_P(QueriesTest, CellHealthShowsTheOutageCell) {
  auto engine = RunJob({"cell_health.sql"});
  const json& outage = truth()["cell_outage"][0];
  int64_t start = outage["start"].get<int64_t>();
  int64_t end = outage["end"].get<int64_t>();
  // Sum the per-minute results of each cell over the minutes inside the outage.
  std::map<std::string, std::pair<int64_t, int64_t>> totals;  // cell -> (calls, dropped)
  auto results = engine->Output("CELL_HEALTH");
  ASSERT_FALSE(results.empty());
  for (const auto& record : results) {
    ASSERT_TRUE(record.window.has_value());
    for (const char* column : {"CALLS", "DROP_RATE", "AVG_SETUP_MS"}) {
      EXPECT_TRUE(record.value.contains(column)) << column;
    }
    if (record.window->start < start || record.window->end > end) continue;
    auto& total = totals[record.key.get<std::string>()];
    total.first += record.value["CALLS"].get<int64_t>();
    total.second += record.value["DROPPED"].get<int64_t>();
  }
  std::string worst;
  double worst_rate = -1;
  for (const auto& [cell, total] : totals) {
    if (total.first < 5) continue;  // too few calls to judge
    double rate = static_cast<double>(total.second) / static_cast<double>(total.first);
    if (rate > worst_rate) {
      worst_rate = rate;
      worst = cell;
    }
  }
  EXPECT_EQ(worst, outage["cell_id"].get<std::string>());
  EXPECT_GT(worst_rate, 0.25);
}

TEST_P(QueriesTest, CellDropRiskAlertsInTheOutageCellBeforeTheOutage) {
  auto engine = RunJob({"cell_health.sql", "cell_drop_risk.sql"});
  const json& outage = truth()["cell_outage"][0];
  const std::string cell = outage["cell_id"];
  const int64_t start = outage["start"];
  const int64_t end = outage["end"];
  // The degraded time: from the precursor (where the sample has one) to the outage's end.
  const int64_t degraded = outage.value("precursor_start", start);
  Keys alerts, expected;
  int64_t first_alert = INT64_MAX;
  for (const auto& record : engine->Output("CELL_DROP_RISK")) {
    double risk = record.value["RISK"].get<double>();
    EXPECT_GE(risk, 0.0);
    EXPECT_LE(risk, 1.0);
    if (!record.value["ALERT"].get<bool>()) continue;
    const std::string key = record.key.get<std::string>();
    int64_t window_start = record.value["WINDOW_START"];
    alerts.insert(key + "@" + std::to_string(window_start));
    if (key == cell) first_alert = std::min(first_alert, window_start);
  }
  // Expected: every minute whose middle lies in the degraded time (the model's label).
  for (int64_t minute = degraded / 60000 * 60000; minute < end; minute += 60000) {
    if (minute + 30000 >= degraded && minute + 30000 < end) {
      expected.insert(cell + "@" + std::to_string(minute));
    }
  }
  Score score = Measure("CELL_DROP_RISK", GetParam(), alerts, expected);
  EXPECT_GE(score.recall, 0.9);
  EXPECT_GE(score.precision, 0.95);
  if (outage.contains("precursor_start")) {
    // The warning comes out before the outage begins: its minute closes (plus the 30 s grace
    // of CELL_HEALTH) before the outage's start.
    EXPECT_LE(first_alert + 60000 + 30000, start);
    std::cout << "[score] CELL_DROP_RISK on " << GetParam() << ": first alert "
              << (start - first_alert) / 1000 << " s before the outage\n";
  }
}

// Every outage minute is flagged (a minute whose middle lies in the outage), and any other
// flag is a minute that overlaps the outage on the outage's cell.
TEST_P(QueriesTest, CellAnomaliesFlagTheOutage) {
  auto engine = RunJob({"cell_health.sql", "cell_anomalies.sql"});
  const json& outage = truth()["cell_outage"][0];
  const std::string cell = outage["cell_id"];
  const int64_t start = outage["start"];
  const int64_t end = outage["end"];
  Keys flagged, expected;
  int64_t overlapping = 0;
  for (const auto& record : engine->Output("CELL_ANOMALIES")) {
    EXPECT_TRUE(record.value["ANOMALY"].get<bool>());
    const std::string key = record.key.get<std::string>();
    const int64_t window_start = record.value["WINDOW_START"];
    if (key == cell && window_start + 60000 > start && window_start < end) ++overlapping;
    flagged.insert(key + "@" + std::to_string(window_start));
  }
  for (int64_t minute = start / 60000 * 60000; minute < end; minute += 60000) {
    if (minute + 30000 >= start && minute + 30000 < end) {
      expected.insert(cell + "@" + std::to_string(minute));
    }
  }
  Score score = Measure("CELL_ANOMALIES", GetParam(), flagged, expected);
  EXPECT_EQ(score.recall, 1.0);
  EXPECT_GE(static_cast<double>(overlapping) / static_cast<double>(flagged.size()), 0.95);
}

TEST_P(QueriesTest, ImpossibleTravelFindsEveryPlantedCaller) {
  auto engine = RunJob({"impossible_travel.sql"});
  Keys flagged;
  std::set<std::pair<std::string, std::string>> pairs;  // (from cdr, to cdr)
  for (const auto& record : engine->Output("IMPOSSIBLE_TRAVEL")) {
    flagged.insert(record.key.get<std::string>());
    pairs.insert({record.value["FROM_CDR_ID"].get<std::string>(),
                  record.value["TO_CDR_ID"].get<std::string>()});
    EXPECT_GE(record.value["DISTANCE_KM"].get<double>(), 500);
    EXPECT_LE(record.value["MINUTES"].get<double>(), 10);
  }
  Keys planted;
  for (const auto& travel : truth()["impossible_travel"]) planted.insert(travel["caller"]);
  Score score = Measure("IMPOSSIBLE_TRAVEL", GetParam(), flagged, planted);
  EXPECT_EQ(score.recall, 1.0);
  // The samples' background callers are served by random cells, so ordinary traffic also
  // jumps 500 km within 10 minutes: the truth lists the planted callers only. The query is
  // checked against the job's definition, computed here by brute force.
  std::map<std::string, std::vector<const json*>> by_caller;
  for (const json& cdr : sample().cdrs) by_caller[cdr["caller"]].push_back(&cdr);
  std::set<std::pair<std::string, std::string>> defined;
  for (auto& [caller, records] : by_caller) {
    for (const json* earlier : records) {
      for (const json* later : records) {
        int64_t gap = (*later)["start_ts"].get<int64_t>() - (*earlier)["start_ts"].get<int64_t>();
        if (earlier == later || gap < 0 || gap > 600000) continue;
        if (HaversineKm((*earlier)["lat"], (*earlier)["lon"], (*later)["lat"], (*later)["lon"]) >=
            500) {
          defined.insert(
              {(*earlier)["cdr_id"].get<std::string>(), (*later)["cdr_id"].get<std::string>()});
        }
      }
    }
  }
  Keys found_pairs, defined_pairs;
  for (const auto& [from, to] : pairs) found_pairs.insert(from + ">" + to);
  for (const auto& [from, to] : defined) defined_pairs.insert(from + ">" + to);
  Score exact =
      Measure("IMPOSSIBLE_TRAVEL pairs vs definition", GetParam(), found_pairs, defined_pairs);
  EXPECT_EQ(exact.precision, 1.0);
  EXPECT_GE(exact.recall, 0.99);  // a pair whose record is later than the 10-minute grace
}

TEST_P(QueriesTest, NightInternationalFlagsThePlantedCallers) {
  auto engine = RunJob({"night_international.sql"});
  Keys flagged = LiveKeys(engine->Output("NIGHT_INTERNATIONAL"),
                          [](const TestRecord& record) { return record.key.get<std::string>(); });
  Keys planted;
  for (const auto& night : truth()["night_international"]) planted.insert(night["caller"]);
  Score score = Measure("NIGHT_INTERNATIONAL", GetParam(), flagged, planted);
  EXPECT_EQ(score.recall, 1.0);
  EXPECT_GE(score.precision, 0.95);
}

TEST_P(QueriesTest, VenueVisitorsAreTheCallersInsideTheGeofence) {
  if (!truth().contains("venue_visits")) GTEST_SKIP() << GetParam() << " has no venue";
  auto engine = RunJob({"venue_visitors.sql"});
  Keys found = LiveKeys(engine->Output("VENUE_VISITORS"), [](const TestRecord& record) {
    return record.key["VENUE_ID"].get<std::string>() + "/" +
           record.key["CALLER"].get<std::string>();
  });
  const json& visits = truth()["venue_visits"];
  Keys expected;
  for (const auto& caller : visits["visitors"]) {
    expected.insert(visits["venue_id"].get<std::string>() + "/" + caller.get<std::string>());
  }
  Score score = Measure("VENUE_VISITORS", GetParam(), found, expected);
  EXPECT_EQ(score.recall, 1.0);
  EXPECT_GE(score.precision, 0.95);
}

TEST_P(QueriesTest, CampaignTargetsAreTheEligibleHeavyDataUsers) {
  if (truth().value("campaign_targets", json()).is_null()) {
    GTEST_SKIP() << GetParam() << " has no campaign";
  }
  auto engine = RunJob({"campaign_targets.sql"});
  Keys found = LiveKeys(engine->Output("CAMPAIGN_TARGETS"),
                        [](const TestRecord& record) { return record.key.get<std::string>(); });
  Keys expected;
  for (const auto& msisdn : truth()["campaign_targets"]["eligible"]) expected.insert(msisdn);
  Score score = Measure("CAMPAIGN_TARGETS", GetParam(), found, expected);
  EXPECT_EQ(score.recall, 1.0);
  EXPECT_GE(score.precision, 0.95);
}

TEST_P(QueriesTest, CampaignEffectCountsSendsAndConversionsPerArm) {
  if (truth().value("campaign_effect", json()).is_null()) {
    GTEST_SKIP() << GetParam() << " has no campaign";
  }
  auto engine = RunJob({"campaign_effect.sql"});
  std::map<std::string, json> latest;  // arm -> last row
  const json& effect = truth()["campaign_effect"];
  for (const auto& record : engine->Output("CAMPAIGN_EFFECT")) {
    EXPECT_EQ(record.key["CAMPAIGN_ID"], effect["campaign_id"]);
    latest[record.key["ARM"].get<std::string>()] = record.value;
  }
  ASSERT_EQ(latest.size(), 2u);
  for (const std::string arm : {"treatment", "control"}) {
    const json& expected = effect["arms"][arm];
    EXPECT_EQ(latest[arm]["SENT"], expected["sent"]) << arm;
    EXPECT_EQ(latest[arm]["CONVERTED"], expected["converted"]) << arm;
    EXPECT_NEAR(latest[arm]["RATE"].get<double>(), expected["rate"].get<double>(), 1e-12) << arm;
  }
  double uplift =
      latest["treatment"]["RATE"].get<double>() - latest["control"]["RATE"].get<double>();
  EXPECT_NEAR(uplift, effect["uplift"].get<double>(), 1e-12);
  std::cout << "[score] CAMPAIGN_EFFECT on " << GetParam() << ": uplift " << uplift << " (truth "
            << effect["uplift"] << ")\n";
}

INSTANTIATE_TEST_SUITE_P(Samples, QueriesTest, testing::Values("sample-60min", "sample-v2-120min"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param == "sample-60min" ? std::string("Sample60min")
                                                               : std::string("SampleV2");
                         });

}  // namespace
}  // namespace sidestream::host
