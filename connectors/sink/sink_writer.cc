#include "connectors/sink/sink_writer.h"

#include <cstdint>
#include <unordered_map>

namespace sidestream::sink {

namespace {
constexpr size_t kSuperseded = SIZE_MAX;  // marks a record a later one of its key replaced
}  // namespace

void SelectLatest(std::span<const SinkRecord> records, const OffsetCache& cache,
                  std::vector<size_t>& selected, WriteResult& result) {
  selected.clear();
  // Per key: the position in `selected` of its latest record so far. A key lives in one
  // partition, so the last record of a key in the batch is its newest.
  std::unordered_map<std::string_view, size_t> latest;
  latest.reserve(records.size());
  for (size_t index = 0; index < records.size(); ++index) {
    const SinkRecord& record = records[index];
    auto stored = cache.find(std::pair<std::string_view, int32_t>(record.topic, record.partition));
    if (stored != cache.end() && record.offset <= stored->second) {
      ++result.skipped;
      continue;
    }
    if (!record.key) {
      result.rejected.push_back({index, "the record has no key"});
      continue;
    }
    auto [position, inserted] = latest.try_emplace(*record.key, selected.size());
    if (inserted) {
      selected.push_back(index);
    } else {
      selected[position->second] = kSuperseded;
      position->second = selected.size();
      selected.push_back(index);
      ++result.folded;
    }
  }
  std::erase(selected, kSuperseded);
}

OffsetCache HighestOffsets(std::span<const SinkRecord> records) {
  OffsetCache highest;
  for (const SinkRecord& record : records) {
    auto [entry, inserted] =
        highest.try_emplace({std::string(record.topic), record.partition}, record.offset);
    if (!inserted && record.offset > entry->second) entry->second = record.offset;
  }
  return highest;
}

void ExpandKeyTemplate(std::string_view key_template, std::string_view key, std::string_view topic,
                       std::string& out) {
  constexpr std::string_view kKey = "{KEY}";
  constexpr std::string_view kTopic = "{TOPIC}";
  size_t at = 0;
  while (at < key_template.size()) {
    const size_t brace = key_template.find('{', at);
    if (brace == std::string_view::npos) {
      out.append(key_template.substr(at));
      return;
    }
    out.append(key_template.substr(at, brace - at));
    std::string_view rest = key_template.substr(brace);
    if (rest.starts_with(kKey)) {
      out.append(key);
      at = brace + kKey.size();
    } else if (rest.starts_with(kTopic)) {
      out.append(topic);
      at = brace + kTopic.size();
    } else {
      out += '{';
      at = brace + 1;
    }
  }
}

Result<int64_t> ReloadOffset(OffsetCache& cache, std::string_view topic, int32_t partition,
                             const std::function<Status(std::span<const SinkRecord>)>& load) {
  if (auto cached = cache.find(std::pair<std::string_view, int32_t>(topic, partition));
      cached != cache.end()) {
    cache.erase(cached);
  }
  SinkRecord probe;
  probe.topic = topic;
  probe.partition = partition;
  RETURN_NOT_OK(load(std::span(&probe, 1)));
  return cache.find(std::pair<std::string_view, int32_t>(topic, partition))->second;
}

}  // namespace sidestream::sink
