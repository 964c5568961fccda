// A foreign-key table-table join of tables of 3 and 2 partitions on the embedded broker: the
// left table's rows subscribe to their foreign keys through the subscription topic, the right
// table's stage answers through the response topic (Kafka Streams' KIP-213), and the output
// table ends, key for key, as the offline engine's on one partition. Foreign keys change, go
// NULL and name missing rows; right rows change after their subscribers came.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "connectors/kafka/batch_consumer.h"
#include "connectors/kafka/batch_producer.h"
#include "connectors/kafka/embedded_broker.h"
#include "host/kafka_engine.h"
#include "host/offline_engine.h"

namespace sidestream::host {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr char kSql[] = R"(
  CREATE TABLE customers (id STRING PRIMARY KEY, name STRING)
    WITH (KAFKA_TOPIC='customers', VALUE_FORMAT='JSON');
  CREATE TABLE orders (order_id STRING PRIMARY KEY, customer STRING, amount INT)
    WITH (KAFKA_TOPIC='orders', VALUE_FORMAT='JSON');
  CREATE TABLE order_customers AS
    SELECT o.order_id, o.amount, c.name FROM orders o JOIN customers c ON o.customer = c.id;
  CREATE TABLE order_customers_left AS
    SELECT o.order_id, o.amount, c.name FROM orders o LEFT JOIN customers c
    ON o.customer = c.id;)";

const std::vector<std::string> kOutputs = {"ORDER_CUSTOMERS", "ORDER_CUSTOMERS_LEFT"};

struct Input {
  std::string topic;
  std::string key;
  json value;
  int64_t timestamp;
};

std::vector<Input> Inputs() {
  std::vector<Input> inputs;
  int64_t time = 1000;
  for (int i = 0; i < 10; ++i) {
    inputs.push_back({"customers", "c" + std::to_string(i),
                      json{{"NAME", "name" + std::to_string(i)}}, time += 10});
  }
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 40; ++i) {
      // Customers 10 and 11 do not exist; every seventh order has none.
      const json customer =
          (i + round) % 7 == 0 ? json(nullptr) : json("c" + std::to_string((i * (round + 1)) % 12));
      inputs.push_back({"orders", "o" + std::to_string(i),
                        json{{"CUSTOMER", customer}, {"AMOUNT", i * 10 + round}}, time += 10});
    }
    for (int i = round; i < 12; i += 3) {
      inputs.push_back({"customers", "c" + std::to_string(i),
                        json{{"NAME", "renamed" + std::to_string(round) + "-" + std::to_string(i)}},
                        time += 10});
    }
  }
  return inputs;
}

// Each output table as it ends: key -> value (sorted fields), deleted keys absent.
using Tables = std::map<std::string, std::map<std::string, std::string>>;

Tables OfflineTables() {
  auto engine = OfflineEngine::Create(1);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  auto executed = (*engine)->Execute(kSql);
  EXPECT_TRUE(executed.ok()) << executed.status().ToString();
  for (const Input& input : Inputs()) {
    TestRecord record;
    record.topic = input.topic;
    record.key = input.key;
    record.value = input.value;
    record.timestamp = input.timestamp;
    Status produced = (*engine)->Produce(record);
    EXPECT_TRUE(produced.ok()) << produced.ToString();
  }
  Tables tables;
  for (const std::string& topic : kOutputs) {
    auto& table = tables[topic];
    for (const TestRecord& record : (*engine)->Output(topic)) {
      if (record.value.is_null()) {
        table.erase(record.key.get<std::string>());
      } else {
        table[record.key.get<std::string>()] = record.value.dump();
      }
    }
  }
  return tables;
}

TEST(ForeignKeyJoinTest, TablesOfThreeAndTwoPartitionsEndAsTheOfflineRun) {
  const Tables expected = OfflineTables();
  ASSERT_GT(expected.at("ORDER_CUSTOMERS").size(), 10u);
  ASSERT_EQ(expected.at("ORDER_CUSTOMERS_LEFT").size(), 40u);

  auto engine = KafkaEngine::Start({});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  const std::string bootstrap = (*engine)->bootstrap_servers();
  ASSERT_TRUE(kafka::EmbeddedBroker::WithBroker(bootstrap, [](kafka::EmbeddedBroker& broker) {
                RETURN_NOT_OK(broker.CreateTopic("orders", 3));
                return broker.CreateTopic("customers", 2);
              }).ok());
  Status executed = (*engine)->Execute(kSql);
  ASSERT_TRUE(executed.ok()) << executed.ToString();

  kafka::ProducerOptions options;
  options.client = {bootstrap, {}};
  auto producer = kafka::BatchProducer::Create(options);
  ASSERT_TRUE(producer.ok());
  for (const Input& input : Inputs()) {
    ASSERT_TRUE(
        (*producer)->Produce(input.topic, -1, input.key, input.value.dump(), input.timestamp).ok());
  }
  ASSERT_TRUE((*producer)->Flush(std::chrono::seconds(30)).ok());

  kafka::ConsumerOptions reader;
  reader.client = {bootstrap, {}};
  reader.group_id = "check";
  reader.topics = kOutputs;
  auto consumer = kafka::BatchConsumer::Create(reader);
  ASSERT_TRUE(consumer.ok());
  Tables actual;
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  kafka::MessageBatch batch;
  // Until both tables are as expected and a few more passes add nothing that changes them.
  for (int quiet_passes = 0; quiet_passes < 20 && Clock::now() < deadline;) {
    ASSERT_TRUE((*engine)->RunOnce(50).ok());
    ASSERT_TRUE((*consumer)->Poll(1000, std::chrono::milliseconds(50), &batch).ok());
    for (size_t i = 0; i < batch.size(); ++i) {
      auto& table = actual[std::string(batch[i].topic())];
      const std::string key(batch[i].key());
      if (!batch[i].has_value()) {
        table.erase(key);
      } else {
        table[key] = json::parse(batch[i].value()).dump();
      }
    }
    if (actual == expected) {
      ++quiet_passes;
    } else {
      quiet_passes = 0;
    }
  }
  for (const std::string& topic : kOutputs) EXPECT_EQ(actual[topic], expected.at(topic)) << topic;
  for (const QueryStatus& query : (*engine)->Queries()) {
    EXPECT_EQ(query.state, runtime::QueryState::kRunning) << query.id;
    EXPECT_TRUE(query.errors.empty()) << query.id << ": " << query.errors.front().error.ToString();
  }
}

}  // namespace
}  // namespace sidestream::host
