#include <gtest/gtest.h>

#include "host/offline_engine.h"

namespace sidestream::host {
namespace {

using nlohmann::json;

TestRecord ValueRecord(json value) {
  TestRecord record;
  record.topic = "OUT";
  record.value = std::move(value);
  return record;
}

// Compares as ksqlDB's ExpectedRecordComparator does.
TEST(CompareRecordsTest, FieldNamesMatchExactlyOrUpperCased) {
  EXPECT_EQ(CompareRecords({ValueRecord({{"name", 1}})}, {ValueRecord({{"NAME", 1}})}), "");
  EXPECT_NE(CompareRecords({ValueRecord({{"name", 1}})}, {ValueRecord({{"NAME", 2}})}), "");
}

TEST(CompareRecordsTest, AnExpectedNullMatchesAMissingFieldOfTheSameCount) {
  EXPECT_EQ(CompareRecords({ValueRecord({{"A", nullptr}})}, {ValueRecord({{"B", nullptr}})}), "");
  EXPECT_NE(CompareRecords({ValueRecord({{"A", 1}})}, {ValueRecord({{"B", 1}})}), "");
  EXPECT_NE(
      CompareRecords({ValueRecord({{"A", nullptr}})}, {ValueRecord({{"B", nullptr}, {"C", 1}})}),
      "");
}

// ksqlDB's runner compares headers exactly: a record that lists none expects none.
TEST(CompareRecordsTest, HeadersMatchExactlyInOrder) {
  TestRecord with = ValueRecord({{"A", 1}});
  with.headers = {{"abc", std::string("\x21")}, {"def", std::nullopt}};
  EXPECT_EQ(CompareRecords({with}, {with}), "");
  EXPECT_NE(CompareRecords({ValueRecord({{"A", 1}})}, {with}), "");
  EXPECT_NE(CompareRecords({with}, {ValueRecord({{"A", 1}})}), "");
  TestRecord reordered = with;
  std::swap(reordered.headers[0], reordered.headers[1]);
  EXPECT_NE(CompareRecords({with}, {reordered}), "");
  TestRecord empty_value = with;
  empty_value.headers[1].second = std::string();
  EXPECT_NE(CompareRecords({with}, {empty_value}), "") << "a null value is not an empty one";
  // They print as ksqlDB's files write them, and parse back.
  const json printed = TestRecordToJson(with);
  EXPECT_EQ(printed["headers"], json::parse(R"([{"KEY":"abc","VALUE":"IQ=="},)"
                                            R"({"KEY":"def","VALUE":null}])"));
  auto parsed = ParseTestRecords(json::array({printed}));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->at(0).headers, with.headers);
}

// ksqlDB's runner reads AVRO, PROTOBUF and JSON_SR records through Kafka Connect and takes
// an empty top-level BYTES field for null (TestExecutor.coerceRecordFields).
TEST(CompareRecordsTest, AnEmptyBytesFieldOfAConnectFormatComparesAsNull) {
  TestRecord actual = ValueRecord({{"EXPECTED", 1}, {"C2", ""}});
  EXPECT_NE(CompareRecords({ValueRecord({{"EXPECTED", 1}, {"c2", nullptr}})}, {actual}), "");
  actual.empty_bytes.insert("/value/C2");
  EXPECT_EQ(CompareRecords({ValueRecord({{"EXPECTED", 1}, {"c2", nullptr}})}, {actual}), "");
  EXPECT_NE(CompareRecords({ValueRecord({{"EXPECTED", 1}, {"C2", "AA=="}})}, {actual}), "");
}

TestRecord KeyedRecord(json key, json value) {
  TestRecord record = ValueRecord(std::move(value));
  record.key = std::move(key);
  return record;
}

// Kafka keeps order per partition, so per key: keys may interleave in any order.
TEST(CompareRecordsPerKeyTest, KeysInterleaveFreelyButKeepTheirOwnOrder) {
  std::vector<TestRecord> expected = {KeyedRecord("a", 1), KeyedRecord("b", 2),
                                      KeyedRecord("a", 3)};
  EXPECT_EQ(CompareRecordsPerKey(expected,
                                 {KeyedRecord("b", 2), KeyedRecord("a", 1), KeyedRecord("a", 3)}),
            "");
  EXPECT_NE(
      CompareRecords(expected, {KeyedRecord("b", 2), KeyedRecord("a", 1), KeyedRecord("a", 3)}),
      "");
  EXPECT_NE(CompareRecordsPerKey(expected,
                                 {KeyedRecord("a", 3), KeyedRecord("b", 2), KeyedRecord("a", 1)}),
            "");
  EXPECT_NE(CompareRecordsPerKey(expected, {KeyedRecord("a", 1), KeyedRecord("b", 2)}), "");
  EXPECT_NE(CompareRecordsPerKey(expected, {KeyedRecord("a", 1), KeyedRecord("b", 2),
                                            KeyedRecord("a", 3), KeyedRecord("c", 4)}),
            "")
      << "an actual key that no expected record has";
}

TEST(CompareRecordsPerKeyTest, KeysMatchAsValuesDo) {
  EXPECT_EQ(CompareRecordsPerKey({KeyedRecord(1, 1)}, {KeyedRecord(1.0, 1)}), "");
}

TEST(CompareRecordsPerKeyTest, RecordsWithoutAKeyMatchInAnyOrder) {
  TestRecord stamped = KeyedRecord(nullptr, 1);
  stamped.timestamp = 5;
  TestRecord unstamped = KeyedRecord(nullptr, 1);
  TestRecord actual_five = stamped, actual_six = stamped;
  actual_six.timestamp = 6;
  // A greedy pairing would give the unstamped expected record the actual at 5 and fail.
  EXPECT_EQ(CompareRecordsPerKey({unstamped, stamped}, {actual_five, actual_six}), "");
  EXPECT_NE(CompareRecordsPerKey({stamped, stamped}, {actual_five, actual_six}), "");
}

TEST(CompareRecordsPerKeyTest, AWindowedKeyIncludesItsWindow) {
  TestRecord first = KeyedRecord("a", 1), second = KeyedRecord("a", 2);
  first.window = runtime::WindowBounds{0, 10};
  second.window = runtime::WindowBounds{10, 20};
  EXPECT_EQ(CompareRecordsPerKey({first, second}, {second, first}), "");
  EXPECT_NE(CompareRecords({first, second}, {second, first}), "");
}

}  // namespace
}  // namespace sidestream::host
