#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analyzer/logical_plan.h"
#include "expr/evaluator.h"
#include "functions/aggregate_function.h"
#include "runtime/aggregate_operator.h"
#include "runtime/operator.h"
#include "runtime/state_store.h"

namespace sidestream::runtime {

/// One row of a partition, as MATCH_RECOGNIZE keeps it.
struct MatchRow {
  int64_t timestamp = 0;
  int32_t partition = 0;
  int64_t offset = 0;
  types::Row values;  // the operator's input row
};

/// A path of the pattern's NFA through a run's rows: the instruction it waits at and the
/// variable each row so far was mapped to (one byte per row).
struct MatchThread {
  int pc = 0;
  std::string labels;
};

/// The attempts to match from one row: live threads in preference order, and the most
/// preferred complete match found so far. Finished once no thread is left.
struct MatchRun {
  int64_t start = 0;  // sequence number of its first row
  std::vector<MatchThread> threads;
  bool matched = false;
  std::string match;  // labels of the match
};

/// The matching state of one partition key: rows from the earliest live run (and the rows
/// PREV may read before it), rows held until stream time reaches them, and the runs.
struct MatchPartition {
  int64_t first_sequence = 0;  // sequence number of rows[0]
  std::vector<MatchRow> rows;
  std::vector<MatchRow> waiting;  // by timestamp, then arrival
  std::vector<MatchRun> runs;     // by start

  int64_t next_sequence() const { return first_sequence + static_cast<int64_t>(rows.size()); }
  /// Encodes into (Encode) and decodes from (Decode) one store value; Decode returns
  /// Corruption for a value of another shape.
  void Encode(types::Row& out) const;
  Status Decode(const types::Row& in);
};

/// A complete match: its first row's sequence number and each row's variable.
struct CompletedMatch {
  int64_t start = 0;
  std::string labels;
};

/// The compiled pattern and expressions of one MATCH_RECOGNIZE, run over one partition at a
/// time (a Pike VM over threads with their histories: DEFINE conditions may read earlier
/// rows, so threads at one instruction are merged only when their histories are equal).
/// Thread: one task thread (evaluators keep scratch values).
class PatternMatcher {
 public:
  /// A run keeps at most this many threads; past it the least preferred are dropped.
  static constexpr size_t kMaxThreadsPerRun = 1024;

  static Result<std::unique_ptr<PatternMatcher>> Compile(const analyzer::MatchRecognizeSpec& spec);

  /// Feeds the partition's next row (appended to `partition.rows` by the caller): every run
  /// steps, a new run starts at the row, and finished runs at the front are resolved into
  /// `completed` (in start order; AFTER MATCH SKIP decides which later runs survive).
  Status Advance(MatchPartition& partition, std::vector<CompletedMatch>& completed);
  /// Stream time reached `time`: runs that WITHIN no longer lets grow finish.
  Status Expire(MatchPartition& partition, int64_t time, std::vector<CompletedMatch>& completed);
  /// The earliest time at which Expire would finish a run, or INT64_MAX.
  int64_t NextExpiry(const MatchPartition& partition) const;
  /// The measures of `match`, appended to `out`.
  Status Measure(const MatchPartition& partition, const CompletedMatch& match, types::Row& out);
  /// Drops the rows no run (nor PREV) can read any more; after the matches were measured.
  void Trim(MatchPartition& partition) const;

  int64_t dropped_threads() const { return dropped_threads_; }
  int64_t evaluation_errors() const { return evaluation_errors_; }

 private:
  struct Reference {
    analyzer::MatchReferenceKind kind;
    int variable = -1;
    int64_t offset = 0;
    std::unique_ptr<expr::Evaluator> value;  // not for aggregates
    std::unique_ptr<functions::AggregateFunction> aggregate;
    std::vector<std::unique_ptr<expr::Evaluator>> arguments;
  };
  struct Expression {
    std::vector<Reference> references;
    std::unique_ptr<expr::Evaluator> evaluator;
    types::Row slots;
  };
  PatternMatcher() = default;
  static Result<Expression> CompileExpression(const analyzer::MatchExpression& expression);

  // Evaluates `expression` for a run starting at `start` whose rows carry `labels`.
  Status Evaluate(Expression& expression, const MatchPartition& partition, int64_t start,
                  const std::string& labels, types::Value& out);
  Status ComputeReference(Reference& reference, const MatchPartition& partition, int64_t start,
                          const std::string& labels, types::Value& out);
  // Follows jumps and splits from `pc` in preference order, adding threads that wait for a
  // row; true when a match was reached (the run's less preferred threads are then cut).
  bool AddClosure(MatchRun& run, int pc, const std::string& labels,
                  std::vector<MatchThread>& threads, std::vector<bool>& visited);
  Status Step(MatchPartition& partition, MatchRun& run);
  void Resolve(MatchPartition& partition, std::vector<CompletedMatch>& completed);

  std::vector<analyzer::PatternInstruction> program_;
  std::vector<std::unique_ptr<Expression>> definitions_;  // per variable; null: always true
  std::vector<Expression> measures_;
  std::optional<int64_t> within_ms_;
  bool skip_to_next_row_ = false;
  int64_t rows_before_ = 0;
  int64_t dropped_threads_ = 0;
  int64_t evaluation_errors_ = 0;
  std::vector<MatchThread> next_threads_;
  std::string candidate_;
  std::vector<types::Value> arguments_;
};

/// What a MatchRecognizeOperator computes.
struct MatchRecognizeOperatorSpec {
  std::vector<std::unique_ptr<expr::Evaluator>> partition_by;
  std::unique_ptr<PatternMatcher> matcher;
  LateRecordCallback on_late;
  std::unique_ptr<KeyValueStore> store;  // in memory when null
};

/// MATCH_RECOGNIZE ... ONE ROW PER MATCH over a stream (Flink SQL's semantics).
///
/// Order: rows are matched per PARTITION BY key in event-time order, as ORDER BY ROWTIME
/// says. A record waits until stream time (the task's largest timestamp minus the source's
/// WATERMARK delay) reaches its timestamp, then joins its partition's rows in timestamp order.
/// A record whose timestamp is already behind stream time when it arrives is late: it is not
/// matched, but counted and sent to the late-record output, as a record of a closed window.
/// Declare a WATERMARK on the source to let records arrive that much out of order.
/// State: per key, a MatchPartition (rows of live runs, waiting rows, runs) in memory and, at
/// each commit, encoded into `store` (changelogged; restored by RebuildIndexes). A run ends
/// when no thread can continue: a row fails it, the pattern is complete, or WITHIN has run out
/// (stream time reached its first row's time plus WITHIN; rows at or past that never join it,
/// as in Flink). Partial matches older than WITHIN are therefore dropped.
/// Emits: one row per match, once its run and every earlier run of the key have ended
/// (greedy quantifiers wait for a row that ends them or for WITHIN): the PARTITION BY values,
/// the measures, then ROWTIME, ROWPARTITION, ROWOFFSET of the match's last row, whose
/// timestamp the result carries. Rows with a NULL PARTITION BY value are skipped.
class MatchRecognizeOperator : public Operator {
 public:
  explicit MatchRecognizeOperator(MatchRecognizeOperatorSpec spec);

  Status Consume(RecordBatch& batch) override;
  Status AdvanceStreamTime(int64_t stream_time) override;
  Status Flush() override;
  /// After the store was restored: decodes every key's state and its timers.
  Status RebuildIndexes();

  int64_t late_records() const { return late_records_; }
  int64_t evaluation_errors() const;
  size_t partitions() const { return partitions_.size(); }

 private:
  using Key = types::Row;
  // Applies stream time to one key: releases its waiting rows and expires its runs.
  Status Run(const Key& key, MatchPartition& partition);
  Status MoveTo(int64_t stream_time);
  void Schedule(const Key& key, const MatchPartition& partition);
  void Emit(const Key& key, const MatchPartition& partition, const CompletedMatch& match);

  MatchRecognizeOperatorSpec spec_;
  std::unique_ptr<KeyValueStore> store_;
  absl::flat_hash_map<Key, MatchPartition, types::RowHash, types::RowEqual> partitions_;
  absl::flat_hash_set<Key, types::RowHash, types::RowEqual> dirty_;
  // When each key next needs attention: a waiting row's time or a run's WITHIN expiry.
  std::multimap<int64_t, Key> timers_;
  int64_t stream_time_ = INT64_MIN;
  int64_t late_records_ = 0;
  int64_t null_keys_ = 0;
  int64_t evaluation_errors_ = 0;
  Key key_;
  std::vector<CompletedMatch> completed_;
  types::Row encoded_;
  RecordBatch output_;
};

}  // namespace sidestream::runtime
