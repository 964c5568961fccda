#include "sql/parser.h"

#include <gtest/gtest.h>

namespace sidestream::sql {
namespace {

TEST(ParserTest, Smoke) {
  auto result = ParseStatement("SELECT a + 1 AS x FROM s WHERE b > 2 EMIT CHANGES;");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
}

}  // namespace
}  // namespace sidestream::sql
