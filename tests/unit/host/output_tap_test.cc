// Scalable push queries (host::OutputTap) against the embedded broker: a tap on a persistent
// query's sink sees the records produced after it was added, through its own WHERE,
// projection and LIMIT, with no consumer of its own; a table sink's updates come through
// decoded with the table's formats; a tap whose reader falls behind its buffer fails instead
// of growing; a removed tap is offered nothing more.
#include <gtest/gtest.h>

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

class OutputTapTest : public EmbeddedEngineTest {
 protected:
  void SetUp() override {
    StartEngine(KafkaEngineOptions(), /*manual_clock=*/false);
    ASSERT_TRUE(engine_
                    ->Execute("CREATE STREAM CALLS (CALLER STRING KEY, SECS INT, CELL STRING) "
                              "WITH (kafka_topic='calls', value_format='JSON', partitions=1);")
                    .ok());
  }

  void Call(const std::string& caller, int secs, const std::string& cell) {
    Produce("calls", caller, "{\"SECS\":" + std::to_string(secs) + ",\"CELL\":\"" + cell + "\"}");
  }

  Result<std::shared_ptr<OutputTap>> Tap(const std::string& select, size_t max_bytes = 1 << 20,
                                         bool table_deletes = false) {
    auto statement = sql::ParseStatement(select);
    if (!statement.ok()) return statement.status();
    analyzer::Analyzer analyzer(engine_->catalog());
    auto analyzed = analyzer.Analyze(**statement);
    if (!analyzed.ok()) return analyzed.status();
    OutputTap::Options options;
    options.max_buffered_bytes = max_bytes;
    options.on_ready = [this] { ++ready_calls_; };
    options.table_deletes = table_deletes;
    return engine_->AddTap(
        std::make_shared<const analyzer::AnalyzedStatement>(std::move(*analyzed)),
        (*statement)->query ? (*statement)->query->limit : std::nullopt, std::move(options));
  }

  int ready_calls_ = 0;
};

TEST_F(OutputTapTest, SeesTheSinkFromItsStartThroughItsOwnSelect) {
  ASSERT_TRUE(
      engine_->Execute("CREATE STREAM LONG_CALLS AS SELECT * FROM CALLS WHERE SECS > 5;").ok());
  Call("c0", 10, "a");  // before the tap: not seen
  ASSERT_TRUE(RunUntil([&] { return engine_->progress().produced >= 1; }));
  auto tap =
      Tap("SELECT CALLER, SECS * 2 AS D FROM LONG_CALLS WHERE CELL = 'a' EMIT CHANGES LIMIT 2;");
  ASSERT_TRUE(tap.ok()) << tap.status().ToString();
  EXPECT_EQ(engine_->taps(), 1u);
  EXPECT_EQ((*tap)->topic(), "LONG_CALLS");
  Call("c1", 20, "a");
  Call("c2", 1, "a");   // not in the sink
  Call("c3", 30, "b");  // in the sink, not in the tap's WHERE
  Call("c4", 40, "a");
  Call("c5", 50, "a");  // past the LIMIT
  std::vector<types::Row> rows;
  ASSERT_TRUE(RunUntil([&] {
    EXPECT_TRUE((*tap)->Poll(100, rows).ok());
    return (*tap)->offered() >= 4;
  }));
  ASSERT_TRUE((*tap)->Poll(100, rows).ok());
  EXPECT_EQ(RowTexts(rows), (std::vector<std::string>{"'c1'|40", "'c4'|80"}));
  EXPECT_TRUE((*tap)->limit_reached());
  EXPECT_GE(ready_calls_, 1);

  engine_->RemoveTap(**tap);
  EXPECT_EQ(engine_->taps(), 0u);
  const int64_t offered = (*tap)->offered();
  const int64_t produced = engine_->progress().produced;
  Call("c6", 60, "a");
  ASSERT_TRUE(RunUntil([&] { return engine_->progress().produced > produced; }));
  EXPECT_EQ((*tap)->offered(), offered);
}

TEST_F(OutputTapTest, TableSinkUpdates) {
  ASSERT_TRUE(engine_
                  ->Execute("CREATE TABLE PER_CELL AS SELECT CELL, COUNT(*) AS N FROM CALLS "
                            "GROUP BY CELL;")
                  .ok());
  auto tap = Tap("SELECT CELL, N FROM PER_CELL WHERE N >= 2 EMIT CHANGES;");
  ASSERT_TRUE(tap.ok()) << tap.status().ToString();
  Call("c1", 1, "a");
  Call("c2", 2, "b");
  Call("c3", 3, "a");
  Call("c4", 4, "a");
  std::vector<types::Row> rows;
  ASSERT_TRUE(RunUntil([&] {
    EXPECT_TRUE((*tap)->Poll(100, rows).ok());
    return rows.size() >= 2;
  }));
  EXPECT_EQ(RowTexts(rows), (std::vector<std::string>{"'a'|2", "'a'|3"}));
  engine_->RemoveTap(**tap);
}

// A group that stops passing HAVING is deleted from the table (a tombstone): with
// table_deletes, a tap whose reader saw the key gets a row of its key, flagged; a tap whose
// WHERE never passed the key gets nothing, and one without table_deletes skips deletes.
TEST_F(OutputTapTest, TableDeletesOfKeysThatCameOut) {
  ASSERT_TRUE(engine_
                  ->Execute("CREATE TABLE PER_CELL AS SELECT CELL, SUM(SECS) AS S FROM CALLS "
                            "GROUP BY CELL HAVING SUM(SECS) > 0;")
                  .ok());
  auto deletes = Tap("SELECT CELL, S FROM PER_CELL EMIT CHANGES;", 1 << 20, true);
  auto filtered = Tap("SELECT CELL, S FROM PER_CELL WHERE S > 10 EMIT CHANGES;", 1 << 20, true);
  auto plain = Tap("SELECT CELL, S FROM PER_CELL EMIT CHANGES;");
  ASSERT_TRUE(deletes.ok() && filtered.ok() && plain.ok());
  Call("c1", 10, "a");
  Call("c2", -20, "a");  // SUM -10: the group is deleted
  Call("c3", -5, "b");   // never passed HAVING: nothing to delete
  Call("c4", 21, "a");
  std::vector<types::Row> rows, filtered_rows, plain_rows;
  std::vector<bool> tombstones, filtered_tombstones;
  ASSERT_TRUE(RunUntil([&] {
    EXPECT_TRUE((*deletes)->Poll(100, rows, &tombstones).ok());
    EXPECT_TRUE((*filtered)->Poll(100, filtered_rows, &filtered_tombstones).ok());
    EXPECT_TRUE((*plain)->Poll(100, plain_rows).ok());
    return rows.size() >= 3 && filtered_rows.size() >= 1 && plain_rows.size() >= 2;
  }));
  EXPECT_EQ(RowTexts(rows), (std::vector<std::string>{"'a'|10", "'a'|NULL", "'a'|11"}));
  EXPECT_EQ(tombstones, (std::vector<bool>{false, true, false}));
  EXPECT_EQ(RowTexts(filtered_rows), (std::vector<std::string>{"'a'|11"}));
  EXPECT_EQ(filtered_tombstones, (std::vector<bool>{false}));
  EXPECT_EQ(RowTexts(plain_rows), (std::vector<std::string>{"'a'|10", "'a'|11"}));
  for (auto* tap : {&*deletes, &*filtered, &*plain}) engine_->RemoveTap(**tap);
}

TEST_F(OutputTapTest, AReaderThatFallsBehindFails) {
  ASSERT_TRUE(engine_->Execute("CREATE STREAM COPY AS SELECT * FROM CALLS;").ok());
  auto tap = Tap("SELECT * FROM COPY EMIT CHANGES;", /*max_bytes=*/400);
  ASSERT_TRUE(tap.ok()) << tap.status().ToString();
  for (int i = 0; i < 20; ++i) Call("c" + std::to_string(i), i, "a");
  ASSERT_TRUE(RunUntil([&] { return (*tap)->offered() >= 20; }));
  EXPECT_GT((*tap)->dropped(), 0);
  std::vector<types::Row> rows;
  sidestream::Status polled = (*tap)->Poll(100, rows);
  EXPECT_EQ(polled.code(), StatusCode::kUnavailable) << polled.ToString();
  EXPECT_LT(rows.size(), 20u);
  engine_->RemoveTap(**tap);
}

}  // namespace
}  // namespace sidestream::host
