// KafkaEngine::Metrics gives each query its own counts (two queries over one topic), with the
// per-process commits, rebalances and consumer lag that `GET /metrics` serves.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "connectors/kafka/batch_producer.h"
#include "host/kafka_engine.h"

namespace sidestream::host {
namespace {

using RealClock = std::chrono::steady_clock;

TEST(EngineMetricsTest, CountsPerQueryAndPerProcess) {
  KafkaEngineOptions options;
  options.commit_interval_ms = 0;  // commit after every poll
  auto engine = KafkaEngine::Start(options);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  ASSERT_TRUE((*engine)
                  ->Execute(R"(
    CREATE STREAM calls (caller STRING KEY, cell STRING, ts BIGINT)
      WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=1, TIMESTAMP='ts');
    CREATE STREAM c1_calls AS SELECT caller, cell FROM calls WHERE cell = 'C1';
    CREATE TABLE per_caller AS SELECT caller, COUNT(*) AS n FROM calls
      WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 0 SECONDS) GROUP BY caller;)")
                  .ok());
  kafka::ProducerOptions producer_options;
  producer_options.client = {(*engine)->bootstrap_servers(), {}};
  auto producer = kafka::BatchProducer::Create(producer_options);
  ASSERT_TRUE(producer.ok());
  const char* records[][2] = {{"a", R"({"cell":"C1","ts":1000})"},
                              {"b", R"({"cell":"C2","ts":40000})"},
                              {"a", R"({"cell":"C1","ts":2000})"},  // late for per_caller
                              {"c", "not json"}};
  for (const auto& [key, value] : records) {
    ASSERT_TRUE((*producer)->Produce("calls", 0, key, value, 1000).ok());
  }
  ASSERT_TRUE((*producer)->Flush(std::chrono::seconds(10)).ok());

  std::string filter, count;
  for (const QueryStatus& query : (*engine)->Queries()) {
    (query.id.starts_with("CSAS_") ? filter : count) = query.id;
  }
  const auto deadline = RealClock::now() + std::chrono::seconds(60);
  EngineMetrics metrics;
  while (RealClock::now() < deadline) {
    ASSERT_TRUE((*engine)->RunOnce(50).ok());
    metrics = (*engine)->Metrics();
    if (metrics.queries[filter].consumed == 4 && metrics.queries[count].consumed == 4) break;
  }
  const runtime::QueryProgress& c1 = metrics.queries[filter];
  const runtime::QueryProgress& counts = metrics.queries[count];
  EXPECT_EQ(c1.consumed, 4);
  EXPECT_EQ(counts.consumed, 4);
  EXPECT_EQ(c1.produced, 3);  // two C1 rows and one dead-lettered record
  EXPECT_EQ(c1.counters.decode_errors, 1);
  EXPECT_EQ(c1.counters.late_records, 0);
  EXPECT_EQ(counts.counters.late_records, 1);
  EXPECT_EQ(c1.state_entries, 1);               // its task's stream time
  EXPECT_GE(counts.state_entries, 1);           // b's window [40 s, 50 s) at least
  EXPECT_GE(counts.oldest_stream_time, 40000);  // more once idle: it follows the wall clock
  EXPECT_GE(c1.processing.count(), 1u);
  ASSERT_EQ(c1.consumer_lag.size(), 1u);
  EXPECT_EQ(c1.consumer_lag.begin()->first.topic, "calls");
  EXPECT_EQ(c1.consumer_lag.begin()->second, 0);
  EXPECT_GE(metrics.rebalances, 2);
  EXPECT_GE(metrics.commits, 1);
  EXPECT_EQ(metrics.commit_latency.count(), static_cast<uint64_t>(metrics.commits));
  EXPECT_EQ(metrics.stream_threads, 1);
  EXPECT_EQ(metrics.totals.consumed, 8);
}

}  // namespace
}  // namespace sidestream::host
