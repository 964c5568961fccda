// The FlatMap operator (table functions): zipping several calls with NULL padding, where its
// values go in the row, and hostile input: NULL and non-array arguments, huge arrays,
// CUBE_EXPLODE past its limit, tombstones.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/flat_map_operator.h"

namespace sidestream::runtime {
namespace {

using types::SqlType;
using types::Value;

// Keeps what reaches it, and the size of each batch.
class Collector : public RecordConsumer {
 public:
  Status Consume(RecordBatch& batch) override {
    batch_sizes.push_back(batch.size());
    for (const Record& record : batch) rows.push_back(record.row);
    return Status::OK();
  }
  Status AdvanceStreamTime(int64_t) override { return Status::OK(); }
  Status Flush() override { return Status::OK(); }

  std::vector<types::Row> rows;
  std::vector<size_t> batch_sizes;
};

// A call of `function` over input column `column`.
TableCall Call(const std::string& function, int column) {
  analyzer::BoundExpression reference;
  reference.kind = analyzer::BoundKind::kColumn;
  reference.type = SqlType::Array(SqlType::Bigint());
  reference.column_index = column;
  reference.sql = "C" + std::to_string(column);
  TableCall call;
  auto body = functions::FindTableFunction(function);
  EXPECT_TRUE(body.ok()) << body.status().ToString();
  call.body = *body;
  auto evaluator = expr::Evaluator::Compile(reference);
  EXPECT_TRUE(evaluator.ok()) << evaluator.status().ToString();
  call.arguments.push_back(std::move(*evaluator));
  return call;
}

Value Numbers(std::vector<int64_t> numbers) {
  std::vector<Value> elements;
  for (int64_t number : numbers) elements.push_back(Value::Bigint(number));
  return Value::Array(std::move(elements));
}

std::string Text(const types::Row& row) {
  std::string text;
  for (const Value& value : row) text += (text.empty() ? "" : "|") + value.DebugString();
  return text;
}

class FlatMapTest : public testing::Test {
 protected:
  void Build(size_t position, std::vector<TableCall> calls) {
    flat_map_ = std::make_unique<FlatMapOperator>(position, std::move(calls));
    flat_map_->set_next(&collector_);
  }
  void Feed(std::vector<types::Row> rows, bool tombstone = false) {
    RecordBatch batch;
    for (auto& row : rows) {
      Record& record = batch.Append();
      record.row = std::move(row);
      record.tombstone = tombstone;
      record.timestamp = 42;
    }
    ASSERT_TRUE(flat_map_->Consume(batch).ok());
  }
  std::vector<std::string> Output() const {
    std::vector<std::string> texts;
    for (const auto& row : collector_.rows) texts.push_back(Text(row));
    return texts;
  }

  std::unique_ptr<FlatMapOperator> flat_map_;
  Collector collector_;
};

TEST_F(FlatMapTest, SeveralCallsZipAndTheShorterArePaddedWithNull) {
  // Row: K, A1, A2, ROWTIME; the calls' values go before ROWTIME.
  Build(3, [] {
    std::vector<TableCall> calls;
    calls.push_back(Call("EXPLODE", 1));
    calls.push_back(Call("EXPLODE", 2));
    return calls;
  }());
  Feed({{Value::String("k"), Numbers({1, 2}), Numbers({10, 11, 12}), Value::Bigint(42)}});
  EXPECT_EQ(Output(), (std::vector<std::string>{"'k'|[1, 2]|[10, 11, 12]|1|10|42",
                                                "'k'|[1, 2]|[10, 11, 12]|2|11|42",
                                                "'k'|[1, 2]|[10, 11, 12]|NULL|12|42"}));
  EXPECT_EQ(flat_map_->evaluation_errors(), 0);
}

TEST_F(FlatMapTest, NullAndEmptyArraysProduceNoRows) {
  Build(2, [] {
    std::vector<TableCall> calls;
    calls.push_back(Call("EXPLODE", 1));
    return calls;
  }());
  Feed({{Value::String("a"), Value::Null()},
        {Value::String("b"), Numbers({})},
        {Value::String("c"), Numbers({7})}});
  EXPECT_EQ(Output(), (std::vector<std::string>{"'c'|[7]|7"}));
  EXPECT_EQ(flat_map_->evaluation_errors(), 0);
}

TEST_F(FlatMapTest, NullElementsAreRows) {
  Build(1, [] {
    std::vector<TableCall> calls;
    calls.push_back(Call("EXPLODE", 0));
    return calls;
  }());
  Feed({{Value::Array({Value::Null(), Value::Bigint(3)})}});
  EXPECT_EQ(Output(), (std::vector<std::string>{"[NULL, 3]|NULL", "[NULL, 3]|3"}));
}

TEST_F(FlatMapTest, ANonArrayArgumentIsCountedAndProducesNothing) {
  Build(1, [] {
    std::vector<TableCall> calls;
    calls.push_back(Call("EXPLODE", 0));
    return calls;
  }());
  Feed({{Value::String("not an array")}, {Numbers({5})}});
  EXPECT_EQ(Output(), (std::vector<std::string>{"[5]|5"}));
  EXPECT_EQ(flat_map_->evaluation_errors(), 1);
}

TEST_F(FlatMapTest, TombstonesDrop) {
  Build(1, [] {
    std::vector<TableCall> calls;
    calls.push_back(Call("EXPLODE", 0));
    return calls;
  }());
  Feed({{Numbers({1, 2})}}, /*tombstone=*/true);
  EXPECT_TRUE(collector_.rows.empty());
}

TEST_F(FlatMapTest, AHugeArrayGoesDownstreamInBoundedBatches) {
  Build(1, [] {
    std::vector<TableCall> calls;
    calls.push_back(Call("EXPLODE", 0));
    return calls;
  }());
  std::vector<int64_t> numbers(100000);
  for (size_t i = 0; i < numbers.size(); ++i) numbers[i] = static_cast<int64_t>(i);
  Feed({{Numbers(numbers)}});
  ASSERT_EQ(collector_.rows.size(), numbers.size());
  EXPECT_EQ(collector_.rows.back()[1], Value::Bigint(99999));
  for (size_t size : collector_.batch_sizes) EXPECT_LE(size, FlatMapOperator::kMaxBatch);
}

TEST_F(FlatMapTest, CubeExplodeMakesEveryCombinationAndRefusesTooManyElements) {
  Build(1, [] {
    std::vector<TableCall> calls;
    calls.push_back(Call("CUBE_EXPLODE", 0));
    return calls;
  }());
  Feed({{Value::Array({Value::Bigint(1), Value::Null()})}});
  EXPECT_EQ(Output(), (std::vector<std::string>{"[1, NULL]|[NULL, NULL]", "[1, NULL]|[1, NULL]"}));
  collector_.rows.clear();
  std::vector<int64_t> many(functions::kCubeExplodeMaxElements + 1, 1);
  Feed({{Numbers(many)}});
  EXPECT_TRUE(collector_.rows.empty());
  EXPECT_EQ(flat_map_->evaluation_errors(), 1);
  // NULL elements never vary: any number of them makes one row.
  collector_.rows.clear();
  Feed({{Value::Array(std::vector<Value>(1000))}});
  EXPECT_EQ(collector_.rows.size(), 1u);
  EXPECT_EQ(flat_map_->evaluation_errors(), 1);
}

TEST(TableFunctionsTest, CubeExplodeOrdersCombinationsAsKsqlDb) {
  auto cube = functions::FindTableFunction("CUBE_EXPLODE");
  ASSERT_TRUE(cube.ok());
  std::vector<Value> rows;
  std::vector<Value> argument = {Numbers({1, 2})};
  ASSERT_TRUE((*cube)(argument, rows).ok());
  std::vector<std::string> texts;
  for (const Value& row : rows) texts.push_back(row.DebugString());
  EXPECT_EQ(texts, (std::vector<std::string>{"[NULL, NULL]", "[NULL, 2]", "[1, NULL]", "[1, 2]"}));
  EXPECT_FALSE(functions::FindTableFunction("ABS").ok());
}

}  // namespace
}  // namespace sidestream::runtime
