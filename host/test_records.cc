#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>

#include "connectors/formats/scalar_text.h"
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

// `part` ("key" or "value") of `record`, with its empty_bytes fields null.
const json& Coerced(const TestRecord& record, const std::string& part, const json& original,
                    json& copy) {
  const std::string prefix = "/" + part + "/";
  bool any = false;
  for (const std::string& pointer : record.empty_bytes) {
    if (pointer.rfind(prefix, 0) != 0) continue;
    if (!any) copy = original;
    any = true;
    copy[pointer.substr(prefix.size())] = nullptr;
  }
  return any ? copy : original;
}

bool RecordMatches(const TestRecord& expected, const TestRecord& actual) {
  json key_copy, value_copy;
  if (!JsonMatches(expected.key, Coerced(actual, "key", actual.key, key_copy), "/key",
                   actual.decimals) ||
      !JsonMatches(expected.value, Coerced(actual, "value", actual.value, value_copy), "/value",
                   actual.decimals)) {
    return false;
  }
  if (expected.timestamp && expected.timestamp != actual.timestamp) return false;
  if (expected.window && !(actual.window && *expected.window == *actual.window)) return false;
  // As ksqlDB's runner: the same headers in the same order, none when a record lists none.
  return expected.headers == actual.headers;
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
  if (!record.headers.empty()) {
    json headers = json::array();
    for (const auto& [name, value] : record.headers) {
      json header = {{"KEY", name}, {"VALUE", nullptr}};
      if (value) {
        std::string text;
        formats::AppendBase64(*value, text);
        header["VALUE"] = text;
      }
      headers.push_back(std::move(header));
    }
    out["headers"] = std::move(headers);
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
    if (item.contains("headers") && !item["headers"].is_null()) {
      const json& headers = item["headers"];
      if (!headers.is_array()) {
        return Status::InvalidArgument(where + ": \"headers\" must be an array");
      }
      for (size_t h = 0; h < headers.size(); ++h) {
        const json& header = headers[h];
        const std::string at = where + ", header " + std::to_string(h + 1);
        if (!header.is_object() || !header.contains("KEY") || !header["KEY"].is_string()) {
          return Status::InvalidArgument(at + ": needs a \"KEY\" string");
        }
        std::optional<std::string> value;
        if (header.contains("VALUE") && !header["VALUE"].is_null()) {
          std::string bytes;
          if (!header["VALUE"].is_string() ||
              !formats::DecodeBase64(header["VALUE"].get<std::string>(), bytes)) {
            return Status::InvalidArgument(at + ": \"VALUE\" must be base64 or null");
          }
          value = std::move(bytes);
        }
        record.headers.emplace_back(header["KEY"].get<std::string>(), std::move(value));
      }
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

namespace {

// The topics of the expected records, in first-appearance order: only those are compared.
std::vector<std::string> ExpectedTopics(const std::vector<TestRecord>& expected) {
  std::vector<std::string> topics;
  for (const auto& record : expected) {
    if (std::find(topics.begin(), topics.end(), record.topic) == topics.end()) {
      topics.push_back(record.topic);
    }
  }
  return topics;
}

std::vector<const TestRecord*> OfTopic(const std::vector<TestRecord>& records,
                                       const std::string& topic) {
  std::vector<const TestRecord*> of_topic;
  for (const auto& record : records) {
    if (record.topic == topic) of_topic.push_back(&record);
  }
  return of_topic;
}

// In order and in count; `where` names the sequence in the diff.
std::string CompareSequence(const std::string& where, const std::vector<const TestRecord*>& want,
                            const std::vector<const TestRecord*>& got) {
  std::string diff;
  size_t common = std::min(want.size(), got.size());
  for (size_t i = 0; i < common; ++i) {
    if (!RecordMatches(*want[i], *got[i])) {
      diff += where + ", record " + std::to_string(i + 1) + ":\n  expected " +
              TestRecordToJson(*want[i]).dump() + "\n  actual   " +
              TestRecordToJson(*got[i]).dump() + "\n";
      break;
    }
  }
  if (want.size() != got.size()) {
    diff += where + ": expected " + std::to_string(want.size()) + " records but got " +
            std::to_string(got.size()) + "\n";
    for (size_t i = common; i < got.size() && i < common + 3; ++i) {
      diff += "  extra    " + TestRecordToJson(*got[i]).dump() + "\n";
    }
    for (size_t i = common; i < want.size() && i < common + 3; ++i) {
      diff += "  missing  " + TestRecordToJson(*want[i]).dump() + "\n";
    }
  }
  return diff;
}

// Kuhn's augmenting path from expected record `want`: pairs it, re-pairing others if needed.
bool Augment(size_t want, const std::vector<std::vector<size_t>>& candidates,
             std::vector<bool>& visited, std::vector<int>& owner) {
  for (size_t got : candidates[want]) {
    if (visited[got]) continue;
    visited[got] = true;
    if (owner[got] < 0 || Augment(static_cast<size_t>(owner[got]), candidates, visited, owner)) {
      owner[got] = static_cast<int>(want);
      return true;
    }
  }
  return false;
}

// In any order: a maximum matching, since a greedy one can fail when an expected record
// without a timestamp matches several actual ones.
std::string CompareMultiset(const std::string& where, const std::vector<const TestRecord*>& want,
                            const std::vector<const TestRecord*>& got) {
  std::vector<std::vector<size_t>> candidates(want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    for (size_t j = 0; j < got.size(); ++j) {
      if (RecordMatches(*want[i], *got[j])) candidates[i].push_back(j);
    }
  }
  std::vector<int> owner(got.size(), -1);
  std::vector<bool> paired(want.size(), false);
  for (size_t i = 0; i < want.size(); ++i) {
    std::vector<bool> visited(got.size(), false);
    paired[i] = Augment(i, candidates, visited, owner);
  }
  std::string diff;
  int shown = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!paired[i] && shown++ < 3) diff += "  missing  " + TestRecordToJson(*want[i]).dump() + "\n";
  }
  for (size_t j = 0; j < got.size(); ++j) {
    if (owner[j] < 0 && shown++ < 6)
      diff += "  extra    " + TestRecordToJson(*got[j]).dump() + "\n";
  }
  if (diff.empty()) return diff;
  return where + " (in any order): expected " + std::to_string(want.size()) + " records, got " +
         std::to_string(got.size()) + ", and some pair with none\n" + diff;
}

// A key's text in diffs and for grouping, with the window when the topic is windowed.
std::string KeyText(const TestRecord& record, bool windowed) {
  std::string text = record.key.dump();
  if (windowed && record.window) {
    text += " window [" + std::to_string(record.window->start) + ", " +
            std::to_string(record.window->end) + ")";
  }
  return text;
}

bool SameKey(const TestRecord& expected, const TestRecord& actual, bool windowed) {
  if (!JsonMatches(expected.key, actual.key, "/key", actual.decimals)) return false;
  return !windowed || (expected.window && actual.window && *expected.window == *actual.window);
}

}  // namespace

std::string CompareRecords(const std::vector<TestRecord>& expected,
                           const std::vector<TestRecord>& actual) {
  std::string diff;
  for (const std::string& topic : ExpectedTopics(expected)) {
    diff += CompareSequence("topic " + topic, OfTopic(expected, topic), OfTopic(actual, topic));
  }
  return diff;
}

std::string CompareRecordsPerKey(const std::vector<TestRecord>& expected,
                                 const std::vector<TestRecord>& actual) {
  // Diffs of this many keys at most: the first says most.
  constexpr int kShownKeys = 5;
  std::string diff;
  for (const std::string& topic : ExpectedTopics(expected)) {
    const std::vector<const TestRecord*> want = OfTopic(expected, topic);
    const std::vector<const TestRecord*> got = OfTopic(actual, topic);
    // Group by window too only when every expected keyed record names its window.
    const bool windowed = std::all_of(want.begin(), want.end(), [](const TestRecord* record) {
      return record->key.is_null() || record->window.has_value();
    });
    struct KeyRecords {
      std::string name;
      const TestRecord* first_actual = nullptr;
      std::vector<const TestRecord*> want, got;
    };
    std::vector<KeyRecords> keys;
    std::map<std::string, size_t> by_text;
    std::vector<const TestRecord*> want_keyless, got_keyless;
    // Expected-only keys are apart from actual ones: `expected_only` tells them apart.
    auto key_of = [&](const std::string& text, bool expected_only) -> KeyRecords& {
      auto [found, added] = by_text.emplace((expected_only ? "e" : "a") + text, keys.size());
      if (added) keys.push_back({text, nullptr, {}, {}});
      return keys[found->second];
    };
    for (const TestRecord* record : got) {
      if (record->key.is_null()) {
        got_keyless.push_back(record);
        continue;
      }
      KeyRecords& key = key_of(KeyText(*record, windowed), false);
      if (!key.first_actual) key.first_actual = record;
      key.got.push_back(record);
    }
    for (const TestRecord* record : want) {
      if (record->key.is_null()) {
        want_keyless.push_back(record);
        continue;
      }
      // Expected keys match actual ones as values do (1 and 1.0), so not by their text.
      auto found = std::find_if(keys.begin(), keys.end(), [&](const KeyRecords& key) {
        return key.first_actual && SameKey(*record, *key.first_actual, windowed);
      });
      KeyRecords& key = found != keys.end() ? *found : key_of(KeyText(*record, windowed), true);
      key.want.push_back(record);
    }
    int differing = 0;
    for (const KeyRecords& key : keys) {
      std::string key_diff =
          CompareSequence("topic " + topic + ", key " + key.name, key.want, key.got);
      if (key_diff.empty()) continue;
      if (differing++ < kShownKeys) diff += key_diff;
    }
    if (differing > kShownKeys) {
      diff +=
          "topic " + topic + ": " + std::to_string(differing - kShownKeys) + " more keys differ\n";
    }
    diff +=
        CompareMultiset("topic " + topic + ", records without a key", want_keyless, got_keyless);
  }
  return diff;
}

}  // namespace sidestream::host
