#include "server/qtt_command.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <sstream>

#include "host/offline_engine.h"

namespace sidestream::server {

namespace {

using nlohmann::json;

// kPartitionSensitive: failed on several partitions, passed on one (see RunQtt).
enum class Outcome { kPassed, kFailed, kSkipped, kPartitionSensitive };
constexpr int kOutcomes = 4;

struct CaseResult {
  std::string id;  // "file.json: case name [FORMAT]"
  Outcome outcome = Outcome::kFailed;
  std::string detail;  // the diff, error or skip reason
};

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), ::toupper);
  return text;
}

// UDFs defined only in ksqlDB's test sources (ksqldb-engine/src/test/.../function/udf/),
// which its conformance runner loads; they are not part of ksqlDB's product.
constexpr const char* kTestOnlyFunctions[] = {"BAD_UDF", "WHENCONDITION", "WHENRESULT"};

// Runs one expanded case with every topic on `partitions` partitions.
CaseResult RunCase(const std::string& id, const json& test, const std::string& format,
                   int partitions) {
  CaseResult result{id, Outcome::kFailed, ""};
  std::vector<std::string> statements;
  for (const auto& statement : test["statements"]) {
    statements.push_back(Replace(statement.get<std::string>(), "{FORMAT}", format));
  }
  std::string all = Upper(std::accumulate(statements.begin(), statements.end(), std::string()));
  if (all.find("SCHEMA_ID") != std::string::npos || test.contains("topics")) {
    return {id, Outcome::kSkipped, "needs a schema registry"};
  }
  for (const char* function : kTestOnlyFunctions) {
    if (all.find(std::string(function) + "(") != std::string::npos) {
      return {id, Outcome::kSkipped,
              std::string("uses ") + function + ", a UDF of ksqlDB's test sources only"};
    }
  }
  bool expects_error = test.contains("expectedException");
  auto engine = host::OfflineEngine::Create(partitions);
  if (!engine.ok()) return {id, Outcome::kFailed, engine.status().ToString()};
  // The case's properties are session properties, as ksqlDB's runner passes them.
  const json properties = test.value("properties", json::object());
  for (const auto& [name, value] : properties.items()) {
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    auto set = (*engine)->Execute("SET '" + name + "' = '" + text + "';");
    if (!set.ok())
      return {id, Outcome::kFailed, "property " + name + ": " + set.status().ToString()};
  }
  for (size_t i = 0; i < statements.size(); ++i) {
    auto executed = (*engine)->Execute(statements[i]);
    if (executed.ok()) continue;
    const Status& status = executed.status();
    bool last = i + 1 == statements.size();
    if (expects_error && last) return {id, Outcome::kPassed, "rejected: " + status.message()};
    if (status.code() == StatusCode::kNotSupported) {
      return {id, Outcome::kSkipped, status.message()};
    }
    return {id, Outcome::kFailed, "statement " + std::to_string(i + 1) + ": " + status.ToString()};
  }
  auto inputs = host::ParseTestRecords(test.value("inputs", json::array()));
  auto expected = host::ParseTestRecords(test.value("outputs", json::array()));
  if (!inputs.ok() || !expected.ok()) {
    return {id, Outcome::kFailed, "unreadable records in the test file"};
  }
  for (const auto& record : *inputs) {
    Status produced = (*engine)->Produce(record);
    if (!produced.ok()) {
      if (expects_error) return {id, Outcome::kPassed, "failed at run time: " + produced.message()};
      return {id, Outcome::kFailed, "input: " + produced.ToString()};
    }
  }
  if (expects_error) {
    return {id, Outcome::kFailed,
            "ksqlDB rejects this case (" +
                test["expectedException"].value("message", std::string("an exception")) +
                ") but Sidestream accepted it"};
  }
  std::vector<host::TestRecord> actual;
  for (const std::string& topic : (*engine)->OutputTopics()) {
    for (auto& record : (*engine)->Output(topic)) actual.push_back(std::move(record));
  }
  // ksqlDB's expected records are in one partition's order; over several, Kafka keeps the
  // order per key only.
  std::string diff = partitions == 1 ? host::CompareRecords(*expected, actual)
                                     : host::CompareRecordsPerKey(*expected, actual);
  if (!diff.empty()) return {id, Outcome::kFailed, diff};
  return {id, Outcome::kPassed, ""};
}

// Why a case's results may depend on how its records spread over partitions: a hint for
// whoever judges a partition-sensitive case.
std::string PartitioningHint(const json& test) {
  const std::string statements = Upper(test["statements"].dump());
  auto uses = [&](const char* word) { return statements.find(word) != std::string::npos; };
  if (uses("ROWPARTITION") || uses("ROWOFFSET")) {
    return "reads ROWPARTITION or ROWOFFSET: the record's partition, and its offset there";
  }
  std::string found;
  for (const char* feature : {"EMIT FINAL", "GRACE PERIOD", "WINDOW", "WITHIN"}) {
    if (uses(feature)) found += (found.empty() ? "" : ", ") + std::string(feature);
  }
  if (found.empty()) return "uses no window, ROWPARTITION or ROWOFFSET: may be a bug";
  return "uses " + found + ": windows close, and records are late, by each partition's stream time";
}

// Parses a test file like nlohmann's DOM parser, except that a number with more significant
// digits than a double holds stays exact, as the JSON string of its text: ksqlDB's runner
// reads numbers as BigDecimal. The engine's JSON decoder coerces numeric strings, and the
// comparison reads an expected string as an exact decimal.
class ExactNumberSax : public nlohmann::detail::json_sax_dom_parser<json> {
 public:
  explicit ExactNumberSax(json& root) : json_sax_dom_parser(root, /*allow_exceptions=*/false) {}

  bool number_float(json::number_float_t value, const std::string& text) {
    if (SignificantDigits(text) <= 17) return json_sax_dom_parser::number_float(value, text);
    std::string exact = text;
    return string(exact);
  }

 private:
  static int SignificantDigits(const std::string& text) {
    int digits = 0;
    bool leading = true;
    for (char c : text) {
      if (c == 'e' || c == 'E') break;
      if (c < '0' || c > '9') continue;
      if (leading && c == '0') continue;
      leading = false;
      ++digits;
    }
    return digits;
  }
};

std::vector<std::filesystem::path> QttFiles(const std::vector<std::string>& paths) {
  std::vector<std::filesystem::path> files;
  for (const std::string& path : paths) {
    if (std::filesystem::is_directory(path)) {
      for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.path().extension() == ".json") files.push_back(entry.path());
      }
    } else {
      files.push_back(path);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int RunQtt(const QttOptions& options) {
  const bool several = options.partitions > 1;
  std::vector<CaseResult> results;
  std::map<std::string, std::array<int, kOutcomes>> per_file;
  int passed_as_json = 0;
  for (const auto& file : QttFiles(options.paths)) {
    std::ifstream stream(file);
    json document;
    ExactNumberSax sax(document);
    bool parsed = json::sax_parse(stream, &sax);
    if (!parsed || !document.contains("tests")) {
      std::cerr << file.string() << ": error: not a QTT file\n";
      return 2;
    }
    std::string name = file.filename().string();
    for (const auto& test : document["tests"]) {
      std::vector<std::string> formats = {"JSON"};
      if (test.contains("format")) formats = test["format"].get<std::vector<std::string>>();
      for (const std::string& format : formats) {
        std::string id = name + ": " + test.value("name", std::string("?"));
        if (formats.size() > 1 || test.contains("format")) id += " [" + format + "]";
        CaseResult result;
        if (!test.value("enabled", true)) {
          result = {id, Outcome::kSkipped, "disabled in ksqlDB's suite"};
        } else {
          result = RunCase(id, test, format, options.partitions);
          // What fails on several partitions but passes on one depends on how the records
          // spread: set apart for a human to judge, with the diff on several.
          if (several && result.outcome == Outcome::kFailed &&
              RunCase(id, test, format, 1).outcome == Outcome::kPassed) {
            result.outcome = Outcome::kPartitionSensitive;
            result.detail = PartitioningHint(test) + "\n" + result.detail;
          }
          // AVRO without a schema is read as JSON (the conformance rules).
          std::string statements = Upper(test["statements"].dump());
          if (result.outcome == Outcome::kPassed &&
              (format == "AVRO" || statements.find("'AVRO'") != std::string::npos)) {
            ++passed_as_json;
          }
        }
        per_file[name][static_cast<int>(result.outcome)]++;
        results.push_back(std::move(result));
      }
    }
  }
  int counts[kOutcomes] = {0, 0, 0, 0};
  for (const auto& result : results) {
    counts[static_cast<int>(result.outcome)]++;
    if (result.outcome == Outcome::kFailed || result.outcome == Outcome::kPartitionSensitive) {
      std::cout << (result.outcome == Outcome::kFailed ? "FAILED  " : "PARTITION-SENSITIVE  ")
                << result.id << "\n  " << Replace(result.detail, "\n", "\n  ") << "\n";
    } else if (result.outcome == Outcome::kSkipped) {
      std::cout << "SKIPPED " << result.id << ": " << result.detail << "\n";
    } else if (options.verbose) {
      std::cout << "PASSED  " << result.id << "\n";
    }
  }
  std::cout << "\nper file (passed/failed/skipped" << (several ? "/partition-sensitive" : "")
            << "):\n";
  for (const auto& [file, count] : per_file) {
    std::cout << "  " << file << ": " << count[0] << "/" << count[1] << "/" << count[2];
    if (several) std::cout << "/" << count[3];
    std::cout << "\n";
  }
  if (options.json_out) {
    json out = json::array();
    for (const auto& result : results) {
      out.push_back({{"id", result.id},
                     {"outcome", result.outcome == Outcome::kPassed    ? "passed"
                                 : result.outcome == Outcome::kFailed  ? "failed"
                                 : result.outcome == Outcome::kSkipped ? "skipped"
                                                                       : "partition-sensitive"},
                     {"detail", result.detail}});
    }
    std::ofstream(*options.json_out) << out.dump(1) << "\n";
  }
  int exit_code = 0;
  if (options.must_pass) {
    std::ifstream list(*options.must_pass);
    if (!list) {
      std::cerr << *options.must_pass << ": error: cannot read the must-pass list\n";
      return 2;
    }
    std::set<std::string> passed;
    for (const auto& result : results) {
      if (result.outcome == Outcome::kPassed) passed.insert(result.id);
    }
    for (std::string line; std::getline(list, line);) {
      if (line.empty() || line[0] == '#') continue;
      if (!passed.count(line)) {
        std::cout << "REGRESSION: listed as passing but did not pass: " << line << "\n";
        exit_code = 1;
      }
    }
  }
  std::cout << "(" << passed_as_json << " of the passed cases use AVRO without a "
            << "schema and ran as JSON)\n";
  if (several) {
    std::cout << "on " << options.partitions << " partitions, outputs compared per key; "
              << counts[3] << " partition-sensitive (failed here, passed on 1 partition)\n";
  }
  std::cout << counts[0] << " passed, " << counts[1] << " failed, " << counts[2] << " skipped\n";
  return exit_code;
}

}  // namespace sidestream::server
