#include <gtest/gtest.h>

#include "connectors/formats/row_format.h"

namespace sidestream::formats {
namespace {

using types::SqlType;
using types::Value;

TEST(ProjectionPushdownTest, SkippedColumnsAreNeitherParsedNorWritten) {
  std::vector<FormatColumn> columns = {{"CALLER", SqlType::String()},
                                       {"DURATION", SqlType::Int(), /*skip=*/true},
                                       {"CELL", SqlType::String()}};
  auto decoder = MakeDecoder(FormatOptions{}, columns);
  ASSERT_TRUE(decoder.ok()) << decoder.status().ToString();
  types::Row row(3, Value::String("stale"));
  // DURATION holds a value that would not decode as INT: skipped, it is not even read.
  Status status =
      (*decoder)->Decode(R"({"caller":"a","duration":"not a number","cell":"C1"})", row, 0);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(row[0], Value::String("a"));
  EXPECT_EQ(row[1], Value::String("stale"));  // nobody reads it, so nobody clears it
  EXPECT_EQ(row[2], Value::String("C1"));

  // Without the flag the same message is an error that names the column.
  columns[1].skip = false;
  auto strict = MakeDecoder(FormatOptions{}, columns);
  ASSERT_TRUE(strict.ok());
  Status failed =
      (*strict)->Decode(R"({"caller":"a","duration":"not a number","cell":"C1"})", row, 0);
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("DURATION"), std::string::npos) << failed.message();

  // Malformed JSON is still caught when the broken part is in a skipped field.
  EXPECT_FALSE((*decoder)->Decode(R"({"caller":"a","duration":[1,2,"cell":"C1"})", row, 0).ok());
}

}  // namespace
}  // namespace sidestream::formats
