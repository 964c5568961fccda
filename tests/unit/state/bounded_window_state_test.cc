// Windowed state stays bounded on an endless stream: a hopping aggregation runs over a
// stream ten times longer than its windows' retention (size + grace), and the keys its
// store holds (and, on RocksDB, the keys and bytes on disk) stay within what the open
// windows need, for EMIT CHANGES and EMIT FINAL, in memory and on RocksDB.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "runtime/state_store.h"
#include "runtime/stream_task.h"
#include "session/statements.h"
#include "state/rocksdb_store.h"

namespace sidestream::state {
namespace {

// Windows of 10 s every 5 s with 2 s of grace: a window's state is kept for 12 s of
// event time after it starts, so about 3 windows are open at any time.
constexpr int64_t kSizeMs = 10'000;
constexpr int64_t kAdvanceMs = 5'000;
constexpr int64_t kGraceMs = 2'000;
constexpr int64_t kRecordsPerSecond = 20;
constexpr int kCallers = 1'000;  // each window sees 200 distinct callers: 200 groups
// Ten times the retention of one window.
constexpr int64_t kStreamMs = 10 * (kSizeMs + kGraceMs);

std::string Sql(const std::string& emit) {
  return "CREATE STREAM calls (caller STRING KEY, callee STRING) WITH (KAFKA_TOPIC='calls', "
         "VALUE_FORMAT='JSON', PARTITIONS=1);\n"
         "CREATE TABLE callees AS SELECT caller, COUNT(*) AS calls FROM calls WINDOW HOPPING "
         "(SIZE 10 SECONDS, ADVANCE BY 5 SECONDS, GRACE PERIOD 2 SECONDS) GROUP BY caller "
         "EMIT " +
         emit + ";";
}

struct Params {
  const char* store;  // "memory" or "rocksdb"
  const char* emit;   // "CHANGES" or "FINAL"
};

class BoundedWindowStateTest : public testing::TestWithParam<Params> {
 protected:
  BoundedWindowStateTest() {
    directory_ = std::filesystem::temp_directory_path() /
                 ("bounded_window_state_test_" + std::to_string(::getpid()) + "_" +
                  std::to_string(testing::UnitTest::GetInstance()->random_seed()) + "_" +
                  GetParam().store + GetParam().emit);
    std::filesystem::remove_all(directory_);
  }
  ~BoundedWindowStateTest() override { std::filesystem::remove_all(directory_); }

  std::filesystem::path directory_;
};

int64_t SstBytes(const std::filesystem::path& directory) {
  int64_t bytes = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(directory)) {
    if (entry.path().extension() == ".sst") bytes += static_cast<int64_t>(entry.file_size());
  }
  return bytes;
}

TEST_P(BoundedWindowStateTest, StateStaysBoundedOverTenRetentions) {
  const bool rocksdb = std::string(GetParam().store) == "rocksdb";
  auto catalog = catalog::Catalog::Open(":memory:");
  ASSERT_TRUE(catalog.ok());
  auto query = session::CompileLastQuery(Sql(GetParam().emit), **catalog);
  ASSERT_TRUE(query.ok()) << query.status().ToString();

  std::unique_ptr<RocksDbStoreProvider> provider;
  if (rocksdb) {
    RocksDbStoreProvider::Options options;
    options.state_dir = directory_.string();
    options.application_id = "app";
    options.memory_bytes = 16 << 20;
    options.write_cache_bytes = 1 << 20;
    auto created = RocksDbStoreProvider::Create(options);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    provider = std::move(*created);
  }
  runtime::KeyValueStore* groups = nullptr;  // the aggregation's store
  int64_t changelog_deletions = 0;
  runtime::StoreFactory factory =
      [&](const std::string& name) -> std::unique_ptr<runtime::KeyValueStore> {
    std::unique_ptr<runtime::KeyValueStore> store;
    if (rocksdb) {
      auto opened = provider->Open((directory_ / "task").string(), name,
                                   [&](std::string_view, const std::string* value) {
                                     if (value == nullptr) ++changelog_deletions;
                                     return Status::OK();
                                   });
      EXPECT_TRUE(opened.ok()) << opened.status().ToString();
      if (!opened.ok()) return std::make_unique<runtime::InMemoryKeyValueStore>();
      store = std::move(*opened);
    } else {
      store = std::make_unique<runtime::InMemoryKeyValueStore>();
    }
    if (name.rfind("aggregate", 0) == 0) groups = store.get();
    return store;
  };
  int64_t results = 0;
  runtime::TaskCallbacks callbacks;
  callbacks.on_result = [&results](const runtime::TaskResult&) {
    ++results;
    return Status::OK();
  };
  callbacks.on_side_output = [](const std::string&, const std::string*, const std::string&,
                                int64_t) { return Status::OK(); };
  auto task =
      runtime::StreamTask::Create(query->id, *query->plan, query->properties, callbacks, factory);
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  ASSERT_NE(groups, nullptr);

  // The open windows hold at most (retention / advance + 1) windows of 200 groups each.
  const int64_t groups_per_window = kSizeMs / 1000 * kRecordsPerSecond;
  const int64_t bound = ((kSizeMs + kGraceMs) / kAdvanceMs + 1) * groups_per_window;
  const int64_t records = kStreamMs / 1000 * kRecordsPerSecond;
  int64_t largest = 0, largest_on_disk = 0;
  std::vector<std::string> values;
  for (int64_t i = 0; i < records; ++i) values.push_back(R"({"callee":"x"})");
  std::vector<std::string> keys;
  for (int64_t i = 0; i < records; ++i) keys.push_back("c" + std::to_string(i % kCallers));
  for (int64_t i = 0; i < records; ++i) {
    runtime::InputMessage message;
    message.key = keys[i];
    message.value = values[i];
    message.timestamp = i * 1000 / kRecordsPerSecond;
    message.offset = i;
    ASSERT_TRUE((*task)->Process(message).ok());
    if (i % 100 == 99) {  // a commit every 5 s of event time
      ASSERT_TRUE((*task)->Flush().ok());
      largest = std::max(largest, static_cast<int64_t>(groups->size()));
      if (rocksdb) {
        auto on_disk = static_cast<RocksDbKeyValueStore*>(groups)->CountStoredKeys();
        ASSERT_TRUE(on_disk.ok()) << on_disk.status().ToString();
        largest_on_disk = std::max(largest_on_disk, *on_disk);
      }
    }
  }
  ASSERT_TRUE((*task)->Flush().ok());
  // Every record opened 2 groups (records * 2 = 4,800): far more than the bound (800), had
  // nothing expired.
  EXPECT_GT(largest, groups_per_window);
  EXPECT_LE(largest, bound) << "of " << records * 2 << " groups made";
  EXPECT_GT(results, 0);
  if (rocksdb) {
    auto* store = static_cast<RocksDbKeyValueStore*>(groups);
    EXPECT_GT(largest_on_disk, groups_per_window);
    EXPECT_LE(largest_on_disk, bound);
    // Expired windows reached the changelog as deletions (it is compacted, not time-bound).
    EXPECT_GE(changelog_deletions, records * 2 - bound);
    // Range deletions leave the files once compacted: the bytes on disk are those of the
    // open windows (a key and value are well under 100 bytes), not of the whole stream.
    ASSERT_TRUE(store->CompactAll().ok());
    EXPECT_LE(SstBytes(directory_), bound * 100);
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, BoundedWindowStateTest,
                         testing::Values(Params{"memory", "CHANGES"}, Params{"memory", "FINAL"},
                                         Params{"rocksdb", "CHANGES"}, Params{"rocksdb", "FINAL"}),
                         [](const testing::TestParamInfo<Params>& info) {
                           return std::string(info.param.store) + "_" + info.param.emit;
                         });

}  // namespace
}  // namespace sidestream::state
