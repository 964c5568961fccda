#pragma once

#include <span>
#include <vector>

#include "runtime/stream_task.h"

namespace sidestream::runtime {

/// Puts the messages of one task that come from several sources (a join's inputs) into
/// `merged` in timestamp order across sources, keeping each source's own order: as Kafka
/// Streams does, the next message is always the oldest at the head of a source (ties go to
/// the one that arrived first). So a table row is applied before the stream records that
/// follow it in time, even when a poll returned them the other way round.
void MergeSourcesByTimestamp(std::span<const InputMessage> messages,
                             std::vector<InputMessage>& merged);

}  // namespace sidestream::runtime
