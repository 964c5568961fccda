#include "server/rqtt_command.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "catalog/catalog.h"
#include "connectors/formats/scalar_text.h"
#include "connectors/kafka/batch_producer.h"
#include "connectors/kafka/partition_reader.h"
#include "connectors/kafka/topic_admin.h"
#include "host/offline_engine.h"
#include "runtime/record_collector.h"
#include "session/script_runner.h"

namespace sidestream::server {

namespace {

using nlohmann::json;

enum class Outcome { kPassed, kFailed, kSkipped };

struct CaseResult {
  Outcome outcome = Outcome::kFailed;
  std::string detail;
};

// A `sidestream serve` child on a free port with the embedded broker.
class ServeProcess {
 public:
  static Result<ServeProcess> Start(const std::string& self) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return Status::IOError("pipe");
    pid_t pid = fork();
    if (pid < 0) return Status::IOError("fork");
    if (pid == 0) {
      dup2(pipe_fds[1], STDOUT_FILENO);
      int null_fd = open("/dev/null", O_WRONLY);
      dup2(null_fd, STDERR_FILENO);
      close(pipe_fds[0]);
      execl(self.c_str(), self.c_str(), "serve", "--port", "0", "--set", "default.partitions=1",
            "--set", "commit.interval.ms=200", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(pipe_fds[1]);
    ServeProcess process;
    process.pid_ = pid;
    std::string output;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd descriptor{pipe_fds[0], POLLIN, 0};
      if (poll(&descriptor, 1, 100) <= 0) continue;
      char buffer[512];
      ssize_t got = read(pipe_fds[0], buffer, sizeof buffer);
      if (got <= 0) break;
      output.append(buffer, got);
      size_t at = output.find("listening on http://");
      size_t bootstrap = output.find("bootstrap.servers=");
      if (at != std::string::npos && output.find('\n', at) != std::string::npos &&
          bootstrap != std::string::npos) {
        size_t start = at + std::string("listening on ").size();
        process.base_ = output.substr(start, output.find(' ', start) - start);
        size_t value = bootstrap + std::string("bootstrap.servers=").size();
        process.bootstrap_ = output.substr(value, output.find('\n', value) - value);
        break;
      }
    }
    process.stdout_fd_ = pipe_fds[0];
    if (process.base_.empty()) return Status::Unavailable("serve did not start: " + output);
    return process;
  }
  ServeProcess() = default;
  ServeProcess(ServeProcess&& other) noexcept { *this = std::move(other); }
  ServeProcess& operator=(ServeProcess&& other) noexcept {
    std::swap(pid_, other.pid_);
    std::swap(stdout_fd_, other.stdout_fd_);
    base_ = other.base_;
    bootstrap_ = other.bootstrap_;
    return *this;
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status;
      waitpid(pid_, &status, 0);
    }
    if (stdout_fd_ >= 0) close(stdout_fd_);
  }
  const std::string& base() const { return base_; }
  const std::string& bootstrap() const { return bootstrap_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string base_;
  std::string bootstrap_;
};

size_t Collect(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// POSTs `body`; returns the HTTP status and the body received before `timeout_ms`.
std::pair<long, std::string> Post(const std::string& url, const std::string& body,
                                  long timeout_ms) {
  CURL* curl = curl_easy_init();
  std::string received;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return {status, received};
}

// Numbers compare by value (1 == 1.0); objects by the keys `expected` has ("k|startsWith"
// matches a prefix); arrays element by element.
bool Matches(const json& expected, const json& actual) {
  if (expected.is_number() && actual.is_number()) {
    return expected.get<double>() == actual.get<double>();
  }
  if (expected.is_object()) {
    if (!actual.is_object()) return false;
    for (const auto& [key, value] : expected.items()) {
      const std::string suffix = "|startsWith";
      if (key.ends_with(suffix)) {
        std::string name = key.substr(0, key.size() - suffix.size());
        if (!actual.contains(name) || !actual[name].is_string() || !value.is_string() ||
            !actual[name].get<std::string>().starts_with(value.get<std::string>())) {
          return false;
        }
        continue;
      }
      if (!actual.contains(key) || !Matches(value, actual[key])) return false;
    }
    return true;
  }
  if (expected.is_array()) {
    if (!actual.is_array() || actual.size() != expected.size()) return false;
    for (size_t i = 0; i < expected.size(); ++i) {
      if (!Matches(expected[i], actual[i])) return false;
    }
    return true;
  }
  return expected == actual;
}

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), ::toupper);
  return text;
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// Compares a /query response (a JSON array, maybe cut short) with the expected items.
std::string CompareQuery(const json& expected, const std::string& body, bool ordered) {
  std::string text = body;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (!text.empty() && text.back() != ']') text += "]";
  json actual = json::parse(text, nullptr, false);
  if (actual.is_discarded() || !actual.is_array()) return "unreadable response: " + body;
  json expected_rows = json::array(), actual_rows = json::array();
  json expected_other = json::array(), actual_other = json::array();
  for (const auto& item : expected)
    (item.contains("row") ? expected_rows : expected_other).push_back(item);
  for (const auto& item : actual)
    (item.contains("row") ? actual_rows : actual_other).push_back(item);
  std::string diff;
  if (!Matches(expected_other, actual_other)) {
    diff += "  expected header/final: " + expected_other.dump() +
            "\n  actual: " + actual_other.dump() + "\n";
  }
  bool rows_match = expected_rows.size() == actual_rows.size();
  if (rows_match && ordered) {
    rows_match = Matches(expected_rows, actual_rows);
  } else if (rows_match) {
    std::vector<bool> used(actual_rows.size(), false);
    for (const auto& row : expected_rows) {
      bool found = false;
      for (size_t i = 0; i < actual_rows.size() && !found; ++i) {
        if (!used[i] && Matches(row, actual_rows[i])) used[i] = found = true;
      }
      rows_match = rows_match && found;
    }
  }
  if (!rows_match) {
    diff += "  expected rows: " + expected_rows.dump() +
            "\n  actual rows:   " + actual_rows.dump() + "\n";
  }
  return diff;
}

// The case's expected output records against what its topics hold, read back from the
// broker and decoded with the formats of the source declared on each topic (`statements`,
// replayed on a private catalog). Records compare per key, as partitions keep no order
// between them. Returns a diff, empty on a match.
std::string CompareOutputs(const json& outputs, const std::vector<std::string>& statements,
                           const std::string& bootstrap) {
  auto expected = host::ParseTestRecords(outputs);
  if (!expected.ok()) return "  unreadable outputs: " + expected.status().ToString() + "\n";
  auto catalog = catalog::Catalog::Open(":memory:");
  if (!catalog.ok()) return "  " + catalog.status().ToString() + "\n";
  session::ScriptRunner runner(**catalog);
  for (const std::string& statement : statements) (void)runner.Run(statement);
  const kafka::ClientConfig client{bootstrap, {}};
  auto admin = kafka::TopicAdmin::Create(client);
  if (!admin.ok()) return "  " + admin.status().ToString() + "\n";
  std::vector<std::string> topics;
  for (const host::TestRecord& record : *expected) {
    if (std::find(topics.begin(), topics.end(), record.topic) == topics.end()) {
      topics.push_back(record.topic);
    }
  }
  std::vector<host::TestRecord> actual;
  for (const std::string& topic : topics) {
    const catalog::SourceDescription* source = nullptr;
    auto sources = (*catalog)->ListSources();
    for (const auto& candidate : sources) {
      if (candidate.topic == topic) source = &candidate;
    }
    auto partitions = (*admin)->PartitionCount(topic);
    if (!partitions.ok()) return "  topic " + topic + ": " + partitions.status().ToString() + "\n";
    for (int32_t partition = 0; partition < *partitions; ++partition) {
      auto read = kafka::ReadPartitionToEnd(
          client, topic, partition,
          [&](std::optional<std::string_view> key, std::optional<std::string_view> value,
              int64_t timestamp) -> Status {
            host::TestRecord& record = actual.emplace_back();
            record.topic = topic;
            record.timestamp = timestamp;
            if (source == nullptr) {
              if (key) record.key = std::string(*key);
              if (value) record.value = json::parse(*value, nullptr, false);
              return Status::OK();
            }
            if (key) {
              record.key = host::BytesToJson(
                  std::string(*key), source->key_format,
                  runtime::FormatColumns(*source, catalog::ColumnRole::kKey), "/key",
                  record.decimals, runtime::FormatOptionsOf(*source, true).protobuf_nullable);
            }
            if (value) {
              record.value = host::BytesToJson(
                  std::string(*value), source->value_format,
                  runtime::FormatColumns(*source, catalog::ColumnRole::kValue), "/value",
                  record.decimals, runtime::FormatOptionsOf(*source, false).protobuf_nullable);
            }
            return Status::OK();
          },
          std::chrono::seconds(10));
      if (!read.ok()) return "  topic " + topic + ": " + read.status().ToString() + "\n";
    }
  }
  return host::CompareRecordsPerKey(*expected, actual);
}

CaseResult RunCase(const json& test, const std::string& format, const std::string& self) {
  std::vector<std::string> statements;
  for (const auto& statement : test["statements"]) {
    statements.push_back(Replace(statement.get<std::string>(), "{FORMAT}", format));
  }
  // What the case needs, judged on the variant that runs: its statements with `format` in
  // place, not the list of formats the case has variants for.
  json variant = test;
  variant.erase("format");
  variant["statements"] = statements;
  const std::string all = Upper(variant.dump());
  if (all.find("PROTOBUF") != std::string::npos || all.find("QUERYPROTO") != std::string::npos) {
    return {Outcome::kSkipped, "PROTOBUF results (/query-stream protobuf) are not built"};
  }
  bool registry =
      all.find("SCHEMA_ID") != std::string::npos || all.find("'AVRO'") != std::string::npos;
  for (const auto& topic : test.value("topics", json::array())) {
    registry = registry || topic.contains("valueSchema") || topic.contains("keySchema") ||
               topic.contains("schema");
  }
  if (registry) {
    return {Outcome::kSkipped, "needs a schema registry"};
  }
  auto server = ServeProcess::Start(self);
  if (!server.ok()) return {Outcome::kFailed, server.status().ToString()};
  const json responses = test.value("responses", json::array());
  const json expected_error = test.value("expectedError", json());
  json properties = test.value("properties", json::object());
  size_t first_select = statements.size();
  for (size_t i = 0; i < statements.size(); ++i) {
    if (Upper(statements[i]).find("SELECT") == 0) {
      first_select = i;
      break;
    }
  }
  auto check_error = [&](long status, const std::string& body) -> CaseResult {
    json error = json::parse(body, nullptr, false);
    std::string message = error.is_object() ? error.value("message", std::string()) : body;
    std::string want = expected_error.value("message", std::string());
    long want_status = expected_error.value("status", 400L);
    if (status == want_status && message.find(want) != std::string::npos) {
      return {Outcome::kPassed, ""};
    }
    return {Outcome::kFailed, "expected error " + std::to_string(want_status) + " '" + want +
                                  "'\n  actual " + std::to_string(status) + ": " + body};
  };
  size_t response_index = 0;
  std::string diff;
  if (first_select > 0) {
    std::string ksql;
    for (size_t i = 0; i < first_select; ++i) ksql += statements[i] + "\n";
    auto [status, body] =
        Post(server->base() + "/ksql",
             json{{"ksql", ksql}, {"streamsProperties", properties}}.dump(), 60000);
    if (status != 200) {
      if (!expected_error.is_null()) return check_error(status, body);
      return {Outcome::kFailed, "/ksql answered " + std::to_string(status) + ": " + body};
    }
    json entities = json::parse(body, nullptr, false);
    for (size_t i = 0; entities.is_array() && i < entities.size(); ++i, ++response_index) {
      if (response_index >= responses.size() || !responses[response_index].contains("admin")) {
        continue;
      }
      if (!Matches(responses[response_index]["admin"], entities[i])) {
        diff += "  statement " + std::to_string(i + 1) + ": expected " +
                responses[response_index]["admin"].dump() + "\n  actual " + entities[i].dump() +
                "\n";
      }
    }
  }
  // The inputs, encoded as the declared source of their topic reads them.
  const json inputs = test.value("inputs", json::array());
  if (!inputs.empty()) {
    auto catalog = catalog::Catalog::Open(":memory:");
    if (!catalog.ok()) return {Outcome::kFailed, catalog.status().ToString()};
    session::ScriptRunner runner(**catalog);
    for (size_t i = 0; i < first_select; ++i) (void)runner.Run(statements[i]);
    kafka::ProducerOptions producer_options;
    producer_options.client = kafka::ClientConfig{server->bootstrap(), {}};
    auto producer = kafka::BatchProducer::Create(producer_options);
    if (!producer.ok()) return {Outcome::kFailed, producer.status().ToString()};
    for (const auto& record : inputs) {
      const std::string topic = record.value("topic", std::string());
      std::string key, value;
      for (const auto& source : (*catalog)->ListSources()) {
        if (source.topic != topic) continue;
        if (record.contains("key") && !record["key"].is_null()) {
          auto bytes = host::JsonToBytes(record["key"], source.key_format,
                                         runtime::FormatColumns(source, catalog::ColumnRole::kKey),
                                         runtime::FormatOptionsOf(source, true).protobuf_nullable);
          if (bytes.ok()) key = *bytes;
          // A windowed source's key carries its window, in the form our queries read.
          const json window = record.value("window", json());
          if (source.window_type != catalog::WindowType::kNone && window.is_object() &&
              window.contains("start") && window.contains("end")) {
            std::string windowed;
            runtime::AppendWindowedKey(key, window["start"].get<int64_t>(),
                                       window["end"].get<int64_t>(), windowed);
            key = std::move(windowed);
          }
        }
        if (record.contains("value") && !record["value"].is_null()) {
          auto bytes =
              host::JsonToBytes(record["value"], source.value_format,
                                runtime::FormatColumns(source, catalog::ColumnRole::kValue),
                                runtime::FormatOptionsOf(source, false).protobuf_nullable);
          if (bytes.ok()) value = *bytes;
        }
        break;
      }
      // Record headers, {"KEY": name, "VALUE": base64 bytes or null}, for HEADERS columns.
      std::vector<std::pair<std::string, std::optional<std::string>>> header_bytes;
      for (const auto& header : record.value("headers", json::array())) {
        if (!header.is_object()) continue;
        std::optional<std::string> bytes;
        if (header.contains("VALUE") && header["VALUE"].is_string()) {
          bytes.emplace();
          if (!formats::DecodeBase64(header["VALUE"].get<std::string>(), *bytes)) bytes.reset();
        }
        header_bytes.emplace_back(header.value("KEY", std::string()), std::move(bytes));
      }
      std::vector<kafka::ProduceHeader> headers;
      for (const auto& [name, bytes] : header_bytes) {
        headers.push_back(
            {name, bytes ? std::string_view(*bytes) : std::string_view(), bytes.has_value()});
      }
      // A null (or absent) key or value is produced as null, not as empty bytes: a null value
      // is a table's tombstone and a record a stream drops.
      const bool null_key = !record.contains("key") || record["key"].is_null();
      const bool null_value = !record.contains("value") || record["value"].is_null();
      Status produced =
          (*producer)->Produce(topic, -1, null_key ? std::string_view() : std::string_view(key),
                               null_value ? std::string_view() : std::string_view(value),
                               record.value("timestamp", int64_t{0}), headers);
      if (!produced.ok()) return {Outcome::kFailed, "producing inputs: " + produced.ToString()};
    }
    Status flushed = (*producer)->Flush(std::chrono::seconds(10));
    if (!flushed.ok()) return {Outcome::kFailed, "producing inputs: " + flushed.ToString()};
  }
  const bool ordered = test.value("outputConditions", json::object()).value("verifyOrder", false);
  for (size_t i = first_select; i < statements.size(); ++i, ++response_index) {
    // A pull query reads the tables as they are now, and the persistent queries may not have
    // processed the inputs yet: as ksqlDB's runner waits for them, it is asked again until
    // its answer matches or 15 s pass.
    const bool pull = Upper(statements[i]).find("EMIT ") == std::string::npos;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    std::string query_diff;
    for (;;) {
      auto [status, body] =
          Post(server->base() + "/query",
               json{{"ksql", statements[i]}, {"streamsProperties", properties}}.dump(), 30000);
      if (status != 200) {
        if (!expected_error.is_null()) return check_error(status, body);
        return {Outcome::kFailed, "statement " + std::to_string(i + 1) + ": /query answered " +
                                      std::to_string(status) + ": " + body};
      }
      query_diff.clear();
      if (response_index < responses.size() && responses[response_index].contains("query")) {
        query_diff = CompareQuery(responses[response_index]["query"], body, ordered);
      }
      if (query_diff.empty() || !pull || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (!query_diff.empty()) diff += "  statement " + std::to_string(i + 1) + ":\n" + query_diff;
  }
  // As ksqlDB's runner (RestTestExecutor.failIfExpectingError): an expected error that no
  // statement gave fails the case when a query answered; without queries, the case goes on to
  // its responses and outputs.
  if (!expected_error.is_null() && first_select < statements.size()) {
    return {Outcome::kFailed, "expected error '" + expected_error.value("message", std::string()) +
                                  "' but every statement succeeded"};
  }
  if (!diff.empty()) return {Outcome::kFailed, diff};
  if (test.contains("outputs") && !test["outputs"].empty()) {
    std::string outputs_diff = CompareOutputs(
        test["outputs"],
        std::vector<std::string>(statements.begin(), statements.begin() + first_select),
        server->bootstrap());
    if (!outputs_diff.empty()) return {Outcome::kFailed, "output topics:\n" + outputs_diff};
  }
  return {Outcome::kPassed, ""};
}

}  // namespace

int RunRqtt(const RqttOptions& options) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::vector<std::filesystem::path> files;
  for (const std::string& path : options.paths) {
    if (std::filesystem::is_directory(path)) {
      for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.path().extension() == ".json") files.push_back(entry.path());
      }
    } else {
      files.push_back(path);
    }
  }
  std::sort(files.begin(), files.end());
  int counts[3] = {0, 0, 0};
  std::set<std::string> passed;
  for (const auto& file : files) {
    std::ifstream stream(file);
    std::stringstream text;
    text << stream.rdbuf();
    json document = json::parse(text.str(), nullptr, /*allow_exceptions=*/false,
                                /*ignore_comments=*/true);
    if (document.is_discarded() || !document.contains("tests")) {
      std::cerr << file.string() << ": error: not a REST query-validation file\n";
      return 2;
    }
    for (const auto& test : document["tests"]) {
      std::vector<std::string> formats = {"JSON"};
      if (test.contains("format")) formats = test["format"].get<std::vector<std::string>>();
      for (const std::string& format : formats) {
        std::string id = file.filename().string() + ": " + test.value("name", std::string("?"));
        if (test.contains("format")) id += " [" + format + "]";
        if (id.find(options.name_filter) == std::string::npos) continue;
        CaseResult result = !test.value("enabled", true)
                                ? CaseResult{Outcome::kSkipped, "disabled in ksqlDB's suite"}
                                : RunCase(test, format, options.self);
        counts[static_cast<int>(result.outcome)]++;
        if (result.outcome == Outcome::kPassed) {
          passed.insert(id);
          if (options.verbose) std::cout << "PASSED  " << id << std::endl;
        } else if (result.outcome == Outcome::kFailed) {
          std::cout << "FAILED  " << id << "\n  " << result.detail << std::endl;
        } else {
          std::cout << "SKIPPED " << id << ": " << result.detail << std::endl;
        }
      }
    }
  }
  int exit_code = 0;
  if (options.must_pass) {
    std::ifstream list(*options.must_pass);
    if (!list) {
      std::cerr << *options.must_pass << ": error: cannot read the must-pass list\n";
      return 2;
    }
    for (std::string line; std::getline(list, line);) {
      if (line.empty() || line[0] == '#') continue;
      if (!passed.count(line)) {
        std::cout << "REGRESSION: listed as passing but did not pass: " << line << "\n";
        exit_code = 1;
      }
    }
  }
  std::cout << counts[0] << " passed, " << counts[1] << " failed, " << counts[2] << " skipped"
            << std::endl;
  curl_global_cleanup();
  return exit_code;
}

}  // namespace sidestream::server
