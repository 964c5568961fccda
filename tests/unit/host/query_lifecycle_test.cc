// Queries fail alone: a query stopped by a non-retriable error goes to ERROR with the record's
// coordinates in its history while another query on the same topic keeps running; a
// retriable error (the broker gone while a commit delivers) restarts the query after its
// backoff, which an injected clock moves without sleeping; TERMINATE frees a query; PAUSE
// stops a query's processing, not its membership, and RESUME goes on exactly where it stopped;
// DROP ... DELETE TOPIC stops the query writing the source.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "connectors/kafka/embedded_broker.h"
#include "host/kafka_engine.h"
#include "tests/unit/host/engine_fixture.h"

namespace sidestream::host {
namespace {

class QueryLifecycleTest : public EmbeddedEngineTest {
 protected:
  void SetUp() override {
    KafkaEngineOptions options;
    options.commit_interval_ms = 1000;
    options.commit_timeout = std::chrono::seconds(2);
    StartEngine(options);
  }
};

TEST_F(QueryLifecycleTest, AQueryAwaitsItsFirstAssignmentUntilItsGroupGivesIt) {
  ASSERT_TRUE(engine_
                  ->Execute(R"(
    CREATE STREAM calls (caller STRING KEY, cell STRING)
      WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=2);
    CREATE TABLE per_cell AS SELECT cell, COUNT(*) AS calls FROM calls GROUP BY cell;)")
                  .ok());
  // Two stages (the GROUP BY re-keys through a repartition topic): two consumers, each in its
  // own group, neither assigned before the first polls.
  EXPECT_EQ(Status("CTAS_PER_CELL_").awaiting_assignment, 2);
  ASSERT_TRUE(RunUntil([&] { return Status("CTAS_PER_CELL_").awaiting_assignment == 0; }));
  ASSERT_TRUE(engine_->Execute("TERMINATE " + Status("CTAS_PER_CELL_").id + ";").ok());
  EXPECT_TRUE(engine_->Queries().empty());
}

TEST_F(QueryLifecycleTest, AFailingQueryStopsAloneWithItsErrorKept) {
  ASSERT_TRUE(engine_
                  ->Execute(R"(
    CREATE STREAM calls (caller STRING KEY, cell STRING, ts BIGINT)
      WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=1, TIMESTAMP='ts');
    SET 'ksql.timestamp.throw.on.invalid' = 'true';
    CREATE STREAM strict_calls AS SELECT caller, cell FROM calls;
    UNSET 'ksql.timestamp.throw.on.invalid';
    CREATE STREAM all_calls AS SELECT caller, cell FROM calls;)")
                  .ok());
  std::vector<std::string> failures;
  engine_->set_on_query_failure(
      [&](const std::string& id, const QueryError&, QueryState) { failures.push_back(id); });
  Produce("calls", "a", R"({"cell":"C1","ts":1000})");
  Produce("calls", "b", R"({"cell":"C2","ts":null})");  // offset 1: no event time
  Produce("calls", "c", R"({"cell":"C3","ts":3000})");

  ASSERT_TRUE(RunUntil([&] { return Status("CSAS_STRICT_CALLS_").state == QueryState::kError; }));
  const QueryStatus strict = Status("CSAS_STRICT_CALLS_");
  ASSERT_EQ(strict.errors.size(), 1u);
  EXPECT_EQ(strict.errors[0].topic, "calls");
  EXPECT_EQ(strict.errors[0].partition, 0);
  EXPECT_LE(strict.errors[0].first_offset, 1);
  EXPECT_GE(strict.errors[0].last_offset, 1);
  EXPECT_NE(strict.errors[0].error.message().find("TS is NULL"), std::string::npos)
      << strict.errors[0].ToString();
  EXPECT_EQ(strict.errors[0].time_ms, clock_.WallMs());
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0], strict.id);

  // The other query read past the bad record (it dead-letters it) and keeps running.
  Follow("ALL_CALLS");
  ASSERT_TRUE(RunUntil([&] { return Collect("ALL_CALLS").size() >= 2; }));
  Produce("calls", "d", R"({"cell":"C4","ts":4000})");
  ASSERT_TRUE(RunUntil([&] { return Collect("ALL_CALLS").size() >= 3; }));
  EXPECT_EQ(Collect("ALL_CALLS").back(), R"(d={"CELL":"C4"})");
  EXPECT_EQ(Status("CSAS_ALL_CALLS_").state, QueryState::kRunning);
  // A stopped query stays stopped: time passing does not restart it.
  clock_.Advance(std::chrono::minutes(10));
  ASSERT_TRUE(engine_->RunOnce(0).ok());
  EXPECT_EQ(Status("CSAS_STRICT_CALLS_").state, QueryState::kError);

  ASSERT_TRUE(engine_->Execute("TERMINATE " + Status("CSAS_ALL_CALLS_").id + ";").ok());
  ASSERT_EQ(engine_->Queries().size(), 1u);
  EXPECT_EQ(engine_->Queries()[0].id, strict.id);
}

TEST_F(QueryLifecycleTest, ARetriableFailureRestartsTheQueryAfterItsBackoff) {
  ASSERT_TRUE(engine_
                  ->Execute(R"(
    CREATE STREAM calls (caller STRING KEY, cell STRING)
      WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=1);
    CREATE TABLE per_caller AS SELECT caller, COUNT(*) AS calls FROM calls GROUP BY caller;)")
                  .ok());
  Produce("calls", "a", R"({"cell":"C1"})");
  ASSERT_TRUE(RunUntil([&] { return engine_->progress().consumed >= 1; }));

  // The broker goes away before the commit: the task's changelog writes cannot be delivered
  // within the commit timeout, which is retriable.
  ASSERT_TRUE(SetBrokerDown(true).ok());
  clock_.Advance(std::chrono::seconds(2));
  ASSERT_TRUE(RunUntil([&] { return !Status("CTAS_PER_CALLER_").errors.empty(); }));
  QueryStatus failed = Status("CTAS_PER_CALLER_");
  EXPECT_EQ(failed.state, QueryState::kRunning) << "a retriable error must not end the query";
  EXPECT_TRUE(failed.errors[0].error.retriable()) << failed.errors[0].ToString();
  EXPECT_EQ(failed.restarts, 0);

  ASSERT_TRUE(SetBrokerDown(false).ok());
  // Not before the backoff ends.
  ASSERT_TRUE(engine_->RunOnce(0).ok());
  EXPECT_EQ(Status("CTAS_PER_CALLER_").restarts, 0);
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(engine_->RunOnce(0).ok());
  EXPECT_EQ(Status("CTAS_PER_CALLER_").restarts, 1);

  // Running again: a new record reaches the table. A restart that finds the broker not quite
  // back fails again, retriably, and waits out a longer backoff: time moves on meanwhile.
  Follow("PER_CALLER");
  Produce("calls", "z", R"({"cell":"C9"})");
  ASSERT_TRUE(RunUntil([&] {
    clock_.Advance(std::chrono::seconds(1));
    for (const std::string& row : Collect("PER_CALLER")) {
      if (row.rfind("z=", 0) == 0) return true;
    }
    return false;
  }));
  const QueryStatus restarted = Status("CTAS_PER_CALLER_");
  EXPECT_EQ(restarted.state, QueryState::kRunning);
  for (const QueryError& error : restarted.errors) {
    EXPECT_TRUE(error.error.retriable()) << error.ToString();
  }
}

// The latest value of each key in `rows` ("key=value").
std::map<std::string, std::string> Latest(const std::vector<std::string>& rows) {
  std::map<std::string, std::string> latest;
  for (const std::string& row : rows) {
    const size_t equals = row.find('=');
    latest[row.substr(0, equals)] = row.substr(equals + 1);
  }
  return latest;
}

TEST_F(QueryLifecycleTest, APausedQueryProcessesNothingAndResumesWhereItStopped) {
  ASSERT_TRUE(engine_
                  ->Execute(R"(
    CREATE STREAM calls (caller STRING KEY, seq INT)
      WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=2);
    CREATE STREAM copied AS SELECT caller, seq FROM calls;
    CREATE TABLE per_caller AS SELECT caller, COUNT(*) AS n FROM calls GROUP BY caller;)")
                  .ok());
  const std::string copy = Status("CSAS_COPIED_").id;
  const std::string count = Status("CTAS_PER_CALLER_").id;
  Follow("COPIED");
  Follow("PER_CALLER");
  int seq = 0;
  auto produce = [&](int records) {
    for (int i = 0; i < records; ++i, ++seq) {
      Produce("calls", seq % 2 == 0 ? "a" : "b", R"({"seq":)" + std::to_string(seq) + "}");
    }
  };
  produce(4);
  ASSERT_TRUE(RunUntil([&] { return Collect("COPIED").size() >= 4; }));

  ASSERT_TRUE(engine_->Execute("PAUSE " + copy + "; PAUSE ALL;").ok());
  EXPECT_EQ(Status(copy).state, QueryState::kPaused);
  EXPECT_EQ(Status(count).state, QueryState::kPaused);
  EXPECT_STREQ(QueryStateName(QueryState::kPaused), "PAUSED");
  const int64_t consumed = engine_->progress().consumed;
  produce(20);
  // Paused through several commit intervals and polls: nothing is consumed or produced, and
  // the queries keep their state (they are not stopped or failed).
  for (int pass = 0; pass < 40; ++pass) {
    if (pass % 10 == 0) clock_.Advance(std::chrono::seconds(1));
    ASSERT_TRUE(engine_->RunOnce(50).ok());
  }
  EXPECT_EQ(engine_->progress().consumed, consumed);
  EXPECT_EQ(Collect("COPIED").size(), 4u);
  EXPECT_EQ(Status(copy).state, QueryState::kPaused);
  EXPECT_TRUE(Status(copy).errors.empty());

  // One query resumes; the other stays paused.
  ASSERT_TRUE(engine_->Execute("RESUME " + copy + ";").ok());
  EXPECT_EQ(Status(copy).state, QueryState::kRunning);
  EXPECT_EQ(Status(count).state, QueryState::kPaused);
  ASSERT_TRUE(RunUntil([&] { return Collect("COPIED").size() >= 24; }));
  produce(2);
  ASSERT_TRUE(RunUntil([&] { return Collect("COPIED").size() >= 26; }));
  for (int pass = 0; pass < 10; ++pass) ASSERT_TRUE(engine_->RunOnce(20).ok());
  // Every record once: none lost at the pause, none read twice at the resume.
  std::vector<std::string> rows = Collect("COPIED");
  ASSERT_EQ(rows.size(), 26u);
  std::set<std::string> distinct(rows.begin(), rows.end());
  EXPECT_EQ(distinct.size(), 26u);
  for (int i = 0; i < 26; ++i) {
    const std::string row =
        std::string(i % 2 == 0 ? "a" : "b") + R"(={"SEQ":)" + std::to_string(i) + "}";
    EXPECT_EQ(distinct.count(row), 1u) << row;
  }

  // The table kept its counts through the pause: it counts on from them.
  ASSERT_TRUE(engine_->Execute("RESUME ALL;").ok());
  EXPECT_EQ(Status(count).state, QueryState::kRunning);
  ASSERT_TRUE(RunUntil([&] {
    auto latest = Latest(Collect("PER_CALLER"));
    return latest["a"] == R"({"N":13})" && latest["b"] == R"({"N":13})";
  }));
}

TEST_F(QueryLifecycleTest, PauseAndResumeOnAStreamThread) {
  // A second engine on the fixture's broker, whose query runs on a stream thread of its own
  // while this thread pauses and resumes it.
  KafkaEngineOptions options;
  options.bootstrap_servers = bootstrap_;
  options.application_id = "threaded";
  options.stream_threads = 1;
  options.commit_interval_ms = 100;
  auto started = KafkaEngine::Start(options);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  std::unique_ptr<KafkaEngine> threaded = std::move(*started);
  ASSERT_TRUE(threaded
                  ->Execute(R"(
    CREATE STREAM calls (caller STRING KEY, seq INT)
      WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=1);
    CREATE STREAM copied AS SELECT caller, seq FROM calls;)")
                  .ok());
  Follow("COPIED");
  auto wait_for = [&](size_t rows) {
    const auto deadline = RealClock::now() + std::chrono::seconds(60);
    while (Collect("COPIED").size() < rows && RealClock::now() < deadline) {
      EXPECT_TRUE(threaded->RunOnce(20).ok());
    }
    return Collect("COPIED").size() >= rows;
  };
  Produce("calls", "a", R"({"seq":0})");
  ASSERT_TRUE(wait_for(1));
  ASSERT_TRUE(threaded->Execute("PAUSE ALL;").ok());
  for (int seq = 1; seq <= 10; ++seq)
    Produce("calls", "a", R"({"seq":)" + std::to_string(seq) + "}");
  // The thread passes over the paused query for a while: nothing comes out.
  for (int pass = 0; pass < 20; ++pass) ASSERT_TRUE(threaded->RunOnce(50).ok());
  EXPECT_EQ(Collect("COPIED").size(), 1u);
  EXPECT_EQ(threaded->Queries()[0].state, QueryState::kPaused);
  ASSERT_TRUE(threaded->Execute("RESUME ALL;").ok());
  ASSERT_TRUE(wait_for(11));
  for (int pass = 0; pass < 10; ++pass) ASSERT_TRUE(threaded->RunOnce(20).ok());
  std::vector<std::string> rows = Collect("COPIED");
  ASSERT_EQ(rows.size(), 11u);
  for (int seq = 0; seq <= 10; ++seq) {
    EXPECT_EQ(rows[seq], R"(a={"SEQ":)" + std::to_string(seq) + "}") << "in order, once each";
  }
}

TEST_F(QueryLifecycleTest, PauseAndResumeOfUnknownOrStoppedQueries) {
  EXPECT_TRUE(engine_->Execute("PAUSE ALL; RESUME ALL;").ok()) << "nothing to pause is fine";
  auto unknown = engine_->Execute("PAUSE CSAS_NOPE_7;");
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound) << unknown.ToString();
  EXPECT_EQ(engine_->Execute("RESUME CSAS_NOPE_7;").code(), StatusCode::kNotFound);
  ASSERT_TRUE(engine_
                  ->Execute(R"(
    CREATE STREAM calls (caller STRING KEY, cell STRING)
      WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=1);
    CREATE STREAM copied AS SELECT caller, cell FROM calls;)")
                  .ok());
  const std::string copy = Status("CSAS_COPIED_").id;
  // RESUME of a running query leaves it running; TERMINATE of a paused one frees it.
  ASSERT_TRUE(engine_->Execute("RESUME " + copy + ";").ok());
  EXPECT_EQ(Status(copy).state, QueryState::kRunning);
  ASSERT_TRUE(engine_->Execute("PAUSE " + copy + ";").ok());
  ASSERT_TRUE(engine_->RunOnce(10).ok());
  ASSERT_TRUE(engine_->Execute("TERMINATE " + copy + ";").ok());
  EXPECT_TRUE(engine_->Queries().empty());
}

TEST_F(QueryLifecycleTest, DropDeleteTopicStopsTheWriterAndWarnsOnTheEmbeddedBroker) {
  ASSERT_TRUE(engine_
                  ->Execute(R"(
    CREATE STREAM calls (caller STRING KEY, cell STRING)
      WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=1);
    CREATE STREAM calls_again (caller STRING KEY, cell STRING)
      WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON');
    CREATE STREAM copied AS SELECT caller, cell FROM calls;
    CREATE STREAM recopied AS SELECT caller, cell FROM copied;)")
                  .ok());
  // Another source reads the topic: ksqlDB refuses to delete it.
  auto shared = engine_->Execute("DROP STREAM calls_again DELETE TOPIC;");
  EXPECT_NE(shared.message().find("Refusing to delete topic"), std::string::npos)
      << shared.ToString();
  // A query reads the source: terminate it first.
  auto read = engine_->Execute("DROP STREAM copied DELETE TOPIC;");
  EXPECT_NE(read.message().find("reads from it"), std::string::npos) << read.ToString();
  ASSERT_EQ(engine_->Queries().size(), 2u);

  // The query that writes the source goes with it (ksqlDB's DROP); the embedded broker cannot
  // delete topics, which is a warning, not a failure.
  ASSERT_TRUE(engine_->Execute("DROP STREAM recopied DELETE TOPIC;").ok());
  ASSERT_EQ(engine_->Queries().size(), 1u);
  EXPECT_EQ(engine_->Queries()[0].id.rfind("CSAS_COPIED_", 0), 0u);
  EXPECT_FALSE(engine_->catalog().HasSource("RECOPIED"));
  std::vector<std::string> warnings = engine_->TakeWarnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("RECOPIED"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("cannot delete topics"), std::string::npos) << warnings[0];
  EXPECT_TRUE(engine_->TakeWarnings().empty());
  // Without DELETE TOPIC, no warning.
  ASSERT_TRUE(engine_->Execute("DROP STREAM copied;").ok());
  EXPECT_TRUE(engine_->Queries().empty());
  EXPECT_TRUE(engine_->TakeWarnings().empty());
}

}  // namespace
}  // namespace sidestream::host
