// abort_check: on a real broker, what a transaction that aborts (or is still open) wrote is
// invisible to read_committed readers, and a changelog read (ReadPartitionToEnd, which a task
// restores its stores with) returns the committed records only and ends, rather than waiting
// for offsets that control records and aborted records occupy. A read that waits for open
// transactions (a task's new owner restoring under exactly-once) also returns what another
// producer committed after a transaction left open, once that one ends. It leaves the topic
// with 10 aborted, 5 committed, 3 aborted-late and 2 committed-late records, for the calling
// script to read uncommitted.
//   abort_check BOOTSTRAP TOPIC
// Prints PASSED or FAILED: ... ; exit 0 or 1.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
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

// The values of partition 0 of `topic`, read as a restoring store reads its changelog;
// `wait`: as a task's new owner under exactly-once does (see PartitionReadOptions), with
// `waited` set when the read had to wait.
sidestream::Result<std::vector<std::string>> ReadCommitted(const kafka::ClientConfig& client,
                                                           const std::string& topic,
                                                           bool wait = false,
                                                           bool* waited = nullptr) {
  std::vector<std::string> values;
  kafka::PartitionReadOptions options;
  options.timeout = std::chrono::seconds(20);
  options.wait_for_open_transactions = wait;
  options.on_wait = [waited](int64_t, int64_t) {
    if (waited != nullptr) *waited = true;
  };
  auto read = kafka::ReadPartitionFrom(
      client, topic, 0, options,
      [&](std::optional<std::string_view>, std::optional<std::string_view> value, int64_t) {
        values.emplace_back(value.value_or(""));
        return Status::OK();
      });
  if (!read.ok()) return read.status();
  return values;
}

std::string Joined(const std::vector<std::string>& values) {
  std::string joined;
  for (const auto& value : values) joined += value + " ";
  return joined;
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
  // A second owner: another transactional id, so it does not fence the first (as a task's
  // next owner under exactly_once_v2 does not fence a killed one).
  options.transactional_id = "sidestream-abort-check-next-" + topic;
  auto next_owner = kafka::BatchProducer::Create(options);
  if (!next_owner.ok()) return Failed("second producer: " + next_owner.status().ToString());
  const auto timeout = std::chrono::seconds(30);
  auto produce = [&](kafka::BatchProducer& to, const std::string& prefix, int count) {
    for (int i = 0; i < count; ++i) {
      Status produced = to.Produce(topic, 0, "k", prefix + std::to_string(i));
      if (!produced.ok()) return produced;
    }
    return to.Flush(timeout);
  };

  if (Status s = produce(**producer, "aborted-", 10); !s.ok()) {
    return Failed("produce: " + s.ToString());
  }
  if (Status s = (*producer)->AbortTransaction(timeout); !s.ok()) {
    return Failed("abort: " + s.ToString());
  }
  if (Status s = produce(**producer, "committed-", 5); !s.ok()) {
    return Failed("produce: " + s.ToString());
  }
  if (Status s = (*producer)->CommitTransaction(timeout); !s.ok()) {
    return Failed("commit: " + s.ToString());
  }
  // A transaction still open: delivered to the log, neither committed nor aborted.
  if (Status s = produce(**producer, "open-", 3); !s.ok()) {
    return Failed("produce: " + s.ToString());
  }
  // Committed after it by the second owner: hidden behind the open one until it ends.
  if (Status s = produce(**next_owner, "after-", 2); !s.ok()) {
    return Failed("produce: " + s.ToString());
  }
  if (Status s = (*next_owner)->CommitTransaction(timeout); !s.ok()) {
    return Failed("commit the second owner's: " + s.ToString());
  }

  std::vector<std::string> expected = {"committed-0", "committed-1", "committed-2", "committed-3",
                                       "committed-4"};
  const auto started = std::chrono::steady_clock::now();
  auto read = ReadCommitted(client, topic);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!read.ok()) return Failed("read with a transaction open: " + read.status().ToString());
  if (*read != expected) {
    return Failed("read_committed with a transaction open saw: " + Joined(*read));
  }
  // The waiting read, while the open transaction ends (aborted a second from now).
  std::thread ender([&] {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    (void)(*producer)->AbortTransaction(timeout);
  });
  bool waited = false;
  auto settled = ReadCommitted(client, topic, /*wait=*/true, &waited);
  ender.join();
  expected.insert(expected.end(), {"after-0", "after-1"});
  if (!settled.ok()) return Failed("waiting read: " + settled.status().ToString());
  if (*settled != expected || !waited) {
    return Failed(std::string("a read waiting for open transactions ") +
                  (waited ? "" : "did not wait, and ") + "saw: " + Joined(*settled));
  }
  read = ReadCommitted(client, topic);
  if (!read.ok()) return Failed("read after the abort: " + read.status().ToString());
  if (*read != expected) return Failed("read_committed after the last abort saw: " + Joined(*read));
  std::printf(
      "PASSED: a changelog read returned the 5 committed records of 20 (10 aborted, 3 of an "
      "open transaction, 2 committed after it), ending in %.2f s with the transaction still "
      "open; a read waiting for open transactions returned the 2 later ones too once it "
      "ended\n",
      seconds);
  return 0;
}
