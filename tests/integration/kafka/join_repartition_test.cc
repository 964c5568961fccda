// Joins whose inputs are not co-partitioned, on the embedded broker: inputs of 3, 2 and 5
// partitions joined on value columns run through repartition topics (one per re-keyed input,
// with its partner's partition count), and their results equal the offline engine's on one
// partition, record for record. Without the re-keying a call whose cell's row sits in
// another partition would miss it (a NULL region, or no pair with the SMS), and the outputs
// would differ.
#include <gtest/gtest.h>

#include <algorithm>
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
  CREATE TABLE cells (cell_id STRING PRIMARY KEY, region STRING)
    WITH (KAFKA_TOPIC='cells', VALUE_FORMAT='JSON');
  CREATE STREAM calls (caller STRING KEY, callee STRING, cell STRING)
    WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON');
  CREATE STREAM sms (sender STRING KEY, body STRING)
    WITH (KAFKA_TOPIC='sms', VALUE_FORMAT='JSON');
  CREATE STREAM calls_by_cell AS
    SELECT c.cell, c.caller, x.region FROM calls c LEFT JOIN cells x ON c.cell = x.cell_id;
  CREATE STREAM call_then_sms AS
    SELECT c.callee, c.caller, s.body FROM calls c JOIN sms s WITHIN 1 HOUR
    ON c.callee = s.sender;)";

constexpr char kCellsOut[] = "CALLS_BY_CELL";
constexpr char kPairsOut[] = "CALL_THEN_SMS";

struct Input {
  std::string topic;
  std::string key;
  json value;
  int64_t timestamp;
};

// Cells first (the table a call looks up), then calls and SMS: every call's cell row is
// older than the call. Some calls name a cell the table lacks (a NULL region).
std::vector<Input> Cells() {
  std::vector<Input> inputs;
  for (int i = 0; i < 20; ++i) {
    inputs.push_back({"cells", "cell-" + std::to_string(i),
                      json{{"REGION", "r" + std::to_string(i % 3)}}, 1000});
  }
  return inputs;
}

std::vector<Input> CallsAndSms() {
  std::vector<Input> inputs;
  for (int i = 0; i < 300; ++i) {
    inputs.push_back({"calls", "c" + std::to_string(i % 37),
                      json{{"CALLEE", "c" + std::to_string((i * 3) % 41)},
                           {"CELL", "cell-" + std::to_string((i * 7) % 23)}},
                      10'000 + i * 10});
  }
  for (int i = 0; i < 200; ++i) {
    inputs.push_back({"sms", "c" + std::to_string((i * 5) % 43),
                      json{{"BODY", "m" + std::to_string(i)}}, 10'000 + i * 15});
  }
  return inputs;
}

// A result as comparable text: its key, then its value with sorted fields.
using Output = std::pair<std::string, std::string>;

std::map<std::string, std::vector<Output>> OfflineOutputs() {
  auto engine = OfflineEngine::Create(1);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  auto executed = (*engine)->Execute(kSql);
  EXPECT_TRUE(executed.ok()) << executed.status().ToString();
  std::vector<Input> inputs = Cells();
  for (Input& input : CallsAndSms()) inputs.push_back(std::move(input));
  for (const Input& input : inputs) {
    TestRecord record;
    record.topic = input.topic;
    record.key = input.key;
    record.value = input.value;
    record.timestamp = input.timestamp;
    Status produced = (*engine)->Produce(record);
    EXPECT_TRUE(produced.ok()) << produced.ToString();
  }
  std::map<std::string, std::vector<Output>> outputs;
  for (const std::string topic : {kCellsOut, kPairsOut}) {
    for (const TestRecord& record : (*engine)->Output(topic)) {
      outputs[topic].push_back({record.key.get<std::string>(), record.value.dump()});
    }
    std::sort(outputs[topic].begin(), outputs[topic].end());
  }
  return outputs;
}

TEST(JoinRepartitionTest, InputsOfOtherPartitionCountsJoinedOnValuesMatchTheOfflineRun) {
  const auto expected = OfflineOutputs();
  ASSERT_GT(expected.at(kCellsOut).size(), 250u);
  ASSERT_GT(expected.at(kPairsOut).size(), 100u);

  auto engine = KafkaEngine::Start({});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  const std::string bootstrap = (*engine)->bootstrap_servers();
  ASSERT_TRUE(kafka::EmbeddedBroker::WithBroker(bootstrap, [](kafka::EmbeddedBroker& broker) {
                for (const auto& [topic, partitions] :
                     {std::pair<const char*, int>{"calls", 3}, {"cells", 2}, {"sms", 5}}) {
                  RETURN_NOT_OK(broker.CreateTopic(topic, partitions));
                }
                return Status::OK();
              }).ok());
  Status executed = (*engine)->Execute(kSql);
  ASSERT_TRUE(executed.ok()) << executed.ToString();

  // The key's bytes pick the partition (murmur2, as the Java client does).
  kafka::ProducerOptions options;
  options.client = {bootstrap, {}};
  auto producer = kafka::BatchProducer::Create(options);
  ASSERT_TRUE(producer.ok());
  auto produce = [&](const std::vector<Input>& inputs) {
    for (const Input& input : inputs) {
      ASSERT_TRUE((*producer)
                      ->Produce(input.topic, -1, input.key, input.value.dump(), input.timestamp)
                      .ok());
    }
    ASSERT_TRUE((*producer)->Flush(std::chrono::seconds(30)).ok());
  };
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  // The table is read before any call arrives, as offline.
  produce(Cells());
  while ((*engine)->progress().consumed < 20 && Clock::now() < deadline) {
    ASSERT_TRUE((*engine)->RunOnce(100).ok());
  }
  ASSERT_GE((*engine)->progress().consumed, 20);
  produce(CallsAndSms());

  kafka::ConsumerOptions reader;
  reader.client = {bootstrap, {}};
  reader.group_id = "check";
  reader.topics = {kCellsOut, kPairsOut};
  auto consumer = kafka::BatchConsumer::Create(reader);
  ASSERT_TRUE(consumer.ok());
  const size_t wanted = expected.at(kCellsOut).size() + expected.at(kPairsOut).size();
  std::map<std::string, std::vector<Output>> actual;
  size_t read = 0;
  kafka::MessageBatch batch;
  // Past the expected count, a few more passes would show any extra result.
  for (int extra_passes = 0; extra_passes < 20 && Clock::now() < deadline;) {
    ASSERT_TRUE((*engine)->RunOnce(50).ok());
    ASSERT_TRUE((*consumer)->Poll(1000, std::chrono::milliseconds(50), &batch).ok());
    for (size_t i = 0; i < batch.size(); ++i) {
      const json value = json::parse(batch[i].value());
      actual[std::string(batch[i].topic())].push_back({std::string(batch[i].key()), value.dump()});
      ++read;
    }
    if (read >= wanted) ++extra_passes;
  }
  for (const std::string topic : {kCellsOut, kPairsOut}) {
    std::sort(actual[topic].begin(), actual[topic].end());
    EXPECT_EQ(actual[topic], expected.at(topic)) << topic;
  }
  for (const QueryStatus& query : (*engine)->Queries()) {
    EXPECT_EQ(query.state, runtime::QueryState::kRunning) << query.id;
    EXPECT_TRUE(query.errors.empty()) << query.id << ": " << query.errors.front().error.ToString();
  }
}

}  // namespace
}  // namespace sidestream::host
