#include "functions/counted_values.h"

#include <utility>
#include <vector>

namespace sidestream::functions::counted_values {
namespace {

using types::TypeId;
using types::Value;

bool Hashed(const std::vector<Value>& children) { return children.size() % 2 == 1; }

size_t Slots(const std::vector<Value>& children) { return (children.size() - 1) / 2; }

// The slot `value` sits in, or the empty slot where it would go; Slots(table) when the
// table has neither (only a damaged one, restored from a changelog, can be full).
size_t Probe(const std::vector<Value>& table, const Value& value) {
  const size_t slots = Slots(table);
  const size_t mask = slots - 1;
  size_t slot = value.Hash() & mask;
  for (size_t probes = 0; probes < slots; ++probes, slot = (slot + 1) & mask) {
    if (table[2 * slot].is_null() || table[2 * slot] == value) return slot;
  }
  return slots;
}

// Whether `table` has the shape the code relies on: 2^k slots and a count of at most half.
bool Probeable(const std::vector<Value>& table) {
  const size_t slots = Slots(table);
  const Value& size = table.back();
  return slots != 0 && (slots & (slots - 1)) == 0 && !size.is_null() && size.integer() >= 0 &&
         static_cast<size_t>(size.integer()) <= slots / 2;
}

// A hashed table of `slots` slots holding `size` values moved from `pairs` (value, count,
// ...; pairs with a NULL value are empty slots of an older table and are skipped).
std::vector<Value> BuildTable(std::vector<Value>& pairs, size_t slots, int64_t size) {
  std::vector<Value> table(2 * slots + 1);
  for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
    if (pairs[i].is_null()) continue;
    const size_t slot = Probe(table, pairs[i]);
    if (slot == slots) break;  // more values than `size` said: a damaged state
    table[2 * slot] = std::move(pairs[i]);
    table[2 * slot + 1] = std::move(pairs[i + 1]);
  }
  table.back() = Value::Bigint(size);
  return table;
}

// Empties `slot` and shifts later entries of its probe run back, so that every entry stays
// reachable from its home slot without tombstones.
void EraseSlot(std::vector<Value>& table, size_t slot) {
  const size_t mask = Slots(table) - 1;
  size_t hole = slot;
  table[2 * hole].SetNull();
  table[2 * hole + 1].SetNull();
  for (size_t next = (hole + 1) & mask; !table[2 * next].is_null(); next = (next + 1) & mask) {
    const size_t home = table[2 * next].Hash() & mask;
    // The entry at `next` may move to the hole unless its home lies cyclically in (hole, next].
    const bool stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
    if (stays) continue;
    table[2 * hole] = std::move(table[2 * next]);
    table[2 * hole + 1] = std::move(table[2 * next + 1]);
    table[2 * next].SetNull();
    table[2 * next + 1].SetNull();
    hole = next;
  }
}

void ChangeSmall(std::vector<Value>& pairs, const Value& value, int64_t delta) {
  for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
    if (pairs[i] != value) continue;
    const int64_t count = pairs[i + 1].integer() + delta;
    if (count <= 0) {
      pairs.erase(pairs.begin() + static_cast<std::ptrdiff_t>(i),
                  pairs.begin() + static_cast<std::ptrdiff_t>(i) + 2);
    } else {
      pairs[i + 1].SetInteger(TypeId::kBigint, count);
    }
    return;
  }
  if (delta <= 0) return;
  if (pairs.empty()) pairs.reserve(2);  // one allocation for the first pair, not two
  pairs.push_back(value);
  pairs.push_back(Value::Bigint(delta));
  if (pairs.size() / 2 > kSmallValues) {
    const auto size = static_cast<int64_t>(pairs.size() / 2);
    pairs = BuildTable(pairs, 4 * kSmallValues, size);
  }
}

// A damaged table rebuilt from the values it holds, counted anew.
std::vector<Value> Rebuild(std::vector<Value>& table) {
  int64_t size = 0;
  for (size_t i = 0; i + 1 < table.size(); i += 2) {
    if (table[i].is_null() || table[i + 1].is_null()) {
      table[i].SetNull();
      continue;
    }
    ++size;
  }
  size_t slots = 4 * kSmallValues;
  while (slots < 2 * static_cast<size_t>(size)) slots *= 2;
  return BuildTable(table, slots, size);
}

void ChangeHashed(std::vector<Value>& table, const Value& value, int64_t delta) {
  if (!Probeable(table)) table = Rebuild(table);
  size_t slot = Probe(table, value);
  if (slot == Slots(table)) {  // full, whatever its count said
    table = Rebuild(table);
    slot = Probe(table, value);
  }
  int64_t size = table.back().integer();
  if (!table[2 * slot].is_null()) {
    const int64_t count = table[2 * slot + 1].integer() + delta;
    if (count > 0) {
      table[2 * slot + 1].SetInteger(TypeId::kBigint, count);
      return;
    }
    EraseSlot(table, slot);
    table.back().SetInteger(TypeId::kBigint, size - 1);
    return;
  }
  if (delta <= 0) return;
  table[2 * slot] = value;
  table[2 * slot + 1] = Value::Bigint(delta);
  ++size;
  if (static_cast<size_t>(2 * size) > Slots(table)) {
    table = BuildTable(table, 2 * Slots(table), size);
  } else {
    table.back().SetInteger(TypeId::kBigint, size);
  }
}

}  // namespace

void Change(Value& state, const Value& value, int64_t delta) {
  std::vector<Value>& children = state.MutableChildren();
  if (Hashed(children)) {
    ChangeHashed(children, value, delta);
  } else {
    ChangeSmall(children, value, delta);
  }
}

int64_t Size(const Value& state) {
  const std::vector<Value>& children = state.children();
  return Hashed(children) ? children.back().integer() : static_cast<int64_t>(children.size() / 2);
}

void ForEach(const Value& state, const std::function<void(const Value&, int64_t)>& visit) {
  const std::vector<Value>& children = state.children();
  for (size_t i = 0; i + 1 < children.size(); i += 2) {
    if (!children[i].is_null()) visit(children[i], children[i + 1].integer());
  }
}

Value ToMap(const Value& state) {
  if (!Hashed(state.children())) return state;
  std::vector<Value> pairs;
  pairs.reserve(2 * static_cast<size_t>(Size(state)));
  ForEach(state, [&](const Value& value, int64_t count) {
    pairs.push_back(value);
    pairs.push_back(Value::Bigint(count));
  });
  return Value::Map(std::move(pairs));
}

}  // namespace sidestream::functions::counted_values
