#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "types/value.h"

namespace sidestream::runtime {

/// The keyed state of one operator in one task. Keys and values are Rows, so a
/// persistent implementation can serialize them (the bytes its changelog topic carries).
/// Writes are visible at once; Flush() is called at each commit and is where a RocksDB
/// store writes its batched changes and their changelog records.
/// Errors: every call may fail, with IOError (the disk or the store's files failed) or
/// Corruption (stored bytes are unreadable); the in-memory stores never fail. An operator
/// returns the error as it is, so it fails the task's query (ERROR: neither is retriable,
/// as a store error is fatal for a Kafka Streams task), never the process. After an error
/// the store's state is undefined: the query does not use it again.
/// Thread: the owning task's thread only.
class KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;
  /// The value of `key`, to read or change in place, or null. The pointer stays valid until
  /// the next Upsert or Erase.
  virtual Result<types::Row*> Find(const types::Row& key) = 0;
  /// The value of `key`, only to read (a changelogged store need not write it again), or null.
  virtual Result<const types::Row*> Get(const types::Row& key) const = 0;
  /// The value of `key`, inserted empty when absent (never null); `inserted` says whether it
  /// was. The pointer stays valid until the next Upsert or Erase.
  virtual Result<types::Row*> Upsert(const types::Row& key, bool& inserted) = 0;
  /// Removes `key`; OK when it is absent.
  virtual Status Erase(const types::Row& key) = 0;
  virtual size_t size() const = 0;
  /// Estimated bytes the entries take: their memory for a store in memory (from a sample of
  /// entries), or disk plus memory for a persistent one. Cheap: for the state-size metric.
  virtual int64_t ApproximateBytes() const = 0;
  /// Calls `visit` on every entry, in no order (an operator rebuilding its indexes after
  /// a restore). The store must not be changed meanwhile.
  virtual Status ForEach(
      const std::function<void(const types::Row& key, const types::Row& value)>& visit) const = 0;
  /// Makes every write so far durable. OK at once for the in-memory store.
  virtual Status Flush() = 0;

  // Time-ordered windows. A windowed aggregation's keys end with the window's start; a store
  // that keeps its entries ordered by that start lists, visits and drops a window's entries
  // without a per-key index (Kafka Streams' segmented window stores), so expiry costs a
  // range delete, not a lookup per key.

  /// Asks the store to order its entries by the BIGINT window start in key element
  /// `start_index` (every key must have one there). True when it does; false when the store
  /// cannot (the caller then indexes its windows itself, and must not call the methods
  /// below). Call once, before any other call. Errors as for Flush (a persistent store
  /// re-reads its files).
  virtual Result<bool> OrderByWindowStart(size_t start_index) {
    (void)start_index;
    return false;
  }
  /// The starts of the windows that hold entries, ascending.
  virtual Result<std::vector<int64_t>> WindowStarts() const {
    return Status::NotSupported("this state store is not ordered by window start");
  }
  /// Calls `visit` on every entry of the window that starts at `start`, in key order.
  virtual Status ForEachInWindow(
      int64_t start,
      const std::function<void(const types::Row& key, const types::Row& value)>& visit) const {
    (void)start;
    (void)visit;
    return Status::NotSupported("this state store is not ordered by window start");
  }
  /// Drops every entry of the window that starts at `start` at once (a changelogged store
  /// writes their deletions at the next Flush). Pointers into that window become invalid.
  virtual Status EraseWindow(int64_t start) {
    (void)start;
    return Status::NotSupported("this state store is not ordered by window start");
  }
};

/// Makes the state stores of one task's operators, by a name stable across runs of the
/// same plan ("aggregate-0", "join-0-left"). An empty factory means in-memory stores.
using StoreFactory = std::function<std::unique_ptr<KeyValueStore>(const std::string& name)>;

/// The store called `name` from `factory`, or an InMemoryKeyValueStore without one.
std::unique_ptr<KeyValueStore> MakeStore(const StoreFactory& factory, const std::string& name);

/// A KeyValueStore in a hash map: the default, and the write cache a persistent store
/// will sit behind. An open-addressing map keeps keys and values in its slots, so a new
/// group costs no map node.
class InMemoryKeyValueStore final : public KeyValueStore {
 public:
  Result<types::Row*> Find(const types::Row& key) override {
    auto found = entries_.find(key);
    return found == entries_.end() ? nullptr : &found->second;
  }
  Result<const types::Row*> Get(const types::Row& key) const override {
    auto found = entries_.find(key);
    return found == entries_.end() ? nullptr : &found->second;
  }
  Result<types::Row*> Upsert(const types::Row& key, bool& inserted) override {
    auto [entry, added] = entries_.try_emplace(key);
    inserted = added;
    return &entry->second;
  }
  Status Erase(const types::Row& key) override {
    entries_.erase(key);
    return Status::OK();
  }
  size_t size() const override { return entries_.size(); }
  int64_t ApproximateBytes() const override;
  Status ForEach(const std::function<void(const types::Row& key, const types::Row& value)>& visit)
      const override {
    for (const auto& [key, value] : entries_) visit(key, value);
    return Status::OK();
  }
  Status Flush() override { return Status::OK(); }

 private:
  absl::flat_hash_map<types::Row, types::Row, types::RowHash, types::RowEqual> entries_;
};

/// A KeyValueStore backed by a changelog topic: restored by replaying it, and writing what
/// changed to it at each Flush. Thread: the owning task's thread only.
class ChangelogBackedStore : public KeyValueStore {
 public:
  /// Where Flush hands each changed entry: its encoded key, and its encoded value or null for
  /// a deletion. An error stops the Flush and is returned by it.
  using Sink = std::function<Status(std::string_view key, const std::string* value)>;
  /// Applies one changelog record: the entry's new value, or its deletion when `value` is
  /// null. Corruption when the bytes are not an encoded Row.
  virtual Status Restore(std::string_view key, const std::string_view* value) = 0;
  /// Called once the replay ends, before any other call: a persistent store writes what it
  /// restored (it may batch Restore calls).
  virtual Status FinishRestore() { return Status::OK(); }
  /// Whether the next Flush has anything to write.
  virtual bool HasUnflushedChanges() const = 0;
  /// Called before the store writes to its files between two Flushes (a persistent store's
  /// write cache over its budget spills, and hands the spilled entries to the changelog):
  /// the task deletes its checkpoint, which no longer describes the files. An error stops
  /// the write and is returned by the call that caused it.
  using EarlyWriteHook = std::function<Status()>;
  virtual void SetEarlyWriteHook(EarlyWriteHook hook) { (void)hook; }
  /// Whether every Flush must leave the store's writes durable in its files (true, the
  /// default: a checkpoint follows each commit). False when checkpoints are written only at
  /// a clean close (exactly-once): a persistent store may then keep its writes in memory
  /// between commits (RocksDB's memtables, flushed when full), and Persist makes them
  /// durable before that checkpoint.
  virtual void SetPersistEachFlush(bool persist) { (void)persist; }
  /// Makes every write of the past Flushes durable in the store's files, before a checkpoint
  /// names them. IOError when the write fails.
  virtual Status Persist() { return Status::OK(); }
};

/// Opens the persistent stores of tasks (engine/state implements it over RocksDB), each in
/// the task's directory under the state directory. Thread-safe: the tasks of every stream
/// thread open their stores through one provider, which outlives them.
class PersistentStoreProvider {
 public:
  virtual ~PersistentStoreProvider() = default;
  /// The directory of one task's stores and checkpoint:
  /// <state dir>/<application id>/<stage id>_<partition>.
  virtual std::string TaskDirectory(const std::string& application_id, const std::string& stage_id,
                                    int32_t partition) const = 0;
  /// Opens store `name` in `task_directory` (created when missing), handing its changes to
  /// `sink` at each Flush. IOError when its files cannot be opened (another process holds
  /// them, the disk failed), Corruption when they are unreadable.
  virtual Result<std::unique_ptr<ChangelogBackedStore>> Open(const std::string& task_directory,
                                                             const std::string& name,
                                                             ChangelogBackedStore::Sink sink) = 0;
};

/// A KeyValueStore whose changes reach a changelog: at each Flush (a commit), every entry
/// written or erased since the last one is handed to `sink` once, as encoded key and value
/// (types::EncodeRow), or a null value for an erased entry that the changelog holds (an
/// entry made and erased between two commits writes nothing: a window that opened and
/// closed in between). Restore applies such records,
/// so a task that starts on any instance rebuilds the state by replaying the changelog
/// (Kafka Streams' changelog topics). The entries live in memory.
class ChangelogStore final : public ChangelogBackedStore {
 public:
  explicit ChangelogStore(Sink sink) : sink_(std::move(sink)) {}

  Result<types::Row*> Find(const types::Row& key) override;
  Result<const types::Row*> Get(const types::Row& key) const override;
  Result<types::Row*> Upsert(const types::Row& key, bool& inserted) override;
  Status Erase(const types::Row& key) override;
  size_t size() const override { return entries_.size(); }
  int64_t ApproximateBytes() const override;
  Status ForEach(const std::function<void(const types::Row& key, const types::Row& value)>& visit)
      const override;
  Status Flush() override;

  Status Restore(std::string_view key, const std::string_view* value) override;
  bool HasUnflushedChanges() const override { return !dirty_.empty(); }

 private:
  struct Entry {
    types::Row value;
    bool dirty = false;      // changed since the last Flush; its key is in dirty_
    bool persisted = false;  // the changelog holds a value for this key
  };
  // Marks `entry` (of `key`) changed.
  void Touch(const types::Row& key, Entry& entry);

  Sink sink_;
  absl::flat_hash_map<types::Row, Entry, types::RowHash, types::RowEqual> entries_;
  std::vector<types::Row> dirty_;  // keys changed since the last Flush (erased ones too)
  // Erased keys whose value the changelog holds: Flush writes their deletion.
  absl::flat_hash_set<types::Row, types::RowHash, types::RowEqual> tombstones_;
  std::string key_bytes_, value_bytes_;
  types::Row decoded_key_;
};

}  // namespace sidestream::runtime
