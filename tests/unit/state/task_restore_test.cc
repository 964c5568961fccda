// A task with RocksDB stores restarts from its local state and its checkpoint, replaying only
// the changelog records past it; without a usable checkpoint it restores in full. Runs a
// TaskManager over in-memory topics.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "analyzer/analyzer.h"
#include "catalog/catalog.h"
#include "runtime/in_memory_clients.h"
#include "runtime/standby_tasks.h"
#include "runtime/stream_thread.h"
#include "session/statements.h"
#include "sql/parser.h"
#include "state/rocksdb_store.h"

namespace sidestream::state {
namespace {

using runtime::InputMessage;

// A windowed count per caller, read from one partition: one stage, no repartition.
constexpr const char* kSql = R"(
  CREATE STREAM calls (caller STRING KEY, callee STRING)
    WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=1);
  CREATE TABLE callees AS SELECT caller, COUNT(*) AS calls FROM calls
    WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY caller;)";

// In-memory topics that note, before each changelog record a restore reads, what `counters`
// say then.
class ObservedClients : public runtime::InMemoryClients {
 public:
  struct Seen {
    int tasks;
    int64_t records_left;
  };
  ObservedClients() : InMemoryClients(1, 1) {}

  Result<runtime::ChangelogReadResult> ReadChangelogFrom(
      const runtime::ChangelogReadRequest& request,
      const runtime::ChangelogVisitor& visit) override {
    return InMemoryClients::ReadChangelogFrom(
        request, [&](std::optional<std::string_view> key, std::optional<std::string_view> value) {
          seen.push_back({counters.tasks.load(), counters.records_left.load()});
          return visit(key, value);
        });
  }

  runtime::RestoreCounters counters;
  std::vector<Seen> seen;
};

class TaskRestoreTest : public testing::Test {
 protected:
  TaskRestoreTest() {
    directory_ = std::filesystem::temp_directory_path() /
                 ("task_restore_test_" + std::to_string(::getpid()) + "_" +
                  testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    RocksDbStoreProvider::Options options;
    options.state_dir = directory_.string();
    options.application_id = "app";
    options.memory_bytes = 16 << 20;
    auto provider = RocksDbStoreProvider::Create(options);
    EXPECT_TRUE(provider.ok()) << provider.status().ToString();
    provider_ = std::move(*provider);
    Compile();
  }
  ~TaskRestoreTest() override {
    provider_.reset();
    std::filesystem::remove_all(directory_);
  }

  void Compile() {
    auto catalog = catalog::Catalog::Open(":memory:");
    ASSERT_TRUE(catalog.ok());
    catalog_ = std::move(*catalog);
    auto statements = sql::ParseScript(kSql);
    ASSERT_TRUE(statements.ok());
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
      planning.partition_count = [](const std::string&) -> Result<int> { return 1; };
      auto physical = planner::PlanQuery((*query)->id, std::move((*query)->plan), planning);
      ASSERT_TRUE(physical.ok()) << physical.status().ToString();
      auto control = std::make_shared<runtime::QueryControl>((*query)->id, Clock::System(),
                                                             runtime::RetryPolicy{}, nullptr);
      auto spec = runtime::MakeQuerySpec(std::move(*physical), (*query)->properties, control);
      ASSERT_TRUE(spec.ok()) << spec.status().ToString();
      spec_ = std::move(*spec);
    }
    ASSERT_EQ(spec_->stages.size(), 1u);
  }

  // One run of the task: creates it (restoring), processes `calls` more calls from
  // `next_offset_`, commits, and returns how many changelog records the restore replayed and
  // whether it started from a checkpoint. `exactly_once`: as under exactly_once_v2, the
  // checkpoint is written only by a clean close, which ends the run.
  std::pair<int64_t, bool> Run(int calls, bool exactly_once = false) {
    auto sink = clients_.CreateSink();
    EXPECT_TRUE(sink.ok());
    runtime::RecordCollector collector(std::move(*sink), clients_.max_message_bytes());
    runtime::TaskStateOptions state;
    state.provider = provider_.get();
    state.exactly_once = exactly_once;
    state.active_tasks = active_tasks_;
    runtime::TaskManager tasks(spec_->stages[0], "app", collector, clients_,
                               std::chrono::seconds(5), {}, state);
    tasks.set_restore_counters({&clients_.counters});
    runtime::SourceOptions source_options;
    source_options.group_id = "app_group";
    source_options.topics = spec_->stages[0].source_topics;
    auto source = clients_.CreateSource(source_options);
    EXPECT_TRUE(source.ok());
    Status created = tasks.Create(0);
    EXPECT_TRUE(created.ok()) << created.ToString();
    std::vector<std::string> values;
    std::vector<InputMessage> messages;
    for (int i = 0; i < calls; ++i) values.push_back(R"({"callee":"c)" + std::to_string(i) + "\"}");
    for (int i = 0; i < calls; ++i) {
      InputMessage message;
      message.key = i % 2 == 0 ? std::string_view("a") : std::string_view("b");
      message.value = values[i];
      message.timestamp = 1000 + next_offset_;
      message.offset = next_offset_++;
      messages.push_back(message);
    }
    if (!messages.empty()) {
      EXPECT_TRUE(tasks.Process(messages).ok());
    }
    Status committed = tasks.Commit(**source, {});
    EXPECT_TRUE(committed.ok()) << committed.ToString();
    last_state_entries_ = tasks.state_entries();
    if (exactly_once) {
      // Commits leave no checkpoint; the clean close writes it.
      EXPECT_FALSE(std::filesystem::exists(TaskDirectory() + "/.checkpoint"));
      Status closed = tasks.Close(**source, {0}, /*commit=*/true);
      EXPECT_TRUE(closed.ok()) << closed.ToString();
    }
    return {tasks.restored_records(), tasks.restores_from_checkpoint() == 1};
  }

  // The latest count per caller on the result topic.
  std::map<std::string, std::string> Latest() {
    std::map<std::string, std::string> latest;
    auto read = clients_.ReadChangelog(
        "CALLEES", 0,
        [&](std::optional<std::string_view> key, std::optional<std::string_view> value) {
          std::string text(key.value_or(""));
          latest[text.substr(0, text.find('@'))] = std::string(value.value_or("null"));
          return Status::OK();
        });
    EXPECT_TRUE(read.ok());
    return latest;
  }

  std::string TaskDirectory() const {
    return provider_->TaskDirectory("app", spec_->stages[0].id, 0);
  }

  // The changelog topic the task's checkpoint names.
  std::string CheckpointedChangelog() const {
    std::ifstream checkpoint(TaskDirectory() + "/.checkpoint");
    std::string version, count, changelog_topic;
    checkpoint >> version >> count >> changelog_topic;
    return changelog_topic;
  }

  // The last record of `changelog_topic`, appended `times` again, as another instance would
  // have written it.
  void AppendLastChangelogRecord(const std::string& changelog_topic, int times) {
    std::optional<std::string> last_key, last_value;
    ASSERT_TRUE(clients_
                    .ReadChangelog(changelog_topic, 0,
                                   [&](std::optional<std::string_view> key,
                                       std::optional<std::string_view> value) {
                                     last_key = std::string(key.value_or(""));
                                     if (value) last_value = std::string(*value);
                                     return Status::OK();
                                   })
                    .ok());
    ASSERT_TRUE(last_key && last_value);
    for (int i = 0; i < times; ++i) {
      ASSERT_TRUE(clients_.Append(changelog_topic, 0, *last_key, *last_value, 0).ok());
    }
  }

  ObservedClients clients_;
  std::filesystem::path directory_;
  std::unique_ptr<RocksDbStoreProvider> provider_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<runtime::QuerySpec> spec_;
  int64_t next_offset_ = 0;
  int64_t last_state_entries_ = 0;
  runtime::ActiveTaskListener* active_tasks_ = nullptr;  // given to Run's task manager
};

TEST_F(TaskRestoreTest, ARestartReplaysOnlyTheChangelogTail) {
  auto [first, first_from_checkpoint] = Run(10);
  EXPECT_EQ(first, 0);
  EXPECT_FALSE(first_from_checkpoint);
  EXPECT_TRUE(std::filesystem::exists(TaskDirectory() + "/.checkpoint"));
  const auto entries = last_state_entries_;
  EXPECT_GT(entries, 0);

  auto [second, second_from_checkpoint] = Run(10);
  EXPECT_TRUE(second_from_checkpoint);
  EXPECT_EQ(second, 0);  // the local state had everything
  EXPECT_EQ(last_state_entries_, entries);
  EXPECT_EQ(Latest(), (std::map<std::string, std::string>{{"a", R"({"CALLS":10})"},
                                                          {"b", R"({"CALLS":10})"}}));

  // A record another instance wrote past the checkpoint is replayed, and only that one.
  const std::string changelog_topic = CheckpointedChangelog();
  ASSERT_FALSE(changelog_topic.empty());
  AppendLastChangelogRecord(changelog_topic, 1);
  auto [third, third_from_checkpoint] = Run(2);
  EXPECT_TRUE(third_from_checkpoint);
  EXPECT_EQ(third, 1);
  EXPECT_EQ(Latest(), (std::map<std::string, std::string>{{"a", R"({"CALLS":11})"},
                                                          {"b", R"({"CALLS":11})"}}));
}

TEST_F(TaskRestoreTest, UnderExactlyOnceACleanCloseLeavesLocalStateToResumeFrom) {
  // The stores keep their writes in memtables between commits (no flush per commit); the
  // clean close persists them before it writes the checkpoint.
  auto [first, first_from_checkpoint] = Run(10, /*exactly_once=*/true);
  EXPECT_EQ(first, 0);
  EXPECT_FALSE(first_from_checkpoint);
  EXPECT_TRUE(std::filesystem::exists(TaskDirectory() + "/.checkpoint"));
  const auto entries = last_state_entries_;
  EXPECT_GT(entries, 0);
  auto [second, second_from_checkpoint] = Run(10, /*exactly_once=*/true);
  EXPECT_TRUE(second_from_checkpoint);
  EXPECT_EQ(second, 0);  // the local state had everything
  EXPECT_EQ(last_state_entries_, entries);
  EXPECT_EQ(Latest(), (std::map<std::string, std::string>{{"a", R"({"CALLS":10})"},
                                                          {"b", R"({"CALLS":10})"}}));
  // A run that processes nothing (a task that moves again at once, in a rebalance) still
  // leaves its checkpoint, which its restore deleted.
  EXPECT_TRUE(Run(0, /*exactly_once=*/true).second);
  EXPECT_TRUE(Run(0, /*exactly_once=*/true).second);
}

TEST_F(TaskRestoreTest, WithoutAUsableCheckpointTheTaskRestoresInFull) {
  Run(10);
  // Deleted: a full restore gives the same state.
  std::filesystem::remove_all(TaskDirectory());
  auto [full, from_checkpoint] = Run(2);
  EXPECT_FALSE(from_checkpoint);
  EXPECT_GT(full, 0);
  EXPECT_EQ(Latest(),
            (std::map<std::string, std::string>{{"a", R"({"CALLS":6})"}, {"b", R"({"CALLS":6})"}}));
  // Damaged checkpoint.
  std::ofstream(TaskDirectory() + "/.checkpoint", std::ios::trunc) << "0\n1\nnot a line\n";
  auto [again, again_from_checkpoint] = Run(2);
  EXPECT_FALSE(again_from_checkpoint);
  EXPECT_GT(again, full);
  EXPECT_EQ(Latest(),
            (std::map<std::string, std::string>{{"a", R"({"CALLS":7})"}, {"b", R"({"CALLS":7})"}}));
  // A checkpoint past the changelog's end (the topic was recreated): not to be trusted.
  std::ifstream read(TaskDirectory() + "/.checkpoint");
  std::string version, count, topic, partition, offset;
  read >> version >> count >> topic >> partition >> offset;
  std::ofstream(TaskDirectory() + "/.checkpoint", std::ios::trunc) << "0\n1\n"
                                                                   << topic << " 0 999999\n";
  auto [past, past_from_checkpoint] = Run(0);
  EXPECT_FALSE(past_from_checkpoint);
  EXPECT_GT(past, 0);
  EXPECT_EQ(Latest(),
            (std::map<std::string, std::string>{{"a", R"({"CALLS":7})"}, {"b", R"({"CALLS":7})"}}));
}

TEST_F(TaskRestoreTest, ARestoreCountsItsTaskAndTheRecordsItHasLeftAsItGoes) {
  Run(10);
  const std::string changelog_topic = CheckpointedChangelog();
  ASSERT_FALSE(changelog_topic.empty());
  AppendLastChangelogRecord(changelog_topic, 3000);
  std::filesystem::remove_all(TaskDirectory());  // a full restore
  clients_.seen.clear();
  auto [restored, from_checkpoint] = Run(0);
  EXPECT_FALSE(from_checkpoint);
  ASSERT_GT(restored, 3000);
  ASSERT_EQ(clients_.seen.size(), static_cast<size_t>(restored));
  // The task's stores restore one after another: its stream time (one record), then the
  // aggregate's. All of a changelog is left before its first record is read, and it goes
  // down 1024 records at a time.
  EXPECT_EQ(clients_.seen[0].tasks, 1);
  EXPECT_EQ(clients_.seen[0].records_left, 1);
  const int64_t aggregate = restored - 1;
  EXPECT_EQ(clients_.seen[1].records_left, aggregate);
  EXPECT_EQ(clients_.seen[1 + 1023].records_left, aggregate);
  EXPECT_EQ(clients_.seen[1 + 1024].records_left, aggregate - 1024);
  EXPECT_EQ(clients_.seen[1 + 2048].records_left, aggregate - 2048);
  EXPECT_EQ(clients_.seen.back().tasks, 1);
  // Done: nothing left, no task restoring.
  EXPECT_EQ(clients_.counters.tasks.load(), 0);
  EXPECT_EQ(clients_.counters.records_left.load(), 0);
}

TEST_F(TaskRestoreTest, AStandbyCopyLeavesTheTaskOnlyTheTailToReplay) {
  Run(10);
  const std::string changelog_topic = CheckpointedChangelog();
  ASSERT_FALSE(changelog_topic.empty());
  // The task ran on another instance: nothing of it here.
  std::filesystem::remove_all(TaskDirectory());
  runtime::StandbyTasks standby("app", clients_, *provider_, clients_.max_message_bytes(),
                                std::chrono::seconds(1));
  standby.AddStage(spec_->stages[0], 1);
  standby.RunOnce();
  EXPECT_EQ(standby.open_copies(), 1);
  const int64_t full = standby.records_replayed();
  EXPECT_GT(full, 0);
  EXPECT_TRUE(std::filesystem::exists(TaskDirectory() + "/.checkpoint"));

  // The other instance goes on writing: each pass replays only what it wrote since.
  AppendLastChangelogRecord(changelog_topic, 3);
  standby.RunOnce();
  EXPECT_EQ(standby.records_replayed(), full + 3);
  standby.RunOnce();
  EXPECT_EQ(standby.records_replayed(), full + 3);

  // While a task manager here runs the task, no copy is kept.
  const std::string stage = spec_->stages[0].id;
  standby.Claim(stage, 0);
  EXPECT_EQ(standby.open_copies(), 0);
  standby.RunOnce();
  EXPECT_EQ(standby.open_copies(), 0);
  standby.Release(stage, 0);

  // The task moves here: the copy gives way to it, and it replays nothing.
  AppendLastChangelogRecord(changelog_topic, 2);
  standby.RunOnce();
  EXPECT_EQ(standby.open_copies(), 1);
  active_tasks_ = &standby;
  auto [replayed, from_checkpoint] = Run(2);
  EXPECT_TRUE(from_checkpoint);
  EXPECT_EQ(replayed, 0);
  EXPECT_EQ(Latest(),
            (std::map<std::string, std::string>{{"a", R"({"CALLS":6})"}, {"b", R"({"CALLS":6})"}}));
  // Closed there, it is warmed here again, from the checkpoint the task left.
  EXPECT_EQ(standby.open_copies(), 0);
  const int64_t before = standby.records_replayed();
  standby.RunOnce();
  EXPECT_EQ(standby.open_copies(), 1);
  EXPECT_EQ(standby.records_replayed(), before);
}

}  // namespace
}  // namespace sidestream::state
