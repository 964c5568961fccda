// A message without a key: a table drops it (Kafka Streams' table source skips a null key, and
// ksqlDB's tables are KTables), a stream passes it on with NULL key columns.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "runtime/stream_task.h"
#include "session/statements.h"

namespace sidestream::runtime {
namespace {

struct Written {
  std::string key;  // "<null>" for no key
  std::string value;
};

// Runs `messages` through the last query of `sql` and returns what it wrote.
std::vector<Written> RunQuery(const std::string& sql, const std::vector<InputMessage>& messages,
                              TaskCounters* counters = nullptr) {
  auto catalog = catalog::Catalog::Open(":memory:");
  EXPECT_TRUE(catalog.ok());
  auto query = session::CompileLastQuery(sql, **catalog);
  EXPECT_TRUE(query.ok()) << query.status().ToString();
  if (!query.ok()) return {};
  std::vector<Written> written;
  TaskCallbacks callbacks;
  callbacks.on_result = [&](const TaskResult& result) {
    written.push_back(
        {result.key ? *result.key : "<null>", result.value ? *result.value : "<null>"});
    return Status::OK();
  };
  callbacks.on_side_output = [](const std::string&, const std::string*, const std::string&,
                                int64_t) { return Status::OK(); };
  auto task = StreamTask::Create("q", *query->plan, {}, callbacks);
  EXPECT_TRUE(task.ok()) << task.status().ToString();
  if (!task.ok()) return {};
  Status processed = (*task)->ProcessBatch(messages);
  EXPECT_TRUE(processed.ok()) << processed.ToString();
  if (counters != nullptr) *counters = (*task)->counters();
  return written;
}

std::vector<InputMessage> Messages() {
  std::vector<InputMessage> messages(4);
  messages[0].key = "a";
  messages[0].value = "{\"ID\":1}";
  messages[1].value = "{\"ID\":2}";  // no key
  messages[2].key = "a";             // a tombstone
  messages[3].key = "b";
  messages[3].value = "{\"ID\":3}";
  for (size_t i = 0; i < messages.size(); ++i) messages[i].offset = static_cast<int64_t>(i);
  return messages;
}

TEST(NullKeyTest, TableDropsARowWithoutAKey) {
  TaskCounters counters;
  std::vector<Written> written = RunQuery(
      "CREATE TABLE T (K STRING PRIMARY KEY, ID INT) WITH (KAFKA_TOPIC='t', "
      "VALUE_FORMAT='JSON');\n"
      "CREATE TABLE OUT AS SELECT * FROM T;",
      Messages(), &counters);
  ASSERT_EQ(written.size(), 3u);
  EXPECT_EQ(written[0].key, "a");
  EXPECT_EQ(written[0].value, "{\"ID\":1}");
  EXPECT_EQ(written[1].key, "a");
  EXPECT_EQ(written[1].value, "<null>");
  EXPECT_EQ(written[2].key, "b");
  EXPECT_EQ(counters.null_key_table_records, 1);
  EXPECT_EQ(counters.records, 4);
  EXPECT_EQ(counters.decode_errors, 0);
}

TEST(NullKeyTest, StreamKeepsARowWithoutAKey) {
  TaskCounters counters;
  std::vector<Written> written = RunQuery(
      "CREATE STREAM S (K STRING KEY, ID INT) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');\n"
      "CREATE STREAM OUT AS SELECT * FROM S;",
      Messages(), &counters);
  ASSERT_EQ(written.size(), 4u);
  EXPECT_EQ(written[1].key, "<null>");
  EXPECT_EQ(written[1].value, "{\"ID\":2}");
  EXPECT_EQ(counters.null_key_table_records, 0);
}

}  // namespace
}  // namespace sidestream::runtime
