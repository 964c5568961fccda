// CREATE SOURCE TABLE is materialized for pull queries, as in ksqlDB: a hidden query keeps
// the table's rows; a plain CREATE TABLE is not queryable; DROP TABLE stops the hidden query.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analyzer/analyzer.h"
#include "host/kafka_engine.h"
#include "sql/parser.h"
#include "tests/unit/host/engine_fixture.h"

namespace sidestream::host {
namespace {

class SourceTableTest : public EmbeddedEngineTest {
 protected:
  void SetUp() override { StartEngine(KafkaEngineOptions()); }

  // Runs the pull query `select` until it answers (with stream_threads 0 inside RunOnce).
  sidestream::Result<std::vector<types::Row>> Pull(const std::string& select) {
    auto statement = sql::ParseStatement(select);
    if (!statement.ok()) return statement.status();
    analyzer::Analyzer analyzer(engine_->catalog());
    auto analyzed = analyzer.Analyze(**statement);
    if (!analyzed.ok()) return analyzed.status();
    std::optional<sidestream::Result<std::vector<types::Row>>> answer;
    engine_->PullQuery(
        std::make_shared<const analyzer::AnalyzedStatement>(std::move(*analyzed)), std::nullopt,
        std::nullopt,
        [&](sidestream::Result<std::vector<types::Row>> rows) { answer = std::move(rows); });
    EXPECT_TRUE(RunUntil([&] { return answer.has_value(); }));
    if (!answer) return sidestream::Status::Unavailable("no answer");
    return std::move(*answer);
  }

  bool HasQuery(const std::string& prefix) {
    auto queries = engine_->Queries();
    return std::any_of(queries.begin(), queries.end(),
                       [&](const QueryStatus& query) { return query.id.rfind(prefix, 0) == 0; });
  }
};

TEST_F(SourceTableTest, SourceTableIsMaterializedUntilDropped) {
  ASSERT_TRUE(engine_
                  ->Execute("CREATE SOURCE TABLE cells (id STRING PRIMARY KEY, region STRING) "
                            "WITH (kafka_topic='cells', value_format='JSON', partitions=1);")
                  .ok());
  ASSERT_TRUE(engine_
                  ->Execute("CREATE TABLE plain (id STRING PRIMARY KEY, region STRING) "
                            "WITH (kafka_topic='plain', value_format='JSON', partitions=1);")
                  .ok());
  EXPECT_TRUE(HasQuery("CST_CELLS"));
  Produce("cells", "c1", "{\"REGION\":\"north\"}");
  Produce("cells", "c2", "{\"REGION\":\"south\"}");
  Produce("cells", "c1", "{\"REGION\":\"east\"}");

  std::vector<std::string> rows;
  ASSERT_TRUE(RunUntil([&] {
    auto pulled = Pull("SELECT * FROM cells;");
    EXPECT_TRUE(pulled.ok()) << pulled.status().ToString();
    rows = pulled.ok() ? RowTexts(*pulled) : std::vector<std::string>();
    std::sort(rows.begin(), rows.end());
    return rows.size() == 2 && rows[0].find("east") != std::string::npos;
  }));
  EXPECT_EQ(rows.size(), 2u);

  auto plain = Pull("SELECT * FROM plain;");
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.status().message().find("isn't queryable"), std::string::npos);

  ASSERT_TRUE(engine_->Execute("DROP TABLE cells;").ok());
  EXPECT_FALSE(HasQuery("CST_CELLS"));
}

}  // namespace
}  // namespace sidestream::host
