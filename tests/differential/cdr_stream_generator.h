#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "host/offline_engine.h"

/// Seeded random CDR-like streams for the differential test: records of topic `cdr`, keyed
/// by caller, whose values draw from small domains so that groups collide.
namespace sidestream::differential {

/// The value domains, shared with the query generator so filters hit real values.
inline constexpr std::array<const char*, 5> kCallers = {"A", "B", "C", "D", "E"};
inline constexpr std::array<const char*, 4> kCells = {"C1", "C2", "C3", "C4"};
inline constexpr std::array<const char*, 3> kCallees = {"x", "y", "z"};
inline constexpr std::array<const char*, 3> kRecordTypes = {"VOICE", "SMS", "DATA"};
inline constexpr int kMaxDuration = 600;

/// What the stream must exercise for one query: its window size and grace decide how
/// far records drift and how late the late ones are.
struct StreamShape {
  int64_t window_size_ms = 10'000;
  int64_t grace_ms = 0;
};

/// Emulates several Kafka partitions on the offline engine's single one: each partition
/// is a sequence of records in event-time order whose clock drifts from the others', and
/// the partitions interleave at random. On top, some records arrive out of order within
/// the grace period and some beyond it, values and keys are NULL at random, records are
/// duplicated, and the last record lies far in the future so that every earlier window
/// closes. Deterministic for a given seed. Every record has a distinct-or-duplicated
/// `cdr_id` and a timestamp >= 0.
std::vector<host::TestRecord> GenerateCdrStream(uint64_t seed, const StreamShape& shape);

}  // namespace sidestream::differential
