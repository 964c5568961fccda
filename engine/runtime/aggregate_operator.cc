#include "runtime/aggregate_operator.h"

#include <algorithm>

#include "runtime/state_store.h"
#include "runtime/window_assigner.h"

namespace sidestream::runtime {

using types::Row;
using types::Value;

AggregateOperator::AggregateOperator(AggregateSpec spec)
    : spec_(std::move(spec)),
      groups_(std::make_unique<InMemoryKeyValueStore>()),
      table_rows_(std::make_unique<InMemoryKeyValueStore>()) {
  arguments_.resize(spec_.calls.size());
}

const Row& AggregateOperator::StoreKey(const GroupKey& key) {
  store_key_.assign(key.values.begin(), key.values.end());
  store_key_.push_back(Value::Bigint(key.window.start));
  store_key_.push_back(Value::Bigint(key.window.end));
  return store_key_;
}

Row AggregateOperator::InitialState() const {
  Row state;
  for (const AggregateCall& call : spec_.calls) state.push_back(call.function->Initial());
  state.push_back(Value::Bigint(INT64_MIN));  // largest record timestamp
  state.push_back(Value::Bigint(0));          // rows applied minus rows retracted
  return state;
}

void AggregateOperator::CountRow(Row& state, int64_t timestamp, int64_t rows) const {
  const size_t calls = spec_.calls.size();
  state[calls] = Value::Bigint(std::max(state[calls].integer(), timestamp));
  state[calls + 1] = Value::Bigint(state[calls + 1].integer() + rows);
}

Status AggregateOperator::EvaluateInputs(const Row& row, Row& group,
                                         std::vector<std::vector<Value>>& arguments) {
  group.resize(spec_.group_by.size());
  for (size_t i = 0; i < spec_.group_by.size(); ++i) {
    RETURN_NOT_OK(spec_.group_by[i]->Evaluate(row, group[i]));
  }
  for (size_t c = 0; c < spec_.calls.size(); ++c) {
    const AggregateCall& call = spec_.calls[c];
    arguments[c].resize(call.arguments.size());
    for (size_t a = 0; a < call.arguments.size(); ++a) {
      RETURN_NOT_OK(call.arguments[a]->Evaluate(row, arguments[c][a]));
    }
  }
  return Status::OK();
}

int64_t AggregateOperator::evaluation_errors() const {
  int64_t total = evaluation_errors_;
  for (const auto& expression : spec_.group_by) total += expression->nested_errors();
  for (const AggregateCall& call : spec_.calls) {
    for (const auto& argument : call.arguments) total += argument->nested_errors();
  }
  return total;
}

Status AggregateOperator::Consume(Record& record) {
  if (spec_.table_source) {
    // A table row replaces the previous row of its key: retract that one first.
    Row table_key(record.row.begin(), record.row.begin() + spec_.source_key_columns);
    if (Row* previous = table_rows_->Find(table_key)) {
      Row old_group;
      std::vector<std::vector<Value>> old_arguments(spec_.calls.size());
      bool null_key = false;
      Status evaluated = EvaluateInputs(*previous, old_group, old_arguments);
      for (const Value& value : old_group) null_key = null_key || value.is_null();
      if (evaluated.ok() && !null_key) {
        RETURN_NOT_OK(Apply(record, old_group, old_arguments, /*retract=*/true));
      }
      table_rows_->Erase(table_key);
    }
    if (record.tombstone) return Status::OK();
    bool inserted = false;
    table_rows_->Upsert(table_key, inserted) = record.row;
  } else if (record.tombstone) {
    return Status::OK();  // streams have no deletes
  }
  if (!EvaluateInputs(record.row, group_, arguments_).ok()) {
    ++evaluation_errors_;
    return Status::OK();
  }
  // ksqlDB skips records whose grouping key has a NULL.
  for (const Value& value : group_) {
    if (value.is_null()) {
      ++null_keys_;
      return Status::OK();
    }
  }
  // Kafka Streams drops a record whose windows are all closed, but applies it to the
  // windows still open (hopping windows overlap).
  if (spec_.window && spec_.window->kind == sql::WindowKind::kSession) {
    return ApplySession(record, group_, arguments_);
  }
  return Apply(record, group_, arguments_, /*retract=*/false);
}

Status AggregateOperator::Apply(const Record& record, const Row& group,
                                const std::vector<std::vector<Value>>& arguments, bool retract) {
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
    GroupKey key{group, window};
    Row* state = groups_->Find(StoreKey(key));
    if (state == nullptr) {
      if (retract) continue;
      bool inserted = false;
      state = &groups_->Upsert(StoreKey(key), inserted);
      *state = InitialState();
      if (spec_.window) TrackWindow(key);
    }
    for (size_t c = 0; c < spec_.calls.size(); ++c) {
      if (retract) {
        spec_.calls[c].function->Undo((*state)[c], arguments[c]);
      } else {
        RETURN_NOT_OK(spec_.calls[c].function->Add((*state)[c], arguments[c]));
      }
    }
    CountRow(*state, record.timestamp, retract ? -1 : 1);
    if (!spec_.emit_final) RETURN_NOT_OK(Emit(key, *state, record.timestamp));
  }
  return Status::OK();
}

Status AggregateOperator::ApplySession(const Record& record, const Row& group,
                                       const std::vector<std::vector<Value>>& arguments) {
  const int64_t gap = spec_.window->size_ms;
  const int64_t timestamp = record.timestamp;
  // Sessions of this group that the record joins: within `gap` of either end.
  std::vector<WindowBounds>& open = sessions_[group];
  std::vector<GroupKey> merged;
  for (const WindowBounds& session : open) {
    if (session.end + gap >= timestamp && session.start - gap <= timestamp) {
      merged.push_back(GroupKey{group, session});
    }
  }
  // Retract in time order, so the output does not depend on hash order.
  std::sort(merged.begin(), merged.end(),
            [](const GroupKey& a, const GroupKey& b) { return a.window.start < b.window.start; });
  WindowBounds window{timestamp, timestamp};
  for (const GroupKey& key : merged) {
    window.start = std::min(window.start, key.window.start);
    window.end = std::max(window.end, key.window.end);
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
  Row combined = InitialState();
  for (const GroupKey& key : merged) {
    const Row& old = *groups_->Find(StoreKey(key));
    for (size_t c = 0; c < calls; ++c) spec_.calls[c].function->Merge(combined[c], old[c]);
    CountRow(combined, old[calls].integer(), old[calls + 1].integer());
    // ksqlDB stamps the retraction with the retracted session's end.
    if (!spec_.emit_final) RETURN_NOT_OK(EmitTombstone(key, key.window.end));
    groups_->Erase(StoreKey(key));
    std::erase(open, key.window);
  }
  for (size_t c = 0; c < calls; ++c) {
    RETURN_NOT_OK(spec_.calls[c].function->Add(combined[c], arguments[c]));
  }
  CountRow(combined, timestamp, 1);
  GroupKey key{group, window};
  bool inserted = false;
  Row& state = groups_->Upsert(StoreKey(key), inserted);
  state = std::move(combined);
  open.push_back(window);
  TrackWindow(key);
  if (!spec_.emit_final) {
    // ksqlDB gives a session's result the session's end as its timestamp.
    RETURN_NOT_OK(Emit(key, state, window.end));
  }
  return Status::OK();
}

void AggregateOperator::TrackWindow(const GroupKey& key) {
  closing_order_.emplace(std::make_pair(key.window.end, sequence_++), key);
}

Status AggregateOperator::AdvanceStreamTime(int64_t stream_time) {
  stream_time_ = std::max(stream_time_, stream_time);
  const bool session = spec_.window && spec_.window->kind == sql::WindowKind::kSession;
  while (!closing_order_.empty()) {
    auto first = closing_order_.begin();
    const GroupKey& key = first->second;
    bool closed = session ? key.window.end + grace() + spec_.window->size_ms < stream_time_
                          : WindowClosed(key.window, grace(), stream_time_);
    if (!closed) break;
    // Entries of sessions that merged away are stale: their key is gone.
    if (Row* state = groups_->Find(StoreKey(key))) {
      if (spec_.emit_final) {
        RETURN_NOT_OK(
            Emit(key, *state, session ? key.window.end : (*state)[spec_.calls.size()].integer()));
      }
      if (session) {
        auto open = sessions_.find(key.values);
        std::erase(open->second, key.window);
        if (open->second.empty()) sessions_.erase(open);
      }
      groups_->Erase(StoreKey(key));
    }
    closing_order_.erase(first);
  }
  return next_->AdvanceStreamTime(stream_time);
}

Status AggregateOperator::Emit(const GroupKey& key, const Row& state, int64_t timestamp) {
  Row& row = output_.row;
  row.clear();
  row.insert(row.end(), key.values.begin(), key.values.end());
  for (size_t c = 0; c < spec_.calls.size(); ++c) {
    row.push_back(spec_.calls[c].function->Result(state[c]));
  }
  row.push_back(Value::Bigint(timestamp));
  if (spec_.window) {
    row.push_back(Value::Bigint(key.window.start));
    row.push_back(Value::Bigint(key.window.end));
    output_.window = key.window;
  } else {
    row.push_back(Value::Null());
    row.push_back(Value::Null());
    output_.window.reset();
  }
  output_.timestamp = timestamp;
  output_.tombstone = false;
  return next_->Consume(output_);
}

Status AggregateOperator::EmitTombstone(const GroupKey& key, int64_t timestamp) {
  Row& row = output_.row;
  row.assign(key.values.begin(), key.values.end());
  row.resize(key.values.size() + spec_.calls.size());  // NULL results
  row.push_back(Value::Bigint(timestamp));
  row.push_back(Value::Bigint(key.window.start));
  row.push_back(Value::Bigint(key.window.end));
  output_.window = key.window;
  output_.timestamp = timestamp;
  output_.tombstone = true;
  return next_->Consume(output_);
}

}  // namespace sidestream::runtime
