#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>

#include "host/offline_engine.h"

namespace sidestream::host {

using nlohmann::json;

namespace {

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return text;
}

// A decimal as BigDecimal sees it: sign, unscaled digits (no leading zeros) and scale.
struct ExactDecimal {
  bool negative = false;
  std::string digits;
  int64_t scale = 0;
};

std::optional<ExactDecimal> ParseExactDecimal(const std::string& text) {
  ExactDecimal decimal;
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) decimal.negative = text[i++] == '-';
  bool any_digit = false;
  bool fraction = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      any_digit = true;
      decimal.digits.push_back(c);
      if (fraction) ++decimal.scale;
    } else if (c == '.' && !fraction) {
      fraction = true;
    } else {
      break;
    }
  }
  if (!any_digit) return std::nullopt;
  if (i < text.size()) {
    if (text[i] != 'e' && text[i] != 'E') return std::nullopt;
    int64_t exponent = 0;
    auto [end, error] = std::from_chars(text.data() + i + 1 + (text[i + 1] == '+'),
                                        text.data() + text.size(), exponent);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    decimal.scale -= exponent;
  }
  decimal.digits.erase(0, std::min(decimal.digits.find_first_not_of('0'), decimal.digits.size()));
  if (decimal.digits.empty()) decimal.negative = false;
  return decimal;
}

// Equal values, whatever the scales (1.0 and 1).
bool SameValue(ExactDecimal a, ExactDecimal b) {
  if (a.scale < b.scale) std::swap(a, b);
  if (!b.digits.empty()) b.digits.append(static_cast<size_t>(a.scale - b.scale), '0');
  return a.negative == b.negative && a.digits == b.digits;
}

// ksqlDB's comparison of an expected value with an actual BigDecimal: a string by value and
// scale ("3.40" is not 3.4); an integer only if the decimal has no fraction digits; a
// fractional number by value.
bool DecimalMatches(const json& expected, const std::string& text) {
  std::optional<ExactDecimal> actual = ParseExactDecimal(text);
  if (!actual) return false;
  if (expected.is_string()) {
    std::optional<ExactDecimal> wanted = ParseExactDecimal(expected.get<std::string>());
    return wanted && wanted->negative == actual->negative && wanted->digits == actual->digits &&
           wanted->scale == actual->scale;
  }
  if (expected.is_number_integer()) {
    return actual->scale <= 0 && SameValue(*ParseExactDecimal(expected.dump()), *actual);
  }
  if (expected.is_number_float())
    return expected.get<double>() == std::strtod(text.c_str(), nullptr);
  return false;
}

// ksqlDB's comparison: as many fields, named exactly or upper-cased (a missing one reads as
// null); numbers by value; the actual values at the pointers in `decimals` as exact decimals.
bool JsonMatches(const json& expected, const json& actual, const std::string& pointer,
                 const std::set<std::string>& decimals) {
  if (actual.is_string() && decimals.count(pointer) > 0) {
    return DecimalMatches(expected, actual.get<std::string>());
  }
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
      // ksqlDB's comparator reads a field it cannot find as null.
      if (found == actual.end()) {
        if (!value.is_null()) return false;
        continue;
      }
      if (!JsonMatches(value, *found, pointer + "/" + found.key(), decimals)) return false;
    }
    return true;
  }
  if (expected.is_array() && actual.is_array()) {
    if (expected.size() != actual.size()) return false;
    for (size_t i = 0; i < expected.size(); ++i) {
      if (!JsonMatches(expected[i], actual[i], pointer + "/" + std::to_string(i), decimals)) {
        return false;
      }
    }
    return true;
  }
  return expected == actual;
}

bool RecordMatches(const TestRecord& expected, const TestRecord& actual) {
  if (!JsonMatches(expected.key, actual.key, "/key", actual.decimals) ||
      !JsonMatches(expected.value, actual.value, "/value", actual.decimals)) {
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

}  // namespace sidestream::host
