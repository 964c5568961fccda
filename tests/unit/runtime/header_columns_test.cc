// HEADERS and HEADER('name') columns read from a record's headers: binary bytes kept as
// they are, null values, the last header of a name, many headers, and a task that decodes
// them and writes them as JSON.

#include "runtime/header_columns.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "runtime/stream_task.h"
#include "session/statements.h"

namespace sidestream::runtime {
namespace {

using types::Value;

const std::string kBinary("\x00\xff\x80\n\"\\", 6);

TEST(HeaderColumnsTest, HeadersColumnHoldsEveryHeaderInOrderWithNullValues) {
  std::vector<RecordHeader> headers = {{"abc", kBinary}, {"def", "", false}, {"abc", "x"}};
  std::vector<HeaderColumn> columns = {{0, ""}};
  types::Row row(1);
  FillHeaderColumns(columns, headers, row);
  ASSERT_EQ(row[0].kind(), types::TypeId::kArray);
  const auto& entries = row[0].children();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].children()[0], Value::String("abc"));
  EXPECT_EQ(entries[0].children()[1], Value::Bytes(kBinary));
  EXPECT_TRUE(entries[1].children()[1].is_null());
  EXPECT_EQ(entries[2].children()[1], Value::Bytes("x"));
}

TEST(HeaderColumnsTest, NoHeadersIsAnEmptyArrayAndAMissingHeaderIsNull) {
  std::vector<HeaderColumn> columns = {{0, ""}, {1, "abc"}};
  types::Row row = {Value::String("stale"), Value::String("stale")};
  FillHeaderColumns(columns, {}, row);
  EXPECT_EQ(row[0], Value::Array({}));
  EXPECT_TRUE(row[1].is_null());
}

TEST(HeaderColumnsTest, HeaderColumnTakesTheLastHeaderOfItsName) {
  std::vector<RecordHeader> headers = {{"abc", "first"}, {"def", "other"}, {"abc", kBinary}};
  std::vector<HeaderColumn> columns = {{1, "abc"}, {0, "def"}};
  types::Row row(2);
  FillHeaderColumns(columns, headers, row);
  EXPECT_EQ(row[1], Value::Bytes(kBinary));
  EXPECT_EQ(row[0], Value::Bytes("other"));
  // A last header whose value is null makes the column NULL, not an earlier value.
  headers.push_back({"abc", "", false});
  FillHeaderColumns(columns, headers, row);
  EXPECT_TRUE(row[1].is_null());
}

TEST(HeaderColumnsTest, ManyHeaders) {
  std::vector<std::string> names(100000);
  std::vector<RecordHeader> headers;
  for (size_t i = 0; i < names.size(); ++i) {
    names[i] = "h" + std::to_string(i % 7);
    headers.push_back({names[i], names[i]});
  }
  std::vector<HeaderColumn> columns = {{0, ""}, {1, "h3"}};
  types::Row row(2);
  FillHeaderColumns(columns, headers, row);
  EXPECT_EQ(row[0].children().size(), names.size());
  EXPECT_EQ(row[1], Value::Bytes("h3"));
}

// Through a task: the columns come from the message's headers and leave as JSON base64.
TEST(HeaderColumnsTest, TaskReadsHeaderColumnsFromTheMessage) {
  auto catalog = catalog::Catalog::Open(":memory:");
  ASSERT_TRUE(catalog.ok());
  auto query = session::CompileLastQuery(
      "CREATE STREAM S (K STRING KEY, H ARRAY<STRUCT<KEY STRING, VALUE BYTES>> HEADERS, "
      "ONE BYTES HEADER('abc'), V INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');\n"
      "CREATE STREAM OUT AS SELECT K, V, ONE, H FROM S;",
      **catalog);
  ASSERT_TRUE(query.ok()) << query.status().ToString();
  std::vector<std::string> values;
  TaskCallbacks callbacks;
  callbacks.on_result = [&](const TaskResult& result) {
    values.push_back(result.value ? *result.value : "<null>");
    return Status::OK();
  };
  callbacks.on_side_output = [](const std::string&, const std::string*, const std::string&,
                                int64_t) { return Status::OK(); };
  auto task = StreamTask::Create("q", *query->plan, {}, callbacks);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  std::vector<RecordHeader> headers = {{"abc", kBinary},
                                       {std::string_view("\xff\xfe", 2), "", false}};
  InputMessage input;
  input.key = "k";
  input.value = "{\"V\":1}";
  input.headers = headers;
  ASSERT_TRUE((*task)->Process(input).ok());
  input.headers = {};
  ASSERT_TRUE((*task)->Process(input).ok());
  ASSERT_EQ(values.size(), 2u);
  EXPECT_NE(values[0].find("\"ONE\":\"AP+ACiJc\""), std::string::npos) << values[0];
  EXPECT_NE(values[0].find("{\"KEY\":\"abc\",\"VALUE\":\"AP+ACiJc\"}"), std::string::npos)
      << values[0];
  EXPECT_EQ(values[1], "{\"V\":1,\"ONE\":null,\"H\":[]}");
}

}  // namespace
}  // namespace sidestream::runtime
