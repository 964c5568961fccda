#include "runtime/join_operator.h"

#include <algorithm>

namespace sidestream::runtime {

namespace {

// A buffered stream record: [timestamp, sequence, settled, row...]; settled once it joined
// or its unmatched result was written (see ApplyStreamStream).
constexpr size_t kStreamHeader = 3;
// A table row: [timestamp, row...].
constexpr size_t kTableHeader = 1;
// A foreign-key join's left row: [timestamp, foreign key, row...].
constexpr size_t kReferringHeader = 2;

// Keeps a table's row under `key`, its timestamp first, or erases it for a tombstone. False
// when a tombstone finds no row.
Result<bool> StoreTableRow(KeyValueStore& store, const types::Row& key, const Record& record,
                           size_t width) {
  if (record.tombstone) {
    ASSIGN_OR_RAISE(const types::Row* previous, store.Get(key));
    if (previous == nullptr) return false;
    RETURN_NOT_OK(store.Erase(key));
    return true;
  }
  bool inserted = false;
  ASSIGN_OR_RAISE(types::Row * row, store.Upsert(key, inserted));
  row->clear();
  row->push_back(types::Value::Bigint(record.timestamp));
  row->insert(row->end(), record.row.begin(), record.row.begin() + width);
  return true;
}

}  // namespace

/// Feeds one side's records into the join.
class JoinOperator::Input : public RecordConsumer {
 public:
  Input(JoinOperator& join, int side) : join_(join), side_(side) {}
  Status Consume(RecordBatch& batch) override { return join_.ConsumeSide(side_, batch); }
  Status AdvanceStreamTime(int64_t stream_time) override {
    return join_.AdvanceStreamTime(stream_time);
  }
  Status Flush() override { return join_.Flush(); }

 private:
  JoinOperator& join_;
  int side_;
};

JoinOperator::JoinOperator(JoinSpec spec) : spec_(std::move(spec)) {
  for (int side = 0; side < 2; ++side) {
    inputs_[side] = std::make_unique<Input>(*this, side);
    stores_[side] = spec_.stores[side] ? std::move(spec_.stores[side])
                                       : std::make_unique<InMemoryKeyValueStore>();
  }
}

Status JoinOperator::RebuildIndexes() {
  // Both keep [.., foreign key, ..] per left key: the foreign key second.
  if (spec_.kind == JoinKind::kForeignKey || spec_.kind == JoinKind::kForeignKeyRespond) {
    subscribers_.clear();
    return stores_[0]->ForEach([&](const types::Row& key, const types::Row& row) {
      if (row.size() > 1 && !row[1].is_null()) subscribers_[row[1]].insert(key[0]);
    });
  }
  if (spec_.kind != JoinKind::kStreamStream) return Status::OK();  // tables keep no index
  for (int side = 0; side < 2; ++side) {
    const size_t stride = kStreamHeader + spec_.widths[side];
    expiry_[side].clear();
    RETURN_NOT_OK(stores_[side]->ForEach([&](const types::Row& key, const types::Row& buffered) {
      for (size_t at = 0; at + stride <= buffered.size(); at += stride) {
        const int64_t time = buffered[at].integer();
        const int64_t sequence = buffered[at + 1].integer();
        observed_[side] = std::max(observed_[side], time);
        sequence_ = std::max(sequence_, sequence + 1);
        expiry_[side].emplace(time, key);
        if (spec_.hold_unmatched && Outer(side) && !buffered[at + 2].boolean()) {
          pending_.emplace(std::make_pair(time, sequence), Pending{side, key});
        }
      }
    }));
  }
  return Status::OK();
}

JoinOperator::~JoinOperator() = default;

RecordConsumer* JoinOperator::input(int side) { return inputs_[side].get(); }

Status JoinOperator::Consume(RecordBatch& batch) { return ConsumeSide(0, batch); }

Status JoinOperator::Flush() {
  for (auto& store : stores_) RETURN_NOT_OK(store->Flush());
  return next_->Flush();
}

bool JoinOperator::Outer(int side) const {
  return spec_.type == sql::JoinType::kFull ||
         spec_.type == (side == 0 ? sql::JoinType::kLeft : sql::JoinType::kRight);
}

bool JoinOperator::ComputeKey(int side, const Record& record) {
  if (!spec_.keys[side]->Evaluate(record.row, key_value_).ok()) {
    ++evaluation_errors_;
    return false;
  }
  if (key_value_.is_null()) return false;
  key_.clear();
  key_.push_back(key_value_);
  if (record.window) {
    key_.push_back(types::Value::Bigint(record.window->start));
    key_.push_back(types::Value::Bigint(record.window->end));
  }
  return true;
}

Status JoinOperator::ConsumeSide(int side, RecordBatch& batch) {
  output_.Clear();
  for (const Record& record : batch) {
    switch (spec_.kind) {
      case JoinKind::kStreamStream:
        RETURN_NOT_OK(ApplyStreamStream(side, record));
        break;
      case JoinKind::kStreamTable:
        RETURN_NOT_OK(ApplyStreamTable(side, record));
        break;
      case JoinKind::kTableTable:
        RETURN_NOT_OK(ApplyTableTable(side, record));
        break;
      case JoinKind::kForeignKey:
        RETURN_NOT_OK(side == 0 ? ApplyForeignKeyLeft(record) : ApplyForeignKeyRight(record));
        break;
      case JoinKind::kForeignKeySubscribe:
        RETURN_NOT_OK(ApplySubscribe(record));
        break;
      case JoinKind::kForeignKeyRespond:
        RETURN_NOT_OK(side == 0 ? ApplyRespondSubscription(record) : ApplyRespondRight(record));
        break;
      case JoinKind::kForeignKeyResolve:
        RETURN_NOT_OK(ApplyResolve(record));
        break;
    }
  }
  return output_.empty() ? Status::OK() : next_->Consume(output_);
}

void JoinOperator::Emit(const Record& trigger, const types::Row& key, const types::Value* left,
                        const types::Value* right, int64_t timestamp, bool tombstone) {
  Record& out = output_.Append();
  CopyAttributes(trigger, out);
  out.timestamp = timestamp;
  out.tombstone = tombstone;
  out.retract = false;
  out.key_absent = false;
  const size_t widths[2] = {spec_.widths[0], spec_.widths[1]};
  out.row.resize(widths[0] + widths[1] + 1);
  types::Value* cell = out.row.data();
  for (int side = 0; side < 2; ++side) {
    const types::Value* values = side == 0 ? left : right;
    for (size_t i = 0; i < widths[side]; ++i, ++cell) {
      if (values != nullptr && !tombstone) {
        *cell = values[i];
      } else {
        cell->SetNull();
      }
    }
  }
  *cell = key[0];
  out.window.reset();
  if (key.size() == 3) out.window = WindowBounds{key[1].integer(), key[2].integer()};
}

Status JoinOperator::ApplyStreamStream(int side, const Record& record) {
  if (record.tombstone || !ComputeKey(side, record)) return Status::OK();
  const int64_t time = record.timestamp;
  const int64_t now = record.stream_time;
  // How far this side looks ahead and behind: the right side sees the window mirrored.
  const int64_t ahead = side == 0 ? spec_.after_ms : spec_.before_ms;
  const int64_t behind = side == 0 ? spec_.before_ms : spec_.after_ms;
  observed_[side] = std::max(observed_[side], time);
  if (time == now) RETURN_NOT_OK(EmitClosedUnmatched(record));
  RETURN_NOT_OK(Expire());
  const int other = 1 - side;
  const size_t other_stride = kStreamHeader + spec_.widths[other];
  // As in Kafka Streams' window stores, each side keeps what is newer than its own newest
  // record minus the retention, so a late record can still join the other side's.
  const int64_t visible_after = observed_[other] - Retention();
  bool matched = false;
  ASSIGN_OR_RAISE(const types::Row* buffered, stores_[other]->Get(key_));
  if (buffered != nullptr) {
    types::Row* settling = nullptr;  // the same row, taken for writing once a flag changes
    for (size_t at = 0; at + other_stride <= buffered->size(); at += other_stride) {
      const types::Value* entry = buffered->data() + at;
      int64_t other_time = entry[0].integer();
      if (other_time < time - behind || other_time > time + ahead) continue;
      if (other_time <= visible_after) continue;
      matched = true;
      if (!entry[2].boolean()) {
        if (settling == nullptr) {
          ASSIGN_OR_RAISE(settling, stores_[other]->Find(key_));
          if (settling == nullptr) return Status::Corruption("the state store lost a join key");
        }
        (*settling)[at + 2] = types::Value::Boolean(true);
      }
      const types::Value* mine = record.row.data();
      const types::Value* theirs = entry + kStreamHeader;
      Emit(record, key_, side == 0 ? mine : theirs, side == 0 ? theirs : mine,
           std::max(time, other_time), false);
    }
  }
  // Settled: nothing more to write for it if no match comes (the third buffered value).
  // A held unmatched record is not; one whose window already closed (not counting grace)
  // is written at once.
  const bool settled = matched || !Outer(side) || !spec_.hold_unmatched || time + ahead < now;
  if (time > observed_[side] - Retention()) {
    bool inserted = false;
    ASSIGN_OR_RAISE(types::Row * buffer, stores_[side]->Upsert(key_, inserted));
    buffer->push_back(types::Value::Bigint(time));
    buffer->push_back(types::Value::Bigint(sequence_));
    buffer->push_back(types::Value::Boolean(settled));
    buffer->insert(buffer->end(), record.row.begin(), record.row.begin() + spec_.widths[side]);
    expiry_[side].emplace(time, key_);
  } else {
    ++late_records_;
  }
  if (!matched && Outer(side)) {
    if (settled) {
      const types::Value* mine = record.row.data();
      Emit(record, key_, side == 0 ? mine : nullptr, side == 0 ? nullptr : mine, time, false);
    } else {
      pending_.emplace(std::make_pair(time, sequence_), Pending{side, key_});
    }
  }
  ++sequence_;
  return Status::OK();
}

Status JoinOperator::EmitClosedUnmatched(const Record& trigger) {
  const int64_t now = trigger.stream_time;
  while (!pending_.empty()) {
    auto first = pending_.begin();
    const auto [time, sequence] = first->first;
    const Pending& pending = first->second;
    const int64_t ahead = pending.side == 0 ? spec_.after_ms : spec_.before_ms;
    if (time + ahead + spec_.grace_ms >= now) break;  // its window is still open
    const size_t stride = kStreamHeader + spec_.widths[pending.side];
    ASSIGN_OR_RAISE(types::Row * buffered, stores_[pending.side]->Find(pending.key));
    if (buffered != nullptr) {
      for (size_t at = 0; at + stride <= buffered->size(); at += stride) {
        types::Value* entry = buffered->data() + at;
        if (entry[1].integer() != sequence || entry[2].boolean()) continue;
        entry[2] = types::Value::Boolean(true);
        const types::Value* row = entry + kStreamHeader;
        Emit(trigger, pending.key, pending.side == 0 ? row : nullptr,
             pending.side == 0 ? nullptr : row, time, false);
      }
    }
    pending_.erase(first);
  }
  return Status::OK();
}

Status JoinOperator::Expire() {
  for (int side = 0; side < 2; ++side) {
    // Invisible at `limit` already, but kept one more millisecond: an unmatched outer record
    // is written when its window closes, which comes no later than this.
    const int64_t limit = observed_[side] - Retention();
    const size_t stride = kStreamHeader + spec_.widths[side];
    auto& expiry = expiry_[side];
    while (!expiry.empty() && expiry.begin()->first < limit) {
      const types::Row& key = expiry.begin()->second;
      ASSIGN_OR_RAISE(types::Row * buffered, stores_[side]->Find(key));
      if (buffered != nullptr) {
        size_t kept = 0;
        for (size_t at = 0; at + stride <= buffered->size(); at += stride) {
          if ((*buffered)[at].integer() < limit) continue;
          if (kept != at) {
            std::move(buffered->begin() + at, buffered->begin() + at + stride,
                      buffered->begin() + kept);
          }
          kept += stride;
        }
        buffered->resize(kept);
        if (kept == 0) RETURN_NOT_OK(stores_[side]->Erase(key));
      }
      expiry.erase(expiry.begin());
    }
  }
  return Status::OK();
}

Status JoinOperator::ApplyStreamTable(int side, const Record& record) {
  if (!ComputeKey(side, record)) return Status::OK();
  if (side == 1) {  // the table: only its state changes
    if (record.tombstone) return stores_[1]->Erase(key_);
    bool inserted = false;
    ASSIGN_OR_RAISE(types::Row * row, stores_[1]->Upsert(key_, inserted));
    row->clear();
    row->push_back(types::Value::Bigint(record.timestamp));
    row->insert(row->end(), record.row.begin(), record.row.begin() + spec_.widths[1]);
    return Status::OK();
  }
  if (record.tombstone) return Status::OK();
  ASSIGN_OR_RAISE(const types::Row* table, stores_[1]->Get(key_));
  if (table == nullptr && !Outer(0)) return Status::OK();
  Emit(record, key_, record.row.data(), table ? table->data() + kTableHeader : nullptr,
       record.timestamp, false);
  return Status::OK();
}

Status JoinOperator::ApplyTableTable(int side, const Record& record) {
  if (!ComputeKey(side, record)) return Status::OK();
  ASSIGN_OR_RAISE(const types::Row* previous, stores_[side]->Get(key_));
  const bool existed = previous != nullptr;
  if (record.tombstone) {
    RETURN_NOT_OK(stores_[side]->Erase(key_));
  } else {
    bool inserted = false;
    ASSIGN_OR_RAISE(types::Row * row, stores_[side]->Upsert(key_, inserted));
    row->clear();
    row->push_back(types::Value::Bigint(record.timestamp));
    row->insert(row->end(), record.row.begin(), record.row.begin() + spec_.widths[side]);
  }
  const int other = 1 - side;
  ASSIGN_OR_RAISE(const types::Row* found, stores_[other]->Get(key_));
  if (found == nullptr && !Outer(side)) return Status::OK();
  if (found == nullptr && record.tombstone && !existed) return Status::OK();
  const int64_t time = found ? std::max(record.timestamp, (*found)[0].integer()) : record.timestamp;
  const types::Value* mine = record.tombstone ? nullptr : record.row.data();
  const types::Value* theirs = found ? found->data() + kTableHeader : nullptr;
  // A deleted row leaves the other side's row when the join keeps that side unmatched.
  bool tombstone = mine == nullptr && !(theirs != nullptr && Outer(other));
  Emit(record, key_, side == 0 ? mine : theirs, side == 0 ? theirs : mine, time, tombstone);
  return Status::OK();
}

void JoinOperator::EmitForeignKey(const Record& trigger, const types::Row& key,
                                  const types::Value* left, const types::Value* right,
                                  bool tombstone) {
  Emit(trigger, key, left, right, trigger.timestamp, tombstone);
  // A later join of this result (keyed by the left key) finds a tombstone's key there.
  if (tombstone && spec_.left_key_column >= 0) {
    output_[output_.size() - 1].row[spec_.left_key_column] = key[0];
  }
}

Status JoinOperator::ApplyForeignKeyLeft(const Record& record) {
  if (!spec_.left_key->Evaluate(record.row, key_value_).ok()) {
    ++evaluation_errors_;
    return Status::OK();
  }
  if (key_value_.is_null()) return Status::OK();
  const types::Row key = {key_value_};
  types::Value old_foreign_key;  // NULL: none, or no row before
  ASSIGN_OR_RAISE(const types::Row* previous, stores_[0]->Get(key));
  const bool existed = previous != nullptr;
  if (existed) old_foreign_key = (*previous)[1];
  auto unsubscribe = [&] {
    if (old_foreign_key.is_null()) return;
    auto subscribed = subscribers_.find(old_foreign_key);
    if (subscribed == subscribers_.end()) return;
    subscribed->second.erase(key[0]);
    if (subscribed->second.empty()) subscribers_.erase(subscribed);
  };
  if (record.tombstone) {
    if (!existed) return Status::OK();  // nothing was there: nothing to retract
    unsubscribe();
    RETURN_NOT_OK(stores_[0]->Erase(key));
    EmitForeignKey(record, key, nullptr, nullptr, true);
    return Status::OK();
  }
  types::Value foreign_key;
  if (!spec_.keys[0]->Evaluate(record.row, foreign_key).ok()) {
    ++evaluation_errors_;  // refers to nothing, like a NULL foreign key
    foreign_key.SetNull();
  }
  if (!(old_foreign_key == foreign_key)) {
    unsubscribe();
    if (!foreign_key.is_null()) subscribers_[foreign_key].insert(key[0]);
  }
  bool inserted = false;
  ASSIGN_OR_RAISE(types::Row * row, stores_[0]->Upsert(key, inserted));
  row->clear();
  row->push_back(types::Value::Bigint(record.timestamp));
  row->push_back(foreign_key);
  row->insert(row->end(), record.row.begin(), record.row.begin() + spec_.widths[0]);
  const types::Row* found = nullptr;
  if (!foreign_key.is_null()) {
    key_.clear();
    key_.push_back(foreign_key);
    ASSIGN_OR_RAISE(found, stores_[1]->Get(key_));
  }
  if (found != nullptr) {
    EmitForeignKey(record, key, record.row.data(), found->data() + kTableHeader, false);
  } else if (Outer(0)) {
    EmitForeignKey(record, key, record.row.data(), nullptr, false);
  } else if (existed && !(old_foreign_key.is_null() && foreign_key.is_null())) {
    // Kafka Streams propagates the missing match of an updated row: its old result goes.
    EmitForeignKey(record, key, nullptr, nullptr, true);
  }
  return Status::OK();
}

Status JoinOperator::ApplyForeignKeyRight(const Record& record) {
  if (!ComputeKey(1, record)) return Status::OK();
  ASSIGN_OR_RAISE(const bool changed, StoreTableRow(*stores_[1], key_, record, spec_.widths[1]));
  if (!changed) return Status::OK();  // deleting nothing changes nothing
  auto subscribed = subscribers_.find(key_[0]);
  if (subscribed == subscribers_.end()) return Status::OK();
  types::Row left_key(1);
  for (const types::Value& referring : subscribed->second) {
    left_key[0] = referring;
    ASSIGN_OR_RAISE(const types::Row* left, stores_[0]->Get(left_key));
    if (left == nullptr) return Status::Corruption("the state store lost a joined left row");
    const types::Value* left_row = left->data() + kReferringHeader;
    if (!record.tombstone) {
      EmitForeignKey(record, left_key, left_row, record.row.data(), false);
    } else if (Outer(0)) {
      EmitForeignKey(record, left_key, left_row, nullptr, false);
    } else {
      EmitForeignKey(record, left_key, nullptr, nullptr, true);
    }
  }
  return Status::OK();
}

// ---------------------------------------------------------------- foreign key over partitions

void JoinOperator::Unsubscribe(const types::Value& foreign_key, const types::Value& left_key) {
  if (foreign_key.is_null()) return;
  auto subscribed = subscribers_.find(foreign_key);
  if (subscribed == subscribers_.end()) return;
  subscribed->second.erase(left_key);
  if (subscribed->second.empty()) subscribers_.erase(subscribed);
}

void JoinOperator::EmitSubscription(const Record& trigger, const types::Value& foreign_key,
                                    SubscriptionKind kind, int64_t version) {
  Record& out = output_.Append();
  CopyAttributes(trigger, out);
  out.timestamp = trigger.timestamp;
  out.tombstone = false;
  out.retract = false;
  out.key_absent = false;
  out.window.reset();
  const size_t width = spec_.widths[0];
  out.row.resize(width + 3);
  for (size_t i = 0; i < width; ++i) {
    if (i < trigger.row.size()) {
      out.row[i] = trigger.row[i];
    } else {
      out.row[i].SetNull();
    }
  }
  out.row[width] = foreign_key;
  out.row[width + 1] = types::Value::Int(static_cast<int32_t>(kind));
  out.row[width + 2] = types::Value::Bigint(version);
}

Status JoinOperator::ApplySubscribe(const Record& record) {
  if (!spec_.left_key->Evaluate(record.row, key_value_).ok()) {
    ++evaluation_errors_;
    return Status::OK();
  }
  if (key_value_.is_null()) return Status::OK();
  const types::Row key = {key_value_};
  int64_t version = 0;
  types::Value old_foreign_key;
  bool existed = false;
  ASSIGN_OR_RAISE(const types::Row* previous, stores_[0]->Get(key));
  if (previous != nullptr) {
    version = (*previous)[0].integer() + 1;
    old_foreign_key = (*previous)[1];
    existed = (*previous)[2].boolean();
  }
  if (record.tombstone && !existed) return Status::OK();  // nothing was there
  types::Value foreign_key;                               // NULL for a delete
  if (!record.tombstone && !spec_.keys[0]->Evaluate(record.row, foreign_key).ok()) {
    ++evaluation_errors_;  // refers to nothing, like a NULL foreign key
    foreign_key.SetNull();
  }
  // A deleted row keeps its version, so that a later row's answers are newer than its own.
  bool inserted = false;
  ASSIGN_OR_RAISE(types::Row * row, stores_[0]->Upsert(key, inserted));
  *row = {types::Value::Bigint(version), foreign_key, types::Value::Boolean(!record.tombstone)};
  if (!old_foreign_key.is_null() && !(old_foreign_key == foreign_key)) {
    EmitSubscription(record, old_foreign_key, SubscriptionKind::kUnsubscribe, version);
  }
  const types::Value none;
  if (record.tombstone) {
    EmitSubscription(record, none, SubscriptionKind::kDelete, version);
  } else if (!foreign_key.is_null()) {
    EmitSubscription(
        record, foreign_key,
        existed ? SubscriptionKind::kSubscribeReplacing : SubscriptionKind::kSubscribeNew, version);
  } else if (Outer(0)) {
    EmitSubscription(record, none, SubscriptionKind::kLeftOnly, version);
  } else if (existed && !old_foreign_key.is_null()) {
    // As kForeignKey: an INNER result whose foreign key went NULL is retracted.
    EmitSubscription(record, none, SubscriptionKind::kDelete, version);
  }
  return Status::OK();
}

void JoinOperator::EmitAnswer(const Record& trigger, const types::Row& key,
                              const types::Value* left, const types::Value* right, int64_t version,
                              bool tombstone) {
  Emit(trigger, key, left, right, trigger.timestamp, tombstone);
  Record& out = output_[output_.size() - 1];
  if (tombstone && spec_.left_key_column >= 0) out.row[spec_.left_key_column] = key[0];
  // The answer travels as a row: the delete flag says it is a tombstone.
  out.tombstone = false;
  out.row.push_back(types::Value::Bigint(version));
  out.row.push_back(types::Value::Boolean(tombstone));
}

Status JoinOperator::ApplyRespondSubscription(const Record& record) {
  const size_t width = spec_.widths[0];
  if (record.tombstone || record.row.size() < width + 3) return Status::OK();
  if (!spec_.left_key->Evaluate(record.row, key_value_).ok()) {
    ++evaluation_errors_;
    return Status::OK();
  }
  if (key_value_.is_null()) return Status::OK();
  const types::Row key = {key_value_};
  const types::Value foreign_key = record.row[width];
  const auto kind = static_cast<SubscriptionKind>(record.row[width + 1].integer());
  const int64_t version = record.row[width + 2].integer();
  const types::Value* left_row = record.row.data();
  switch (kind) {
    case SubscriptionKind::kUnsubscribe: {
      ASSIGN_OR_RAISE(const types::Row* previous, stores_[0]->Get(key));
      // Only the subscription it ends: this partition may hold a newer one of the key.
      if (previous == nullptr || !((*previous)[1] == foreign_key)) return Status::OK();
      Unsubscribe(foreign_key, key[0]);
      return stores_[0]->Erase(key);
    }
    case SubscriptionKind::kLeftOnly:
      EmitAnswer(record, key, left_row, nullptr, version, false);
      return Status::OK();
    case SubscriptionKind::kDelete:
      EmitAnswer(record, key, nullptr, nullptr, version, true);
      return Status::OK();
    case SubscriptionKind::kSubscribeNew:
    case SubscriptionKind::kSubscribeReplacing:
      break;
    default:
      return Status::Corruption("a foreign-key subscription of unknown kind " +
                                std::to_string(static_cast<int>(kind)));
  }
  if (foreign_key.is_null()) return Status::OK();
  ASSIGN_OR_RAISE(const types::Row* previous, stores_[0]->Get(key));
  if (previous != nullptr && !((*previous)[1] == foreign_key)) {
    Unsubscribe((*previous)[1], key[0]);
  }
  bool inserted = false;
  ASSIGN_OR_RAISE(types::Row * row, stores_[0]->Upsert(key, inserted));
  row->clear();
  row->push_back(types::Value::Bigint(version));
  row->push_back(foreign_key);
  row->insert(row->end(), record.row.begin(), record.row.begin() + width);
  subscribers_[foreign_key].insert(key[0]);
  key_.clear();
  key_.push_back(foreign_key);
  ASSIGN_OR_RAISE(const types::Row* found, stores_[1]->Get(key_));
  if (found != nullptr) {
    EmitAnswer(record, key, left_row, found->data() + kTableHeader, version, false);
  } else if (Outer(0)) {
    EmitAnswer(record, key, left_row, nullptr, version, false);
  } else if (kind == SubscriptionKind::kSubscribeReplacing) {
    EmitAnswer(record, key, nullptr, nullptr, version, true);
  }
  return Status::OK();
}

Status JoinOperator::ApplyRespondRight(const Record& record) {
  if (!ComputeKey(1, record)) return Status::OK();
  ASSIGN_OR_RAISE(const bool changed, StoreTableRow(*stores_[1], key_, record, spec_.widths[1]));
  if (!changed) return Status::OK();  // deleting nothing changes nothing
  auto subscribed = subscribers_.find(key_[0]);
  if (subscribed == subscribers_.end()) return Status::OK();
  types::Row left_key(1);
  for (const types::Value& referring : subscribed->second) {
    left_key[0] = referring;
    ASSIGN_OR_RAISE(const types::Row* left, stores_[0]->Get(left_key));
    if (left == nullptr) return Status::Corruption("the state store lost a subscription");
    const int64_t version = (*left)[0].integer();
    const types::Value* left_row = left->data() + kReferringHeader;
    if (!record.tombstone) {
      EmitAnswer(record, left_key, left_row, record.row.data(), version, false);
    } else if (Outer(0)) {
      EmitAnswer(record, left_key, left_row, nullptr, version, false);
    } else {
      EmitAnswer(record, left_key, nullptr, nullptr, version, true);
    }
  }
  return Status::OK();
}

Status JoinOperator::ApplyResolve(const Record& record) {
  const size_t width = spec_.widths[0] + spec_.widths[1] + 1;
  if (record.tombstone || record.row.size() < width + 2) return Status::OK();
  const types::Value& left_key = record.row[width - 1];
  if (left_key.is_null()) return Status::OK();
  const int64_t version = record.row[width].integer();
  const types::Row key = {left_key};
  ASSIGN_OR_RAISE(const types::Row* newest, stores_[0]->Get(key));
  if (newest != nullptr && version < (*newest)[0].integer()) {
    ++stale_answers_;  // the left row changed since: its newer answer wins
    return Status::OK();
  }
  if (newest == nullptr || version != (*newest)[0].integer()) {
    bool inserted = false;
    ASSIGN_OR_RAISE(types::Row * row, stores_[0]->Upsert(key, inserted));
    *row = {types::Value::Bigint(version)};
  }
  const bool tombstone = record.row[width + 1].boolean();
  const types::Value* values = record.row.data();
  Emit(record, key, values, values + spec_.widths[0], record.timestamp, tombstone);
  if (tombstone && spec_.left_key_column >= 0) {
    output_[output_.size() - 1].row[spec_.left_key_column] = left_key;
  }
  return Status::OK();
}

}  // namespace sidestream::runtime
