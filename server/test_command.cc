#include "server/test_command.h"

#include <algorithm>
#include <fstream>
#include <ostream>
#include <sstream>

#include "host/offline_engine.h"
#include "session/error_rendering.h"

namespace sidestream::server {

namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return Status::IOError(path + ": cannot read the file");
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

Result<std::vector<host::TestRecord>> ReadRecords(const std::string& path,
                                                  const std::string& member) {
  ASSIGN_OR_RAISE(std::string text, ReadFile(path));
  nlohmann::json document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) return Status::InvalidArgument(path + ": not valid JSON");
  if (!document.contains(member)) {
    return Status::InvalidArgument(path + ": expected an object with \"" + member + "\"");
  }
  auto records = host::ParseTestRecords(document[member]);
  if (!records.ok()) return Status::InvalidArgument(path + ": " + records.status().message());
  return records;
}

}  // namespace

int RunTest(const std::string& sql_path, const std::string& input_path,
            const std::string& output_path, const std::optional<std::string>& actual_path,
            std::ostream& out, std::ostream& err) {
  auto sql = ReadFile(sql_path);
  auto inputs = ReadRecords(input_path, "inputs");
  auto expected = ReadRecords(output_path, "outputs");
  for (const Status* status : {&sql.status(), &inputs.status(), &expected.status()}) {
    if (!status->ok()) {
      err << "error: " << status->message() << "\n";
      return 1;
    }
  }
  auto engine = host::OfflineEngine::Create();
  if (!engine.ok()) {
    err << "error: " << engine.status().ToString() << "\n";
    return 1;
  }
  auto executed = (*engine)->Execute(*sql);
  if (!executed.ok()) {
    err << session::RenderError(executed.status(), *sql, sql_path);
    return 1;
  }
  for (const auto& record : *inputs) {
    Status produced = (*engine)->Produce(record);
    if (!produced.ok()) {
      err << "error: " << produced.ToString() << "\n";
      return 1;
    }
  }
  std::vector<host::TestRecord> actual;
  for (const std::string& topic : (*engine)->OutputTopics()) {
    for (auto& record : (*engine)->Output(topic)) actual.push_back(std::move(record));
  }
  if (actual_path) {
    nlohmann::json document = {{"outputs", nlohmann::json::array()}};
    for (const auto& record : actual) document["outputs"].push_back(host::TestRecordToJson(record));
    std::ofstream file(*actual_path);
    file << document.dump(2) << "\n";
  }
  auto counters = (*engine)->counters();
  std::string diff = host::CompareRecords(*expected, actual);
  // Records on a topic the expected file never mentions are a mismatch too.
  for (const std::string& topic : (*engine)->OutputTopics()) {
    bool listed =
        std::any_of(expected->begin(), expected->end(),
                    [&](const host::TestRecord& record) { return record.topic == topic; });
    if (!listed) {
      diff += "topic " + topic + ": " + std::to_string((*engine)->Output(topic).size()) +
              " records that the expected output does not list\n";
    }
  }
  if (!diff.empty()) {
    out << "FAILED: output does not match " << output_path << "\n" << diff;
    return 1;
  }
  out << "PASSED: " << expected->size() << " expected records matched (" << inputs->size()
      << " inputs, " << counters.late_records << " late, " << counters.decode_errors
      << " undecodable)\n";
  return 0;
}

}  // namespace sidestream::server
