// Producer, consumer and topic admin against an in-process EmbeddedBroker.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "connectors/kafka/batch_consumer.h"
#include "connectors/kafka/batch_producer.h"
#include "connectors/kafka/embedded_broker.h"
#include "connectors/kafka/topic_admin.h"
#include "tests/unit/kafka/wait_for.h"

namespace sidestream::kafka {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kBaseTimestamp = 1'700'000'000'000;

class KafkaRoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = EmbeddedBroker::Start();
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(broker).value();
    auto admin = TopicAdmin::Create(Client());
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_ = std::move(admin).value();
  }

  ClientConfig Client() const { return {broker_->bootstrap_servers(), {}}; }

  std::unique_ptr<BatchProducer> NewProducer() {
    ProducerOptions options;
    options.client = Client();
    auto producer = BatchProducer::Create(options);
    EXPECT_TRUE(producer.ok()) << producer.status().ToString();
    return producer.ok() ? std::move(producer).value() : nullptr;
  }

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
  std::unique_ptr<TopicAdmin> admin_;
};

TEST_F(KafkaRoundTripTest, EmbeddedBrokerCreatesTopics) {
  EXPECT_NE(broker_->bootstrap_servers().find("127.0.0.1:"), std::string::npos)
      << broker_->bootstrap_servers();
  ASSERT_TRUE(broker_->CreateTopic("direct", 3).ok());
  EXPECT_EQ(broker_->CreateTopic("direct", 3).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(broker_->CreateTopic("", 3).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(broker_->CreateTopic("zero", 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(broker_->CreateTopic("repl", 1, 2).code(), StatusCode::kInvalidArgument);

  Result<int> count = admin_->PartitionCount("direct");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 3);

  ASSERT_TRUE(admin_->EnsureTopic("ensured", 4).ok());
  ASSERT_TRUE(admin_->EnsureTopic("ensured", 4).ok());  // existing is success
  count = admin_->PartitionCount("ensured");
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 4);
}

TEST_F(KafkaRoundTripTest, PartitionCountOfAbsentTopicIsNotFoundAndDoesNotCreateIt) {
  EXPECT_EQ(admin_->PartitionCount("absent").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(admin_->PartitionCount("absent").status().code(), StatusCode::kNotFound);
}

TEST_F(KafkaRoundTripTest, ProducesAndConsumesTenThousandKeyedMessages) {
  const std::string topic = "cdr";
  constexpr int kMessages = 10'000;
  constexpr int kPartitions = 4;
  ASSERT_TRUE(admin_->EnsureTopic(topic, kPartitions).ok());

  auto producer = NewProducer();
  ASSERT_NE(producer, nullptr);
  for (int i = 0; i < kMessages; ++i) {
    const std::string key = "key-" + std::to_string(i);
    const std::string value = "value-" + std::to_string(i);
    const std::string sequence = std::to_string(i);
    const std::array<ProduceHeader, 2> headers = {ProduceHeader{"seq", sequence},
                                                  ProduceHeader{"source", "test"}};
    ASSERT_TRUE(producer->Produce(topic, -1, key, value, kBaseTimestamp + i, headers).ok());
  }
  Status flushed = producer->Flush(seconds(30));
  ASSERT_TRUE(flushed.ok()) << flushed.ToString();
  EXPECT_EQ(producer->counters().messages, static_cast<uint64_t>(kMessages));
  EXPECT_EQ(producer->counters().errors, 0u);
  EXPECT_EQ(producer->outstanding(), 0);

  auto consumer = NewConsumer("group-a", topic);
  ASSERT_NE(consumer, nullptr);
  MessageBatch batch;
  std::vector<bool> seen(kMessages, false);
  std::map<int32_t, int64_t> next_offset;  // per partition: offsets must come in order
  std::map<int32_t, int> per_partition;
  std::map<std::string, int32_t> partition_of_key;
  int received = 0;
  ASSERT_TRUE(WaitFor(seconds(60), [&]() -> bool {
    Status polled = consumer->Poll(1000, milliseconds(200), &batch);
    EXPECT_TRUE(polled.ok()) << polled.ToString();
    for (size_t i = 0; i < batch.size(); ++i) {
      MessageView message = batch[i];
      EXPECT_EQ(message.topic(), topic);
      EXPECT_EQ(message.offset(), next_offset[message.partition()]);
      next_offset[message.partition()] = message.offset() + 1;
      ++per_partition[message.partition()];
      const std::string key(message.key());
      const int index = std::stoi(key.substr(4));
      EXPECT_EQ(key, "key-" + std::to_string(index));
      EXPECT_EQ(message.value(), "value-" + std::to_string(index));
      EXPECT_EQ(message.timestamp(), kBaseTimestamp + index);
      EXPECT_EQ(message.timestamp_type(), TimestampType::kCreateTime);
      EXPECT_EQ(message.header_count(), 2u);
      EXPECT_EQ(message.header(0).name, "seq");
      EXPECT_EQ(message.header(0).value, std::to_string(index));
      EXPECT_EQ(message.header(1).name, "source");
      std::string_view source;
      EXPECT_TRUE(message.FindHeader("source", &source));
      EXPECT_EQ(source, "test");
      EXPECT_FALSE(seen[index]) << "duplicate " << key;
      seen[index] = true;
      ++received;
    }
    return received >= kMessages;
  }));
  EXPECT_EQ(received, kMessages);
  ASSERT_EQ(per_partition.size(), static_cast<size_t>(kPartitions));
  int total = 0;
  for (const auto& [partition, count] : per_partition) {
    // murmur2 over 10,000 distinct keys spreads them roughly evenly.
    EXPECT_GT(count, kMessages / kPartitions / 2) << "partition " << partition;
    EXPECT_EQ(next_offset[partition], count);
    total += count;
  }
  EXPECT_EQ(total, kMessages);
  EXPECT_EQ(consumer->counters().messages, static_cast<uint64_t>(kMessages));
  EXPECT_GT(consumer->counters().bytes, static_cast<uint64_t>(kMessages) * 10);

  // The first consumer saw its partitions assigned through the rebalance callback.
  std::set<TopicPartition> assigned;
  for (const RebalanceEvent& event : consumer->TakeRebalanceEvents()) {
    if (event.kind == RebalanceEvent::Kind::kAssigned) {
      assigned.insert(event.partitions.begin(), event.partitions.end());
    }
  }
  EXPECT_EQ(assigned.size(), static_cast<size_t>(kPartitions));

  std::vector<TopicPartitionOffset> offsets;
  for (const auto& [partition, offset] : next_offset) offsets.push_back({topic, partition, offset});
  Status committed = consumer->Commit(offsets);
  ASSERT_TRUE(committed.ok()) << committed.ToString();
  std::vector<TopicPartition> partitions;
  for (const auto& [partition, offset] : next_offset) partitions.push_back({topic, partition});
  auto stored = consumer->Committed(partitions);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  for (const TopicPartitionOffset& offset : *stored) {
    EXPECT_EQ(offset.offset, next_offset[offset.partition]) << "partition " << offset.partition;
  }
  batch.Clear();
  ASSERT_TRUE(consumer->Close().ok());

  // A new member of the same group starts at the committed offsets: the only message it
  // gets is a marker produced after it joined.
  auto second = NewConsumer("group-a", topic);
  ASSERT_NE(second, nullptr);
  int late = 0;
  ASSERT_TRUE(WaitFor(seconds(30), [&]() -> bool {
    EXPECT_TRUE(second->Poll(1000, milliseconds(100), &batch).ok());
    late += static_cast<int>(batch.size());
    auto assignment = second->assignment();
    return assignment.ok() && assignment->size() == static_cast<size_t>(kPartitions);
  }));
  ASSERT_TRUE(producer->Produce(topic, 2, "marker", "marker", kBaseTimestamp).ok());
  ASSERT_TRUE(producer->Flush(seconds(10)).ok());
  bool marker = false;
  ASSERT_TRUE(WaitFor(seconds(30), [&]() -> bool {
    EXPECT_TRUE(second->Poll(1000, milliseconds(100), &batch).ok());
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].key() == "marker") {
        marker = true;
        EXPECT_EQ(batch[i].partition(), 2);
        EXPECT_EQ(batch[i].offset(), next_offset[2]);
      } else {
        ++late;
      }
    }
    return marker;
  }));
  EXPECT_EQ(late, 0) << "messages before the committed offsets were consumed again";
}

TEST_F(KafkaRoundTripTest, TwoConsumersInOneGroupShareThePartitions) {
  const std::string topic = "shared";
  ASSERT_TRUE(admin_->EnsureTopic(topic, 4).ok());
  auto first = NewConsumer("group-b", topic);
  auto second = NewConsumer("group-b", topic);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  MessageBatch batch_first;
  MessageBatch batch_second;
  std::vector<TopicPartition> assigned_first;
  std::vector<TopicPartition> assigned_second;
  const bool shared = WaitFor(seconds(60), [&]() -> bool {
    EXPECT_TRUE(first->Poll(100, milliseconds(50), &batch_first).ok());
    EXPECT_TRUE(second->Poll(100, milliseconds(50), &batch_second).ok());
    auto a = first->assignment();
    auto b = second->assignment();
    if (!a.ok() || !b.ok()) return false;
    assigned_first = *a;
    assigned_second = *b;
    return !assigned_first.empty() && !assigned_second.empty() &&
           assigned_first.size() + assigned_second.size() == 4;
  });
  ASSERT_TRUE(shared) << "assignments " << assigned_first.size() << " + " << assigned_second.size();
  std::set<TopicPartition> all(assigned_first.begin(), assigned_first.end());
  all.insert(assigned_second.begin(), assigned_second.end());
  EXPECT_EQ(all.size(), 4u) << "the two assignments overlap";

  // When one leaves, the other takes over all four partitions.
  batch_second.Clear();
  ASSERT_TRUE(second->Close().ok());
  bool revoked_seen = false;
  for (const RebalanceEvent& event : second->TakeRebalanceEvents()) {
    revoked_seen |= event.kind != RebalanceEvent::Kind::kAssigned;
  }
  EXPECT_TRUE(revoked_seen) << "closing did not revoke the second consumer's partitions";
  ASSERT_TRUE(WaitFor(seconds(60), [&]() -> bool {
    EXPECT_TRUE(first->Poll(100, milliseconds(100), &batch_first).ok());
    auto a = first->assignment();
    return a.ok() && a->size() == 4;
  }));
}

TEST_F(KafkaRoundTripTest, RebalanceCallbackSeesAssignmentsOnThePollingThread) {
  const std::string topic = "callback";
  ASSERT_TRUE(admin_->EnsureTopic(topic, 2).ok());
  std::vector<RebalanceEvent> events;
  ConsumerOptions options;
  options.client = Client();
  options.group_id = "group-c";
  options.topics = {topic};
  options.on_rebalance = [&](const RebalanceEvent& event) { events.push_back(event); };
  auto consumer = BatchConsumer::Create(std::move(options));
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  MessageBatch batch;
  ASSERT_TRUE(WaitFor(seconds(30), [&]() -> bool {
    EXPECT_TRUE((*consumer)->Poll(10, milliseconds(100), &batch).ok());
    return !events.empty();
  }));
  EXPECT_EQ(events.front().kind, RebalanceEvent::Kind::kAssigned);
  EXPECT_EQ(events.front().partitions.size(), 2u);
  ASSERT_TRUE((*consumer)->Close().ok());
  EXPECT_EQ(events.back().kind, RebalanceEvent::Kind::kRevoked);
}

TEST_F(KafkaRoundTripTest, DownedBrokerGivesRetriableDeliveryError) {
  const std::string topic = "down";
  ASSERT_TRUE(admin_->EnsureTopic(topic, 1).ok());
  ProducerOptions options;
  options.client = Client();
  options.client.properties = {{"message.timeout.ms", "1500"}};
  auto producer = BatchProducer::Create(options);
  ASSERT_TRUE(producer.ok()) << producer.status().ToString();
  ASSERT_TRUE((*producer)->Produce(topic, 0, "k", "before").ok());
  ASSERT_TRUE((*producer)->Flush(seconds(10)).ok());

  ASSERT_TRUE(broker_->SetBrokerDown(1).ok());
  ASSERT_TRUE((*producer)->Produce(topic, 0, "k", "after").ok());
  const auto start = std::chrono::steady_clock::now();
  Status flushed = (*producer)->Flush(seconds(15));
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
  ASSERT_FALSE(flushed.ok());
  EXPECT_TRUE(flushed.retriable()) << flushed.ToString();
  EXPECT_GE((*producer)->counters().errors, 1u);
  ASSERT_TRUE(broker_->SetBrokerUp(1).ok());
}

TEST(KafkaUnreachableTest, BadBootstrapGivesRetriableErrorsWithinATimeout) {
  const ClientConfig bad{"127.0.0.1:1", {}};  // nothing listens on port 1
  auto admin = TopicAdmin::Create(bad);
  ASSERT_TRUE(admin.ok());
  auto start = std::chrono::steady_clock::now();
  Result<int> count = (*admin)->PartitionCount("t", seconds(2));
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));
  ASSERT_FALSE(count.ok());
  EXPECT_TRUE(count.status().retriable()) << count.status().ToString();

  Status ensured = (*admin)->EnsureTopic("t", 1, 1, seconds(2));
  ASSERT_FALSE(ensured.ok());
  EXPECT_TRUE(ensured.retriable()) << ensured.ToString();

  ProducerOptions producer_options;
  producer_options.client = bad;
  producer_options.client.properties = {{"message.timeout.ms", "1000"}};
  auto producer = BatchProducer::Create(producer_options);
  ASSERT_TRUE(producer.ok());
  ASSERT_TRUE((*producer)->Produce("t", -1, "k", "v").ok());
  start = std::chrono::steady_clock::now();
  Status flushed = (*producer)->Flush(seconds(10));
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(8));
  ASSERT_FALSE(flushed.ok());
  EXPECT_TRUE(flushed.retriable()) << flushed.ToString();

  ConsumerOptions consumer_options;
  consumer_options.client = bad;
  consumer_options.group_id = "g";
  consumer_options.topics = {"t"};
  auto consumer = BatchConsumer::Create(std::move(consumer_options));
  ASSERT_TRUE(consumer.ok());
  MessageBatch batch;
  std::vector<Status> errors;
  ASSERT_TRUE(WaitFor(seconds(10), [&]() -> bool {
    EXPECT_TRUE((*consumer)->Poll(10, milliseconds(100), &batch).ok());
    for (Status& error : (*consumer)->TakeErrors()) errors.push_back(std::move(error));
    return !errors.empty();
  }));
  for (const Status& error : errors) EXPECT_TRUE(error.retriable()) << error.ToString();
}

}  // namespace
}  // namespace sidestream::kafka
