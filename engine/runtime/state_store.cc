#include "runtime/state_store.h"

#include "types/value_codec.h"

namespace sidestream::runtime {

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
