#include "server/serve_command.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>
#include <thread>

#include "common/logging.h"
#include "connectors/registry/schema_registry.h"
#include "server/config/settings.h"
#include "server/rest/command_log.h"
#include "server/rest/engine_worker.h"
#include "server/rest/http_server.h"
#include "server/rest/rest_api.h"
#include "server/stop_signals.h"
#include "session/error_rendering.h"

extern char** environ;

namespace sidestream::server {

int RunSettings() {
  std::cout << config::SettingsMarkdown();
  return 0;
}

namespace {

// Runs the statements of `path`; prints the first error with its line:column. False on an
// error.
bool RunQueriesFile(rest::EngineWorker& worker, const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    spdlog::error("{}: cannot read the queries file (queries.file)", path);
    return false;
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  const std::string sql = buffer.str();
  if (Status executed = ExecuteOnEngine(worker, sql); !executed.ok()) {
    spdlog::error("{}", session::RenderError(executed, sql, path));
    return false;
  }
  spdlog::info("{}: applied", path);
  return true;
}

// The items of a comma-separated setting, without surrounding blanks; none for "".
std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) items.push_back(std::move(item));
    start = end + 1;
  }
  return items;
}

rest::RestOptions RestOptionsFrom(const config::Settings& settings,
                                  const host::KafkaEngineOptions& engine_options) {
  rest::RestOptions rest_options;
  rest_options.max_body_bytes = settings.GetInt("max.body.bytes");
  rest_options.max_push_queries = settings.GetInt("max.push.queries");
  rest_options.push_v2_enabled = settings.GetBool("push.v2.enabled");
  rest_options.push_max_queued_bytes = settings.GetInt("push.query.max.queued.bytes");
  rest_options.max_persistent_queries = settings.GetInt("max.persistent.queries");
  rest_options.service_id = settings.GetString("service.id");
  rest_options.basic_users = SplitList(settings.GetString("auth.basic.users"));
  rest_options.bearer_tokens = SplitList(settings.GetString("auth.bearer.tokens"));
  for (const config::SettingSpec& spec : config::SettingTable()) {
    std::string value = std::string_view(spec.name) == "commit.interval.ms"
                            ? std::to_string(engine_options.commit_interval_ms)
                        : spec.type == config::SettingType::kInt
                            ? std::to_string(settings.GetInt(spec.name))
                            : settings.GetString(spec.name);
    // Credentials never leave the server.
    if (std::string_view(spec.name).starts_with("auth.") && !value.empty()) value = "[hidden]";
    rest_options.properties.emplace_back(spec.name, std::move(value));
  }
  for (const auto& [name, value] : settings.kafka_properties()) {
    rest_options.properties.emplace_back(std::string(config::kKafkaPrefix) + name, value);
  }
  return rest_options;
}

// On the engine thread: restarts the catalog file's queries, then opens the command topic
// and replays it past the catalog; afterwards a ticker runs what other instances append.
Result<std::unique_ptr<rest::CommandLog>> StartCommandLog(rest::EngineWorker& worker,
                                                          rest::CommandLogOptions options) {
  std::promise<Result<std::unique_ptr<rest::CommandLog>>> done;
  worker.Post([&](host::KafkaEngine& engine) {
    auto opened = [&]() -> Result<std::unique_ptr<rest::CommandLog>> {
      RETURN_NOT_OK(rest::DropLeftoverPushQueries(engine.catalog()));
      const int64_t applied = engine.catalog().applied_command_offset();
      RETURN_NOT_OK(engine.RestoreQueries());
      ASSIGN_OR_RAISE(auto log, rest::CommandLog::Open(std::move(options), engine));
      RETURN_NOT_OK(log->CatchUp(engine));
      spdlog::info(
          "command topic: the catalog file had applied up to offset {}; replayed {} "
          "command(s), {} failed",
          applied, log->applied(), log->failed());
      return log;
    }();
    for (const std::string& warning : engine.TakeWarnings()) spdlog::warn("{}", warning);
    done.set_value(std::move(opened));
  });
  ASSIGN_OR_RAISE(auto log, done.get_future().get());
  worker.AddTicker([raw = log.get(), last_error = std::string()](host::KafkaEngine& engine,
                                                                 bool stopping) mutable {
    if (stopping) return false;
    Status polled = raw->Poll(engine, std::chrono::milliseconds(0));
    // Once per distinct error: the ticker runs every few milliseconds.
    if (!polled.ok() && polled.ToString() != last_error) {
      last_error = polled.ToString();
      spdlog::error("command topic: {}", last_error);
    }
    return true;
  });
  return log;
}

}  // namespace

Status ExecuteOnEngine(rest::EngineWorker& worker, const std::string& sql) {
  std::promise<std::pair<Status, std::vector<std::string>>> done;
  worker.Post([&](host::KafkaEngine& engine) {
    Status executed = engine.Execute(sql);
    done.set_value({std::move(executed), engine.TakeWarnings()});
  });
  auto [executed, warnings] = done.get_future().get();
  for (const std::string& warning : warnings) spdlog::warn("{}", warning);
  return executed;
}

Result<std::unique_ptr<RunningServer>> RunningServer::Start(const config::Settings& settings,
                                                            bool any_port_if_taken) {
  host::KafkaEngineOptions engine_options;
  engine_options.bootstrap_servers = settings.GetString("bootstrap.servers");
  engine_options.application_id = settings.GetString("service.id");
  engine_options.commit_interval_ms = config::CommitIntervalMs(settings);
  engine_options.guarantee = config::ExactlyOnce(settings)
                                 ? runtime::ProcessingGuarantee::kExactlyOnceV2
                                 : runtime::ProcessingGuarantee::kAtLeastOnce;
  engine_options.default_partitions = static_cast<int>(settings.GetInt("default.partitions"));
  const auto threads = static_cast<int>(settings.GetInt("num.stream.threads"));
  engine_options.stream_threads = threads == 0 ? host::kDefaultStreamThreads : threads;
  engine_options.client_properties = settings.kafka_properties();
  auto state_store = host::ParseStateStore(settings.GetString("state.store"));
  if (!state_store.ok()) {
    return Status::InvalidArgument("setting 'state.store': " +
                                   std::string(state_store.status().message()));
  }
  engine_options.state_store = *state_store;
  engine_options.state_dir = settings.GetString("state.dir");
  engine_options.state_memory_bytes = settings.GetInt("state.rocksdb.memory.bytes");
  engine_options.state_cache_bytes = settings.GetInt("state.cache.max.bytes");
  engine_options.num_standby_replicas = static_cast<int>(settings.GetInt("num.standby.replicas"));
  const bool command_topic = settings.GetBool("command.topic.enabled");
  if (command_topic) {
    engine_options.catalog_path = (std::filesystem::path(engine_options.state_dir) /
                                   engine_options.application_id / "catalog.db")
                                      .string();
  }

  registry::SetDefaultSchemaRegistryUrl(settings.GetString("schema.registry.url"));
  std::unique_ptr<RunningServer> server(new RunningServer());
  auto worker = rest::EngineWorker::Start(engine_options, settings.GetInt("idle.timeout.ms"));
  if (!worker.ok()) {
    return Status::Internal("cannot start the engine: " + worker.status().ToString());
  }
  server->worker_ = std::move(*worker);
  if (server->worker_->embedded() &&
      engine_options.guarantee == runtime::ProcessingGuarantee::kExactlyOnceV2) {
    spdlog::warn(
        "exactly_once_v2 on the embedded broker: its transactions run, but its read_committed "
        "does not hide aborted records, so exactly-once does not hold there (use a real broker)");
  }
  if (command_topic) {
    rest::CommandLogOptions log_options;
    log_options.client =
        kafka::ClientConfig{server->worker_->bootstrap_servers(), engine_options.client_properties};
    log_options.topic = rest::CommandTopicName(engine_options.application_id);
    auto log = StartCommandLog(*server->worker_, std::move(log_options));
    if (!log.ok()) return Status(log.status().code(), "command topic: " + log.status().message());
    server->command_log_ = std::move(*log);
  }
  if (const std::string queries_file = settings.GetString("queries.file"); !queries_file.empty()) {
    if (!RunQueriesFile(*server->worker_, queries_file)) {
      return Status::InvalidArgument(queries_file + ": the queries file failed");
    }
  }

  rest::RestOptions rest_options = RestOptionsFrom(settings, engine_options);
  const std::string host = settings.GetString("host");
  // The API is built before the server so that the handler can reference it; the address
  // for /clusterStatus is known once the port is.
  server->api_ = std::make_unique<rest::RestApi>(*server->worker_, rest_options);
  server->api_->set_command_log(server->command_log_.get());
  auto handler = [raw = server->api_.get()](rest::HttpRequest request,
                                            std::shared_ptr<rest::Responder> responder) {
    raw->Handle(std::move(request), std::move(responder));
  };
  const int port = static_cast<int>(settings.GetInt("port"));
  auto http = rest::HttpServer::Start(host, port, rest_options.max_body_bytes, handler);
  if (!http.ok() && any_port_if_taken && port != 0) {
    spdlog::info("port {} is taken ({}); listening on a free port instead", port,
                 http.status().message());
    http = rest::HttpServer::Start(host, 0, rest_options.max_body_bytes, handler);
  }
  if (!http.ok()) return http.status();
  server->http_ = std::move(*http);
  server->address_ = host + ":" + std::to_string(server->http_->port());
  server->api_->set_advertised_address(server->address_);
  return server;
}

RunningServer::~RunningServer() { Stop(); }

void RunningServer::Stop() {
  // The engine thread answers what it holds and ends its push queries, then the HTTP thread
  // stops: responders never outlive the server.
  if (worker_) worker_->Stop();
  if (http_) http_->Stop();
}

int RunServe(const ServeOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  config::Settings settings;
  Status loaded = Status::OK();
  if (!options.config_file.empty()) loaded = settings.LoadFile(options.config_file);
  if (loaded.ok()) {
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) environment.emplace_back(*entry);
    loaded = settings.LoadEnvironment(environment);
  }
  for (size_t i = 0; loaded.ok() && i < options.flags.size(); ++i) {
    loaded = settings.Set(options.flags[i].first, options.flags[i].second, options.flag_origins[i]);
  }
  if (!loaded.ok()) {
    std::cerr << "error: " << loaded.message() << "\n";
    return 2;
  }
  if (Status logging =
          ConfigureLogging(settings.GetString("log.level"), settings.GetString("log.format"));
      !logging.ok()) {
    std::cerr << "error: " << logging.message() << "\n";
    return 2;
  }
  for (const std::string& warning : settings.TakeWarnings()) {
    spdlog::warn("{}", warning);
  }
  std::signal(SIGPIPE, SIG_IGN);

  auto server = RunningServer::Start(settings);
  if (!server.ok()) {
    const bool rejected = server.status().code() == StatusCode::kInvalidArgument;
    spdlog::error("{}", server.status().message());
    return rejected ? 2 : 1;
  }
  if ((*server)->worker().embedded()) {
    std::cout << "bootstrap.servers=" << (*server)->worker().bootstrap_servers() << std::endl;
  }
  const double startup_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  std::cout << "listening on http://" << (*server)->address() << " (HTTP/1.1 and h2c; "
            << "ready in " << static_cast<int>(startup_ms) << " ms)" << std::endl;

  const volatile std::sig_atomic_t& stop = InstallStopSignals();
  while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto deadline = std::chrono::milliseconds(settings.GetInt("shutdown.timeout.ms"));
  spdlog::info(
      "stopping: committing, closing stores and leaving the consumer groups (at most {} ms; a "
      "second signal exits at once)",
      deadline.count());
  const auto stopping = std::chrono::steady_clock::now();
  ExitIfStillRunningAfter(deadline);
  (*server)->Stop();
  spdlog::info("stopped in {} ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now() - stopping)
                                       .count());
  return 0;
}

}  // namespace sidestream::server
