#include "state/rocksdb_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

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

// The time-ordered layout's key prefix: a window start, big-endian with the sign bit flipped,
// so that RocksDB's bytewise order is time order.
constexpr size_t kWindowPrefixBytes = 8;

void AppendWindowPrefix(int64_t start, std::string& out) {
  const uint64_t bits = static_cast<uint64_t>(start) ^ (uint64_t{1} << 63);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(bits >> shift));
}

std::string WindowPrefix(int64_t start) {
  std::string prefix;
  AppendWindowPrefix(start, prefix);
  return prefix;
}

int64_t ReadWindowPrefix(std::string_view bytes) {
  uint64_t bits = 0;
  for (size_t i = 0; i < kWindowPrefixBytes; ++i) {
    bits = (bits << 8) | static_cast<uint8_t>(bytes[i]);
  }
  return static_cast<int64_t>(bits ^ (uint64_t{1} << 63));
}

// Sorts `items` stably by `less`, merging their sorted runs: O(n log r) for r runs. A
// changelog is a sequence of commits, each written in key order, so a batch of restored
// records holds a few long runs; past kMaxRuns (input in no order) a plain stable sort.
template <typename T, typename Less>
void SortRuns(std::vector<T>& items, Less less) {
  constexpr size_t kMaxRuns = 256;
  std::vector<size_t> bounds{0};
  for (size_t i = 1; i < items.size(); ++i) {
    if (less(items[i], items[i - 1])) {
      bounds.push_back(i);
      if (bounds.size() > kMaxRuns) {
        std::stable_sort(items.begin(), items.end(), less);
        return;
      }
    }
  }
  bounds.push_back(items.size());
  while (bounds.size() > 2) {
    std::vector<size_t> merged{0};
    for (size_t i = 0; i + 2 < bounds.size(); i += 2) {
      std::inplace_merge(items.begin() + static_cast<ptrdiff_t>(bounds[i]),
                         items.begin() + static_cast<ptrdiff_t>(bounds[i + 1]),
                         items.begin() + static_cast<ptrdiff_t>(bounds[i + 2]), less);
      merged.push_back(bounds[i + 2]);
    }
    if (merged.back() != bounds.back()) merged.push_back(bounds.back());  // an odd run out
    bounds = std::move(merged);
  }
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
  // State is mostly short-lived (windows expire): compressing what the first compactions
  // rewrite or drop costs CPU for nothing; only the bottom levels are compressed.
  options.compression_per_level = {rocksdb::kNoCompression,  rocksdb::kNoCompression,
                                   rocksdb::kLZ4Compression, rocksdb::kLZ4Compression,
                                   rocksdb::kLZ4Compression, rocksdb::kLZ4Compression,
                                   rocksdb::kLZ4Compression};
  // A reopen after a clean stop reads no file's statistics (it would open every file).
  options.skip_stats_update_on_db_open = true;
  options.skip_checking_sst_file_sizes_on_db_open = true;
  // An open loads its table files in the calling thread (the default starts and joins 16
  // threads at every open: a task opens a database per store).
  options.max_file_opening_threads = 1;
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
      new RocksDbKeyValueStore(db, directory, shared, std::move(sink)));
  // After a clean close the counts are on disk: no scan of the files.
  if (!store->ReadSavedCounts()) RETURN_NOT_OK(store->CountEntries());
  return store;
}

RocksDbKeyValueStore::RocksDbKeyValueStore(rocksdb::DB* db, std::string directory,
                                           RocksDbShared& shared, Sink sink)
    : db_(db), directory_(std::move(directory)), shared_(shared), sink_(std::move(sink)) {
  shared_.open_stores.fetch_add(1, std::memory_order_relaxed);
}

RocksDbKeyValueStore::~RocksDbKeyValueStore() {
  // A clean close (every change written, none restoring) saves the key counts for the next
  // open, once the memtables are in the files.
  bool clean = !HasUnflushedChanges() && restore_records_.empty() && !restoring_;
  if (clean && unpersisted_) clean = db_->Flush(rocksdb::FlushOptions()).ok();
  const uint64_t sequence = db_->GetLatestSequenceNumber();
  // Closing fails only when background work cannot stop; nothing is left to do about it.
  clean = db_->Close().ok() && clean;
  if (clean) WriteSavedCounts(sequence);
  delete db_;
  shared_.open_stores.fetch_sub(1, std::memory_order_relaxed);
}

namespace {

// Saved key counts (a file beside RocksDB's, in the store's directory): a magic number, the
// database's last sequence number, the count, whether the tally is valid, the tally's
// length, then (start, keys) pairs, then the magic number again; all int64 in host order.
constexpr const char* kSavedCountsFile = "/SIDESTREAM-KEY-COUNTS";
constexpr int64_t kSavedCountsMagic = 0x53534b4330303031;  // "SSKC0001"

}  // namespace

bool RocksDbKeyValueStore::ReadSavedCounts() {
  const std::string path = directory_ + kSavedCountsFile;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return false;
  std::vector<int64_t> words;
  int64_t word = 0;
  while (std::fread(&word, sizeof word, 1, file) == 1) words.push_back(word);
  std::fclose(file);
  // One open only: a crash after this open must not find counts of files it changed.
  std::remove(path.c_str());
  if (words.size() < 6 || words[0] != kSavedCountsMagic || words.back() != kSavedCountsMagic) {
    return false;
  }
  const auto pairs = static_cast<size_t>(words[4]);
  if (words[4] < 0 || words.size() != 6 + 2 * pairs) return false;
  if (static_cast<uint64_t>(words[1]) != db_->GetLatestSequenceNumber()) return false;
  count_ = words[2];
  prefix_tally_valid_ = words[3] != 0;
  prefix_tally_.clear();
  for (size_t i = 0; i < pairs; ++i) prefix_tally_.emplace_back(words[5 + 2 * i], words[6 + 2 * i]);
  if (!prefix_tally_valid_) std::vector<std::pair<int64_t, int64_t>>().swap(prefix_tally_);
  if (count_ > 0) {
    // Keys this store did not write: misses must read (as CountEntries leaves it). Counted,
    // so that a Flush with nothing cached does not drop the segment as empty.
    Segment& only = segments_[0];
    only.written_complete = false;
    only.count = count_;
  }
  return true;
}

void RocksDbKeyValueStore::WriteSavedCounts(uint64_t sequence) const {
  std::vector<int64_t> words{kSavedCountsMagic, static_cast<int64_t>(sequence), count_};
  std::vector<std::pair<int64_t, int64_t>> tally;
  bool valid = false;
  if (window_start_index_) {
    // The windows are the keys' first 8 bytes: the next open's tally, ready for
    // OrderByWindowStart.
    for (const auto& [start, segment] : segments_) {
      if (segment.count > 0) tally.emplace_back(start, segment.count);
    }
    valid = true;
  } else if (prefix_tally_valid_) {
    tally = prefix_tally_;
    valid = true;
  }
  words.push_back(valid ? 1 : 0);
  words.push_back(static_cast<int64_t>(tally.size()));
  for (const auto& [start, keys] : tally) {
    words.push_back(start);
    words.push_back(keys);
  }
  words.push_back(kSavedCountsMagic);
  // Best effort: without the file the next open counts by a scan.
  const std::string path = directory_ + kSavedCountsFile;
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return;
  const bool written =
      std::fwrite(words.data(), sizeof(int64_t), words.size(), file) == words.size();
  if (std::fclose(file) != 0 || !written) std::remove(path.c_str());
}

int64_t RocksDbKeyValueStore::SegmentStart(const types::Row& key) const {
  if (!window_start_index_) return 0;
  const size_t index = *window_start_index_;
  // A key without a window start (never an aggregation's) is kept with the epoch's window.
  if (index >= key.size() || key[index].is_null()) return 0;
  return key[index].integer();
}

void RocksDbKeyValueStore::AppendStoredKey(const types::Row& key, std::string& out) const {
  if (window_start_index_) AppendWindowPrefix(SegmentStart(key), out);
  types::EncodeRow(key, out);
}

Status RocksDbKeyValueStore::CountEntries() {
  std::unique_ptr<rocksdb::Iterator> iterator(db_->NewIterator(rocksdb::ReadOptions()));
  count_ = 0;
  for (auto& [start, segment] : segments_) segment.count = 0;
  Segment* segment = nullptr;
  int64_t segment_start = 0;
  // Before the layout is known (at open), keys are also tallied by their first 8 bytes: when
  // OrderByWindowStart follows (a windowed aggregation's store), those are the windows, and
  // the files are not read a second time. Given up past a few thousand prefixes.
  constexpr size_t kMaxTalliedPrefixes = 4096;
  prefix_tally_.clear();
  prefix_tally_valid_ = !window_start_index_;
  for (iterator->SeekToFirst(); iterator->Valid(); iterator->Next()) {
    ++count_;
    if (!window_start_index_) {
      const rocksdb::Slice key = iterator->key();
      if (prefix_tally_valid_ && key.size() > kWindowPrefixBytes) {
        const int64_t start = ReadWindowPrefix(std::string_view(key.data(), key.size()));
        if (prefix_tally_.empty() || prefix_tally_.back().first != start) {
          prefix_tally_.emplace_back(start, 0);
          prefix_tally_valid_ = prefix_tally_.size() <= kMaxTalliedPrefixes;
        }
        ++prefix_tally_.back().second;
      } else {
        prefix_tally_valid_ = false;
      }
      continue;
    }
    const rocksdb::Slice key = iterator->key();
    if (key.size() <= kWindowPrefixBytes) {
      return Status::Corruption("a time-ordered state store holds a key without a window start");
    }
    const int64_t start = ReadWindowPrefix(std::string_view(key.data(), key.size()));
    // Keys come in time order: one map lookup per window.
    if (segment == nullptr || start != segment_start) {
      segment = &segments_[start];
      segment_start = start;
      // Keys this store did not write (an earlier run's, a restore's): misses must read.
      segment->written_complete = false;
      written_hashes_ -= static_cast<int64_t>(segment->written.size());
      absl::flat_hash_set<uint64_t>().swap(segment->written);
    }
    ++segment->count;
  }
  RETURN_NOT_OK(FromRocksDb(iterator->status(), "counting the entries of a state store"));
  if (!window_start_index_ && count_ > 0) {
    // Keys this store did not write: misses must read. Counted, so that a Flush with nothing
    // cached does not drop the segment as empty (every miss would then answer "absent").
    Segment& only = segments_[0];
    only.written_complete = false;
    only.count = count_;
    written_hashes_ -= static_cast<int64_t>(only.written.size());
    absl::flat_hash_set<uint64_t>().swap(only.written);
  }
  if (!prefix_tally_valid_) std::vector<std::pair<int64_t, int64_t>>().swap(prefix_tally_);
  return Status::OK();
}

Result<bool> RocksDbKeyValueStore::OrderByWindowStart(size_t start_index) {
  {
    // A database written in the other layout (an older version's) must not be misread.
    std::unique_ptr<rocksdb::Iterator> iterator(db_->NewIterator(rocksdb::ReadOptions()));
    iterator->SeekToFirst();
    if (iterator->Valid()) {
      const rocksdb::Slice key = iterator->key();
      types::Row decoded;
      const bool readable = key.size() > kWindowPrefixBytes &&
                            types::DecodeRow(std::string_view(key.data() + kWindowPrefixBytes,
                                                              key.size() - kWindowPrefixBytes),
                                             decoded)
                                .ok() &&
                            start_index < decoded.size() && !decoded[start_index].is_null() &&
                            decoded[start_index].integer() ==
                                ReadWindowPrefix(std::string_view(key.data(), key.size()));
      if (!readable) {
        return Status::Corruption(
            "the state store holds keys that are not ordered by window start (written by an "
            "older version): delete the task's state directory to restore it from its changelog");
      }
    }
    RETURN_NOT_OK(FromRocksDb(iterator->status(), "reading a state store"));
  }
  window_start_index_ = start_index;
  segments_.clear();
  written_hashes_ = 0;
  cached_bytes_ = 0;
  if (prefix_tally_valid_) {
    // Open's scan counted the keys by window already (nothing was written since).
    for (const auto& [start, keys] : prefix_tally_) {
      Segment& segment = segments_[start];
      segment.count = keys;
      segment.written_complete = false;
    }
    std::vector<std::pair<int64_t, int64_t>>().swap(prefix_tally_);
    prefix_tally_valid_ = false;
    return true;
  }
  RETURN_NOT_OK(CountEntries());
  return true;
}

Result<std::vector<int64_t>> RocksDbKeyValueStore::WindowStarts() const {
  if (!window_start_index_) return KeyValueStore::WindowStarts();
  std::vector<int64_t> starts;
  for (const auto& [start, segment] : segments_) {
    if (segment.count > 0) starts.push_back(start);
  }
  return starts;
}

size_t RocksDbKeyValueStore::cached_entries() const {
  size_t entries = 0;
  for (const auto& [start, segment] : segments_) entries += segment.cache.size();
  return entries;
}

int64_t RocksDbKeyValueStore::ApproximateBytes() const {
  uint64_t files = 0;
  uint64_t memtables = 0;
  (void)db_->GetIntProperty(rocksdb::DB::Properties::kLiveSstFilesSize, &files);
  (void)db_->GetIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables, &memtables);
  return static_cast<int64_t>(files + memtables) + cached_bytes_;
}

bool RocksDbKeyValueStore::HasUnflushedChanges() const {
  if (!erased_windows_.empty()) return true;
  for (const auto& [start, segment] : segments_) {
    if (!segment.dirty.empty()) return true;
  }
  return false;
}

void RocksDbKeyValueStore::SetBytes(Segment& segment, Entry& entry, int64_t bytes) const {
  cached_bytes_ += bytes - entry.bytes;
  segment.bytes += bytes - entry.bytes;
  entry.bytes = bytes;
}

Result<RocksDbKeyValueStore::Loaded> RocksDbKeyValueStore::Load(const types::Row& key) const {
  const int64_t start = SegmentStart(key);
  Segment& segment = segments_[start];
  const uint64_t hash = types::RowHash()(key);
  auto found = segment.cache.find(key, hash);
  if (found != segment.cache.end()) {
    found->second.touched = true;
    return Loaded{&segment, &*found};
  }
  rocksdb::PinnableSlice stored;
  // An erased window's keys are gone, though RocksDB drops them only at the next Flush.
  const bool erased =
      window_start_index_ &&
      std::find(erased_windows_.begin(), erased_windows_.end(), start) != erased_windows_.end();
  // A key this store never wrote to a segment that holds only such keys is not there.
  const bool never_written = segment.written_complete && !segment.written.contains(hash);
  rocksdb::Status read = rocksdb::Status::NotFound();
  // The key's encoded size, for the entry's estimate (WriteChanges makes it exact).
  size_t key_bytes = 16 * key.size();
  if (erased || never_written) {
    ++skipped_reads_;
  } else {
    key_bytes_.clear();
    AppendStoredKey(key, key_bytes_);
    key_bytes = key_bytes_.size();
    read = db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), key_bytes_, &stored);
  }
  if (!read.ok() && !read.IsNotFound()) {
    return FromRocksDb(read, "reading a state store");
  }
  auto [entry, added] = segment.cache.try_emplace(key);
  (void)added;
  Entry& cached = entry->second;
  // Marked when used again: an entry read or made once (a new window of a caller who
  // never comes back) goes at the next eviction, one used twice survives it.
  cached.touched = false;
  if (read.ok()) {
    Status decoded = types::DecodeRow(std::string_view(stored.data(), stored.size()), cached.value);
    if (!decoded.ok()) {
      segment.cache.erase(entry);
      return Status::Corruption("a state store value does not decode: " + decoded.message());
    }
    cached.present = true;
    cached.in_db = true;
  }
  SetBytes(segment, cached, EntryBytes(key_bytes, stored.size()));
  return Loaded{&segment, &*entry};
}

void RocksDbKeyValueStore::MarkDirty(Segment& segment, Cache::value_type& entry) {
  if (entry.second.dirty) return;
  entry.second.dirty = true;
  segment.dirty.push_back(&entry);
}

Result<types::Row*> RocksDbKeyValueStore::Find(const types::Row& key) {
  ASSIGN_OR_RAISE(Loaded loaded, Load(key));
  if (!loaded.entry->second.present) return nullptr;
  // Callers change what Find returns in place, so a found entry counts as changed.
  MarkDirty(*loaded.segment, *loaded.entry);
  return &loaded.entry->second.value;
}

Result<const types::Row*> RocksDbKeyValueStore::Get(const types::Row& key) const {
  ASSIGN_OR_RAISE(Loaded loaded, Load(key));
  return loaded.entry->second.present ? &loaded.entry->second.value : nullptr;
}

Result<types::Row*> RocksDbKeyValueStore::Upsert(const types::Row& key, bool& inserted) {
  // The cache grows by new entries, which are dirty until written: over its budget, it
  // writes them early and drops the least recently touched (every pointer handed out
  // before an Upsert may go, as the interface allows).
  if (cached_bytes_ > CacheBudget()) {
    const int64_t target = CacheBudget() / 4;
    RETURN_NOT_OK(WriteChanges(/*commit=*/false, target));
    Evict(target);
  }
  ASSIGN_OR_RAISE(Loaded loaded, Load(key));
  Entry& entry = loaded.entry->second;
  inserted = !entry.present;
  if (inserted) {
    entry.present = true;
    entry.value.clear();
    ++count_;
    ++loaded.segment->count;
  }
  MarkDirty(*loaded.segment, *loaded.entry);
  return &entry.value;
}

Status RocksDbKeyValueStore::Erase(const types::Row& key) {
  ASSIGN_OR_RAISE(Loaded loaded, Load(key));
  Entry& entry = loaded.entry->second;
  if (!entry.present) return Status::OK();
  entry.present = false;
  entry.value.clear();
  --count_;
  --loaded.segment->count;
  // Kept as an absent entry until the Flush, which deletes it where it is stored.
  MarkDirty(*loaded.segment, *loaded.entry);
  return Status::OK();
}

Status RocksDbKeyValueStore::EraseWindow(int64_t start) {
  if (!window_start_index_) return KeyValueStore::EraseWindow(start);
  auto found = segments_.find(start);
  if (found != segments_.end()) {
    count_ -= found->second.count;
    cached_bytes_ -= found->second.bytes;
    written_hashes_ -= static_cast<int64_t>(found->second.written.size());
    segments_.erase(found);
  }
  if (std::find(erased_windows_.begin(), erased_windows_.end(), start) == erased_windows_.end()) {
    erased_windows_.push_back(start);
  }
  return Status::OK();
}

Status RocksDbKeyValueStore::VisitStored(
    const std::optional<int64_t>& window,
    const std::function<void(const types::Row& key, const types::Row& value)>& visit) const {
  // RocksDB's entries, each as the cache has it when it does (newer), then the cached
  // entries RocksDB lacks.
  rocksdb::ReadOptions options;
  std::string lower, upper;
  rocksdb::Slice upper_slice;
  if (window) {
    lower = WindowPrefix(*window);
    if (*window < INT64_MAX) {
      upper = WindowPrefix(*window + 1);
      upper_slice = upper;
      options.iterate_upper_bound = &upper_slice;
    }
  }
  const size_t prefix = window_start_index_ ? kWindowPrefixBytes : 0;
  auto erased = [this](int64_t start) {
    return std::find(erased_windows_.begin(), erased_windows_.end(), start) !=
           erased_windows_.end();
  };
  std::unique_ptr<rocksdb::Iterator> iterator(db_->NewIterator(options));
  types::Row value;
  const Segment* segment = nullptr;
  int64_t segment_start = 0;
  bool have_segment = false;
  for (lower.empty() ? iterator->SeekToFirst() : iterator->Seek(lower); iterator->Valid();
       iterator->Next()) {
    const rocksdb::Slice key = iterator->key();
    if (key.size() < prefix) {
      return Status::Corruption("a time-ordered state store holds a key without a window start");
    }
    int64_t start = 0;
    if (prefix > 0) {
      start = ReadWindowPrefix(std::string_view(key.data(), key.size()));
      if (erased(start)) continue;
    }
    RETURN_NOT_OK(
        types::DecodeRow(std::string_view(key.data() + prefix, key.size() - prefix), decoded_key_));
    if (!have_segment || start != segment_start) {
      auto found = segments_.find(start);
      segment = found == segments_.end() ? nullptr : &found->second;
      segment_start = start;
      have_segment = true;
    }
    if (segment != nullptr) {
      auto cached = segment->cache.find(decoded_key_);
      if (cached != segment->cache.end()) {
        if (cached->second.present) visit(cached->first, cached->second.value);
        continue;
      }
    }
    const rocksdb::Slice stored = iterator->value();
    RETURN_NOT_OK(types::DecodeRow(std::string_view(stored.data(), stored.size()), value));
    visit(decoded_key_, value);
  }
  RETURN_NOT_OK(FromRocksDb(iterator->status(), "reading a state store"));
  for (const auto& [start, cached_segment] : segments_) {
    if (window && start != *window) continue;
    for (const auto& [key, entry] : cached_segment.cache) {
      if (entry.present && !entry.in_db) visit(key, entry.value);
    }
  }
  return Status::OK();
}

Status RocksDbKeyValueStore::ForEach(
    const std::function<void(const types::Row& key, const types::Row& value)>& visit) const {
  return VisitStored(std::nullopt, visit);
}

Status RocksDbKeyValueStore::ForEachInWindow(
    int64_t start,
    const std::function<void(const types::Row& key, const types::Row& value)>& visit) const {
  if (!window_start_index_) return KeyValueStore::ForEachInWindow(start, visit);
  if (std::find(erased_windows_.begin(), erased_windows_.end(), start) != erased_windows_.end()) {
    return Status::OK();
  }
  return VisitStored(start, visit);
}

int64_t RocksDbKeyValueStore::CacheBudget() const {
  const int64_t stores = std::max<int64_t>(1, shared_.open_stores.load(std::memory_order_relaxed));
  return shared_.write_cache_bytes / stores;
}

void RocksDbKeyValueStore::NoteWritten(Segment& segment, uint64_t hash) {
  if (!segment.written_complete) return;
  // The hashes of all segments are bounded like the cache (one costs about 16 bytes): past
  // that, the oldest window's go (it closes first and gets the fewest new keys), and its
  // misses read RocksDB again.
  while (written_hashes_ >= CacheBudget() / 16) {
    auto oldest = std::find_if(segments_.begin(), segments_.end(),
                               [](const auto& entry) { return entry.second.written_complete; });
    Segment& dropped = oldest->second;  // `segment` itself at the latest
    dropped.written_complete = false;
    written_hashes_ -= static_cast<int64_t>(dropped.written.size());
    absl::flat_hash_set<uint64_t>().swap(dropped.written);
    if (&dropped == &segment) return;
  }
  if (segment.written.insert(hash).second) ++written_hashes_;
}

Status RocksDbKeyValueStore::Persist() {
  if (!unpersisted_) return Status::OK();
  RETURN_NOT_OK(FromRocksDb(db_->Flush(rocksdb::FlushOptions()), "flushing a state store"));
  unpersisted_ = false;
  return Status::OK();
}

Status RocksDbKeyValueStore::Flush() {
  const int64_t budget = CacheBudget();
  // Down to 3/4 of the budget, so that eviction does not run at every commit.
  const int64_t target = cached_bytes_ > budget ? budget - budget / 4 : INT64_MAX;
  RETURN_NOT_OK(WriteChanges(/*commit=*/true, target));
  // Under exactly-once the memtables stay (RocksDB flushes them when full): flushing them at
  // each commit (every 100 ms) would make many small L0 files.
  if (persist_each_flush_) RETURN_NOT_OK(Persist());
  spilled_since_flush_ = false;
  // The batch made the entries' estimates exact: they may be over the budget only now.
  if (cached_bytes_ > budget) Evict(budget - budget / 4);
  DropEmptySegments();
  return Status::OK();
}

Status RocksDbKeyValueStore::WriteChanges(bool commit, int64_t evict_target) {
  prefix_tally_valid_ = false;
  if (!commit && !spilled_since_flush_ && HasUnflushedChanges()) {
    // The files are about to move past the last commit: the task's checkpoint goes first.
    if (early_write_hook_) RETURN_NOT_OK(early_write_hook_());
    spilled_since_flush_ = true;
  }
  // Encoded once into one buffer, then written in key order: a memtable takes sorted keys
  // far faster than scattered ones (its skip list reuses the last insert's position).
  struct Change {
    uint32_t key_offset, key_size, value_offset, value_size;
    bool put;
  };
  std::vector<Change> changes;
  flush_bytes_.clear();
  const size_t prefix = window_start_index_ ? kWindowPrefixBytes : 0;
  for (auto& [start, segment] : segments_) {
    for (Cache::value_type* entry : segment.dirty) {
      Entry& cached = entry->second;
      cached.dirty = false;
      // Made and erased since the last Flush: neither RocksDB nor the changelog has it.
      if (!cached.present && !cached.in_db) continue;
      Change change{};
      change.key_offset = static_cast<uint32_t>(flush_bytes_.size());
      AppendStoredKey(entry->first, flush_bytes_);
      change.key_size = static_cast<uint32_t>(flush_bytes_.size() - change.key_offset);
      change.put = cached.present;
      if (cached.present) {
        change.value_offset = static_cast<uint32_t>(flush_bytes_.size());
        types::EncodeRow(cached.value, flush_bytes_);
        change.value_size = static_cast<uint32_t>(flush_bytes_.size() - change.value_offset);
        SetBytes(segment, cached, EntryBytes(change.key_size, change.value_size));
      }
      if (cached.present && !cached.in_db) NoteWritten(segment, types::RowHash()(entry->first));
      cached.in_db = cached.present;
      changes.push_back(change);
      // Eviction starts here, while the entry is in the CPU's caches (a later walk over the
      // whole cache would find it cold): written, and not used again since it was made or
      // since the last eviction pass (an entry written once and never read, as most new
      // groups are), it goes, oldest window first. Evict does the rest.
      if (cached_bytes_ > evict_target) {
        if (!cached.touched) {
          cached_bytes_ -= cached.bytes;
          segment.bytes -= cached.bytes;
          segment.cache.erase(entry->first);
        } else {
          cached.touched = false;  // as Evict's first pass: it goes next time unless used
        }
      }
    }
    segment.dirty.clear();
  }
  if (flush_bytes_.size() > UINT32_MAX) {
    return Status::IOError("a state store's changes since the last commit exceed 4 GiB");
  }
  if (!changes.empty() || !erased_windows_.empty()) {
    if (!commit) ++spills_;
    const std::string_view bytes = flush_bytes_;
    auto key_of = [bytes](const Change& change) {
      return bytes.substr(change.key_offset, change.key_size);
    };
    std::sort(changes.begin(), changes.end(),
              [&key_of](const Change& a, const Change& b) { return key_of(a) < key_of(b); });
    rocksdb::WriteBatch batch(flush_bytes_.size() + 16 * changes.size());
    // An erased window is one range deletion. Its keys' deletions for the changelog are read
    // after the write, from iterators made before it (each sees the state it was made in).
    std::vector<std::string> bounds;
    std::vector<std::unique_ptr<rocksdb::Iterator>> erased;
    for (const int64_t start : erased_windows_) {
      bounds.push_back(WindowPrefix(start));
      bounds.push_back(start < INT64_MAX ? WindowPrefix(start + 1)
                                         : std::string(kWindowPrefixBytes + 1, '\xff'));
      batch.DeleteRange(bounds[bounds.size() - 2], bounds.back());
    }
    std::vector<rocksdb::Slice> upper_bounds(bounds.size() / 2);
    for (size_t i = 0; i < erased_windows_.size(); ++i) {
      rocksdb::ReadOptions read;
      upper_bounds[i] = bounds[2 * i + 1];
      read.iterate_upper_bound = &upper_bounds[i];
      erased.emplace_back(db_->NewIterator(read));
    }
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
    // No write-ahead log: the changelog is the durable copy (as in Kafka Streams). A commit
    // flushes the memtables instead (Flush), so that a checkpoint written after it never
    // names lost writes; a crash between two commits finds no checkpoint (the spills'
    // early write hook deleted it) and restores from the changelog.
    options.disableWAL = true;
    RETURN_NOT_OK(FromRocksDb(db_->Write(options, &batch), "writing a state store"));
    unpersisted_ = true;
    ++batches_written_;
    // The changelog gets what the batch wrote: the erased windows' keys, then the changes
    // in the batch's order.
    for (size_t i = 0; i < erased.size(); ++i) {
      rocksdb::Iterator& iterator = *erased[i];
      for (iterator.Seek(bounds[2 * i]); iterator.Valid(); iterator.Next()) {
        const rocksdb::Slice key = iterator.key();
        RETURN_NOT_OK(sink_(std::string_view(key.data() + prefix, key.size() - prefix), nullptr));
      }
      RETURN_NOT_OK(FromRocksDb(iterator.status(), "reading an erased window of a state store"));
    }
    // Files wholly inside an erased window go now, without waiting for a compaction to
    // drop what the range deletion covers (a segment drop, as Kafka Streams does it).
    for (size_t i = 0; i < erased_windows_.size(); ++i) {
      const rocksdb::Slice begin(bounds[2 * i]), end(bounds[2 * i + 1]);
      RETURN_NOT_OK(
          FromRocksDb(rocksdb::DeleteFilesInRange(db_, db_->DefaultColumnFamily(), &begin, &end),
                      "dropping the files of an erased window"));
    }
    erased_windows_.clear();
    for (const Change& change : changes) {
      const std::string_view key = key_of(change).substr(prefix);
      if (change.put) {
        value_bytes_.assign(bytes.data() + change.value_offset, change.value_size);
        RETURN_NOT_OK(sink_(key, &value_bytes_));
      } else {
        RETURN_NOT_OK(sink_(key, nullptr));
      }
    }
  }
  return Status::OK();
}

void RocksDbKeyValueStore::Evict(int64_t target) {
  if (cached_bytes_ <= target) return;
  // Every entry is clean after a write, so RocksDB has them all. The first pass drops
  // entries untouched since the last pass and clears the mark on the others; a second one
  // drops any.
  for (auto& [start, segment] : segments_) {
    for (auto entry = segment.cache.begin(); entry != segment.cache.end();) {
      if (cached_bytes_ > target && !entry->second.touched) {
        cached_bytes_ -= entry->second.bytes;
        segment.bytes -= entry->second.bytes;
        segment.cache.erase(entry++);
        continue;
      }
      entry->second.touched = false;
      ++entry;
    }
  }
  for (auto& [start, segment] : segments_) {
    for (auto entry = segment.cache.begin();
         entry != segment.cache.end() && cached_bytes_ > target;) {
      cached_bytes_ -= entry->second.bytes;
      segment.bytes -= entry->second.bytes;
      segment.cache.erase(entry++);
    }
  }
}

void RocksDbKeyValueStore::DropEmptySegments() {
  // Windows with nothing left, cached or stored (reads of absent keys made them).
  for (auto segment = segments_.begin(); segment != segments_.end();) {
    if (segment->second.count == 0 && segment->second.cache.empty()) {
      written_hashes_ -= static_cast<int64_t>(segment->second.written.size());
      segment = segments_.erase(segment);
    } else {
      ++segment;
    }
  }
}

Status RocksDbKeyValueStore::Restore(std::string_view key, const std::string_view* value) {
  // Checked before it is stored: a record another query wrote fails the restore here.
  RETURN_NOT_OK(types::DecodeRow(key, decoded_key_));
  const int64_t start = SegmentStart(decoded_key_);
  // A full restore starts with nothing cached.
  auto segment = cached_bytes_ > 0 ? segments_.find(start) : segments_.end();
  if (segment != segments_.end()) {
    auto cached = segment->second.cache.find(decoded_key_);
    if (cached != segment->second.cache.end()) {
      cached_bytes_ -= cached->second.bytes;
      segment->second.bytes -= cached->second.bytes;
      segment->second.cache.erase(cached);
    }
  }
  restoring_ = true;
  prefix_tally_valid_ = false;
  RestoreRecord record{};
  record.key_offset = restore_bytes_.size();
  if (window_start_index_) AppendWindowPrefix(start, restore_bytes_);
  restore_bytes_.append(key);
  record.key_size = restore_bytes_.size() - record.key_offset;
  record.put = value != nullptr;
  if (value != nullptr) {
    record.value_offset = restore_bytes_.size();
    restore_bytes_.append(*value);
    record.value_size = value->size();
  }
  restore_records_.push_back(record);
  if (restore_bytes_.size() >= kRestoreBatchBytes) return WriteRestoreBatch();
  return Status::OK();
}

Status RocksDbKeyValueStore::WriteRestoreBatch() {
  if (restore_records_.empty()) return Status::OK();
  // In key order, as a table file holds them. Stable, so the later of two records of one
  // key stays later and wins.
  const std::string_view bytes = restore_bytes_;
  auto key_of = [bytes](const RestoreRecord& record) {
    return bytes.substr(record.key_offset, record.key_size);
  };
  SortRuns(restore_records_, [&key_of](const RestoreRecord& a, const RestoreRecord& b) {
    return key_of(a) < key_of(b);
  });
  // Bulk-loaded, as RocksDB's SstFileWriter and IngestExternalFile do it: one table file per
  // batch, written directly (no memtable, no flush) and added to the database with a
  // sequence number above every write before it, so it overrides them as the records do.
  // The last record of each key wins (the sort is stable).
  rocksdb::Options file_options = db_->GetOptions();
  // Most restored state is rewritten or dropped by the first compactions (as L0 and L1,
  // which are not compressed either).
  file_options.compression_per_level.clear();
  file_options.compression = rocksdb::kNoCompression;
  file_options.bottommost_compression = rocksdb::kDisableCompressionOption;
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), file_options);
  const std::string path = directory_ + "/restore.sst.tmp";
  RETURN_NOT_OK(FromRocksDb(writer.Open(path), "restoring a state store"));
  for (size_t i = 0; i < restore_records_.size(); ++i) {
    const RestoreRecord& record = restore_records_[i];
    const std::string_view key = key_of(record);
    if (i + 1 < restore_records_.size() && key_of(restore_records_[i + 1]) == key) continue;
    const rocksdb::Slice stored(key.data(), key.size());
    const rocksdb::Status added =
        record.put ? writer.Put(stored, rocksdb::Slice(bytes.data() + record.value_offset,
                                                       record.value_size))
                   : writer.Delete(stored);
    if (!added.ok()) {
      std::remove(path.c_str());
      return FromRocksDb(added, "restoring a state store");
    }
  }
  rocksdb::Status written = writer.Finish();
  if (written.ok()) {
    rocksdb::IngestExternalFileOptions ingest;
    ingest.move_files = true;           // a link, not a copy
    ingest.write_global_seqno = false;  // kept in the MANIFEST: no rewrite of the file
    written = db_->IngestExternalFile({path}, ingest);
  }
  std::remove(path.c_str());  // moved (linked, then the name dropped) or failed
  RETURN_NOT_OK(FromRocksDb(written, "restoring a state store"));
  restore_records_.clear();
  restore_bytes_.clear();
  return Status::OK();
}

Status RocksDbKeyValueStore::FinishRestore() {
  const bool restored = restoring_;
  RETURN_NOT_OK(WriteRestoreBatch());
  restoring_ = false;
  std::vector<RestoreRecord>().swap(restore_records_);
  std::string().swap(restore_bytes_);
  if (!restored) return Status::OK();
  // What was restored without the WAL reaches the disk before the task's first checkpoint.
  RETURN_NOT_OK(FromRocksDb(db_->Flush(rocksdb::FlushOptions()), "flushing a restored store"));
  return CountEntries();
}

RocksDbKeyValueStore::FileStats RocksDbKeyValueStore::GetFileStats() const {
  FileStats stats;
  uint64_t value = 0;
  if (db_->GetIntProperty("rocksdb.num-files-at-level0", &value)) {
    stats.level0_files = static_cast<int64_t>(value);
  }
  std::vector<rocksdb::LiveFileMetaData> files;
  db_->GetLiveFilesMetaData(&files);
  stats.live_files = static_cast<int64_t>(files.size());
  std::map<std::string, std::string> cf;
  if (db_->GetMapProperty(rocksdb::DB::Properties::kCFStats, &cf)) {
    // Level 0's row counts the flushes (only flushes write to it); compactions write to the
    // levels below.
    stats.flushes = std::atoll(cf["compaction.L0.CompCount"].c_str());
    for (const auto& [name, text] : cf) {
      if (name.rfind("compaction.L", 0) != 0 || name.rfind("compaction.L0.", 0) == 0) continue;
      const double number = std::atof(text.c_str());
      if (name.size() > 10 && name.compare(name.size() - 10, 10, ".CompCount") == 0) {
        stats.compactions += static_cast<int64_t>(number);
      } else if (name.size() > 8 && name.compare(name.size() - 8, 8, ".WriteGB") == 0) {
        stats.compaction_write_gb += number;
      }
    }
  }
  return stats;
}

Result<int64_t> RocksDbKeyValueStore::CountStoredKeys() const {
  std::unique_ptr<rocksdb::Iterator> iterator(db_->NewIterator(rocksdb::ReadOptions()));
  int64_t keys = 0;
  for (iterator->SeekToFirst(); iterator->Valid(); iterator->Next()) ++keys;
  RETURN_NOT_OK(FromRocksDb(iterator->status(), "counting the keys of a state store"));
  return keys;
}

Status RocksDbKeyValueStore::CompactAll() {
  return FromRocksDb(db_->CompactRange(rocksdb::CompactRangeOptions(), nullptr, nullptr),
                     "compacting a state store");
}

}  // namespace sidestream::state
