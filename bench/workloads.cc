#include "bench/workloads.h"

#include <cstdio>
#include <fstream>
#include <iterator>

namespace sidestream::bench {

namespace {

Result<std::string> ReadSourceFile(const std::string& path) {
  std::ifstream file(std::string(SIDESTREAM_SOURCE_DIR) + "/" + path);
  if (!file) return Status::NotFound("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

const char* kW2Sql =
    "CREATE TABLE w2 AS SELECT cell_id, COUNT(*) AS calls, AVG(setup_ms) AS avg_setup_ms "
    "FROM cdr WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 30 SECONDS) GROUP BY cell_id ";

/// Nexmark query `query` ("q0") from bench/nexmark/, beside Flink's per-core figure.
Workload NexmarkQuery(const std::string& query, const std::string& description,
                      std::vector<std::string> fields, int flink_per_core) {
  char target[64];
  std::snprintf(target, sizeof target, ">= 10x Flink: %.2fM records/s per core",
                flink_per_core * 10 / 1e6);
  return {
      .name = "nexmark-" + query,
      .description = description,
      .input = Input::kNexmark,
      .query_file = "bench/nexmark/" + query + ".sql",
      .fields = std::move(fields),
      .peer_name = "Flink",
      .peers = "Flink Nexmark " + query + " " + std::to_string(flink_per_core / 1000) + "k/core",
      .peer_per_core = static_cast<double>(flink_per_core),
      .target = target,
      .target_per_core = 10.0 * flink_per_core};
}

constexpr const char* kKsqlAggregation = "ksqlDB aggregation 12k/core";

// W2 with EMIT `emit` (CHANGES or FINAL).
Workload W2(const char* name, const std::string& emit) {
  return {.name = name,
          .description = "tumbling 1 min COUNT(*), AVG(setup_ms) per cell_id, EMIT " + emit,
          .sql = std::string(kW2Sql) + "EMIT " + emit + ";",
          .fields = {"cell_id", "setup_ms", "start_ts"},
          .peer_name = "ksqlDB",
          .peers = kKsqlAggregation,
          .peer_per_core = 12'000,
          .target = ">= 5M records/s per core and >= 0.35 of the decode ceiling",
          .target_per_core = 5'000'000,
          .target_ratio = 0.35};
}

}  // namespace

std::vector<Workload> Workloads() {
  const std::string ksql_aggregation = kKsqlAggregation;
  const std::vector<std::string> bid_fields = {"event_type", "bid.auction",  "bid.bidder",
                                               "bid.price",  "bid.dateTime", "bid.extra"};
  return {
      {.name = "W1",
       .description = "filter + projection",
       .sql = "CREATE STREAM w1 AS SELECT caller_key, cell_id, duration_s FROM cdr "
              "WHERE record_type = 'VOICE' AND duration_s > 60 EMIT CHANGES;",
       .fields = {"record_type", "duration_s", "cell_id", "start_ts"},
       .peer_name = "ksqlDB",
       .peers = "ksqlDB filter 50k/core; Flink Nexmark q2 (filter) 414k/core",
       .peer_per_core = 50'000},
      W2("W2-changes", "CHANGES"),
      W2("W2-final", "FINAL"),
      {.name = "W3",
       .description = "hopping 5 min / 1 min COUNT_DISTINCT(callee) per caller",
       .sql = "CREATE TABLE w3 AS SELECT caller_key, COUNT_DISTINCT(callee) AS distinct_callees "
              "FROM cdr WINDOW HOPPING (SIZE 5 MINUTES, ADVANCE BY 1 MINUTE, GRACE PERIOD 30 "
              "SECONDS) GROUP BY caller_key EMIT CHANGES;",
       .fields = {"callee", "start_ts"},
       .subscribers = 1'000'000,
       .distinct_callers_first = true,
       .peer_name = "ksqlDB",
       .peers = ksql_aggregation,
       .peer_per_core = 12'000,
       .target = ">= 1M records/s (1M distinct callers)",
       .target_per_core = 1'000'000},
      {.name = "W3-cells",
       .description = "tumbling 1 h COUNT_DISTINCT(caller_key) per cell_id: thousands of "
                      "distinct callers per group",
       .sql = "CREATE TABLE w3_cells AS SELECT cell_id, COUNT_DISTINCT(caller_key) AS callers "
              "FROM cdr WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY cell_id EMIT CHANGES;",
       .fields = {"cell_id", "start_ts"},
       .subscribers = 20'000,
       .peer_name = "ksqlDB",
       .peers = ksql_aggregation,
       .peer_per_core = 12'000},
      {.name = "W4",
       .description = "session windows (gap 30 s) COUNT(*) per caller",
       .sql = "CREATE TABLE w4 AS SELECT caller_key, COUNT(*) AS calls FROM cdr "
              "WINDOW SESSION (30 SECONDS, GRACE PERIOD 30 SECONDS) GROUP BY caller_key "
              "EMIT CHANGES;",
       .fields = {"start_ts"},
       .peer_name = "ksqlDB",
       .peers = ksql_aggregation,
       .peer_per_core = 12'000},
      {.name = "W5",
       .description = "stream-table enrichment: every CDR joined with its caller's subscriber row",
       .sql = "CREATE STREAM w5 AS SELECT c.caller_key, c.cell_id, c.duration_s, s.plan, "
              "s.segment FROM cdr c JOIN subscribers s ON c.caller_key = s.msisdn EMIT CHANGES;",
       .fields = {"cell_id", "duration_s", "start_ts"},
       .extra_sql = "CREATE TABLE subscribers (msisdn STRING PRIMARY KEY, plan STRING, segment "
                    "STRING) WITH (KAFKA_TOPIC='subscribers', KEY_FORMAT='KAFKA', "
                    "VALUE_FORMAT='JSON', PARTITIONS=4);",
       .subscriber_table = true,
       .peer_name = "ksqlDB",
       .peers = "ksqlDB filter 50k/core (no published join figure)",
       .peer_per_core = 50'000},
      NexmarkQuery("q0", "pass-through: every bid", bid_fields, 379'000),
      NexmarkQuery("q1", "currency conversion: every bid, 0.908 * price", bid_fields, 395'000),
      NexmarkQuery("q2", "filter: bids with auction % 123 = 0",
                   {"event_type", "bid.auction", "bid.price"}, 414'000),
      NexmarkQuery("q8",
                   "new users: persons joined with their auctions in the same 10 s window "
                   "(every event read by both join inputs)",
                   {"event_type", "person.id", "person.name", "auction.seller", "auction.reserve"},
                   162'000),
      NexmarkQuery("q5",
                   "hot items: the auctions with the most bids per 10 s window sliding by 2 s "
                   "(3 chained queries and a join)",
                   {"event_type", "bid.auction"}, 75'000),
      NexmarkQuery("q7",
                   "highest bid: the bids at their 10 s window's highest price (a windowed MAX "
                   "joined back to the bids, every bid read by both queries)",
                   bid_fields, 23'000),
  };
}

Result<Workload> FindWorkload(const std::string& name) {
  for (Workload& workload : Workloads()) {
    if (workload.name == name) return std::move(workload);
  }
  return Status::NotFound("unknown workload '" + name + "'");
}

std::string InputTopic(const Workload& workload) {
  return workload.input == Input::kCdr ? "cdr" : "nexmark";
}

Result<std::string> SourceSql(const Workload& workload) {
  ASSIGN_OR_RAISE(std::string sql,
                  ReadSourceFile(workload.input == Input::kCdr ? "queries/sources/cdr.sql"
                                                               : "bench/nexmark/nexmark.sql"));
  return sql + "\n" + workload.extra_sql;
}

Result<std::string> QuerySql(const Workload& workload) {
  if (workload.query_file.empty()) return workload.sql;
  return ReadSourceFile(workload.query_file);
}

}  // namespace sidestream::bench
