#include "runtime/match_recognize_operator.h"

#include <algorithm>
#include <limits>

namespace sidestream::runtime {

using analyzer::MatchReferenceKind;
using analyzer::PatternInstruction;
using types::Row;
using types::Value;

namespace {

constexpr int64_t kStateVersion = 1;

void EncodeRows(const std::vector<MatchRow>& rows, Row& out) {
  out.push_back(Value::Bigint(static_cast<int64_t>(rows.size())));
  for (const MatchRow& row : rows) {
    out.push_back(Value::Bigint(row.timestamp));
    out.push_back(Value::Bigint(row.partition));
    out.push_back(Value::Bigint(row.offset));
    out.push_back(Value::Array(row.values));
  }
}

// Reads the value at `at` as a count or number; false when the state is malformed.
bool ReadInteger(const Row& in, size_t& at, int64_t& out) {
  if (at >= in.size() || in[at].kind() != types::TypeId::kBigint) return false;
  out = in[at++].integer();
  return true;
}

bool DecodeRows(const Row& in, size_t& at, std::vector<MatchRow>& rows) {
  int64_t count = 0;
  if (!ReadInteger(in, at, count) || count < 0 || static_cast<size_t>(count) > in.size()) {
    return false;
  }
  rows.resize(static_cast<size_t>(count));
  for (MatchRow& row : rows) {
    int64_t partition = 0;
    if (!ReadInteger(in, at, row.timestamp) || !ReadInteger(in, at, partition) ||
        !ReadInteger(in, at, row.offset) || at >= in.size() ||
        in[at].kind() != types::TypeId::kArray) {
      return false;
    }
    row.partition = static_cast<int32_t>(partition);
    row.values = in[at++].children();
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------- MatchPartition

void MatchPartition::Encode(Row& out) const {
  out.clear();
  out.push_back(Value::Bigint(kStateVersion));
  out.push_back(Value::Bigint(first_sequence));
  EncodeRows(rows, out);
  EncodeRows(waiting, out);
  out.push_back(Value::Bigint(static_cast<int64_t>(runs.size())));
  for (const MatchRun& run : runs) {
    out.push_back(Value::Bigint(run.start));
    out.push_back(run.matched ? Value::Bytes(run.match) : Value::Null());
    out.push_back(Value::Bigint(static_cast<int64_t>(run.threads.size())));
    for (const MatchThread& thread : run.threads) {
      out.push_back(Value::Bigint(thread.pc));
      out.push_back(Value::Bytes(thread.labels));
    }
  }
}

Status MatchPartition::Decode(const Row& in) {
  const Status corrupt = Status::Corruption(
      "restored state of a MATCH_RECOGNIZE has the wrong shape: the changelog belongs to "
      "another query");
  size_t at = 0;
  int64_t version = 0, run_count = 0;
  if (!ReadInteger(in, at, version) || version != kStateVersion ||
      !ReadInteger(in, at, first_sequence) || !DecodeRows(in, at, rows) ||
      !DecodeRows(in, at, waiting) || !ReadInteger(in, at, run_count) || run_count < 0 ||
      static_cast<size_t>(run_count) > in.size()) {
    return corrupt;
  }
  runs.resize(static_cast<size_t>(run_count));
  for (MatchRun& run : runs) {
    int64_t threads = 0;
    if (!ReadInteger(in, at, run.start) || at >= in.size()) return corrupt;
    run.matched = !in[at].is_null();
    run.match = run.matched ? in[at].string() : std::string();
    ++at;
    if (!ReadInteger(in, at, threads) || threads < 0 || static_cast<size_t>(threads) > in.size()) {
      return corrupt;
    }
    run.threads.resize(static_cast<size_t>(threads));
    for (MatchThread& thread : run.threads) {
      int64_t pc = 0;
      if (!ReadInteger(in, at, pc) || at >= in.size() || in[at].kind() != types::TypeId::kBytes) {
        return corrupt;
      }
      thread.pc = static_cast<int>(pc);
      thread.labels = in[at++].string();
    }
  }
  return at == in.size() ? Status::OK() : corrupt;
}

// ---------------------------------------------------------------- PatternMatcher

Result<PatternMatcher::Expression> PatternMatcher::CompileExpression(
    const analyzer::MatchExpression& expression) {
  Expression compiled;
  for (const analyzer::MatchReference& reference : expression.references) {
    Reference built;
    built.kind = reference.kind;
    built.variable = reference.variable;
    built.offset = reference.offset;
    if (reference.kind != MatchReferenceKind::kAggregate) {
      ASSIGN_OR_RAISE(built.value, expr::Evaluator::Compile(*reference.value));
    } else {
      const analyzer::BoundExpression& call = *reference.value;
      const functions::FunctionDefinition& definition = *call.function;
      std::vector<types::SqlType> argument_types;
      std::vector<Value> literals(call.children.size());
      for (size_t i = 0; i < call.children.size(); ++i) {
        argument_types.push_back(call.children[i]->type);
        ASSIGN_OR_RAISE(auto evaluator, expr::Evaluator::Compile(*call.children[i]));
        const bool literal = functions::IsLiteralArgument(definition, i, call.children.size());
        if (literal) {
          RETURN_NOT_OK(evaluator->Evaluate(Row(), literals[i]));
        } else {
          built.arguments.push_back(std::move(evaluator));
        }
      }
      ASSIGN_OR_RAISE(built.aggregate, functions::MakeAggregateFunction(
                                           definition.name, argument_types, literals, call.type));
    }
    compiled.references.push_back(std::move(built));
  }
  ASSIGN_OR_RAISE(compiled.evaluator, expr::Evaluator::Compile(*expression.expression));
  compiled.slots.resize(compiled.references.size());
  return compiled;
}

Result<std::unique_ptr<PatternMatcher>> PatternMatcher::Compile(
    const analyzer::MatchRecognizeSpec& spec) {
  std::unique_ptr<PatternMatcher> matcher(new PatternMatcher());
  matcher->program_ = spec.program;
  for (const auto& definition : spec.definitions) {
    if (!definition) {
      matcher->definitions_.push_back(nullptr);
      continue;
    }
    ASSIGN_OR_RAISE(auto compiled, CompileExpression(*definition));
    matcher->definitions_.push_back(std::make_unique<Expression>(std::move(compiled)));
  }
  for (const auto& measure : spec.measures) {
    ASSIGN_OR_RAISE(auto compiled, CompileExpression(measure));
    matcher->measures_.push_back(std::move(compiled));
  }
  matcher->within_ms_ = spec.within_ms;
  matcher->skip_to_next_row_ = spec.skip_to_next_row;
  matcher->rows_before_ = spec.rows_before;
  return matcher;
}

Status PatternMatcher::ComputeReference(Reference& reference, const MatchPartition& partition,
                                        int64_t start, const std::string& labels, Value& out) {
  out.SetNull();
  const auto row_at = [&](int64_t sequence) -> const Row* {
    const int64_t index = sequence - partition.first_sequence;
    if (index < 0 || index >= static_cast<int64_t>(partition.rows.size())) return nullptr;
    return &partition.rows[static_cast<size_t>(index)].values;
  };
  const auto mapped = [&](size_t i) {
    return reference.variable < 0 ||
           static_cast<unsigned char>(labels[i]) == static_cast<unsigned>(reference.variable);
  };
  const int64_t size = static_cast<int64_t>(labels.size());
  switch (reference.kind) {
    case MatchReferenceKind::kLast:
    case MatchReferenceKind::kFirst: {
      const bool last = reference.kind == MatchReferenceKind::kLast;
      int64_t seen = 0;
      for (int64_t step = 0; step < size; ++step) {
        const int64_t i = last ? size - 1 - step : step;
        if (!mapped(static_cast<size_t>(i))) continue;
        if (seen++ < reference.offset) continue;
        const Row* row = row_at(start + i);
        return row == nullptr ? Status::OK() : reference.value->Evaluate(*row, out);
      }
      return Status::OK();
    }
    case MatchReferenceKind::kPrevious: {
      for (int64_t i = size - 1; i >= 0; --i) {
        if (!mapped(static_cast<size_t>(i))) continue;
        const Row* row = row_at(start + i - reference.offset);
        return row == nullptr ? Status::OK() : reference.value->Evaluate(*row, out);
      }
      return Status::OK();
    }
    case MatchReferenceKind::kAggregate: {
      Value state = reference.aggregate->Initial();
      arguments_.resize(reference.arguments.size());
      for (int64_t i = 0; i < size; ++i) {
        if (!mapped(static_cast<size_t>(i))) continue;
        const Row* row = row_at(start + i);
        if (row == nullptr) continue;
        for (size_t a = 0; a < reference.arguments.size(); ++a) {
          RETURN_NOT_OK(reference.arguments[a]->Evaluate(*row, arguments_[a]));
        }
        RETURN_NOT_OK(reference.aggregate->Add(state, arguments_));
      }
      out = reference.aggregate->Result(state);
      return Status::OK();
    }
  }
  return Status::OK();
}

Status PatternMatcher::Evaluate(Expression& expression, const MatchPartition& partition,
                                int64_t start, const std::string& labels, Value& out) {
  for (size_t i = 0; i < expression.references.size(); ++i) {
    RETURN_NOT_OK(
        ComputeReference(expression.references[i], partition, start, labels, expression.slots[i]));
  }
  return expression.evaluator->Evaluate(expression.slots, out);
}

bool PatternMatcher::AddClosure(MatchRun& run, int pc, const std::string& labels,
                                std::vector<MatchThread>& threads, std::vector<bool>& visited) {
  // A pc seen twice in one closure is an empty loop ((A?)*): the second visit adds nothing.
  if (visited[static_cast<size_t>(pc)]) return false;
  visited[static_cast<size_t>(pc)] = true;
  const PatternInstruction& instruction = program_[static_cast<size_t>(pc)];
  switch (instruction.op) {
    case PatternInstruction::Op::kJump:
      return AddClosure(run, instruction.next, labels, threads, visited);
    case PatternInstruction::Op::kSplit:
      return AddClosure(run, instruction.next, labels, threads, visited) ||
             AddClosure(run, instruction.alternative, labels, threads, visited);
    case PatternInstruction::Op::kMatch:
      run.matched = true;
      run.match = labels;
      return true;
    case PatternInstruction::Op::kRow:
      for (const MatchThread& thread : threads) {
        if (thread.pc == pc && thread.labels == labels) return false;  // the same path
      }
      threads.push_back({pc, labels});
      return false;
  }
  return false;
}

Status PatternMatcher::Step(MatchPartition& partition, MatchRun& run) {
  const MatchRow& row = partition.rows.back();
  const MatchRow& first = partition.rows[static_cast<size_t>(run.start - partition.first_sequence)];
  next_threads_.clear();
  std::vector<bool> visited;
  for (const MatchThread& thread : run.threads) {
    // Flink's WITHIN: a row at first + WITHIN or later never joins the match.
    if (within_ms_ && row.timestamp - first.timestamp >= *within_ms_) continue;
    const PatternInstruction& instruction = program_[static_cast<size_t>(thread.pc)];
    candidate_ = thread.labels;
    candidate_.push_back(static_cast<char>(instruction.variable));
    if (Expression* condition = definitions_[static_cast<size_t>(instruction.variable)].get()) {
      Value result;
      Status evaluated = Evaluate(*condition, partition, run.start, candidate_, result);
      if (!evaluated.ok()) {
        ++evaluation_errors_;
        continue;
      }
      if (result.is_null() || !result.boolean()) continue;
    }
    visited.assign(program_.size(), false);
    if (AddClosure(run, instruction.next, candidate_, next_threads_, visited)) break;
  }
  run.threads.swap(next_threads_);
  if (run.threads.size() > kMaxThreadsPerRun) {
    dropped_threads_ += static_cast<int64_t>(run.threads.size() - kMaxThreadsPerRun);
    run.threads.resize(kMaxThreadsPerRun);
  }
  return Status::OK();
}

Status PatternMatcher::Advance(MatchPartition& partition, std::vector<CompletedMatch>& completed) {
  for (MatchRun& run : partition.runs) {
    if (!run.threads.empty()) RETURN_NOT_OK(Step(partition, run));
  }
  MatchRun fresh;
  fresh.start = partition.next_sequence() - 1;
  std::vector<bool> visited(program_.size(), false);
  AddClosure(fresh, 0, std::string(), fresh.threads, visited);
  RETURN_NOT_OK(Step(partition, fresh));
  if (!fresh.threads.empty() || fresh.matched) partition.runs.push_back(std::move(fresh));
  Resolve(partition, completed);
  return Status::OK();
}

Status PatternMatcher::Expire(MatchPartition& partition, int64_t time,
                              std::vector<CompletedMatch>& completed) {
  if (!within_ms_) return Status::OK();
  for (MatchRun& run : partition.runs) {
    const MatchRow& first =
        partition.rows[static_cast<size_t>(run.start - partition.first_sequence)];
    if (time >= first.timestamp + *within_ms_) run.threads.clear();
  }
  Resolve(partition, completed);
  return Status::OK();
}

int64_t PatternMatcher::NextExpiry(const MatchPartition& partition) const {
  int64_t next = std::numeric_limits<int64_t>::max();
  if (!within_ms_) return next;
  for (const MatchRun& run : partition.runs) {
    if (run.threads.empty()) continue;
    const MatchRow& first =
        partition.rows[static_cast<size_t>(run.start - partition.first_sequence)];
    next = std::min(next, first.timestamp + *within_ms_);
  }
  return next;
}

void PatternMatcher::Resolve(MatchPartition& partition, std::vector<CompletedMatch>& completed) {
  auto& runs = partition.runs;
  size_t done = 0;  // runs at the front that are resolved
  while (done < runs.size() && runs[done].threads.empty()) {
    MatchRun& run = runs[done++];
    if (!run.matched) continue;
    completed.push_back({run.start, std::move(run.match)});
    if (skip_to_next_row_) continue;
    // AFTER MATCH SKIP PAST LAST ROW: runs that started inside the match are void.
    const int64_t last =
        completed.back().start + static_cast<int64_t>(completed.back().labels.size()) - 1;
    while (done < runs.size() && runs[done].start <= last) ++done;
  }
  runs.erase(runs.begin(), runs.begin() + static_cast<std::ptrdiff_t>(done));
}

void PatternMatcher::Trim(MatchPartition& partition) const {
  int64_t keep_from =
      partition.runs.empty() ? partition.next_sequence() : partition.runs.front().start;
  keep_from = std::max(partition.first_sequence, keep_from - rows_before_);
  const int64_t drop = keep_from - partition.first_sequence;
  if (drop <= 0) return;
  partition.rows.erase(partition.rows.begin(), partition.rows.begin() + drop);
  partition.first_sequence = keep_from;
}

Status PatternMatcher::Measure(const MatchPartition& partition, const CompletedMatch& match,
                               Row& out) {
  for (Expression& measure : measures_) {
    Value value;
    if (!Evaluate(measure, partition, match.start, match.labels, value).ok()) {
      ++evaluation_errors_;
      value.SetNull();
    }
    out.push_back(std::move(value));
  }
  return Status::OK();
}

// ---------------------------------------------------------------- MatchRecognizeOperator

MatchRecognizeOperator::MatchRecognizeOperator(MatchRecognizeOperatorSpec spec)
    : spec_(std::move(spec)),
      store_(spec_.store ? std::move(spec_.store) : std::make_unique<InMemoryKeyValueStore>()) {}

int64_t MatchRecognizeOperator::evaluation_errors() const {
  int64_t total = evaluation_errors_ + spec_.matcher->evaluation_errors();
  for (const auto& expression : spec_.partition_by) total += expression->nested_errors();
  return total;
}

Status MatchRecognizeOperator::Consume(RecordBatch& batch) {
  output_.Clear();
  for (Record& record : batch) {
    if (record.stream_time > stream_time_) RETURN_NOT_OK(MoveTo(record.stream_time));
    if (record.tombstone) continue;
    key_.resize(spec_.partition_by.size());
    bool evaluated = true;
    for (size_t i = 0; i < key_.size() && evaluated; ++i) {
      evaluated = spec_.partition_by[i]->Evaluate(record.row, key_[i]).ok();
    }
    if (!evaluated) {
      ++evaluation_errors_;
      continue;
    }
    if (std::any_of(key_.begin(), key_.end(), [](const Value& v) { return v.is_null(); })) {
      ++null_keys_;
      continue;
    }
    // Behind stream time: rows of its partition may already have been matched past it.
    if (record.timestamp < stream_time_) {
      ++late_records_;
      if (spec_.on_late) {
        RETURN_NOT_OK(
            spec_.on_late(record, WindowBounds{record.timestamp, record.timestamp}, stream_time_));
      }
      continue;
    }
    MatchPartition& partition = partitions_[key_];
    MatchRow row{record.timestamp, record.partition, record.offset, record.row};
    auto at = std::upper_bound(
        partition.waiting.begin(), partition.waiting.end(), record.timestamp,
        [](int64_t timestamp, const MatchRow& waiting) { return timestamp < waiting.timestamp; });
    partition.waiting.insert(at, std::move(row));
    RETURN_NOT_OK(Run(key_, partition));
  }
  return output_.empty() ? Status::OK() : next_->Consume(output_);
}

Status MatchRecognizeOperator::Run(const Key& key, MatchPartition& partition) {
  dirty_.insert(key);
  PatternMatcher& matcher = *spec_.matcher;
  size_t released = 0;
  while (released < partition.waiting.size() &&
         partition.waiting[released].timestamp <= stream_time_) {
    partition.rows.push_back(std::move(partition.waiting[released++]));
    completed_.clear();
    RETURN_NOT_OK(matcher.Advance(partition, completed_));
    for (const CompletedMatch& match : completed_) Emit(key, partition, match);
    matcher.Trim(partition);
  }
  partition.waiting.erase(partition.waiting.begin(),
                          partition.waiting.begin() + static_cast<std::ptrdiff_t>(released));
  completed_.clear();
  RETURN_NOT_OK(matcher.Expire(partition, stream_time_, completed_));
  for (const CompletedMatch& match : completed_) Emit(key, partition, match);
  matcher.Trim(partition);
  if (partition.runs.empty() && partition.waiting.empty() && partition.rows.empty()) {
    partitions_.erase(key);  // `partition` is gone: nothing to schedule
    return Status::OK();
  }
  Schedule(key, partition);
  return Status::OK();
}

void MatchRecognizeOperator::Schedule(const Key& key, const MatchPartition& partition) {
  int64_t next = spec_.matcher->NextExpiry(partition);
  if (!partition.waiting.empty()) next = std::min(next, partition.waiting.front().timestamp);
  if (next != std::numeric_limits<int64_t>::max()) timers_.emplace(next, key);
}

Status MatchRecognizeOperator::MoveTo(int64_t stream_time) {
  stream_time_ = std::max(stream_time_, stream_time);
  while (!timers_.empty() && timers_.begin()->first <= stream_time_) {
    Key key = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    auto found = partitions_.find(key);
    if (found == partitions_.end()) continue;
    RETURN_NOT_OK(Run(key, found->second));
  }
  return Status::OK();
}

Status MatchRecognizeOperator::AdvanceStreamTime(int64_t stream_time) {
  output_.Clear();
  RETURN_NOT_OK(MoveTo(stream_time));
  if (!output_.empty()) RETURN_NOT_OK(next_->Consume(output_));
  return next_->AdvanceStreamTime(stream_time);
}

void MatchRecognizeOperator::Emit(const Key& key, const MatchPartition& partition,
                                  const CompletedMatch& match) {
  const int64_t last_sequence = match.start + static_cast<int64_t>(match.labels.size()) - 1;
  const MatchRow& last =
      partition.rows[static_cast<size_t>(last_sequence - partition.first_sequence)];
  Record& output = output_.Append();
  Row& row = output.row;
  row.assign(key.begin(), key.end());
  // A measure that fails is NULL (counted), as a failing function argument is in ksqlDB.
  (void)spec_.matcher->Measure(partition, match, row);
  row.push_back(Value::Bigint(last.timestamp));
  row.push_back(Value::Int(last.partition));
  row.push_back(Value::Bigint(last.offset));
  output.timestamp = last.timestamp;
  output.partition = last.partition;
  output.offset = last.offset;
  output.tombstone = false;
  output.retract = false;
  output.window.reset();
  output.key_absent = false;
  output.stream_time = stream_time_;
  output.input_index = std::numeric_limits<uint32_t>::max();  // no one input caused it
}

Status MatchRecognizeOperator::Flush() {
  for (const Key& key : dirty_) {
    auto found = partitions_.find(key);
    if (found == partitions_.end()) {
      RETURN_NOT_OK(store_->Erase(key));
      continue;
    }
    found->second.Encode(encoded_);
    bool inserted = false;
    ASSIGN_OR_RAISE(Row * value, store_->Upsert(key, inserted));
    value->swap(encoded_);
  }
  dirty_.clear();
  RETURN_NOT_OK(store_->Flush());
  return next_->Flush();
}

Status MatchRecognizeOperator::RebuildIndexes() {
  partitions_.clear();
  timers_.clear();
  dirty_.clear();
  Status decoded = Status::OK();
  RETURN_NOT_OK(store_->ForEach([&](const Row& key, const Row& value) {
    if (!decoded.ok()) return;
    MatchPartition& partition = partitions_[key];
    decoded = partition.Decode(value);
    if (decoded.ok()) Schedule(key, partition);
  }));
  return decoded;
}

}  // namespace sidestream::runtime
