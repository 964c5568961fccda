#include "server/cluster/kafka_engine.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <set>

#include "analyzer/analyzer.h"
#include "connectors/kafka/batch_consumer.h"
#include "connectors/kafka/batch_producer.h"
#include "connectors/kafka/embedded_broker.h"
#include "connectors/kafka/partition_reader.h"
#include "connectors/kafka/topic_admin.h"
#include "sql/parser.h"

namespace sidestream::cluster {

namespace {
constexpr size_t kBatchSize = 10000;
// How long a join task waits for an input that has records on the broker but none fetched
// before it runs without it (Kafka Streams' max.task.idle.ms waits for such lag too).
constexpr auto kMaxTaskIdle = std::chrono::seconds(5);
// Marks a repartition-topic row that undoes an earlier row (a table update's old value).
constexpr std::string_view kRetractHeader = "sidestream.retract";
}  // namespace

std::optional<runtime::WindowBounds> SplitWindowedKey(std::string_view& key) {
  const size_t at = key.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  const size_t slash = key.find('/', at);
  if (slash == std::string_view::npos) return std::nullopt;
  runtime::WindowBounds window;
  const char* end = key.data() + key.size();
  auto start = std::from_chars(key.data() + at + 1, key.data() + slash, window.start);
  auto finish = std::from_chars(key.data() + slash + 1, end, window.end);
  if (start.ec != std::errc() || start.ptr != key.data() + slash || finish.ec != std::errc() ||
      finish.ptr != end) {
    return std::nullopt;
  }
  key = key.substr(0, at);
  return window;
}

void AppendWindowedKey(std::string_view key, int64_t start, int64_t end, std::string& out) {
  char number[24];
  out.append(key);
  out += '@';
  out.append(number, std::to_chars(number, number + sizeof(number), start).ptr);
  out += '/';
  out.append(number, std::to_chars(number, number + sizeof(number), end).ptr);
}

/// One persistent query: its consumer and one pipeline (task) per assigned partition.
struct KafkaEngine::RunningQuery {
  std::string id;
  std::vector<std::string> source_topics;  // a join's: left to right
  std::vector<std::string> input_topics;   // the distinct ones (two streams may share one)
  std::vector<size_t> input_of_source;     // per source: its topic's index in input_topics
  std::vector<bool> windowed_sources;      // their keys carry windows: "key@start/end"
  analyzer::LogicalOperatorPtr plan;       // outlives the tasks built from it
  std::map<std::string, std::string> properties;
  offline::PipelineCallbacks callbacks;
  std::unique_ptr<kafka::BatchConsumer> consumer;
  std::map<int32_t, std::unique_ptr<offline::QueryPipeline>> tasks;
  // Per (source, partition): the offset to commit.
  std::map<std::pair<size_t, int32_t>, int64_t> next_offsets;
  std::map<int32_t, int64_t> idle_stream_time;  // per partition: the newest timestamp seen
  int64_t consumed = 0;
  offline::PipelineCounters closed_tasks;  // counters of tasks already closed
  std::chrono::steady_clock::time_point last_input = std::chrono::steady_clock::now();
  kafka::MessageBatch batch;
  std::vector<offline::InputMessage> inputs;  // reused per poll
  std::vector<offline::InputMessage> merged;  // a join task's inputs in timestamp order
  bool reads_changes = false;  // reads a repartition topic, whose rows may be retractions
  // A join task's inputs: per (topic, partition), where reading started (committed offset or
  // low watermark), for a partition that delivered nothing yet; per partition, since when
  // the task has waited for an input (ProcessableCount).
  std::map<std::pair<std::string, int32_t>, int64_t> start_offsets;
  std::map<int32_t, std::chrono::steady_clock::time_point> waiting_since;
};

KafkaEngine::~KafkaEngine() {
  for (auto& query : queries_) {
    if (query->consumer) (void)query->consumer->Close();
  }
  queries_.clear();
  producer_.reset();
  admin_.reset();
  broker_.reset();
}

Result<std::unique_ptr<KafkaEngine>> KafkaEngine::Start(KafkaEngineOptions options) {
  std::unique_ptr<KafkaEngine> engine(new KafkaEngine());
  engine->options_ = options;
  if (options.bootstrap_servers.empty()) {
    ASSIGN_OR_RAISE(engine->broker_, kafka::EmbeddedBroker::Start());
    engine->bootstrap_servers_ = engine->broker_->bootstrap_servers();
  } else {
    engine->bootstrap_servers_ = options.bootstrap_servers;
  }
  kafka::ClientConfig client{engine->bootstrap_servers_, options.client_properties};
  ASSIGN_OR_RAISE(engine->admin_, kafka::TopicAdmin::Create(client));
  kafka::ProducerOptions producer;
  producer.client = client;
  ASSIGN_OR_RAISE(engine->producer_, kafka::BatchProducer::Create(producer));
  ASSIGN_OR_RAISE(engine->catalog_, catalog::Catalog::Open(":memory:"));
  return engine;
}

Status KafkaEngine::EnsureTopic(const std::string& topic, int partitions, bool internal) {
  // An internal topic keeps records whatever their event time, as Kafka Streams' are:
  // time-based retention would delete old-timestamped records before they are read.
  static const kafka::TopicAdmin::TopicConfigs kInternal = {{"retention.ms", "-1"}};
  return admin_->EnsureTopic(topic, partitions > 0 ? partitions : options_.default_partitions, 1,
                             std::chrono::seconds(30),
                             internal ? kInternal : kafka::TopicAdmin::TopicConfigs());
}

Status KafkaEngine::Execute(std::string_view sql) {
  ASSIGN_OR_RAISE(auto statements, sql::ParseScript(sql));
  for (const auto& statement : statements) {
    analyzer::Analyzer analyzer(*catalog_, session_properties_);
    ASSIGN_OR_RAISE(auto analyzed, analyzer.Analyze(*statement));
    if (statement->kind == sql::StatementKind::kCreateSource && analyzed.new_source) {
      // ksqlDB requires the topic to exist unless PARTITIONS is given; the embedded
      // broker starts empty, so there Sidestream creates it.
      const auto& source = *analyzed.new_source;
      if (!admin_->PartitionCount(source.topic).ok()) {
        if (source.partitions == 0 && !embedded()) {
          return Status::NotFound("Topic '" + source.topic + "' does not exist",
                                  statement->location, "create it, or add PARTITIONS=n");
        }
        RETURN_NOT_OK(EnsureTopic(source.topic, source.partitions));
      }
    }
    std::string message;
    ASSIGN_OR_RAISE(auto query, offline::ApplyStatement(*statement, analyzed, *catalog_,
                                                        session_properties_, message));
    if (query) RETURN_NOT_OK(StartQuery(query->id, std::move(query->plan), query->properties));
  }
  return Status::OK();
}

std::string RepartitionTopic(const std::string& application_id, const std::string& query_id) {
  return application_id + "_" + query_id + "-repartition";
}

std::string ChangelogTopic(const std::string& application_id, const std::string& query_id,
                           const std::string& store) {
  return application_id + "_" + query_id + "-" + store + "-changelog";
}

namespace {

analyzer::BoundExpressionPtr ColumnReference(const analyzer::LogicalColumn& column, int index) {
  auto reference = std::make_unique<analyzer::BoundExpression>();
  reference->kind = analyzer::BoundKind::kColumn;
  reference->type = column.type;
  reference->sql = column.name;
  reference->name = column.name;
  reference->column_index = index;
  return reference;
}

// The scans of a plan, left to right: the order of a pipeline's sources.
void CollectScans(const analyzer::LogicalOperator& node,
                  std::vector<const analyzer::LogicalOperator*>& scans) {
  if (node.kind == analyzer::LogicalOperatorKind::kScan) scans.push_back(&node);
  for (const auto& child : node.children) CollectScans(*child, scans);
}

// Whether `expression` is the only key column of the scan whose columns start at `offset`.
bool IsScanKey(const analyzer::BoundExpression& expression, const analyzer::LogicalOperator& scan,
               int offset) {
  int keys = 0;
  for (const auto& column : scan.source.columns) keys += column.role == catalog::ColumnRole::kKey;
  int index = expression.column_index - offset;
  return keys == 1 && expression.kind == analyzer::BoundKind::kColumn && index >= 0 &&
         index < static_cast<int>(scan.source.columns.size()) &&
         scan.source.columns[index].role == catalog::ColumnRole::kKey;
}

}  // namespace

Status KafkaEngine::CheckCopartitioned(const analyzer::LogicalOperator& plan,
                                       const std::vector<const analyzer::LogicalOperator*>& scans) {
  // A task joins partition p of every input: that pairs the right records only when
  // both topics are partitioned alike by the join key. Kafka Streams checks the same.
  std::vector<int> counts;
  for (const auto* scan : scans) {
    ASSIGN_OR_RAISE(int count, admin_->PartitionCount(scan->source.topic));
    counts.push_back(count);
  }
  if (std::all_of(counts.begin(), counts.end(), [](int count) { return count == 1; })) {
    return Status::OK();
  }
  const analyzer::LogicalOperator* join = &plan;
  while (join->kind != analyzer::LogicalOperatorKind::kJoin) join = join->children.at(0).get();
  const auto& left = *join->children.at(0);
  const auto& right = *join->children.at(1);
  bool copartitioned = scans.size() == 2 && counts[0] == counts[1] &&
                       left.kind == analyzer::LogicalOperatorKind::kScan &&
                       left.source.key_format == right.source.key_format &&
                       IsScanKey(*join->expressions.at(0), left, 0) &&
                       IsScanKey(*join->expressions.at(1), right, join->left_width);
  if (copartitioned) return Status::OK();
  return Status::NotSupported(
      "On Kafka, a join needs co-partitioned inputs: " + scans[0]->source.topic + " (" +
          std::to_string(counts[0]) + " partitions) and " + scans[1]->source.topic + " (" +
          std::to_string(counts[1]) +
          " partitions) must be joined on their key columns, with the same key format and "
          "partition count. Re-keying a join's input through a repartition topic is not "
          "built yet.",
      SourceLocation{}, "join on the key columns, or use single-partition topics");
}

Status KafkaEngine::StartQuery(const std::string& query_id, analyzer::LogicalOperatorPtr plan,
                               const std::map<std::string, std::string>& properties) {
  // Find a Repartition below the Sink: grouping by anything but the message key.
  analyzer::LogicalOperator* parent = plan.get();
  while (!parent->children.empty() &&
         parent->children[0]->kind != analyzer::LogicalOperatorKind::kRepartition) {
    parent = parent->children[0].get();
  }
  const analyzer::LogicalOperator* scan = plan.get();
  while (!scan->children.empty()) scan = scan->children[0].get();
  if (parent->children.empty() || parent->kind != analyzer::LogicalOperatorKind::kAggregate) {
    return StartStage(query_id, std::move(plan), properties);
  }
  analyzer::LogicalOperatorPtr repartition = std::move(parent->children[0]);
  const analyzer::LogicalOperator& lower = *repartition->children[0];
  const analyzer::Schema regrouped = repartition->output;
  const std::string topic = RepartitionTopic(options_.application_id, query_id);
  // The internal topic's columns: the lower layout's, named uniquely (a join's layout has
  // a ROWTIME per source, and columns both sources have).
  std::vector<catalog::Column> layout;
  std::set<std::string> names;
  for (size_t i = 0; i < lower.output.columns.size(); ++i) {
    const analyzer::LogicalColumn& column = lower.output.columns[i];
    std::string name = column.name;
    if (!names.insert(name).second) name += "_" + std::to_string(i);
    names.insert(name);
    layout.push_back({name, column.type, catalog::ColumnRole::kValue, ""});
  }

  // Stage 2: the internal topic, read back with the original row layout (every column a
  // value, so bound column indices hold), feeds the aggregate. Event time travels as the
  // message timestamp. It is a stream of rows to add and (for a table) to undo.
  auto internal_scan = std::make_unique<analyzer::LogicalOperator>();
  internal_scan->kind = analyzer::LogicalOperatorKind::kScan;
  internal_scan->source = scan->source;
  internal_scan->source.type = catalog::SourceType::kStream;
  internal_scan->source.name = topic;
  internal_scan->source.topic = topic;
  internal_scan->source.key_format = "NONE";
  internal_scan->source.value_format = "JSON";
  internal_scan->source.timestamp_column.reset();
  internal_scan->source.properties.clear();
  internal_scan->source.columns = layout;
  internal_scan->output = regrouped;
  for (auto& column : internal_scan->output.columns) column.role = catalog::ColumnRole::kValue;
  parent->children[0] = std::move(internal_scan);

  // Stage 1: the rows, keyed by the grouping values, into the internal topic. The
  // Repartition stays in the plan: over a table it sends each update as the retraction
  // of the key's old row (marked with a header), then the new row (Kafka Streams'
  // KTable.groupBy), so the groups' owners can undo the old row wherever it went.
  auto project = std::make_unique<analyzer::LogicalOperator>();
  project->kind = analyzer::LogicalOperatorKind::kProject;
  for (size_t i = 0; i < repartition->expressions.size(); ++i) {
    const auto& key = repartition->expressions[i];
    project->output.columns.push_back(
        {"SIDESTREAM_GROUP_" + std::to_string(i), key->type, catalog::ColumnRole::kKey});
    project->expressions.push_back(key->Clone());
  }
  // Only the columns stage 2 reads travel; it reads the others as NULL, never looking.
  const std::vector<bool> used = offline::UsedSourceColumns(*plan, lower.output.columns.size());
  for (size_t i = 0; i < lower.output.columns.size(); ++i) {
    if (!used[i]) continue;
    analyzer::LogicalColumn column = lower.output.columns[i];
    project->expressions.push_back(ColumnReference(column, static_cast<int>(i)));
    column.name = layout[i].name;
    column.role = catalog::ColumnRole::kValue;
    project->output.columns.push_back(column);
  }
  catalog::SourceDescription internal;
  internal.name = topic;
  internal.topic = topic;
  internal.key_format = "JSON";
  internal.value_format = "JSON";
  internal.partitions = 0;  // as many as the source topic has (StartStage), as Kafka Streams does
  for (const auto& column : project->output.columns) {
    internal.columns.push_back({column.name, column.type, column.role, ""});
  }
  auto stage_one = std::make_unique<analyzer::LogicalOperator>();
  stage_one->kind = analyzer::LogicalOperatorKind::kSink;
  stage_one->source = internal;
  stage_one->output = project->output;
  project->children.push_back(std::move(repartition));
  stage_one->children.push_back(std::move(project));

  RETURN_NOT_OK(StartStage(query_id + "-repartition", std::move(stage_one), {}, Stage::kFirst));
  return StartStage(query_id, std::move(plan), properties, Stage::kSecond);
}

Status KafkaEngine::StartStage(const std::string& query_id, analyzer::LogicalOperatorPtr plan,
                               const std::map<std::string, std::string>& properties, Stage stage) {
  auto query = std::make_unique<RunningQuery>();
  query->id = query_id;
  query->properties = properties;
  query->reads_changes = stage == Stage::kSecond;
  const catalog::SourceDescription sink = plan->source;
  std::vector<const analyzer::LogicalOperator*> scans;
  CollectScans(*plan, scans);
  for (const auto* scan : scans) {
    const std::string& topic = scan->source.topic;
    query->source_topics.push_back(topic);
    query->windowed_sources.push_back(scan->source.window_type != catalog::WindowType::kNone);
    auto input = std::find(query->input_topics.begin(), query->input_topics.end(), topic);
    query->input_of_source.push_back(static_cast<size_t>(input - query->input_topics.begin()));
    if (input == query->input_topics.end()) query->input_topics.push_back(topic);
  }
  if (scans.size() > 1) RETURN_NOT_OK(CheckCopartitioned(*plan, scans));
  // The sink topic gets the source's partition count unless PARTITIONS says otherwise; the
  // changelogs get one partition per task.
  auto counted = admin_->PartitionCount(scans.front()->source.topic);
  const int source_partitions = counted.ok() ? *counted : options_.default_partitions;
  const int partitions = sink.partitions > 0 ? sink.partitions : source_partitions;
  RETURN_NOT_OK(EnsureTopic(sink.topic, partitions, /*internal=*/stage == Stage::kFirst));

  // Each task gets its own copy of the callback, and so its own key buffer.
  query->callbacks.on_result =
      [this, sink, windowed = std::string()](
          const std::string* key, const std::string* value, int64_t timestamp,
          const std::optional<runtime::WindowBounds>& window, bool retract) mutable {
        if (key && window) {
          windowed.clear();
          AppendWindowedKey(*key, window->start, window->end, windowed);
        }
        std::string_view key_view = window && key ? std::string_view(windowed)
                                    : key         ? std::string_view(*key)
                                                  : std::string_view();
        ++produced_;
        static constexpr kafka::ProduceHeader kRetraction[] = {{kRetractHeader, "true"}};
        return producer_->Produce(
            sink.topic, -1, key_view, value ? std::string_view(*value) : std::string_view(),
            timestamp, retract ? std::span(kRetraction) : std::span<const kafka::ProduceHeader>());
      };
  query->callbacks.on_side_output = [this](const std::string& topic, const std::string* key,
                                           const std::string& value, int64_t timestamp) {
    ++produced_;
    return producer_->Produce(topic, -1, key ? std::string_view(*key) : std::string_view(), value,
                              timestamp);
  };
  // Build one pipeline now so that a plan that cannot run fails at CREATE time; it also
  // names the stores, whose changelog topics are made here (compacted: the latest value of
  // each key is what a restore needs).
  std::vector<std::string> store_names;
  ASSIGN_OR_RAISE(auto probe, offline::QueryPipeline::Create(
                                  query_id, *plan, properties, query->callbacks,
                                  [&store_names](const std::string& name) {
                                    store_names.push_back(name);
                                    return std::make_unique<runtime::InMemoryKeyValueStore>();
                                  }));
  probe.reset();
  static const kafka::TopicAdmin::TopicConfigs kChangelog = {{"cleanup.policy", "compact"}};
  for (const std::string& name : store_names) {
    RETURN_NOT_OK(admin_->EnsureTopic(ChangelogTopic(options_.application_id, query_id, name),
                                      source_partitions, 1, std::chrono::seconds(30), kChangelog));
  }
  query->plan = std::move(plan);

  kafka::ConsumerOptions consumer;
  consumer.client = kafka::ClientConfig{bootstrap_servers_, options_.client_properties};
  if (embedded()) {
    // The mock broker answers a fetch that finds no data only after the full wait (500 ms
    // by default), and each stage of a pipeline pays it: W6's p50 latency was 1.1 s with
    // the default, 37 ms with 10 ms. The user's properties come later and win.
    consumer.client.properties.insert(consumer.client.properties.begin(),
                                      {"fetch.wait.max.ms", "10"});
  }
  consumer.group_id = options_.application_id + "_" + query_id;
  if (scans.size() > 1) {
    // The range assignor gives each member the same partitions of every co-partitioned
    // topic, so a task's join inputs stay together (cooperative-sticky does not promise it).
    consumer.client.properties.insert(consumer.client.properties.begin(),
                                      {"partition.assignment.strategy", "range"});
  }
  consumer.topics = query->input_topics;
  RunningQuery* self = query.get();
  consumer.on_rebalance = [this, self](const kafka::RebalanceEvent& event) {
    std::vector<int32_t> partitions;
    for (const auto& partition : event.partitions) partitions.push_back(partition.partition);
    if (event.kind == kafka::RebalanceEvent::Kind::kAssigned) {
      for (int32_t partition : partitions) (void)CreateTask(*self, partition);
    } else {
      (void)CloseTasks(*self, partitions,
                       /*commit=*/event.kind == kafka::RebalanceEvent::Kind::kRevoked);
    }
  };
  ASSIGN_OR_RAISE(query->consumer, kafka::BatchConsumer::Create(consumer));
  queries_.push_back(std::move(query));
  return Status::OK();
}

Status KafkaEngine::CreateTask(RunningQuery& query, int32_t partition) {
  if (query.tasks.count(partition)) return Status::OK();
  // Each store writes its changes to partition `partition` of its changelog topic at every
  // commit, and starts from what that partition holds: the task's state, wherever it ran.
  std::map<std::string, runtime::ChangelogStore*> stores;
  auto factory = [this, &query, partition, &stores](const std::string& name) {
    auto store = std::make_unique<runtime::ChangelogStore>(
        [this, topic = ChangelogTopic(options_.application_id, query.id, name), partition](
            std::string_view key, const std::string* value) {
          ++changelog_records_;
          return producer_->Produce(topic, partition, key,
                                    value ? std::string_view(*value) : std::string_view(), 0);
        });
    stores[name] = store.get();
    return store;
  };
  ASSIGN_OR_RAISE(auto task, offline::QueryPipeline::Create(query.id, *query.plan, query.properties,
                                                            query.callbacks, factory));
  const kafka::ClientConfig client{bootstrap_servers_, options_.client_properties};
  for (const auto& [name, store] : stores) {
    const std::string topic = ChangelogTopic(options_.application_id, query.id, name);
    auto restored =
        kafka::ReadPartitionToEnd(client, topic, partition,
                                  [store = store](std::optional<std::string_view> key,
                                                  std::optional<std::string_view> value) {
                                    if (!key)
                                      return Status::Corruption("a changelog record has no key");
                                    return store->Restore(*key, value ? &*value : nullptr);
                                  });
    if (!restored.ok()) {
      return Status(restored.status().code(), "restoring query " + query.id + " partition " +
                                                  std::to_string(partition) + " from " + topic +
                                                  ": " + restored.status().message());
    }
    restored_records_ += *restored;
  }
  RETURN_NOT_OK(task->RebuildIndexes());
  // The idle wall-clock close counts on from the restored stream time.
  int64_t& newest = query.idle_stream_time[partition];
  newest = std::max(newest, task->stream_time());
  query.tasks[partition] = std::move(task);
  return Status::OK();
}

Status KafkaEngine::Commit(RunningQuery& query, const std::vector<int32_t>& partitions) {
  std::vector<kafka::TopicPartitionOffset> offsets;
  for (const auto& [partition, task] : query.tasks) {
    if (!partitions.empty() &&
        std::find(partitions.begin(), partitions.end(), partition) == partitions.end()) {
      continue;
    }
    RETURN_NOT_OK(task->Flush());
    for (size_t source = 0; source < query.source_topics.size(); ++source) {
      auto next = query.next_offsets.find({source, partition});
      if (next != query.next_offsets.end()) {
        offsets.push_back({query.source_topics[source], partition, next->second});
      }
    }
  }
  RETURN_NOT_OK(producer_->Flush(std::chrono::seconds(30)));
  return offsets.empty() ? Status::OK() : query.consumer->Commit(offsets);
}

Status KafkaEngine::CommitAll() {
  for (auto& query : queries_) RETURN_NOT_OK(Commit(*query, {}));
  last_commit_ = std::chrono::steady_clock::now();
  return Status::OK();
}

Status KafkaEngine::CloseTasks(RunningQuery& query, const std::vector<int32_t>& partitions,
                               bool commit) {
  if (commit && !partitions.empty()) RETURN_NOT_OK(Commit(query, partitions));
  for (int32_t partition : partitions) {
    auto task = query.tasks.find(partition);
    if (task == query.tasks.end()) continue;
    query.closed_tasks += task->second->counters();
    query.tasks.erase(task);
    for (size_t source = 0; source < query.source_topics.size(); ++source) {
      query.next_offsets.erase({source, partition});
    }
  }
  return Status::OK();
}

Status KafkaEngine::ProcessPartitionRun(RunningQuery& query,
                                        std::span<const offline::InputMessage> run) {
  int32_t partition = run.front().partition;
  if (!query.tasks.count(partition)) RETURN_NOT_OK(CreateTask(query, partition));
  RETURN_NOT_OK(query.tasks[partition]->ProcessBatch(run));
  int64_t& newest = query.idle_stream_time[partition];
  for (const auto& message : run) {
    query.next_offsets[{message.source, partition}] = message.offset + 1;
    newest = std::max(newest, message.timestamp);
  }
  return Status::OK();
}

Result<int64_t> KafkaEngine::NextOffset(RunningQuery& query, const std::string& topic,
                                        int32_t partition) {
  for (size_t source = 0; source < query.source_topics.size(); ++source) {
    if (query.source_topics[source] != topic) continue;
    auto found = query.next_offsets.find({source, partition});
    if (found != query.next_offsets.end()) return found->second;
  }
  auto [known, inserted] = query.start_offsets.try_emplace({topic, partition}, -1);
  if (inserted) {
    ASSIGN_OR_RAISE(auto committed, query.consumer->Committed({{topic, partition}}));
    known->second = committed.empty() ? -1 : committed[0].offset;
  }
  if (known->second >= 0) return known->second;
  // Nothing committed: reading starts at the earliest offset (auto.offset.reset).
  return query.consumer->CachedWatermarks({topic, partition}).first;
}

Result<size_t> KafkaEngine::ProcessableCount(RunningQuery& query,
                                             std::span<const offline::InputMessage> merged) {
  const int32_t partition = merged.front().partition;
  const std::vector<std::string>& topics = query.input_topics;
  if (topics.size() < 2) return merged.size();
  auto topic_of = [&](const offline::InputMessage& message) {
    return query.input_of_source[message.source];
  };
  std::vector<size_t> left(topics.size(), 0);  // records of each topic not yet passed
  std::vector<int64_t> next(topics.size(), -1);
  for (const auto& message : merged) {
    const size_t topic = topic_of(message);
    ++left[topic];
    next[topic] = std::max(next[topic], message.offset + 1);
  }
  // Whether the broker holds records of a topic past what this poll fetched.
  std::vector<bool> behind(topics.size(), false);
  for (size_t topic = 0; topic < topics.size(); ++topic) {
    if (next[topic] < 0) {
      ASSIGN_OR_RAISE(next[topic], NextOffset(query, topics[topic], partition));
    }
    const int64_t high = query.consumer->CachedWatermarks({topics[topic], partition}).second;
    behind[topic] = high < 0 || next[topic] < 0 || next[topic] < high;
  }
  // Records run in timestamp order while every topic that is behind still has some here:
  // an unfetched record of that topic may be older than the next one.
  size_t ready = 0;
  for (; ready < merged.size(); ++ready) {
    const bool copy = ready > 0 && merged[ready].offset == merged[ready - 1].offset &&
                      topic_of(merged[ready]) == topic_of(merged[ready - 1]);
    bool starved = false;
    for (size_t topic = 0; topic < topics.size(); ++topic) {
      starved = starved || (behind[topic] && left[topic] == 0);
    }
    if (starved && !copy) break;
    --left[topic_of(merged[ready])];
  }
  if (ready > 0) {
    query.waiting_since.erase(partition);
    return ready;
  }
  const auto now = std::chrono::steady_clock::now();
  const auto since = query.waiting_since.try_emplace(partition, now).first;
  if (now - since->second < kMaxTaskIdle) return ready;
  query.waiting_since.erase(partition);  // waited long enough: run without the missing input
  return merged.size();
}

Result<int64_t> KafkaEngine::FetchAgain(RunningQuery& query,
                                        std::span<const offline::InputMessage> unprocessed) {
  std::map<std::string, int64_t> first;                // per topic: its first unprocessed offset
  std::set<std::pair<std::string, int64_t>> messages;  // a message read by two sources once
  for (const auto& message : unprocessed) {
    const std::string& topic = query.source_topics[message.source];
    auto [offset, inserted] = first.try_emplace(topic, message.offset);
    if (!inserted) offset->second = std::min(offset->second, message.offset);
    messages.insert({topic, message.offset});
  }
  std::vector<kafka::TopicPartitionOffset> offsets;
  for (const auto& [topic, offset] : first) {
    offsets.push_back({topic, unprocessed.front().partition, offset});
  }
  RETURN_NOT_OK(query.consumer->Seek(offsets));
  return static_cast<int64_t>(messages.size());
}

Result<int64_t> KafkaEngine::PollQuery(RunningQuery& query, int wait_ms) {
  RETURN_NOT_OK(query.consumer->Poll(kBatchSize, std::chrono::milliseconds(wait_ms), &query.batch));
  auto now = std::chrono::steady_clock::now();
  if (query.batch.empty()) {
    // Every partition quiet: let stream time follow the wall clock so windows close.
    auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(now - query.last_input);
    if (idle.count() >= idle_timeout_ms_) {
      for (auto& [partition, task] : query.tasks) {
        (void)partition;
        RETURN_NOT_OK(task->AdvanceStreamTime(query.idle_stream_time[partition] + idle.count()));
      }
    }
    return int64_t{0};
  }
  query.last_input = now;
  // A poll interleaves partitions: each run of one partition's messages is one batch
  // for its task. The views borrow librdkafka's buffers until the batch is cleared.
  std::vector<offline::InputMessage>& inputs = query.inputs;
  inputs.clear();
  // A join's inputs are gathered first, to be merged by timestamp per task (below).
  const bool merge = query.source_topics.size() > 1;
  for (size_t i = 0; i < query.batch.size(); ++i) {
    kafka::MessageView message = query.batch[i];
    if (!merge && !inputs.empty() && inputs.back().partition != message.partition()) {
      RETURN_NOT_OK(ProcessPartitionRun(query, inputs));
      inputs.clear();
    }
    // Each source reading the message's topic gets it (two streams may share a topic).
    const size_t sources = query.source_topics.size();
    for (size_t source = 0; source < sources; ++source) {
      if (sources > 1 && message.topic() != query.source_topics[source]) continue;
      offline::InputMessage& input = inputs.emplace_back();
      input.source = source;
      input.key = message.has_key() ? std::optional<std::string_view>(message.key()) : std::nullopt;
      if (query.windowed_sources[source] && input.key) {
        input.window = SplitWindowedKey(*input.key);
      } else {
        input.window.reset();
      }
      input.value =
          message.has_value() ? std::optional<std::string_view>(message.value()) : std::nullopt;
      input.timestamp = message.timestamp();
      input.partition = message.partition();
      input.offset = message.offset();
      std::string_view unused;
      input.retract = query.reads_changes && message.FindHeader(kRetractHeader, &unused);
    }
  }
  int64_t fetched_again = 0;  // messages put back, not consumed yet
  if (merge) {
    std::stable_sort(inputs.begin(), inputs.end(),
                     [](const auto& a, const auto& b) { return a.partition < b.partition; });
    for (size_t begin = 0; begin < inputs.size();) {
      size_t end = begin;
      while (end < inputs.size() && inputs[end].partition == inputs[begin].partition) ++end;
      std::span<offline::InputMessage> run(inputs.data() + begin, end - begin);
      offline::MergeSourcesByTimestamp(run, query.merged);
      ASSIGN_OR_RAISE(size_t ready, ProcessableCount(query, query.merged));
      if (ready > 0) {
        RETURN_NOT_OK(ProcessPartitionRun(query, std::span(query.merged).first(ready)));
      }
      if (ready < query.merged.size()) {
        ASSIGN_OR_RAISE(int64_t again, FetchAgain(query, std::span(query.merged).subspan(ready)));
        fetched_again += again;
      }
      begin = end;
    }
  } else if (!inputs.empty()) {
    RETURN_NOT_OK(ProcessPartitionRun(query, inputs));
  }
  inputs.clear();
  int64_t count = static_cast<int64_t>(query.batch.size()) - fetched_again;
  query.consumed += count;
  query.batch.Clear();
  return count;
}

Result<int64_t> KafkaEngine::RunOnce(int max_wait_ms) {
  int64_t processed = 0;
  int wait = queries_.empty() ? 0 : std::max(1, max_wait_ms / static_cast<int>(queries_.size()));
  for (auto& query : queries_) {
    ASSIGN_OR_RAISE(int64_t count, PollQuery(*query, wait));
    processed += count;
  }
  auto since_commit = std::chrono::steady_clock::now() - last_commit_;
  if (since_commit >= std::chrono::milliseconds(options_.commit_interval_ms)) {
    RETURN_NOT_OK(CommitAll());
  }
  return processed;
}

Status KafkaEngine::Run() {
  while (!stopping_) {
    ASSIGN_OR_RAISE(int64_t processed, RunOnce(200));
    (void)processed;
  }
  return CommitAll();
}

EngineProgress KafkaEngine::progress() const {
  EngineProgress progress;
  progress.produced = produced_;
  progress.changelog_records = changelog_records_;
  progress.restored_records = restored_records_;
  for (const auto& query : queries_) {
    progress.consumed += query->consumed;
    offline::PipelineCounters counters = query->closed_tasks;
    for (const auto& [partition, task] : query->tasks) counters += task->counters();
    progress.late_records += counters.late_records;
    progress.decode_errors += counters.decode_errors;
    progress.evaluation_errors += counters.evaluation_errors;
  }
  return progress;
}

}  // namespace sidestream::cluster
