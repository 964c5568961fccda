// exactly_once_v2 on in-memory topics: a transactional sink's aborted transaction leaves no
// record and no offset, a newer sink with the same transactional id fences the older, and a
// query that fails mid-transaction and restarts writes each result once (its in-memory state,
// which had seen the aborted work, is restored from the committed changelog), where
// at-least-once writes some twice.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "analyzer/analyzer.h"
#include "catalog/catalog.h"
#include "runtime/in_memory_clients.h"
#include "runtime/stream_thread.h"
#include "session/statements.h"
#include "sql/parser.h"

namespace sidestream::runtime {
namespace {

constexpr int kPartitions = 4;
constexpr std::chrono::milliseconds kTimeout{1000};

std::vector<std::string> Values(InMemoryClients& clients, const std::string& topic) {
  std::vector<std::string> values;
  for (int32_t partition = 0; partition < kPartitions; ++partition) {
    auto read = clients.ReadChangelog(
        topic, partition,
        [&](std::optional<std::string_view>, std::optional<std::string_view> value) {
          values.emplace_back(value.value_or("<null>"));
          return Status::OK();
        });
    EXPECT_TRUE(read.ok());
  }
  return values;
}

TEST(ExactlyOnceTest, AnAbortedTransactionLeavesNoRecordAndNoOffset) {
  InMemoryClients clients(1, kPartitions);
  clients.CreateTopic("in", kPartitions);
  SourceOptions options;
  options.group_id = "g";
  options.topics = {"in"};
  auto source = clients.CreateSource(std::move(options));
  ASSERT_TRUE(source.ok());
  auto sink = clients.CreateSink({.transactional_id = "app_Q-0"});
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)->transactional());

  ASSERT_TRUE((*sink)->Produce("out", 0, "k", "aborted", 1).ok());
  ASSERT_TRUE((*sink)->SendOffsets(**source, {{"in", 0, 7}}, kTimeout).ok());
  ASSERT_TRUE((*sink)->AbortTransaction(kTimeout).ok());
  EXPECT_EQ(clients.Size("out"), 0);
  auto committed = (*source)->Committed({{"in", 0}});
  ASSERT_TRUE(committed.ok());
  EXPECT_LT((*committed)[0].offset, 0) << "an aborted transaction's offsets are not committed";

  ASSERT_TRUE((*sink)->Produce("out", 0, "k", "committed", 2).ok());
  ASSERT_TRUE((*sink)->SendOffsets(**source, {{"in", 0, 9}}, kTimeout).ok());
  EXPECT_EQ(clients.Size("out"), 0) << "nothing is visible before the commit";
  ASSERT_TRUE((*sink)->CommitTransaction(kTimeout).ok());
  EXPECT_EQ(Values(clients, "out"), std::vector<std::string>{"committed"});
  committed = (*source)->Committed({{"in", 0}});
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ((*committed)[0].offset, 9);

  // A newer sink with the same id fences this one: its commits fail, as not retriable.
  auto newer = clients.CreateSink({.transactional_id = "app_Q-0"});
  ASSERT_TRUE(newer.ok());
  Status fenced = (*sink)->Produce("out", 0, "k", "zombie", 3);
  EXPECT_EQ(fenced.code(), StatusCode::kInternal) << fenced.ToString();
  EXPECT_NE(fenced.message().find("fenced"), std::string::npos) << fenced.ToString();
  ASSERT_TRUE((*newer)->Produce("out", 0, "k", "newer", 4).ok());
  ASSERT_TRUE((*newer)->CommitTransaction(kTimeout).ok());
  EXPECT_EQ(Values(clients, "out"), (std::vector<std::string>{"committed", "newer"}));
}

// A store that fails once, with a retriable error, at the `fail_at`-th call over all the
// stores that share `calls`: a broker that went away for a moment, mid-transaction.
class FailsOnceStore final : public KeyValueStore {
 public:
  FailsOnceStore(std::unique_ptr<KeyValueStore> inner, std::atomic<int>& calls, int fail_at)
      : inner_(std::move(inner)), calls_(calls), fail_at_(fail_at) {}
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
    return inner_->ForEach(visit);
  }
  Status Flush() override { return inner_->Flush(); }

 private:
  Status Call() const {
    if (++calls_ != fail_at_) return Status::OK();
    return Status::Unavailable("injected: the broker went away for a moment [retriable]");
  }
  std::unique_ptr<KeyValueStore> inner_;
  std::atomic<int>& calls_;
  const int fail_at_;
};

struct CountRun {
  std::vector<std::string> values;  // of CALLS_PER_CELL, in order per partition
  int restarts = 0;
};

// Counts 1100 calls over 11 cells (a repartition, then a COUNT per cell) with one stream
// thread under `guarantee`; the count's stores fail once, retriably, after `fail_at` calls.
CountRun CountCalls(ProcessingGuarantee guarantee, int fail_at) {
  CountRun run;
  InMemoryClients clients(1, kPartitions);
  for (int i = 0; i < 1100; ++i) {
    const std::string value = R"({"cell":"C)" + std::to_string(i % 11) + R"("})";
    EXPECT_TRUE(
        clients.Append("calls", -1, "caller-" + std::to_string(i % 37), value, 1000 + i).ok());
  }
  auto catalog = catalog::Catalog::Open(":memory:");
  EXPECT_TRUE(catalog.ok());
  auto statements = sql::ParseScript(R"(
    CREATE STREAM calls (caller STRING KEY, cell STRING)
      WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=4);
    CREATE TABLE calls_per_cell AS SELECT cell, COUNT(*) AS calls FROM calls GROUP BY cell;)");
  EXPECT_TRUE(statements.ok());
  analyzer::SessionProperties session;
  std::unique_ptr<QuerySpec> spec;
  for (const auto& statement : *statements) {
    analyzer::Analyzer analyzer(**catalog, session);
    auto analyzed = analyzer.Analyze(*statement);
    EXPECT_TRUE(analyzed.ok());
    std::string message;
    auto query = session::ApplyStatement(*statement, *analyzed, **catalog, session, message);
    EXPECT_TRUE(query.ok());
    if (!*query) continue;
    planner::PlannerOptions planning;
    planning.partition_count = [](const std::string&) -> Result<int> { return kPartitions; };
    auto physical = planner::PlanQuery((*query)->id, std::move((*query)->plan), planning);
    EXPECT_TRUE(physical.ok());
    auto control = std::make_shared<QueryControl>(
        (*query)->id, Clock::System(),
        RetryPolicy{std::chrono::milliseconds(5), std::chrono::milliseconds(5)}, nullptr);
    auto made = MakeQuerySpec(std::move(*physical), (*query)->properties, control);
    EXPECT_TRUE(made.ok());
    spec = std::move(*made);
  }
  std::atomic<int> calls{0};
  StreamThreadOptions options;
  options.commit_interval_ms = 0;
  options.guarantee = guarantee;
  options.wrap_store = [&calls, fail_at](const StageSpec&, const std::string&, int32_t,
                                         std::unique_ptr<KeyValueStore> store) {
    return std::unique_ptr<KeyValueStore>(
        std::make_unique<FailsOnceStore>(std::move(store), calls, fail_at));
  };
  StreamThread thread(0, options, clients);
  EXPECT_TRUE(thread.AddQuery(*spec).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  // Done when every cell's count reached 100 (the last value per key) and the input is
  // committed.
  while (std::chrono::steady_clock::now() < deadline) {
    thread.RunOnce(5);
    std::map<std::string, int> latest;
    const std::vector<std::string> values = Values(clients, "CALLS_PER_CELL");
    int done = 0;
    for (const std::string& value : values) done += value == R"({"CALLS":100})";
    if (done >= 11 && spec->control->status().restarts > 0) break;
  }
  thread.CommitAll();
  run.values = Values(clients, "CALLS_PER_CELL");
  run.restarts = spec->control->status().restarts;
  EXPECT_EQ(spec->control->state(), QueryState::kRunning);
  (void)thread.RemoveQuery(spec->control->id(), /*commit=*/true);
  return run;
}

// Each count 1..100 of each of the 11 cells once, and nothing else.
std::map<std::string, int> Duplicates(const std::vector<std::string>& values) {
  std::map<std::string, int> seen;
  for (const std::string& value : values) ++seen[value];
  std::map<std::string, int> duplicates;
  for (const auto& [value, count] : seen) {
    if (count != 11) duplicates[value] = count;
  }
  return duplicates;
}

TEST(ExactlyOnceTest, AFailureMidTransactionRestartsWithoutDuplicatesOrLoss) {
  const CountRun exactly = CountCalls(ProcessingGuarantee::kExactlyOnceV2, 700);
  EXPECT_GE(exactly.restarts, 1);
  EXPECT_EQ(exactly.values.size(), 1100u);
  EXPECT_TRUE(Duplicates(exactly.values).empty())
      << "each count of each cell once: the aborted transaction's results are gone, and the "
         "restored state did not count its records twice";
  for (int count = 1; count <= 100; ++count) {
    const std::string value = R"({"CALLS":)" + std::to_string(count) + "}";
    EXPECT_EQ(std::count(exactly.values.begin(), exactly.values.end(), value), 11) << value;
  }
  // The same failure under at-least-once writes the results since the last commit twice:
  // what the test above rules out does happen without transactions.
  const CountRun at_least = CountCalls(ProcessingGuarantee::kAtLeastOnce, 700);
  EXPECT_GE(at_least.restarts, 1);
  EXPECT_GT(at_least.values.size(), 1100u);
}

}  // namespace
}  // namespace sidestream::runtime
