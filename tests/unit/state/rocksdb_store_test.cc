// RocksDbKeyValueStore: a write cache over RocksDB that folds updates, writes one batch per
// Flush, gives the changelog only what changed, keeps its data across a reopen, and reads
// correctly when the cache evicts.

#include "state/rocksdb_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "types/value_codec.h"

namespace sidestream::state {
namespace {

using types::Row;
using types::Value;

Row Key(const std::string& key) { return {Value::String(key)}; }
// A windowed aggregation's key: the group, then the window start.
Row WindowKey(const std::string& group, int64_t start) {
  return {Value::String(group), Value::Bigint(start)};
}

class RocksDbStoreTest : public testing::Test {
 protected:
  RocksDbStoreTest() {
    directory_ = std::filesystem::temp_directory_path() /
                 ("rocksdb_store_test_" + std::to_string(::getpid()) + "_" +
                  testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    RocksDbStoreProvider::Options options;
    options.state_dir = directory_.string();
    options.application_id = "app";
    options.memory_bytes = 16 << 20;
    options.write_cache_bytes = 64 << 20;
    auto provider = RocksDbStoreProvider::Create(options);
    EXPECT_TRUE(provider.ok()) << provider.status().ToString();
    provider_ = std::move(*provider);
  }
  ~RocksDbStoreTest() override {
    store_.reset();
    provider_.reset();
    std::filesystem::remove_all(directory_);
  }

  std::string StoreDirectory() const { return (directory_ / "task").string(); }

  Status Open() {
    store_.reset();
    auto opened = provider_->Open(
        StoreDirectory(), "store", [this](std::string_view key, const std::string* value) {
          Row decoded;
          EXPECT_TRUE(types::DecodeRow(key, decoded).ok());
          std::string name = decoded[0].string();
          if (decoded.size() > 1) name += "@" + std::to_string(decoded[1].integer());
          written_.push_back(name + (value ? "=" + std::to_string(Decode(*value)) : " deleted"));
          return Status::OK();
        });
    if (!opened.ok()) return opened.status();
    store_.reset(static_cast<RocksDbKeyValueStore*>(opened->release()));
    return Status::OK();
  }

  static int64_t Decode(std::string_view bytes) {
    Row row;
    EXPECT_TRUE(types::DecodeRow(bytes, row).ok());
    return row[0].integer();
  }
  void Put(const std::string& key, int64_t value) { Put(Key(key), value); }
  void Put(const Row& key, int64_t value) {
    bool inserted = false;
    auto row = store_->Upsert(key, inserted);
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    **row = {Value::Bigint(value)};
  }
  // The value of a windowed key, or -1 when absent.
  int64_t Read(const std::string& group, int64_t start) {
    auto row = store_->Get(WindowKey(group, start));
    EXPECT_TRUE(row.ok()) << row.status().ToString();
    return row.ok() && *row != nullptr ? (**row)[0].integer() : -1;
  }
  // "group@start=value" of each entry of one window, in the order visited.
  std::vector<std::string> Window(int64_t start) {
    std::vector<std::string> entries;
    Status visited = store_->ForEachInWindow(start, [&](const Row& key, const Row& value) {
      entries.push_back(key[0].string() + "@" + std::to_string(key[1].integer()) + "=" +
                        std::to_string(value[0].integer()));
    });
    EXPECT_TRUE(visited.ok()) << visited.ToString();
    return entries;
  }
  void OrderByWindowStart() {
    auto ordered = store_->OrderByWindowStart(1);
    ASSERT_TRUE(ordered.ok()) << ordered.status().ToString();
    ASSERT_TRUE(*ordered);
  }
  std::vector<int64_t> WindowStarts() {
    auto starts = store_->WindowStarts();
    EXPECT_TRUE(starts.ok()) << starts.status().ToString();
    return starts.ok() ? *starts : std::vector<int64_t>{};
  }
  Status ReopenWithBudget(int64_t write_cache_bytes) {
    store_.reset();
    provider_.reset();
    RocksDbStoreProvider::Options options;
    options.state_dir = directory_.string();
    options.application_id = "app";
    options.write_cache_bytes = write_cache_bytes;
    auto provider = RocksDbStoreProvider::Create(options);
    if (!provider.ok()) return provider.status();
    provider_ = std::move(*provider);
    return Open();
  }
  // The value of `key`, or -1 when absent.
  int64_t Read(const std::string& key) {
    auto row = store_->Get(Key(key));
    EXPECT_TRUE(row.ok()) << row.status().ToString();
    return row.ok() && *row != nullptr ? (**row)[0].integer() : -1;
  }
  std::vector<std::string> Flush() {
    written_.clear();
    Status flushed = store_->Flush();
    EXPECT_TRUE(flushed.ok()) << flushed.ToString();
    return written_;
  }
  std::map<std::string, int64_t> All() {
    std::map<std::string, int64_t> all;
    EXPECT_TRUE(store_
                    ->ForEach([&all](const Row& key, const Row& value) {
                      all[key[0].string()] = value[0].integer();
                    })
                    .ok());
    return all;
  }

  std::filesystem::path directory_;
  std::unique_ptr<RocksDbStoreProvider> provider_;
  std::unique_ptr<RocksDbKeyValueStore> store_;
  std::vector<std::string> written_;
};

TEST_F(RocksDbStoreTest, PutGetErase) {
  ASSERT_TRUE(Open().ok());
  Put("a", 1);
  Put("b", 2);
  EXPECT_EQ(Read("a"), 1);
  EXPECT_EQ(Read("missing"), -1);
  EXPECT_EQ(store_->size(), 2u);
  bool inserted = true;
  auto again = store_->Upsert(Key("a"), inserted);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(inserted);
  EXPECT_EQ((**again)[0].integer(), 1);
  ASSERT_TRUE(store_->Erase(Key("a")).ok());
  ASSERT_TRUE(store_->Erase(Key("missing")).ok());
  EXPECT_EQ(Read("a"), -1);
  EXPECT_EQ(store_->size(), 1u);
  auto found = store_->Find(Key("a"));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, nullptr);
}

TEST_F(RocksDbStoreTest, FlushWritesOneBatchWithEachChangedEntryOnce) {
  ASSERT_TRUE(Open().ok());
  for (int i = 0; i < 100; ++i) Put("k" + std::to_string(i % 10), i);
  EXPECT_EQ(Flush().size(), 10u);  // 100 updates of 10 keys fold into 10 entries
  EXPECT_EQ(store_->batches_written(), 1);
  EXPECT_EQ(Flush(), std::vector<std::string>{});  // an idle store writes nothing
  EXPECT_EQ(store_->batches_written(), 1);
  EXPECT_EQ(Read("k3"), 93);
}

TEST_F(RocksDbStoreTest, TheChangelogGetsOnlyWhatChanged) {
  ASSERT_TRUE(Open().ok());
  Put("a", 1);
  Put("b", 2);
  Put("c", 3);
  EXPECT_EQ(Flush(), (std::vector<std::string>{"a=1", "b=2", "c=3"}));
  EXPECT_EQ(Read("a"), 1);  // read only: not written again
  EXPECT_EQ(Flush(), std::vector<std::string>{});
  (*store_->Find(Key("b")))->at(0) = Value::Bigint(20);  // changed in place
  ASSERT_TRUE(store_->Erase(Key("c")).ok());             // the changelog holds it: deleted
  Put("d", 4);
  ASSERT_TRUE(store_->Erase(Key("d")).ok());  // made and erased between commits: nothing
  EXPECT_EQ(Flush(), (std::vector<std::string>{"b=20", "c deleted"}));
  EXPECT_EQ(store_->batches_written(), 2);
  EXPECT_EQ(All(), (std::map<std::string, int64_t>{{"a", 1}, {"b", 20}}));
}

TEST_F(RocksDbStoreTest, AReopenedStoreKeepsWhatWasFlushed) {
  ASSERT_TRUE(Open().ok());
  Put("a", 1);
  Put("b", 2);
  Flush();
  Put("unflushed", 3);  // lost at close: the changelog and the input redo it
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(Read("a"), 1);
  EXPECT_EQ(Read("b"), 2);
  EXPECT_EQ(Read("unflushed"), -1);
  EXPECT_EQ(store_->size(), 2u);
  EXPECT_EQ(All(), (std::map<std::string, int64_t>{{"a", 1}, {"b", 2}}));
}

TEST_F(RocksDbStoreTest, ACorruptStoreFailsToOpenWithCorruption) {
  ASSERT_TRUE(Open().ok());
  Put("a", 1);
  Flush();
  store_.reset();
  std::ofstream(StoreDirectory() + "/store/CURRENT", std::ios::trunc) << "garbage";
  Status opened = Open();
  EXPECT_EQ(opened.code(), StatusCode::kCorruption) << opened.ToString();
}

TEST_F(RocksDbStoreTest, EvictionKeepsReadsCorrect) {
  store_.reset();
  provider_.reset();
  RocksDbStoreProvider::Options options;
  options.state_dir = directory_.string();
  options.application_id = "app";
  options.write_cache_bytes = 16 << 10;  // room for a hundred entries or so
  auto provider = RocksDbStoreProvider::Create(options);
  ASSERT_TRUE(provider.ok()) << provider.status().ToString();
  provider_ = std::move(*provider);
  ASSERT_TRUE(Open().ok());
  std::map<std::string, int64_t> expected;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 1000; ++i) {
      const std::string key = "k" + std::to_string(i);
      if ((i + round) % 7 == 0) {
        ASSERT_TRUE(store_->Erase(Key(key)).ok());
        expected.erase(key);
      } else {
        bool inserted = false;
        auto row = store_->Upsert(Key(key), inserted);
        ASSERT_TRUE(row.ok());
        EXPECT_EQ(inserted, expected.count(key) == 0) << key << " in round " << round;
        const int64_t value = inserted ? 0 : (**row)[0].integer();
        **row = {Value::Bigint(value + i)};
        expected[key] = value + i;
      }
    }
    Flush();
    EXPECT_LT(store_->cached_entries(), 200u) << "round " << round;
    EXPECT_LE(store_->cached_bytes(), 16 << 10);
  }
  for (const auto& [key, value] : expected) EXPECT_EQ(Read(key), value) << key;
  EXPECT_EQ(store_->size(), expected.size());
  EXPECT_EQ(All(), expected);
}

TEST_F(RocksDbStoreTest, ARestoreAppliesChangelogRecords) {
  ASSERT_TRUE(Open().ok());
  std::string key_a, key_b, one, two;
  types::EncodeRow(Key("a"), key_a);
  types::EncodeRow(Key("b"), key_b);
  types::EncodeRow({Value::Bigint(1)}, one);
  types::EncodeRow({Value::Bigint(2)}, two);
  const std::string_view one_view = one, two_view = two;
  ASSERT_TRUE(store_->Restore(key_a, &one_view).ok());
  ASSERT_TRUE(store_->Restore(key_b, &one_view).ok());
  ASSERT_TRUE(store_->Restore(key_b, &two_view).ok());
  ASSERT_TRUE(store_->Restore(key_a, nullptr).ok());
  EXPECT_EQ(store_->Restore("not a row", &one_view).code(), StatusCode::kCorruption);
  ASSERT_TRUE(store_->FinishRestore().ok());
  EXPECT_EQ(store_->size(), 1u);
  EXPECT_EQ(Read("a"), -1);
  EXPECT_EQ(Read("b"), 2);
  EXPECT_EQ(Flush(), std::vector<std::string>{});  // restored entries are not written back
  ASSERT_TRUE(store_->Erase(Key("b")).ok());       // but their deletion is
  EXPECT_EQ(Flush(), std::vector<std::string>{"b deleted"});
}

// A commit (Flush) can come before the first record after a restore or a reopen (its input
// waits on another instance's open transaction): the keys found then must stay readable. It
// once dropped the unwindowed store's only segment as empty, and every later miss answered
// "absent" without a read: a count per cell restarted from zero after a rebalance.
TEST_F(RocksDbStoreTest, RestoredAndReopenedKeysStayReadableAcrossACommitWithNothingCached) {
  ASSERT_TRUE(Open().ok());
  std::string key_a, one;
  types::EncodeRow(Key("a"), key_a);
  types::EncodeRow({Value::Bigint(1)}, one);
  const std::string_view one_view = one;
  ASSERT_TRUE(store_->Restore(key_a, &one_view).ok());
  ASSERT_TRUE(store_->FinishRestore().ok());
  EXPECT_EQ(Flush(), std::vector<std::string>{});
  EXPECT_EQ(Read("a"), 1);
  Put("b", 2);
  Flush();
  ASSERT_TRUE(Open().ok());  // a clean reopen: the key counts come from the saved file
  EXPECT_EQ(Flush(), std::vector<std::string>{});
  EXPECT_EQ(Read("a"), 1);
  EXPECT_EQ(Read("b"), 2);
  EXPECT_EQ(store_->size(), 2u);
}

TEST_F(RocksDbStoreTest, ARestoreOverStoredStateInSeveralBatchesKeepsTheLastRecordOfEachKey) {
  ASSERT_TRUE(Open().ok());
  // Stored state, as a checkpoint's files hold it before the changelog's tail is replayed.
  for (int i = 0; i < 100; ++i) Put("k" + std::to_string(i), i);
  Flush();
  ASSERT_TRUE(Open().ok());
  // The tail: 100,000 records (over 4 MB with their padding: several table files), each key
  // of the stored ones updated twice or deleted, and new keys, in no order.
  std::map<std::string, int64_t> expected;
  for (int i = 0; i < 100; ++i) expected["k" + std::to_string(i)] = i;
  const std::string padding(40, 'p');
  std::string key, value;
  for (int i = 0; i < 100000; ++i) {
    const int k = (i * 7919) % 20000;
    const std::string name = "k" + std::to_string(k);
    key.clear();
    types::EncodeRow(Row{Value::String(name)}, key);
    if (k % 10 == 3 && i % 2 == 1) {
      ASSERT_TRUE(store_->Restore(key, nullptr).ok());
      expected.erase(name);
    } else {
      value.clear();
      types::EncodeRow({Value::Bigint(i), Value::String(padding)}, value);
      const std::string_view view = value;
      ASSERT_TRUE(store_->Restore(key, &view).ok());
      expected[name] = i;
    }
  }
  ASSERT_TRUE(store_->FinishRestore().ok());
  EXPECT_EQ(store_->size(), expected.size());
  EXPECT_EQ(All(), expected);
  EXPECT_EQ(Read("k3"), expected.count("k3") ? expected["k3"] : -1);
  // And so after a reopen (the restored files are durable without a flush).
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(store_->size(), expected.size());
  EXPECT_EQ(All(), expected);
}

TEST_F(RocksDbStoreTest, ASecondProcessCannotTakeTheSameStateDirectory) {
  RocksDbStoreProvider::Options options;
  options.state_dir = directory_.string();
  options.application_id = "app";
  auto second = RocksDbStoreProvider::Create(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIOError);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos)
      << second.status().message();
  options.application_id = "other";  // another application's directory is free
  EXPECT_TRUE(RocksDbStoreProvider::Create(options).ok());
}

}  // namespace
}  // namespace sidestream::state

namespace sidestream::state {
namespace {

TEST_F(RocksDbStoreTest, WindowsOrderedByStartAreVisitedAndErasedWhole) {
  ASSERT_TRUE(Open().ok());
  OrderByWindowStart();
  for (const int64_t start : {-60000, 0, 60000}) {  // before the epoch too
    Put(WindowKey("b", start), 2);
    Put(WindowKey("a", start), 1);
  }
  EXPECT_EQ(Flush().size(), 6u);
  Put(WindowKey("c", 0), 3);                                      // not flushed yet
  (*store_->Find(WindowKey("a", 0)))->at(0) = Value::Bigint(10);  // newer in the cache
  EXPECT_EQ(WindowStarts(), (std::vector<int64_t>{-60000, 0, 60000}));
  EXPECT_EQ(Window(0), (std::vector<std::string>{"a@0=10", "b@0=2", "c@0=3"}));
  EXPECT_EQ(Window(-60000), (std::vector<std::string>{"a@-60000=1", "b@-60000=2"}));
  EXPECT_EQ(store_->size(), 7u);

  ASSERT_TRUE(store_->EraseWindow(0).ok());
  EXPECT_EQ(store_->size(), 4u);
  EXPECT_EQ(Read("a", 0), -1);  // gone at once, though RocksDB drops it at the Flush
  EXPECT_EQ(Window(0), std::vector<std::string>{});
  EXPECT_EQ(WindowStarts(), (std::vector<int64_t>{-60000, 60000}));
  EXPECT_TRUE(store_->HasUnflushedChanges());
  // The changelog deletes what it held of the window; "c" never reached it.
  EXPECT_EQ(Flush(), (std::vector<std::string>{"a@0 deleted", "b@0 deleted"}));
  auto stored = store_->CountStoredKeys();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, 4);
  EXPECT_EQ(Flush(), std::vector<std::string>{});

  // Reopened, the layout and the windows are as they were.
  ASSERT_TRUE(Open().ok());
  OrderByWindowStart();
  EXPECT_EQ(store_->size(), 4u);
  EXPECT_EQ(WindowStarts(), (std::vector<int64_t>{-60000, 60000}));
  EXPECT_EQ(Read("b", 60000), 2);
  EXPECT_EQ(Read("a", 0), -1);
  EXPECT_EQ(All().size(), 2u);  // All() keys by group: a and b
}

TEST_F(RocksDbStoreTest, AStoreOfTheOtherLayoutIsNotMisread) {
  ASSERT_TRUE(Open().ok());
  Put(WindowKey("a", 0), 1);
  Flush();
  ASSERT_TRUE(Open().ok());
  auto ordered = store_->OrderByWindowStart(1);
  EXPECT_EQ(ordered.status().code(), StatusCode::kCorruption);
}

TEST_F(RocksDbStoreTest, ARestoreFillsTheOrderedLayout) {
  ASSERT_TRUE(Open().ok());
  OrderByWindowStart();
  std::string key_a, key_b, one;
  types::EncodeRow(WindowKey("a", 1000), key_a);
  types::EncodeRow(WindowKey("b", 2000), key_b);
  types::EncodeRow({Value::Bigint(1)}, one);
  const std::string_view one_view = one;
  ASSERT_TRUE(store_->Restore(key_a, &one_view).ok());
  ASSERT_TRUE(store_->Restore(key_b, &one_view).ok());
  ASSERT_TRUE(store_->FinishRestore().ok());
  EXPECT_EQ(store_->size(), 2u);
  EXPECT_EQ(WindowStarts(), (std::vector<int64_t>{1000, 2000}));
  EXPECT_EQ(Window(2000), std::vector<std::string>{"b@2000=1"});
  ASSERT_TRUE(store_->EraseWindow(1000).ok());
  EXPECT_EQ(Flush(), std::vector<std::string>{"a@1000 deleted"});
}

TEST_F(RocksDbStoreTest, ACacheOverItsBudgetSpillsBeforeTheCommit) {
  ASSERT_TRUE(ReopenWithBudget(16 << 10).ok());
  int hook_calls = 0;
  store_->SetEarlyWriteHook([&hook_calls] {
    ++hook_calls;
    return Status::OK();
  });
  written_.clear();
  for (int i = 0; i < 1000; ++i) Put("k" + std::to_string(i), i);
  // The cache never held the thousand new entries: they went to RocksDB and the changelog
  // before the commit, and the checkpoint hook ran once, before the first such write.
  EXPECT_GT(store_->spills(), 0);
  EXPECT_EQ(hook_calls, 1);
  EXPECT_LE(store_->cached_bytes(), 20 << 10);
  EXPECT_GT(written_.size(), 500u);
  const size_t spilled = written_.size();
  EXPECT_EQ(Flush().size(), 1000 - spilled);  // the rest, each key once in all
  for (int i = 0; i < 1000; i += 97) EXPECT_EQ(Read("k" + std::to_string(i)), i);
  EXPECT_EQ(store_->size(), 1000u);
  // The next interval's first spill deletes the checkpoint again.
  for (int i = 0; i < 1000; ++i) Put("k" + std::to_string(i), i + 1);
  EXPECT_EQ(hook_calls, 2);
  // A failing hook stops the write, and the Upsert returns its error.
  ASSERT_TRUE(Flush().size() > 0);
  store_->SetEarlyWriteHook([] { return Status::IOError("cannot delete the checkpoint"); });
  Status failed;
  for (int i = 0; i < 1000 && failed.ok(); ++i) {
    bool inserted = false;
    auto row = store_->Upsert(Key("n" + std::to_string(i)), inserted);
    if (!row.ok()) failed = row.status();
  }
  EXPECT_EQ(failed.code(), StatusCode::kIOError);
}

TEST_F(RocksDbStoreTest, MissesOnKeysTheStoreNeverWroteSkipTheRead) {
  ASSERT_TRUE(ReopenWithBudget(16 << 10).ok());
  OrderByWindowStart();
  for (int i = 0; i < 1000; ++i) Put(WindowKey("k" + std::to_string(i), 0), i);
  // New groups: nothing of window 0 was in RocksDB but what this store wrote.
  EXPECT_GE(store_->skipped_reads(), 1000);
  Flush();
  EXPECT_LT(store_->cached_entries(), 1000u);  // most were evicted
  const int64_t skipped = store_->skipped_reads();
  for (int i = 0; i < 1000; i += 37) EXPECT_EQ(Read("k" + std::to_string(i), 0), i);
  EXPECT_EQ(Read("never", 0), -1);
  EXPECT_EQ(Read("never", 60000), -1);
  // The evicted keys were read from RocksDB; only the two unknown keys were not.
  EXPECT_EQ(store_->skipped_reads(), skipped + 2);

  // Reopened, window 0's keys were written by an earlier store: misses read again.
  ASSERT_TRUE(ReopenWithBudget(16 << 10).ok());
  OrderByWindowStart();
  EXPECT_EQ(store_->size(), 1000u);
  EXPECT_EQ(Read("k999", 0), 999);
  EXPECT_EQ(Read("never", 0), -1);
  EXPECT_EQ(store_->skipped_reads(), 0);
  // So do a window's misses after a restore wrote into it.
  Put(WindowKey("new", 60000), 1);
  Flush();
  std::string restored_key, restored_value;
  types::EncodeRow(WindowKey("restored", 60000), restored_key);
  types::EncodeRow({Value::Bigint(7)}, restored_value);
  const std::string_view value_view = restored_value;
  ASSERT_TRUE(store_->Restore(restored_key, &value_view).ok());
  ASSERT_TRUE(store_->FinishRestore().ok());
  EXPECT_EQ(Read("restored", 60000), 7);
  EXPECT_EQ(store_->size(), 1002u);
}

TEST_F(RocksDbStoreTest, TheWrittenKeysHashesAreBoundedOldestWindowFirst) {
  ASSERT_TRUE(ReopenWithBudget(16 << 10).ok());  // room for 1024 hashes
  OrderByWindowStart();
  for (int i = 0; i < 800; ++i) Put(WindowKey("k" + std::to_string(i), 0), i);
  Flush();
  for (int i = 0; i < 800; ++i) Put(WindowKey("k" + std::to_string(i), 60000), i);
  Flush();
  // Window 0's hashes made room for window 60000's: its misses read RocksDB again.
  int64_t skipped = store_->skipped_reads();
  EXPECT_EQ(Read("never", 0), -1);
  EXPECT_EQ(store_->skipped_reads(), skipped);
  EXPECT_EQ(Read("k5", 0), 5);
  EXPECT_EQ(Read("never", 60000), -1);
  EXPECT_EQ(store_->skipped_reads(), skipped + 1);
  EXPECT_EQ(Read("k799", 60000), 799);
  EXPECT_EQ(store_->size(), 1600u);
}

TEST_F(RocksDbStoreTest, ARestoreKeepsTheLastRecordOfAKey) {
  ASSERT_TRUE(Open().ok());
  OrderByWindowStart();
  // Records are written sorted by key: the later of two records of one key must still win.
  std::string value_bytes[3];
  std::string_view values[3];
  for (int i = 0; i < 3; ++i) {
    types::EncodeRow({Value::Bigint(i)}, value_bytes[i]);
    values[i] = value_bytes[i];
  }
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 100; ++k) {
      std::string key;
      types::EncodeRow(WindowKey("k" + std::to_string(k), (k % 3) * 60000), key);
      const bool erase = round == 2 && k % 2 == 0;
      ASSERT_TRUE(store_->Restore(key, erase ? nullptr : &values[round]).ok());
    }
  }
  ASSERT_TRUE(store_->FinishRestore().ok());
  EXPECT_EQ(store_->size(), 50u);
  for (int k = 0; k < 100; ++k) {
    EXPECT_EQ(Read("k" + std::to_string(k), (k % 3) * 60000), k % 2 == 0 ? -1 : 2) << k;
  }
}

TEST_F(RocksDbStoreTest, AReopenAfterACleanCloseReadsTheSavedCountsInsteadOfScanning) {
  ASSERT_TRUE(Open().ok());
  OrderByWindowStart();
  Put(WindowKey("a", 0), 1);
  Put(WindowKey("b", 0), 2);
  Put(WindowKey("a", 60), 3);
  Flush();
  store_.reset();  // a clean close: every change written
  const std::string counts = StoreDirectory() + "/store/SIDESTREAM-KEY-COUNTS";
  ASSERT_TRUE(std::filesystem::exists(counts));
  std::filesystem::copy_file(counts, directory_ / "saved-counts");
  ASSERT_TRUE(Open().ok());
  EXPECT_FALSE(std::filesystem::exists(counts));  // it serves one open only
  EXPECT_EQ(store_->size(), 3u);
  OrderByWindowStart();
  EXPECT_EQ(WindowStarts(), (std::vector<int64_t>{0, 60}));
  EXPECT_EQ(Read("b", 0), 2);
  // Counts of older files are ignored: the database moved on since they were saved.
  Put(WindowKey("c", 120), 4);
  Flush();
  Put(WindowKey("lost", 120), 5);  // not flushed: no counts are saved at this close
  store_.reset();
  EXPECT_FALSE(std::filesystem::exists(counts));
  std::filesystem::copy_file(directory_ / "saved-counts", counts);
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(store_->size(), 4u);
  OrderByWindowStart();
  EXPECT_EQ(WindowStarts(), (std::vector<int64_t>{0, 60, 120}));
  EXPECT_EQ(Read("lost", 120), -1);
}

TEST_F(RocksDbStoreTest, WithoutPersistEachFlushACommitKeepsTheMemtablesUntilPersist) {
  ASSERT_TRUE(Open().ok());
  store_->SetPersistEachFlush(false);
  for (int commit = 0; commit < 5; ++commit) {
    Put("k" + std::to_string(commit), commit);
    EXPECT_EQ(Flush().size(), 1u);  // the changelog still gets each commit's changes
  }
  EXPECT_EQ(store_->GetFileStats().flushes, 0);
  EXPECT_EQ(store_->GetFileStats().live_files, 0);
  EXPECT_EQ(Read("k3"), 3);
  ASSERT_TRUE(store_->Persist().ok());
  EXPECT_EQ(store_->GetFileStats().flushes, 1);  // one file for the five commits
  EXPECT_EQ(store_->GetFileStats().live_files, 1);
  ASSERT_TRUE(Open().ok());
  EXPECT_EQ(store_->size(), 5u);
  EXPECT_EQ(Read("k4"), 4);
  // Each Flush persists by default: one file per commit.
  Put("x", 1);
  Flush();
  Put("y", 2);
  Flush();
  EXPECT_EQ(store_->GetFileStats().flushes, 2);
}

}  // namespace
}  // namespace sidestream::state
