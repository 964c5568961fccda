// The example queries in queries/ over the shared CDR sample, scored against the
// planted ground truth in ../shared/cdr/sample-60min.truth.json. Runs offline through
// the same formats and operators as on Kafka.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "server/offline/offline_engine.h"

namespace sidestream::offline {
namespace {

using nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

class QueriesTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    truth_ =
        json::parse(ReadFile(std::string(SIDESTREAM_SHARED_DIR) + "/cdr/sample-60min.truth.json"));
  }

  // Runs cdr.sql and one query file, then feeds every sample record (key = caller).
  std::unique_ptr<OfflineEngine> RunQuery(const std::string& file) {
    auto engine = OfflineEngine::Create();
    EXPECT_TRUE(engine.ok());
    std::string root = SIDESTREAM_SOURCE_DIR "/queries/";
    auto executed = (*engine)->Execute(ReadFile(root + "sources/cdr.sql"));
    EXPECT_TRUE(executed.ok()) << executed.status().ToString();
    executed = (*engine)->Execute(ReadFile(root + file));
    EXPECT_TRUE(executed.ok()) << executed.status().ToString();
    Status status;
    std::ifstream sample(std::string(SIDESTREAM_SHARED_DIR) + "/cdr/sample-60min.jsonl");
    int64_t records = 0;
    for (std::string line; std::getline(sample, line);) {
      TestRecord record;
      record.topic = "cdr";
      record.value = json::parse(line);
      record.key = record.value["caller"];
      status = (*engine)->Produce(record);
      EXPECT_TRUE(status.ok()) << status.ToString();
      ++records;
    }
    EXPECT_EQ(records, truth_["records"].get<int64_t>());
    EXPECT_EQ((*engine)->counters().decode_errors, 0);
    return std::move(engine).value();
  }

  static json truth_;
};

json QueriesTest::truth_;

TEST_F(QueriesTest, ThreatSmsFindsEveryPlantedThreatAndNoNearMiss) {
  auto engine = RunQuery("threat_sms.sql");
  std::set<std::string> flagged;
  for (const auto& record : engine->Output("threat_sms")) {
    flagged.insert(record.value["CDR_ID"].get<std::string>());
  }
  std::set<std::string> planted;
  for (const auto& threat : truth_["threat_sms"])
    planted.insert(threat["cdr_id"].get<std::string>());
  EXPECT_EQ(flagged, planted);
  for (const auto& near_miss : truth_["near_miss_sms"]) {
    EXPECT_FALSE(flagged.count(near_miss["cdr_id"].get<std::string>()))
        << "false positive: " << near_miss["cdr_id"];
  }
}

TEST_F(QueriesTest, CallBurstsFlagsExactlyThePlantedCallers) {
  auto engine = RunQuery("call_bursts.sql");
  std::set<std::string> flagged;
  // A table's tombstone (null value) deletes the key: that caller-window is not flagged.
  for (const auto& record : engine->Output("call_bursts")) {
    if (!record.value.is_null()) flagged.insert(record.key.get<std::string>());
  }
  std::set<std::string> planted;
  for (const auto& burst : truth_["call_burst"]) planted.insert(burst["caller"].get<std::string>());
  EXPECT_EQ(flagged, planted);
}

TEST_F(QueriesTest, CellHealthShowsTheOutageCell) {
  auto engine = RunQuery("cell_health.sql");
  const json& outage = truth_["cell_outage"][0];
  int64_t start = outage["start"].get<int64_t>();
  int64_t end = outage["end"].get<int64_t>();
  // Sum the per-minute results of each cell over the minutes inside the outage.
  std::map<std::string, std::pair<int64_t, int64_t>> totals;  // cell -> (calls, dropped)
  auto results = engine->Output("cell_health");
  ASSERT_FALSE(results.empty());
  for (const auto& record : results) {
    ASSERT_TRUE(record.window.has_value());
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

}  // namespace
}  // namespace sidestream::offline
