// Changelog-backed state: a pipeline restored from its stores' changelogs continues exactly
// as the pipeline that wrote them would have, for every stateful operator (windows,
// sessions, joins, table re-grouping).

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "runtime/state_store.h"
#include "runtime/stream_task.h"
#include "session/statements.h"
#include "types/value_codec.h"

namespace sidestream::runtime {
namespace {

struct Message {
  std::string topic;
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp = 0;
};

// One changelog record: encoded key, and encoded value or nullopt (a deletion).
using Changelog = std::vector<std::pair<std::string, std::optional<std::string>>>;

class RestoreTest : public testing::Test {
 protected:
  // A pipeline for the last query of `sql` whose stores write to changelogs_, and the
  // results it writes to `results` (key | value | timestamp).
  std::unique_ptr<StreamTask> Start(const std::string& sql, std::vector<std::string>& results,
                                    std::map<std::string, runtime::ChangelogStore*>& stores) {
    auto catalog = catalog::Catalog::Open(":memory:");
    EXPECT_TRUE(catalog.ok());
    catalogs_.push_back(std::move(*catalog));
    auto query = session::CompileLastQuery(sql, *catalogs_.back());
    EXPECT_TRUE(query.ok()) << query.status().ToString();
    plans_.push_back(std::move(query->plan));
    TaskCallbacks callbacks;
    callbacks.on_result = [&results](const TaskResult& result) {
      results.push_back((result.key ? *result.key : "null") + " | " +
                        (result.value ? *result.value : "null") + " | " +
                        std::to_string(result.timestamp));
      return Status::OK();
    };
    callbacks.on_side_output = [](const std::string&, const std::string*, const std::string&,
                                  int64_t) { return Status::OK(); };
    auto factory = [this, &stores](const std::string& name) {
      auto store = std::make_unique<runtime::ChangelogStore>(
          [this, name](std::string_view key, const std::string* value) {
            changelogs_[name].push_back(
                {std::string(key), value ? std::optional<std::string>(*value) : std::nullopt});
            return Status::OK();
          });
      stores[name] = store.get();
      return store;
    };
    auto pipeline = StreamTask::Create("q", *plans_.back(), {}, callbacks, factory);
    EXPECT_TRUE(pipeline.ok()) << pipeline.status().ToString();
    return std::move(*pipeline);
  }

  static void Feed(StreamTask& pipeline, const std::vector<Message>& messages) {
    const auto& sources = pipeline.sources();
    for (const Message& message : messages) {
      for (size_t source = 0; source < sources.size(); ++source) {
        if (sources[source].topic != message.topic) continue;
        InputMessage input;
        input.key = message.key;
        input.value = message.value;
        input.timestamp = message.timestamp;
        input.source = source;
        ASSERT_TRUE(pipeline.Process(input).ok());
      }
    }
  }

  // Runs `before` through a pipeline and commits it (its stores write their changelogs);
  // then a second pipeline restores from the changelogs, and both run `after`. Returns
  // the results of `after` from the original and from the restored pipeline.
  std::pair<std::vector<std::string>, std::vector<std::string>> RunAcrossRestore(
      const std::string& sql, const std::vector<Message>& before,
      const std::vector<Message>& after) {
    std::vector<std::string> original_results, restored_results;
    std::map<std::string, runtime::ChangelogStore*> original_stores, restored_stores;
    auto original = Start(sql, original_results, original_stores);
    Feed(*original, before);
    EXPECT_TRUE(original->Flush().ok());
    EXPECT_FALSE(changelogs_.empty());
    auto restored = Start(sql, restored_results, restored_stores);
    for (const auto& [name, records] : changelogs_) {
      for (const auto& [key, value] : records) {
        std::string_view value_view = value ? std::string_view(*value) : std::string_view();
        EXPECT_TRUE(restored_stores.at(name)->Restore(key, value ? &value_view : nullptr).ok());
      }
      EXPECT_EQ(restored_stores.at(name)->size(), original_stores.at(name)->size()) << name;
    }
    EXPECT_TRUE(restored->RebuildIndexes().ok());
    original_results.clear();
    Feed(*original, after);
    Feed(*restored, after);
    return {original_results, restored_results};
  }

  std::vector<std::unique_ptr<catalog::Catalog>> catalogs_;
  std::vector<analyzer::LogicalOperatorPtr> plans_;
  std::map<std::string, Changelog> changelogs_;
};

const char* kCalls =
    "CREATE STREAM calls (caller STRING KEY, cell STRING) "
    "WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON');\n";

Message Call(const std::string& caller, const std::string& cell, int64_t timestamp) {
  return {"calls", caller, "{\"cell\":\"" + cell + "\"}", timestamp};
}

TEST_F(RestoreTest, TumblingWindowsEmitFinalAndStayClosedAfterARestore) {
  const std::string sql = std::string(kCalls) +
                          "CREATE TABLE per_cell AS SELECT cell, COUNT(*) AS calls FROM calls "
                          "WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 0 SECONDS) "
                          "GROUP BY cell EMIT FINAL;";
  auto [original, restored] = RunAcrossRestore(
      sql, {Call("a", "C1", 1000), Call("b", "C2", 2000), Call("c", "C1", 12000)},
      // The record at 5 s is late: its window closed before the commit, at stream time 12 s.
      {Call("x", "C1", 5000), Call("d", "C1", 13000), Call("e", "C2", 25000),
       Call("f", "C1", 40000)});
  EXPECT_EQ(original.size(), 2u);  // the windows [10 s, 20 s) and [20 s, 30 s) close
  EXPECT_EQ(restored, original);
}

TEST_F(RestoreTest, SessionsMergeAcrossARestore) {
  const std::string sql = std::string(kCalls) +
                          "CREATE TABLE sessions AS SELECT caller, COUNT(*) AS calls FROM calls "
                          "WINDOW SESSION (30 SECONDS) GROUP BY caller;";
  auto [original, restored] = RunAcrossRestore(sql, {Call("a", "C1", 1000), Call("a", "C1", 50000)},
                                               {Call("a", "C1", 25000), Call("a", "C1", 200000)});
  EXPECT_GE(original.size(), 4u);  // the bridge retracts two sessions and writes the merged one
  EXPECT_EQ(restored, original);
}

TEST_F(RestoreTest, AHeldUnmatchedJoinRecordIsWrittenOnceAfterARestore) {
  const std::string sql =
      std::string(kCalls) +
      "CREATE STREAM sms (sender STRING KEY, body STRING) "
      "WITH (KAFKA_TOPIC='sms', VALUE_FORMAT='JSON');\n"
      "CREATE STREAM calls_and_sms AS SELECT c.caller, c.cell, m.body FROM calls c "
      "LEFT JOIN sms m WITHIN (0 SECONDS, 1 MINUTE) GRACE PERIOD 0 SECONDS "
      "ON c.caller = m.sender;";
  auto [original, restored] = RunAcrossRestore(
      sql, {Call("y", "C1", 1000), Call("z", "C2", 1000)},
      {{"sms", "z", "{\"body\":\"hi\"}", 30000}, Call("w", "C3", 70000), Call("v", "C3", 80000)});
  EXPECT_EQ(original.size(), 2u);  // z joined; y written unmatched once its window closed
  EXPECT_EQ(restored, original);
}

TEST_F(RestoreTest, MatchRecognizeContinuesItsPartialMatchesAfterARestore) {
  // PARTITION BY the key: one stage. Rows held for the watermark, a greedy run in progress
  // and the rows PREV reads all cross the commit.
  const std::string sql =
      "CREATE STREAM calls (caller STRING KEY, cell STRING, ts BIGINT, "
      "WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) "
      "WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON');\n"
      "CREATE STREAM hops AS SELECT * FROM calls MATCH_RECOGNIZE (PARTITION BY caller "
      "ORDER BY ROWTIME MEASURES FIRST(M.cell) AS first_cell, COUNT(M.*) AS moves, "
      "LAST(M.cell) AS last_cell PATTERN (S M+) WITHIN INTERVAL '1' MINUTE "
      "DEFINE M AS cell <> PREV(cell));";
  auto hop = [](const std::string& caller, const std::string& cell, int64_t timestamp) {
    return Message{"calls", caller,
                   "{\"cell\":\"" + cell + "\",\"ts\":" + std::to_string(timestamp) + "}",
                   timestamp};
  };
  auto [original, restored] = RunAcrossRestore(
      sql, {hop("a", "C1", 1000), hop("a", "C2", 2000), hop("a", "C3", 3000), hop("b", "C1", 3500)},
      {hop("a", "C3", 4000), hop("a", "C4", 5000), hop("b", "C2", 6000), hop("b", "C2", 7000),
       hop("a", "C4", 90000), hop("b", "C2", 200000)});
  EXPECT_GE(original.size(), 2u);  // a: C2, C3 (then C3 repeats); b: C2 (then C2 repeats)
  EXPECT_EQ(restored, original);
}

TEST_F(RestoreTest, StreamTableJoinAndTableRegroupingKeepTheirRows) {
  const std::string table =
      "CREATE TABLE plans (msisdn STRING PRIMARY KEY, plan STRING) "
      "WITH (KAFKA_TOPIC='plans', VALUE_FORMAT='JSON');\n";
  auto plan = [](const std::string& msisdn, const char* plan, int64_t timestamp) {
    return Message{"plans", msisdn,
                   plan ? std::optional<std::string>(std::string("{\"plan\":\"") + plan + "\"}")
                        : std::nullopt,
                   timestamp};
  };
  auto [joined, joined_restored] = RunAcrossRestore(
      std::string(kCalls) + table +
          "CREATE STREAM enriched AS SELECT c.caller, p.plan FROM calls c "
          "JOIN plans p ON c.caller = p.msisdn;",
      {plan("a", "gold", 1), plan("b", "free", 1)}, {Call("a", "C1", 5), Call("b", "C1", 6)});
  EXPECT_EQ(joined.size(), 2u);
  EXPECT_EQ(joined_restored, joined);
  changelogs_.clear();
  auto [counts, counts_restored] = RunAcrossRestore(
      table + "CREATE TABLE plan_counts AS SELECT plan, COUNT(*) AS n FROM plans GROUP BY plan;",
      {plan("a", "gold", 1), plan("b", "gold", 2)}, {plan("a", "free", 3), plan("b", nullptr, 4)});
  EXPECT_EQ(counts.size(), 3u);  // gold loses a (and b) as free gains a
  EXPECT_EQ(counts_restored, counts);
}

TEST_F(RestoreTest, AChangelogOfAnotherShapeIsCorruptionNotACrash) {
  std::vector<std::string> results;
  std::map<std::string, runtime::ChangelogStore*> stores;
  auto pipeline = Start(std::string(kCalls) +
                            "CREATE TABLE per_cell AS SELECT cell, COUNT(*) AS calls FROM calls "
                            "WINDOW TUMBLING (SIZE 10 SECONDS) GROUP BY cell;",
                        results, stores);
  std::string key, value;
  types::EncodeRow({}, key);  // the stream-time store's key, restored into the aggregate's
  types::EncodeRow({types::Value::Bigint(1)}, value);
  std::string_view value_view = value;
  ASSERT_TRUE(stores.at("aggregate-0")->Restore(key, &value_view).ok());
  EXPECT_EQ(pipeline->RebuildIndexes().code(), StatusCode::kCorruption);
  EXPECT_EQ(stores.at("aggregate-0")->Restore("\x05", &value_view).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace sidestream::runtime
