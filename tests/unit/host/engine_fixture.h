// A KafkaEngine on the embedded broker, run on the test's thread under a manual clock, with a
// producer and per-topic readers: the fixture of the host tests that drive queries through
// real Kafka clients.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "connectors/kafka/batch_consumer.h"
#include "connectors/kafka/batch_producer.h"
#include "connectors/kafka/embedded_broker.h"
#include "host/kafka_engine.h"

namespace sidestream::host {

class EmbeddedEngineTest : public ::testing::Test {
 protected:
  using RealClock = std::chrono::steady_clock;

  // Starts the engine (SetUp does not) with `options`, on clock_ unless `manual_clock` is
  // false (then the system clock).
  void StartEngine(KafkaEngineOptions options, bool manual_clock = true) {
    if (manual_clock) options.clock = &clock_;
    auto engine = KafkaEngine::Start(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    bootstrap_ = engine_->bootstrap_servers();
    kafka::ProducerOptions producer;
    producer.client = {bootstrap_, {}};
    auto created = kafka::BatchProducer::Create(producer);
    ASSERT_TRUE(created.ok());
    producer_ = std::move(*created);
  }

  void Produce(const std::string& topic, const std::string& key, const std::string& value) {
    ASSERT_TRUE(producer_->Produce(topic, 0, key, value, 1000).ok());
    ASSERT_TRUE(producer_->Flush(std::chrono::seconds(10)).ok());
  }

  // Takes the embedded broker off the network, or back.
  sidestream::Status SetBrokerDown(bool down) {
    return kafka::EmbeddedBroker::WithBroker(bootstrap_, [down](kafka::EmbeddedBroker& broker) {
      return down ? broker.SetBrokerDown(1) : broker.SetBrokerUp(1);
    });
  }

  // Runs the engine until `done` holds, for at most 90 s of real time (a restarted query
  // rejoins its group, which waits out the session of a member that could not leave).
  // `each_round` runs before every RunOnce (e.g. to move the clock).
  template <typename Done, typename Round>
  bool RunUntil(Done done, Round each_round) {
    const auto deadline = RealClock::now() + std::chrono::seconds(90);
    while (!done()) {
      if (RealClock::now() > deadline) return false;
      each_round();
      auto processed = engine_->RunOnce(50);
      EXPECT_TRUE(processed.ok()) << processed.status().ToString();
    }
    return true;
  }
  template <typename Done>
  bool RunUntil(Done done) {
    return RunUntil(done, [] {});
  }

  // The query whose id starts with `prefix` ("CSAS_ALL_CALLS_"; the suffix counts statements).
  QueryStatus Status(const std::string& prefix) {
    for (const QueryStatus& query : engine_->Queries()) {
      if (query.id.rfind(prefix, 0) == 0) return query;
    }
    ADD_FAILURE() << "no query " << prefix << "*";
    return {};
  }

  // Starts reading `topic` from its beginning; Collect then returns "key=value" of every
  // record so far.
  void Follow(const std::string& topic) {
    kafka::ConsumerOptions reader;
    reader.client = {bootstrap_, {}};
    reader.group_id = "check-" + topic;
    reader.topics = {topic};
    auto consumer = kafka::BatchConsumer::Create(reader);
    ASSERT_TRUE(consumer.ok());
    readers_[topic] = std::move(*consumer);
  }
  const std::vector<std::string>& Collect(const std::string& topic) {
    kafka::MessageBatch batch;
    EXPECT_TRUE(readers_[topic]->Poll(100, std::chrono::milliseconds(10), &batch).ok());
    for (size_t i = 0; i < batch.size(); ++i) {
      collected_[topic].push_back(std::string(batch[i].key()) + "=" +
                                  std::string(batch[i].value()));
    }
    return collected_[topic];
  }

  // Each row as "v1|v2|...".
  static std::vector<std::string> RowTexts(const std::vector<types::Row>& rows) {
    std::vector<std::string> texts;
    for (const types::Row& row : rows) {
      std::string text;
      for (size_t i = 0; i < row.size(); ++i) text += (i > 0 ? "|" : "") + row[i].DebugString();
      texts.push_back(text);
    }
    return texts;
  }

  ManualClock clock_;
  std::unique_ptr<KafkaEngine> engine_;
  std::string bootstrap_;
  std::unique_ptr<kafka::BatchProducer> producer_;
  std::map<std::string, std::unique_ptr<kafka::BatchConsumer>> readers_;
  std::map<std::string, std::vector<std::string>> collected_;
};

}  // namespace sidestream::host
