#include "runtime/state_store.h"

#include "types/value_codec.h"

namespace sidestream::runtime {

namespace {

// Heap bytes a value holds beyond its own sizeof: a string past libstdc++'s inline buffer, and
// the children of an ARRAY, MAP or STRUCT.
int64_t HeapBytes(const types::Value& value) {
  constexpr size_t kInlineString = 15;
  int64_t bytes = value.string().capacity() > kInlineString
                      ? static_cast<int64_t>(value.string().capacity()) + 1
                      : 0;
  const std::vector<types::Value>& children = value.children();
  if (!children.empty()) {
    bytes += static_cast<int64_t>(sizeof(std::vector<types::Value>) +
                                  children.capacity() * sizeof(types::Value));
    for (const types::Value& child : children) bytes += HeapBytes(child);
  }
  return bytes;
}

int64_t HeapBytes(const types::Row& row) {
  int64_t bytes = static_cast<int64_t>(row.capacity() * sizeof(types::Value));
  for (const types::Value& value : row) bytes += HeapBytes(value);
  return bytes;
}

// A flat hash map's memory: its slots (with a control byte each), and the heap bytes of its
// entries, estimated from the first kSample so the metric stays cheap on large stores.
template <typename Map, typename ValueRow>
int64_t SampledMapBytes(const Map& map, ValueRow value_row) {
  constexpr size_t kSample = 64;
  int64_t slots = static_cast<int64_t>(map.capacity() * (sizeof(typename Map::value_type) + 1));
  if (map.empty()) return slots;
  int64_t sampled = 0;
  size_t count = 0;
  for (auto it = map.begin(); it != map.end() && count < kSample; ++it, ++count) {
    sampled += HeapBytes(it->first) + HeapBytes(value_row(it->second));
  }
  return slots + sampled * static_cast<int64_t>(map.size()) / static_cast<int64_t>(count);
}

}  // namespace

int64_t InMemoryKeyValueStore::ApproximateBytes() const {
  return SampledMapBytes(entries_,
                         [](const types::Row& value) -> const types::Row& { return value; });
}

int64_t ChangelogStore::ApproximateBytes() const {
  return SampledMapBytes(entries_,
                         [](const Entry& entry) -> const types::Row& { return entry.value; });
}

std::unique_ptr<KeyValueStore> MakeStore(const StoreFactory& factory, const std::string& name) {
  if (factory) return factory(name);
  return std::make_unique<InMemoryKeyValueStore>();
}

void ChangelogStore::Touch(const types::Row& key, Entry& entry) {
  if (entry.dirty) return;
  entry.dirty = true;
  dirty_.push_back(key);
}

Result<types::Row*> ChangelogStore::Find(const types::Row& key) {
  // Callers change what Find returns in place, so a found entry counts as changed.
  auto found = entries_.find(key);
  if (found == entries_.end()) return nullptr;
  Touch(found->first, found->second);
  return &found->second.value;
}

Result<const types::Row*> ChangelogStore::Get(const types::Row& key) const {
  auto found = entries_.find(key);
  return found == entries_.end() ? nullptr : &found->second.value;
}

Result<types::Row*> ChangelogStore::Upsert(const types::Row& key, bool& inserted) {
  auto [entry, added] = entries_.try_emplace(key);
  inserted = added;
  Touch(entry->first, entry->second);
  return &entry->second.value;
}

Status ChangelogStore::Erase(const types::Row& key) {
  auto found = entries_.find(key);
  if (found == entries_.end()) return Status::OK();
  if (found->second.persisted) {
    tombstones_.insert(key);
    if (!found->second.dirty) dirty_.push_back(key);  // a dirty entry's key is listed already
  }
  entries_.erase(found);
  return Status::OK();
}

Status ChangelogStore::ForEach(
    const std::function<void(const types::Row& key, const types::Row& value)>& visit) const {
  for (const auto& [key, entry] : entries_) visit(key, entry.value);
  return Status::OK();
}

Status ChangelogStore::Flush() {
  for (const types::Row& key : dirty_) {
    auto found = entries_.find(key);
    if (found != entries_.end() && !found->second.dirty) continue;  // listed twice
    // Gone, and never in the changelog (or its deletion was written already): nothing to do.
    if (found == entries_.end() && !tombstones_.erase(key)) continue;
    key_bytes_.clear();
    types::EncodeRow(key, key_bytes_);
    if (found == entries_.end()) {
      RETURN_NOT_OK(sink_(key_bytes_, nullptr));
      continue;
    }
    found->second.dirty = false;
    found->second.persisted = true;
    tombstones_.erase(key);  // the new value replaces the deletion
    value_bytes_.clear();
    types::EncodeRow(found->second.value, value_bytes_);
    RETURN_NOT_OK(sink_(key_bytes_, &value_bytes_));
  }
  dirty_.clear();
  return Status::OK();
}

Status ChangelogStore::Restore(std::string_view key, const std::string_view* value) {
  RETURN_NOT_OK(types::DecodeRow(key, decoded_key_));
  if (value == nullptr) {
    entries_.erase(decoded_key_);
    return Status::OK();
  }
  auto [entry, added] = entries_.try_emplace(decoded_key_);
  (void)added;
  entry->second.persisted = true;
  return types::DecodeRow(*value, entry->second.value);
}

}  // namespace sidestream::runtime
