#pragma once

#include <absl/container/flat_hash_set.h>
#include <absl/container/node_hash_map.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "runtime/state_store.h"
#include "types/value.h"

namespace rocksdb {
class Cache;
class DB;
class WriteBatch;
class WriteBufferManager;
}  // namespace rocksdb

namespace sidestream::state {

/// What every RocksDB store of a process shares, so that memory is bounded per process, not
/// per store: one block cache, and one WriteBufferManager that charges every store's
/// memtables to that cache. Thread-safe. Owned by the RocksDbStoreProvider; outlives its
/// stores.
struct RocksDbShared {
  std::shared_ptr<rocksdb::Cache> block_cache;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers;
  /// The write caches' budget, split evenly between the stores open at a Flush.
  int64_t write_cache_bytes = 0;
  std::atomic<int64_t> open_stores{0};
};

/// A KeyValueStore in a RocksDB database of its own (one directory), behind an in-memory
/// write cache, as Kafka Streams puts a caching layer over its RocksDB stores.
///
/// The cache holds the entries operators read and change in place (the interface hands out
/// Row pointers, which stay valid until the next Upsert or Erase: cache entries never move,
/// and are dropped only at a Flush). Repeated updates of a key fold in the cache. A miss
/// reads RocksDB once and caches the answer, an absent key included (a key this store never
/// wrote to a segment holding only keys it wrote is known absent without a read). Flush
/// (each commit) writes the entries changed since the last Flush in one rocksdb::WriteBatch
/// without the write-ahead log and flushes the memtables (the files then hold every write;
/// not under SetPersistEachFlush(false), where Persist does it before the checkpoint), hands
/// the same entries to the changelog sink as ChangelogStore does (an idle store writes
/// nothing; a key made and erased between two commits writes nothing), then evicts
/// unchanged entries, least recently touched first, while the cache is over its budget.
///
/// Keys and values are stored as types::EncodeRow bytes, as the changelog carries them.
/// Errors: IOError when RocksDB fails to read or write, Corruption when stored bytes do not
/// decode. Thread: the owning task's thread; the shared resources are thread-safe. At
/// destruction the database is closed; what was not flushed is lost (the changelog and the
/// uncommitted input offsets redo it).
class RocksDbKeyValueStore final : public runtime::ChangelogBackedStore {
 public:
  /// Opens (creating when missing) the database in `directory`. IOError when it cannot be
  /// opened (another process holds it, the disk failed), Corruption when its files are
  /// unreadable.
  static Result<std::unique_ptr<RocksDbKeyValueStore>> Open(const std::string& directory,
                                                            RocksDbShared& shared, Sink sink);
  ~RocksDbKeyValueStore() override;

  Result<types::Row*> Find(const types::Row& key) override;
  Result<const types::Row*> Get(const types::Row& key) const override;
  Result<types::Row*> Upsert(const types::Row& key, bool& inserted) override;
  Status Erase(const types::Row& key) override;
  size_t size() const override { return static_cast<size_t>(count_); }
  /// Live SST files, memtables and the write cache.
  int64_t ApproximateBytes() const override;
  Status ForEach(const std::function<void(const types::Row& key, const types::Row& value)>& visit)
      const override;
  Status Flush() override;
  Status Restore(std::string_view key, const std::string_view* value) override;
  Status FinishRestore() override;
  bool HasUnflushedChanges() const override;
  void SetEarlyWriteHook(EarlyWriteHook hook) override { early_write_hook_ = std::move(hook); }
  void SetPersistEachFlush(bool persist) override { persist_each_flush_ = persist; }
  /// Flushes the memtables, when a Flush left writes in them.
  Status Persist() override;

  /// Time-ordered layout: every RocksDB key is the window start (8 bytes, big-endian, sign
  /// bit flipped, so byte order is time order) followed by the encoded key, and the write
  /// cache is split by window. EraseWindow drops the window's cached entries at once and
  /// the next Flush writes one DeleteRange over its keys (after handing each key the
  /// changelog holds a deletion, read by one range scan: a compacted changelog needs them).
  /// Corruption when the database holds keys of another layout.
  Result<bool> OrderByWindowStart(size_t start_index) override;
  Result<std::vector<int64_t>> WindowStarts() const override;
  Status ForEachInWindow(int64_t start,
                         const std::function<void(const types::Row& key, const types::Row& value)>&
                             visit) const override;
  Status EraseWindow(int64_t start) override;

  /// Entries in the write cache (present, absent or erased), for tests and metrics.
  size_t cached_entries() const;
  /// The cache's estimated memory.
  int64_t cached_bytes() const { return cached_bytes_; }
  /// Flushes and spills that wrote a batch to RocksDB.
  int64_t batches_written() const { return batches_written_; }
  /// Spills: writes between two Flushes because the cache was over its budget.
  int64_t spills() const { return spills_; }
  /// Cache misses answered without reading RocksDB (keys this store never wrote).
  int64_t skipped_reads() const { return skipped_reads_; }
  /// RocksDB's own counts since the open, for benchmarks: memtable flushes, compactions,
  /// the bytes compactions wrote, and the live SST files (all levels, and level 0).
  struct FileStats {
    int64_t flushes = 0;
    int64_t compactions = 0;
    double compaction_write_gb = 0;
    int64_t live_files = 0;
    int64_t level0_files = 0;
  };
  FileStats GetFileStats() const;
  /// The keys RocksDB itself holds (a full iteration; for tests of bounded state).
  Result<int64_t> CountStoredKeys() const;
  /// Compacts the whole database, so that deleted ranges leave the files (tests).
  Status CompactAll();

 private:
  struct Entry {
    types::Row value;
    int64_t bytes = 0;     // estimated memory, counted in cached_bytes_
    bool present = false;  // false: the key has no value (absent in RocksDB, or erased)
    bool dirty = false;    // changed since the last Flush; listed in its segment's dirty
    bool in_db = false;    // RocksDB (and so the changelog) holds a value for the key
    bool touched = false;  // used since the last eviction pass
  };
  using Cache = absl::node_hash_map<types::Row, Entry, types::RowHash, types::RowEqual>;
  // The cached entries of one window (time-ordered layout) or of the whole store.
  struct Segment {
    Cache cache;
    std::vector<Cache::value_type*> dirty;  // entries changed since the last Flush
    int64_t count = 0;                      // keys with a value, cached or only in RocksDB
    int64_t bytes = 0;                      // the cached entries' estimated memory
    // While `written_complete`, RocksDB holds no key of this segment but those this store
    // wrote, and `written` has the RowHash of each: a cache miss on any other key is
    // answered without a read (most misses are new groups). False for a segment found in
    // the files at open or after a restore, and once the store's hashes outgrow their
    // bound (those of the write cache).
    bool written_complete = true;
    absl::flat_hash_set<uint64_t> written;
  };

  RocksDbKeyValueStore(rocksdb::DB* db, std::string directory, RocksDbShared& shared, Sink sink);
  // The key counts a clean close saved (see WriteSavedCounts), when they describe the files
  // as opened (the same last sequence number); the file is deleted either way, so that it
  // serves one open only. False when there is none or it does not match: count by a scan.
  bool ReadSavedCounts();
  // At a clean close (nothing unwritten, memtables flushed): saves count_ and the tally by
  // window (or by the keys' first 8 bytes), with the database's last sequence number.
  void WriteSavedCounts(uint64_t sequence) const;
  // The segment a key belongs to: its window start's, or the only one.
  int64_t SegmentStart(const types::Row& key) const;
  // Appends the RocksDB key of `key` (prefix, then its encoding) to `out`.
  void AppendStoredKey(const types::Row& key, std::string& out) const;
  struct Loaded {
    Segment* segment;
    Cache::value_type* entry;
  };
  // The cached entry of `key` and its segment, read from RocksDB on a miss.
  Result<Loaded> Load(const types::Row& key) const;
  void MarkDirty(Segment& segment, Cache::value_type& entry);
  void SetBytes(Segment& segment, Entry& entry, int64_t bytes) const;
  // Visits every entry, or those of `window`: RocksDB's, each as the cache has it when it
  // does (newer), then the cached entries RocksDB lacks.
  Status VisitStored(
      const std::optional<int64_t>& window,
      const std::function<void(const types::Row& key, const types::Row& value)>& visit) const;
  // Writes the changed entries (and the erased windows) in one batch, without RocksDB's
  // write-ahead log (the changelog is the durable copy), then hands them to the changelog.
  // `commit`: a Flush, which then flushes the memtables so the files hold every write before
  // the task writes its checkpoint; otherwise a spill, which calls the early write hook
  // first.
  // Written entries not used again go at once while the cache is over `evict_target`.
  Status WriteChanges(bool commit, int64_t evict_target);
  // The budget of this store's write cache.
  int64_t CacheBudget() const;
  // Notes that `segment` holds `key` (hashed `hash`) in RocksDB.
  void NoteWritten(Segment& segment, uint64_t hash);
  Status WriteRestoreBatch();
  Status CountEntries();
  // Drops clean entries, least recently touched first, down to `target` bytes.
  void Evict(int64_t target);
  void DropEmptySegments();

  rocksdb::DB* db_;
  const std::string directory_;
  RocksDbShared& shared_;
  Sink sink_;
  // Key element holding the window start, in the time-ordered layout.
  std::optional<size_t> window_start_index_;
  // The cache is filled by reads too, which the interface makes const. By window start
  // (time-ordered layout) or one segment at 0.
  mutable std::map<int64_t, Segment> segments_;
  mutable int64_t cached_bytes_ = 0;
  // Windows erased since the last Flush, which deletes their keys in RocksDB.
  std::vector<int64_t> erased_windows_;
  int64_t count_ = 0;  // keys with a value
  // Open's count of keys by their first 8 bytes, in key order (see CountEntries).
  std::vector<std::pair<int64_t, int64_t>> prefix_tally_;
  bool prefix_tally_valid_ = false;
  // Restored records not yet written: their bytes (keys with their prefix, values), and
  // where each lies. Written in key order in batches of about kRestoreBatchBytes.
  struct RestoreRecord {
    size_t key_offset, key_size, value_offset, value_size;
    bool put;
  };
  std::string restore_bytes_;
  std::vector<RestoreRecord> restore_records_;
  bool restoring_ = false;  // Restore was called since the last FinishRestore
  int64_t batches_written_ = 0;
  EarlyWriteHook early_write_hook_;
  bool spilled_since_flush_ = false;
  int64_t spills_ = 0;
  // Writes since the memtables were last flushed to files (the WAL is off).
  bool unpersisted_ = false;
  // Each Flush flushes the memtables (see SetPersistEachFlush).
  bool persist_each_flush_ = true;
  mutable int64_t skipped_reads_ = 0;
  int64_t written_hashes_ = 0;  // in every segment's `written`
  mutable std::string key_bytes_;
  std::string value_bytes_;
  std::string flush_bytes_;  // a Flush's encoded keys and values
  mutable types::Row decoded_key_;
};

/// Opens RocksDbKeyValueStores under a state directory: each task's stores in
/// <state dir>/<application id>/<stage id>_<partition>/<store name>, one database each.
/// Holds a lock on <state dir>/<application id>/.lock for its lifetime, so that two
/// processes never share (or wipe) each other's state. Thread-safe; outlives its stores.
class RocksDbStoreProvider final : public runtime::PersistentStoreProvider {
 public:
  struct Options {
    std::string state_dir;
    std::string application_id;
    /// The block cache's capacity; memtables are charged to it too, so RocksDB's memory
    /// stays near this bound.
    int64_t memory_bytes = 128 << 20;
    /// The write caches' budget over every open store.
    int64_t write_cache_bytes = 64 << 20;
  };
  /// Creates the directories and takes the lock: IOError when either fails (another process
  /// holds the lock, naming the directory).
  static Result<std::unique_ptr<RocksDbStoreProvider>> Create(Options options);
  ~RocksDbStoreProvider() override;

  std::string TaskDirectory(const std::string& application_id, const std::string& stage_id,
                            int32_t partition) const override;
  Result<std::unique_ptr<runtime::ChangelogBackedStore>> Open(
      const std::string& task_directory, const std::string& name,
      runtime::ChangelogBackedStore::Sink sink) override;

 private:
  RocksDbStoreProvider(Options options, int lock_fd);
  const Options options_;
  const int lock_fd_;
  RocksDbShared shared_;
};

}  // namespace sidestream::state
