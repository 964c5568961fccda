#pragma once

#include <absl/container/flat_hash_map.h>

#include <cstddef>
#include <functional>
#include <memory>

#include "common/status.h"
#include "types/value.h"

namespace sidestream::runtime {

/// The keyed state of one operator in one task. Keys and values are Rows, so a
/// persistent implementation can serialize them (the bytes its changelog topic carries).
/// Writes are visible at once; Flush() is called at each commit and is where a RocksDB
/// store writes its batched changes and their changelog records.
/// Thread: the owning task's thread only.
class KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;
  /// The value of `key`, or null. The pointer stays valid until the next Upsert or Erase.
  virtual types::Row* Find(const types::Row& key) = 0;
  /// The value of `key`, inserted empty when absent; the flag says whether it was.
  virtual types::Row& Upsert(const types::Row& key, bool& inserted) = 0;
  virtual void Erase(const types::Row& key) = 0;
  virtual size_t size() const = 0;
  /// Makes every write so far durable. OK at once for the in-memory store.
  virtual Status Flush() = 0;
};

/// A KeyValueStore in a hash map: the default, and the write cache a persistent store
/// will sit behind. An open-addressing map keeps keys and values in its slots, so a new
/// group costs no map node.
class InMemoryKeyValueStore final : public KeyValueStore {
 public:
  types::Row* Find(const types::Row& key) override {
    auto found = entries_.find(key);
    return found == entries_.end() ? nullptr : &found->second;
  }
  types::Row& Upsert(const types::Row& key, bool& inserted) override {
    auto [entry, added] = entries_.try_emplace(key);
    inserted = added;
    return entry->second;
  }
  void Erase(const types::Row& key) override { entries_.erase(key); }
  size_t size() const override { return entries_.size(); }
  Status Flush() override { return Status::OK(); }

 private:
  absl::flat_hash_map<types::Row, types::Row, types::RowHash, types::RowEqual> entries_;
};

}  // namespace sidestream::runtime
