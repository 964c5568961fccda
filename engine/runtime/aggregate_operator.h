#pragma once

#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>
#include <vector>

#include "expr/evaluator.h"
#include "functions/aggregate_function.h"
#include "runtime/operator.h"
#include "runtime/state_store.h"
#include "sql/ast.h"

namespace sidestream::runtime {

/// One aggregate call: its implementation and the evaluators of its non-literal
/// arguments (over the operator's input row).
struct AggregateCall {
  std::unique_ptr<functions::AggregateFunction> function;
  std::vector<std::unique_ptr<expr::Evaluator>> arguments;
};

/// Called for a record that arrives after its window closed (end + grace <= stream time).
using LateRecordCallback =
    std::function<Status(const Record& input, const WindowBounds& window, int64_t stream_time)>;

/// What an AggregateOperator computes.
struct AggregateSpec {
  std::vector<std::unique_ptr<expr::Evaluator>> group_by;
  std::vector<AggregateCall> calls;
  std::optional<sql::WindowSpec> window;  // grace already resolved by the analyzer
  bool emit_final = false;
  LateRecordCallback on_late;
  std::unique_ptr<KeyValueStore> store;  // the groups' state; in memory when null
  /// Whether `store` keeps its entries ordered by window start (KeyValueStore::
  /// OrderByWindowStart said so): windows then close through it, with no index of groups.
  bool store_ordered_by_window = false;
};

/// GROUP BY with an optional TUMBLING, HOPPING or SESSION window.
///
/// State: per group and window, the aggregate states (types::Value, one per call) and the
/// largest record timestamp. Over a table the input comes from a TableChangesOperator:
/// a record marked `retract` is undone from its group rather than added.
/// Emits: EMIT CHANGES — the updated row of every window a record touched, with that
/// record's timestamp (merged sessions are first retracted with tombstones); EMIT FINAL —
/// each window once, when it closes (end + grace <= stream time; for a session,
/// end + grace + gap < stream time, as in Kafka Streams), in window-end order, with the
/// window's largest record timestamp (a session's: its end).
/// Output row: group values, aggregate results, then ROWTIME, WINDOWSTART, WINDOWEND
/// (NULL bounds when not windowed), matching the analyzer's Aggregate schema.
/// Late records (their window already closed) are not applied: they go to on_late and are
/// counted. Closed windows are dropped from state.
/// State lives in KeyValueStores; at a commit their Flush() is where a persistent store
/// writes its batch and changelog. A store error is returned as it is (the query fails).
/// Windows close through an index of their groups by window end (`closing_`), or, when the
/// store is ordered by window start (tumbling and hopping windows on RocksDB), through the
/// store itself: the operator keeps only the open windows' starts, and a closing window is
/// one EraseWindow (after one ForEachInWindow for EMIT FINAL), so state stays bounded by
/// the open windows and expiry reads no key.
class AggregateOperator : public Operator {
 public:
  explicit AggregateOperator(AggregateSpec spec);

  Status Consume(RecordBatch& batch) override;
  Status AdvanceStreamTime(int64_t stream_time) override;
  Status Flush() override;

  int64_t late_records() const { return late_records_; }
  /// Records whose GROUP BY or aggregate arguments failed, and failures turned into NULL.
  int64_t evaluation_errors() const;
  /// Records skipped because a GROUP BY value was NULL (ksqlDB does the same).
  int64_t null_keys() const { return null_keys_; }
  size_t open_windows() const { return groups_->size(); }
  /// Pull queries: pushes the current result of every stored group and window downstream
  /// (through HAVING and the projection, as a record would), or only of `groups` (each the
  /// group values) when given and the aggregation is not windowed: a key lookup reads just
  /// those entries. Groups whose rows were all retracted are left out. Call it between
  /// Consume calls, on the task's thread; it changes no state.
  Status EmitStored(const std::vector<types::Row>* groups);
  /// After the store was restored: rebuilds the in-memory indexes of open windows.
  /// Corruption when a restored key does not have this aggregation's shape.
  Status RebuildIndexes();

 private:
  // The windows that end at one time, in the order they opened: their group values laid
  // end to end (`group_by.size()` each), so tracking a window allocates nothing per group.
  struct ClosingWindows {
    std::vector<types::Value> groups;
    std::vector<int64_t> starts;
  };
  using Arguments = std::vector<std::vector<types::Value>>;

  // Applies one record; results go to output_.
  Status ConsumeOne(const Record& record);
  // Whether `retraction` and `next` are the two halves of one table update (same input
  // message) that fall in the same group.
  bool SameGroupUpdate(const Record& retraction, const Record& next);
  // Emits (EMIT FINAL) and drops the windows that stream time `stream_time` closes.
  Status CloseWindows(int64_t stream_time);
  // CloseWindows through a store ordered by window start.
  Status CloseOrderedWindows();
  // Evaluates the group key and the arguments of every call for `record`; false when
  // one fails or the group key has a NULL (counted, unless a retraction: its row was
  // counted when it was added).
  bool EvaluateInputs(const Record& record);
  Status Apply(const Record& record);
  Status ApplySession(const Record& record);
  void Emit(std::span<const types::Value> group, const WindowBounds& window,
            const types::Row& state, int64_t timestamp);
  void EmitTombstone(std::span<const types::Value> group, const WindowBounds& window,
                     int64_t timestamp);
  // A result record in output_ with the group values, ROWTIME and window bounds set; the
  // caller fills in the aggregate results.
  Record& AppendOutput(std::span<const types::Value> group, const WindowBounds& window,
                       int64_t timestamp, bool tombstone);
  // The store key of a group and window: the group values, then the window's start (and,
  // for a session, its end).
  const types::Row& StoreKey(std::span<const types::Value> group, const WindowBounds& window);
  // Sets `state` to a group's initial stored state: one Value per call, then the largest
  // record timestamp and the number of rows applied minus rows retracted.
  void InitialState(types::Row& state) const;
  void CountRow(types::Row& state, int64_t timestamp, int64_t rows) const;
  void TrackWindow(const types::Row& group, const WindowBounds& window);
  int64_t grace() const { return spec_.window ? spec_.window->grace_ms.value_or(0) : 0; }

  AggregateSpec spec_;
  std::unique_ptr<KeyValueStore> groups_;  // StoreKey -> state (see InitialState)
  // Open windows by end: the order in which they close (stores not ordered by window).
  std::map<int64_t, ClosingWindows> closing_;
  // The starts of the open windows, when the store is ordered by window start.
  std::set<int64_t> open_starts_;
  // SESSION windows: the open sessions of each group, so a record finds the sessions it
  // may join without scanning every group.
  std::unordered_map<types::Row, std::vector<WindowBounds>, types::RowHash, types::RowEqual>
      sessions_;
  int64_t stream_time_ = INT64_MIN;
  int64_t late_records_ = 0;
  int64_t evaluation_errors_ = 0;
  int64_t null_keys_ = 0;

  // Reused per record, so that a record touching existing groups allocates nothing.
  types::Row group_, pending_group_, closing_group_, store_key_, combined_;
  bool emit_ = true;  // false while applying the first half of a same-group update
  // The batch position of the record being applied (Record::input_index), which its results
  // carry (so that the sink writes that input's headers, as Kafka Streams forwards the current
  // record's); kNoInput for windows that close, which no one input caused.
  static constexpr uint32_t kNoInput = std::numeric_limits<uint32_t>::max();
  uint32_t cause_ = kNoInput;
  Arguments arguments_;
  std::vector<WindowBounds> windows_, merged_;
  RecordBatch output_;
};

}  // namespace sidestream::runtime
