#include "runtime/aggregate_operator.h"

#include <algorithm>

#include "runtime/window_assigner.h"

namespace sidestream::runtime {

using types::Row;
using types::Value;

AggregateOperator::AggregateOperator(AggregateSpec spec) : spec_(std::move(spec)) {
  arguments_.resize(spec_.calls.size());
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

Status AggregateOperator::Consume(Record& record) {
  if (spec_.table_source) {
    // A table row replaces the previous row of its key: retract that one first.
    Row table_key(record.row.begin(), record.row.begin() + spec_.source_key_columns);
    auto previous = table_rows_.find(table_key);
    if (previous != table_rows_.end()) {
      Row old_group;
      std::vector<std::vector<Value>> old_arguments(spec_.calls.size());
      bool null_key = false;
      Status evaluated = EvaluateInputs(previous->second, old_group, old_arguments);
      for (const Value& value : old_group) null_key = null_key || value.is_null();
      if (evaluated.ok() && !null_key) {
        RETURN_NOT_OK(Apply(record, old_group, old_arguments, /*retract=*/true));
      }
      table_rows_.erase(previous);
    }
    if (record.tombstone) return Status::OK();
    table_rows_.emplace(std::move(table_key), record.row);
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
    auto found = groups_.find(key);
    if (found == groups_.end()) {
      if (retract) continue;
      GroupState fresh;
      for (const AggregateCall& call : spec_.calls)
        fresh.states.push_back(call.function->Initial());
      found = groups_.emplace(key, std::move(fresh)).first;
      if (spec_.window) TrackWindow(key);
    }
    GroupState& state = found->second;
    for (size_t c = 0; c < spec_.calls.size(); ++c) {
      if (retract) {
        spec_.calls[c].function->Undo(state.states[c], arguments[c]);
      } else {
        spec_.calls[c].function->Add(state.states[c], arguments[c]);
      }
    }
    state.rows += retract ? -1 : 1;
    state.max_timestamp = std::max(state.max_timestamp, record.timestamp);
    if (!spec_.emit_final) RETURN_NOT_OK(Emit(found->first, state, record.timestamp));
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
  // Kafka Streams: a session is late when its end is before stream time - grace.
  if (window.end + grace() < stream_time_) {
    if (open.empty()) sessions_.erase(group);
    ++late_records_;
    if (spec_.on_late) RETURN_NOT_OK(spec_.on_late(record, window, stream_time_));
    return Status::OK();
  }
  GroupState combined;
  for (const AggregateCall& call : spec_.calls) combined.states.push_back(call.function->Initial());
  for (const GroupKey& key : merged) {
    auto found = groups_.find(key);
    for (size_t c = 0; c < spec_.calls.size(); ++c) {
      spec_.calls[c].function->Merge(combined.states[c], found->second.states[c]);
    }
    combined.rows += found->second.rows;
    combined.max_timestamp = std::max(combined.max_timestamp, found->second.max_timestamp);
    // ksqlDB stamps the retraction with the retracted session's end.
    if (!spec_.emit_final) RETURN_NOT_OK(EmitTombstone(key, key.window.end));
    groups_.erase(found);
    std::erase(open, key.window);
  }
  for (size_t c = 0; c < spec_.calls.size(); ++c) {
    spec_.calls[c].function->Add(combined.states[c], arguments[c]);
  }
  combined.rows += 1;
  combined.max_timestamp = std::max(combined.max_timestamp, timestamp);
  GroupKey key{group, window};
  auto inserted = groups_.insert_or_assign(key, std::move(combined)).first;
  open.push_back(window);
  TrackWindow(key);
  if (!spec_.emit_final) {
    // ksqlDB gives a session's result the session's end as its timestamp.
    RETURN_NOT_OK(Emit(inserted->first, inserted->second, window.end));
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
    bool closed = session ? key.window.end + grace() < stream_time_
                          : WindowClosed(key.window, grace(), stream_time_);
    if (!closed) break;
    auto found = groups_.find(key);
    // Entries of sessions that merged away are stale: their key is gone.
    if (found != groups_.end()) {
      if (spec_.emit_final) {
        RETURN_NOT_OK(Emit(found->first, found->second,
                           session ? found->first.window.end : found->second.max_timestamp));
      }
      if (session) {
        auto open = sessions_.find(key.values);
        std::erase(open->second, key.window);
        if (open->second.empty()) sessions_.erase(open);
      }
      groups_.erase(found);
    }
    closing_order_.erase(first);
  }
  return next_->AdvanceStreamTime(stream_time);
}

Status AggregateOperator::Emit(const GroupKey& key, const GroupState& state, int64_t timestamp) {
  Row& row = output_.row;
  row.clear();
  row.insert(row.end(), key.values.begin(), key.values.end());
  for (size_t c = 0; c < spec_.calls.size(); ++c) {
    row.push_back(spec_.calls[c].function->Result(state.states[c]));
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
