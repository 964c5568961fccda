#include "runtime/aggregate_operator.h"

#include <algorithm>

#include "runtime/state_store.h"
#include "runtime/window_assigner.h"

namespace sidestream::runtime {

using types::Row;
using types::Value;

AggregateOperator::AggregateOperator(AggregateSpec spec)
    : spec_(std::move(spec)),
      groups_(spec_.store ? std::move(spec_.store) : std::make_unique<InMemoryKeyValueStore>()) {
  arguments_.resize(spec_.calls.size());
}

Status AggregateOperator::RebuildIndexes() {
  if (!spec_.window) return Status::OK();
  if (spec_.store_ordered_by_window) {
    ASSIGN_OR_RAISE(std::vector<int64_t> starts, groups_->WindowStarts());
    open_starts_ = std::set<int64_t>(starts.begin(), starts.end());
    return Status::OK();
  }
  const bool session = spec_.window->kind == sql::WindowKind::kSession;
  const size_t group_size = spec_.group_by.size();
  closing_.clear();
  sessions_.clear();
  size_t malformed = 0;
  RETURN_NOT_OK(groups_->ForEach([&](const Row& key, const Row&) {
    // The store key: group values, the window's start, and a session's end (StoreKey).
    if (key.size() != group_size + (session ? 2 : 1)) {
      ++malformed;
      return;
    }
    const Row group(key.begin(), key.begin() + static_cast<std::ptrdiff_t>(group_size));
    WindowBounds window;
    window.start = key[group_size].integer();
    window.end = session ? key[group_size + 1].integer() : window.start + spec_.window->size_ms;
    TrackWindow(group, window);
    if (session) sessions_[group].push_back(window);
  }));
  if (malformed == 0) return Status::OK();
  return Status::Corruption("restored state of an aggregation has " + std::to_string(malformed) +
                            " keys of the wrong shape: the changelog belongs to another query");
}

Status AggregateOperator::EmitStored(const std::vector<Row>* groups) {
  const size_t group_size = spec_.group_by.size();
  const size_t calls = spec_.calls.size();
  const bool windowed = spec_.window.has_value();
  const bool session = windowed && spec_.window->kind == sql::WindowKind::kSession;
  output_.Clear();
  auto emit = [&](const Row& key, const Row& state) {
    if (key.size() != group_size + (windowed ? 1 : 0) + (session ? 1 : 0)) return;
    if (state.size() != calls + 2 || state[calls + 1].integer() <= 0) return;
    WindowBounds window;
    if (windowed) {
      window.start = key[group_size].integer();
      window.end = session ? key[group_size + 1].integer() : window.start + spec_.window->size_ms;
    }
    Emit(std::span<const Value>(key.data(), group_size), window, state, state[calls].integer());
  };
  if (groups != nullptr && !windowed) {
    for (const Row& group : *groups) {
      ASSIGN_OR_RAISE(const Row* state, groups_->Get(group));
      if (state != nullptr) emit(group, *state);
    }
  } else {
    RETURN_NOT_OK(groups_->ForEach(emit));
  }
  return output_.empty() ? Status::OK() : next_->Consume(output_);
}

const Row& AggregateOperator::StoreKey(std::span<const Value> group, const WindowBounds& window) {
  // A tumbling or hopping window is known by its start (its end is start + size); only a
  // session needs both bounds. Shorter keys are less state to hash, compare and keep.
  const bool windowed = spec_.window.has_value();
  const bool session = windowed && spec_.window->kind == sql::WindowKind::kSession;
  store_key_.resize(group.size() + (windowed ? 1 : 0) + (session ? 1 : 0));
  std::copy(group.begin(), group.end(), store_key_.begin());
  if (windowed) store_key_[group.size()].SetInteger(types::TypeId::kBigint, window.start);
  if (session) store_key_[group.size() + 1].SetInteger(types::TypeId::kBigint, window.end);
  return store_key_;
}

void AggregateOperator::InitialState(Row& state) const {
  const size_t calls = spec_.calls.size();
  state.resize(calls + 2);
  for (size_t c = 0; c < calls; ++c) state[c] = spec_.calls[c].function->Initial();
  state[calls].SetInteger(types::TypeId::kBigint, INT64_MIN);  // largest record timestamp
  state[calls + 1].SetInteger(types::TypeId::kBigint, 0);      // rows applied minus rows retracted
}

void AggregateOperator::CountRow(Row& state, int64_t timestamp, int64_t rows) const {
  const size_t calls = spec_.calls.size();
  state[calls].SetInteger(types::TypeId::kBigint, std::max(state[calls].integer(), timestamp));
  state[calls + 1].SetInteger(types::TypeId::kBigint, state[calls + 1].integer() + rows);
}

bool AggregateOperator::EvaluateInputs(const Record& record) {
  group_.resize(spec_.group_by.size());
  bool evaluated = true;
  for (size_t i = 0; i < spec_.group_by.size() && evaluated; ++i) {
    evaluated = spec_.group_by[i]->Evaluate(record.row, group_[i]).ok();
  }
  for (size_t c = 0; c < spec_.calls.size() && evaluated; ++c) {
    const AggregateCall& call = spec_.calls[c];
    arguments_[c].resize(call.arguments.size());
    for (size_t a = 0; a < call.arguments.size() && evaluated; ++a) {
      evaluated = call.arguments[a]->Evaluate(record.row, arguments_[c][a]).ok();
    }
  }
  if (!evaluated) {
    if (!record.retract) ++evaluation_errors_;
    return false;
  }
  // ksqlDB skips records whose grouping key has a NULL.
  for (const Value& value : group_) {
    if (value.is_null()) {
      if (!record.retract) ++null_keys_;
      return false;
    }
  }
  return true;
}

int64_t AggregateOperator::evaluation_errors() const {
  int64_t total = evaluation_errors_;
  for (const auto& expression : spec_.group_by) total += expression->nested_errors();
  for (const AggregateCall& call : spec_.calls) {
    for (const auto& argument : call.arguments) total += argument->nested_errors();
  }
  return total;
}

Status AggregateOperator::Consume(RecordBatch& batch) {
  output_.Clear();
  for (size_t i = 0; i < batch.size(); ++i) {
    const Record& record = batch[i];
    if (record.stream_time > stream_time_) RETURN_NOT_OK(CloseWindows(record.stream_time));
    // A table update whose old and new rows fall in one group changes it once, as Kafka
    // Streams does when both halves of the change share a key: no intermediate result.
    emit_ = !(i + 1 < batch.size() && SameGroupUpdate(record, batch[i + 1]));
    cause_ = record.input_index;
    Status consumed = ConsumeOne(record);
    emit_ = true;
    cause_ = kNoInput;
    RETURN_NOT_OK(consumed);
  }
  return output_.empty() ? Status::OK() : next_->Consume(output_);
}

bool AggregateOperator::SameGroupUpdate(const Record& retraction, const Record& next) {
  if (!retraction.retract || next.retract || next.offset != retraction.offset ||
      next.partition != retraction.partition || next.input_index != retraction.input_index) {
    return false;
  }
  const int64_t errors = evaluation_errors_, null_keys = null_keys_;
  bool same = EvaluateInputs(next);
  if (same) {
    pending_group_ = group_;
    same = EvaluateInputs(retraction) && types::RowEqual()(group_, pending_group_);
  }
  evaluation_errors_ = errors;  // counted when each record is applied
  null_keys_ = null_keys;
  return same;
}

Status AggregateOperator::ConsumeOne(const Record& record) {
  // Streams have no deletes; a table's deletes arrive as retractions.
  if (record.tombstone || !EvaluateInputs(record)) return Status::OK();
  // Kafka Streams drops a record whose windows are all closed, but applies it to the
  // windows still open (hopping windows overlap).
  if (spec_.window && spec_.window->kind == sql::WindowKind::kSession) {
    return ApplySession(record);
  }
  return Apply(record);
}

Status AggregateOperator::Apply(const Record& record) {
  const bool retract = record.retract;
  if (!spec_.window) {
    windows_.assign(1, WindowBounds{0, 0});
  } else if (spec_.window->kind == sql::WindowKind::kTumbling) {
    AssignTumbling(record.timestamp, spec_.window->size_ms, windows_);
  } else {
    AssignHopping(record.timestamp, spec_.window->size_ms, *spec_.window->advance_ms, windows_);
  }
  for (const WindowBounds& window : windows_) {
    if (spec_.window && WindowClosed(window, grace(), stream_time_)) {
      ++late_records_;
      if (spec_.on_late) RETURN_NOT_OK(spec_.on_late(record, window, stream_time_));
      continue;
    }
    Row* state;
    if (retract) {
      ASSIGN_OR_RAISE(state, groups_->Find(StoreKey(group_, window)));
      if (state == nullptr) continue;
    } else {
      bool inserted = false;
      ASSIGN_OR_RAISE(state, groups_->Upsert(StoreKey(group_, window), inserted));
      if (inserted) {
        InitialState(*state);
        if (spec_.window) TrackWindow(group_, window);
      }
    }
    for (size_t c = 0; c < spec_.calls.size(); ++c) {
      if (retract) {
        spec_.calls[c].function->Undo((*state)[c], arguments_[c]);
      } else {
        RETURN_NOT_OK(spec_.calls[c].function->Add((*state)[c], arguments_[c]));
      }
    }
    CountRow(*state, record.timestamp, retract ? -1 : 1);
    if (!spec_.emit_final && emit_) Emit(group_, window, *state, record.timestamp);
  }
  return Status::OK();
}

Status AggregateOperator::ApplySession(const Record& record) {
  const Row& group = group_;
  const Arguments& arguments = arguments_;
  const int64_t gap = spec_.window->size_ms;
  const int64_t timestamp = record.timestamp;
  // Sessions of this group that the record joins: within `gap` of either end.
  std::vector<WindowBounds>& open = sessions_[group];
  merged_.clear();
  for (const WindowBounds& session : open) {
    if (session.end + gap >= timestamp && session.start - gap <= timestamp) {
      merged_.push_back(session);
    }
  }
  // Retract in time order, so the output does not depend on hash order.
  std::sort(merged_.begin(), merged_.end(),
            [](const WindowBounds& a, const WindowBounds& b) { return a.start < b.start; });
  WindowBounds window{timestamp, timestamp};
  for (const WindowBounds& session : merged_) {
    window.start = std::min(window.start, session.start);
    window.end = std::max(window.end, session.end);
  }
  // Kafka Streams: a session is late when its end is before stream time - grace - gap (a
  // later record within the gap could still have extended it until then).
  if (window.end + grace() + gap < stream_time_) {
    if (open.empty()) sessions_.erase(group);
    ++late_records_;
    if (spec_.on_late) RETURN_NOT_OK(spec_.on_late(record, window, stream_time_));
    return Status::OK();
  }
  const size_t calls = spec_.calls.size();
  InitialState(combined_);
  for (const WindowBounds& session : merged_) {
    ASSIGN_OR_RAISE(const Row* old, groups_->Get(StoreKey(group, session)));
    if (old == nullptr) {
      return Status::Corruption("the state store lost an open session of an aggregation");
    }
    for (size_t c = 0; c < calls; ++c) spec_.calls[c].function->Merge(combined_[c], (*old)[c]);
    CountRow(combined_, (*old)[calls].integer(), (*old)[calls + 1].integer());
    // ksqlDB stamps the retraction with the retracted session's end.
    if (!spec_.emit_final) EmitTombstone(group, session, session.end);
    RETURN_NOT_OK(groups_->Erase(store_key_));
    std::erase(open, session);
  }
  for (size_t c = 0; c < calls; ++c) {
    RETURN_NOT_OK(spec_.calls[c].function->Add(combined_[c], arguments[c]));
  }
  CountRow(combined_, timestamp, 1);
  bool inserted = false;
  ASSIGN_OR_RAISE(Row * state, groups_->Upsert(StoreKey(group, window), inserted));
  state->swap(combined_);
  open.push_back(window);
  TrackWindow(group, window);
  // ksqlDB gives a session's result the session's end as its timestamp.
  if (!spec_.emit_final) Emit(group, window, *state, window.end);
  return Status::OK();
}

void AggregateOperator::TrackWindow(const Row& group, const WindowBounds& window) {
  if (spec_.store_ordered_by_window) {
    open_starts_.insert(window.start);
    return;
  }
  ClosingWindows& closing = closing_[window.end];
  closing.groups.insert(closing.groups.end(), group.begin(), group.end());
  closing.starts.push_back(window.start);
}

Status AggregateOperator::AdvanceStreamTime(int64_t stream_time) {
  output_.Clear();
  RETURN_NOT_OK(CloseWindows(stream_time));
  if (!output_.empty()) RETURN_NOT_OK(next_->Consume(output_));
  return next_->AdvanceStreamTime(stream_time);
}

Status AggregateOperator::CloseWindows(int64_t stream_time) {
  stream_time_ = std::max(stream_time_, stream_time);
  if (spec_.store_ordered_by_window) return CloseOrderedWindows();
  const bool session = spec_.window && spec_.window->kind == sql::WindowKind::kSession;
  const size_t width = spec_.group_by.size();
  while (!closing_.empty()) {
    auto first = closing_.begin();
    const int64_t end = first->first;
    bool closed = session ? end + grace() + spec_.window->size_ms < stream_time_
                          : WindowClosed(WindowBounds{end, end}, grace(), stream_time_);
    if (!closed) break;
    const ClosingWindows& closing = first->second;
    for (size_t i = 0; i < closing.starts.size(); ++i) {
      const WindowBounds window{closing.starts[i], end};
      const std::span<const Value> group(closing.groups.data() + i * width, width);
      const Row& key = StoreKey(group, window);
      if (!spec_.emit_final && !session) {  // nothing to emit: just drop the state
        RETURN_NOT_OK(groups_->Erase(key));
        continue;
      }
      // Entries of sessions that merged away are stale: their key is gone.
      ASSIGN_OR_RAISE(Row * state, groups_->Find(key));
      if (state == nullptr) continue;
      if (spec_.emit_final) {
        Emit(group, window, *state, session ? window.end : (*state)[spec_.calls.size()].integer());
      }
      if (session) {
        closing_group_.assign(group.begin(), group.end());
        auto open = sessions_.find(closing_group_);
        std::erase(open->second, window);
        if (open->second.empty()) sessions_.erase(open);
      }
      RETURN_NOT_OK(groups_->Erase(store_key_));
    }
    closing_.erase(first);
  }
  return Status::OK();
}

Status AggregateOperator::CloseOrderedWindows() {
  // Tumbling and hopping windows all have one size, so they close in the order they start.
  const size_t width = spec_.group_by.size();
  const size_t calls = spec_.calls.size();
  while (!open_starts_.empty()) {
    const int64_t start = *open_starts_.begin();
    const WindowBounds window{start, start + spec_.window->size_ms};
    if (!WindowClosed(window, grace(), stream_time_)) break;
    if (spec_.emit_final) {
      RETURN_NOT_OK(groups_->ForEachInWindow(start, [&](const Row& key, const Row& state) {
        if (key.size() < width || state.size() != calls + 2) return;  // not this query's
        Emit(std::span<const Value>(key.data(), width), window, state, state[calls].integer());
      }));
    }
    RETURN_NOT_OK(groups_->EraseWindow(start));
    open_starts_.erase(open_starts_.begin());
  }
  return Status::OK();
}

Status AggregateOperator::Flush() {
  RETURN_NOT_OK(groups_->Flush());
  return next_->Flush();
}

void AggregateOperator::Emit(std::span<const Value> group, const WindowBounds& window,
                             const Row& state, int64_t timestamp) {
  Record& output = AppendOutput(group, window, timestamp, /*tombstone=*/false);
  for (size_t c = 0; c < spec_.calls.size(); ++c) {
    output.row[group.size() + c] = spec_.calls[c].function->Result(state[c]);
  }
}

void AggregateOperator::EmitTombstone(std::span<const Value> group, const WindowBounds& window,
                                      int64_t timestamp) {
  Record& output = AppendOutput(group, window, timestamp, /*tombstone=*/true);
  for (size_t c = 0; c < spec_.calls.size(); ++c) output.row[group.size() + c].SetNull();
}

Record& AggregateOperator::AppendOutput(std::span<const Value> group, const WindowBounds& window,
                                        int64_t timestamp, bool tombstone) {
  Record& output = output_.Append();
  Row& row = output.row;
  const size_t calls = spec_.calls.size();
  row.resize(group.size() + calls + 3);
  std::copy(group.begin(), group.end(), row.begin());
  Value* tail = row.data() + group.size() + calls;
  tail[0].SetInteger(types::TypeId::kBigint, timestamp);
  if (spec_.window) {
    tail[1].SetInteger(types::TypeId::kBigint, window.start);
    tail[2].SetInteger(types::TypeId::kBigint, window.end);
    output.window = window;
  } else {
    tail[1].SetNull();
    tail[2].SetNull();
    output.window.reset();
  }
  output.timestamp = timestamp;
  output.tombstone = tombstone;
  output.retract = false;
  output.key_absent = false;  // the group values are a new key
  output.stream_time = stream_time_;
  output.input_index = cause_;
  return output;
}

}  // namespace sidestream::runtime
