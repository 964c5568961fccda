#include "session/error_rendering.h"

#include <gtest/gtest.h>

#include "catalog/catalog.h"
#include "session/script_runner.h"

namespace sidestream::session {
namespace {

TEST(ErrorRenderingTest, PointsAtTheOffendingText) {
  std::string sql =
      "CREATE STREAM s (a INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');\n"
      "SELECT a, b FROM s EMIT CHANGES;";
  auto catalog = catalog::Catalog::Open(":memory:");
  ASSERT_TRUE(catalog.ok());
  ScriptRunner runner(**catalog);
  auto result = runner.Run(sql);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(RenderError(result.status(), sql, "q.sql"),
            "q.sql:2:11: error: SELECT column 'B' cannot be resolved.\n"
            "  SELECT a, b FROM s EMIT CHANGES;\n"
            "            ^\n");
}

TEST(ErrorRenderingTest, IncludesTheHintAndSurvivesUnknownLocations) {
  Status status = Status::NotFound("Source `CDRS` does not exist.", {1, 15}, "did you mean CDR?");
  EXPECT_EQ(RenderError(status, "SELECT * FROM cdrs;", "-"),
            "-:1:15: error: Source `CDRS` does not exist.\n"
            "  SELECT * FROM cdrs;\n"
            "                ^\n"
            "hint: did you mean CDR?\n");
  EXPECT_EQ(RenderError(Status::IOError("disk full"), "", "x.sql"), "x.sql: error: disk full\n");
  // A location past the end of the text renders without a source line.
  EXPECT_EQ(RenderError(Status::BindError("late", {9, 1}), "one line", "f"),
            "f:9:1: error: late\n");
}

TEST(ScriptRunnerTest, LaterStatementsSeeEarlierSources) {
  auto catalog = catalog::Catalog::Open(":memory:");
  ASSERT_TRUE(catalog.ok());
  ScriptRunner runner(**catalog);
  auto result = runner.Run(
      "CREATE STREAM s (k STRING KEY, a INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');"
      "CREATE STREAM t AS SELECT k, a * 2 AS doubled FROM s;");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->size(), 2u);
  EXPECT_EQ((*result)[0].message, "Created stream S");
  EXPECT_EQ((*result)[1].message, "Created query CSAS_T_0");
  EXPECT_TRUE((**catalog).HasSource("T"));
}

}  // namespace
}  // namespace sidestream::session
