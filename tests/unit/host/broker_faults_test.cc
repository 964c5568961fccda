// Broker faults on the embedded broker (librdkafka's mock cluster): failed requests on every
// path a query uses (produce, fetch, offset commit, metadata), and the broker going down and
// coming back. Processing must recover by itself, lose no input, and double results only
// where at-least-once allows it: when a query restarted from its last commit.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/host/engine_fixture.h"

namespace sidestream::host {
namespace {

// Kafka protocol API keys (rdkafka_mock.h takes them as numbers).
constexpr int16_t kProduce = 0;
constexpr int16_t kFetch = 1;
constexpr int16_t kMetadata = 3;
constexpr int16_t kOffsetCommit = 8;

constexpr int kCallers = 10;

class BrokerFaultsTest : public EmbeddedEngineTest {
 protected:
  void SetUp() override {
    KafkaEngineOptions options;
    options.commit_interval_ms = 100;
    options.commit_timeout = std::chrono::seconds(2);
    options.retry_backoff_initial = std::chrono::milliseconds(100);
    StartEngine(options);
    ASSERT_TRUE(engine_
                    ->Execute(R"(
      CREATE STREAM calls (caller STRING KEY, seq INT)
        WITH (KAFKA_TOPIC='calls', VALUE_FORMAT='JSON', PARTITIONS=2);
      CREATE STREAM copied AS SELECT caller, seq FROM calls;
      CREATE TABLE per_caller AS SELECT caller, COUNT(*) AS n FROM calls GROUP BY caller;)")
                    .ok());
    Follow("COPIED");
    Follow("PER_CALLER");
  }

  // Queued in the producer; with `flush`, delivered before returning.
  void ProduceCalls(int from, int to, bool flush = true) {
    for (int seq = from; seq < to; ++seq) {
      ASSERT_TRUE(producer_
                      ->Produce("calls", -1, "c" + std::to_string(seq % kCallers),
                                R"({"seq":)" + std::to_string(seq) + "}", 1000)
                      .ok());
    }
    if (flush) {
      ASSERT_TRUE(producer_->Flush(std::chrono::seconds(30)).ok());
    }
  }

  // Every seq that reached COPIED, with how often.
  std::map<int, int> CopiedSeqs() {
    std::map<int, int> seqs;
    for (const std::string& row : Collect("COPIED")) {
      const size_t at = row.find("\"SEQ\":");
      if (at != std::string::npos) ++seqs[std::stoi(row.substr(at + 6))];
    }
    return seqs;
  }

  // The latest count per caller in PER_CALLER.
  std::map<std::string, int> LatestCounts() {
    std::map<std::string, int> counts;
    for (const std::string& row : collected_["PER_CALLER"]) {
      const size_t at = row.find("\"N\":");
      if (at != std::string::npos)
        counts[row.substr(0, row.find('='))] = std::stoi(row.substr(at + 4));
    }
    return counts;
  }

  bool AllArrived(int records) {
    Collect("PER_CALLER");
    return static_cast<int>(CopiedSeqs().size()) >= records && Total(LatestCounts()) >= records;
  }
  static int Total(const std::map<std::string, int>& counts) {
    int total = 0;
    for (const auto& [caller, n] : counts) total += n;
    return total;
  }

  // No record lost; a record counted or copied twice only by a query that restarted.
  void ExpectNothingLostOrDoubledBeyondRestarts(int records) {
    const std::map<int, int> seqs = CopiedSeqs();
    for (int seq = 0; seq < records; ++seq)
      EXPECT_EQ(seqs.count(seq), 1u) << "seq " << seq << " lost";
    int copies = 0;
    for (const auto& [seq, times] : seqs) copies += times;
    const std::map<std::string, int> counts = LatestCounts();
    ASSERT_EQ(counts.size(), static_cast<size_t>(kCallers));
    for (const auto& [caller, n] : counts) EXPECT_GE(n, records / kCallers) << caller;
    const QueryStatus copy = Status("CSAS_COPIED_");
    const QueryStatus count = Status("CTAS_PER_CALLER_");
    EXPECT_EQ(copy.state, QueryState::kRunning);
    EXPECT_EQ(count.state, QueryState::kRunning);
    for (const QueryStatus* query : {&copy, &count}) {
      for (const QueryError& error : query->errors) {
        EXPECT_TRUE(error.error.retriable()) << query->id << ": " << error.ToString();
      }
    }
    if (copy.restarts == 0) {
      EXPECT_EQ(copies, records) << "copied twice without a restart";
    }
    if (count.restarts == 0) {
      EXPECT_EQ(Total(counts), records) << "counted twice without a restart";
    }
    std::cout << "restarts: copy " << copy.restarts << ", count " << count.restarts << "; copies "
              << copies << ", counted " << Total(counts) << " of " << records << "\n";
  }

  rd_kafka_mock_cluster_t* Cluster() {
    rd_kafka_mock_cluster_t* cluster = nullptr;
    EXPECT_TRUE(kafka::EmbeddedBroker::WithBroker(bootstrap_, [&](kafka::EmbeddedBroker& broker) {
                  cluster = broker.mock_cluster();
                  return sidestream::Status::OK();
                }).ok());
    return cluster;
  }

  void AdvanceClock() { clock_.Advance(std::chrono::milliseconds(50)); }
};

TEST_F(BrokerFaultsTest, FailedRequestsOnEveryPathAreRetriedWithNothingLost) {
  constexpr int kRounds = 4;
  constexpr int kPerRound = 50;
  for (int round = 0; round < kRounds; ++round) {
    // Retriable errors, as a broker returns them during a leader change or under load.
    rd_kafka_mock_cluster_t* cluster = Cluster();
    ASSERT_NE(cluster, nullptr);
    rd_kafka_mock_push_request_errors(
        cluster, kProduce, 3, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
    rd_kafka_mock_push_request_errors(cluster, kFetch, 2,
                                      RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                      RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
    rd_kafka_mock_push_request_errors(cluster, kOffsetCommit, 2,
                                      RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
    rd_kafka_mock_push_request_errors(cluster, kMetadata, 1,
                                      RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE);
    ProduceCalls(round * kPerRound, (round + 1) * kPerRound);
    const int records = (round + 1) * kPerRound;
    ASSERT_TRUE(RunUntil([&] { return AllArrived(records); }, [&] { AdvanceClock(); }))
        << "round " << round << ": " << CopiedSeqs().size() << " of " << records << " copied";
  }
  ExpectNothingLostOrDoubledBeyondRestarts(kRounds * kPerRound);
}

TEST_F(BrokerFaultsTest, ABrokerThatGoesDownAndComesBackLosesNothing) {
  ProduceCalls(0, 100);
  ASSERT_TRUE(RunUntil([&] { return AllArrived(100); }, [&] { AdvanceClock(); }));

  // Down for five seconds of commits: deliveries and commits fail, retriably, and records
  // produced meanwhile wait in the producer.
  ASSERT_TRUE(SetBrokerDown(true).ok());
  ProduceCalls(100, 200, /*flush=*/false);
  for (int i = 0; i < 100; ++i) {
    AdvanceClock();
    ASSERT_TRUE(engine_->RunOnce(50).ok());
  }
  ASSERT_TRUE(SetBrokerDown(false).ok());

  ProduceCalls(200, 300);
  ASSERT_TRUE(RunUntil([&] { return AllArrived(300); }, [&] { AdvanceClock(); }))
      << CopiedSeqs().size() << " of 300 copied after the broker came back";
  ExpectNothingLostOrDoubledBeyondRestarts(300);
}

}  // namespace
}  // namespace sidestream::host
