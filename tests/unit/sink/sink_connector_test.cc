#include "connectors/sink/sink_connector.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <nlohmann/json.hpp>

#include "connectors/kafka/embedded_broker.h"
#include "connectors/redis/redis_writer.h"
#include "tests/servers/store_servers.h"

namespace sidestream::sink {
namespace {

using std::chrono::milliseconds;

// A connector on the embedded broker feeding a real redis-server.
class SinkConnectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = testing::StartRedis();
    if (server.status().code() == StatusCode::kNotFound) {
      GTEST_SKIP() << "SKIPPED: " << server.status().message();
    }
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    redis_ = std::move(*server);
    auto broker = kafka::EmbeddedBroker::Start();
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
    ASSERT_TRUE(broker_->CreateTopic("TABLE", 2).ok());
    ASSERT_TRUE(broker_->CreateTopic("dead", 1).ok());
    kafka::ProducerOptions producer;
    producer.client.bootstrap_servers = broker_->bootstrap_servers();
    producer_ = std::move(kafka::BatchProducer::Create(producer).value());
    context_ = redisConnect("127.0.0.1", redis_->port());
  }
  void TearDown() override {
    if (context_ != nullptr) redisFree(context_);
  }

  std::unique_ptr<SinkConnector> Connector() {
    redis::RedisWriterOptions writer;
    writer.url = "redis://127.0.0.1:" + std::to_string(redis_->port());
    writer.connector = "C";
    SinkConnectorOptions options;
    options.name = "C";
    options.topics = {"TABLE"};
    options.client.bootstrap_servers = broker_->bootstrap_servers();
    options.dead_letter_topic = "dead";
    options.commit_interval = milliseconds(0);
    options.retry_backoff_initial = milliseconds(10);
    auto connector = SinkConnector::Create(
        options, std::move(redis::RedisWriter::Create(writer).value()), "redis");
    EXPECT_TRUE(connector.ok()) << connector.status().ToString();
    return std::move(*connector);
  }

  void Produce(std::string_view key, std::optional<std::string_view> value) {
    ASSERT_TRUE(producer_->Produce("TABLE", -1, key, value.value_or(std::string_view())).ok());
    ASSERT_TRUE(producer_->Flush(std::chrono::seconds(10)).ok());
  }

  std::string Field(const std::string& key, const std::string& field) {
    auto* reply =
        static_cast<redisReply*>(redisCommand(context_, "HGET %s %s", key.c_str(), field.c_str()));
    std::string value = reply != nullptr && reply->type == REDIS_REPLY_STRING ? reply->str : "";
    freeReplyObject(reply);
    return value;
  }

  // Polls until `done` or 30 s.
  bool PollUntil(SinkConnector& connector, const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      connector.Poll(milliseconds(100));
      if (done()) return true;
    }
    return false;
  }

  std::unique_ptr<testing::ServerProcess> redis_;
  std::unique_ptr<kafka::EmbeddedBroker> broker_;
  std::unique_ptr<kafka::BatchProducer> producer_;
  redisContext* context_ = nullptr;
};

TEST_F(SinkConnectorTest, WritesDeadLettersAndCommitsAfterTheStore) {
  freeReplyObject(redisCommand(context_, "SET B plain"));  // B's HSET will be refused
  auto connector = Connector();
  Produce("A", R"({"CALLS":1})");
  Produce("B", R"({"CALLS":7})");
  Produce("A", R"({"CALLS":2})");
  ASSERT_TRUE(PollUntil(*connector, [&] {
    return Field("A", "CALLS") == "2" && connector->status().dead_letters == 1;
  })) << connector->status().last_error;
  EXPECT_EQ(connector->status().state, ConnectorState::kRunning);
  ASSERT_TRUE(connector->Commit().ok());

  // The refused record is in the dead-letter topic, with the reason.
  kafka::ConsumerOptions reader;
  reader.client.bootstrap_servers = broker_->bootstrap_servers();
  reader.group_id = "reader";
  reader.topics = {"dead"};
  auto consumer = kafka::BatchConsumer::Create(reader);
  ASSERT_TRUE(consumer.ok());
  kafka::MessageBatch batch;
  nlohmann::json letter;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (letter.is_null() && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE((*consumer)->Poll(10, milliseconds(200), &batch).ok());
    if (!batch.empty()) letter = nlohmann::json::parse(batch[0].value());
  }
  ASSERT_FALSE(letter.is_null());
  EXPECT_EQ(letter["connector"], "C");
  EXPECT_EQ(letter["topic"], "TABLE");
  EXPECT_EQ(letter["key"], "B");
  EXPECT_GE(letter["offset"].get<int64_t>(), 0);
  EXPECT_NE(letter["reason"].get<std::string>().find("WRONGTYPE"), std::string::npos)
      << letter.dump();

  // The group's committed offsets cover what was written: a new connector in the same group
  // reads nothing again.
  ASSERT_TRUE(connector->Close().ok());
  auto second = Connector();
  Produce("A", R"({"CALLS":3})");
  ASSERT_TRUE(PollUntil(*second, [&] { return Field("A", "CALLS") == "3"; }));
  EXPECT_EQ(second->status().consumed, 1);
  EXPECT_EQ(second->status().skipped, 0);
}

TEST_F(SinkConnectorTest, RetriesWhileRedisIsDown) {
  auto connector = Connector();
  Produce("A", R"({"CALLS":1})");
  ASSERT_TRUE(PollUntil(*connector, [&] { return Field("A", "CALLS") == "1"; }));
  const int port = redis_->port();
  redisFree(context_);
  context_ = nullptr;
  redis_->Kill();
  Produce("A", R"({"CALLS":2})");
  ASSERT_TRUE(PollUntil(*connector, [&] { return connector->status().retries >= 2; }));
  EXPECT_TRUE(connector->status().retrying);
  EXPECT_EQ(connector->status().state, ConnectorState::kRunning);

  auto restarted =
      testing::ServerProcess::Start({"redis-server", "--port", std::to_string(port), "--bind",
                                     "127.0.0.1", "--save", "", "--appendonly", "no"},
                                    port, std::chrono::seconds(10));
  ASSERT_TRUE(restarted.ok());
  redis_ = std::move(*restarted);
  context_ = redisConnect("127.0.0.1", port);
  ASSERT_TRUE(PollUntil(*connector, [&] { return Field("A", "CALLS") == "2"; }))
      << connector->status().last_error;
  EXPECT_FALSE(connector->status().retrying);
}

}  // namespace
}  // namespace sidestream::sink
