#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"
#include "runtime/source.h"

/// A task's local checkpoint (Kafka Streams' `.checkpoint` file): per changelog partition, the
/// offset from which the changelog holds records the task's local stores may lack. A task
/// that restarts on the same machine opens its stores and replays only from there.
namespace sidestream::runtime {

/// Per changelog topic partition, the next offset to replay.
using CheckpointOffsets = std::map<TopicPartition, int64_t>;

/// The checkpoint's file name in a task's directory.
inline constexpr const char* kCheckpointFileName = ".checkpoint";

/// Reads the checkpoint at `path`: NotFound when there is none, Corruption (saying what is
/// wrong) when it is not one this version wrote, IOError when it cannot be read.
Result<CheckpointOffsets> ReadCheckpoint(const std::string& path);

/// Replaces the checkpoint at `path` with `offsets`, atomically (a temporary file, synced,
/// then renamed), so a crash leaves the old checkpoint or the new one. IOError on failure.
Status WriteCheckpoint(const std::string& path, const CheckpointOffsets& offsets);

/// Removes the checkpoint at `path`, if any. IOError on failure.
Status DeleteCheckpoint(const std::string& path);

}  // namespace sidestream::runtime
