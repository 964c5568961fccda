// A GROUP BY on a value column goes through a repartition topic; the aggregation reads the
// grouping values computed before it and the pseudo columns of the records it reads.
#include <gtest/gtest.h>

#include "host/offline_engine.h"

namespace sidestream::host {
namespace {

TEST(GroupByTest, AggregateArgumentsReadRowtimeAfterTheRepartitionTopic) {
  for (int partitions : {1, 4}) {
    SCOPED_TRACE(partitions);
    auto engine = OfflineEngine::Create(partitions);
    ASSERT_TRUE(engine.ok());
    auto executed = (*engine)->Execute(
        "CREATE STREAM s (id INT KEY, g STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');"
        "CREATE TABLE out AS SELECT UCASE(g) AS k, MAX(ROWTIME) AS t, COUNT(*) AS n FROM s "
        "GROUP BY UCASE(g);");
    ASSERT_TRUE(executed.ok()) << executed.status().ToString();
    for (int i = 0; i < 3; ++i) {
      TestRecord input;
      input.topic = "s";
      input.key = i;
      input.value = {{"G", "x"}};
      input.timestamp = 10 * (i + 1);
      ASSERT_TRUE((*engine)->Produce(input).ok());
    }
    const std::vector<TestRecord> out = (*engine)->Output("OUT");
    ASSERT_EQ(out.size(), 3u);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(out[i].key, "X");
      EXPECT_EQ(out[i].value["T"], 10 * (i + 1)) << out[i].value.dump();
      EXPECT_EQ(out[i].value["N"], i + 1);
    }
  }
}

}  // namespace
}  // namespace sidestream::host
