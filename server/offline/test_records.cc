#include <algorithm>
#include <cctype>
#include <cmath>

#include "server/offline/offline_engine.h"

namespace sidestream::offline {

using nlohmann::json;

namespace {

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return text;
}

// ksqlDB's comparison: field names exactly or upper-cased; numbers by value.
bool JsonMatches(const json& expected, const json& actual) {
  if (expected.is_number() && actual.is_number()) {
    if (expected.is_number_integer() && actual.is_number_integer()) {
      return expected.get<int64_t>() == actual.get<int64_t>();
    }
    double x = expected.get<double>();
    double y = actual.get<double>();
    return x == y || (std::isnan(x) && std::isnan(y));
  }
  if (expected.is_object() && actual.is_object()) {
    if (expected.size() != actual.size()) return false;
    for (const auto& [name, value] : expected.items()) {
      auto found = actual.find(name);
      if (found == actual.end()) found = actual.find(Upper(name));
      if (found == actual.end() || !JsonMatches(value, *found)) return false;
    }
    return true;
  }
  if (expected.is_array() && actual.is_array()) {
    if (expected.size() != actual.size()) return false;
    for (size_t i = 0; i < expected.size(); ++i) {
      if (!JsonMatches(expected[i], actual[i])) return false;
    }
    return true;
  }
  return expected == actual;
}

bool RecordMatches(const TestRecord& expected, const TestRecord& actual) {
  if (!JsonMatches(expected.key, actual.key) || !JsonMatches(expected.value, actual.value)) {
    return false;
  }
  if (expected.timestamp && expected.timestamp != actual.timestamp) return false;
  if (expected.window && !(actual.window && *expected.window == *actual.window)) return false;
  return true;
}

}  // namespace

nlohmann::json TestRecordToJson(const TestRecord& record) {
  json out = {{"topic", record.topic}, {"key", record.key}, {"value", record.value}};
  if (record.timestamp) out["timestamp"] = *record.timestamp;
  if (record.window) {
    out["window"] = {{"start", record.window->start},
                     {"end", record.window->end},
                     {"type", record.session_window ? "session" : "time"}};
  }
  return out;
}

Result<std::vector<TestRecord>> ParseTestRecords(const nlohmann::json& records) {
  if (!records.is_array()) return Status::InvalidArgument("expected an array of records");
  std::vector<TestRecord> parsed;
  for (size_t i = 0; i < records.size(); ++i) {
    const json& item = records[i];
    std::string where = "record " + std::to_string(i + 1);
    if (!item.is_object() || !item.contains("topic") || !item["topic"].is_string()) {
      return Status::InvalidArgument(where + ": needs a \"topic\" string");
    }
    TestRecord record;
    record.topic = item["topic"].get<std::string>();
    record.key = item.value("key", json(nullptr));
    record.value = item.value("value", json(nullptr));
    if (item.contains("timestamp")) {
      if (!item["timestamp"].is_number_integer()) {
        return Status::InvalidArgument(where + ": \"timestamp\" must be an integer (epoch ms)");
      }
      record.timestamp = item["timestamp"].get<int64_t>();
    }
    if (item.contains("window") && item["window"].is_object()) {
      const json& window = item["window"];
      if (!window.contains("start") || !window.contains("end")) {
        return Status::InvalidArgument(where + ": \"window\" needs \"start\" and \"end\"");
      }
      record.window =
          runtime::WindowBounds{window["start"].get<int64_t>(), window["end"].get<int64_t>()};
      record.session_window = window.value("type", "time") == "session";
    }
    parsed.push_back(std::move(record));
  }
  return parsed;
}

std::string CompareRecords(const std::vector<TestRecord>& expected,
                           const std::vector<TestRecord>& actual) {
  std::vector<std::string> topics;
  for (const auto& record : expected) {
    if (std::find(topics.begin(), topics.end(), record.topic) == topics.end()) {
      topics.push_back(record.topic);
    }
  }
  std::string diff;
  for (const std::string& topic : topics) {
    std::vector<const TestRecord*> want, got;
    for (const auto& record : expected) {
      if (record.topic == topic) want.push_back(&record);
    }
    for (const auto& record : actual) {
      if (record.topic == topic) got.push_back(&record);
    }
    size_t common = std::min(want.size(), got.size());
    for (size_t i = 0; i < common; ++i) {
      if (!RecordMatches(*want[i], *got[i])) {
        diff += "topic " + topic + ", record " + std::to_string(i + 1) + ":\n  expected " +
                TestRecordToJson(*want[i]).dump() + "\n  actual   " +
                TestRecordToJson(*got[i]).dump() + "\n";
        break;
      }
    }
    if (want.size() != got.size()) {
      diff += "topic " + topic + ": expected " + std::to_string(want.size()) + " records but got " +
              std::to_string(got.size()) + "\n";
      for (size_t i = common; i < got.size() && i < common + 3; ++i) {
        diff += "  extra    " + TestRecordToJson(*got[i]).dump() + "\n";
      }
      for (size_t i = common; i < want.size() && i < common + 3; ++i) {
        diff += "  missing  " + TestRecordToJson(*want[i]).dump() + "\n";
      }
    }
  }
  return diff;
}

}  // namespace sidestream::offline
