// kafka_roundtrip: a small client that checks the Kafka layer against any cluster, from a
// separate process. It ensures a topic (admin API on a real broker), produces keyed messages
// with timestamps and headers, consumes them back in a consumer group, commits, and checks
// that a second member of the group gets nothing it already read.
//
// Usage: kafka_roundtrip --bootstrap HOST:PORT --topic T [--partitions P] [--messages N]
//                        [--group G] [--expect-partitions P]
// Exit: 0 pass, 1 fail (the reason on stderr), 2 usage.
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "connectors/kafka/batch_consumer.h"
#include "connectors/kafka/batch_producer.h"
#include "connectors/kafka/topic_admin.h"

namespace sidestream::kafka {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct Arguments {
  std::string bootstrap;
  std::string topic;
  std::string group = "kafka-roundtrip";
  int partitions = 3;
  int expect_partitions = 0;  // 0: the same as partitions
  int messages = 5000;
};

bool Fail(const std::string& why) {
  std::fprintf(stderr, "kafka_roundtrip: FAIL: %s\n", why.c_str());
  return false;
}

bool WaitFor(milliseconds timeout, const std::function<bool()>& step) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (step()) return true;
  }
  return step();
}

std::unique_ptr<BatchConsumer> NewConsumer(const Arguments& arguments) {
  ConsumerOptions options;
  options.client = {arguments.bootstrap, {}};
  options.group_id = arguments.group;
  options.topics = {arguments.topic};
  auto consumer = BatchConsumer::Create(std::move(options));
  if (!consumer.ok()) {
    Fail("consumer: " + consumer.status().ToString());
    return nullptr;
  }
  return std::move(consumer).value();
}

bool Run(const Arguments& arguments) {
  const ClientConfig client{arguments.bootstrap, {}};
  auto admin = TopicAdmin::Create(client);
  if (!admin.ok()) return Fail("admin: " + admin.status().ToString());
  Status ensured = (*admin)->EnsureTopic(arguments.topic, arguments.partitions, 1, seconds(60));
  if (!ensured.ok()) return Fail("ensure topic: " + ensured.ToString());
  Result<int> count = (*admin)->PartitionCount(arguments.topic);
  if (!count.ok()) return Fail("partition count: " + count.status().ToString());
  const int expected =
      arguments.expect_partitions > 0 ? arguments.expect_partitions : arguments.partitions;
  if (*count != expected) {
    return Fail("topic has " + std::to_string(*count) + " partitions, expected " +
                std::to_string(expected));
  }
  std::fprintf(stderr, "kafka_roundtrip: topic %s has %d partitions\n", arguments.topic.c_str(),
               *count);

  ProducerOptions producer_options;
  producer_options.client = client;
  auto producer = BatchProducer::Create(producer_options);
  if (!producer.ok()) return Fail("producer: " + producer.status().ToString());
  constexpr int64_t kBase = 1'700'000'000'000;
  for (int i = 0; i < arguments.messages; ++i) {
    const std::string key = "key-" + std::to_string(i);
    const std::string value = "value-" + std::to_string(i);
    const std::string sequence = std::to_string(i);
    const std::array<ProduceHeader, 1> headers = {ProduceHeader{"seq", sequence}};
    Status produced = (*producer)->Produce(arguments.topic, -1, key, value, kBase + i, headers);
    if (!produced.ok()) return Fail("produce: " + produced.ToString());
  }
  Status flushed = (*producer)->Flush(seconds(60));
  if (!flushed.ok()) return Fail("flush: " + flushed.ToString());

  auto consumer = NewConsumer(arguments);
  if (consumer == nullptr) return false;
  MessageBatch batch;
  std::vector<bool> seen(arguments.messages, false);
  std::map<int32_t, int64_t> next_offset;
  int received = 0;
  bool ok = true;
  WaitFor(seconds(120), [&]() -> bool {
    Status polled = consumer->Poll(1000, milliseconds(200), &batch);
    if (!polled.ok()) {
      ok = Fail("poll: " + polled.ToString());
      return true;
    }
    for (size_t i = 0; i < batch.size() && ok; ++i) {
      MessageView message = batch[i];
      const std::string key(message.key());
      const int index = key.size() > 4 ? std::atoi(key.c_str() + 4) : -1;
      std::string_view sequence;
      if (index < 0 || index >= arguments.messages || seen[index] ||
          message.value() != "value-" + std::to_string(index) ||
          message.timestamp() != kBase + index || !message.FindHeader("seq", &sequence) ||
          sequence != std::to_string(index)) {
        ok = Fail("unexpected or duplicate message " + key + " at " +
                  std::to_string(message.partition()) + ":" + std::to_string(message.offset()));
        return true;
      }
      seen[index] = true;
      next_offset[message.partition()] = message.offset() + 1;
      ++received;
    }
    return received >= arguments.messages;
  });
  if (!ok) return false;
  if (received != arguments.messages) {
    return Fail("consumed " + std::to_string(received) + " of " +
                std::to_string(arguments.messages));
  }
  std::vector<TopicPartitionOffset> offsets;
  for (const auto& [partition, offset] : next_offset) {
    offsets.push_back({arguments.topic, partition, offset});
  }
  Status committed = consumer->Commit(offsets);
  if (!committed.ok()) return Fail("commit: " + committed.ToString());
  batch.Clear();
  Status closed = consumer->Close();
  if (!closed.ok()) return Fail("close: " + closed.ToString());
  std::fprintf(stderr, "kafka_roundtrip: consumed and committed %d messages on %zu partitions\n",
               received, next_offset.size());

  // A new member of the group resumes after the commit: a marker is all it may see.
  auto second = NewConsumer(arguments);
  if (second == nullptr) return false;
  int old_messages = 0;
  if (!WaitFor(seconds(60), [&]() -> bool {
        if (!second->Poll(1000, milliseconds(100), &batch).ok()) return false;
        old_messages += static_cast<int>(batch.size());
        auto assignment = second->assignment();
        return assignment.ok() && static_cast<int>(assignment->size()) == expected;
      })) {
    return Fail("the second consumer got no full assignment");
  }
  Status marker_produced = (*producer)->Produce(arguments.topic, 0, "marker", "marker");
  if (!marker_produced.ok() || !(*producer)->Flush(seconds(30)).ok()) {
    return Fail("producing the marker failed");
  }
  bool marker = false;
  WaitFor(seconds(60), [&]() -> bool {
    if (!second->Poll(1000, milliseconds(100), &batch).ok()) return false;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].key() == "marker") {
        marker = true;
      } else {
        ++old_messages;
      }
    }
    return marker;
  });
  if (!marker) return Fail("the second consumer never got the marker");
  if (old_messages != 0) {
    return Fail("the second consumer re-read " + std::to_string(old_messages) +
                " committed messages");
  }
  std::fprintf(stderr, "kafka_roundtrip: a new group member resumed after the commit\n");
  return true;
}

}  // namespace
}  // namespace sidestream::kafka

int main(int argc, char** argv) {
  sidestream::kafka::Arguments arguments;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const char* value = argv[i + 1];
    if (name == "--bootstrap") {
      arguments.bootstrap = value;
    } else if (name == "--topic") {
      arguments.topic = value;
    } else if (name == "--group") {
      arguments.group = value;
    } else if (name == "--partitions") {
      arguments.partitions = std::atoi(value);
    } else if (name == "--expect-partitions") {
      arguments.expect_partitions = std::atoi(value);
    } else if (name == "--messages") {
      arguments.messages = std::atoi(value);
    } else {
      std::fprintf(stderr, "kafka_roundtrip: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (arguments.bootstrap.empty() || arguments.topic.empty() || arguments.messages < 1) {
    std::fprintf(stderr,
                 "usage: kafka_roundtrip --bootstrap HOST:PORT --topic T [--partitions P] "
                 "[--messages N] [--group G] [--expect-partitions P]\n");
    return 2;
  }
  if (!sidestream::kafka::Run(arguments)) return 1;
  std::printf("PASS: kafka_roundtrip %s on %s\n", arguments.topic.c_str(),
              arguments.bootstrap.c_str());
  return 0;
}
