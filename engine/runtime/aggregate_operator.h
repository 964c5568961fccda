#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
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
  /// For table sources: the input row's first `source_key_columns` values are the table's
  /// key; an update retracts the row it replaces, a tombstone retracts it for good.
  bool table_source = false;
  size_t source_key_columns = 0;
  LateRecordCallback on_late;
};

/// GROUP BY with an optional TUMBLING, HOPPING or SESSION window.
///
/// State: per group and window, the aggregate states (types::Value, one per call) and the
/// largest record timestamp; for table sources, the last input row of each table key.
/// Emits: EMIT CHANGES — the updated row of every window a record touched, with that
/// record's timestamp (merged sessions are first retracted with tombstones); EMIT FINAL —
/// each window once, when it closes (end + grace <= stream time; for a session,
/// end + grace + gap < stream time, as in Kafka Streams), in window-end order, with the
/// window's largest record timestamp (a session's: its end).
/// Output row: group values, aggregate results, then ROWTIME, WINDOWSTART, WINDOWEND
/// (NULL bounds when not windowed), matching the analyzer's Aggregate schema.
/// Late records (their window already closed) are not applied: they go to on_late and are
/// counted. Closed windows are dropped from state.
/// State lives in KeyValueStores (in memory today); at a commit their Flush() is where a
/// persistent store writes its batch and changelog.
class AggregateOperator : public Operator {
 public:
  explicit AggregateOperator(AggregateSpec spec);

  Status Consume(Record& record) override;
  Status AdvanceStreamTime(int64_t stream_time) override;

  int64_t late_records() const { return late_records_; }
  /// Records whose GROUP BY or aggregate arguments failed, and failures turned into NULL.
  int64_t evaluation_errors() const;
  /// Records skipped because a GROUP BY value was NULL (ksqlDB does the same).
  int64_t null_keys() const { return null_keys_; }
  size_t open_windows() const { return groups_->size(); }

 private:
  struct GroupKey {
    types::Row values;
    WindowBounds window;
    friend bool operator==(const GroupKey& a, const GroupKey& b) {
      return a.window == b.window && types::RowEqual()(a.values, b.values);
    }
  };

  // Evaluates the group key and the arguments of every call for `row`.
  Status EvaluateInputs(const types::Row& row, types::Row& group,
                        std::vector<std::vector<types::Value>>& arguments);
  Status Apply(const Record& record, const types::Row& group,
               const std::vector<std::vector<types::Value>>& arguments, bool retract);
  Status ApplySession(const Record& record, const types::Row& group,
                      const std::vector<std::vector<types::Value>>& arguments);
  Status Emit(const GroupKey& key, const types::Row& state, int64_t timestamp);
  // The store key of a group and window: the group values, then window start and end.
  const types::Row& StoreKey(const GroupKey& key);
  // A group's stored state: one Value per call, then the largest record timestamp and
  // the number of rows applied minus rows retracted.
  types::Row InitialState() const;
  void CountRow(types::Row& state, int64_t timestamp, int64_t rows) const;
  Status EmitTombstone(const GroupKey& key, int64_t timestamp);
  void TrackWindow(const GroupKey& key);
  int64_t grace() const { return spec_.window ? spec_.window->grace_ms.value_or(0) : 0; }

  AggregateSpec spec_;
  std::unique_ptr<KeyValueStore> groups_;      // StoreKey -> state (see InitialState)
  std::unique_ptr<KeyValueStore> table_rows_;  // table sources: table key -> last row
  // Open windows by (end, arrival sequence): the order in which they close.
  std::map<std::pair<int64_t, uint64_t>, GroupKey> closing_order_;
  uint64_t sequence_ = 0;
  // SESSION windows: the open sessions of each group, so a record finds the sessions it
  // may join without scanning every group.
  std::unordered_map<types::Row, std::vector<WindowBounds>, types::RowHash, types::RowEqual>
      sessions_;
  int64_t stream_time_ = INT64_MIN;
  int64_t late_records_ = 0;
  int64_t evaluation_errors_ = 0;
  int64_t null_keys_ = 0;

  // Reused per record.
  types::Row group_;
  std::vector<std::vector<types::Value>> arguments_;
  std::vector<WindowBounds> windows_;
  types::Row store_key_;
  Record output_;
};

}  // namespace sidestream::runtime
