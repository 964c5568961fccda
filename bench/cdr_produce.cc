// cdr_produce: writes N generated CDRs into a Kafka topic, so that several engines (Sidestream
// and the Kafka Streams peer, bench/peer/run.py) read byte-identical input. The records are
// those of workloads_bench: the seeded CdrGenerator's key (the caller) and JSON value, with
// the event time (start_ts) as the message timestamp; the partition is chosen by key with
// the Java client's partitioner. The topic must exist. Prints one JSON line on stdout.
//
// Event time starts at --start-ms, by default so that the last record lies 10 minutes before
// now: a broker deletes segments whose newest timestamp is older than retention.ms (7 days by
// default), so the generator's fixed 2026-01-15 start would let it delete input and internal
// topics while a benchmark still reads them.
//
// --skip K generates and drops the first K records, so that a test can feed one seeded
// stream in slices (give every slice the same --start-ms).
//
// Usage: cdr_produce --bootstrap-servers HOST:PORT --topic T --messages N [--subscribers S]
//                    [--distinct-callers-first true|false] [--seed SEED] [--start-ms EPOCH_MS]
//                    [--skip K]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_set>

#include "connectors/datagen/cdr_generator.h"
#include "connectors/kafka/batch_producer.h"

namespace {

int Fail(const std::string& what, const sidestream::Status& status) {
  std::fprintf(stderr, "cdr_produce: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bootstrap, topic;
  long long messages = 0;
  long long start_ms = 0;
  long long skip = 0;
  sidestream::datagen::CdrGeneratorOptions generator_options;
  bool usage_error = argc % 2 == 0;  // options come in pairs after argv[0]
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    const char* value = argv[i + 1];
    if (arg == "--bootstrap-servers") {
      bootstrap = value;
    } else if (arg == "--topic") {
      topic = value;
    } else if (arg == "--messages") {
      messages = std::atoll(value);
    } else if (arg == "--subscribers") {
      generator_options.subscribers = std::atoi(value);
    } else if (arg == "--distinct-callers-first") {
      generator_options.distinct_callers_first = std::string(value) == "true";
    } else if (arg == "--seed") {
      generator_options.seed = std::strtoull(value, nullptr, 10);
    } else if (arg == "--start-ms") {
      start_ms = std::atoll(value);
    } else if (arg == "--skip") {
      skip = std::atoll(value);
    } else {
      usage_error = true;
    }
  }
  if (usage_error || bootstrap.empty() || topic.empty() || messages <= 0) {
    std::fprintf(stderr,
                 "usage: cdr_produce --bootstrap-servers HOST:PORT --topic T --messages N "
                 "[--subscribers S] [--distinct-callers-first true|false] [--seed SEED] "
                 "[--start-ms EPOCH_MS] [--skip K]\n");
    return 2;
  }
  if (start_ms == 0) {
    const long long now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    const auto span_ms =
        static_cast<long long>(1000.0 * messages / generator_options.records_per_second);
    start_ms = now_ms - span_ms - 10 * 60 * 1000;
  }
  generator_options.start_ms = start_ms;

  sidestream::kafka::ProducerOptions producer_options;
  producer_options.client.bootstrap_servers = bootstrap;
  producer_options.linger_ms = 50;  // throughput over latency: nothing waits on these
  auto producer = sidestream::kafka::BatchProducer::Create(producer_options);
  if (!producer.ok()) return Fail("create producer", producer.status());

  sidestream::datagen::CdrGenerator generator(generator_options);
  sidestream::datagen::GeneratedCdr record;
  for (long long i = 0; i < skip; ++i) generator.Next(record);
  std::unordered_set<std::string> callers;
  long long bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  for (long long i = 0; i < messages; ++i) {
    generator.Next(record);
    callers.insert(record.key);
    bytes += static_cast<long long>(record.key.size() + record.value.size());
    sidestream::Status status =
        (*producer)->Produce(topic, -1, record.key, record.value, record.event_time);
    if (!status.ok()) return Fail("produce", status);
  }
  if (sidestream::Status status = (*producer)->Flush(std::chrono::seconds(120)); !status.ok()) {
    return Fail("flush", status);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "{\"topic\":\"%s\",\"messages\":%lld,\"bytes\":%lld,\"distinct_callers\":%zu,"
      "\"subscribers\":%d,\"seed\":%llu,\"start_ms\":%lld,\"seconds\":%.3f}\n",
      topic.c_str(), messages, bytes, callers.size(), generator_options.subscribers,
      static_cast<unsigned long long>(generator_options.seed), start_ms, seconds);
  return 0;
}
