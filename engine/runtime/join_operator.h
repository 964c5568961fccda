#pragma once

#include <map>
#include <memory>
#include <set>
#include <utility>

#include "expr/evaluator.h"
#include "runtime/operator.h"
#include "runtime/state_store.h"
#include "sql/ast.h"

namespace sidestream::runtime {

/// kForeignKey: a table-table join of a left value (a foreign key) on the right table's
/// PRIMARY KEY, keyed by the left table's key, within one task. On more than one partition it
/// runs as Kafka Streams' three foreign-key processors, each in the stage of its partitioning:
/// kForeignKeySubscribe, kForeignKeyRespond and kForeignKeyResolve (see JoinOperator).
enum class JoinKind {
  kStreamStream,
  kStreamTable,
  kTableTable,
  kForeignKey,
  kForeignKeySubscribe,
  kForeignKeyRespond,
  kForeignKeyResolve,
};

/// What a subscription record (kForeignKeySubscribe's output) asks of kForeignKeyRespond.
enum class SubscriptionKind : int32_t {
  kSubscribeNew = 0,        // a new left row refers to the key: answer with the join
  kSubscribeReplacing = 1,  // an updated left row refers to it (INNER, no match: a tombstone)
  kUnsubscribe = 2,         // the left row no longer refers to it: no answer
  kLeftOnly = 3,            // LEFT join, NULL foreign key: answer the row with NULLs
  kDelete = 4,              // answer a tombstone (left delete; INNER row whose key went NULL)
};

/// What a JoinOperator computes. Side 0 is the left input, side 1 the right.
struct JoinSpec {
  JoinKind kind = JoinKind::kStreamStream;
  sql::JoinType type = sql::JoinType::kInner;
  /// Each side's join key, evaluated over that side's own rows (kForeignKey: the left row's
  /// foreign key and the right table's PRIMARY KEY).
  std::unique_ptr<expr::Evaluator> keys[2];
  /// kForeignKey: the left table's PRIMARY KEY over its rows (the result's key), and where a
  /// left row holds it (-1: nowhere), so that the result's tombstones carry it.
  std::unique_ptr<expr::Evaluator> left_key;
  int left_key_column = -1;
  size_t widths[2] = {0, 0};  // values in each side's rows
  /// Stream-stream: a left record at t joins right records in [t - before, t + after].
  int64_t before_ms = 0;
  int64_t after_ms = 0;
  int64_t grace_ms = 0;
  /// GRACE PERIOD was given: an outer join's unmatched record waits until its window
  /// closes, so it is emitted only if nothing joins it (Kafka Streams' spurious-result
  /// fix). Without GRACE it is emitted at once, and again joined if a match arrives.
  bool hold_unmatched = false;
  /// Each side's state; in memory when null.
  std::unique_ptr<KeyValueStore> stores[2];
};

/// Joins two inputs on an equality of key expressions, as Kafka Streams does:
/// - stream-stream: each side buffers its records for before + after + grace behind its
///   newest record (a window store's retention); a record joins the other side's buffered
///   records within the window, with the later of the two timestamps. A record older than
///   its side's retention joins but is not kept (counted as late).
/// - stream-table: a stream record looks up the table's current row (the table side only
///   updates its state), with the stream record's timestamp.
/// - table-table: an update on either side joins the other side's current row; a delete
///   becomes a tombstone (or the row with NULLs for an outer join's other side).
/// - foreign key (INNER or LEFT), as Kafka Streams' subscription and response processors
///   within one task: a left row joins the right row whose key its foreign key is, with the
///   left row's timestamp; a right update joins every left row that refers to it, with the
///   right row's timestamp, in left key order (a right delete makes them tombstones, or rows
///   with NULLs for LEFT). A left delete is a tombstone. An INNER join's left update that
///   finds no right row is a tombstone when the left key had a row before (its old result,
///   if any, is retracted: the foreign key may have changed). A NULL foreign key joins
///   nothing (LEFT: the row with NULLs). Results are keyed by the left table's key.
/// - foreign key over partitions (Kafka Streams' KIP-213), the same results per left key at
///   the end, through two topics; W is the left row's width, J the join's output width:
///   - kForeignKeySubscribe (input 0: the left table) keeps per left key [version, foreign
///     key, exists] and emits subscription rows [left row (W), foreign key, SubscriptionKind,
///     version]: an unsubscribe for the old foreign key when it changed, then a subscription
///     for the new one, or for a NULL one (or a delete) the answer itself, with a NULL key.
///     Versions count each left key's changes (kept after a delete, so they only grow).
///   - kForeignKeyRespond (input 0: subscription rows, input 1: the right table) keeps the
///     subscriptions [version, foreign key, left row] per left key (and in memory the index
///     foreign key -> left keys) and the right rows, and answers as kForeignKey does, with
///     rows [join output (J), version, delete], never tombstones (the delete flag says it).
///   - kForeignKeyResolve (input 0: those answers) keeps per left key the newest version it
///     let through and drops older answers (stale: the left row changed since, and its
///     answer may come from another partition first); emits the join output, a tombstone
///     where the answer's delete flag is set.
/// LEFT, RIGHT and FULL OUTER joins fill the missing side with NULLs. Records with a NULL
/// key or (for streams) a NULL value do not join; nor do records whose key fails to evaluate
/// (counted). Windowed sources join within the same
/// window: the window is part of the key.
/// Output row: the left row, the right row, then the join key (COALESCE of the sides).
/// State: KeyValueStores, like the aggregate's; a store error stops the join with it. A
/// foreign-key join keeps each left row with its foreign key, each right row, and in memory
/// an index from foreign key to the left keys that refer to it (rebuilt from the left store
/// by RebuildIndexes). Nothing is held back: every result is emitted at once, and a commit
/// only flushes the stores.
class JoinOperator : public Operator {
 public:
  explicit JoinOperator(JoinSpec spec);
  ~JoinOperator() override;

  /// The consumer that side 0 (left) or 1 (right) feeds.
  RecordConsumer* input(int side);
  /// Records arrive through input(side); this is not called.
  Status Consume(RecordBatch& batch) override;
  Status Flush() override;
  /// After the stores were restored: rebuilds the in-memory indexes of buffered records.
  Status RebuildIndexes();
  /// Stream-stream records too old to be kept for later joins.
  int64_t late_records() const { return late_records_; }
  /// kForeignKeyResolve: answers dropped because the left row changed since.
  int64_t stale_answers() const { return stale_answers_; }
  /// Records whose join key failed to evaluate (they join nothing).
  int64_t evaluation_errors() const {
    return evaluation_errors_ + spec_.keys[0]->nested_errors() + spec_.keys[1]->nested_errors();
  }

 private:
  class Input;
  struct Pending {
    int side = 0;
    types::Row key;
  };

  Status ConsumeSide(int side, RecordBatch& batch);
  // Fills key_ with the record's join key (and window); false when the key is NULL.
  bool ComputeKey(int side, const Record& record);
  Status ApplyStreamStream(int side, const Record& record);
  Status ApplyStreamTable(int side, const Record& record);
  Status ApplyTableTable(int side, const Record& record);
  Status ApplyForeignKeyLeft(const Record& record);
  Status ApplyForeignKeyRight(const Record& record);
  Status ApplySubscribe(const Record& record);
  Status ApplyRespondSubscription(const Record& record);
  Status ApplyRespondRight(const Record& record);
  Status ApplyResolve(const Record& record);
  // kForeignKeySubscribe: appends a subscription row.
  void EmitSubscription(const Record& trigger, const types::Value& foreign_key,
                        SubscriptionKind kind, int64_t version);
  // kForeignKeyRespond: appends an answer (a tombstone's row is NULL but for the left key).
  void EmitAnswer(const Record& trigger, const types::Row& key, const types::Value* left,
                  const types::Value* right, int64_t version, bool tombstone);
  // Drops the left key from the index entry of `foreign_key`.
  void Unsubscribe(const types::Value& foreign_key, const types::Value& left_key);
  // Appends a foreign-key join's result for the left key `key`.
  void EmitForeignKey(const Record& trigger, const types::Row& key, const types::Value* left,
                      const types::Value* right, bool tombstone);
  // Appends a result for `key`: each side's row, or null for NULLs; attributes from `trigger`.
  void Emit(const Record& trigger, const types::Row& key, const types::Value* left,
            const types::Value* right, int64_t timestamp, bool tombstone);
  // Emits the held unmatched records whose window has closed by the trigger's stream time.
  Status EmitClosedUnmatched(const Record& trigger);
  // Drops buffered stream records that no longer join anything.
  Status Expire();
  int64_t Retention() const { return spec_.before_ms + spec_.after_ms + spec_.grace_ms; }
  bool Outer(int side) const;

  JoinSpec spec_;
  std::unique_ptr<Input> inputs_[2];
  // Stream sides: key -> buffered records, each [timestamp, sequence, settled, row...].
  // Table sides: key -> [timestamp, row...].
  std::unique_ptr<KeyValueStore> stores_[2];
  // Stream-stream: buffered records by timestamp, to expire them; unmatched outer records
  // waiting for their window to close, by (timestamp, sequence).
  std::multimap<int64_t, types::Row> expiry_[2];
  std::map<std::pair<int64_t, int64_t>, Pending> pending_;
  // Foreign key: foreign key -> the keys of the left rows that hold it, in key order.
  struct ValueLess {
    bool operator()(const types::Value& a, const types::Value& b) const {
      return types::Value::Compare(a, b) < 0;
    }
  };
  std::map<types::Value, std::set<types::Value, ValueLess>, ValueLess> subscribers_;
  int64_t sequence_ = 0;
  int64_t observed_[2] = {INT64_MIN / 2, INT64_MIN / 2};  // each side's newest timestamp
  int64_t late_records_ = 0;
  int64_t evaluation_errors_ = 0;
  int64_t stale_answers_ = 0;
  types::Row key_;
  types::Value key_value_;
  RecordBatch output_;
};

}  // namespace sidestream::runtime
