#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analyzer/analyzer.h"
#include "common/status.h"
#include "connectors/kafka/client_config.h"
#include "types/value.h"

namespace sidestream::host {

/// A pull query on a stream (ksqlDB 0.23+: a SELECT without EMIT CHANGES whose FROM is a
/// stream): a bounded scan of the stream's topic. Every partition is read by assignment (no
/// consumer group, nothing committed) from its first offset up to its end offset as of
/// Start; each record is decoded with the stream's formats (headers included) and runs
/// through the SELECT's WHERE and projection (runtime::Topology), and the scan ends when
/// every partition reached its end or LIMIT rows came out. Records that do not decode are
/// skipped and counted (ksqlDB logs them and goes on).
///
/// Ownership: owns its consumer and operators. Thread: one thread at a time (the REST
/// engine thread, between passes); destroying it stops the scan at once.
class StreamPullQuery {
 public:
  /// `analyzed`: a SELECT without EMIT CHANGES over one stream (Project over Filter over
  /// Scan). `partitions`: the stream topic's partition count. Reads the end offsets (a round
  /// trip to each partition's leader, up to `timeout` each). Unavailable when the broker does
  /// not answer; InvalidArgument when the plan is not a scan of one stream.
  static Result<std::unique_ptr<StreamPullQuery>> Start(
      const kafka::ClientConfig& client, int partitions,
      std::shared_ptr<const analyzer::AnalyzedStatement> analyzed, std::optional<int64_t> limit,
      std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~StreamPullQuery();

  /// Reads what has been fetched (waiting up to `wait` for the first record), up to
  /// `max_records`, and appends the result rows (in the projection's order) to `rows`.
  /// Returns true once the scan is over: every partition read to its end, or LIMIT rows
  /// returned in all. Errors: the consumer is unusable (Internal), or the scan passed
  /// `timeout` without progress (Unavailable).
  Result<bool> Poll(std::chrono::milliseconds wait, size_t max_records,
                    std::vector<types::Row>& rows);

  /// Whether LIMIT rows came out (ksqlDB then ends with "Limit Reached").
  bool limit_reached() const;
  /// Records read, and those skipped because they did not decode.
  int64_t records_read() const;
  int64_t decode_errors() const;

 private:
  struct State;
  explicit StreamPullQuery(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace sidestream::host
