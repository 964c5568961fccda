// The headers of the input record that causes a result go with it to the sink, as Kafka
// Streams forwards the current record's headers: through projections, a GROUP BY's
// repartition topic and aggregation, and joins (the record that triggers the join). Windows
// that close (EMIT FINAL) have no one cause and carry none.
#include <gtest/gtest.h>

#include "host/offline_engine.h"

namespace sidestream::host {
namespace {

using Headers = std::vector<std::pair<std::string, std::optional<std::string>>>;

TestRecord Input(const std::string& topic, nlohmann::json key, nlohmann::json value,
                 int64_t timestamp, Headers headers) {
  TestRecord record;
  record.topic = topic;
  record.key = std::move(key);
  record.value = std::move(value);
  record.timestamp = timestamp;
  record.headers = std::move(headers);
  return record;
}

class ResultHeadersTest : public testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    auto engine = OfflineEngine::Create(GetParam());
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
  }
  void Run(const std::string& sql) {
    auto executed = engine_->Execute(sql);
    ASSERT_TRUE(executed.ok()) << executed.status().ToString();
  }
  void Produce(const TestRecord& record) {
    Status produced = engine_->Produce(record);
    ASSERT_TRUE(produced.ok()) << produced.ToString();
  }
  std::unique_ptr<OfflineEngine> engine_;
};

TEST_P(ResultHeadersTest, AProjectionKeepsItsInputsHeaders) {
  Run("CREATE STREAM s (id INT KEY, v INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');"
      "CREATE STREAM out AS SELECT id, v * 2 AS w FROM s WHERE v > 0;");
  const Headers headers = {{"a", std::string("1")}, {"b", std::nullopt}, {"a", std::string()}};
  Produce(Input("s", 1, {{"V", 1}}, 10, headers));
  Produce(Input("s", 2, {{"V", 2}}, 11, {}));
  const std::vector<TestRecord> out = engine_->Output("OUT");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].key, 1);
  EXPECT_EQ(out[0].headers, headers);
  EXPECT_TRUE(out[1].headers.empty());
}

TEST_P(ResultHeadersTest, AnAggregateUpdateHasTheHeadersOfTheRecordThatChangedIt) {
  // Grouped by a value column: through the repartition topic to the second stage.
  Run("CREATE STREAM s (id INT KEY, g STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');"
      "CREATE TABLE out AS SELECT g, COUNT(*) AS n FROM s GROUP BY g;");
  for (int i = 0; i < 4; ++i) {
    Produce(Input("s", i, {{"G", i % 2 == 0 ? "x" : "y"}}, 10 + i, {{"n", std::to_string(i)}}));
  }
  const std::vector<TestRecord> out = engine_->Output("OUT");
  ASSERT_EQ(out.size(), 4u);
  int seen[2] = {0, 0};
  for (const TestRecord& record : out) {
    const int parity = record.key == "x" ? 0 : 1;
    const int input = parity + 2 * seen[parity]++;
    EXPECT_EQ(record.value["N"], seen[parity]);
    EXPECT_EQ(record.headers, (Headers{{"n", std::to_string(input)}})) << record.key;
  }
}

TEST_P(ResultHeadersTest, AJoinResultHasTheHeadersOfTheRecordThatTriggeredIt) {
  Run("CREATE STREAM l (k INT KEY, a INT) WITH (KAFKA_TOPIC='l', VALUE_FORMAT='JSON');"
      "CREATE STREAM r (k INT KEY, b INT) WITH (KAFKA_TOPIC='r', VALUE_FORMAT='JSON');"
      "CREATE STREAM out AS SELECT l.k AS k, a, b FROM l JOIN r WITHIN 10 SECONDS ON l.k = r.k;");
  Produce(Input("l", 7, {{"A", 1}}, 10, {{"side", std::string("left")}}));
  Produce(Input("r", 7, {{"B", 2}}, 11, {{"side", std::string("right")}}));
  const std::vector<TestRecord> out = engine_->Output("OUT");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].headers, (Headers{{"side", std::string("right")}}));
}

TEST_P(ResultHeadersTest, AClosingWindowCarriesNoHeaders) {
  Run("CREATE STREAM s (id INT KEY, v INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');"
      "CREATE TABLE out AS SELECT id, COUNT(*) AS n FROM s WINDOW TUMBLING (SIZE 1 SECOND, "
      "GRACE PERIOD 0 SECONDS) GROUP BY id EMIT FINAL;");
  Produce(Input("s", 1, {{"V", 1}}, 100, {{"h", std::string("first")}}));
  Produce(Input("s", 1, {{"V", 1}}, 2000, {{"h", std::string("second")}}));
  const std::vector<TestRecord> out = engine_->Output("OUT");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].headers.empty());
}

INSTANTIATE_TEST_SUITE_P(Partitions, ResultHeadersTest, testing::Values(1, 4));

}  // namespace
}  // namespace sidestream::host
