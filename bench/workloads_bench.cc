// workloads_bench: query workloads W1-W4 over pre-generated CDR messages, each with its
// decode ceiling, measured in one process per workload (so peak RSS is the workload's).
//
// A run pre-generates N CDR messages (Kafka key and JSON value bytes, as they would arrive
// from the topic) with the seeded CdrGenerator, then R times: creates a fresh
// QueryPipeline for the workload's query and feeds it every message. It reports the
// median, min and max of records/s (N / wall time), records/s per core (N / process CPU
// time from getrusage) and peak RSS (VmHWM, reset before each run; it includes the
// pre-generated messages, reported apart as input_mb). The ceiling, in the same process
// and on the same bytes, is simdjson ondemand decoding each message and extracting the
// fields the query reads, with no query.
//
// Usage: workloads_bench --list
//        workloads_bench --sql NAME   (prints the workload's statement, for bench/peer/run.py)
//        workloads_bench --workload NAME [--messages N] [--runs R] [--subscribers S]
// Prints one JSON object on stdout; progress goes to stderr.
#include <simdjson.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "analyzer/analyzer.h"
#include "catalog/catalog.h"
#include "connectors/datagen/cdr_generator.h"
#include "server/offline/query_pipeline.h"
#include "sql/parser.h"

namespace {

using sidestream::Result;
using sidestream::Status;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

// Messages per QueryPipeline::ProcessBatch call: about what one Kafka poll gives a task.
constexpr size_t kBatchSize = 1024;

/// One benchmark workload: its query and what it is compared with.
struct Workload {
  std::string name;
  std::string description;
  std::string sql;                  // one CREATE ... AS SELECT over the cdr stream
  std::vector<std::string> fields;  // the value fields the query reads (for the ceiling)
  int64_t default_messages = 1'000'000;
  int subscribers = 5000;  // distinct callers in the generated stream
  std::string peers;       // published per-core numbers that apply (PLATFORM.md)
  double peer_per_core = 0;
  std::string target;  // the target, "" when none
  double target_per_core = 0;
  double target_ratio = 0;
};

std::vector<Workload> Workloads() {
  return {
      {"W1",
       "filter + projection",
       "CREATE STREAM w1 AS SELECT caller_key, cell_id, duration_s FROM cdr "
       "WHERE record_type = 'VOICE' AND duration_s > 60 EMIT CHANGES;",
       {"record_type", "duration_s", "cell_id", "start_ts"},
       1'000'000,
       5000,
       "ksqlDB filter 50k/core; Flink Nexmark q2 (filter) 414k/core",
       50'000,
       "",
       0,
       0},
      {"W2-changes",
       "tumbling 1 min COUNT(*), AVG(setup_ms) per cell_id, EMIT CHANGES",
       "CREATE TABLE w2 AS SELECT cell_id, COUNT(*) AS calls, AVG(setup_ms) AS avg_setup_ms "
       "FROM cdr WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 30 SECONDS) GROUP BY cell_id "
       "EMIT CHANGES;",
       {"cell_id", "setup_ms", "start_ts"},
       1'000'000,
       5000,
       "ksqlDB aggregation 12k/core",
       12'000,
       ">= 5M records/s per core and >= 0.35 of the decode ceiling",
       5'000'000,
       0.35},
      {"W2-final",
       "tumbling 1 min COUNT(*), AVG(setup_ms) per cell_id, EMIT FINAL",
       "CREATE TABLE w2 AS SELECT cell_id, COUNT(*) AS calls, AVG(setup_ms) AS avg_setup_ms "
       "FROM cdr WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 30 SECONDS) GROUP BY cell_id "
       "EMIT FINAL;",
       {"cell_id", "setup_ms", "start_ts"},
       1'000'000,
       5000,
       "ksqlDB aggregation 12k/core",
       12'000,
       ">= 5M records/s per core and >= 0.35 of the decode ceiling",
       5'000'000,
       0.35},
      {"W3",
       "hopping 5 min / 1 min COUNT_DISTINCT(callee) per caller",
       "CREATE TABLE w3 AS SELECT caller_key, COUNT_DISTINCT(callee) AS distinct_callees "
       "FROM cdr WINDOW HOPPING (SIZE 5 MINUTES, ADVANCE BY 1 MINUTE, GRACE PERIOD 30 SECONDS) "
       "GROUP BY caller_key EMIT CHANGES;",
       {"callee", "start_ts"},
       1'000'000,
       1'000'000,
       "ksqlDB aggregation 12k/core",
       12'000,
       ">= 1M records/s (1M distinct callers)",
       1'000'000,
       0},
      {"W4",
       "session windows (gap 30 s) COUNT(*) per caller",
       "CREATE TABLE w4 AS SELECT caller_key, COUNT(*) AS calls FROM cdr "
       "WINDOW SESSION (30 SECONDS, GRACE PERIOD 30 SECONDS) GROUP BY caller_key EMIT CHANGES;",
       {"start_ts"},
       1'000'000,
       5000,
       "ksqlDB aggregation 12k/core",
       12'000,
       "",
       0,
       0},
  };
}

/// The messages of one run, as a Kafka consumer would hand them over.
struct Messages {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::vector<int64_t> timestamps;
  size_t bytes = 0;
  size_t distinct_callers = 0;
};

Messages Generate(int64_t count, int subscribers) {
  sidestream::datagen::CdrGeneratorOptions options;
  options.subscribers = subscribers;
  sidestream::datagen::CdrGenerator generator(options);
  Messages messages;
  messages.keys.reserve(count);
  messages.values.reserve(count);
  messages.timestamps.reserve(count);
  std::unordered_set<std::string> callers;
  sidestream::datagen::GeneratedCdr record;
  for (int64_t i = 0; i < count; ++i) {
    generator.Next(record);
    messages.bytes += record.key.size() + record.value.size();
    callers.insert(record.key);
    messages.keys.push_back(record.key);
    messages.values.push_back(record.value);
    messages.timestamps.push_back(record.event_time);
  }
  messages.distinct_callers = callers.size();
  return messages;
}

/// The parsed and analyzed query; the catalog outlives the plan's use.
struct CompiledQuery {
  std::unique_ptr<sidestream::catalog::Catalog> catalog;
  sidestream::analyzer::LogicalOperatorPtr plan;
  std::string query_id;
  std::map<std::string, std::string> properties;
};

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return Status::NotFound("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

Result<CompiledQuery> Compile(const std::string& query_sql) {
  CompiledQuery compiled;
  ASSIGN_OR_RAISE(compiled.catalog, sidestream::catalog::Catalog::Open(":memory:"));
  ASSIGN_OR_RAISE(std::string source_sql,
                  ReadFile(std::string(SIDESTREAM_SOURCE_DIR) + "/queries/sources/cdr.sql"));
  ASSIGN_OR_RAISE(auto query, sidestream::offline::CompileLastQuery(source_sql + "\n" + query_sql,
                                                                    *compiled.catalog));
  compiled.plan = std::move(query.plan);
  compiled.query_id = query.id;
  compiled.properties = query.properties;
  return compiled;
}

/// Resets the process's peak RSS (Linux: writing 5 to clear_refs resets VmHWM).
void ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

/// Peak resident set since the last reset, in MB.
double PeakRssMb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

double CpuSeconds() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

/// One timed pass.
struct Measurement {
  double rate = 0;           // records per wall second
  double rate_per_core = 0;  // records per CPU second
  double peak_rss_mb = 0;
};

/// Times `body` (which handles `count` records): wall, CPU and peak RSS.
template <typename Body>
Measurement Measure(int64_t count, Body&& body) {
  ResetPeakRss();
  const double cpu_start = CpuSeconds();
  const auto wall_start = Clock::now();
  body();
  const double wall = std::chrono::duration<double>(Clock::now() - wall_start).count();
  const double cpu = std::max(CpuSeconds() - cpu_start, 1e-6);
  return {static_cast<double>(count) / wall, static_cast<double>(count) / cpu, PeakRssMb()};
}

/// Median, min and max of each measured quantity.
json Summarize(std::vector<Measurement> runs) {
  auto stats = [&](double Measurement::*field) {
    std::vector<double> values;
    for (const auto& run : runs) values.push_back(run.*field);
    std::sort(values.begin(), values.end());
    return json{{"median", values[values.size() / 2]},
                {"min", values.front()},
                {"max", values.back()},
                {"runs", values}};
  };
  return {{"records_per_s", stats(&Measurement::rate)},
          {"records_per_s_per_core", stats(&Measurement::rate_per_core)},
          {"peak_rss_mb", stats(&Measurement::peak_rss_mb)}};
}

/// What a pipeline run produced, to show the query did its work.
struct RunOutput {
  int64_t results = 0;
  int64_t side_outputs = 0;
  size_t result_bytes = 0;
  sidestream::offline::PipelineCounters counters;
};

/// The ceiling: simdjson ondemand over the same bytes (copied into a padded buffer, as a
/// decoder must), extracting the query's fields into typed locals; the key is touched.
Result<size_t> DecodeCeiling(const Messages& messages, const std::vector<std::string>& fields) {
  simdjson::ondemand::parser parser;
  std::vector<char> buffer;
  size_t touched = 0;
  const size_t count = messages.values.size();
  for (size_t i = 0; i < count; ++i) {
    const std::string& message = messages.values[i];
    touched += messages.keys[i].size();
    if (buffer.size() < message.size() + simdjson::SIMDJSON_PADDING) {
      buffer.resize(message.size() + simdjson::SIMDJSON_PADDING);
    }
    std::memcpy(buffer.data(), message.data(), message.size());
    simdjson::ondemand::document document;
    if (parser.iterate(buffer.data(), message.size(), buffer.size()).get(document)) {
      return Status::Corruption("parse failed");
    }
    simdjson::ondemand::object object;
    if (document.get_object().get(object)) return Status::Corruption("not an object");
    for (auto field_result : object) {
      simdjson::ondemand::field field;
      if (std::move(field_result).get(field)) return Status::Corruption("bad field");
      std::string_view key;
      if (field.unescaped_key().get(key)) return Status::Corruption("bad key");
      if (std::find(fields.begin(), fields.end(), key) == fields.end()) continue;
      simdjson::ondemand::value value = field.value();
      simdjson::ondemand::json_type type = simdjson::ondemand::json_type::null;
      if (value.type().get(type)) return Status::Corruption("bad value");
      switch (type) {
        case simdjson::ondemand::json_type::string: {
          std::string_view text;
          if (value.get_string().get(text)) return Status::Corruption("bad string");
          touched += text.size();
          break;
        }
        case simdjson::ondemand::json_type::number: {
          int64_t integer = 0;
          if (value.get_int64().get(integer)) return Status::Corruption("bad integer");
          touched += static_cast<size_t>(integer & 1);
          break;
        }
        default:
          break;
      }
    }
  }
  return touched;
}

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "workloads_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string name;
  int64_t messages_count = 0;
  int runs = 5;
  int subscribers = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--list") {
      for (const auto& workload : Workloads()) std::printf("%s\n", workload.name.c_str());
      return 0;
    } else if (arg == "--sql") {
      std::string wanted = next();
      for (const auto& workload : Workloads()) {
        if (workload.name == wanted) {
          std::printf("%s\n", workload.sql.c_str());
          return 0;
        }
      }
      std::fprintf(stderr, "workloads_bench: unknown workload '%s' (see --list)\n", wanted.c_str());
      return 2;
    } else if (arg == "--workload") {
      name = next();
    } else if (arg == "--messages") {
      messages_count = std::atoll(next().c_str());
    } else if (arg == "--runs") {
      runs = std::atoi(next().c_str());
    } else if (arg == "--subscribers") {
      subscribers = std::atoi(next().c_str());
    } else {
      std::fprintf(stderr,
                   "usage: workloads_bench --list | --sql NAME | --workload NAME [--messages N] "
                   "[--runs R] [--subscribers S]\n");
      return 2;
    }
  }
  const auto workloads = Workloads();
  auto found = std::find_if(workloads.begin(), workloads.end(),
                            [&](const Workload& w) { return w.name == name; });
  if (found == workloads.end()) {
    std::fprintf(stderr, "workloads_bench: unknown workload '%s' (see --list)\n", name.c_str());
    return 2;
  }
  const Workload& workload = *found;
  if (messages_count <= 0) messages_count = workload.default_messages;
  if (subscribers <= 0) subscribers = workload.subscribers;
  runs = std::max(runs, 1);

  auto query = Compile(workload.sql);
  if (!query.ok()) return Fail("compile " + workload.name, query.status());

  std::fprintf(stderr, "%s: generating %lld messages (%d subscribers)\n", workload.name.c_str(),
               static_cast<long long>(messages_count), subscribers);
  const Messages messages = Generate(messages_count, subscribers);

  std::vector<Measurement> engine_runs, ceiling_runs;
  RunOutput output;
  size_t checksum = 0;
  for (int run = 0; run < runs; ++run) {
    // Build the pipeline outside the clock: Measure times the Process loop only.
    sidestream::offline::PipelineCallbacks callbacks;
    callbacks.on_result = [&output](const std::string* key, const std::string* value, int64_t,
                                    const std::optional<sidestream::runtime::WindowBounds>&, bool) {
      ++output.results;
      output.result_bytes += (key ? key->size() : 0) + (value ? value->size() : 0);
      return Status::OK();
    };
    callbacks.on_side_output = [&output](const std::string&, const std::string*, const std::string&,
                                         int64_t) {
      ++output.side_outputs;
      return Status::OK();
    };
    output = RunOutput();
    auto pipeline = sidestream::offline::QueryPipeline::Create(query->query_id, *query->plan,
                                                               query->properties, callbacks);
    if (!pipeline.ok()) return Fail("create pipeline", pipeline.status());
    Status status = Status::OK();
    const size_t count = messages.values.size();
    // Batches of the size a Kafka poll hands a task; the views are built outside the clock.
    std::vector<sidestream::offline::InputMessage> inputs(count);
    for (size_t i = 0; i < count; ++i) {
      inputs[i].key = messages.keys[i];
      inputs[i].value = messages.values[i];
      inputs[i].timestamp = messages.timestamps[i];
      inputs[i].offset = static_cast<int64_t>(i);
    }
    engine_runs.push_back(Measure(messages_count, [&] {
      for (size_t i = 0; i < count && status.ok(); i += kBatchSize) {
        status = (*pipeline)->ProcessBatch(
            std::span(inputs).subspan(i, std::min(kBatchSize, count - i)));
      }
    }));
    if (!status.ok()) return Fail("process", status);
    output.counters = (*pipeline)->counters();
    pipeline->reset();

    Status ceiling_status = Status::OK();
    ceiling_runs.push_back(Measure(messages_count, [&] {
      auto touched = DecodeCeiling(messages, workload.fields);
      if (touched.ok()) {
        checksum += *touched;
      } else {
        ceiling_status = touched.status();
      }
    }));
    if (!ceiling_status.ok()) return Fail("ceiling", ceiling_status);
    std::fprintf(stderr, "%s run %d: %.0f records/s (%.0f per core), ceiling %.0f records/s\n",
                 workload.name.c_str(), run, engine_runs.back().rate,
                 engine_runs.back().rate_per_core, ceiling_runs.back().rate);
  }

  json engine = Summarize(engine_runs);
  json ceiling = Summarize(ceiling_runs);
  const double ratio = engine["records_per_s_per_core"]["median"].get<double>() /
                       ceiling["records_per_s_per_core"]["median"].get<double>();
  json report = {
      {"workload", workload.name},
      {"description", workload.description},
      {"sql", workload.sql},
      {"messages", messages_count},
      {"runs", runs},
      {"subscribers", subscribers},
      {"distinct_callers", messages.distinct_callers},
      {"input_mb", static_cast<double>(messages.bytes) / 1e6},
      {"average_message_bytes", static_cast<double>(messages.bytes) / messages_count},
      {"engine", engine},
      {"ceiling", ceiling},
      {"ceiling_fields", workload.fields},
      {"ratio_to_ceiling", ratio},
      {"results_per_run", output.results},
      {"side_outputs_per_run", output.side_outputs},
      {"late_records", output.counters.late_records},
      {"decode_errors", output.counters.decode_errors},
      {"evaluation_errors", output.counters.evaluation_errors},
      {"peers", workload.peers},
      {"peer_per_core", workload.peer_per_core},
      {"target", workload.target},
      {"target_per_core", workload.target_per_core},
      {"target_ratio", workload.target_ratio},
      {"checksum", checksum},
  };
  std::printf("%s\n", report.dump().c_str());
  return 0;
}
