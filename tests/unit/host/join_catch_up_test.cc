// A join task on Kafka waits for an input whose records are on the broker but not fetched
// yet (Kafka Streams' max.task.idle.ms rule): calls already on the broker are enriched from
// the subscriber row at the end of a table backlog larger than one fetch, not joined with a
// table that has not been read that far.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "connectors/kafka/batch_consumer.h"
#include "connectors/kafka/batch_producer.h"
#include "connectors/kafka/embedded_broker.h"
#include "host/kafka_engine.h"

namespace sidestream::host {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kBacklogRows = 30'000;  // ~3.6 MB: several fetches of 1 MB
constexpr int kCalls = 100;

TEST(JoinCatchUpTest, StreamRecordsWaitForTableRowsStillOnTheBroker) {
  auto engine = KafkaEngine::Start({});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  const std::string bootstrap = (*engine)->bootstrap_servers();
  ASSERT_TRUE(kafka::EmbeddedBroker::WithBroker(bootstrap, [](kafka::EmbeddedBroker& broker) {
                Status status = broker.CreateTopic("subscribers", 1);
                return status.ok() ? broker.CreateTopic("calls", 1) : status;
              }).ok());

  // Both topics are filled before the query starts: the table's backlog, with the row the
  // calls need last, and the calls, all later than every table row.
  kafka::ProducerOptions options;
  options.client = {bootstrap, {}};
  auto producer = kafka::BatchProducer::Create(options);
  ASSERT_TRUE(producer.ok());
  const std::string padding(80, 'x');
  for (int i = 0; i < kBacklogRows; ++i) {
    const std::string key = "s" + std::to_string(i);
    ASSERT_TRUE((*producer)
                    ->Produce("subscribers", 0, key,
                              R"({"plan":"basic","note":")" + padding + R"("})", 1000)
                    .ok());
  }
  ASSERT_TRUE((*producer)->Produce("subscribers", 0, "a", R"({"plan":"gold"})", 1000).ok());
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE((*producer)->Produce("calls", 0, "a", R"({"cell":"C1"})", 2000 + i).ok());
  }
  ASSERT_TRUE((*producer)->Flush(std::chrono::seconds(30)).ok());

  Status executed = (*engine)->Execute(R"(
    CREATE TABLE subscribers (msisdn STRING PRIMARY KEY, plan STRING)
      WITH (KAFKA_TOPIC='subscribers', VALUE_FORMAT='JSON');
    CREATE STREAM calls (caller STRING KEY, cell STRING)
      WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON');
    CREATE STREAM enriched AS
      SELECT c.caller, s.plan FROM calls c LEFT JOIN subscribers s ON c.caller = s.msisdn;)");
  ASSERT_TRUE(executed.ok()) << executed.ToString();
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while ((*engine)->progress().consumed < kBacklogRows + 1 + kCalls && Clock::now() < deadline) {
    ASSERT_TRUE((*engine)->RunOnce(200).ok());
  }
  ASSERT_TRUE((*engine)->RunOnce(0).ok());
  ASSERT_GE((*engine)->progress().consumed, kBacklogRows + 1 + kCalls);

  kafka::ConsumerOptions reader;
  reader.client = {bootstrap, {}};
  reader.group_id = "check";
  reader.topics = {"ENRICHED"};
  auto consumer = kafka::BatchConsumer::Create(reader);
  ASSERT_TRUE(consumer.ok());
  int results = 0, gold = 0;
  kafka::MessageBatch batch;
  while (results < kCalls && Clock::now() < deadline + std::chrono::seconds(30)) {
    ASSERT_TRUE((*consumer)->Poll(1000, std::chrono::milliseconds(200), &batch).ok());
    for (size_t i = 0; i < batch.size(); ++i) {
      ++results;
      if (batch[i].value().find("gold") != std::string_view::npos) ++gold;
    }
  }
  EXPECT_EQ(results, kCalls);
  EXPECT_EQ(gold, kCalls) << "calls joined before the subscriber row was read";
}

}  // namespace
}  // namespace sidestream::host
