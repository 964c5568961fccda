// workloads_bench: query workloads over CDRs and Nexmark events (bench/workloads.h) over
// generated messages, each with its decode ceiling, measured in one process per workload
// (so peak RSS is the workload's).
//
// R times: creates a fresh StreamTask for each of the workload's queries (a chain, where one
// query reads another's results) and feeds them N messages (Kafka key and JSON value bytes,
// as they would arrive from the topic) from the seeded CdrGenerator or NexmarkGenerator,
// made afresh for each pass so that every pass sees the same messages. The input is
// generated in chunks of 16 batches with the clock stopped, so the process holds one chunk
// (a few MB), not the whole input, and peak RSS measures the engine. It reports the median,
// min and max of records/s (N / wall time), records/s per core (N / process CPU time from
// getrusage, both summed over the chunks) and peak RSS (VmHWM, reset before each run). The
// ceiling, in the same process and on the same bytes (generated the same way), is simdjson
// ondemand decoding each message and extracting the fields the query reads (nested ones
// too), with no query.
//
// Usage: workloads_bench --list
//        workloads_bench --sql NAME   (prints the workload's statement, for bench/peer/run.py)
//        workloads_bench --workload NAME [--messages N] [--runs R] [--subscribers S]
//                        [--state memory|changelog|rocksdb] [--commit-every N]
//                        [--state-dir D] [--state-memory-bytes B] [--state-cache-bytes B]
//                        [--value-format AVRO|PROTOBUF] [--exactly-once]
// --value-format writes the CDR values in that format, in Confluent's wire format with the
// schema registered in an in-memory registry (bench/registry_codec.h), and the ceiling is
// then the same library's decode alone (avro-c, libprotobuf's DynamicMessage).
// --state picks the stores: memory (InMemoryKeyValueStore, no changelog: the default),
// changelog (ChangelogStore, what `state.store memory` runs) or rocksdb
// (RocksDbKeyValueStore under --state-dir); both of the last two hand their changes to a
// changelog sink that counts them, at a commit (StreamTask::Flush) every N records
// (default 100,000) and at the end, inside the clock. --exactly-once opens the RocksDB
// stores as exactly_once_v2 does (SetPersistEachFlush(false): the checkpoint is written at a
// clean close only, so a commit need not flush the memtables); with --commit-every about
// 100 ms of records it shows what EOS's commit interval does to the files (the report's
// rocksdb_files: flushes, compactions, live SST files at the end of each run).
// Prints one JSON object on stdout; progress goes to stderr.
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "analyzer/analyzer.h"
#include "bench/measurement.h"
#include "bench/registry_codec.h"
#include "bench/workloads.h"
#include "catalog/catalog.h"
#include "connectors/datagen/cdr_generator.h"
#include "connectors/datagen/nexmark_generator.h"
#include "connectors/registry/schema_registry.h"
#include "runtime/state_store.h"
#include "runtime/stream_task.h"
#include "session/statements.h"
#include "sql/parser.h"
#include "state/rocksdb_store.h"

namespace {

using nlohmann::json;
using sidestream::Result;
using sidestream::Status;
using sidestream::bench::Input;
using sidestream::bench::Measurement;
using sidestream::bench::Workload;
using sidestream::runtime::StreamTask;

// Messages per StreamTask::ProcessBatch call: about what one Kafka poll gives a task.
constexpr size_t kBatchSize = 1024;

/// The messages of one run, as a Kafka consumer would hand them over.
struct Messages {
  std::vector<std::optional<std::string>> keys;  // Nexmark events have no key
  std::vector<std::string> values;
  std::vector<int64_t> timestamps;
  size_t bytes = 0;
  int64_t first_offset = 0;  // of the first message, in the whole input
  void Add(const std::string* key, const std::string& value, int64_t timestamp) {
    bytes += (key ? key->size() : 0) + value.size();
    keys.push_back(key ? std::optional<std::string>(*key) : std::nullopt);
    values.push_back(value);
    timestamps.push_back(timestamp);
  }
};

/// The workload's input, generated chunk by chunk: every pass (a run, a ceiling run) makes a
/// fresh seeded generator, so it sees the same messages, and the process holds one chunk of
/// input at a time, not all of it (peak RSS measures the engine, not the input).
class MessageStream {
 public:
  MessageStream(Input input, int64_t count, int subscribers, bool distinct_callers_first)
      : input_(input), count_(count) {
    cdr_options_.subscribers = subscribers;
    cdr_options_.distinct_callers_first = distinct_callers_first;
  }

  /// Starts over at the first message.
  void Rewind() {
    produced_ = 0;
    cdrs_.emplace(cdr_options_);
    nexmark_.emplace(sidestream::datagen::NexmarkGeneratorOptions{});
  }

  /// Replaces `chunk` with up to kChunkMessages next messages; false when none are left.
  bool Next(Messages& chunk) {
    chunk = Messages();
    const int64_t size = std::min<int64_t>(kChunkMessages, count_ - produced_);
    if (size <= 0) return false;
    chunk.keys.reserve(size);
    chunk.values.reserve(size);
    chunk.timestamps.reserve(size);
    for (int64_t i = 0; i < size; ++i) {
      if (input_ == Input::kNexmark) {
        nexmark_->Next(nexmark_event_);
        chunk.Add(nullptr, nexmark_event_.value, nexmark_event_.event_time);
      } else {
        cdrs_->Next(cdr_);
        chunk.Add(&cdr_.key, cdr_.value, cdr_.event_time);
      }
    }
    chunk.first_offset = produced_;
    produced_ += size;
    return true;
  }

  /// One pass over the input outside any clock: its bytes and (CDRs) distinct callers.
  void Count(size_t& bytes, size_t& distinct_callers) {
    Rewind();
    std::unordered_set<std::string> callers;
    bytes = 0;
    Messages chunk;
    while (Next(chunk)) {
      bytes += chunk.bytes;
      for (const auto& key : chunk.keys) {
        if (key && input_ == Input::kCdr) callers.insert(*key);
      }
    }
    distinct_callers = callers.size();
  }

 private:
  // A multiple of the batch size, so that commits fall where they would over one input.
  static constexpr int64_t kChunkMessages = 16 * kBatchSize;
  const Input input_;
  const int64_t count_;
  int64_t produced_ = 0;
  sidestream::datagen::CdrGeneratorOptions cdr_options_;
  std::optional<sidestream::datagen::CdrGenerator> cdrs_;
  std::optional<sidestream::datagen::NexmarkGenerator> nexmark_;
  sidestream::datagen::GeneratedCdr cdr_;
  sidestream::datagen::GeneratedNexmarkEvent nexmark_event_;
};

/// One row per subscriber for W5's table, keyed like the CDRs' callers.
Messages SubscriberRows(int subscribers) {
  static const char* const kPlans[] = {"prepaid", "postpaid", "business", "family"};
  static const char* const kSegments[] = {"youth", "standard", "premium"};
  Messages rows;
  for (int i = 0; i < subscribers; ++i) {
    std::string value = std::string("{\"plan\":\"") + kPlans[i % 4] + "\",\"segment\":\"" +
                        kSegments[i % 3] + "\"}";
    const std::string key = sidestream::datagen::CdrGenerator::Msisdn(i);
    rows.Add(&key, value, 0);
  }
  return rows;
}

/// The pipeline's input messages for `messages` of `topic`: one per source that reads the
/// topic (a join of two streams over one topic reads each message twice).
std::vector<sidestream::runtime::InputMessage> Inputs(
    const Messages& messages, const std::string& topic,
    const std::vector<sidestream::catalog::SourceDescription>& sources) {
  std::vector<sidestream::runtime::InputMessage> inputs;
  for (size_t i = 0; i < messages.values.size(); ++i) {
    for (size_t source = 0; source < sources.size(); ++source) {
      if (sources[source].topic != topic) continue;
      sidestream::runtime::InputMessage& input = inputs.emplace_back();
      if (messages.keys[i]) input.key = *messages.keys[i];
      input.value = messages.values[i];
      input.timestamp = messages.timestamps[i];
      input.offset = messages.first_offset + static_cast<int64_t>(i);
      input.source = source;
    }
  }
  return inputs;
}

/// The parsed and analyzed queries; the catalog outlives the plans' use.
struct CompiledQueries {
  std::unique_ptr<sidestream::catalog::Catalog> catalog;
  std::vector<sidestream::session::NewQuery> queries;
  std::string sql;
};

Result<CompiledQueries> Compile(const Workload& workload, const std::string& value_format) {
  CompiledQueries compiled;
  ASSIGN_OR_RAISE(compiled.catalog, sidestream::catalog::Catalog::Open(":memory:"));
  ASSIGN_OR_RAISE(std::string source_sql, sidestream::bench::SourceSql(workload));
  if (!value_format.empty()) {
    const std::string json_format = "VALUE_FORMAT='JSON'";
    const size_t at = source_sql.find(json_format);
    if (workload.input != Input::kCdr || at == std::string::npos) {
      return Status::InvalidArgument("--value-format applies to the CDR workloads only");
    }
    source_sql.replace(at, json_format.size(), "VALUE_FORMAT='" + value_format + "'");
  }
  ASSIGN_OR_RAISE(compiled.sql, sidestream::bench::QuerySql(workload));
  ASSIGN_OR_RAISE(compiled.queries, sidestream::session::CompileQueries(
                                        source_sql + "\n" + compiled.sql, *compiled.catalog));
  return compiled;
}

/// What a pipeline run produced, to show the query did its work.
struct RunOutput {
  int64_t results = 0;               // of the last query
  int64_t intermediate_results = 0;  // of earlier queries, fed to later ones
  int64_t side_outputs = 0;
  size_t result_bytes = 0;
  sidestream::runtime::TaskCounters counters;
};

using Pipelines = std::vector<std::unique_ptr<StreamTask>>;

/// Where the pipelines keep their state (--state).
struct StateChoice {
  std::string kind = "memory";
  int64_t commit_every = 100000;
  std::unique_ptr<sidestream::state::RocksDbStoreProvider> provider;  // rocksdb only
  bool exactly_once = false;
  // This run's RocksDB stores, for their file statistics at its end.
  std::vector<sidestream::state::RocksDbKeyValueStore*> stores;
  int run = 0;
  int64_t changelog_records = 0;
  int64_t changelog_bytes = 0;

  sidestream::runtime::StoreFactory Factory(const std::string& query_id) {
    if (kind == "memory") return {};
    auto sink = [this](std::string_view key, const std::string* value) {
      ++changelog_records;
      changelog_bytes += static_cast<int64_t>(key.size() + (value ? value->size() : 0));
      return Status::OK();
    };
    if (kind == "changelog") {
      return [sink](const std::string&) {
        return std::make_unique<sidestream::runtime::ChangelogStore>(sink);
      };
    }
    const std::string directory =
        provider->TaskDirectory("bench", query_id + "-run" + std::to_string(run), 0);
    return [this, sink, directory](
               const std::string& name) -> std::unique_ptr<sidestream::runtime::KeyValueStore> {
      auto store = provider->Open(directory, name, sink);
      if (!store.ok()) {
        std::fprintf(stderr, "workloads_bench: %s\n", store.status().ToString().c_str());
        std::exit(1);
      }
      (*store)->SetPersistEachFlush(!exactly_once);
      stores.push_back(static_cast<sidestream::state::RocksDbKeyValueStore*>(store->get()));
      return std::move(*store);
    };
  }
};

/// Fills `pipelines` with one pipeline per query. A query's results go to the later queries
/// that read its sink topic, one by one as they come, as the offline engine chains queries;
/// the last query's results are the workload's. The callbacks hold `pipelines` and `output`.
Status CreatePipelines(const std::vector<sidestream::session::NewQuery>& queries,
                       Pipelines& pipelines, RunOutput& output, StateChoice& state) {
  for (size_t i = 0; i < queries.size(); ++i) {
    sidestream::runtime::TaskCallbacks callbacks;
    const bool last = i + 1 == queries.size();
    const std::string sink_topic = queries[i].plan->source.topic;
    callbacks.on_result = [&pipelines, &output, i, last,
                           sink_topic](const sidestream::runtime::TaskResult& result) {
      if (last) {
        ++output.results;
        output.result_bytes +=
            (result.key ? result.key->size() : 0) + (result.value ? result.value->size() : 0);
        return Status::OK();
      }
      ++output.intermediate_results;
      sidestream::runtime::InputMessage message;
      if (result.key) message.key = *result.key;
      if (result.value) message.value = *result.value;
      message.timestamp = result.timestamp;
      message.window = result.window;
      for (size_t later = i + 1; later < pipelines.size(); ++later) {
        const auto& sources = pipelines[later]->sources();
        for (size_t source = 0; source < sources.size(); ++source) {
          if (sources[source].topic != sink_topic) continue;
          message.source = source;
          RETURN_NOT_OK(pipelines[later]->Process(message));
        }
      }
      return Status::OK();
    };
    callbacks.on_side_output = [&output](const std::string&, const std::string*, const std::string&,
                                         int64_t) {
      ++output.side_outputs;
      return Status::OK();
    };
    ASSIGN_OR_RAISE(auto pipeline,
                    StreamTask::Create(queries[i].id, *queries[i].plan, queries[i].properties,
                                       callbacks, state.Factory(queries[i].id)));
    pipelines.push_back(std::move(pipeline));
  }
  return Status::OK();
}

/// Feeds each pipeline its messages (`inputs[p]` to pipeline p), in batches of the size a
/// Kafka poll hands a task; each batch goes to the pipelines in query order. Fed chunk by
/// chunk: with `commit_every` > 0, every pipeline is flushed (a commit) after about that
/// many records, counted across chunks, and at Finish.
class Feeder {
 public:
  Feeder(Pipelines& pipelines, int64_t commit_every)
      : pipelines_(pipelines), commit_every_(commit_every) {}

  Status Feed(const std::vector<std::vector<sidestream::runtime::InputMessage>>& inputs) {
    size_t longest = 0;
    for (const auto& input : inputs) longest = std::max(longest, input.size());
    for (size_t i = 0; i < longest; i += kBatchSize) {
      for (size_t p = 0; p < pipelines_.size(); ++p) {
        if (i >= inputs[p].size()) continue;
        RETURN_NOT_OK(pipelines_[p]->ProcessBatch(
            std::span(inputs[p]).subspan(i, std::min(kBatchSize, inputs[p].size() - i))));
      }
      since_commit_ += static_cast<int64_t>(kBatchSize);
      if (commit_every_ > 0 && since_commit_ >= commit_every_) {
        for (const auto& pipeline : pipelines_) RETURN_NOT_OK(pipeline->Flush());
        since_commit_ = 0;
      }
    }
    return Status::OK();
  }

  Status Finish() {
    if (commit_every_ > 0) {
      for (const auto& pipeline : pipelines_) RETURN_NOT_OK(pipeline->Flush());
    }
    return Status::OK();
  }

 private:
  Pipelines& pipelines_;
  const int64_t commit_every_;
  int64_t since_commit_ = 0;
};

/// Each pipeline's input messages for `messages` of `topic` (Inputs), built outside the clock.
std::vector<std::vector<sidestream::runtime::InputMessage>> PipelineInputs(
    const Messages& messages, const std::string& topic, const Pipelines& pipelines) {
  std::vector<std::vector<sidestream::runtime::InputMessage>> inputs;
  for (const auto& pipeline : pipelines) {
    inputs.push_back(Inputs(messages, topic, pipeline->sources()));
  }
  return inputs;
}

/// The fields a query reads, as a tree: "bid.price" is field price of object bid.
struct FieldTree {
  std::vector<std::string> scalars;
  std::vector<std::pair<std::string, FieldTree>> objects;

  explicit FieldTree(const std::vector<std::string>& paths) {
    for (const std::string& path : paths) Add(path);
  }
  void Add(const std::string& path) {
    const size_t dot = path.find('.');
    if (dot == std::string::npos) {
      scalars.push_back(path);
      return;
    }
    const std::string parent = path.substr(0, dot);
    auto object = std::find_if(objects.begin(), objects.end(),
                               [&](const auto& entry) { return entry.first == parent; });
    if (object == objects.end()) {
      objects.emplace_back(parent, FieldTree({}));
      object = std::prev(objects.end());
    }
    object->second.Add(path.substr(dot + 1));
  }
};

/// Extracts `tree`'s fields of `object` into typed locals (summed into `touched`).
Status ExtractFields(simdjson::ondemand::object object, const FieldTree& tree, size_t& touched) {
  for (auto field_result : object) {
    simdjson::ondemand::field field;
    if (std::move(field_result).get(field)) return Status::Corruption("bad field");
    std::string_view key;
    if (field.unescaped_key().get(key)) return Status::Corruption("bad key");
    simdjson::ondemand::value value = field.value();
    auto nested = std::find_if(tree.objects.begin(), tree.objects.end(),
                               [&](const auto& entry) { return entry.first == key; });
    if (nested != tree.objects.end()) {
      simdjson::ondemand::object inner;
      if (value.get_object().get(inner)) return Status::Corruption("not an object");
      RETURN_NOT_OK(ExtractFields(inner, nested->second, touched));
      continue;
    }
    if (std::find(tree.scalars.begin(), tree.scalars.end(), key) == tree.scalars.end()) continue;
    simdjson::ondemand::json_type type = simdjson::ondemand::json_type::null;
    if (value.type().get(type)) return Status::Corruption("bad value");
    switch (type) {
      case simdjson::ondemand::json_type::string: {
        std::string_view text;
        if (value.get_string().get(text)) return Status::Corruption("bad string");
        touched += text.size();
        break;
      }
      case simdjson::ondemand::json_type::number: {
        int64_t integer = 0;
        if (value.get_int64().get(integer)) return Status::Corruption("bad integer");
        touched += static_cast<size_t>(integer & 1);
        break;
      }
      default:
        break;
    }
  }
  return Status::OK();
}

/// The ceiling: simdjson ondemand over the same bytes (copied into a padded buffer, as a
/// decoder must), extracting the query's fields into typed locals; the key is touched. One
/// chunk of messages; adds what it touched to `touched`.
Status DecodeCeiling(const Messages& messages, const FieldTree& tree,
                     simdjson::ondemand::parser& parser, std::vector<char>& buffer,
                     size_t& touched) {
  const size_t count = messages.values.size();
  for (size_t i = 0; i < count; ++i) {
    const std::string& message = messages.values[i];
    if (messages.keys[i]) touched += messages.keys[i]->size();
    if (buffer.size() < message.size() + simdjson::SIMDJSON_PADDING) {
      buffer.resize(message.size() + simdjson::SIMDJSON_PADDING);
    }
    std::memcpy(buffer.data(), message.data(), message.size());
    simdjson::ondemand::document document;
    if (parser.iterate(buffer.data(), message.size(), buffer.size()).get(document)) {
      return Status::Corruption("parse failed");
    }
    simdjson::ondemand::object object;
    if (document.get_object().get(object)) return Status::Corruption("not an object");
    RETURN_NOT_OK(ExtractFields(object, tree, touched));
  }
  return Status::OK();
}

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "workloads_bench: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string name;
  int64_t messages_count = 0;
  int runs = 5;
  int subscribers = 0;
  StateChoice state;
  std::string state_dir = "/tmp/sidestream-workloads-bench";
  int64_t state_memory_bytes = 128 << 20, state_cache_bytes = 64 << 20;
  std::string value_format;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--list") {
      for (const auto& workload : sidestream::bench::Workloads()) {
        std::printf("%s\n", workload.name.c_str());
      }
      return 0;
    } else if (arg == "--sql") {
      auto workload = sidestream::bench::FindWorkload(next());
      auto sql = workload.ok() ? sidestream::bench::QuerySql(*workload) : workload.status();
      if (!sql.ok()) return Fail("--sql", sql.status());
      std::printf("%s\n", sql->c_str());
      return 0;
    } else if (arg == "--workload") {
      name = next();
    } else if (arg == "--messages") {
      messages_count = std::atoll(next().c_str());
    } else if (arg == "--runs") {
      runs = std::atoi(next().c_str());
    } else if (arg == "--subscribers") {
      subscribers = std::atoi(next().c_str());
    } else if (arg == "--state") {
      state.kind = next();
    } else if (arg == "--commit-every") {
      state.commit_every = std::atoll(next().c_str());
    } else if (arg == "--state-dir") {
      state_dir = next();
    } else if (arg == "--state-memory-bytes") {
      state_memory_bytes = std::atoll(next().c_str());
    } else if (arg == "--state-cache-bytes") {
      state_cache_bytes = std::atoll(next().c_str());
    } else if (arg == "--exactly-once") {
      state.exactly_once = true;
    } else if (arg == "--value-format") {
      value_format = next();
    } else {
      std::fprintf(stderr,
                   "usage: workloads_bench --list | --sql NAME | --workload NAME [--messages N] "
                   "[--runs R] [--subscribers S]\n");
      return 2;
    }
  }
  auto found = sidestream::bench::FindWorkload(name);
  if (!found.ok()) {
    std::fprintf(stderr, "workloads_bench: unknown workload '%s' (see --list)\n", name.c_str());
    return 2;
  }
  const Workload& workload = *found;
  if (messages_count <= 0) messages_count = workload.default_messages;
  if (subscribers <= 0) subscribers = workload.subscribers;
  runs = std::max(runs, 1);

  if (state.kind != "memory" && state.kind != "changelog" && state.kind != "rocksdb") {
    std::fprintf(stderr, "workloads_bench: --state is memory, changelog or rocksdb\n");
    return 2;
  }
  if (state.kind == "memory") state.commit_every = 0;
  if (state.kind == "rocksdb") {
    std::filesystem::remove_all(state_dir);
    sidestream::state::RocksDbStoreProvider::Options options;
    options.state_dir = state_dir;
    options.application_id = "bench";
    options.memory_bytes = state_memory_bytes;
    options.write_cache_bytes = state_cache_bytes;
    auto provider = sidestream::state::RocksDbStoreProvider::Create(options);
    if (!provider.ok()) return Fail("open the state directory", provider.status());
    state.provider = std::move(*provider);
  }

  if (!value_format.empty()) {
    sidestream::registry::SetDefaultSchemaRegistryUrl(sidestream::bench::kBenchRegistryUrl);
  }
  auto compiled = Compile(workload, value_format);
  if (!compiled.ok()) return Fail("compile " + workload.name, compiled.status());

  std::fprintf(stderr, "%s: %lld messages, generated chunk by chunk\n", workload.name.c_str(),
               static_cast<long long>(messages_count));
  MessageStream stream(workload.input, messages_count, subscribers,
                       workload.distinct_callers_first);
  size_t input_bytes = 0, distinct_callers = 0;
  stream.Count(input_bytes, distinct_callers);
  // --value-format: each chunk's JSON values become registry wire-format records, with the
  // clock stopped.
  std::unique_ptr<sidestream::bench::RegistryCodec> codec;
  auto encode = [&codec](Messages& chunk) -> Status {
    if (!codec) return Status::OK();
    chunk.bytes = 0;
    for (size_t i = 0; i < chunk.values.size(); ++i) {
      ASSIGN_OR_RAISE(chunk.values[i], codec->FromJson(chunk.values[i]));
      chunk.bytes += chunk.values[i].size() + (chunk.keys[i] ? chunk.keys[i]->size() : 0);
    }
    return Status::OK();
  };
  if (!value_format.empty()) {
    auto source = compiled->catalog->GetSource("CDR");
    if (!source.ok()) return Fail("find the CDR source", source.status());
    auto created = sidestream::bench::RegistryCodec::Create(
        value_format, source->topic,
        sidestream::runtime::FormatColumns(*source, sidestream::catalog::ColumnRole::kValue));
    if (!created.ok()) return Fail("--value-format", created.status());
    codec = std::move(*created);
    Messages chunk;
    input_bytes = 0;
    stream.Rewind();
    while (stream.Next(chunk)) {
      Status encoded = encode(chunk);
      if (!encoded.ok()) return Fail("encode " + value_format, encoded);
      input_bytes += chunk.bytes;
    }
  }
  const Messages table = workload.subscriber_table ? SubscriberRows(subscribers) : Messages();
  const FieldTree ceiling_fields(workload.fields);

  std::vector<Measurement> engine_runs, ceiling_runs;
  json rocksdb_files = json::array();  // per run, --state rocksdb
  std::vector<double> rss_before_run;
  RunOutput output;
  size_t checksum = 0;
  for (int run = 0; run < runs; ++run) {
    // Build the pipelines outside the clock: the clock runs while the messages are fed.
    output = RunOutput();
    Pipelines pipelines;
    state.run = run;
    state.stores.clear();
    state.changelog_records = state.changelog_bytes = 0;
    Status status = CreatePipelines(compiled->queries, pipelines, output, state);
    if (!status.ok()) return Fail("create pipelines", status);
    // The table a query joins is loaded first, outside the clock.
    {
      Feeder loader(pipelines, /*commit_every=*/0);
      status = loader.Feed(PipelineInputs(table, "subscribers", pipelines));
      if (!status.ok()) return Fail("load table", status);
    }
    // What the process holds before the clock starts, so that the peak's growth over it
    // (the state) can be told apart.
    sidestream::bench::ResetPeakRss();
    rss_before_run.push_back(sidestream::bench::PeakRssMb());
    // Each chunk is generated and made into input messages with the clock stopped.
    sidestream::bench::Stopwatch engine_clock;
    Feeder feeder(pipelines, state.commit_every);
    stream.Rewind();
    Messages chunk;
    while (status.ok() && stream.Next(chunk)) {
      status = encode(chunk);
      if (!status.ok()) break;
      const auto inputs = PipelineInputs(chunk, sidestream::bench::InputTopic(workload), pipelines);
      engine_clock.Start();
      status = feeder.Feed(inputs);
      engine_clock.Stop();
    }
    if (status.ok()) {
      engine_clock.Start();
      status = feeder.Finish();
      engine_clock.Stop();
    }
    engine_runs.push_back(engine_clock.Result(messages_count));
    if (!status.ok()) return Fail("process", status);
    for (const auto& pipeline : pipelines) output.counters += pipeline->counters();
    if (state.kind == "rocksdb") {
      sidestream::state::RocksDbKeyValueStore::FileStats sum;
      for (const auto* store : state.stores) {
        const auto stats = store->GetFileStats();
        sum.flushes += stats.flushes;
        sum.compactions += stats.compactions;
        sum.compaction_write_gb += stats.compaction_write_gb;
        sum.live_files += stats.live_files;
        sum.level0_files += stats.level0_files;
      }
      rocksdb_files.push_back({{"flushes", sum.flushes},
                               {"compactions", sum.compactions},
                               {"compaction_write_gb", sum.compaction_write_gb},
                               {"live_sst_files_at_end", sum.live_files},
                               {"level0_files_at_end", sum.level0_files}});
      std::fprintf(stderr, "%s run %d: RocksDB %s\n", workload.name.c_str(), run,
                   rocksdb_files.back().dump().c_str());
    }
    pipelines.clear();
    if (state.kind == "rocksdb") {
      // This run's stores: the next run starts empty, and the disk stays small.
      for (const auto& entry :
           std::filesystem::directory_iterator(std::filesystem::path(state_dir) / "bench")) {
        if (entry.is_directory()) std::filesystem::remove_all(entry.path());
      }
    }

    sidestream::bench::Stopwatch ceiling_clock;
    simdjson::ondemand::parser parser;
    std::vector<char> buffer;
    stream.Rewind();
    while (status.ok() && stream.Next(chunk)) {
      status = encode(chunk);
      if (!status.ok()) break;
      ceiling_clock.Start();
      if (codec) {
        auto touched = codec->DecodeCeiling(chunk.values, workload.fields);
        if (touched.ok()) checksum += *touched;
        status = touched.status();
      } else {
        status = DecodeCeiling(chunk, ceiling_fields, parser, buffer, checksum);
      }
      ceiling_clock.Stop();
    }
    ceiling_runs.push_back(ceiling_clock.Result(messages_count));
    if (!status.ok()) return Fail("ceiling", status);
    std::fprintf(stderr, "%s run %d: %.0f records/s (%.0f per core), ceiling %.0f records/s\n",
                 workload.name.c_str(), run, engine_runs.back().rate,
                 engine_runs.back().rate_per_core, ceiling_runs.back().rate);
  }

  json engine = sidestream::bench::Summarize(engine_runs);
  json ceiling = sidestream::bench::Summarize(ceiling_runs);
  const double ratio = engine["records_per_s_per_core"]["median"].get<double>() /
                       ceiling["records_per_s_per_core"]["median"].get<double>();
  json report = {
      {"workload", workload.name},
      {"value_format", value_format.empty() ? "JSON" : value_format},
      {"description", workload.description},
      {"sql", compiled->sql},
      {"messages", messages_count},
      {"runs", runs},
      {"subscribers", subscribers},
      {"distinct_callers", distinct_callers},
      {"input_mb", static_cast<double>(input_bytes) / 1e6},
      {"average_message_bytes", static_cast<double>(input_bytes) / messages_count},
      {"engine", engine},
      {"ceiling", ceiling},
      {"ceiling_fields", workload.fields},
      {"ratio_to_ceiling", ratio},
      {"queries", compiled->queries.size()},
      {"results_per_run", output.results},
      {"intermediate_results_per_run", output.intermediate_results},
      {"side_outputs_per_run", output.side_outputs},
      {"late_records", output.counters.late_records},
      {"decode_errors", output.counters.decode_errors},
      {"evaluation_errors", output.counters.evaluation_errors},
      {"peer_name", workload.peer_name},
      {"peers", workload.peers},
      {"peer_per_core", workload.peer_per_core},
      {"target", workload.target},
      {"target_per_core", workload.target_per_core},
      {"target_ratio", workload.target_ratio},
      {"checksum", checksum},
      {"rss_before_run_mb", sidestream::bench::Stats(rss_before_run)},
      {"state", state.kind},
      {"commit_every", state.commit_every},
      {"changelog_records_per_run", state.changelog_records},
      {"changelog_mb_per_run", static_cast<double>(state.changelog_bytes) / 1e6},
      {"exactly_once", state.exactly_once},
      {"rocksdb_files", rocksdb_files},
  };
  if (state.kind == "rocksdb") {
    state.provider.reset();
    std::filesystem::remove_all(state_dir);
  }
  std::printf("%s\n", report.dump().c_str());
  return 0;
}
