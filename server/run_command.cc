#include "server/run_command.h"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "host/kafka_engine.h"
#include "server/config/settings.h"
#include "server/stop_signals.h"
#include "session/error_rendering.h"

namespace sidestream::server {

namespace {

// The progress line `run` prints every 5 s and at its stop.
std::string ProgressLine(const host::EngineProgress& progress) {
  std::string line = "consumed " + std::to_string(progress.consumed) + ", produced " +
                     std::to_string(progress.produced) + ", late " +
                     std::to_string(progress.late_records) + ", undecodable " +
                     std::to_string(progress.decode_errors) + ", oversized " +
                     std::to_string(progress.oversized_results) + ", sink writes " +
                     std::to_string(progress.sink_writes) + ", sink dead letters " +
                     std::to_string(progress.sink_dead_letters) + ", state changes " +
                     std::to_string(progress.changelog_records) + ", restored " +
                     std::to_string(progress.restored_records);
  if (progress.standby_copies > 0 || progress.standby_records > 0) {
    line += ", standby copies " + std::to_string(progress.standby_copies) + " (records replayed " +
            std::to_string(progress.standby_records) + ")";
  }
  return line;
}

}  // namespace

int RunRun(const RunOptions& options) {
  std::ifstream file(options.sql_path);
  if (!file) {
    std::cerr << options.sql_path << ": error: cannot read the file\n";
    return 1;
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  std::string sql = buffer.str();

  // The guarantee and commit interval, checked and defaulted as `serve`'s settings are.
  config::Settings settings;
  Status set =
      settings.Set("processing.guarantee", options.processing_guarantee, "--processing-guarantee");
  if (set.ok() && options.commit_interval_ms >= 0) {
    set = settings.Set("commit.interval.ms", std::to_string(options.commit_interval_ms),
                       "--commit-interval-ms");
  }
  if (!set.ok()) {
    std::cerr << "error: " << set.message() << "\n";
    return 2;
  }
  for (const std::string& warning : settings.TakeWarnings()) {
    std::cerr << "warning: " << warning << "\n";
  }

  host::KafkaEngineOptions engine_options;
  engine_options.commit_interval_ms = config::CommitIntervalMs(settings);
  engine_options.guarantee = config::ExactlyOnce(settings)
                                 ? runtime::ProcessingGuarantee::kExactlyOnceV2
                                 : runtime::ProcessingGuarantee::kAtLeastOnce;
  engine_options.bootstrap_servers = options.bootstrap_servers;
  if (engine_options.bootstrap_servers.empty()) {
    if (const char* env = std::getenv("SIDESTREAM_BOOTSTRAP_SERVERS")) {
      engine_options.bootstrap_servers = env;
    }
  }
  engine_options.client_properties = options.client_properties;
  engine_options.stream_threads =
      options.stream_threads == 0 ? host::kDefaultStreamThreads : options.stream_threads;
  // The state.* defaults come from the settings table, as for `serve`.
  auto state_store = host::ParseStateStore(
      options.state_store.empty() ? settings.GetString("state.store") : options.state_store);
  if (!state_store.ok()) {
    std::cerr << "error: --state-store: " << state_store.status().message() << "\n";
    return 2;
  }
  engine_options.state_store = *state_store;
  engine_options.state_dir =
      options.state_dir.empty() ? settings.GetString("state.dir") : options.state_dir;
  engine_options.state_memory_bytes = options.state_memory_bytes > 0
                                          ? options.state_memory_bytes
                                          : settings.GetInt("state.rocksdb.memory.bytes");
  engine_options.state_cache_bytes = options.state_cache_bytes > 0
                                         ? options.state_cache_bytes
                                         : settings.GetInt("state.cache.max.bytes");
  engine_options.num_standby_replicas =
      options.num_standby_replicas >= 0 ? options.num_standby_replicas
                                        : static_cast<int>(settings.GetInt("num.standby.replicas"));
  engine_options.instance_id = options.instance_id;
  auto engine = host::KafkaEngine::Start(engine_options);
  if (!engine.ok()) {
    std::cerr << "error: cannot start: " << engine.status().ToString() << "\n";
    return 1;
  }
  if ((*engine)->embedded() &&
      engine_options.guarantee == runtime::ProcessingGuarantee::kExactlyOnceV2) {
    std::cerr << "warning: exactly_once_v2 on the embedded broker: its transactions run, but "
                 "its read_committed does not hide aborted records, so exactly-once does not "
                 "hold there (use a real broker)\n";
  }
  if ((*engine)->embedded()) {
    std::cout << "bootstrap.servers=" << (*engine)->bootstrap_servers() << std::endl;
    std::cerr << "Embedded Kafka broker (librdkafka mock cluster) at "
              << (*engine)->bootstrap_servers()
              << ": in memory, at most 5 MiB per partition; kcat and other processes can "
                 "connect to it.\n";
  }
  (*engine)->set_on_output([](const std::string& text) { std::cout << text << std::flush; });
  Status executed = (*engine)->Execute(sql);
  for (const std::string& warning : (*engine)->TakeWarnings()) {
    std::cerr << "warning: " << warning << "\n";
  }
  if (!executed.ok()) {
    std::cerr << session::RenderError(executed, sql, options.sql_path);
    return 1;
  }
  // A query that fails is reported and stops alone (or retries); the others keep running.
  (*engine)->set_on_query_failure(
      [](const std::string& query_id, const host::QueryError& error, host::QueryState state) {
        std::cerr << "query " << query_id << " failed: " << error.ToString() << "\n  "
                  << (state == host::QueryState::kError
                          ? "it is stopped (ERROR); the other queries keep running"
                          : "retriable: it restarts from its last commit after a backoff")
                  << std::endl;
      });
  const volatile std::sig_atomic_t& stop = InstallStopSignals();
  // Scripts and the startup benchmark wait for this line: every query is subscribed, so
  // records produced from now on are processed.
  size_t paused = 0;
  for (const host::QueryStatus& query : (*engine)->Queries()) {
    if (query.state == host::QueryState::kPaused) ++paused;
  }
  std::cerr << "ready: " << (*engine)->catalog().ListQueries().size()
            << " persistent queries running"
            << (paused > 0 ? " (" + std::to_string(paused) + " PAUSED)" : std::string()) << " on "
            << (*engine)->stream_threads() << " stream thread(s)" << std::endl;
  auto start = std::chrono::steady_clock::now();
  auto last_report = start;
  while (!stop) {
    auto processed = (*engine)->RunOnce(200);
    if (!processed.ok()) {
      std::cerr << "error: " << processed.status().ToString() << "\n";
      return 1;
    }
    auto now = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(now - start).count();
    if (now - last_report >= std::chrono::seconds(5)) {
      std::cerr << ProgressLine((*engine)->progress()) << "\n";
      last_report = now;
    }
    if (options.duration_seconds > 0 && elapsed >= options.duration_seconds) break;
  }
  ExitIfStillRunningAfter(std::chrono::milliseconds(options.shutdown_timeout_ms));
  Status committed = (*engine)->CommitAll();
  if (!committed.ok()) {
    std::cerr << "error: " << committed.ToString() << "\n";
    return 1;
  }
  std::cerr << "stopped: " << ProgressLine((*engine)->progress()) << "\n";
  for (const host::QueryStatus& query : (*engine)->Queries()) {
    if (query.state == host::QueryState::kRunning && query.errors.empty()) continue;
    std::cerr << "query " << query.id << ": " << host::QueryStateName(query.state) << ", "
              << query.errors.size() << " errors, " << query.restarts << " restarts";
    if (!query.errors.empty()) std::cerr << "; last: " << query.errors.back().ToString();
    std::cerr << "\n";
  }
  return 0;
}

}  // namespace sidestream::server
