// ChangelogStore writes each changed entry once per commit, and a deletion only for what the
// changelog holds.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/state_store.h"
#include "types/value_codec.h"

namespace sidestream::runtime {
namespace {

using types::Row;
using types::Value;

class ChangelogStoreTest : public testing::Test {
 protected:
  ChangelogStoreTest()
      : store_([this](std::string_view key, const std::string* value) {
          Row decoded;
          EXPECT_TRUE(types::DecodeRow(key, decoded).ok());
          written_.push_back(decoded[0].string() +
                             (value ? "=" + std::to_string(Decode(*value)) : " deleted"));
          return Status::OK();
        }) {}

  static int64_t Decode(const std::string& bytes) {
    Row row;
    EXPECT_TRUE(types::DecodeRow(bytes, row).ok());
    return row[0].integer();
  }
  void Put(const std::string& key, int64_t value) {
    bool inserted = false;
    auto row = store_.Upsert({Value::String(key)}, inserted);
    ASSERT_TRUE(row.ok());
    **row = {Value::Bigint(value)};
  }
  std::vector<std::string> Flush() {
    written_.clear();
    EXPECT_TRUE(store_.Flush().ok());
    return written_;
  }

  ChangelogStore store_;
  std::vector<std::string> written_;
};

TEST_F(ChangelogStoreTest, EachChangedEntryIsWrittenOncePerCommit) {
  Put("a", 1);
  Put("a", 2);
  Put("b", 3);
  EXPECT_EQ(Flush(), (std::vector<std::string>{"a=2", "b=3"}));
  EXPECT_EQ(Flush(), std::vector<std::string>{});                  // nothing changed since
  (*store_.Find({Value::String("a")}))->at(0) = Value::Bigint(4);  // changed in place
  EXPECT_EQ(Flush(), std::vector<std::string>{"a=4"});
}

TEST_F(ChangelogStoreTest, ReadingWithGetWritesNothing) {
  Put("table-row", 1);
  Flush();
  // A stream-table join reads the table row for every stream record.
  ASSERT_NE(*store_.Get({Value::String("table-row")}), nullptr);
  EXPECT_EQ(Flush(), std::vector<std::string>{});
  ASSERT_NE(*store_.Find({Value::String("table-row")}), nullptr);  // Find may change it
  EXPECT_EQ(Flush(), std::vector<std::string>{"table-row=1"});
}

TEST_F(ChangelogStoreTest, ADeletionIsWrittenOnlyForWhatTheChangelogHolds) {
  Put("open-and-closed", 1);  // made and erased between two commits: nothing to write
  ASSERT_TRUE(store_.Erase({Value::String("open-and-closed")}).ok());
  Put("kept", 1);
  EXPECT_EQ(Flush(), std::vector<std::string>{"kept=1"});
  ASSERT_TRUE(store_.Erase({Value::String("kept")}).ok());
  EXPECT_EQ(Flush(), std::vector<std::string>{"kept deleted"});
  EXPECT_EQ(Flush(), std::vector<std::string>{});
}

TEST_F(ChangelogStoreTest, AnEntryErasedThenMadeAgainWritesItsNewValue) {
  Put("a", 1);
  Flush();
  ASSERT_TRUE(store_.Erase({Value::String("a")}).ok());
  Put("a", 2);
  EXPECT_EQ(Flush(), std::vector<std::string>{"a=2"});
  ASSERT_TRUE(store_.Erase({Value::String("a")}).ok());
  Put("a", 3);
  ASSERT_TRUE(store_.Erase({Value::String("a")}).ok());  // the changelog still holds a=2
  EXPECT_EQ(Flush(), std::vector<std::string>{"a deleted"});
}

TEST_F(ChangelogStoreTest, RestoredEntriesAreDeletedInTheChangelogWhenErased) {
  std::string key, value;
  types::EncodeRow({Value::String("r")}, key);
  types::EncodeRow({Value::Bigint(7)}, value);
  std::string_view value_view = value;
  ASSERT_TRUE(store_.Restore(key, &value_view).ok());
  EXPECT_EQ(Flush(), std::vector<std::string>{});  // restoring writes nothing
  ASSERT_TRUE(store_.Erase({Value::String("r")}).ok());
  EXPECT_EQ(Flush(), std::vector<std::string>{"r deleted"});
}

}  // namespace
}  // namespace sidestream::runtime
