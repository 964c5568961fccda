#include "server/serve_command.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <iostream>
#include <thread>

#include "server/config/settings.h"
#include "server/rest/engine_worker.h"
#include "server/rest/http_server.h"
#include "server/rest/rest_api.h"
#include "server/run_command.h"

extern char** environ;

namespace sidestream::server {

int RunSettings() {
  std::cout << config::SettingsMarkdown();
  return 0;
}

namespace {

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

}  // namespace

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
  std::signal(SIGPIPE, SIG_IGN);

  host::KafkaEngineOptions engine_options;
  engine_options.bootstrap_servers = settings.GetString("bootstrap.servers");
  engine_options.application_id = settings.GetString("service.id");
  engine_options.commit_interval_ms = settings.GetInt("commit.interval.ms");
  engine_options.default_partitions = static_cast<int>(settings.GetInt("default.partitions"));
  const auto threads = static_cast<int>(settings.GetInt("num.stream.threads"));
  engine_options.stream_threads =
      threads == 0 ? host::DefaultStreamThreads(engine_options.bootstrap_servers.empty()) : threads;
  engine_options.client_properties = settings.kafka_properties();
  auto worker = rest::EngineWorker::Start(engine_options, settings.GetInt("idle.timeout.ms"));
  if (!worker.ok()) {
    std::cerr << "error: cannot start the engine: " << worker.status().ToString() << "\n";
    return 1;
  }
  if ((*worker)->embedded()) {
    std::cout << "bootstrap.servers=" << (*worker)->bootstrap_servers() << std::endl;
  }

  rest::RestOptions rest_options;
  rest_options.max_body_bytes = settings.GetInt("max.body.bytes");
  rest_options.max_push_queries = settings.GetInt("max.push.queries");
  rest_options.max_persistent_queries = settings.GetInt("max.persistent.queries");
  rest_options.service_id = settings.GetString("service.id");
  rest_options.basic_users = SplitList(settings.GetString("auth.basic.users"));
  rest_options.bearer_tokens = SplitList(settings.GetString("auth.bearer.tokens"));
  for (const config::SettingSpec& spec : config::SettingTable()) {
    std::string value = spec.type == config::SettingType::kInt
                            ? std::to_string(settings.GetInt(spec.name))
                            : settings.GetString(spec.name);
    // Credentials never leave the server.
    if (std::string_view(spec.name).starts_with("auth.") && !value.empty()) value = "[hidden]";
    rest_options.properties.emplace_back(spec.name, std::move(value));
  }
  for (const auto& [name, value] : settings.kafka_properties()) {
    rest_options.properties.emplace_back(std::string(config::kKafkaPrefix) + name, value);
  }
  const std::string host = settings.GetString("host");
  // The API is built before the server so that the handler can reference it; the address
  // for /clusterStatus is known once the port is.
  auto api = std::make_unique<rest::RestApi>(**worker, rest_options);
  auto server = rest::HttpServer::Start(
      host, static_cast<int>(settings.GetInt("port")), rest_options.max_body_bytes,
      [raw = api.get()](rest::HttpRequest request, std::shared_ptr<rest::Responder> responder) {
        raw->Handle(std::move(request), std::move(responder));
      });
  if (!server.ok()) {
    std::cerr << "error: " << server.status().message() << "\n";
    (*worker)->Stop();
    return 1;
  }
  rest_options.advertised_address = host + ":" + std::to_string((*server)->port());
  api->set_advertised_address(rest_options.advertised_address);
  const double startup_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  std::cout << "listening on http://" << rest_options.advertised_address << " (HTTP/1.1 and h2c; "
            << "ready in " << static_cast<int>(startup_ms) << " ms)" << std::endl;

  const volatile std::sig_atomic_t& stop = InstallStopSignals();
  while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::cerr << "stopping" << std::endl;
  // The engine thread answers what it holds and ends its push queries, then the HTTP thread
  // stops: responders never outlive the server.
  (*worker)->Stop();
  (*server)->Stop();
  return 0;
}

}  // namespace sidestream::server
