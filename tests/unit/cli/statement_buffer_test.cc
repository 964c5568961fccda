#include "server/cli/statement_buffer.h"

#include <gtest/gtest.h>

namespace sidestream::cli {
namespace {

TEST(StatementBufferTest, AStatementEndsAtASemicolonOutsideQuotesAndComments) {
  StatementBuffer buffer;
  buffer.AppendLine("SELECT ';', \"a;b\", `c;` -- not the end;");
  EXPECT_FALSE(buffer.TakeStatement());
  buffer.AppendLine("/* nor ; this */ FROM s");
  EXPECT_FALSE(buffer.TakeStatement());
  EXPECT_FALSE(buffer.empty());
  buffer.AppendLine("EMIT CHANGES;");
  auto statement = buffer.TakeStatement();
  ASSERT_TRUE(statement);
  EXPECT_EQ(*statement,
            "SELECT ';', \"a;b\", `c;` -- not the end;\n/* nor ; this */ FROM s\nEMIT CHANGES;");
  EXPECT_TRUE(buffer.empty());
}

TEST(StatementBufferTest, SeveralStatementsOnOneLineComeOutOneByOne) {
  StatementBuffer buffer;
  buffer.AppendLine("SHOW STREAMS; SHOW TABLES;  SHOW");
  EXPECT_EQ(buffer.TakeStatement().value_or(""), "SHOW STREAMS;");
  EXPECT_EQ(buffer.TakeStatement().value_or(""), "SHOW TABLES;");
  EXPECT_FALSE(buffer.TakeStatement());
  EXPECT_FALSE(buffer.empty());
  buffer.AppendLine("QUERIES;");
  EXPECT_EQ(buffer.TakeStatement().value_or(""), "SHOW\nQUERIES;");
}

TEST(StatementBufferTest, AnUnclosedQuoteKeepsTheStatementOpen) {
  StatementBuffer buffer;
  buffer.AppendLine("INSERT INTO s VALUES ('it''s;");
  EXPECT_FALSE(buffer.TakeStatement());
  buffer.AppendLine("');");
  EXPECT_EQ(buffer.TakeStatement().value_or(""), "INSERT INTO s VALUES ('it''s;\n');");
}

}  // namespace
}  // namespace sidestream::cli
