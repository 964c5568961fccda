// restore_bench: how fast a task's state comes back from its changelog topic (the restore a
// restart or a rebalance waits for), beside the raw consume rate of the same partitions.
//
// Builds real state first: the W3 query (hopping COUNT_DISTINCT per caller, the workload
// with the most state per record) runs over N CDRs with changelog-backed stores, and each
// commit's changes are produced to a changelog topic on the embedded broker, spread over P
// partitions (the mock keeps at most 5 MiB a partition: a run that reads back fewer records
// than were written fails rather than report a rate for them). Then, R times, every partition is
// restored into a fresh task: ReadPartitionToEnd + ChangelogStore::Restore + the operators'
// index rebuild. The ceiling is ReadPartitionToEnd of the same partitions with no work.
// Then, R times, the same partitions are restored into RocksDB stores (a fresh state
// directory: ReadPartitionToEnd, RocksDbKeyValueStore::Restore, FinishRestore, the index
// rebuild), the tasks are closed (a clean stop), and reopened from their local stores alone
// (no changelog read: what a restart with a checkpoint does before replaying the tail).
//
// Usage: restore_bench [--messages N] [--runs R] [--partitions P] [--state-dir D]
// Prints one JSON object on stdout; progress goes to stderr.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/measurement.h"
#include "bench/workloads.h"
#include "catalog/catalog.h"
#include "connectors/datagen/cdr_generator.h"
#include "connectors/kafka/batch_producer.h"
#include "connectors/kafka/embedded_broker.h"
#include "connectors/kafka/partition_reader.h"
#include "runtime/stream_task.h"
#include "session/statements.h"
#include "state/rocksdb_store.h"

namespace {

using sidestream::Status;
using sidestream::bench::Measurement;
namespace kafka = sidestream::kafka;
namespace session = sidestream::session;
namespace runtime = sidestream::runtime;

// The store whose changelog is restored: W3's aggregation (its topology also keeps its stream
// time in a store, which is one entry).
constexpr const char* kStore = "aggregate-0";

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "restore_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

runtime::TaskCallbacks DiscardingCallbacks() {
  runtime::TaskCallbacks callbacks;
  callbacks.on_result = [](const runtime::TaskResult&) { return Status::OK(); };
  callbacks.on_side_output = [](const std::string&, const std::string*, const std::string&,
                                int64_t) { return Status::OK(); };
  return callbacks;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t messages = 200'000;
  int runs = 3;
  int partitions = 32;
  std::string state_dir = "/tmp/sidestream-restore-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--state-dir") state_dir = argv[i + 1];
    if (arg == "--messages") messages = std::atoll(argv[i + 1]);
    if (arg == "--runs") runs = std::atoi(argv[i + 1]);
    if (arg == "--partitions") partitions = std::atoi(argv[i + 1]);
  }
  auto workload = sidestream::bench::FindWorkload("W3");
  if (!workload.ok()) return Fail("workload", workload.status());
  auto catalog = sidestream::catalog::Catalog::Open(":memory:");
  if (!catalog.ok()) return Fail("catalog", catalog.status());
  auto source_sql = sidestream::bench::SourceSql(*workload);
  auto query_sql = sidestream::bench::QuerySql(*workload);
  if (!source_sql.ok() || !query_sql.ok()) return Fail("sql", Status::NotFound("W3's SQL"));
  auto query = session::CompileLastQuery(*source_sql + "\n" + *query_sql, **catalog);
  if (!query.ok()) return Fail("compile", query.status());

  auto broker = kafka::EmbeddedBroker::Start();
  if (!broker.ok()) return Fail("start broker", broker.status());
  const std::string topic = std::string("w3-") + kStore + "-changelog";
  if (Status s = (*broker)->CreateTopic(topic, partitions); !s.ok()) return Fail("topic", s);
  const kafka::ClientConfig client{(*broker)->bootstrap_servers(), {}};
  kafka::ProducerOptions producer_options;
  producer_options.client = client;
  producer_options.linger_ms = 20;
  auto producer = kafka::BatchProducer::Create(producer_options);
  if (!producer.ok()) return Fail("producer", producer.status());

  // The state: W3 over `messages` CDRs, committed every 10k records; each change goes to
  // the partition its key hashes to, as a task's changelog would hold it.
  int64_t changes = 0;
  size_t change_bytes = 0;
  {
    auto factory = [&](const std::string& name) -> std::unique_ptr<runtime::KeyValueStore> {
      if (name != kStore) return std::make_unique<runtime::InMemoryKeyValueStore>();
      return std::make_unique<runtime::ChangelogStore>(
          [&](std::string_view key, const std::string* value) {
            ++changes;
            change_bytes += key.size() + (value ? value->size() : 0);
            return (*producer)->Produce(
                topic, static_cast<int32_t>(std::hash<std::string_view>()(key) % partitions), key,
                value ? std::string_view(*value) : std::string_view(), 0);
          });
    };
    auto pipeline = runtime::StreamTask::Create(query->id, *query->plan, query->properties,
                                                DiscardingCallbacks(), factory);
    if (!pipeline.ok()) return Fail("pipeline", pipeline.status());
    sidestream::datagen::CdrGeneratorOptions options;
    options.subscribers = workload->subscribers;
    options.distinct_callers_first = true;
    sidestream::datagen::CdrGenerator generator(options);
    sidestream::datagen::GeneratedCdr record;
    for (int64_t i = 0; i < messages; ++i) {
      generator.Next(record);
      runtime::InputMessage input;
      input.key = record.key;
      input.value = record.value;
      input.timestamp = record.event_time;
      input.offset = i;
      if (Status s = (*pipeline)->Process(input); !s.ok()) return Fail("process", s);
      if (i % 10'000 == 9'999) {
        if (Status s = (*pipeline)->Flush(); !s.ok()) return Fail("flush", s);
      }
    }
    if (Status s = (*pipeline)->Flush(); !s.ok()) return Fail("flush", s);
  }
  if (Status s = (*producer)->Flush(std::chrono::seconds(120)); !s.ok()) return Fail("flush", s);
  std::fprintf(stderr, "restore_bench: %lld state changes (%.0f B average) over %d partitions\n",
               static_cast<long long>(changes), static_cast<double>(change_bytes) / changes,
               partitions);

  std::vector<Measurement> restore_runs, ceiling_runs;
  for (int run = 0; run < runs; ++run) {
    Status status;
    std::vector<std::unique_ptr<runtime::StreamTask>> tasks;
    restore_runs.push_back(sidestream::bench::Measure(changes, [&] {
      for (int partition = 0; partition < partitions && status.ok(); ++partition) {
        runtime::ChangelogStore* store = nullptr;
        auto task = runtime::StreamTask::Create(
            query->id, *query->plan, query->properties, DiscardingCallbacks(),
            [&store](const std::string& name) -> std::unique_ptr<runtime::KeyValueStore> {
              auto made = std::make_unique<runtime::ChangelogStore>(
                  [](std::string_view, const std::string*) { return Status::OK(); });
              if (name == kStore) store = made.get();
              return made;
            });
        if (!task.ok()) {
          status = task.status();
          break;
        }
        auto read = kafka::ReadPartitionToEnd(
            client, topic, partition,
            [store](std::optional<std::string_view> key, std::optional<std::string_view> value) {
              return store->Restore(*key, value ? &*value : nullptr);
            });
        if (!read.ok()) status = read.status();
        if (status.ok()) status = (*task)->RebuildIndexes();
        tasks.push_back(std::move(*task));
      }
    }));
    if (!status.ok()) return Fail("restore", status);
    int64_t read_back = 0;
    ceiling_runs.push_back(sidestream::bench::Measure(changes, [&] {
      for (int partition = 0; partition < partitions && status.ok(); ++partition) {
        auto read =
            kafka::ReadPartitionToEnd(client, topic, partition,
                                      [](std::optional<std::string_view>,
                                         std::optional<std::string_view>) { return Status::OK(); });
        if (!read.ok()) status = read.status();
        read_back += read.ok() ? *read : 0;
      }
    }));
    if (!status.ok()) return Fail("ceiling", status);
    if (read_back != changes) {
      return Fail("ceiling", Status::Internal("read back " + std::to_string(read_back) + " of " +
                                              std::to_string(changes) +
                                              " changes: the broker dropped some; use more "
                                              "--partitions"));
    }
    std::fprintf(stderr, "restore run %d: %.0f records/s (%.0f per core), ceiling %.0f\n", run,
                 restore_runs.back().rate, restore_runs.back().rate_per_core,
                 ceiling_runs.back().rate);
  }
  // RocksDB: the changelog restored into RocksDB stores, then the stores reopened after a
  // clean stop, from local state alone.
  std::vector<Measurement> rocksdb_runs, local_runs;
  int64_t local_keys = 0;
  for (int run = 0; run < runs; ++run) {
    std::filesystem::remove_all(state_dir);
    sidestream::state::RocksDbStoreProvider::Options options;
    options.state_dir = state_dir;
    options.application_id = "restore";
    auto provider = sidestream::state::RocksDbStoreProvider::Create(options);
    if (!provider.ok()) return Fail("state directory", provider.status());
    // A task of partition `partition` over its RocksDB stores; `store` is its aggregation's.
    auto open_task = [&](int partition, sidestream::state::RocksDbKeyValueStore*& store)
        -> sidestream::Result<std::unique_ptr<runtime::StreamTask>> {
      Status opened;
      auto task = runtime::StreamTask::Create(
          query->id, *query->plan, query->properties, DiscardingCallbacks(),
          [&](const std::string& name) -> std::unique_ptr<runtime::KeyValueStore> {
            auto made = (*provider)->Open(
                (*provider)->TaskDirectory("restore", "w3", partition), name,
                [](std::string_view, const std::string*) { return Status::OK(); });
            if (!made.ok()) {
              opened = made.status();
              return std::make_unique<runtime::InMemoryKeyValueStore>();
            }
            if (name == kStore) {
              store = static_cast<sidestream::state::RocksDbKeyValueStore*>(made->get());
            }
            return std::move(*made);
          });
      RETURN_NOT_OK(opened);
      return task;
    };
    Status status;
    {
      std::vector<std::unique_ptr<runtime::StreamTask>> tasks;
      rocksdb_runs.push_back(sidestream::bench::Measure(changes, [&] {
        for (int partition = 0; partition < partitions && status.ok(); ++partition) {
          sidestream::state::RocksDbKeyValueStore* store = nullptr;
          auto task = open_task(partition, store);
          if (!task.ok()) {
            status = task.status();
            break;
          }
          auto read = kafka::ReadPartitionToEnd(
              client, topic, partition,
              [store](std::optional<std::string_view> key, std::optional<std::string_view> value) {
                return store->Restore(*key, value ? &*value : nullptr);
              });
          if (!read.ok()) status = read.status();
          if (status.ok()) status = store->FinishRestore();
          if (status.ok()) status = (*task)->RebuildIndexes();
          tasks.push_back(std::move(*task));
        }
      }));
      if (!status.ok()) return Fail("restore into RocksDB", status);
    }  // the tasks close: a clean stop
    int64_t keys = 0;
    std::vector<std::unique_ptr<runtime::StreamTask>> tasks;
    const Measurement local = sidestream::bench::Measure(1, [&] {
      for (int partition = 0; partition < partitions && status.ok(); ++partition) {
        sidestream::state::RocksDbKeyValueStore* store = nullptr;
        auto task = open_task(partition, store);
        if (!task.ok()) {
          status = task.status();
          break;
        }
        status = (*task)->RebuildIndexes();
        keys += static_cast<int64_t>(store->size());
        tasks.push_back(std::move(*task));
      }
    });
    if (!status.ok()) return Fail("reopen local RocksDB state", status);
    local_keys = keys;
    // Rates of keys: Measure counted one pass.
    local_runs.push_back({local.rate * static_cast<double>(keys),
                          local.rate_per_core * static_cast<double>(keys), local.peak_rss_mb});
    std::fprintf(stderr,
                 "RocksDB run %d: restore %.0f records/s (%.0f per core); local reopen of %lld "
                 "keys %.3f s\n",
                 run, rocksdb_runs.back().rate, rocksdb_runs.back().rate_per_core,
                 static_cast<long long>(keys), 1.0 / local.rate);
    tasks.clear();
  }
  std::filesystem::remove_all(state_dir);
  nlohmann::json rocksdb_engine = sidestream::bench::Summarize(rocksdb_runs);
  nlohmann::json local_engine = sidestream::bench::Summarize(local_runs);

  nlohmann::json engine = sidestream::bench::Summarize(restore_runs);
  nlohmann::json ceiling = sidestream::bench::Summarize(ceiling_runs);
  nlohmann::json report = {
      {"workload", "restore"},
      {"description", "W3's state restored from its changelog (embedded broker)"},
      {"partitions", partitions},
      {"messages", changes},
      {"cdrs_behind_the_state", messages},
      {"average_change_bytes", static_cast<double>(change_bytes) / changes},
      {"runs", runs},
      {"engine", engine},
      {"ceiling", ceiling},
      {"ceiling_name", "raw read of the same changelog partitions"},
      {"ratio_to_ceiling", engine["records_per_s_per_core"]["median"].get<double>() /
                               ceiling["records_per_s_per_core"]["median"].get<double>()},
      {"wall_ratio_to_ceiling", engine["records_per_s"]["median"].get<double>() /
                                    ceiling["records_per_s"]["median"].get<double>()},
      {"rocksdb_restore", rocksdb_engine},
      {"rocksdb_ratio_to_ceiling",
       rocksdb_engine["records_per_s_per_core"]["median"].get<double>() /
           ceiling["records_per_s_per_core"]["median"].get<double>()},
      {"local_reopen_keys", local_keys},
      {"local_reopen", local_engine},
      {"local_reopen_seconds",
       static_cast<double>(local_keys) / local_engine["records_per_s"]["median"].get<double>()},
      {"peer_name", ""},
      {"peers", "no published restore figure"},
      {"peer_per_core", 0},
      {"target", ""},
      {"target_per_core", 0},
      {"target_ratio", 0},
  };
  std::printf("%s\n", report.dump().c_str());
  return 0;
}
