// threads_bench: W2 (tumbling 1 min COUNT(*) and AVG(setup_ms) per cell_id, EMIT CHANGES),
// both stages (re-keying through the repartition topic, then the aggregation), on 4 input
// partitions, run by 1 and by 2 stream threads (runtime::StreamThread).
//  - in memory (runtime::InMemoryClients): no broker, every topic a list in memory. The rate is
//    N / the wall time until both stages consumed all N records; the ceiling of 2 threads is
//    twice the rate of one, measured in the same run.
//  - through the embedded broker (KafkaEngine with stream_threads 1 and 2): the same, timed
//    from the first record processed (after the groups joined), and the CPU each kind of
//    thread used (stream threads, librdkafka's client threads, the broker's),
//    from /proc/self/task, since they all share the machine's cores.
// Usage: threads_bench [--messages N] [--kafka-messages N] [--runs R]
// Prints one JSON object on stdout; progress goes to stderr.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "analyzer/analyzer.h"
#include "bench/measurement.h"
#include "bench/workloads.h"
#include "catalog/catalog.h"
#include "connectors/datagen/cdr_generator.h"
#include "connectors/kafka/batch_producer.h"
#include "connectors/kafka/embedded_broker.h"
#include "host/kafka_engine.h"
#include "planner/physical_plan.h"
#include "runtime/in_memory_clients.h"
#include "runtime/stream_thread.h"
#include "session/statements.h"
#include "sql/parser.h"

namespace {

using nlohmann::json;
using sidestream::Result;
using sidestream::Status;
using sidestream::bench::Measurement;
namespace runtime = sidestream::runtime;
using Clock = std::chrono::steady_clock;

constexpr int kPartitions = 4;

/// Per kind of thread (its name up to the first digit: "ss-stream-", "rdk:broker"): CPU seconds.
std::map<std::string, double> CpuByThreadKind() {
  std::map<std::string, double> cpu;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) return cpu;
  while (dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream stat(std::string("/proc/self/task/") + entry->d_name + "/stat");
    std::string line;
    std::getline(stat, line);
    const size_t open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::string name = line.substr(open + 1, close - open - 1);
    name = name.substr(0, name.find_first_of("0123456789"));
    // Fields after the name: state is the 1st, utime the 12th, stime the 13th.
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 1; i <= 13 && fields >> field; ++i) {
      if (i == 12) utime = std::atof(field.c_str());
      if (i == 13) stime = std::atof(field.c_str());
    }
    cpu[name] += (utime + stime) / ticks;
  }
  closedir(tasks);
  return cpu;
}

std::vector<sidestream::datagen::GeneratedCdr> Generate(int64_t messages) {
  sidestream::datagen::CdrGeneratorOptions options;
  options.seed = 7;
  options.start_ms = 1'700'000'000'000;
  sidestream::datagen::CdrGenerator generator(options);
  std::vector<sidestream::datagen::GeneratedCdr> records(messages);
  for (auto& record : records) generator.Next(record);
  return records;
}

/// W2's physical plan, on topics of kPartitions partitions.
Result<sidestream::planner::PhysicalPlan> PlanW2(const std::string& sql,
                                                 sidestream::catalog::Catalog& catalog,
                                                 std::map<std::string, std::string>& properties) {
  ASSIGN_OR_RAISE(auto statements, sidestream::sql::ParseScript(sql));
  sidestream::analyzer::SessionProperties session;
  for (const auto& statement : statements) {
    sidestream::analyzer::Analyzer analyzer(catalog, session);
    ASSIGN_OR_RAISE(auto analyzed, analyzer.Analyze(*statement));
    std::string message;
    ASSIGN_OR_RAISE(auto query, sidestream::session::ApplyStatement(*statement, analyzed, catalog,
                                                                    session, message));
    if (!query) continue;
    properties = query->properties;
    sidestream::planner::PlannerOptions planning;
    planning.partition_count = [](const std::string&) -> Result<int> { return kPartitions; };
    return sidestream::planner::PlanQuery(query->id, std::move(query->plan), planning);
  }
  return Status::InvalidArgument("W2 starts no query");
}

Result<Measurement> RunInMemory(const std::string& sql, const std::string& input_topic,
                                const std::vector<sidestream::datagen::GeneratedCdr>& records,
                                int threads) {
  runtime::InMemoryClients clients(threads, kPartitions);
  clients.CreateTopic(input_topic, kPartitions);
  for (const auto& record : records) {
    RETURN_NOT_OK(clients.Append(input_topic, -1, record.key, record.value, record.event_time));
  }
  ASSIGN_OR_RAISE(auto catalog, sidestream::catalog::Catalog::Open(":memory:"));
  std::map<std::string, std::string> properties;
  ASSIGN_OR_RAISE(auto physical, PlanW2(sql, *catalog, properties));
  auto control = std::make_shared<runtime::QueryControl>("W2", sidestream::Clock::System(),
                                                         runtime::RetryPolicy{}, nullptr);
  ASSIGN_OR_RAISE(auto query, runtime::MakeQuerySpec(std::move(physical), properties, control));
  runtime::StreamThreadOptions options;
  options.idle_timeout_ms = 3'600'000;  // no wall-clock closes while the threads wait
  std::vector<std::unique_ptr<runtime::StreamThread>> running;
  for (int index = 0; index < threads; ++index) {
    running.push_back(std::make_unique<runtime::StreamThread>(index, options, clients));
    RETURN_NOT_OK(running.back()->AddQuery(*query));
  }
  const auto total = 2 * static_cast<int64_t>(records.size());  // both stages read each record
  const auto deadline = Clock::now() + std::chrono::seconds(300);
  auto consumed = [&] {
    int64_t sum = 0;
    for (const auto& thread : running) sum += thread->progress().consumed;
    return sum;
  };
  Measurement measured = sidestream::bench::Measure(static_cast<int64_t>(records.size()), [&] {
    for (auto& thread : running) thread->Start();
    while (consumed() < total && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    for (auto& thread : running) thread->Stop();
  });
  if (consumed() < total) return Status::Unavailable("W2 did not finish within 300 s");
  if (auto failed = control->status(); !failed.errors.empty()) {
    return failed.errors.back().error;
  }
  return measured;
}

struct KafkaRun {
  Measurement measured;
  std::map<std::string, double> cpu;  // per kind of thread, during the run
};

Result<KafkaRun> RunKafka(const std::string& source_sql, const std::string& query_sql,
                          const std::string& input_topic,
                          const std::vector<sidestream::datagen::GeneratedCdr>& records,
                          int threads) {
  sidestream::host::KafkaEngineOptions options;
  options.stream_threads = threads;
  options.idle_timeout_ms = 3'600'000;
  ASSIGN_OR_RAISE(auto engine, sidestream::host::KafkaEngine::Start(options));
  RETURN_NOT_OK(sidestream::kafka::EmbeddedBroker::WithBroker(
      engine->bootstrap_servers(), [&](sidestream::kafka::EmbeddedBroker& broker) {
        return broker.CreateTopic(input_topic, kPartitions);
      }));
  sidestream::kafka::ProducerOptions producer_options;
  producer_options.client = {engine->bootstrap_servers(), {}};
  ASSIGN_OR_RAISE(auto producer, sidestream::kafka::BatchProducer::Create(producer_options));
  for (const auto& record : records) {
    RETURN_NOT_OK(producer->Produce(input_topic, -1, record.key, record.value, record.event_time));
  }
  RETURN_NOT_OK(producer->Flush(std::chrono::seconds(60)));
  RETURN_NOT_OK(engine->Execute(source_sql));
  RETURN_NOT_OK(engine->Execute(query_sql));
  const auto total = 2 * static_cast<int64_t>(records.size());
  const auto deadline = Clock::now() + std::chrono::seconds(300);
  // Timing starts with the first record processed: the groups' joins (the embedded broker
  // delays a new group's first rebalance by 3 s) are not throughput.
  Status status;
  while (status.ok() && engine->progress().consumed == 0 && Clock::now() < deadline) {
    status = engine->RunOnce(5).status();
  }
  RETURN_NOT_OK(status);
  const auto before = CpuByThreadKind();
  const int64_t consumed_before = engine->progress().consumed;
  const double cpu_start = sidestream::bench::CpuSeconds();
  const auto wall_start = Clock::now();
  while (status.ok() && engine->progress().consumed < total && Clock::now() < deadline) {
    status = engine->RunOnce(5).status();
  }
  RETURN_NOT_OK(status);
  if (engine->progress().consumed < total) {
    // Records the mock broker dropped (it keeps 5 MiB per partition) never arrive; otherwise
    // the group stalled (its coordinator's churn with several members).
    const bool too_many = static_cast<int64_t>(records.size()) > 50'000;
    return Status::Unavailable(
        "W2 did not finish on the embedded broker within 300 s: " +
        std::to_string(engine->progress().consumed) + " of " + std::to_string(total) +
        " records consumed" +
        (too_many ? " (the broker keeps at most 5 MiB per partition: fewer --kafka-messages?)"
                  : " (a stalled consumer group: the mock coordinator's rebalances)"));
  }
  KafkaRun run;
  // Each record is consumed twice (the input, then the repartition topic).
  const double records_timed = static_cast<double>(total - consumed_before) / 2;
  const double wall = std::chrono::duration<double>(Clock::now() - wall_start).count();
  run.measured.rate = records_timed / wall;
  run.measured.rate_per_core =
      records_timed / std::max(sidestream::bench::CpuSeconds() - cpu_start, 1e-6);
  for (const auto& [kind, seconds] : CpuByThreadKind()) {
    auto earlier = before.find(kind);
    run.cpu[kind] = seconds - (earlier == before.end() ? 0 : earlier->second);
  }
  return run;
}

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "threads_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // The embedded broker keeps at most 5 MiB per partition: 50k CDRs fit in its 4.
  int64_t messages = 1'000'000, kafka_messages = 50'000;
  int runs = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--messages") {
      messages = std::atoll(next().c_str());
    } else if (arg == "--kafka-messages") {
      kafka_messages = std::atoll(next().c_str());
    } else if (arg == "--runs") {
      runs = std::max(1, std::atoi(next().c_str()));
    } else {
      std::fprintf(stderr, "usage: threads_bench [--messages N] [--kafka-messages N] [--runs R]\n");
      return 2;
    }
  }
  auto workload = sidestream::bench::FindWorkload("W2-changes");
  if (!workload.ok()) return Fail("workload", workload.status());
  auto source_sql = sidestream::bench::SourceSql(*workload);
  auto query_sql = sidestream::bench::QuerySql(*workload);
  if (!source_sql.ok() || !query_sql.ok()) return Fail("sql", Status::Internal("no W2 SQL"));
  const std::string input_topic = sidestream::bench::InputTopic(*workload);

  const auto records = Generate(messages);
  std::map<int, std::vector<Measurement>> memory;
  for (int run = 0; run < runs; ++run) {
    for (int threads : {1, 2}) {
      auto measured = RunInMemory(*source_sql + "\n" + *query_sql, input_topic, records, threads);
      if (!measured.ok()) return Fail("in memory", measured.status());
      memory[threads].push_back(*measured);
      std::fprintf(stderr, "in memory, %d thread(s), run %d: %.0f records/s\n", threads, run,
                   measured->rate);
    }
  }
  const auto kafka_records = Generate(kafka_messages);
  std::map<int, std::vector<Measurement>> kafka;
  std::map<int, std::map<std::string, double>> kafka_cpu;  // of the last run
  for (int run = 0; run < runs; ++run) {
    for (int threads : {1, 2}) {
      auto measured = RunKafka(*source_sql, *query_sql, input_topic, kafka_records, threads);
      if (!measured.ok()) return Fail("embedded broker", measured.status());
      kafka[threads].push_back(measured->measured);
      kafka_cpu[threads] = measured->cpu;
      std::fprintf(stderr, "embedded broker, %d thread(s), run %d: %.0f records/s\n", threads, run,
                   measured->measured.rate);
    }
  }
  auto median = [](const std::vector<Measurement>& runs) {
    std::vector<double> rates;
    for (const auto& run : runs) rates.push_back(run.rate);
    return sidestream::bench::Percentile(rates, 0.5);
  };
  json cpu = json::object();
  for (const auto& [threads, kinds] : kafka_cpu) {
    json split = json::object();
    for (const auto& [kind, seconds] : kinds) {
      if (seconds >= 0.01) split[kind] = std::round(seconds * 100) / 100;
    }
    cpu[std::to_string(threads)] = split;
  }
  const json report = {
      {"workload", "threads"},
      {"description", "W2-changes, both stages, 4 partitions, 1 and 2 stream threads"},
      {"messages", messages},
      {"kafka_messages", kafka_messages},
      {"in_memory",
       {{"one_thread", sidestream::bench::Summarize(memory[1])},
        {"two_threads", sidestream::bench::Summarize(memory[2])},
        {"speedup", median(memory[2]) / median(memory[1])},
        {"ceiling_speedup", 2.0}}},
      {"embedded_broker",
       {{"one_thread", sidestream::bench::Summarize(kafka[1])},
        {"two_threads", sidestream::bench::Summarize(kafka[2])},
        {"speedup", median(kafka[2]) / median(kafka[1])},
        {"cpu_seconds_by_thread_kind", cpu}}},
  };
  std::printf("%s\n", report.dump(2).c_str());
  return 0;
}
