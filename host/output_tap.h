#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/analyzer.h"
#include "common/status.h"
#include "runtime/source.h"
#include "types/value.h"

namespace sidestream::host {

/// A scalable push query (ksqlDB's push v2, `ksql.query.push.v2.enabled`): a SELECT ...
/// EMIT CHANGES of filters and projections over the sink of a persistent query running here,
/// served from that query's output records as they are produced, in process: no consumer, no
/// consumer group, no topic of its own. It sees the records produced after it was added
/// (ksqlDB's auto.offset.reset=latest for push v2).
///
/// The producing side (stream threads, through OutputTaps) copies each record of the sink's
/// topic into a buffer bounded by `max_buffered_bytes`; a record that does not fit is dropped
/// and the tap is marked overflowed (Poll then fails: its rows would have a gap). The reading
/// side decodes the records with the sink's formats and runs the SELECT's WHERE and
/// projection (runtime::Topology). `on_ready` is called (from the producing thread, without
/// the tap's lock) when the buffer goes from empty to not empty, so the reader can wake.
///
/// Ownership: shared by the registry and the reader. Thread: Offer from any thread; Poll and
/// the rest from one reader thread.
class OutputTap {
 public:
  struct Options {
    size_t max_buffered_bytes = 4 << 20;
    std::function<void()> on_ready;
    /// On a table: a delete (a tombstone, or a row the WHERE no longer passes) of a key whose
    /// last row came out is a row too, flagged in Poll's `tombstones`: its key columns (and
    /// window bounds) as projected, the other columns NULL (ksqlDB's TombstoneFactory, which
    /// only /query's JSON can show). Otherwise deletes give no row.
    bool table_deletes = false;
  };
  /// `analyzed`: a SELECT EMIT CHANGES over one source that runs record by record (Project,
  /// Filter, FlatMap over a Scan). InvalidArgument otherwise.
  static Result<std::shared_ptr<OutputTap>> Create(
      std::shared_ptr<const analyzer::AnalyzedStatement> analyzed, std::optional<int64_t> limit,
      Options options);
  ~OutputTap();

  /// The topic whose records the tap takes: its source's.
  const std::string& topic() const;

  /// A record produced to topic(); `key` or `value` with a null data() is absent (a tombstone
  /// for a null value). `timestamp_ms` 0 means now.
  void Offer(std::string_view key, std::string_view value, int64_t timestamp_ms);

  /// Appends the result rows of the records buffered so far (at most `max_records` records),
  /// in the projection's order. Unavailable once a record was dropped because the buffer was
  /// full (the reader fell behind: its rows would have a gap). With Options::table_deletes,
  /// `tombstones` (when given) gets one flag per row appended: whether it is a delete.
  Status Poll(size_t max_records, std::vector<types::Row>& rows,
              std::vector<bool>* tombstones = nullptr);
  /// LIMIT rows came out.
  bool limit_reached() const;
  /// Records offered, and those dropped for want of room.
  int64_t offered() const { return offered_.load(std::memory_order_relaxed); }
  int64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  struct State;
  struct Pending {
    std::string key, value;
    bool has_key = false, has_value = false;
    int64_t timestamp = 0;
  };
  explicit OutputTap(std::unique_ptr<State> state, Options options);

  std::unique_ptr<State> state_;  // reader thread only
  const Options options_;
  std::mutex mutex_;
  std::deque<Pending> pending_;  // under mutex_
  size_t pending_bytes_ = 0;     // under mutex_
  std::atomic<bool> overflowed_{false};
  std::atomic<int64_t> offered_{0};
  std::atomic<int64_t> dropped_{0};
};

/// The taps of one engine, by topic: every record a query's sink produces is offered to the
/// taps on its topic (after Produce accepted it). Costs one atomic load per record while no
/// tap is open. Thread: every method from any thread.
class OutputTaps {
 public:
  void Add(std::shared_ptr<OutputTap> tap);
  void Remove(const OutputTap* tap);
  size_t size() const { return static_cast<size_t>(count_.load(std::memory_order_acquire)); }
  void Publish(std::string_view topic, std::string_view key, std::string_view value,
               int64_t timestamp_ms);

 private:
  std::atomic<int> count_{0};
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<OutputTap>> taps_;  // under mutex_
};

/// `inner`, whose sinks also offer each record they accept to `taps`.
std::unique_ptr<runtime::Clients> TappingClients(std::unique_ptr<runtime::Clients> inner,
                                                 std::shared_ptr<OutputTaps> taps);

}  // namespace sidestream::host
