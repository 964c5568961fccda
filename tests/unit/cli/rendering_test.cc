#include "server/cli/rendering.h"

#include <gtest/gtest.h>

namespace sidestream::cli {
namespace {

TEST(RenderingTest, ListingsAndStatusesAreTables) {
  const auto entities = nlohmann::json::parse(R"([
    {"@type":"currentStatus","commandStatus":{"message":"Stream created","status":"SUCCESS"},
     "warnings":[{"message":"careful"}]},
    {"@type":"streams","streams":[{"name":"S","topic":"s","keyFormat":"KAFKA",
     "valueFormat":"JSON","isWindowed":false}]}])");
  EXPECT_EQ(RenderEntities(entities),
            "+----------------+\n"
            "| Message        |\n"
            "+----------------+\n"
            "| Stream created |\n"
            "+----------------+\n"
            "WARNING: careful\n"
            "+-------------+-------------+------------+--------------+----------+\n"
            "| Stream Name | Kafka Topic | Key Format | Value Format | Windowed |\n"
            "+-------------+-------------+------------+--------------+----------+\n"
            "| S           | s           | KAFKA      | JSON         | false    |\n"
            "+-------------+-------------+------------+--------------+----------+\n");
}

TEST(RenderingTest, ErrorsShowTheServersMessageOrTheHttpStatus) {
  EXPECT_EQ(RenderError(400, R"({"@type":"statement_error","error_code":40001,)"
                             R"("message":"line 1:1: Syntax error","statementText":"SELEC 1;"})"),
            "line 1:1: Syntax error\nStatement: SELEC 1;\n");
  EXPECT_EQ(RenderError(502, "Bad Gateway"), "error: HTTP 502: Bad Gateway\n");
}

TEST(RenderingTest, RowsKeepTheHeadersWidths) {
  RowPrinter printer({"K", "A_LONGER_COLUMN_NAME"});
  EXPECT_EQ(printer.Header(),
            "+--------------+----------------------+\n"
            "| K            | A_LONGER_COLUMN_NAME |\n"
            "+--------------+----------------------+\n");
  EXPECT_EQ(printer.Row(nlohmann::json::parse(R"(["a", null])")),
            "| a            | null                 |\n");
  EXPECT_EQ(printer.Row(nlohmann::json::parse(R"([{"x":1}, [1,2]])")),
            "| {\"x\":1}      | [1,2]                |\n");
  EXPECT_EQ(printer.Footer(1), "+--------------+----------------------+\n1 row\n");
}

TEST(RenderingTest, AnswersOfTheWrongShapeRenderWithoutThrowing) {
  for (const char* body :
       {R"([{"@type":"queries","queries":["x",1,null]}])",
        R"([{"@type":"kafka_topics","topics":"nope"}])",
        R"([{"@type":"currentStatus","commandStatus":"odd"}])",
        R"([{"@type":"sourceDescription","sourceDescription":null}])",
        R"([{"@type":"streams","streams":[[1],{"name":{"deep":[]}}]}])", R"({"not":"a list"})"}) {
    EXPECT_NO_THROW(RenderEntities(nlohmann::json::parse(body))) << body;
  }
  EXPECT_EQ(RenderError(500, "\xff\xfe binary"), "error: HTTP 500: \xff\xfe binary\n");
}

}  // namespace
}  // namespace sidestream::cli
