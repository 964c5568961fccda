// A result larger than the sink takes goes to the dead-letter topic, counted, and the size
// that decides it is what the producer sends: key, value and the headers the result carries.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "runtime/stream_task.h"
#include "session/statements.h"

namespace sidestream::runtime {
namespace {

struct Outcome {
  int written = 0;
  std::vector<std::string> dead_letters;
  TaskCounters counters;
};

// Runs one message with `headers` through a copying query, with a sink of `max_bytes`.
Outcome RunCopy(size_t max_bytes, std::span<const RecordHeader> headers, bool carries_sources) {
  Outcome outcome;
  auto catalog = catalog::Catalog::Open(":memory:");
  EXPECT_TRUE(catalog.ok());
  auto query = session::CompileLastQuery(
      "CREATE STREAM S (K STRING KEY, NAME STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');\n"
      "CREATE STREAM OUT AS SELECT * FROM S;",
      **catalog);
  EXPECT_TRUE(query.ok()) << query.status().ToString();
  if (!query.ok()) return outcome;
  TaskCallbacks callbacks;
  callbacks.max_message_bytes = max_bytes;
  callbacks.carries_sources = carries_sources;
  callbacks.on_result = [&](const TaskResult&) {
    ++outcome.written;
    return Status::OK();
  };
  callbacks.on_side_output = [&](const std::string&, const std::string*, const std::string& value,
                                 int64_t) {
    outcome.dead_letters.push_back(value);
    return Status::OK();
  };
  auto task = StreamTask::Create("q", *query->plan, {}, callbacks);
  EXPECT_TRUE(task.ok()) << task.status().ToString();
  if (!task.ok()) return outcome;
  std::vector<InputMessage> messages(1);
  messages[0].key = "k";                     // 1 byte
  messages[0].value = "{\"NAME\":\"ann\"}";  // 14 bytes, written back as is
  messages[0].headers = headers;
  EXPECT_TRUE((*task)->ProcessBatch(messages).ok());
  outcome.counters = (*task)->counters();
  return outcome;
}

TEST(OversizedResultTest, FitsWithoutHeaders) {
  Outcome outcome = RunCopy(40, {}, false);
  EXPECT_EQ(outcome.written, 1);
  EXPECT_EQ(outcome.counters.oversized_results, 0);
}

TEST(OversizedResultTest, CarriedHeadersCount) {
  const std::string big(30, 'x');
  const RecordHeader headers[] = {{"trace", big}};
  Outcome outcome = RunCopy(40, headers, false);
  EXPECT_EQ(outcome.written, 0);
  EXPECT_EQ(outcome.counters.oversized_results, 1);
  ASSERT_EQ(outcome.dead_letters.size(), 1u);
  // 1 key + 14 value + 5 + 30 header bytes.
  EXPECT_NE(outcome.dead_letters[0].find("result record of 50 bytes"), std::string::npos)
      << outcome.dead_letters[0];
}

TEST(OversizedResultTest, InternalHeadersAreNotCarried) {
  const std::string big(30, 'x');
  const RecordHeader headers[] = {{"sidestream.source.value", big}};
  EXPECT_EQ(RunCopy(40, headers, false).written, 1);
}

TEST(OversizedResultTest, CarriedSourceKeyAndValueCount) {
  // A re-keying stage writes the source key and value as headers: 15 more bytes.
  EXPECT_EQ(RunCopy(40, {}, true).counters.oversized_results, 0);
  EXPECT_EQ(RunCopy(29, {}, false).counters.oversized_results, 0);
  EXPECT_EQ(RunCopy(29, {}, true).counters.oversized_results, 1);
}

}  // namespace
}  // namespace sidestream::runtime
