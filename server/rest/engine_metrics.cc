#include "server/rest/engine_metrics.h"

#include <climits>

namespace sidestream::rest {

using metrics::MetricType;

namespace {

constexpr const char* kQueryStates[] = {"RUNNING", "ERROR", "TERMINATED"};

}  // namespace

void DescribeEngineMetrics(metrics::Registry& registry) {
  auto counter = [&](const char* name, const char* help) {
    registry.Describe(name, MetricType::kCounter, help);
  };
  auto gauge = [&](const char* name, const char* help) {
    registry.Describe(name, MetricType::kGauge, help);
  };
  counter("sidestream_query_records_consumed_total",
          "Records a persistent query read from its source topics.");
  counter("sidestream_query_records_produced_total",
          "Records a persistent query wrote: results, repartition records, and late or "
          "dead-lettered records (not changelog records).");
  counter("sidestream_query_late_records_total",
          "Records that arrived after their window closed (applied to no window).");
  counter("sidestream_query_dead_letter_records_total",
          "Records sent to the dead-letter topic, by reason: decode_error (did not fit the "
          "source schema or had no valid event time) or oversized (a result too large for "
          "the sink).");
  counter("sidestream_query_dropped_records_total",
          "Records a query skipped without a dead-letter copy, by reason: null_table_key (a "
          "table row without a key, which Kafka Streams' table source skips too).");
  counter("sidestream_query_decode_errors_total",
          "Records that did not fit the source schema or had no valid event time.");
  counter("sidestream_query_evaluation_errors_total",
          "Expressions that failed on a record (the value became NULL, or the result was "
          "skipped).");
  counter("sidestream_query_changelog_records_total",
          "State changes a query wrote to its changelog topics.");
  counter("sidestream_query_restored_records_total",
          "Changelog records read back into state stores when tasks started.");
  counter("sidestream_query_rebalances_total",
          "Partition assignments received by the query's consumer group members.");
  gauge("sidestream_query_state",
        "1 for the query's current state (RUNNING, ERROR, TERMINATED), 0 for the others.");
  gauge("sidestream_query_restarts", "Times the query restarted after a retriable error.");
  gauge("sidestream_query_watermark_lag_seconds",
        "Wall clock minus the oldest stream time of the query's tasks.");
  gauge("sidestream_query_consumer_lag_records",
        "Records on the broker past the next one the query processes, per input partition "
        "(from the high watermark its consumer last saw).");
  gauge("sidestream_query_state_store_entries",
        "Entries in the state stores of the query's live tasks (one per task holds its "
        "stream time).");
  gauge("sidestream_query_state_store_bytes",
        "Estimated bytes of those stores: their entries' memory (sampled) in memory, or live "
        "files, memtables and write cache on RocksDB.");
  gauge("sidestream_query_restoring_tasks",
        "Tasks of the query restoring their state stores from changelog topics now.");
  gauge("sidestream_query_restore_remaining_records",
        "Changelog records the restores in progress have yet to read, in the changelog "
        "partitions they read now (a task's stores restore one after another; 0 when none "
        "runs).");
  registry.Describe("sidestream_query_processing_latency_seconds", MetricType::kHistogram,
                    "Time to process one polled run of a partition's records through the "
                    "query's task.");
  counter("sidestream_commits_total",
          "Commits of a query's offsets, after its state and outputs were flushed.");
  registry.Describe("sidestream_commit_latency_seconds", MetricType::kHistogram,
                    "Time a commit took: flushing stores and outputs, then the offsets.");
  counter("sidestream_rebalances_total",
          "Partition assignments received by every query's consumer group members.");
  gauge("sidestream_stream_threads", "Stream threads running queries.");
  counter("sidestream_standby_records_total",
          "Changelog records replayed into standby copies of tasks this instance does not run "
          "(num.standby.replicas).");
  gauge("sidestream_standby_tasks", "Standby copies of tasks this instance keeps warm now.");
  counter("sidestream_sink_writes_total", "Rows upserted or deleted by sink connectors.");
  counter("sidestream_sink_dead_letter_records_total", "Records a connector's store refused.");
  counter("sidestream_connector_records_total",
          "Records a sink connector read, by outcome: upserted, deleted, skipped (at or below "
          "the offset its store had applied: a replay), folded (superseded by a later record of "
          "the key in the same batch) or dead_lettered (refused by the store).");
  counter("sidestream_connector_retries_total",
          "Store writes a sink connector retried after a retriable error.");
  gauge("sidestream_connector_lag_records",
        "Records on the broker that a sink connector has not written to its store yet, per "
        "partition (from the high watermark its consumer last saw).");
  gauge("sidestream_connector_state",
        "1 for the sink connector's current state (RUNNING, FAILED), 0 for the other.");
}

void DescribeRestMetrics(metrics::Registry& registry) {
  registry.Describe("sidestream_rest_requests_total", MetricType::kCounter,
                    "REST requests answered, by route and HTTP status.");
  registry.Describe("sidestream_push_queries_open", MetricType::kGauge,
                    "Push queries streaming to a client now.");
  registry.Describe("sidestream_push_query_taps_open", MetricType::kGauge,
                    "Scalable push queries tapping a persistent query's output now.");
  registry.Describe("sidestream_push_queries_dropped_total", MetricType::kCounter,
                    "Push queries ended because they fell behind: client_slow (rows waited for "
                    "the client) or tap_overflow (records waited for the query).");
}

void CollectEngineMetrics(const host::EngineMetrics& engine,
                          const std::vector<host::QueryStatus>& queries, int64_t wall_ms,
                          metrics::Registry& registry) {
  for (const host::QueryStatus& status : queries) {
    const metrics::Labels query = {{"query_id", status.id}};
    for (const char* state : kQueryStates) {
      registry.Set("sidestream_query_state", {{"query_id", status.id}, {"state", state}},
                   host::QueryStateName(status.state) == std::string(state) ? 1 : 0);
    }
    registry.Set("sidestream_query_restarts", query, status.restarts);
    registry.Set("sidestream_query_restoring_tasks", query, status.restoring_tasks);
    registry.Set("sidestream_query_restore_remaining_records", query,
                 static_cast<double>(status.restore_records_left));
    // A query no thread has a share of yet reports zeros, so it appears from the start.
    runtime::QueryProgress progress;
    auto found = engine.queries.find(status.id);
    if (found != engine.queries.end()) progress = found->second;
    const runtime::TaskCounters& counters = progress.counters;
    registry.Set("sidestream_query_records_consumed_total", query, progress.consumed);
    registry.Set("sidestream_query_records_produced_total", query, progress.produced);
    registry.Set("sidestream_query_late_records_total", query, counters.late_records);
    registry.Set("sidestream_query_dropped_records_total",
                 {{"query_id", status.id}, {"reason", "null_table_key"}},
                 counters.null_key_table_records);
    registry.Set("sidestream_query_decode_errors_total", query, counters.decode_errors);
    registry.Set("sidestream_query_evaluation_errors_total", query, counters.evaluation_errors);
    const std::pair<const char*, int64_t> reasons[] = {{"decode_error", counters.decode_errors},
                                                       {"oversized", counters.oversized_results}};
    for (const auto& [reason, count] : reasons) {
      registry.Set("sidestream_query_dead_letter_records_total",
                   {{"query_id", status.id}, {"reason", reason}}, count);
    }
    registry.Set("sidestream_query_changelog_records_total", query, progress.changelog_records);
    registry.Set("sidestream_query_restored_records_total", query, progress.restored_records);
    registry.Set("sidestream_query_rebalances_total", query, progress.rebalances);
    registry.Set("sidestream_query_state_store_entries", query, progress.state_entries);
    registry.Set("sidestream_query_state_store_bytes", query,
                 static_cast<double>(progress.state_bytes));
    if (progress.oldest_stream_time != INT64_MIN) {
      registry.Set("sidestream_query_watermark_lag_seconds", query,
                   static_cast<double>(wall_ms - progress.oldest_stream_time) / 1000.0);
    }
    for (const auto& [partition, lag] : progress.consumer_lag) {
      registry.Set("sidestream_query_consumer_lag_records",
                   {{"query_id", status.id},
                    {"topic", partition.topic},
                    {"partition", std::to_string(partition.partition)}},
                   static_cast<double>(lag));
    }
    registry.SetHistogram("sidestream_query_processing_latency_seconds", query,
                          progress.processing);
  }
  registry.Set("sidestream_commits_total", {}, engine.commits);
  registry.SetHistogram("sidestream_commit_latency_seconds", {}, engine.commit_latency);
  registry.Set("sidestream_rebalances_total", {}, engine.rebalances);
  registry.Set("sidestream_stream_threads", {}, engine.stream_threads);
  registry.Set("sidestream_standby_records_total", {}, engine.totals.standby_records);
  registry.Set("sidestream_standby_tasks", {}, engine.totals.standby_copies);
  registry.Set("sidestream_sink_writes_total", {}, engine.totals.sink_writes);
  registry.Set("sidestream_sink_dead_letter_records_total", {}, engine.totals.sink_dead_letters);
  for (const sink::ConnectorStatus& connector : engine.connectors) {
    const std::pair<const char*, int64_t> outcomes[] = {{"upserted", connector.upserts},
                                                        {"deleted", connector.deletes},
                                                        {"skipped", connector.skipped},
                                                        {"folded", connector.folded},
                                                        {"dead_lettered", connector.dead_letters}};
    for (const auto& [outcome, count] : outcomes) {
      registry.Set("sidestream_connector_records_total",
                   {{"connector", connector.name}, {"outcome", outcome}}, count);
    }
    registry.Set("sidestream_connector_retries_total", {{"connector", connector.name}},
                 connector.retries);
    for (const auto& [partition, lag] : connector.lag) {
      registry.Set("sidestream_connector_lag_records",
                   {{"connector", connector.name},
                    {"topic", partition.first},
                    {"partition", std::to_string(partition.second)}},
                   static_cast<double>(lag));
    }
    for (const sink::ConnectorState state :
         {sink::ConnectorState::kRunning, sink::ConnectorState::kFailed}) {
      registry.Set("sidestream_connector_state",
                   {{"connector", connector.name}, {"state", sink::ConnectorStateName(state)}},
                   connector.state == state ? 1 : 0);
    }
  }
}

}  // namespace sidestream::rest
