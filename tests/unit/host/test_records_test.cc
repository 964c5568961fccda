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

}  // namespace
}  // namespace sidestream::host
