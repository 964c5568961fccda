// abort_check: on a real broker, what a transaction that aborts (or is still open) wrote is
// invisible to read_committed readers, and a changelog read (ReadPartitionToEnd, which a task
// restores its stores with) returns the committed records only and ends, rather than waiting
// for offsets that control records and aborted records occupy. It leaves the topic with 10
// aborted, 5 committed and 3 aborted-late records, for the calling script to read uncommitted.
//   abort_check BOOTSTRAP TOPIC
// Prints PASSED or FAILED: ... ; exit 0 or 1.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "connectors/kafka/batch_producer.h"
#include "connectors/kafka/partition_reader.h"
#include "connectors/kafka/topic_admin.h"

namespace {

using sidestream::Status;
namespace kafka = sidestream::kafka;

int Failed(const std::string& what) {
  std::printf("FAILED: %s\n", what.c_str());
  return 1;
}

// The values of partition 0 of `topic`, read as a restoring store reads its changelog.
sidestream::Result<std::vector<std::string>> ReadCommitted(const kafka::ClientConfig& client,
                                                           const std::string& topic) {
  std::vector<std::string> values;
  auto read =
      kafka::ReadPartitionToEnd(client, topic, 0,
                                kafka::PartitionVisitor([&](std::optional<std::string_view>,
                                                            std::optional<std::string_view> value) {
                                  values.emplace_back(value.value_or(""));
                                  return Status::OK();
                                }),
                                std::chrono::seconds(20));
  if (!read.ok()) return read.status();
  return values;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: abort_check BOOTSTRAP TOPIC\n");
    return 2;
  }
  const kafka::ClientConfig client{argv[1], {}};
  const std::string topic = argv[2];
  auto admin = kafka::TopicAdmin::Create(client);
  if (!admin.ok()) return Failed("admin: " + admin.status().ToString());
  if (Status created = (*admin)->EnsureTopic(topic, 1, 1, std::chrono::seconds(30));
      !created.ok()) {
    return Failed("create topic: " + created.ToString());
  }
  kafka::ProducerOptions options;
  options.client = client;
  options.transactional_id = "sidestream-abort-check-" + topic;
  auto producer = kafka::BatchProducer::Create(options);
  if (!producer.ok()) return Failed("transactional producer: " + producer.status().ToString());
  const auto timeout = std::chrono::seconds(30);
  auto produce = [&](const std::string& prefix, int count) {
    for (int i = 0; i < count; ++i) {
      Status produced = (*producer)->Produce(topic, 0, "k", prefix + std::to_string(i));
      if (!produced.ok()) return produced;
    }
    return (*producer)->Flush(timeout);
  };

  if (Status s = produce("aborted-", 10); !s.ok()) return Failed("produce: " + s.ToString());
  if (Status s = (*producer)->AbortTransaction(timeout); !s.ok()) {
    return Failed("abort: " + s.ToString());
  }
  if (Status s = produce("committed-", 5); !s.ok()) return Failed("produce: " + s.ToString());
  if (Status s = (*producer)->CommitTransaction(timeout); !s.ok()) {
    return Failed("commit: " + s.ToString());
  }
  // A transaction still open: delivered to the log, neither committed nor aborted.
  if (Status s = produce("open-", 3); !s.ok()) return Failed("produce: " + s.ToString());

  const std::vector<std::string> expected = {"committed-0", "committed-1", "committed-2",
                                             "committed-3", "committed-4"};
  const auto started = std::chrono::steady_clock::now();
  auto read = ReadCommitted(client, topic);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!read.ok()) return Failed("read with a transaction open: " + read.status().ToString());
  if (*read != expected) {
    std::string got;
    for (const auto& value : *read) got += value + " ";
    return Failed("read_committed with a transaction open saw: " + got);
  }
  if (Status s = (*producer)->AbortTransaction(timeout); !s.ok()) {
    return Failed("abort the open transaction: " + s.ToString());
  }
  read = ReadCommitted(client, topic);
  if (!read.ok()) return Failed("read after the abort: " + read.status().ToString());
  if (*read != expected) return Failed("read_committed after the last abort saw other records");
  std::printf(
      "PASSED: a changelog read returned the 5 committed records of 18 (10 aborted, 3 of an "
      "open transaction), and ended in %.2f s with the transaction still open\n",
      seconds);
  return 0;
}
