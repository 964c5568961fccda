#include "server/demo_command.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "connectors/datagen/cdr_generator.h"
#include "connectors/kafka/batch_consumer.h"
#include "connectors/kafka/batch_producer.h"
#include "host/kafka_engine.h"
#include "server/demo_view.h"
#include "server/serve_command.h"
#include "server/stop_signals.h"
#include "session/error_rendering.h"

namespace sidestream::server {

namespace {

std::vector<std::string> SqlFiles(const std::filesystem::path& folder) {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    if (entry.path().extension() == ".sql") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int RunDemo(const DemoOptions& options) {
  std::vector<std::string> files = SqlFiles(std::filesystem::path(options.queries_dir) / "sources");
  std::vector<std::string> queries = SqlFiles(options.queries_dir);
  files.insert(files.end(), queries.begin(), queries.end());
  if (queries.empty()) {
    std::cerr << "demo: no .sql files in " << options.queries_dir << "\n";
    return 1;
  }
  // The example queries' models (PREDICT) sit beside them unless the user chose a folder.
  setenv("SIDESTREAM_MODELS_DIR",
         (std::filesystem::path(options.queries_dir) / ".." / "models").c_str(), 0);
  config::Settings settings;
  Status configured = settings.Set("idle.timeout.ms", "2000", "demo");
  if (configured.ok()) configured = settings.Set("port", std::to_string(options.port), "--port");
  if (!configured.ok()) {
    std::cerr << "demo: " << configured.message() << "\n";
    return 2;
  }
  auto server = RunningServer::Start(settings, /*any_port_if_taken=*/true);
  if (!server.ok()) {
    std::cerr << "demo: cannot start: " << server.status().ToString() << "\n";
    return 1;
  }
  rest::EngineWorker& worker = (*server)->worker();
  std::cout << "Sidestream demo\n  web console: http://" << (*server)->address()
            << "/  (also ksqlDB's REST API: sidestream cli http://" << (*server)->address()
            << ")\n  embedded Kafka broker: " << worker.bootstrap_servers() << "  (try: kcat -b "
            << worker.bootstrap_servers() << " -L)\n";
  std::vector<std::string> result_topics;
  for (const std::string& file : files) {
    std::string sql = ReadFile(file);
    Status executed = ExecuteOnEngine(worker, sql);
    if (!executed.ok()) {
      std::cerr << session::RenderError(executed, sql, file);
      return 1;
    }
    std::cout << "  running " << std::filesystem::path(file).filename().string() << "\n";
  }
  // Jobs write upper-case topics (CELL_HEALTH); lower-case ones are their intermediate steps.
  for (const auto& source : worker.catalog().ListSources()) {
    bool job_output = std::none_of(source.topic.begin(), source.topic.end(),
                                   [](unsigned char c) { return std::islower(c); });
    if (!source.writer_query_id.empty() && job_output) result_topics.push_back(source.topic);
  }
  std::cout << "  generating " << options.rate << " CDRs/s (seed " << options.seed
            << ") with late records and planted call bursts, threat SMS, a cell outage and a\n"
            << "  campaign every 5 minutes\n"
            << "  Ctrl-C stops.\n\n";

  // The generator runs on its own thread with its own producer, as an upstream system would.
  std::atomic<bool> stop_generator{false};
  std::atomic<int64_t> generated{0};
  kafka::ProducerOptions producer_options;
  producer_options.client.bootstrap_servers = worker.bootstrap_servers();
  auto producer = kafka::BatchProducer::Create(producer_options);
  if (!producer.ok()) {
    std::cerr << "demo: " << producer.status().ToString() << "\n";
    return 1;
  }
  std::thread generator_thread([&] {
    datagen::CdrGeneratorOptions generator_options;
    generator_options.seed = options.seed;
    generator_options.start_ms = NowMs();
    generator_options.records_per_second = options.rate;
    generator_options.campaign_every_ms = 5 * 60 * 1000;
    datagen::CdrGenerator generator(generator_options);
    datagen::GeneratedCdr record;
    auto start = std::chrono::steady_clock::now();
    while (!stop_generator) {
      // Pace by the wall clock: emit what is due, then sleep a little.
      double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      auto due = static_cast<int64_t>(elapsed * options.rate);
      while (generated < due && !stop_generator) {
        generator.Next(record);
        if ((*producer)->Produce(record.topic, -1, record.key, record.value, NowMs()).ok())
          ++generated;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  // A viewer reads the result topics like any downstream consumer would.
  kafka::ConsumerOptions viewer_options;
  viewer_options.client.bootstrap_servers = worker.bootstrap_servers();
  viewer_options.group_id = "sidestream_demo_viewer";
  viewer_options.topics = result_topics;
  auto viewer = kafka::BatchConsumer::Create(viewer_options);
  if (!viewer.ok()) {
    stop_generator = true;
    generator_thread.join();
    std::cerr << "demo: " << viewer.status().ToString() << "\n";
    return 1;
  }
  const volatile std::sig_atomic_t& stop = InstallStopSignals();
  // A terminal gets the screen redrawn in place every second; a pipe gets it every 10 s.
  const bool terminal = isatty(STDOUT_FILENO) != 0;
  const auto redraw_every = std::chrono::seconds(terminal ? 1 : 10);
  DemoView view;
  kafka::MessageBatch batch;
  auto start = std::chrono::steady_clock::now();
  auto last_redraw = start;
  auto draw = [&](double elapsed) {
    std::promise<host::EngineProgress> read;
    worker.Post([&](host::KafkaEngine& engine) { read.set_value(engine.progress()); });
    const host::EngineProgress progress = read.get_future().get();
    const std::string status = "Sidestream demo, " + std::to_string(static_cast<int>(elapsed)) +
                               " s: generated " + std::to_string(generated.load()) +
                               " CDRs; the queries read " + std::to_string(progress.consumed) +
                               " records, late " + std::to_string(progress.late_records) +
                               ", dead letters " + std::to_string(progress.decode_errors) +
                               ". Ctrl-C stops.";
    std::cout << (terminal ? "\x1b[H\x1b[2J" : "\n") << view.Render(status) << std::flush;
  };
  // The engine runs on the server's thread; this one reads results and draws.
  while (!stop) {
    if ((*viewer)->Poll(1000, std::chrono::milliseconds(100), &batch).ok()) {
      for (size_t i = 0; i < batch.size(); ++i) {
        kafka::MessageView message = batch[i];
        view.Add(message.topic(), message.has_key() ? message.key() : std::string_view(),
                 message.has_value() ? message.value() : std::string_view(), message.timestamp());
      }
      batch.Clear();
    }
    auto now = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(now - start).count();
    if (now - last_redraw >= redraw_every) {
      draw(elapsed);
      last_redraw = now;
    }
    if (options.duration_seconds > 0 && elapsed >= options.duration_seconds) break;
  }
  draw(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  stop_generator = true;
  generator_thread.join();
  (void)(*viewer)->Close();
  (*server)->Stop();
  std::cout << "demo stopped\n";
  return 0;
}

}  // namespace sidestream::server
