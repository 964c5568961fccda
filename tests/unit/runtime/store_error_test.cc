// Fallible state stores: whichever store call of an aggregation or a join fails, the task
// returns that store's error (and does not crash), so that its query fails alone.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "runtime/state_store.h"
#include "runtime/stream_task.h"
#include "session/statements.h"

namespace sidestream::runtime {
namespace {

using types::Row;

// Counts the store calls of one task and fails every one from the `fail_from`-th on (a
// broken disk stays broken).
struct Faults {
  int64_t calls = 0;
  int64_t fail_from = INT64_MAX;
  Status error = Status::IOError("injected: the disk is gone");

  Status Next() { return ++calls >= fail_from ? error : Status::OK(); }
};

// A KeyValueStore over an in-memory one that fails as `faults` says.
class FaultyStore final : public KeyValueStore {
 public:
  explicit FaultyStore(Faults& faults) : faults_(faults) {}

  Result<Row*> Find(const Row& key) override {
    RETURN_NOT_OK(faults_.Next());
    return inner_.Find(key);
  }
  Result<const Row*> Get(const Row& key) const override {
    RETURN_NOT_OK(faults_.Next());
    return inner_.Get(key);
  }
  Result<Row*> Upsert(const Row& key, bool& inserted) override {
    RETURN_NOT_OK(faults_.Next());
    return inner_.Upsert(key, inserted);
  }
  Status Erase(const Row& key) override {
    RETURN_NOT_OK(faults_.Next());
    return inner_.Erase(key);
  }
  size_t size() const override { return inner_.size(); }
  int64_t ApproximateBytes() const override { return inner_.ApproximateBytes(); }
  Status ForEach(
      const std::function<void(const Row& key, const Row& value)>& visit) const override {
    RETURN_NOT_OK(faults_.Next());
    return inner_.ForEach(visit);
  }
  Status Flush() override {
    RETURN_NOT_OK(faults_.Next());
    return inner_.Flush();
  }

 private:
  Faults& faults_;
  InMemoryKeyValueStore inner_;
};

struct Message {
  std::string topic;
  std::string key;
  std::string value;
  int64_t timestamp = 0;
};

struct Case {
  std::string name;
  std::string sql;
  std::vector<Message> messages;
};
void PrintTo(const Case& test, std::ostream* out) { *out << test.name; }

// Runs `messages` through a task of the last query of `sql` whose stores fail as `faults`
// says, then closes every window and commits. Returns the first error.
Status RunTask(const Case& test, Faults& faults) {
  auto catalog = catalog::Catalog::Open(":memory:");
  if (!catalog.ok()) return catalog.status();
  ASSIGN_OR_RAISE(auto query, session::CompileLastQuery(test.sql, **catalog));
  TaskCallbacks callbacks;
  callbacks.on_result = [](const TaskResult&) { return Status::OK(); };
  callbacks.on_side_output = [](const std::string&, const std::string*, const std::string&,
                                int64_t) { return Status::OK(); };
  // Through the StoreFactory seam, as a RocksDB store will come in.
  StoreFactory factory = [&faults](const std::string&) -> std::unique_ptr<KeyValueStore> {
    return std::make_unique<FaultyStore>(faults);
  };
  ASSIGN_OR_RAISE(auto task, StreamTask::Create("q", *query.plan, {}, callbacks, factory));
  for (const Message& message : test.messages) {
    const auto& sources = task->sources();
    for (size_t source = 0; source < sources.size(); ++source) {
      if (sources[source].topic != message.topic) continue;
      InputMessage input;
      input.key = message.key;
      input.value = message.value;
      input.timestamp = message.timestamp;
      input.offset = message.timestamp;
      input.source = source;
      RETURN_NOT_OK(task->Process(input));
    }
  }
  RETURN_NOT_OK(task->AdvanceStreamTime(INT64_MAX / 2));
  RETURN_NOT_OK(task->Flush());
  // A task restored onto a store that cannot be read.
  return task->RebuildIndexes();
}

constexpr const char* kCalls =
    "CREATE STREAM calls (caller STRING KEY, cell STRING) "
    "WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON');\n";
constexpr const char* kSms =
    "CREATE STREAM sms (sender STRING KEY, body STRING) "
    "WITH (KAFKA_TOPIC='sms', VALUE_FORMAT='JSON');\n";
constexpr const char* kPlans =
    "CREATE TABLE plans (msisdn STRING PRIMARY KEY, plan STRING) "
    "WITH (KAFKA_TOPIC='plans', VALUE_FORMAT='JSON');\n";
constexpr const char* kQuotas =
    "CREATE TABLE quotas (msisdn STRING PRIMARY KEY, minutes BIGINT) "
    "WITH (KAFKA_TOPIC='quotas', VALUE_FORMAT='JSON');\n";

Message Call(const std::string& caller, const std::string& cell, int64_t timestamp) {
  return {"calls", caller, R"({"cell":")" + cell + R"("})", timestamp};
}
Message Sms(const std::string& sender, int64_t timestamp) {
  return {"sms", sender, R"({"body":"hi"})", timestamp};
}
Message Plan(const std::string& msisdn, const std::string& plan, int64_t timestamp) {
  return {"plans", msisdn, R"({"plan":")" + plan + R"("})", timestamp};
}
Message Quota(const std::string& msisdn, int64_t minutes, int64_t timestamp) {
  return {"quotas", msisdn, R"({"minutes":)" + std::to_string(minutes) + "}", timestamp};
}

std::vector<Case> Cases() {
  const std::vector<Message> calls = {Call("a", "C1", 1000), Call("b", "C2", 2000),
                                      Call("a", "C1", 3000), Call("a", "C1", 25000),
                                      Call("c", "C2", 70000)};
  const std::vector<Message> calls_and_sms = {Call("a", "C1", 1000), Sms("a", 2000),
                                              Call("b", "C2", 3000), Call("c", "C3", 70000),
                                              Sms("c", 71000)};
  const std::vector<Message> calls_and_plans = {Plan("a", "gold", 500),  Plan("b", "free", 600),
                                                Call("a", "C1", 1000),   Call("c", "C2", 2000),
                                                Plan("a", "free", 3000), Call("a", "C1", 4000)};
  const std::vector<Message> plans_and_quotas = {Plan("a", "gold", 500), Quota("a", 60, 600),
                                                 Quota("b", 10, 700), Plan("b", "free", 800),
                                                 Plan("a", "free", 900)};
  const std::string per_cell = std::string(kCalls) + "CREATE TABLE per_cell AS SELECT cell, ";
  return {
      {"Aggregation", per_cell + "COUNT(*) AS calls FROM calls GROUP BY cell;", calls},
      {"TumblingEmitFinal",
       per_cell + "COUNT(*) AS calls FROM calls WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD "
                  "0 SECONDS) GROUP BY cell EMIT FINAL;",
       calls},
      {"Session",
       std::string(kCalls) + "CREATE TABLE sessions AS SELECT caller, COUNT(*) AS calls FROM "
                             "calls WINDOW SESSION (30 SECONDS) GROUP BY caller;",
       calls},
      {"TableRegrouping",
       std::string(kPlans) +
           "CREATE TABLE plan_counts AS SELECT plan, COUNT(*) AS n FROM plans GROUP BY plan;",
       calls_and_plans},
      {"StreamStreamJoin",
       std::string(kCalls) + kSms +
           "CREATE STREAM calls_and_sms AS SELECT c.caller, c.cell, m.body FROM calls c "
           "LEFT JOIN sms m WITHIN (0 SECONDS, 1 MINUTE) GRACE PERIOD 0 SECONDS "
           "ON c.caller = m.sender;",
       calls_and_sms},
      {"StreamTableJoin",
       std::string(kCalls) + kPlans +
           "CREATE STREAM enriched AS SELECT c.caller, p.plan FROM calls c "
           "LEFT JOIN plans p ON c.caller = p.msisdn;",
       calls_and_plans},
      {"TableTableJoin",
       std::string(kPlans) + kQuotas +
           "CREATE TABLE plan_quotas AS SELECT p.msisdn, p.plan, q.minutes FROM plans p "
           "JOIN quotas q ON p.msisdn = q.msisdn;",
       plans_and_quotas},
  };
}

class StoreErrorTest : public testing::TestWithParam<Case> {};

TEST_P(StoreErrorTest, EveryFailingStoreCallFailsTheTaskWithTheStoresError) {
  const Case& test = GetParam();
  Faults clean;
  ASSERT_TRUE(RunTask(test, clean).ok());
  ASSERT_GT(clean.calls, 3) << "the case must use its stores";
  // Each call in turn is the first to fail: reads, writes, erases, the commit and the restore.
  for (int64_t fail_from = 1; fail_from <= clean.calls; ++fail_from) {
    for (const Status& error : {Status::IOError("injected: the disk is gone"),
                                Status::Corruption("injected: a block's checksum")}) {
      Faults faults;
      faults.fail_from = fail_from;
      faults.error = error;
      Status status = RunTask(test, faults);
      ASSERT_EQ(status.code(), error.code())
          << "call " << fail_from << " of " << clean.calls << ": " << status.ToString();
      EXPECT_EQ(status.message(), error.message()) << "call " << fail_from;
      EXPECT_EQ(faults.calls, fail_from) << "the task went on using a store that failed";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Operators, StoreErrorTest, testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace sidestream::runtime
