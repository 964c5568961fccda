// kafka_consume_bench: the "Kafka path ceiling". Measures how fast BatchConsumer reads from
// the embedded broker (librdkafka's mock cluster), with no decoding or processing, so that
// other benchmarks can say what fraction of it they reach.
//
// Produces N messages of about 250 B (a CDR-like JSON value, a 12 B key) once, spread over
// P partitions (the mock keeps at most 5 MiB per partition, so 200k x 250 B needs >= 10),
// then runs R fresh consumer groups that each read everything from the start, and prints
// each run's rate and the median. The clock starts when the group assigns the partitions
// (fetching can begin; the join itself is excluded, and reported apart) and stops at the
// last message.
//
// With --bootstrap-servers it reads an existing topic of another broker instead (the real
// broker of bench/peer/run.py), producing nothing: the raw consume rate of the very topic a
// workload reads there.
//
// Usage: kafka_consume_bench [messages=200000] [runs=3] [partitions=16] [batch=10000]
//        kafka_consume_bench --bootstrap-servers HOST:PORT TOPIC MESSAGES [runs=3]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/timed_reader.h"
#include "connectors/kafka/batch_producer.h"
#include "connectors/kafka/embedded_broker.h"

namespace {

using sidestream::Status;
using namespace sidestream::kafka;
using Clock = std::chrono::steady_clock;

int Die(const std::string& what, const Status& status) {
  std::fprintf(stderr, "kafka_consume_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

std::string CdrValue(int i) {
  char buffer[320];
  int length = std::snprintf(
      buffer, sizeof(buffer),
      "{\"cdr_id\":\"%010d\",\"caller\":\"+4917%08d\",\"callee\":\"+4930%08d\","
      "\"cell_id\":\"cell-%05d\",\"start_ts\":%lld,\"duration_s\":%d,\"call_type\":\"VOICE\","
      "\"result\":\"ANSWERED\",\"setup_ms\":%d,\"lat\":52.%06d,\"lon\":13.%06d,\"imei\":\"35%"
      "013d\"}",
      i, i % 100000000, (i * 7919) % 100000000, i % 5000, 1700000000000LL + i, i % 600,
      100 + i % 900, i % 1000000, (i * 31) % 1000000, i);
  return std::string(buffer, std::min<int>(length, sizeof(buffer) - 1));
}

}  // namespace

// Reads `messages` messages of `topic` from the start, `runs` times, in fresh groups.
int ReadTopic(const ClientConfig& client, const std::string& topic, int messages, int runs,
              size_t batch_size) {
  std::vector<double> rates;
  for (int run = 0; run < runs; ++run) {
    auto reader =
        sidestream::bench::TimedReader::Create(client, topic, "bench-" + std::to_string(run));
    if (!reader.ok()) return Die("consumer", reader.status());
    auto read = (*reader)->ReadAll(messages, batch_size, std::chrono::seconds(120));
    if (!read.ok()) return Die("run " + std::to_string(run), read.status());
    const double rate = static_cast<double>(read->messages) / read->seconds;
    rates.push_back(rate);
    std::printf(
        "run %d: %lld messages in %.3f s after the assignment: %.0f records/s, %.1f MB/s "
        "(group join %.3f s; checksum %llu)\n",
        run, static_cast<long long>(read->messages), read->seconds, rate,
        static_cast<double>(read->bytes) / read->seconds / 1e6, read->join_seconds,
        static_cast<unsigned long long>(read->bytes));
  }
  std::sort(rates.begin(), rates.end());
  std::printf(
      "kafka_consume_bench: median %.0f records/s (BatchConsumer, %s, topic %s, %d "
      "messages, batch %zu, %d runs)\n",
      rates[rates.size() / 2], client.bootstrap_servers.c_str(), topic.c_str(), messages,
      batch_size, runs);
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 5 && std::string(argv[1]) == "--bootstrap-servers") {
    return ReadTopic(ClientConfig{argv[2], {}}, argv[3], std::atoi(argv[4]),
                     argc > 5 ? std::atoi(argv[5]) : 3, 10000);
  }
  const int messages = argc > 1 ? std::atoi(argv[1]) : 200000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  const int partitions = argc > 3 ? std::atoi(argv[3]) : 16;
  const size_t batch_size = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 10000;

  auto broker = EmbeddedBroker::Start();
  if (!broker.ok()) return Die("start broker", broker.status());
  const std::string topic = "bench";
  if (Status s = (*broker)->CreateTopic(topic, partitions); !s.ok()) return Die("topic", s);
  const ClientConfig client{(*broker)->bootstrap_servers(), {}};

  ProducerOptions producer_options;
  producer_options.client = client;
  producer_options.linger_ms = 20;
  auto producer = BatchProducer::Create(producer_options);
  if (!producer.ok()) return Die("producer", producer.status());
  size_t bytes = 0;
  const auto produce_start = Clock::now();
  for (int i = 0; i < messages; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "cell-%06d", i % 50000);
    const std::string value = CdrValue(i);
    bytes += value.size() + std::strlen(key);
    if (Status s = (*producer)->Produce(topic, -1, key, value, 1700000000000LL + i); !s.ok()) {
      return Die("produce", s);
    }
  }
  if (Status s = (*producer)->Flush(std::chrono::seconds(120)); !s.ok()) return Die("flush", s);
  const double produce_seconds =
      std::chrono::duration<double>(Clock::now() - produce_start).count();
  std::printf("produced %d messages (%.0f B average) over %d partitions in %.2f s: %.0f msg/s\n",
              messages, static_cast<double>(bytes) / messages, partitions, produce_seconds,
              messages / produce_seconds);

  return ReadTopic(client, topic, messages, runs, batch_size);
}
