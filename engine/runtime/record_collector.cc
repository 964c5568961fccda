#include "runtime/record_collector.h"

#include <charconv>

namespace sidestream::runtime {

std::optional<WindowBounds> SplitWindowedKey(std::string_view& key) {
  const size_t at = key.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  const size_t slash = key.find('/', at);
  if (slash == std::string_view::npos) return std::nullopt;
  WindowBounds window;
  const char* end = key.data() + key.size();
  auto start = std::from_chars(key.data() + at + 1, key.data() + slash, window.start);
  auto finish = std::from_chars(key.data() + slash + 1, end, window.end);
  if (start.ec != std::errc() || start.ptr != key.data() + slash || finish.ec != std::errc() ||
      finish.ptr != end) {
    return std::nullopt;
  }
  key = key.substr(0, at);
  return window;
}

void AppendWindowedKey(std::string_view key, int64_t start, int64_t end, std::string& out) {
  char number[24];
  out.append(key);
  out += '@';
  out.append(number, std::to_chars(number, number + sizeof(number), start).ptr);
  out += '/';
  out.append(number, std::to_chars(number, number + sizeof(number), end).ptr);
}

TaskCallbacks RecordCollector::StageCallbacks(const std::string& topic, bool carry_sources) {
  TaskCallbacks callbacks;
  callbacks.max_message_bytes = max_message_bytes_;
  callbacks.carries_sources = carry_sources;
  callbacks.on_result = [this, topic, carry_sources, windowed = std::string(),
                         headers = std::vector<RecordHeader>()](const TaskResult& result) mutable {
    if (result.key && result.window) {
      windowed.clear();
      AppendWindowedKey(*result.key, result.window->start, result.window->end, windowed);
    }
    std::string_view key = result.window && result.key ? std::string_view(windowed)
                           : result.key                ? std::string_view(*result.key)
                                                       : std::string_view();
    // The headers of the input that caused the result, as Kafka Streams forwards the current
    // record's (through repartition topics too), then this stage's own for the next one.
    headers.clear();
    if (result.source) {
      for (const RecordHeader& header : result.source->headers) {
        if (!IsInternalHeader(header.name)) headers.push_back(header);
      }
    }
    if (result.retract) headers.push_back({kRetractHeader, "true"});
    if (result.old_value) headers.push_back({kOldValueHeader, *result.old_value});
    if (carry_sources && result.source) {
      if (result.source->key) headers.push_back({kSourceKeyHeader, *result.source->key});
      headers.push_back({kSourceValueHeader, result.source->value.value_or("")});
    }
    produced_.fetch_add(1, std::memory_order_relaxed);
    return sink_->Produce(topic, -1, key,
                          result.value ? std::string_view(*result.value) : std::string_view(),
                          result.timestamp, headers);
  };
  callbacks.on_side_output = [this](const std::string& side_topic, const std::string* key,
                                    const std::string& value, int64_t timestamp) {
    produced_.fetch_add(1, std::memory_order_relaxed);
    return sink_->Produce(side_topic, -1, key ? std::string_view(*key) : std::string_view(), value,
                          timestamp);
  };
  return callbacks;
}

ChangelogStore::Sink RecordCollector::ChangelogWriter(std::string topic, int32_t partition) {
  return
      [this, topic = std::move(topic), partition](std::string_view key, const std::string* value) {
        changelog_records_.fetch_add(1, std::memory_order_relaxed);
        return sink_->Produce(topic, partition, key,
                              value ? std::string_view(*value) : std::string_view(), 0);
      };
}

}  // namespace sidestream::runtime
