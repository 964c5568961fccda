// The offline engine marks the empty top-level BYTES fields of outputs in the formats that
// ksqlDB's runner reads through Kafka Connect (TestRecord::empty_bytes), which CompareRecords
// takes for null as that runner does; JSON outputs are compared as they are.
#include <gtest/gtest.h>

#include "host/offline_engine.h"

namespace sidestream::host {
namespace {

std::vector<TestRecord> RunWithFormat(const std::string& format) {
  auto engine = OfflineEngine::Create();
  EXPECT_TRUE(engine.ok());
  auto executed = (*engine)->Execute(
      "CREATE STREAM s (id INT KEY, n INT, b BYTES) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='" +
      format + "');CREATE STREAM out AS SELECT * FROM s;");
  EXPECT_TRUE(executed.ok()) << executed.status().ToString();
  TestRecord input;
  input.topic = "s";
  input.key = 1;
  input.value = {{"N", 1}, {"B", ""}};
  EXPECT_TRUE((*engine)->Produce(input).ok());
  input.value = {{"N", 2}, {"B", "IQ=="}};
  EXPECT_TRUE((*engine)->Produce(input).ok());
  return (*engine)->Output("OUT");
}

TEST(EmptyBytesTest, ConnectFormatsMarkEmptyBytesFields) {
  for (const std::string format : {"PROTOBUF", "AVRO"}) {
    SCOPED_TRACE(format);
    const std::vector<TestRecord> out = RunWithFormat(format);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].empty_bytes, std::set<std::string>{"/value/B"});
    EXPECT_TRUE(out[1].empty_bytes.empty());
    TestRecord expected;
    expected.topic = "OUT";
    expected.key = 1;
    expected.value = {{"N", 1}, {"B", nullptr}};
    EXPECT_EQ(CompareRecords({expected}, {out[0]}), "");
  }
  const std::vector<TestRecord> json = RunWithFormat("JSON");
  ASSERT_EQ(json.size(), 2u);
  EXPECT_TRUE(json[0].empty_bytes.empty());
}

}  // namespace
}  // namespace sidestream::host
