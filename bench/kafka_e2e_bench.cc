// kafka_e2e_bench (W6): W2 (tumbling 1 min COUNT(*) and AVG(setup_ms) per cell_id, EMIT
// CHANGES) end to end through Kafka: a KafkaEngine on the embedded broker, driven as
// `sidestream run` drives it (RunOnce(200) in a loop), reads CDRs from a topic, repartitions
// them by cell_id through an internal topic, aggregates, and writes every update to the
// result topic, which a separate consumer (the viewer thread) reads.
//
// Each run starts a fresh engine and broker and measures, in the same process:
//  1. throughput: N CDRs are produced to the `cdr` topic (16 partitions) first; then the
//     engine processes all of them through both stages. records/s = N / wall time, per core
//     = N / process CPU time (which includes the in-process broker and the viewer).
//  2. the ceiling: a fresh consumer group reads the same N messages of `cdr` with no
//     processing (bench/timed_reader.h, as kafka_consume_bench). Every consumer is created
//     before the input is produced and left unpolled until its measurement, so both clocks
//     start with empty fetch queues, after the group joins (which the embedded broker delays
//     by 3 s; they complete in the background meanwhile).
//     W6's own Kafka work is more than one consume: every record is consumed from `cdr`,
//     produced to and consumed from the repartition topic, and its result produced. So the
//     run also times producing the N pre-generated input messages (BatchProducer, flushed),
//     and reports the floor of that I/O: 1 / (2 / consume rate + 2 / produce rate).
//  3. latency: a producer thread sends CDRs at a fixed rate R for S seconds. CDR i has event
//     time t0 + i/R (ms, rounded down) and is produced once the wall clock reaches that time.
//     EMIT CHANGES writes one result per CDR, stamped with that CDR's event time. The viewer
//     takes latency = wall clock (system_clock) when the result reaches it - the result's
//     timestamp: from the moment the CDR was due to be sent (so producer lag counts) to the
//     result arriving at a downstream consumer. p50 and p99 over the results of the phase.
//
// Usage: kafka_e2e_bench [--messages N] [--runs R] [--rate R] [--seconds S]
// Prints one JSON object on stdout; progress goes to stderr.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/measurement.h"
#include "bench/timed_reader.h"
#include "bench/workloads.h"
#include "connectors/datagen/cdr_generator.h"
#include "connectors/kafka/batch_consumer.h"
#include "connectors/kafka/batch_producer.h"
#include "connectors/kafka/embedded_broker.h"
#include "host/kafka_engine.h"

namespace {

using nlohmann::json;
using sidestream::Result;
using sidestream::Status;
using sidestream::bench::Measurement;
using namespace sidestream::kafka;
using Clock = std::chrono::steady_clock;

constexpr int kInputPartitions = 16;  // the mock keeps 5 MiB per partition: room for 200k CDRs
constexpr const char* kInputTopic = "cdr";
// The embedded broker delays the first rebalance of a group by 3 s.
constexpr auto kGroupJoin = std::chrono::milliseconds(4000);

double NowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Reads the result topic on its own thread, as a downstream consumer would, and records the
/// latency of each result whose timestamp is at or after timed_from_ms.
class Viewer {
 public:
  explicit Viewer(std::unique_ptr<BatchConsumer> consumer) : consumer_(std::move(consumer)) {}
  ~Viewer() { Stop(); }

  void Start() {
    thread_ = std::thread([this] {
      MessageBatch batch;
      while (!stop_) {
        if (!consumer_->Poll(10000, std::chrono::milliseconds(20), &batch).ok()) break;
        const double now = NowMs();
        std::lock_guard<std::mutex> lock(mutex_);
        for (size_t i = 0; i < batch.size(); ++i) {
          const int64_t timestamp = batch[i].timestamp();
          if (timestamp < timed_from_ms_) continue;
          latencies_ms_.push_back(now - static_cast<double>(timestamp));
        }
      }
      batch.Clear();
    });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void TimeFrom(int64_t timestamp_ms) {
    std::lock_guard<std::mutex> lock(mutex_);
    timed_from_ms_ = timestamp_ms;
    latencies_ms_.clear();
  }
  size_t timed() {
    std::lock_guard<std::mutex> lock(mutex_);
    return latencies_ms_.size();
  }
  std::vector<double> latencies_ms() {
    std::lock_guard<std::mutex> lock(mutex_);
    return latencies_ms_;
  }

 private:
  std::unique_ptr<BatchConsumer> consumer_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  int64_t timed_from_ms_ = INT64_MAX;  // guarded by mutex_
  std::vector<double> latencies_ms_;   // guarded by mutex_
};

/// What one run measured.
struct RunResult {
  Measurement engine;
  Measurement ceiling;
  Measurement produce;  // the input, pre-generated: raw produce of the same messages
  std::vector<double> latencies_ms;
  int64_t late_records = 0;
  double ceiling_assignment_wait_seconds = 0;  // ~0 when the group joined in the background
};

/// What to run and how.
struct Settings {
  int64_t messages = 200'000;
  int runs = 3;
  double rate = 10'000;  // CDRs per second in the latency phase
  double seconds = 10;   // length of the latency phase
  /// librdkafka properties for every client, the engine's included.
  std::vector<std::pair<std::string, std::string>> properties;
};

Result<RunResult> MeasureRun(const std::string& query_sql, const std::string& source_sql, int run,
                             const Settings& settings) {
  const int64_t messages = settings.messages;
  const double rate = settings.rate;
  const double seconds = settings.seconds;
  RunResult result;
  sidestream::host::KafkaEngineOptions options;
  options.client_properties = settings.properties;
  ASSIGN_OR_RAISE(auto engine, sidestream::host::KafkaEngine::Start(options));
  const ClientConfig client{engine->bootstrap_servers(), settings.properties};
  RETURN_NOT_OK(EmbeddedBroker::WithBroker(engine->bootstrap_servers(), [](EmbeddedBroker& broker) {
    return broker.CreateTopic(kInputTopic, kInputPartitions);
  }));
  RETURN_NOT_OK(engine->Execute(source_sql));
  RETURN_NOT_OK(engine->Execute(query_sql));
  std::string result_topic;
  for (const auto& source : engine->catalog().ListSources()) {
    if (!source.writer_query_id.empty()) result_topic = source.topic;
  }
  ConsumerOptions viewer_options;
  viewer_options.client = client;
  viewer_options.group_id = "w6-viewer";
  viewer_options.topics = {result_topic};
  ASSIGN_OR_RAISE(auto viewer_consumer, BatchConsumer::Create(std::move(viewer_options)));
  Viewer viewer(std::move(viewer_consumer));
  ASSIGN_OR_RAISE(auto reader,
                  sidestream::bench::TimedReader::Create(client, kInputTopic, "w6-raw-consume"));
  const auto groups_created = Clock::now();

  // The input, with the generator's ~1% late records as in W2; event time ends about now.
  ProducerOptions producer_options;
  producer_options.client = client;
  ASSIGN_OR_RAISE(auto producer, BatchProducer::Create(producer_options));
  sidestream::datagen::CdrGeneratorOptions backlog_options;
  backlog_options.seed = static_cast<uint64_t>(run + 1);
  backlog_options.start_ms = static_cast<int64_t>(NowMs()) - messages - 60'000;
  sidestream::datagen::CdrGenerator backlog(backlog_options);
  std::vector<sidestream::datagen::GeneratedCdr> records(messages);
  for (auto& record : records) backlog.Next(record);
  Status produced;
  result.produce = sidestream::bench::Measure(messages, [&] {
    for (const auto& record : records) {
      produced = producer->Produce(kInputTopic, -1, record.key, record.value, record.event_time);
      if (!produced.ok()) return;
    }
    produced = producer->Flush(std::chrono::seconds(60));
  });
  RETURN_NOT_OK(produced);
  std::this_thread::sleep_until(groups_created + kGroupJoin);

  viewer.Start();
  Status status;
  const auto drain_deadline = Clock::now() + std::chrono::seconds(120);
  result.engine = sidestream::bench::Measure(messages, [&] {
    // Both stages consume every record: the CDR topic, then the repartition topic.
    while (status.ok() && engine->progress().consumed < 2 * messages &&
           Clock::now() < drain_deadline) {
      status = engine->RunOnce(200).status();
    }
  });
  RETURN_NOT_OK(status);
  if (engine->progress().consumed < 2 * messages) {
    return Status::Unavailable("the engine did not process the input within 120 s");
  }
  result.late_records = engine->progress().late_records;

  Result<sidestream::bench::ReadRun> read = Status::OK();
  result.ceiling = sidestream::bench::Measure(
      messages, [&] { read = reader->ReadAll(messages, 10000, std::chrono::seconds(120)); });
  RETURN_NOT_OK(read.status());
  result.ceiling_assignment_wait_seconds = read->assignment_wait_seconds;

  // Latency at a fixed input rate: event time = the time each CDR is due to be sent.
  const auto total = static_cast<int64_t>(rate * seconds);
  const auto phase_start_ms = static_cast<int64_t>(NowMs()) + 100;
  viewer.TimeFrom(phase_start_ms);
  std::thread feeder([&, phase_start_ms] {
    sidestream::datagen::CdrGeneratorOptions fixed;
    fixed.seed = static_cast<uint64_t>(run + 100);
    fixed.start_ms = phase_start_ms;
    fixed.records_per_second = rate;
    fixed.late_fraction = 0;
    fixed.very_late_fraction = 0;
    sidestream::datagen::CdrGenerator generator(fixed);
    sidestream::datagen::GeneratedCdr cdr;
    for (int64_t sent = 0; sent < total;) {
      const auto due = std::min(
          total,
          static_cast<int64_t>((NowMs() - static_cast<double>(phase_start_ms)) * rate / 1000));
      for (; sent < due; ++sent) {
        generator.Next(cdr);
        (void)producer->Produce(kInputTopic, -1, cdr.key, cdr.value, cdr.event_time);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    (void)producer->Flush(std::chrono::seconds(30));
  });
  const auto latency_deadline =
      Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000) + 30'000);
  while (status.ok() && viewer.timed() < static_cast<size_t>(total) &&
         Clock::now() < latency_deadline) {
    status = engine->RunOnce(200).status();
  }
  feeder.join();
  viewer.Stop();
  RETURN_NOT_OK(status);
  result.latencies_ms = viewer.latencies_ms();
  if (result.latencies_ms.size() < static_cast<size_t>(total)) {
    return Status::Unavailable("only " + std::to_string(result.latencies_ms.size()) + " of " +
                               std::to_string(total) + " results arrived within the deadline");
  }
  return result;
}

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "kafka_e2e_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--messages") {
      settings.messages = std::atoll(next().c_str());
    } else if (arg == "--runs") {
      settings.runs = std::max(1, std::atoi(next().c_str()));
    } else if (arg == "--rate") {
      settings.rate = std::atof(next().c_str());
    } else if (arg == "--seconds") {
      settings.seconds = std::atof(next().c_str());
    } else if (arg == "--property" && i + 1 < argc) {
      const std::string property = next();
      const size_t equals = property.find('=');
      settings.properties.emplace_back(
          property.substr(0, equals),
          equals == std::string::npos ? "" : property.substr(equals + 1));
    } else {
      std::fprintf(stderr,
                   "usage: kafka_e2e_bench [--messages N] [--runs R] [--rate R] [--seconds S] "
                   "[--property name=value]...\n");
      return 2;
    }
  }
  const int64_t messages = settings.messages;
  const double rate = settings.rate;
  auto workload = sidestream::bench::FindWorkload("W2-changes");
  if (!workload.ok()) return Fail("workload", workload.status());
  auto source_sql = sidestream::bench::SourceSql(*workload);
  if (!source_sql.ok()) return Fail("source", source_sql.status());
  auto query_sql = sidestream::bench::QuerySql(*workload);
  if (!query_sql.ok()) return Fail("query", query_sql.status());

  std::vector<Measurement> engine_runs, ceiling_runs, produce_runs;
  std::vector<double> p50s, p99s, maxima;
  int64_t late_records = 0;
  for (int run = 0; run < settings.runs; ++run) {
    auto result = MeasureRun(*query_sql, *source_sql, run, settings);
    if (!result.ok()) return Fail("run " + std::to_string(run), result.status());
    engine_runs.push_back(result->engine);
    ceiling_runs.push_back(result->ceiling);
    produce_runs.push_back(result->produce);
    p50s.push_back(sidestream::bench::Percentile(result->latencies_ms, 0.50));
    p99s.push_back(sidestream::bench::Percentile(result->latencies_ms, 0.99));
    maxima.push_back(sidestream::bench::Percentile(result->latencies_ms, 1.0));
    late_records = result->late_records;
    std::fprintf(stderr,
                 "W6 run %d: %.0f records/s (%.0f per core), raw consume %.0f records/s, raw "
                 "produce %.0f records/s; at %.0f records/s: latency p50 %.1f ms, p99 %.1f ms "
                 "(ceiling waited %.3f s for its assignment)\n",
                 run, result->engine.rate, result->engine.rate_per_core, result->ceiling.rate,
                 result->produce.rate, rate, p50s.back(), p99s.back(),
                 result->ceiling_assignment_wait_seconds);
  }
  json engine = sidestream::bench::Summarize(engine_runs);
  json ceiling = sidestream::bench::Summarize(ceiling_runs);
  json produce = sidestream::bench::Summarize(produce_runs);
  // W6's Kafka I/O per record: two consumes and two produces, at the raw rates.
  auto io_floor = [&](const char* rate) {
    return 1.0 / (2.0 / ceiling[rate]["median"].get<double>() +
                  2.0 / produce[rate]["median"].get<double>());
  };
  const double floor_per_core = io_floor("records_per_s_per_core");
  const double floor_wall = io_floor("records_per_s");
  json report = {
      {"workload", "W6"},
      {"description", "W2-changes end to end through the embedded Kafka broker"},
      {"sql", *query_sql},
      {"messages", messages},
      {"runs", settings.runs},
      {"input_partitions", kInputPartitions},
      {"engine", engine},
      {"ceiling", ceiling},
      {"ceiling_kind", "raw consume (BatchConsumer, no processing) of the same topic"},
      {"ratio_to_ceiling", engine["records_per_s_per_core"]["median"].get<double>() /
                               ceiling["records_per_s_per_core"]["median"].get<double>()},
      {"wall_ratio_to_ceiling", engine["records_per_s"]["median"].get<double>() /
                                    ceiling["records_per_s"]["median"].get<double>()},
      {"raw_produce", produce},
      {"kafka_io_floor",
       {{"records_per_s", floor_wall},
        {"records_per_s_per_core", floor_per_core},
        {"kind",
         "1 / (2 / raw consume + 2 / raw produce): W6 consumes and produces each record "
         "twice (input, repartition topic, result)"},
        {"ratio", engine["records_per_s_per_core"]["median"].get<double>() / floor_per_core},
        {"wall_ratio", engine["records_per_s"]["median"].get<double>() / floor_wall}}},
      {"late_records", late_records},
      {"fixed_rate", rate},
      {"fixed_rate_seconds", settings.seconds},
      {"client_properties", settings.properties},
      {"latency_p50_ms", sidestream::bench::Stats(p50s)},
      {"latency_p99_ms", sidestream::bench::Stats(p99s)},
      {"latency_max_ms", sidestream::bench::Stats(maxima)},
      {"peer_name", workload->peer_name},
      {"peers", workload->peers},
      {"peer_per_core", workload->peer_per_core},
      {"target", ""},
      {"target_per_core", 0},
      {"target_ratio", 0},
  };
  std::printf("%s\n", report.dump().c_str());
  return 0;
}
