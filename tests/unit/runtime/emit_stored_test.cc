// Pull queries read a task's results from its stores (StreamTask::EmitStored): every stored
// group through HAVING and the projection, only the groups asked for on a key lookup, and
// nothing reaches the task's sink meanwhile.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "runtime/stream_task.h"
#include "session/statements.h"

namespace sidestream::runtime {
namespace {

class EmitStoredTest : public testing::Test {
 protected:
  void Start(const std::string& sql) {
    auto catalog = catalog::Catalog::Open(":memory:");
    ASSERT_TRUE(catalog.ok());
    catalog_ = std::move(*catalog);
    auto query = session::CompileLastQuery(sql, *catalog_);
    ASSERT_TRUE(query.ok()) << query.status().ToString();
    plan_ = std::move(query->plan);
    TaskCallbacks callbacks;
    callbacks.on_result = [this](const TaskResult&) {
      ++sink_results_;
      return Status::OK();
    };
    callbacks.on_side_output = [](const std::string&, const std::string*, const std::string&,
                                  int64_t) { return Status::OK(); };
    auto task = StreamTask::Create("q", *plan_, {}, callbacks);
    ASSERT_TRUE(task.ok()) << task.status().ToString();
    task_ = std::move(*task);
  }

  void Call(const std::string& caller, int secs, int64_t timestamp) {
    InputMessage input;
    std::string value = "{\"SECS\":" + std::to_string(secs) + "}";
    input.key = caller;
    input.value = value;
    input.timestamp = timestamp;
    ASSERT_TRUE(task_->Process(input).ok());
  }

  // The stored rows as "col|col|...|@rowtime[window]", sorted.
  std::vector<std::string> Stored(const std::vector<types::Row>* keys) {
    std::vector<std::string> rows;
    Status status = task_->EmitStored(keys, [&](const Record& record, const Record*) {
      if (record.tombstone) return Status::OK();
      std::string text;
      for (const types::Value& value : record.row) text += value.DebugString() + "|";
      text += "@" + std::to_string(record.timestamp);
      if (record.window) {
        text += "[" + std::to_string(record.window->start) + "," +
                std::to_string(record.window->end) + ")";
      }
      rows.push_back(text);
      return Status::OK();
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
    std::sort(rows.begin(), rows.end());
    return rows;
  }

  std::unique_ptr<catalog::Catalog> catalog_;
  analyzer::LogicalOperatorPtr plan_;
  std::unique_ptr<StreamTask> task_;
  int sink_results_ = 0;
};

const char* kCalls =
    "CREATE STREAM CALLS (CALLER STRING KEY, SECS INT) "
    "WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON');\n";

TEST_F(EmitStoredTest, GroupsPassHavingAndProjectionWithoutReachingTheSink) {
  Start(std::string(kCalls) +
        "CREATE TABLE T AS SELECT CALLER, SUM(SECS) AS TOTAL, COUNT(*) AS N FROM CALLS "
        "GROUP BY CALLER HAVING SUM(SECS) > 5;");
  ASSERT_TRUE(task_->materialized());
  Call("a", 4, 1000);
  Call("b", 10, 2000);
  Call("a", 3, 3000);
  Call("c", 1, 4000);
  const int before = sink_results_;
  EXPECT_EQ(Stored(nullptr), (std::vector<std::string>{"'a'|7|2|@3000", "'b'|10|1|@2000"}));
  std::vector<types::Row> keys = {
      {types::Value::String("b")}, {types::Value::String("zed")}, {types::Value::String("c")}};
  EXPECT_EQ(Stored(&keys), (std::vector<std::string>{"'b'|10|1|@2000"}));
  EXPECT_EQ(sink_results_, before);
  // The task goes on as before.
  Call("c", 9, 5000);
  EXPECT_GT(sink_results_, before);
  EXPECT_EQ(Stored(nullptr).size(), 3u);
}

TEST_F(EmitStoredTest, WindowedGroupsCarryTheirBounds) {
  Start(std::string(kCalls) +
        "CREATE TABLE T AS SELECT CALLER, COUNT(*) AS N FROM CALLS "
        "WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY CALLER;");
  Call("a", 1, 1000);
  Call("a", 1, 61000);
  Call("a", 1, 62000);
  EXPECT_EQ(Stored(nullptr),
            (std::vector<std::string>{"'a'|1|@1000[0,60000)", "'a'|2|@62000[60000,120000)"}));
}

// A table derived from a table without aggregation keeps its result rows in a store of its
// own: the rows the CTAS's WHERE keeps, projected, keyed by the table's key; an update the
// WHERE drops and a delete take the key out.
TEST_F(EmitStoredTest, ATableDerivedFromATableKeepsItsResultRows) {
  Start(
      "CREATE TABLE USERS (ID STRING PRIMARY KEY, SECS INT) "
      "WITH (KAFKA_TOPIC='users', VALUE_FORMAT='JSON');\n"
      "CREATE TABLE LONG_CALLS AS SELECT ID, SECS * 2 AS DOUBLE_SECS FROM USERS WHERE SECS > 5;");
  ASSERT_TRUE(task_->materialized());
  ASSERT_FALSE(plan_->result_store.empty());
  Call("a", 10, 1000);
  Call("b", 3, 2000);
  Call("c", 7, 3000);
  Call("a", 11, 4000);
  const int before = sink_results_;
  EXPECT_EQ(Stored(nullptr), (std::vector<std::string>{"'a'|22|@4000", "'c'|14|@3000"}));
  std::vector<types::Row> keys = {{types::Value::String("c")}, {types::Value::String("b")}};
  EXPECT_EQ(Stored(&keys), (std::vector<std::string>{"'c'|14|@3000"}));
  EXPECT_EQ(sink_results_, before);
  Call("a", 1, 5000);  // no longer passes the WHERE
  InputMessage tombstone;
  tombstone.key = std::string_view("c");
  tombstone.timestamp = 6000;
  ASSERT_TRUE(task_->Process(tombstone).ok());
  EXPECT_EQ(Stored(nullptr), std::vector<std::string>{});
}

TEST_F(EmitStoredTest, AProjectionOfAStreamIsNotMaterialized) {
  Start(std::string(kCalls) + "CREATE STREAM S AS SELECT CALLER, SECS FROM CALLS;");
  EXPECT_FALSE(task_->materialized());
  EXPECT_EQ(
      task_->EmitStored(nullptr, [](const Record&, const Record*) { return Status::OK(); }).code(),
      StatusCode::kNotSupported);
}

}  // namespace
}  // namespace sidestream::runtime
