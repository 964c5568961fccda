// CheckPullQueryWhere: ksqlDB's checks of a table pull query's WHERE, by the plan type they
// lead to (key lookup, range scan, table scan) under its two settings.

#include "host/pull_query_where.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analyzer/analyzer.h"
#include "session/script_runner.h"
#include "sql/parser.h"

namespace sidestream::host {
namespace {

using testing::HasSubstr;

class PullQueryWhereTest : public testing::Test {
 protected:
  void SetUp() override {
    catalog_ = std::move(catalog::Catalog::Open(":memory:").value());
    session::ScriptRunner runner(*catalog_);
    for (const char* sql : {"CREATE TABLE t (id STRING PRIMARY KEY, n INT) WITH (KAFKA_TOPIC='t', "
                            "VALUE_FORMAT='JSON');",
                            "CREATE TABLE ti (id INT PRIMARY KEY, n INT) WITH (KAFKA_TOPIC='ti', "
                            "VALUE_FORMAT='JSON');",
                            "CREATE TABLE two (a INT PRIMARY KEY, b INT PRIMARY KEY, n INT) WITH "
                            "(KAFKA_TOPIC='two', FORMAT='JSON');"}) {
      auto result = runner.Run(sql);
      ASSERT_TRUE(result.ok()) << result.status().ToString();
    }
  }

  Status Check(const std::string& sql, bool table_scans, bool range_scans = true) {
    auto statement = sql::ParseStatement(sql);
    if (!statement.ok()) return statement.status();
    analyzer::Analyzer analyzer(*catalog_);
    auto analyzed = analyzer.Analyze(**statement);
    if (!analyzed.ok()) return analyzed.status();
    return CheckPullQueryWhere(*analyzed->plan, {table_scans, range_scans});
  }

  std::unique_ptr<catalog::Catalog> catalog_;
};

TEST_F(PullQueryWhereTest, KeyLookupsPassWithoutTableScans) {
  EXPECT_TRUE(Check("SELECT * FROM t WHERE id = 'a';", false).ok());
  EXPECT_TRUE(Check("SELECT * FROM t WHERE id IN ('a', 'b') AND n > 1;", false).ok());
  EXPECT_TRUE(Check("SELECT * FROM two WHERE a = 1 AND b = 2;", false).ok());
  EXPECT_TRUE(Check("SELECT * FROM ti WHERE id = 20 - 10;", false).ok());
}

TEST_F(PullQueryWhereTest, RangeScansNeedAStringKeyAndTheSetting) {
  EXPECT_TRUE(Check("SELECT * FROM t WHERE id >= 'b';", false).ok());
  Status refused = Check("SELECT * FROM t WHERE id >= 'b';", false, false);
  EXPECT_THAT(refused.message(), HasSubstr("Query requires table scan to be enabled"));
  refused = Check("SELECT * FROM ti WHERE id >= 12;", false);
  EXPECT_THAT(refused.message(), HasSubstr("Query requires table scan to be enabled"));
  refused = Check("SELECT * FROM t WHERE id <= '11' OR id >= '13';", false);
  EXPECT_THAT(refused.message(), HasSubstr("Query requires table scan to be enabled"));
  EXPECT_TRUE(Check("SELECT * FROM t WHERE id <= '11' OR id >= '13';", true).ok());
}

TEST_F(PullQueryWhereTest, WithoutTableScansEveryDisjunctMustPinTheKey) {
  Status refused = Check("SELECT * FROM t;", false);
  EXPECT_THAT(refused.message(), HasSubstr("Missing WHERE clause. See https://cnfl.io/queries"));
  EXPECT_TRUE(Check("SELECT * FROM t;", true).ok());
  refused = Check("SELECT * FROM t WHERE id = 'a' OR n = 1;", false);
  EXPECT_THAT(refused.message(),
              HasSubstr("WHERE clause missing key column for disjunct: (N = 1)"));
  refused = Check("SELECT * FROM two WHERE a <= 11 OR b >= 10;", false);
  EXPECT_THAT(refused.message(),
              HasSubstr("Multi-column sources must specify every key in the WHERE clause. "
                        "Specified: [`A`] Expected: [`A` INTEGER KEY, `B` INTEGER KEY]"));
  refused = Check("SELECT * FROM t WHERE NOT (id = 'a');", true);
  EXPECT_THAT(refused.message(),
              HasSubstr("Unsupported expression in WHERE clause: (NOT (ID = 'a'))"));
}

TEST_F(PullQueryWhereTest, KeyValuesMustFitTheKey) {
  Status refused = Check("SELECT * FROM ti WHERE id IN (NULL, 1);", true);
  EXPECT_THAT(refused.message(), HasSubstr("Primary key columns can not be NULL: (ID = null)"));
  refused = Check("SELECT * FROM ti WHERE id = 10.5;", true);
  EXPECT_THAT(
      refused.message(),
      HasSubstr("'10.5' can not be converted to the type of the key column: ID INTEGER KEY"));
  refused = Check("SELECT * FROM ti WHERE id IN ('10', 8);", true);
  EXPECT_THAT(refused.message(),
              HasSubstr("'10' can not be converted to the type of the key column: ID INTEGER KEY"));
  // A value column compared with anything needs no conversion: the WHERE filters the scan.
  EXPECT_TRUE(Check("SELECT * FROM ti WHERE n = 10.5;", true).ok());
}

}  // namespace
}  // namespace sidestream::host
