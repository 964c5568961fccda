// The `sidestream` command line. Each subcommand lives in its own file; this one only
// wires them to CLI11.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>

#include "analyzer/connector_properties.h"
#include "analyzer/source_properties.h"
#include "common/logging.h"
#include "server/cli_command.h"
#include "server/demo_command.h"
#include "server/explain_command.h"
#include "server/qtt_command.h"
#include "server/rqtt_command.h"
#include "server/run_command.h"
#include "server/serve_command.h"
#include "server/test_command.h"

int main(int argc, char** argv) {
  // Text logs on stderr until a command configures them (serve: log.level, log.format).
  (void)sidestream::ConfigureLogging("info", "text");
  CLI::App app{"Sidestream: continuous SQL over Kafka topics"};
  app.set_version_flag("--version", SIDESTREAM_VERSION);
  app.require_subcommand(1);

  std::vector<std::string> explain_files;
  auto* explain = app.add_subcommand(
      "explain", "Print the plan of every statement in SQL files (run in order, one catalog)");
  explain->add_option("FILE", explain_files, "SQL files")->required()->check(CLI::ExistingFile);

  sidestream::server::DemoOptions demo_options;
  demo_options.queries_dir = SIDESTREAM_QUERIES_DIR;
  auto* demo = app.add_subcommand(
      "demo", "Embedded broker, CDR generator and the example queries, with live results");
  demo->add_option("--queries", demo_options.queries_dir, "Folder of example .sql files");
  demo->add_option("--rate", demo_options.rate, "Generated CDRs per second")->capture_default_str();
  demo->add_option("--duration", demo_options.duration_seconds, "Seconds to run (0: until Ctrl-C)");
  demo->add_option("--seed", demo_options.seed, "Generator seed")->capture_default_str();
  demo->add_option("--port", demo_options.port,
                   "Port of the web console and REST API (taken: a free one)")
      ->capture_default_str();

  sidestream::server::RunOptions run_options;
  std::vector<std::string> run_properties;
  auto* run = app.add_subcommand(
      "run", "Run a SQL file against Kafka (or the embedded broker) until Ctrl-C");
  run->add_option("FILE", run_options.sql_path, "SQL file")->required()->check(CLI::ExistingFile);
  run->add_option("--bootstrap-servers", run_options.bootstrap_servers,
                  "Kafka bootstrap servers (default: $SIDESTREAM_BOOTSTRAP_SERVERS, else the "
                  "embedded broker)");
  run->add_option("--property", run_properties, "librdkafka property name=value (repeatable)");
  run->add_option("--duration", run_options.duration_seconds, "Seconds to run (0: until Ctrl-C)");
  run->add_option("--processing-guarantee", run_options.processing_guarantee,
                  "at_least_once or exactly_once_v2 (setting processing.guarantee)")
      ->capture_default_str();
  run->add_option("--commit-interval-ms", run_options.commit_interval_ms,
                  "How often queries commit (setting commit.interval.ms; default 2000, or 100 "
                  "under exactly_once_v2)");
  run->add_option("--stream-threads", run_options.stream_threads,
                  "Threads that run the queries' tasks (num.stream.threads); 0: one per core, or "
                  "one on a mock (embedded) broker")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  run->add_option("--shutdown-timeout-ms", run_options.shutdown_timeout_ms,
                  "At Ctrl-C or SIGTERM, exit anyway (code 1) if committing and leaving the "
                  "groups takes longer; a second signal exits at once")
      ->capture_default_str()
      ->check(CLI::Range(1000, 3600000));
  run->add_option("--state-store", run_options.state_store,
                  "Where queries keep their state: memory or rocksdb (setting state.store)")
      ->check(CLI::IsMember({"memory", "rocksdb"}, CLI::ignore_case));
  run->add_option("--state-dir", run_options.state_dir,
                  "Directory of the RocksDB state stores (setting state.dir)");
  run->add_option("--state-memory-bytes", run_options.state_memory_bytes,
                  "RocksDB's memory in this process (setting state.rocksdb.memory.bytes)")
      ->check(CLI::Range(int64_t{8} << 20, int64_t{1} << 40));
  run->add_option("--state-cache-bytes", run_options.state_cache_bytes,
                  "The RocksDB stores' write caches (setting state.cache.max.bytes)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));

  run->add_option("--num-standby-replicas", run_options.num_standby_replicas,
                  "Keep warm copies of the tasks this process does not run, so a task that moves "
                  "here replays only its changelogs' tail (setting num.standby.replicas; needs "
                  "--state-store rocksdb)")
      ->check(CLI::Range(0, 16));
  run->add_option("--instance-id", run_options.instance_id,
                  "This process's part of its transactional ids under exactly_once_v2 (default: "
                  "the host's name and an id kept in the state directory)");

  std::string test_sql, test_input, test_output, test_actual;
  auto* test = app.add_subcommand(
      "test", "Run statements offline over input records and compare the output (no broker)");
  test->add_option("--sql", test_sql, "SQL statements")->required()->check(CLI::ExistingFile);
  test->add_option("--input", test_input, "Input records: {\"inputs\": [...]}")
      ->required()
      ->check(CLI::ExistingFile);
  test->add_option("--output", test_output, "Expected records: {\"outputs\": [...]}")
      ->required()
      ->check(CLI::ExistingFile);
  test->add_option("--actual", test_actual, "Write the records produced to this file");

  sidestream::server::QttOptions qtt_options;
  std::string qtt_json, qtt_must_pass;
  auto* qtt = app.add_subcommand("qtt", "Run ksqlDB's query-validation test files offline");
  qtt->add_option("PATH", qtt_options.paths, "QTT .json files or folders")->required();
  qtt->add_option("--json", qtt_json, "Write per-case results to this file");
  qtt->add_option("--must-pass", qtt_must_pass, "File of case ids that must pass");
  qtt->add_flag("--verbose", qtt_options.verbose, "List passed cases too");
  qtt->add_option("--schema-registry", qtt_options.schema_registry,
                  "Run the cases that need a schema registry against this one (Confluent's "
                  "API; default: $SIDESTREAM_SCHEMA_REGISTRY_URL)");
  qtt->add_option("--partitions", qtt_options.partitions,
                  "Partitions per topic; above 1, outputs compare per key")
      ->check(CLI::Range(1, 64));

  sidestream::server::RqttOptions rqtt_options;
  std::string rqtt_must_pass;
  auto* rqtt = app.add_subcommand(
      "rqtt", "Run ksqlDB's REST query-validation files against `sidestream serve`");
  rqtt->add_option("PATH", rqtt_options.paths, "REST QTT .json files or folders")->required();
  rqtt->add_option("--must-pass", rqtt_must_pass, "File of case ids that must pass");
  rqtt->add_flag("--verbose", rqtt_options.verbose, "List passed cases too");
  rqtt->add_option("--filter", rqtt_options.name_filter,
                   "Run only the cases whose id (FILE: NAME [FORMAT]) contains this text");

  sidestream::server::ServeOptions serve_options;
  std::string serve_host, serve_bootstrap;
  int serve_port = -1;
  std::vector<std::string> serve_sets;
  auto* serve = app.add_subcommand(
      "serve", "ksqlDB's REST API over HTTP/1.1 and HTTP/2 on one port (settings: docs/CONFIG.md)");
  serve->add_option("--config", serve_options.config_file, "YAML settings file")
      ->check(CLI::ExistingFile);
  serve->add_option("--host", serve_host, "Address to listen on (setting host)");
  serve->add_option("--port", serve_port, "Port to listen on, 0 for a free one (setting port)");
  serve->add_option("--bootstrap-servers", serve_bootstrap,
                    "Kafka bootstrap servers; none starts the embedded broker");
  serve->add_option("--set", serve_sets, "Any setting, name=value (repeatable)");
  sidestream::server::CliOptions cli_options;
  auto* cli = app.add_subcommand(
      "cli", "Interactive shell over ksqlDB's REST API (a `sidestream serve` or a ksqlDB server)");
  cli->add_option("URL", cli_options.url, "Server address")->capture_default_str();
  cli->add_option("--history-file", cli_options.history_file,
                  "Where line history is kept (default: ~/.sidestream_history)");
  auto* settings = app.add_subcommand("settings", "Print the settings of `serve` (docs/CONFIG.md)");

  auto* properties = app.add_subcommand(
      "properties", "Print the WITH properties of CREATE STREAM|TABLE and CREATE SINK CONNECTOR");

  CLI11_PARSE(app, argc, argv);

  if (cli->parsed()) return sidestream::server::RunCli(cli_options);
  if (explain->parsed()) return sidestream::server::RunExplain(explain_files, std::cout, std::cerr);
  if (demo->parsed()) return sidestream::server::RunDemo(demo_options);
  if (qtt->parsed()) {
    if (!qtt_json.empty()) qtt_options.json_out = qtt_json;
    if (!qtt_must_pass.empty()) qtt_options.must_pass = qtt_must_pass;
    return sidestream::server::RunQtt(qtt_options);
  }
  if (run->parsed()) {
    for (const std::string& property : run_properties) {
      size_t equals = property.find('=');
      if (equals == std::string::npos) {
        std::cerr << "error: --property expects name=value but got '" << property << "'\n";
        return 2;
      }
      run_options.client_properties.emplace_back(property.substr(0, equals),
                                                 property.substr(equals + 1));
    }
    return sidestream::server::RunRun(run_options);
  }
  if (test->parsed()) {
    std::optional<std::string> actual;
    if (!test_actual.empty()) actual = test_actual;
    return sidestream::server::RunTest(test_sql, test_input, test_output, actual, std::cout,
                                       std::cerr);
  }
  if (rqtt->parsed()) {
    if (!rqtt_must_pass.empty()) rqtt_options.must_pass = rqtt_must_pass;
    rqtt_options.self = std::filesystem::canonical("/proc/self/exe").string();
    return sidestream::server::RunRqtt(rqtt_options);
  }
  if (serve->parsed()) {
    auto flag = [&](const std::string& name, const std::string& value, const std::string& origin) {
      serve_options.flags.emplace_back(name, value);
      serve_options.flag_origins.push_back(origin);
    };
    for (const std::string& set : serve_sets) {
      size_t equals = set.find('=');
      if (equals == std::string::npos) {
        std::cerr << "error: --set expects name=value but got '" << set << "'\n";
        return 2;
      }
      flag(set.substr(0, equals), set.substr(equals + 1), "--set " + set.substr(0, equals));
    }
    if (!serve_host.empty()) flag("host", serve_host, "--host");
    if (serve_port != -1) flag("port", std::to_string(serve_port), "--port");
    if (!serve_bootstrap.empty()) flag("bootstrap.servers", serve_bootstrap, "--bootstrap-servers");
    return sidestream::server::RunServe(serve_options);
  }
  if (settings->parsed()) return sidestream::server::RunSettings();
  if (properties->parsed()) {
    std::cout << sidestream::analyzer::SourcePropertiesMarkdown()
              << "\nCREATE SINK CONNECTOR properties:\n\n"
              << sidestream::analyzer::ConnectorPropertiesMarkdown();
    return 0;
  }
  return 0;
}
