// Pull queries on streams (host::StreamPullQuery) against the embedded broker: every record of
// every partition up to the end offsets captured at the start, through the SELECT's WHERE,
// projection and LIMIT; an empty stream ends at once; records appended after the start, and
// records that do not decode, are left out; header columns are read.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "analyzer/analyzer.h"
#include "connectors/kafka/batch_producer.h"
#include "host/kafka_engine.h"
#include "sql/parser.h"
#include "tests/unit/host/engine_fixture.h"

namespace sidestream::host {
namespace {

class StreamPullQueryTest : public EmbeddedEngineTest {
 protected:
  void SetUp() override {
    StartEngine(KafkaEngineOptions(), /*manual_clock=*/false);
    ASSERT_TRUE(engine_
                    ->Execute("CREATE STREAM CALLS (CALLER STRING KEY, SECS INT, CELL STRING) "
                              "WITH (kafka_topic='calls', value_format='JSON', partitions=3);")
                    .ok());
  }

  void Produce(const std::string& topic, int32_t partition, const std::string& key,
               const std::string& value, std::span<const kafka::ProduceHeader> headers = {}) {
    ASSERT_TRUE(producer_->Produce(topic, partition, key, value, 1000, headers).ok());
    ASSERT_TRUE(producer_->Flush(std::chrono::seconds(10)).ok());
  }

  // Nine calls, three per partition.
  void ProduceCalls() {
    for (int i = 0; i < 9; ++i) {
      Produce("calls", i % 3, "c" + std::to_string(i),
              "{\"SECS\":" + std::to_string(i * 10) + ",\"CELL\":\"cell" + std::to_string(i % 2) +
                  "\"}");
    }
  }

  Result<std::unique_ptr<StreamPullQuery>> Start(const std::string& select) {
    auto statement = sql::ParseStatement(select);
    if (!statement.ok()) return statement.status();
    analyzer::Analyzer analyzer(engine_->catalog());
    auto analyzed = analyzer.Analyze(**statement);
    if (!analyzed.ok()) return analyzed.status();
    EXPECT_TRUE(analyzed->pull_query);
    return engine_->StartStreamPullQuery(
        std::make_shared<const analyzer::AnalyzedStatement>(std::move(*analyzed)),
        (*statement)->query ? (*statement)->query->limit : std::nullopt);
  }

  // Polls `scan` to its end (at most 30 s); each row as "v1|v2|...".
  static std::vector<std::string> Drain(StreamPullQuery& scan) {
    std::vector<types::Row> rows;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      auto done = scan.Poll(std::chrono::milliseconds(50), 1000, rows);
      EXPECT_TRUE(done.ok()) << done.status().ToString();
      if (!done.ok() || *done) break;
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "the scan did not end";
        break;
      }
    }
    return RowTexts(rows);
  }

  static std::vector<std::string> Sorted(std::vector<std::string> rows) {
    std::sort(rows.begin(), rows.end());
    return rows;
  }
};

TEST_F(StreamPullQueryTest, ReadsEveryPartitionToItsEnd) {
  ProduceCalls();
  auto scan = Start("SELECT * FROM CALLS;");
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  std::vector<std::string> rows = Drain(**scan);
  EXPECT_EQ(Sorted(rows),
            (std::vector<std::string>{"'c0'|0|'cell0'", "'c1'|10|'cell1'", "'c2'|20|'cell0'",
                                      "'c3'|30|'cell1'", "'c4'|40|'cell0'", "'c5'|50|'cell1'",
                                      "'c6'|60|'cell0'", "'c7'|70|'cell1'", "'c8'|80|'cell0'"}));
  // Each partition's records come in offset order: c0 before c3 before c6.
  auto at = [&](const std::string& prefix) {
    return std::find_if(rows.begin(), rows.end(),
                        [&](const std::string& row) { return row.starts_with(prefix); }) -
           rows.begin();
  };
  EXPECT_LT(at("'c0'"), at("'c3'"));
  EXPECT_LT(at("'c3'"), at("'c6'"));
  EXPECT_FALSE((*scan)->limit_reached());
  EXPECT_EQ((*scan)->records_read(), 9);
}

TEST_F(StreamPullQueryTest, WhereAndProjection) {
  ProduceCalls();
  auto scan =
      Start("SELECT CALLER, SECS * 2 AS DOUBLED FROM CALLS WHERE SECS >= 30 AND CELL = 'cell0';");
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(Sorted(Drain(**scan)), (std::vector<std::string>{"'c4'|80", "'c6'|120", "'c8'|160"}));
}

TEST_F(StreamPullQueryTest, LimitEndsTheScan) {
  ProduceCalls();
  auto scan = Start("SELECT CALLER FROM CALLS WHERE SECS > 0 LIMIT 4;");
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  std::vector<std::string> rows = Drain(**scan);
  EXPECT_EQ(rows.size(), 4u);
  for (const std::string& row : rows) EXPECT_NE(row, "'c0'");  // WHERE before LIMIT
  EXPECT_TRUE((*scan)->limit_reached());

  auto none = Start("SELECT * FROM CALLS LIMIT 0;");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(Drain(**none).empty());
  EXPECT_TRUE((*none)->limit_reached());

  // A LIMIT above the row count reads to the end: not "Limit Reached".
  auto more = Start("SELECT * FROM CALLS LIMIT 25;");
  ASSERT_TRUE(more.ok()) << more.status().ToString();
  EXPECT_EQ(Drain(**more).size(), 9u);
  EXPECT_FALSE((*more)->limit_reached());
}

TEST_F(StreamPullQueryTest, EmptyStreamEndsAtOnce) {
  auto scan = Start("SELECT * FROM CALLS;");
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  std::vector<types::Row> rows;
  auto done = (*scan)->Poll(std::chrono::milliseconds(0), 100, rows);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(*done);
  EXPECT_TRUE(rows.empty());
  EXPECT_FALSE((*scan)->limit_reached());
}

TEST_F(StreamPullQueryTest, RecordsAfterTheStartAreNotRead) {
  ProduceCalls();
  auto scan = Start("SELECT CALLER FROM CALLS;");
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  for (int partition = 0; partition < 3; ++partition) {
    Produce("calls", partition, "late" + std::to_string(partition), "{\"SECS\":1}");
  }
  std::vector<std::string> rows = Drain(**scan);
  EXPECT_EQ(rows.size(), 9u);
  for (const std::string& row : rows) EXPECT_EQ(row.find("late"), std::string::npos) << row;
}

TEST_F(StreamPullQueryTest, SkipsRecordsThatDoNotDecode) {
  Produce("calls", 0, "a", "{\"SECS\":1}");
  Produce("calls", 0, "b", "not json");
  Produce("calls", 0, "c", "{\"SECS\":3}");
  auto scan = Start("SELECT CALLER, SECS FROM CALLS;");
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(Drain(**scan), (std::vector<std::string>{"'a'|1", "'c'|3"}));
  EXPECT_EQ((*scan)->decode_errors(), 1);
}

TEST_F(StreamPullQueryTest, ReadsHeaderColumns) {
  ASSERT_TRUE(engine_
                  ->Execute("CREATE STREAM TAGGED (ID INT KEY, V INT, H BYTES HEADER('source')) "
                            "WITH (kafka_topic='tagged', value_format='JSON', key_format='JSON', "
                            "partitions=1);")
                  .ok());
  const std::vector<kafka::ProduceHeader> headers = {{"source", "ab", true}};
  Produce("tagged", 0, "7", "{\"V\":1}", headers);
  Produce("tagged", 0, "8", "{\"V\":2}");
  auto scan = Start("SELECT ID, V, H FROM TAGGED;");
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  std::vector<std::string> rows = Drain(**scan);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0].starts_with("7|1|")) << rows[0];
  EXPECT_NE(rows[0].find("ab"), std::string::npos) << rows[0];
  EXPECT_EQ(rows[1], "8|2|NULL");
}

}  // namespace
}  // namespace sidestream::host
