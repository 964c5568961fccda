#include "runtime/partition_group.h"

#include <algorithm>

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

}  // namespace sidestream::runtime
