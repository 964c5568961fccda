#include "runtime/partition_group.h"

#include <algorithm>
#include <set>

namespace sidestream::runtime {

void MergeSourcesByTimestamp(std::span<const InputMessage> messages,
                             std::vector<InputMessage>& merged) {
  merged.clear();
  size_t sources = 0;
  for (const InputMessage& message : messages) sources = std::max(sources, message.source + 1);
  // Each source's messages, as positions in arrival order.
  std::vector<std::vector<size_t>> queues(sources);
  for (size_t i = 0; i < messages.size(); ++i) queues[messages[i].source].push_back(i);
  std::vector<size_t> heads(sources, 0);
  while (merged.size() < messages.size()) {
    size_t next = messages.size();
    for (size_t source = 0; source < sources; ++source) {
      if (heads[source] == queues[source].size()) continue;
      const size_t candidate = queues[source][heads[source]];
      if (next == messages.size() || messages[candidate].timestamp < messages[next].timestamp ||
          (messages[candidate].timestamp == messages[next].timestamp && candidate < next)) {
        next = candidate;
      }
    }
    merged.push_back(messages[next]);
    ++heads[messages[next].source];
  }
}

PartitionGroup::PartitionGroup(std::vector<std::string> source_topics, const Clock& clock,
                               std::chrono::milliseconds max_task_idle)
    : source_topics_(std::move(source_topics)), clock_(clock), max_task_idle_(max_task_idle) {
  for (const std::string& topic : source_topics_) {
    auto input = std::find(input_topics_.begin(), input_topics_.end(), topic);
    input_of_source_.push_back(static_cast<size_t>(input - input_topics_.begin()));
    if (input == input_topics_.end()) input_topics_.push_back(topic);
  }
}

void PartitionGroup::Reset() {
  start_offsets_.clear();
  waiting_since_.clear();
}

Result<int64_t> PartitionGroup::NextOffset(Source& source, const std::string& topic,
                                           int32_t partition, const NextOffsets& processed) {
  for (size_t index = 0; index < source_topics_.size(); ++index) {
    if (source_topics_[index] != topic) continue;
    auto found = processed.find({index, partition});
    if (found != processed.end()) return found->second;
  }
  auto [known, inserted] = start_offsets_.try_emplace({topic, partition}, -1);
  if (inserted) {
    ASSIGN_OR_RAISE(auto committed, source.Committed({{topic, partition}}));
    known->second = committed.empty() ? -1 : committed[0].offset;
  }
  if (known->second >= 0) return known->second;
  // Nothing committed: reading starts at the earliest offset (auto.offset.reset).
  return source.CachedWatermarks({topic, partition}).first;
}

Result<size_t> PartitionGroup::ProcessableCount(Source& source,
                                                std::span<const InputMessage> merged,
                                                const NextOffsets& processed) {
  const int32_t partition = merged.front().partition;
  const std::vector<std::string>& topics = input_topics_;
  if (topics.size() < 2) return merged.size();
  auto topic_of = [&](const InputMessage& message) { return input_of_source_[message.source]; };
  std::vector<size_t> left(topics.size(), 0);  // records of each topic not yet passed
  std::vector<int64_t> next(topics.size(), -1);
  for (const auto& message : merged) {
    const size_t topic = topic_of(message);
    ++left[topic];
    next[topic] = std::max(next[topic], message.offset + 1);
  }
  // Whether the broker holds records of a topic past what this poll fetched.
  std::vector<bool> behind(topics.size(), false);
  for (size_t topic = 0; topic < topics.size(); ++topic) {
    if (next[topic] < 0) {
      ASSIGN_OR_RAISE(next[topic], NextOffset(source, topics[topic], partition, processed));
    }
    const int64_t high = source.CachedWatermarks({topics[topic], partition}).second;
    behind[topic] = high < 0 || next[topic] < 0 || next[topic] < high;
  }
  // Records run in timestamp order while every topic that is behind still has some here:
  // an unfetched record of that topic may be older than the next one.
  size_t ready = 0;
  for (; ready < merged.size(); ++ready) {
    const bool copy = ready > 0 && merged[ready].offset == merged[ready - 1].offset &&
                      topic_of(merged[ready]) == topic_of(merged[ready - 1]);
    bool starved = false;
    for (size_t topic = 0; topic < topics.size(); ++topic) {
      starved = starved || (behind[topic] && left[topic] == 0);
    }
    if (starved && !copy) break;
    --left[topic_of(merged[ready])];
  }
  if (ready > 0) {
    waiting_since_.erase(partition);
    return ready;
  }
  const auto now = clock_.Now();
  const auto since = waiting_since_.try_emplace(partition, now).first;
  if (now - since->second < max_task_idle_) return ready;
  waiting_since_.erase(partition);  // waited long enough: run without the missing input
  return merged.size();
}

Result<int64_t> PartitionGroup::FetchAgain(Source& source,
                                           std::span<const InputMessage> unprocessed) {
  std::map<std::string, int64_t> first;                // per topic: its first unprocessed offset
  std::set<std::pair<std::string, int64_t>> messages;  // a message read by two sources once
  for (const auto& message : unprocessed) {
    const std::string& topic = source_topics_[message.source];
    auto [offset, inserted] = first.try_emplace(topic, message.offset);
    if (!inserted) offset->second = std::min(offset->second, message.offset);
    messages.insert({topic, message.offset});
  }
  std::vector<TopicPartitionOffset> offsets;
  for (const auto& [topic, offset] : first) {
    offsets.push_back({topic, unprocessed.front().partition, offset});
  }
  RETURN_NOT_OK(source.Seek(offsets));
  return static_cast<int64_t>(messages.size());
}

}  // namespace sidestream::runtime
