#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/status.h"
#include "host/offline_engine.h"
#include "query_generator.h"

/// The reference for the differential test: which records are late, and the windowed
/// GROUP BY computed by SQLite over the rest.
namespace sidestream::differential {

/// One (group, window) row of an EMIT FINAL result.
struct WindowResult {
  std::vector<nlohmann::json> group;  // in the query's GROUP BY order
  int64_t window_start = 0;
  int64_t window_end = 0;
  std::vector<nlohmann::json> aggregates;  // in the query's aggregate order
  int64_t timestamp = 0;                   // the largest timestamp applied to the window
};

/// One late-topic record: an input record that arrived after one of its windows closed.
struct LateResult {
  nlohmann::json key;     // the input record's key
  nlohmann::json record;  // the input record's value
  int64_t window_start = 0;
  int64_t window_end = 0;
  int64_t stream_time = 0;
  int64_t rowtime = 0;
  size_t arrival = 0;  // the input record's index: not part of the late topic
};

/// What a query produced: the results it emitted and the late records it diverted.
struct QueryResults {
  std::vector<WindowResult> windows;
  std::vector<LateResult> late;
  /// The arrivals that may be late on several partitions but not on one, or the reverse:
  /// late for a window by the one stream time, and not by the stream time of the records
  /// routed like it (same caller; same group when repartitioned), or the reverse. A task's
  /// stream time lies between those two, so the other arrivals are late alike on any
  /// number of partitions, whatever the hash.
  std::vector<size_t> partition_dependent;
};

/// How the run ends.
struct OracleOptions {
  /// After the last record, time passes with no input until every window has closed (the
  /// engine's AdvanceWallClock): those windows are emitted last, by window end, then creation.
  bool close_every_window = false;
};

/// Computes what `query` must produce over `records` (all of topic `cdr`, in arrival order):
///
/// - Stream time is the largest timestamp of the records so far, this one included; every
///   record advances it, also ones that the filter drops or whose group has a NULL.
/// - A record that passes the filter and has no NULL grouping value is assigned to its
///   windows: [start, start + size) with start a multiple of the advance, start >= 0
///   (Kafka Streams cuts hopping windows off at the epoch). Each (record, window) pair is
///   decided on its own: late when end + grace <= stream time at the record's arrival, so a
///   hopping record can be late for its older windows and applied to the newer ones.
///   Each late pair is one late-topic record.
/// - The applied pairs go into SQLite, which runs the GROUP BY with the window as grouping
///   columns. A window is emitted once end + grace <= the final stream time; the ones
///   still open are left out. Windows are listed in the order the engine documents: by the
///   record whose arrival closed them, then window end, then creation.
///
/// Returns Internal on an SQLite error (a bug in the test). Thread: any; no shared state.
Result<QueryResults> RunOracle(const WindowedQuery& query,
                               const std::vector<host::TestRecord>& records,
                               const OracleOptions& options = {});

/// The windows of `timestamp` under `query`, ascending, by the rule above.
std::vector<std::pair<int64_t, int64_t>> AssignWindows(const WindowedQuery& query,
                                                       int64_t timestamp);

}  // namespace sidestream::differential
