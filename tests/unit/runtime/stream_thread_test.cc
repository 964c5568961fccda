// Stream threads over in-memory topics: tasks of a query spread over the threads give the
// results one thread gives, and a query that fails (a bad record, a state store's error) stops
// on every thread while another runs on.
#include "runtime/stream_thread.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <thread>

#include "analyzer/analyzer.h"
#include "catalog/catalog.h"
#include "runtime/in_memory_clients.h"
#include "session/statements.h"
#include "sql/parser.h"

namespace sidestream::runtime {
namespace {

constexpr int kPartitions = 4;

/// Runs the queries of a script on `threads` stream threads over in-memory topics.
class ThreadedQueries {
 public:
  explicit ThreadedQueries(int threads) : clients_(threads, kPartitions), threads_(threads) {}
  ~ThreadedQueries() {
    for (auto& thread : running_) thread->Stop();
    running_.clear();
  }

  /// `wrap_store`: see StreamThreadOptions.
  void Start(const std::string& sql, StoreWrapper wrap_store = {}) {
    auto catalog = catalog::Catalog::Open(":memory:");
    ASSERT_TRUE(catalog.ok());
    catalog_ = std::move(*catalog);
    auto statements = sql::ParseScript(sql);
    ASSERT_TRUE(statements.ok()) << statements.status().ToString();
    analyzer::SessionProperties session;
    for (const auto& statement : *statements) {
      analyzer::Analyzer analyzer(*catalog_, session);
      auto analyzed = analyzer.Analyze(*statement);
      ASSERT_TRUE(analyzed.ok()) << analyzed.status().ToString();
      std::string message;
      auto query = session::ApplyStatement(*statement, *analyzed, *catalog_, session, message);
      ASSERT_TRUE(query.ok()) << query.status().ToString();
      if (!*query) continue;
      planner::PlannerOptions planning;
      planning.partition_count = [](const std::string&) -> Result<int> { return kPartitions; };
      auto physical = planner::PlanQuery((*query)->id, std::move((*query)->plan), planning);
      ASSERT_TRUE(physical.ok()) << physical.status().ToString();
      auto control =
          std::make_shared<QueryControl>((*query)->id, Clock::System(), RetryPolicy{}, nullptr);
      auto spec = MakeQuerySpec(std::move(*physical), (*query)->properties, control);
      ASSERT_TRUE(spec.ok()) << spec.status().ToString();
      queries_.push_back(std::move(*spec));
    }
    StreamThreadOptions options;
    options.commit_interval_ms = 0;
    options.wrap_store = std::move(wrap_store);
    for (int index = 0; index < threads_; ++index) {
      running_.push_back(std::make_unique<StreamThread>(index, options, clients_));
      for (const auto& query : queries_) ASSERT_TRUE(running_.back()->AddQuery(*query).ok());
    }
    for (auto& thread : running_) thread->Start();
  }

  InMemoryClients& clients() { return clients_; }
  const QueryControl& control(size_t query) const { return *queries_[query]->control; }

  /// Waits until the threads consumed `records` in all (10 s at most).
  bool WaitForConsumed(int64_t records) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int64_t consumed = 0;
      for (const auto& thread : running_) consumed += thread->progress().consumed;
      if (consumed >= records) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  /// Records consumed by each thread.
  std::vector<int64_t> ConsumedPerThread() const {
    std::vector<int64_t> consumed;
    for (const auto& thread : running_) consumed.push_back(thread->progress().consumed);
    return consumed;
  }

  /// The last value per key in `topic`.
  std::map<std::string, std::string> Latest(const std::string& topic) {
    std::map<std::string, std::string> latest;
    for (int32_t partition = 0; partition < kPartitions; ++partition) {
      auto read = clients_.ReadChangelog(
          topic, partition,
          [&](std::optional<std::string_view> key, std::optional<std::string_view> value) {
            latest[std::string(key.value_or(""))] = std::string(value.value_or("<null>"));
            return Status::OK();
          });
      EXPECT_TRUE(read.ok());
    }
    return latest;
  }

 private:
  InMemoryClients clients_;
  int threads_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::vector<std::unique_ptr<QuerySpec>> queries_;
  std::vector<std::unique_ptr<StreamThread>> running_;
};

constexpr const char* kCallsPerCell = R"(
  CREATE STREAM calls (caller STRING KEY, cell STRING, ts BIGINT)
    WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=4);
  CREATE TABLE calls_per_cell AS SELECT cell, COUNT(*) AS calls FROM calls GROUP BY cell;)";

void ProduceCalls(InMemoryClients& clients, int count) {
  for (int i = 0; i < count; ++i) {
    const std::string caller = "caller-" + std::to_string(i % 37);
    const std::string value =
        R"({"cell":"C)" + std::to_string(i % 11) + R"(","ts":)" + std::to_string(1000 + i) + "}";
    ASSERT_TRUE(clients.Append("calls", -1, caller, value, 1000 + i).ok());
  }
}

TEST(StreamThreadTest, TwoThreadsShareTheTasksAndGiveOneThreadsResults) {
  std::map<std::string, std::string> results[2];
  for (int threads : {1, 2}) {
    ThreadedQueries queries(threads);
    ProduceCalls(queries.clients(), 1100);
    queries.Start(kCallsPerCell);
    // Both stages read every record: the input, then the repartition topic.
    ASSERT_TRUE(queries.WaitForConsumed(2 * 1100)) << threads << " thread(s)";
    results[threads - 1] = queries.Latest("CALLS_PER_CELL");
    // Each thread ran the tasks of its own partitions.
    for (int64_t consumed : queries.ConsumedPerThread()) EXPECT_GT(consumed, 0);
  }
  ASSERT_EQ(results[0].size(), 11u);
  for (const auto& [cell, value] : results[0]) {
    EXPECT_EQ(value, R"({"CALLS":100})") << cell;
  }
  EXPECT_EQ(results[1], results[0]);
}

TEST(StreamThreadTest, AFailingQueryStopsOnEveryThreadWhileAnotherRunsOn) {
  ThreadedQueries queries(2);
  queries.Start(R"(
    CREATE STREAM calls (caller STRING KEY, cell STRING, ts BIGINT)
      WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=4, TIMESTAMP='ts');
    SET 'ksql.timestamp.throw.on.invalid' = 'true';
    CREATE STREAM strict_calls AS SELECT caller, cell FROM calls;
    UNSET 'ksql.timestamp.throw.on.invalid';
    CREATE STREAM all_calls AS SELECT caller, cell FROM calls;)");
  ProduceCalls(queries.clients(), 40);
  ASSERT_TRUE(queries.clients().Append("calls", 1, "bad", R"({"cell":"C1","ts":null})", 0).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (queries.control(0).state() != QueryState::kError &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const QueryStatus strict = queries.control(0).status();
  ASSERT_EQ(strict.state, QueryState::kError);
  ASSERT_EQ(strict.errors.size(), 1u);
  EXPECT_EQ(strict.errors[0].partition, 1);
  // The other query took every record, the bad one to the dead-letter topic, and runs on.
  ProduceCalls(queries.clients(), 8);
  while (queries.clients().Size("ALL_CALLS") < 48 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(queries.clients().Size("ALL_CALLS"), 48);
  EXPECT_EQ(queries.control(1).state(), QueryState::kRunning);
  EXPECT_TRUE(queries.control(1).status().errors.empty());
}

// A store whose every call fails from its `fail_from`-th on, as a RocksDB store whose disk
// went away: reads and writes with IOError.
class BrokenDiskStore final : public KeyValueStore {
 public:
  BrokenDiskStore(std::unique_ptr<KeyValueStore> inner, int fail_from)
      : inner_(std::move(inner)), fail_from_(fail_from) {}

  Result<types::Row*> Find(const types::Row& key) override {
    RETURN_NOT_OK(Call());
    return inner_->Find(key);
  }
  Result<const types::Row*> Get(const types::Row& key) const override {
    RETURN_NOT_OK(Call());
    return inner_->Get(key);
  }
  Result<types::Row*> Upsert(const types::Row& key, bool& inserted) override {
    RETURN_NOT_OK(Call());
    return inner_->Upsert(key, inserted);
  }
  Status Erase(const types::Row& key) override {
    RETURN_NOT_OK(Call());
    return inner_->Erase(key);
  }
  size_t size() const override { return inner_->size(); }
  int64_t ApproximateBytes() const override { return inner_->ApproximateBytes(); }
  Status ForEach(const std::function<void(const types::Row& key, const types::Row& value)>& visit)
      const override {
    RETURN_NOT_OK(Call());
    return inner_->ForEach(visit);
  }
  Status Flush() override {
    RETURN_NOT_OK(Call());
    return inner_->Flush();
  }

 private:
  Status Call() const {
    if (++calls_ < fail_from_) return Status::OK();
    return Status::IOError("injected: the disk of the store is gone");
  }

  std::unique_ptr<KeyValueStore> inner_;
  const int fail_from_;
  mutable int calls_ = 0;
};

TEST(StreamThreadTest, AQueryWhoseStoreFailsStopsInErrorWhileAnotherRunsOn) {
  ThreadedQueries queries(2);
  ProduceCalls(queries.clients(), 1100);
  // The stores of the first query's tasks fail after a few records; the second's work.
  queries.Start(R"(
    CREATE STREAM calls (caller STRING KEY, cell STRING, ts BIGINT)
      WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=4);
    CREATE TABLE broken_per_cell AS SELECT cell, COUNT(*) AS calls FROM calls GROUP BY cell;
    CREATE TABLE calls_per_cell AS SELECT cell, COUNT(*) AS calls FROM calls GROUP BY cell;)",
                [](const StageSpec& stage, const std::string&, int32_t,
                   std::unique_ptr<KeyValueStore> store) -> std::unique_ptr<KeyValueStore> {
                  if (stage.query_id.find("BROKEN") == std::string::npos) return store;
                  return std::make_unique<BrokenDiskStore>(std::move(store), 20);
                });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (queries.control(0).state() != QueryState::kError &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const QueryStatus broken = queries.control(0).status();
  ASSERT_EQ(broken.state, QueryState::kError) << "a store's IOError is not retriable";
  ASSERT_EQ(broken.errors.size(), 1u);
  EXPECT_EQ(broken.errors[0].error.code(), StatusCode::kIOError);
  EXPECT_NE(broken.errors[0].error.message().find("injected: the disk of the store is gone"),
            std::string::npos)
      << broken.errors[0].ToString();
  // The other query counted every call, and runs on.
  std::map<std::string, std::string> counts;
  while (std::chrono::steady_clock::now() < deadline) {
    counts = queries.Latest("CALLS_PER_CELL");
    if (counts.size() == 11 && std::all_of(counts.begin(), counts.end(), [](const auto& entry) {
          return entry.second == R"({"CALLS":100})";
        })) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(counts.size(), 11u);
  for (const auto& [cell, value] : counts) EXPECT_EQ(value, R"({"CALLS":100})") << cell;
  EXPECT_EQ(queries.control(1).state(), QueryState::kRunning);
  EXPECT_TRUE(queries.control(1).status().errors.empty());
  EXPECT_EQ(queries.control(0).state(), QueryState::kError);
}

}  // namespace
}  // namespace sidestream::runtime
