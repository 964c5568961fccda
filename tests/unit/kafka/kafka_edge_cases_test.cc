// Edge cases of the Kafka clients against an in-process EmbeddedBroker.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <set>
#include <string>

#include "connectors/kafka/batch_consumer.h"
#include "connectors/kafka/batch_producer.h"
#include "connectors/kafka/embedded_broker.h"
#include "connectors/kafka/topic_admin.h"
#include "tests/unit/kafka/wait_for.h"

namespace sidestream::kafka {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class KafkaEdgeCaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = EmbeddedBroker::Start();
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(broker).value();
  }
  ClientConfig Client() const { return {broker_->bootstrap_servers(), {}}; }

  std::unique_ptr<BatchConsumer> NewConsumer(const std::string& group, const std::string& topic) {
    ConsumerOptions options;
    options.client = Client();
    options.group_id = group;
    options.topics = {topic};
    auto consumer = BatchConsumer::Create(std::move(options));
    EXPECT_TRUE(consumer.ok()) << consumer.status().ToString();
    return consumer.ok() ? std::move(consumer).value() : nullptr;
  }

  std::unique_ptr<EmbeddedBroker> broker_;
};

TEST_F(KafkaEdgeCaseTest, FullQueueGivesUnavailableWithinTheEnqueueTimeout) {
  ASSERT_TRUE(broker_->CreateTopic("full", 1).ok());
  ASSERT_TRUE(broker_->SetBrokerDown(1).ok());
  ProducerOptions options;
  options.client = Client();
  options.max_queued_messages = 5;
  options.enqueue_timeout = milliseconds(300);
  auto producer = BatchProducer::Create(options);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  const auto start = std::chrono::steady_clock::now();
  Status status;
  for (int i = 0; i < 100 && status.ok(); ++i) status = (*producer)->Produce("full", 0, "k", "v");
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(status.retriable()) << status.ToString();
  EXPECT_NE(status.message().find("queue"), std::string::npos) << status.ToString();
  EXPECT_EQ((*producer)->outstanding(), 5);
  ASSERT_TRUE(broker_->SetBrokerUp(1).ok());
  Status flushed = (*producer)->Flush(seconds(30));
  EXPECT_TRUE(flushed.ok()) << flushed.ToString();
  EXPECT_EQ((*producer)->counters().messages, 5u);
}

TEST_F(KafkaEdgeCaseTest, ExplicitPartitionNullKeyAndKeyAffinity) {
  ASSERT_TRUE(broker_->CreateTopic("keys", 4).ok());
  ProducerOptions options;
  options.client = Client();
  auto producer = BatchProducer::Create(options);
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE((*producer)->Produce("keys", 3, std::string_view(), "null-key").ok());
  ASSERT_TRUE((*producer)->Produce("keys", 3, "", "empty-key").ok());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE((*producer)->Produce("keys", -1, "same-key", "v" + std::to_string(i)).ok());
  }
  ASSERT_TRUE((*producer)->Flush(seconds(30)).ok());

  auto consumer = NewConsumer("keys-group", "keys");
  ASSERT_NE(consumer, nullptr);
  MessageBatch batch;
  int received = 0;
  std::set<int32_t> same_key_partitions;
  ASSERT_TRUE(WaitFor(seconds(30), [&]() -> bool {
    EXPECT_TRUE(consumer->Poll(100, milliseconds(100), &batch).ok());
    for (size_t i = 0; i < batch.size(); ++i) {
      MessageView message = batch[i];
      ++received;
      if (message.value() == "null-key") {
        EXPECT_EQ(message.partition(), 3);
        EXPECT_FALSE(message.has_key());
        EXPECT_EQ(message.header_count(), 0u);
      } else if (message.value() == "empty-key") {
        EXPECT_EQ(message.partition(), 3);
        EXPECT_TRUE(message.has_key());
        EXPECT_TRUE(message.key().empty());
      } else {
        EXPECT_EQ(message.key(), "same-key");
        same_key_partitions.insert(message.partition());
      }
    }
    return received >= 52;
  }));
  EXPECT_EQ(received, 52);
  EXPECT_EQ(same_key_partitions.size(), 1u) << "one key must map to one partition";
}

TEST_F(KafkaEdgeCaseTest, ConsumerDestroyedBeforeItsBatchDoesNotHang) {
  ASSERT_TRUE(broker_->CreateTopic("order", 1).ok());
  {
    ProducerOptions options;
    options.client = Client();
    auto producer = BatchProducer::Create(options);
    ASSERT_TRUE(producer.ok());
    ASSERT_TRUE((*producer)->Produce("order", 0, "k", "v").ok());
    ASSERT_TRUE((*producer)->Flush(seconds(10)).ok());
  }
  MessageBatch batch;  // declared first, so it outlives the consumer
  auto consumer = NewConsumer("order-group", "order");
  ASSERT_NE(consumer, nullptr);
  ASSERT_TRUE(WaitFor(seconds(30), [&]() -> bool {
    EXPECT_TRUE(consumer->Poll(10, milliseconds(100), &batch).ok());
    return !batch.empty();
  }));
  consumer.reset();  // clears the batch: librdkafka cannot shut down while messages live
  EXPECT_TRUE(batch.empty());
}

TEST_F(KafkaEdgeCaseTest, PollAfterCloseIsAnError) {
  ASSERT_TRUE(broker_->CreateTopic("closed", 1).ok());
  auto consumer = NewConsumer("closed-group", "closed");
  ASSERT_NE(consumer, nullptr);
  ASSERT_TRUE(consumer->Close().ok());
  ASSERT_TRUE(consumer->Close().ok());  // idempotent
  MessageBatch batch;
  EXPECT_FALSE(consumer->Poll(10, milliseconds(10), &batch).ok());
}

TEST_F(KafkaEdgeCaseTest, CreatingATopicOnAnEmbeddedBrokerOfAnotherProcessIsNotSupported) {
  // "localhost:PORT" reaches the same mock but does not match this process's registry entry
  // ("127.0.0.1:PORT"), which is what a client in another process sees.
  const std::string address = broker_->bootstrap_servers();
  const std::string port = address.substr(address.rfind(':') + 1);
  ASSERT_TRUE(broker_->CreateTopic("made-there", 2).ok());
  auto admin = TopicAdmin::Create({"localhost:" + port, {}});
  ASSERT_TRUE(admin.ok());
  // An existing topic is fine: nothing to create.
  Status existing = (*admin)->EnsureTopic("made-there", 2, 1, seconds(10));
  EXPECT_TRUE(existing.ok()) << existing.ToString();
  // A new one cannot be made: the mock has no CreateTopics.
  const auto start = std::chrono::steady_clock::now();
  Status missing = (*admin)->EnsureTopic("not-there", 2, 1, seconds(10));
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5)) << "should not wait it out";
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.code(), StatusCode::kNotSupported) << missing.ToString();
  EXPECT_NE(missing.message().find("not-there:2"), std::string::npos) << missing.ToString();
  EXPECT_EQ((*admin)->PartitionCount("not-there").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace sidestream::kafka
