// The foreign-key table-table join (JoinKind::kForeignKey): ksqlDB's fk-join cases for INNER
// and LEFT (a left row joins the right row its foreign key names, a right update re-joins
// every left row that refers to it, deletes on either side), a foreign key that changes,
// NULL foreign keys, and the index of referring rows rebuilt after a restore.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "runtime/join_operator.h"

namespace sidestream::runtime {
namespace {

using types::SqlType;
using types::Value;

// Left rows: [L_ID, NAME, FOREIGN_KEY]; right rows: [R_ID, F1]. Results: the left row, the
// right row, then the left key.
constexpr size_t kLeftWidth = 3;
constexpr size_t kRightWidth = 2;

struct Output {
  int64_t key;
  bool tombstone;
  std::string name;  // the left NAME, "" for a tombstone
  std::string f1;    // the right F1, "NULL" when the right side is missing
  int64_t timestamp;

  bool operator==(const Output&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Output& result) {
  return out << "{" << result.key << (result.tombstone ? " tombstone" : "") << " " << result.name
             << " " << result.f1 << " @" << result.timestamp << "}";
}

class Collector : public RecordConsumer {
 public:
  Status Consume(RecordBatch& batch) override {
    for (const Record& record : batch) {
      EXPECT_EQ(record.row.size(), kLeftWidth + kRightWidth + 1);
      Output result{record.row.back().integer(), record.tombstone, "", "", record.timestamp};
      if (record.tombstone) {
        // The left key travels in its column too, for a later join of this result.
        EXPECT_EQ(record.row[0], record.row.back());
      } else {
        result.name = record.row[1].string();
        result.f1 =
            record.row[kLeftWidth + 1].is_null() ? "NULL" : record.row[kLeftWidth + 1].string();
      }
      results.push_back(result);
    }
    return Status::OK();
  }
  Status AdvanceStreamTime(int64_t) override { return Status::OK(); }
  Status Flush() override { return Status::OK(); }

  std::vector<Output> results;
};

// Lets two operators share a store: the second one "restores" what the first one wrote.
class SharedStore : public KeyValueStore {
 public:
  explicit SharedStore(std::shared_ptr<InMemoryKeyValueStore> store) : store_(std::move(store)) {}
  Result<types::Row*> Find(const types::Row& key) override { return store_->Find(key); }
  Result<const types::Row*> Get(const types::Row& key) const override { return store_->Get(key); }
  Result<types::Row*> Upsert(const types::Row& key, bool& inserted) override {
    return store_->Upsert(key, inserted);
  }
  Status Erase(const types::Row& key) override { return store_->Erase(key); }
  size_t size() const override { return store_->size(); }
  int64_t ApproximateBytes() const override { return store_->ApproximateBytes(); }
  Status ForEach(
      const std::function<void(const types::Row&, const types::Row&)>& visit) const override {
    return store_->ForEach(visit);
  }
  Status Flush() override { return store_->Flush(); }

 private:
  std::shared_ptr<InMemoryKeyValueStore> store_;
};

std::unique_ptr<expr::Evaluator> Column(int index) {
  analyzer::BoundExpression reference;
  reference.kind = analyzer::BoundKind::kColumn;
  reference.type = SqlType::Bigint();
  reference.column_index = index;
  reference.sql = "C" + std::to_string(index);
  auto compiled = expr::Evaluator::Compile(reference);
  EXPECT_TRUE(compiled.ok()) << compiled.status().ToString();
  return std::move(compiled).value();
}

class ForeignKeyJoinTest : public ::testing::Test {
 protected:
  void Build(sql::JoinType type) {
    JoinSpec spec;
    spec.kind = JoinKind::kForeignKey;
    spec.type = type;
    spec.keys[0] = Column(2);  // FOREIGN_KEY
    spec.keys[1] = Column(0);  // R_ID
    spec.left_key = Column(0);
    spec.left_key_column = 0;
    spec.widths[0] = kLeftWidth;
    spec.widths[1] = kRightWidth;
    spec.stores[0] = std::make_unique<SharedStore>(left_store_);
    spec.stores[1] = std::make_unique<SharedStore>(right_store_);
    join_ = std::make_unique<JoinOperator>(std::move(spec));
    join_->set_next(&collector_);
  }

  void Left(int64_t key, const char* name, std::optional<int64_t> foreign_key, int64_t time) {
    RecordBatch batch;
    Record& record = batch.Append();
    record.timestamp = time;
    record.row = {Value::Bigint(key), Value::String(name),
                  foreign_key ? Value::Bigint(*foreign_key) : Value()};
    ASSERT_TRUE(join_->input(0)->Consume(batch).ok());
  }
  void LeftDelete(int64_t key, int64_t time) { Delete(0, key, kLeftWidth, time); }
  void Right(int64_t key, const char* f1, int64_t time) {
    RecordBatch batch;
    Record& record = batch.Append();
    record.timestamp = time;
    record.row = {Value::Bigint(key), Value::String(f1)};
    ASSERT_TRUE(join_->input(1)->Consume(batch).ok());
  }
  void RightDelete(int64_t key, int64_t time) { Delete(1, key, kRightWidth, time); }

  std::vector<Output> Take() { return std::exchange(collector_.results, {}); }

  std::shared_ptr<InMemoryKeyValueStore> left_store_ = std::make_shared<InMemoryKeyValueStore>();
  std::shared_ptr<InMemoryKeyValueStore> right_store_ = std::make_shared<InMemoryKeyValueStore>();
  Collector collector_;
  std::unique_ptr<JoinOperator> join_;

 private:
  void Delete(int side, int64_t key, size_t width, int64_t time) {
    RecordBatch batch;
    Record& record = batch.Append();
    record.timestamp = time;
    record.tombstone = true;
    record.row.assign(width, Value());
    record.row[0] = Value::Bigint(key);
    ASSERT_TRUE(join_->input(side)->Consume(batch).ok());
  }
};

// ksqlDB's fk-join.json "Should support inner join with left value-column expression".
TEST_F(ForeignKeyJoinTest, InnerJoinAsKsqlDb) {
  Build(sql::JoinType::kInner);
  Right(0, "blah", 0);
  Left(1, "zero", 0, 10000);
  Left(0, "foo", 100, 13000);
  Right(0, "a", 15000);
  Left(10, "bar", 0, 16000);
  RightDelete(0, 17000);
  LeftDelete(1, 18000);
  EXPECT_EQ(Take(), (std::vector<Output>{{1, false, "zero", "blah", 10000},
                                         {1, false, "zero", "a", 15000},
                                         {10, false, "bar", "a", 16000},
                                         {1, true, "", "", 17000},
                                         {10, true, "", "", 17000},
                                         {1, true, "", "", 18000}}));
}

// ksqlDB's fk-join.json "Should support left join with left value-column expression".
TEST_F(ForeignKeyJoinTest, LeftJoinAsKsqlDb) {
  Build(sql::JoinType::kLeft);
  Left(1, "zero", 0, 0);
  Right(0, "blah", 10000);
  Left(1, "zero", 0, 11000);
  Left(0, "foo", 100, 13000);
  Right(0, "a", 15000);
  Left(10, "bar", 0, 16000);
  RightDelete(0, 17000);
  LeftDelete(1, 18000);
  LeftDelete(0, 19000);
  EXPECT_EQ(Take(), (std::vector<Output>{{1, false, "zero", "NULL", 0},
                                         {1, false, "zero", "blah", 10000},
                                         {1, false, "zero", "blah", 11000},
                                         {0, false, "foo", "NULL", 13000},
                                         {1, false, "zero", "a", 15000},
                                         {10, false, "bar", "a", 16000},
                                         {1, false, "zero", "NULL", 17000},
                                         {10, false, "bar", "NULL", 17000},
                                         {1, true, "", "", 18000},
                                         {0, true, "", "", 19000}}));
}

// A left row whose foreign key changes leaves its old right row: that row's updates no
// longer reach it. An INNER join retracts the old result when the new key matches nothing.
TEST_F(ForeignKeyJoinTest, ChangedForeignKeyUnsubscribes) {
  Build(sql::JoinType::kInner);
  Right(7, "seven", 1);
  Right(8, "eight", 2);
  Left(1, "one", 7, 3);
  Left(1, "one", 8, 4);
  Right(7, "seven again", 5);  // nobody refers to 7 now
  Right(8, "eight again", 6);
  Left(1, "one", 9, 7);  // no right row 9: the old result goes
  Right(8, "eight thrice", 8);
  Right(9, "nine", 9);
  EXPECT_EQ(Take(), (std::vector<Output>{{1, false, "one", "seven", 3},
                                         {1, false, "one", "eight", 4},
                                         {1, false, "one", "eight again", 6},
                                         {1, true, "", "", 7},
                                         {1, false, "one", "nine", 9}}));
}

// A NULL foreign key joins nothing: INNER emits nothing for a new row, LEFT the row with
// NULLs; deleting a right row that never existed changes nothing.
TEST_F(ForeignKeyJoinTest, NullForeignKey) {
  Build(sql::JoinType::kInner);
  Left(1, "one", std::nullopt, 1);
  RightDelete(5, 2);
  LeftDelete(2, 3);  // never existed
  EXPECT_EQ(Take(), std::vector<Output>{});
  Left(1, "one", 5, 4);  // no right row 5, and the old row joined nothing
  EXPECT_EQ(Take(), (std::vector<Output>{{1, true, "", "", 4}}));

  left_store_ = std::make_shared<InMemoryKeyValueStore>();
  right_store_ = std::make_shared<InMemoryKeyValueStore>();
  Build(sql::JoinType::kLeft);
  Left(1, "one", std::nullopt, 1);
  Right(5, "five", 2);
  EXPECT_EQ(Take(), (std::vector<Output>{{1, false, "one", "NULL", 1}}));
}

// A restarted task finds the referring rows again from the restored left store.
TEST_F(ForeignKeyJoinTest, RebuildIndexesAfterRestore) {
  Build(sql::JoinType::kInner);
  Right(0, "zero", 1);
  Left(1, "one", 0, 2);
  Left(2, "two", 0, 3);
  Left(3, "three", 4, 4);
  Left(2, "two", 5, 5);  // moves away from 0 (no right row 5: retracted)
  ASSERT_TRUE(join_->Flush().ok());
  Take();
  Build(sql::JoinType::kInner);  // a new operator over the same stores
  ASSERT_TRUE(join_->RebuildIndexes().ok());
  Right(0, "ZERO", 6);
  Right(5, "five", 7);
  EXPECT_EQ(Take(),
            (std::vector<Output>{{1, false, "one", "ZERO", 6}, {2, false, "two", "five", 7}}));
}

}  // namespace
}  // namespace sidestream::runtime

// ---------------------------------------------------------------- over partitions

namespace sidestream::runtime {
namespace {

class RecordsCollector : public RecordConsumer {
 public:
  Status Consume(RecordBatch& batch) override {
    for (const Record& record : batch) records.push_back(record);
    return Status::OK();
  }
  Status AdvanceStreamTime(int64_t) override { return Status::OK(); }
  Status Flush() override { return Status::OK(); }
  std::vector<Record> Take() { return std::exchange(records, {}); }

  std::vector<Record> records;
};

std::unique_ptr<JoinOperator> Step(JoinKind kind, sql::JoinType type) {
  JoinSpec spec;
  spec.kind = kind;
  spec.type = type;
  spec.keys[0] = Column(2);
  spec.keys[1] = Column(0);
  spec.left_key = Column(0);
  spec.left_key_column = 0;
  spec.widths[0] = kLeftWidth;
  spec.widths[1] = kind == JoinKind::kForeignKeySubscribe ? 0 : kRightWidth;
  return std::make_unique<JoinOperator>(std::move(spec));
}

Status Feed(RecordConsumer* input, const Record& record) {
  RecordBatch batch;
  batch.Append() = record;
  return input->Consume(batch);
}

// Kafka Streams' processors, as the planner splits them over stages: a left row that moved
// to another foreign key (answered by another partition) is not overwritten by an answer of
// its old key's partition that arrives later (the resolver drops the stale version).
TEST(ForeignKeyJoinOverPartitionsTest, StaleAnswersAreDropped) {
  RecordsCollector subscriptions, answers, results;
  auto subscribe = Step(JoinKind::kForeignKeySubscribe, sql::JoinType::kInner);
  subscribe->set_next(&subscriptions);
  std::unique_ptr<JoinOperator> respond[2] = {
      Step(JoinKind::kForeignKeyRespond, sql::JoinType::kInner),
      Step(JoinKind::kForeignKeyRespond, sql::JoinType::kInner)};
  for (auto& partition : respond) partition->set_next(&answers);
  auto resolve = Step(JoinKind::kForeignKeyResolve, sql::JoinType::kInner);
  resolve->set_next(&results);

  auto right = [&](int64_t key, const char* f1, int64_t time) {
    Record record;
    record.timestamp = time;
    record.row = {Value::Bigint(key), Value::String(f1)};
    ASSERT_TRUE(Feed(respond[key % 2]->input(1), record).ok());
  };
  auto left = [&](int64_t key, const char* name, int64_t foreign_key, int64_t time) {
    Record record;
    record.timestamp = time;
    record.row = {Value::Bigint(key), Value::String(name), Value::Bigint(foreign_key)};
    ASSERT_TRUE(Feed(subscribe->input(0), record).ok());
  };
  // Rows of a subscription: the left row, foreign key, kind, version.
  auto kind = [](const Record& record) {
    return static_cast<SubscriptionKind>(record.row[kLeftWidth + 1].integer());
  };
  right(10, "ten", 1);
  right(11, "eleven", 2);
  left(1, "a", 10, 3);
  auto sent = subscriptions.Take();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(kind(sent[0]), SubscriptionKind::kSubscribeNew);
  ASSERT_TRUE(Feed(respond[0]->input(0), sent[0]).ok());
  left(1, "a2", 11, 4);  // moves to partition 1; partition 0 has not read the unsubscribe yet
  sent = subscriptions.Take();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(kind(sent[0]), SubscriptionKind::kUnsubscribe);
  EXPECT_EQ(kind(sent[1]), SubscriptionKind::kSubscribeReplacing);
  ASSERT_TRUE(Feed(respond[1]->input(0), sent[1]).ok());
  right(10, "ten2", 5);  // answers the old subscription: version 0
  const std::vector<Record> answered = answers.Take();
  ASSERT_EQ(answered.size(), 3u);
  for (const Record& answer : answered) ASSERT_TRUE(Feed(resolve->input(0), answer).ok());
  const std::vector<Record> joined = results.Take();
  ASSERT_EQ(joined.size(), 2u);
  EXPECT_EQ(joined[1].row[1].string(), "a2");
  EXPECT_EQ(joined[1].row[kLeftWidth + 1].string(), "eleven");
  EXPECT_EQ(resolve->stale_answers(), 1);
  // Once partition 0 reads the unsubscribe, its key's updates answer nobody.
  ASSERT_TRUE(Feed(respond[0]->input(0), sent[0]).ok());
  right(10, "ten3", 6);
  EXPECT_TRUE(answers.Take().empty());
}

}  // namespace
}  // namespace sidestream::runtime
