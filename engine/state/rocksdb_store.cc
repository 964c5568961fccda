#include "state/rocksdb_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>

#include "types/value_codec.h"

namespace sidestream::state {

namespace {

// A decoded Row takes more memory than its encoding; this and the node's own bookkeeping are
// what an entry costs beyond its encoded bytes (a rough estimate, which is all a budget needs).
constexpr int64_t kEntryOverhead = 160;
// A restore writes its records in batches of about this many bytes.
constexpr size_t kRestoreBatchBytes = 4 << 20;

// Errors a fresh database would not have: the files are damaged, so the task rebuilds them.
Status FromRocksDb(const rocksdb::Status& status, const std::string& context) {
  if (status.ok()) return Status::OK();
  const std::string message = context + ": " + status.ToString();
  if (status.IsCorruption() || status.IsInvalidArgument() ||
      (status.IsIOError() && status.subcode() == rocksdb::Status::kPathNotFound)) {
    return Status::Corruption(message);
  }
  return Status::IOError(message);
}

int64_t EntryBytes(size_t key_bytes, size_t value_bytes) {
  return kEntryOverhead + 2 * static_cast<int64_t>(key_bytes + value_bytes);
}

}  // namespace

Result<std::unique_ptr<RocksDbKeyValueStore>> RocksDbKeyValueStore::Open(
    const std::string& directory, RocksDbShared& shared, Sink sink) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.write_buffer_manager = shared.write_buffers;
  // Memtables are bounded by the shared manager; small ones keep a task's flushes cheap.
  options.write_buffer_size = 8 << 20;
  options.max_write_buffer_number = 2;
  options.max_background_jobs = 2;
  options.keep_log_file_num = 2;
  options.max_open_files = 64;
  options.max_manifest_file_size = 8 << 20;
  // Most reads of a new group miss: a memtable bloom filter answers those without a search.
  options.memtable_whole_key_filtering = true;
  options.memtable_prefix_bloom_size_ratio = 0.05;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = shared.block_cache;
  // Index and filter blocks count against the shared cache too, so memory has one bound.
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* db = nullptr;
  RETURN_NOT_OK(FromRocksDb(rocksdb::DB::Open(options, directory, &db),
                            "cannot open the state store in " + directory));
  std::unique_ptr<RocksDbKeyValueStore> store(
      new RocksDbKeyValueStore(db, shared, std::move(sink)));
  RETURN_NOT_OK(store->CountEntries());
  return store;
}

RocksDbKeyValueStore::RocksDbKeyValueStore(rocksdb::DB* db, RocksDbShared& shared, Sink sink)
    : db_(db), shared_(shared), sink_(std::move(sink)) {
  shared_.open_stores.fetch_add(1, std::memory_order_relaxed);
}

RocksDbKeyValueStore::~RocksDbKeyValueStore() {
  // Closing fails only when background work cannot stop; nothing is left to do about it.
  (void)db_->Close();
  delete db_;
  shared_.open_stores.fetch_sub(1, std::memory_order_relaxed);
}

Status RocksDbKeyValueStore::CountEntries() {
  std::unique_ptr<rocksdb::Iterator> iterator(db_->NewIterator(rocksdb::ReadOptions()));
  count_ = 0;
  for (iterator->SeekToFirst(); iterator->Valid(); iterator->Next()) ++count_;
  return FromRocksDb(iterator->status(), "counting the entries of a state store");
}

void RocksDbKeyValueStore::SetBytes(Entry& entry, int64_t bytes) const {
  cached_bytes_ += bytes - entry.bytes;
  entry.bytes = bytes;
}

Result<RocksDbKeyValueStore::Cache::value_type*> RocksDbKeyValueStore::Load(
    const types::Row& key) const {
  auto found = cache_.find(key);
  if (found != cache_.end()) {
    found->second.touched = true;
    return &*found;
  }
  key_bytes_.clear();
  types::EncodeRow(key, key_bytes_);
  rocksdb::PinnableSlice stored;
  rocksdb::Status read =
      db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), key_bytes_, &stored);
  if (!read.ok() && !read.IsNotFound()) {
    return FromRocksDb(read, "reading a state store");
  }
  auto [entry, added] = cache_.try_emplace(key);
  (void)added;
  Entry& cached = entry->second;
  cached.touched = true;
  if (read.ok()) {
    Status decoded = types::DecodeRow(std::string_view(stored.data(), stored.size()), cached.value);
    if (!decoded.ok()) {
      cache_.erase(entry);
      return Status::Corruption("a state store value does not decode: " + decoded.message());
    }
    cached.present = true;
    cached.in_db = true;
  }
  SetBytes(cached, EntryBytes(key_bytes_.size(), stored.size()));
  return &*entry;
}

void RocksDbKeyValueStore::MarkDirty(Cache::value_type& entry) {
  if (entry.second.dirty) return;
  entry.second.dirty = true;
  dirty_.push_back(&entry);
}

Result<types::Row*> RocksDbKeyValueStore::Find(const types::Row& key) {
  ASSIGN_OR_RAISE(Cache::value_type * entry, Load(key));
  if (!entry->second.present) return nullptr;
  // Callers change what Find returns in place, so a found entry counts as changed.
  MarkDirty(*entry);
  return &entry->second.value;
}

Result<const types::Row*> RocksDbKeyValueStore::Get(const types::Row& key) const {
  ASSIGN_OR_RAISE(Cache::value_type * entry, Load(key));
  return entry->second.present ? &entry->second.value : nullptr;
}

Result<types::Row*> RocksDbKeyValueStore::Upsert(const types::Row& key, bool& inserted) {
  ASSIGN_OR_RAISE(Cache::value_type * entry, Load(key));
  inserted = !entry->second.present;
  if (inserted) {
    entry->second.present = true;
    entry->second.value.clear();
    ++count_;
  }
  MarkDirty(*entry);
  return &entry->second.value;
}

Status RocksDbKeyValueStore::Erase(const types::Row& key) {
  ASSIGN_OR_RAISE(Cache::value_type * entry, Load(key));
  if (!entry->second.present) return Status::OK();
  entry->second.present = false;
  entry->second.value.clear();
  --count_;
  // Kept as an absent entry until the Flush, which deletes it where it is stored.
  MarkDirty(*entry);
  return Status::OK();
}

Status RocksDbKeyValueStore::ForEach(
    const std::function<void(const types::Row& key, const types::Row& value)>& visit) const {
  // RocksDB's entries, each as the cache has it when it does (newer), then the cached
  // entries RocksDB lacks.
  std::unique_ptr<rocksdb::Iterator> iterator(db_->NewIterator(rocksdb::ReadOptions()));
  types::Row value;
  for (iterator->SeekToFirst(); iterator->Valid(); iterator->Next()) {
    const rocksdb::Slice key = iterator->key();
    RETURN_NOT_OK(types::DecodeRow(std::string_view(key.data(), key.size()), decoded_key_));
    auto cached = cache_.find(decoded_key_);
    if (cached != cache_.end()) {
      if (cached->second.present) visit(cached->first, cached->second.value);
      continue;
    }
    const rocksdb::Slice stored = iterator->value();
    RETURN_NOT_OK(types::DecodeRow(std::string_view(stored.data(), stored.size()), value));
    visit(decoded_key_, value);
  }
  RETURN_NOT_OK(FromRocksDb(iterator->status(), "reading a state store"));
  for (const auto& [key, entry] : cache_) {
    if (entry.present && !entry.in_db) visit(key, entry.value);
  }
  return Status::OK();
}

Status RocksDbKeyValueStore::Flush() {
  if (!dirty_.empty()) {
    // Encoded once into one buffer, then written in key order: a memtable takes sorted keys
    // far faster than scattered ones (its skip list reuses the last insert's position).
    struct Change {
      uint32_t key_offset, key_size, value_offset, value_size;
      bool put;
    };
    std::vector<Change> changes;
    changes.reserve(dirty_.size());
    flush_bytes_.clear();
    for (Cache::value_type* entry : dirty_) {
      Entry& cached = entry->second;
      cached.dirty = false;
      // Made and erased since the last Flush: neither RocksDB nor the changelog has it.
      if (!cached.present && !cached.in_db) continue;
      Change change{};
      change.key_offset = static_cast<uint32_t>(flush_bytes_.size());
      types::EncodeRow(entry->first, flush_bytes_);
      change.key_size = static_cast<uint32_t>(flush_bytes_.size() - change.key_offset);
      change.put = cached.present;
      if (cached.present) {
        change.value_offset = static_cast<uint32_t>(flush_bytes_.size());
        types::EncodeRow(cached.value, flush_bytes_);
        change.value_size = static_cast<uint32_t>(flush_bytes_.size() - change.value_offset);
        SetBytes(cached, EntryBytes(change.key_size, change.value_size));
      }
      cached.in_db = cached.present;
      changes.push_back(change);
    }
    dirty_.clear();
    if (flush_bytes_.size() > UINT32_MAX) {
      return Status::IOError("a state store's changes since the last commit exceed 4 GiB");
    }
    if (!changes.empty()) {
      const std::string_view bytes = flush_bytes_;
      auto key_of = [bytes](const Change& change) {
        return bytes.substr(change.key_offset, change.key_size);
      };
      std::sort(changes.begin(), changes.end(),
                [&key_of](const Change& a, const Change& b) { return key_of(a) < key_of(b); });
      rocksdb::WriteBatch batch(flush_bytes_.size() + 16 * changes.size());
      for (const Change& change : changes) {
        const std::string_view key = key_of(change);
        if (change.put) {
          batch.Put(rocksdb::Slice(key.data(), key.size()),
                    rocksdb::Slice(bytes.data() + change.value_offset, change.value_size));
        } else {
          batch.Delete(rocksdb::Slice(key.data(), key.size()));
        }
      }
      rocksdb::WriteOptions options;
      // Synced, so that a checkpoint written after this commit never names lost writes.
      options.sync = true;
      RETURN_NOT_OK(FromRocksDb(db_->Write(options, &batch), "writing a state store"));
      ++batches_written_;
      // The changelog gets what the batch wrote, in its order.
      for (const Change& change : changes) {
        if (change.put) {
          value_bytes_.assign(bytes.data() + change.value_offset, change.value_size);
          RETURN_NOT_OK(sink_(key_of(change), &value_bytes_));
        } else {
          RETURN_NOT_OK(sink_(key_of(change), nullptr));
        }
      }
    }
  }
  Evict();
  return Status::OK();
}

void RocksDbKeyValueStore::Evict() {
  const int64_t stores = std::max<int64_t>(1, shared_.open_stores.load(std::memory_order_relaxed));
  const int64_t budget = shared_.write_cache_bytes / stores;
  if (cached_bytes_ <= budget) return;
  // Down to 3/4 of the budget, so that eviction does not run at every commit. Every entry
  // is clean after a Flush, so RocksDB has them all. The first pass drops entries untouched
  // since the last pass and clears the mark on the others; a second one drops any.
  const int64_t target = budget - budget / 4;
  for (auto entry = cache_.begin(); entry != cache_.end();) {
    if (cached_bytes_ > target && !entry->second.touched) {
      cached_bytes_ -= entry->second.bytes;
      cache_.erase(entry++);
      continue;
    }
    entry->second.touched = false;
    ++entry;
  }
  for (auto entry = cache_.begin(); entry != cache_.end() && cached_bytes_ > target;) {
    cached_bytes_ -= entry->second.bytes;
    cache_.erase(entry++);
  }
}

Status RocksDbKeyValueStore::Restore(std::string_view key, const std::string_view* value) {
  // Checked before it is stored: a record another query wrote fails the restore here.
  RETURN_NOT_OK(types::DecodeRow(key, decoded_key_));
  if (!cache_.empty()) {
    auto cached = cache_.find(decoded_key_);
    if (cached != cache_.end()) {
      cached_bytes_ -= cached->second.bytes;
      cache_.erase(cached);
    }
  }
  if (!restore_batch_) restore_batch_ = std::make_unique<rocksdb::WriteBatch>();
  if (value == nullptr) {
    restore_batch_->Delete(rocksdb::Slice(key.data(), key.size()));
  } else {
    restore_batch_->Put(rocksdb::Slice(key.data(), key.size()),
                        rocksdb::Slice(value->data(), value->size()));
  }
  if (restore_batch_->GetDataSize() >= kRestoreBatchBytes) return WriteRestoreBatch();
  return Status::OK();
}

Status RocksDbKeyValueStore::WriteRestoreBatch() {
  if (!restore_batch_ || restore_batch_->Count() == 0) return Status::OK();
  rocksdb::WriteOptions options;
  options.disableWAL = true;  // FinishRestore flushes the memtables instead
  RETURN_NOT_OK(FromRocksDb(db_->Write(options, restore_batch_.get()), "restoring a state store"));
  restore_batch_->Clear();
  return Status::OK();
}

Status RocksDbKeyValueStore::FinishRestore() {
  const bool restored = restore_batch_ != nullptr;
  RETURN_NOT_OK(WriteRestoreBatch());
  restore_batch_.reset();
  if (!restored) return Status::OK();
  // What was restored without the WAL reaches the disk before the task's first checkpoint.
  RETURN_NOT_OK(FromRocksDb(db_->Flush(rocksdb::FlushOptions()), "flushing a restored store"));
  return CountEntries();
}

}  // namespace sidestream::state
