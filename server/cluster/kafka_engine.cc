#include "server/cluster/kafka_engine.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <set>
#include <thread>

#include "analyzer/analyzer.h"
#include "connectors/kafka/batch_consumer.h"
#include "connectors/kafka/batch_producer.h"
#include "connectors/kafka/embedded_broker.h"
#include "connectors/kafka/partition_reader.h"
#include "connectors/kafka/topic_admin.h"
#include "connectors/sink/sink_connectors.h"
#include "planner/physical_plan.h"
#include "sql/parser.h"

namespace sidestream::cluster {

namespace {
constexpr size_t kBatchSize = 10000;
// How long a join task waits for an input that has records on the broker but none fetched
// before it runs without it (Kafka Streams' max.task.idle.ms waits for such lag too).
constexpr auto kMaxTaskIdle = std::chrono::seconds(5);
// Marks a repartition-topic row that undoes an earlier row (a table update's old value).
constexpr std::string_view kRetractHeader = "sidestream.retract";
// Carries the value a repartition-topic row replaces under the same key: both halves of a
// table update in one message, as Kafka Streams' Change of new and old value.
constexpr std::string_view kOldValueHeader = "sidestream.old";
// Carry the key and value of the input a repartition-topic row came from, so that the next
// stage writes a late record as it arrived.
constexpr std::string_view kSourceKeyHeader = "sidestream.source.key";
constexpr std::string_view kSourceValueHeader = "sidestream.source.value";
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

/// One stage of a persistent query: its consumer and one pipeline (task) per assigned
/// partition.
struct KafkaEngine::RunningQuery {
  std::string id;
  PersistentQuery* owner = nullptr;
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
  offline::PipelineCounters closed_tasks;            // counters of tasks already closed
  std::chrono::steady_clock::time_point last_input;  // for the idle close
  kafka::MessageBatch batch;
  std::vector<offline::InputMessage> inputs;  // reused per poll
  std::vector<offline::InputMessage> merged;  // a join task's inputs in timestamp order
  bool reads_changes = false;  // reads a repartition topic, whose rows may be retractions
  // A join task's inputs: per (topic, partition), where reading started (committed offset or
  // low watermark), for a partition that delivered nothing yet; per partition, since when
  // the task has waited for an input (ProcessableCount).
  std::map<std::pair<std::string, int32_t>, int64_t> start_offsets;
  std::map<int32_t, std::chrono::steady_clock::time_point> waiting_since;
  // The run of messages being processed (source, partition, offsets): where a failure was.
  size_t run_source = 0;
  int32_t run_partition = -1;
  int64_t run_first_offset = -1, run_last_offset = -1;
  // Whether a revoke (the consumer closing or a rebalance) commits what the tasks processed:
  // not when the query is stopped by a failure.
  bool commit_on_revoke = true;
};

/// A persistent query: its stages (the repartition stage first), the producer that carries
/// all their results, side outputs and changelog writes, and its status.
struct KafkaEngine::PersistentQuery {
  QueryStatus status;
  std::vector<std::unique_ptr<RunningQuery>> stages;
  std::unique_ptr<kafka::BatchProducer> producer;
  // The stages have no consumers: the query failed, and waits for retry_at (RUNNING) or for
  // good (ERROR).
  bool stopped = false;
  std::chrono::steady_clock::time_point retry_at;
  std::chrono::milliseconds backoff{0};  // the last backoff; 0 once a commit succeeds
  size_t max_message_bytes = offline::PipelineCallbacks::kDefaultMaxMessageBytes;
};

const char* QueryStateName(QueryState state) {
  switch (state) {
    case QueryState::kRunning:
      return "RUNNING";
    case QueryState::kError:
      return "ERROR";
    case QueryState::kTerminated:
      return "TERMINATED";
  }
  return "UNKNOWN";
}

std::string QueryError::ToString() const {
  std::string text = StatusCodeName(error.code());
  if (!topic.empty()) {
    text += " at " + topic + "[" + std::to_string(partition) + "]@" + std::to_string(first_offset);
    if (last_offset != first_offset) text += ".." + std::to_string(last_offset);
  }
  return text + ": " + error.message();
}

KafkaEngine::~KafkaEngine() {
  if (connectors_) (void)connectors_->CloseAll();
  // Consumers leave their groups (committing revoked tasks) while the producers still live.
  for (auto& query : queries_) {
    for (auto& stage : query->stages) {
      if (stage->consumer) (void)stage->consumer->Close();
    }
  }
  queries_.clear();
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
  ASSIGN_OR_RAISE(engine->catalog_, catalog::Catalog::Open(":memory:"));
  engine->last_commit_ = options.clock->Now();
  KafkaEngine* self = engine.get();
  engine->connectors_ = std::make_unique<sink::SinkConnectors>(
      client, options.application_id, options.clock,
      [self](const std::string& topic) { return self->EnsureTopic(topic, 1); });
  return engine;
}

Status KafkaEngine::EnsureTopic(const std::string& topic, int partitions) {
  return admin_->EnsureTopic(topic, partitions > 0 ? partitions : options_.default_partitions, 1,
                             std::chrono::seconds(30));
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
    std::vector<std::string> before;
    for (const auto& query : catalog_->ListQueries()) before.push_back(query.id);
    std::string message;
    ASSIGN_OR_RAISE(auto query, offline::ApplyStatement(*statement, analyzed, *catalog_,
                                                        session_properties_, message));
    if (query) RETURN_NOT_OK(StartQuery(query->id, std::move(query->plan), query->properties));
    // TERMINATE removed queries from the catalog: stop them here too.
    for (const std::string& id : before) {
      if (!catalog_->GetQuery(id).ok()) RETURN_NOT_OK(Terminate(id));
    }
    // CREATE and DROP CONNECTOR start and stop connectors; SHOW and DESCRIBE print them.
    RETURN_NOT_OK(connectors_->Sync(*catalog_));
    if (on_output_ && statement->kind == sql::StatementKind::kShow &&
        statement->show_target == sql::ShowTarget::kConnectors) {
      on_output_(connectors_->Show(*catalog_));
    } else if (on_output_ && statement->kind == sql::StatementKind::kDescribe &&
               statement->describe_connector) {
      ASSIGN_OR_RAISE(std::string description, connectors_->Describe(*catalog_, statement->name));
      on_output_(description);
    }
  }
  return Status::OK();
}

Status KafkaEngine::StartQuery(const std::string& query_id, analyzer::LogicalOperatorPtr plan,
                               const std::map<std::string, std::string>& properties) {
  auto owner = std::make_unique<PersistentQuery>();
  owner->status.id = query_id;
  kafka::ProducerOptions producer;
  producer.client = kafka::ClientConfig{bootstrap_servers_, options_.client_properties};
  ASSIGN_OR_RAISE(owner->producer, kafka::BatchProducer::Create(producer));
  for (const auto& [name, value] : options_.client_properties) {
    // Results larger than the producer takes go to the dead-letter topic (QueryPipeline);
    // librdkafka has checked the value.
    if (name != "message.max.bytes") continue;
    std::from_chars(value.data(), value.data() + value.size(), owner->max_message_bytes);
  }
  planner::PlannerOptions planning;
  planning.application_id = options_.application_id;
  planning.partition_count = [this](const std::string& topic) {
    return admin_->PartitionCount(topic);
  };
  ASSIGN_OR_RAISE(planner::PhysicalPlan physical,
                  planner::PlanQuery(query_id, std::move(plan), planning));
  // Internal topics get as many partitions as the query's input, as in Kafka Streams.
  const std::string& input = physical.stages.front().sources.front().topic;
  auto counted = admin_->PartitionCount(input);
  const int partitions = counted.ok() ? *counted : options_.default_partitions;
  for (const planner::InternalTopic& topic : physical.internal_topics) {
    RETURN_NOT_OK(
        admin_->EnsureTopic(topic.name, partitions, 1, std::chrono::seconds(30), topic.configs));
  }
  PersistentQuery& query = *owner;
  queries_.push_back(std::move(owner));
  Status started;
  for (planner::Stage& stage : physical.stages) {
    started = StartStage(query, stage, properties);
    if (!started.ok()) break;
  }
  if (!started.ok()) {
    for (auto& stage : query.stages) (void)StopStage(*stage, /*commit=*/false);
    queries_.pop_back();
  }
  return started;
}

Status KafkaEngine::StartStage(PersistentQuery& owner, planner::Stage& stage,
                               const std::map<std::string, std::string>& properties) {
  auto query = std::make_unique<RunningQuery>();
  query->id = stage.id;
  query->owner = &owner;
  // A re-keying stage runs with none of the query's properties: they apply to its results.
  if (!stage.writes_repartition) query->properties = properties;
  query->reads_changes = stage.reads_changes;
  const catalog::SourceDescription sink = stage.plan->source;
  for (const planner::StageSource& source : stage.sources) {
    query->source_topics.push_back(source.topic);
    query->windowed_sources.push_back(source.windowed);
    auto input = std::find(query->input_topics.begin(), query->input_topics.end(), source.topic);
    query->input_of_source.push_back(static_cast<size_t>(input - query->input_topics.begin()));
    if (input == query->input_topics.end()) query->input_topics.push_back(source.topic);
  }
  // The sink topic gets the input's partition count unless PARTITIONS says otherwise.
  if (!stage.writes_repartition) {
    auto counted = admin_->PartitionCount(query->source_topics.front());
    const int source_partitions = counted.ok() ? *counted : options_.default_partitions;
    RETURN_NOT_OK(
        EnsureTopic(sink.topic, sink.partitions > 0 ? sink.partitions : source_partitions));
  }

  // Each task gets its own copy of the callback, and so its own key buffer.
  kafka::BatchProducer* producer = owner.producer.get();
  query->callbacks.max_message_bytes = owner.max_message_bytes;
  // A re-keying stage passes each row's input on when the query keeps late records: the
  // next stage writes them as they arrived.
  const bool carry_sources = stage.writes_repartition && properties.count("LATE_TOPIC") > 0;
  query->callbacks.on_result = [this, producer, sink, carry_sources, windowed = std::string()](
                                   const offline::PipelineResult& result) mutable {
    if (result.key && result.window) {
      windowed.clear();
      AppendWindowedKey(*result.key, result.window->start, result.window->end, windowed);
    }
    std::string_view key = result.window && result.key ? std::string_view(windowed)
                           : result.key                ? std::string_view(*result.key)
                                                       : std::string_view();
    kafka::ProduceHeader headers[3];
    size_t count = 0;
    if (result.retract) headers[count++] = {kRetractHeader, "true"};
    if (result.old_value) headers[count++] = {kOldValueHeader, *result.old_value};
    if (carry_sources && result.source) {
      if (result.source->key) headers[count++] = {kSourceKeyHeader, *result.source->key};
      headers[count++] = {kSourceValueHeader, result.source->value.value_or("")};
    }
    ++produced_;
    return producer->Produce(sink.topic, -1, key,
                             result.value ? std::string_view(*result.value) : std::string_view(),
                             result.timestamp, std::span(headers, count));
  };
  query->callbacks.on_side_output = [this, producer](const std::string& topic,
                                                     const std::string* key,
                                                     const std::string& value, int64_t timestamp) {
    ++produced_;
    return producer->Produce(topic, -1, key ? std::string_view(*key) : std::string_view(), value,
                             timestamp);
  };
  // Build one task now, so that a plan that cannot run fails at CREATE time.
  ASSIGN_OR_RAISE(auto probe, offline::QueryPipeline::Create(owner.status.id, *stage.plan,
                                                             query->properties, query->callbacks));
  probe.reset();
  query->plan = std::move(stage.plan);
  RunningQuery& started = *query;
  owner.stages.push_back(std::move(query));
  return Subscribe(started);
}

Status KafkaEngine::Subscribe(RunningQuery& query) {
  const bool joins = query.source_topics.size() > 1;
  kafka::ConsumerOptions consumer;
  consumer.client = kafka::ClientConfig{bootstrap_servers_, options_.client_properties};
  if (embedded()) {
    // The mock broker answers a fetch that finds no data only after the full wait (500 ms
    // by default), and each stage of a pipeline pays it: W6's p50 latency was 1.1 s with
    // the default, 37 ms with 10 ms. The user's properties come later and win.
    consumer.client.properties.insert(consumer.client.properties.begin(),
                                      {"fetch.wait.max.ms", "10"});
  }
  consumer.group_id = options_.application_id + "_" + query.id;
  if (joins) {
    // The range assignor gives each member the same partitions of every co-partitioned
    // topic, so a task's join inputs stay together (cooperative-sticky does not promise it).
    consumer.client.properties.insert(consumer.client.properties.begin(),
                                      {"partition.assignment.strategy", "range"});
  }
  consumer.topics = query.input_topics;
  RunningQuery* self = &query;
  consumer.on_rebalance = [this, self](const kafka::RebalanceEvent& event) {
    std::vector<int32_t> partitions;
    for (const auto& partition : event.partitions) partitions.push_back(partition.partition);
    if (event.kind == kafka::RebalanceEvent::Kind::kAssigned) {
      // A task that cannot start here is created again, and fails its query, when its
      // first records arrive (ProcessPartitionRun).
      for (int32_t partition : partitions) (void)CreateTask(*self, partition);
    } else {
      (void)CloseTasks(
          *self, partitions,
          /*commit=*/event.kind == kafka::RebalanceEvent::Kind::kRevoked && self->commit_on_revoke);
    }
  };
  query.commit_on_revoke = true;
  query.last_input = options_.clock->Now();
  ASSIGN_OR_RAISE(query.consumer, kafka::BatchConsumer::Create(consumer));
  return Status::OK();
}

Status KafkaEngine::StopStage(RunningQuery& query, bool commit) {
  if (!query.consumer) return Status::OK();
  query.commit_on_revoke = commit;
  // Leaving the group revokes every partition, which closes their tasks (CloseTasks).
  Status closed = query.consumer->Close();
  DropTasks(query);
  query.consumer.reset();
  return closed;
}

void KafkaEngine::DropTasks(RunningQuery& query) {
  query.batch.Clear();  // its views borrow the consumer's messages
  std::vector<int32_t> partitions;
  for (const auto& [partition, task] : query.tasks) partitions.push_back(partition);
  (void)CloseTasks(query, partitions, /*commit=*/false);
  query.idle_stream_time.clear();
  query.start_offsets.clear();
  query.waiting_since.clear();
}

Status KafkaEngine::Rewind(RunningQuery& query) {
  ASSIGN_OR_RAISE(auto assigned, query.consumer->assignment());
  if (assigned.empty()) return Status::OK();
  ASSIGN_OR_RAISE(auto committed, query.consumer->Committed(assigned));
  // Nothing committed: from the start, as auto.offset.reset=earliest would.
  constexpr int64_t kBeginning = -2;  // RD_KAFKA_OFFSET_BEGINNING
  for (auto& offset : committed) {
    if (offset.offset < 0) offset.offset = kBeginning;
  }
  return query.consumer->Seek(committed);
}

Status KafkaEngine::CreateTask(RunningQuery& query, int32_t partition) {
  if (query.tasks.count(partition)) return Status::OK();
  // Each store writes its changes to partition `partition` of its changelog topic at every
  // commit, and starts from what that partition holds: the task's state, wherever it ran.
  std::map<std::string, runtime::ChangelogStore*> stores;
  auto factory = [this, &query, partition, &stores](const std::string& name) {
    auto store = std::make_unique<runtime::ChangelogStore>(
        [this, producer = query.owner->producer.get(),
         topic = planner::ChangelogTopic(options_.application_id, query.id, name),
         partition](std::string_view key, const std::string* value) {
          ++changelog_records_;
          return producer->Produce(topic, partition, key,
                                   value ? std::string_view(*value) : std::string_view(), 0);
        });
    stores[name] = store.get();
    return store;
  };
  ASSIGN_OR_RAISE(auto task,
                  offline::QueryPipeline::Create(query.owner->status.id, *query.plan,
                                                 query.properties, query.callbacks, factory));
  const kafka::ClientConfig client{bootstrap_servers_, options_.client_properties};
  for (const auto& [name, store] : stores) {
    const std::string topic = planner::ChangelogTopic(options_.application_id, query.id, name);
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
  RETURN_NOT_OK(query.owner->producer->Flush(options_.commit_timeout));
  return offsets.empty() ? Status::OK() : query.consumer->Commit(offsets);
}

Status KafkaEngine::CommitAll() {
  for (auto& query : queries_) {
    if (query->stopped) continue;
    for (auto& stage : query->stages) {
      Status committed = Commit(*stage, {});
      if (!committed.ok()) {
        Fail(*query, committed, nullptr);
        break;
      }
    }
  }
  last_commit_ = options_.clock->Now();
  return connectors_->CommitAll();
}

void KafkaEngine::Fail(PersistentQuery& query, const Status& error, const RunningQuery* stage) {
  QueryError failure;
  failure.time_ms = options_.clock->WallMs();
  failure.error = error;
  if (stage != nullptr && stage->run_partition >= 0) {
    failure.topic = stage->source_topics[stage->run_source];
    failure.partition = stage->run_partition;
    failure.first_offset = stage->run_first_offset;
    failure.last_offset = stage->run_last_offset;
  }
  std::vector<QueryError>& errors = query.status.errors;
  errors.push_back(failure);
  if (errors.size() > QueryStatus::kMaxErrorHistory) errors.erase(errors.begin());
  // What the query processed since its last commit is dropped, not committed: a restart
  // processes it again from there, with the state its changelogs held at that commit. Its
  // consumers stay in their groups while it waits (no rebalance: a member that cannot reach
  // the broker cannot leave cleanly either); for good, they leave.
  for (auto& running : query.stages) {
    if (error.retriable()) {
      DropTasks(*running);
    } else {
      (void)StopStage(*running, /*commit=*/false);
    }
  }
  query.stopped = true;
  if (error.retriable()) {
    query.backoff = query.backoff.count() == 0
                        ? options_.retry_backoff_initial
                        : std::min(query.backoff * 2, options_.retry_backoff_max);
    query.retry_at = options_.clock->Now() + query.backoff;
  } else {
    query.status.state = QueryState::kError;
  }
  if (on_query_failure_) on_query_failure_(query.status.id, failure, query.status.state);
}

Status KafkaEngine::Terminate(const std::string& query_id) {
  auto found = std::find_if(queries_.begin(), queries_.end(),
                            [&](const auto& query) { return query->status.id == query_id; });
  if (found == queries_.end()) return Status::NotFound("Unknown query id: " + query_id);
  PersistentQuery& query = **found;
  Status committed;
  for (auto& stage : query.stages) {
    if (committed.ok() && !query.stopped) committed = Commit(*stage, {});
  }
  for (auto& stage : query.stages) (void)StopStage(*stage, /*commit=*/false);
  queries_.erase(found);
  return committed;
}

std::vector<QueryStatus> KafkaEngine::Queries() const {
  std::vector<QueryStatus> statuses;
  for (const auto& query : queries_) statuses.push_back(query->status);
  return statuses;
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
  query.run_source = run.front().source;
  query.run_partition = partition;
  query.run_first_offset = run.front().offset;
  query.run_last_offset = run.back().offset;
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
  const auto now = options_.clock->Now();
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
  auto now = options_.clock->Now();
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
      std::string_view header;
      input.retract = query.reads_changes && message.FindHeader(kRetractHeader, &header);
      input.old_value.reset();
      input.source_key.reset();
      input.source_value.reset();
      if (query.reads_changes) {
        if (message.FindHeader(kOldValueHeader, &header)) input.old_value = header;
        if (message.FindHeader(kSourceKeyHeader, &header)) input.source_key = header;
        if (message.FindHeader(kSourceValueHeader, &header)) input.source_value = header;
      }
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

Result<int64_t> KafkaEngine::RunQuery(PersistentQuery& query, int wait_ms, bool commit) {
  int64_t processed = 0;
  for (auto& stage : query.stages) {
    auto count = PollQuery(*stage, wait_ms);
    if (!count.ok()) {
      Fail(query, count.status(), stage.get());
      return processed;
    }
    processed += *count;
  }
  if (!commit) return processed;
  for (auto& stage : query.stages) {
    Status committed = Commit(*stage, {});
    if (!committed.ok()) {
      Fail(query, committed, nullptr);
      return processed;
    }
  }
  query.backoff = std::chrono::milliseconds(0);
  return processed;
}

Result<int64_t> KafkaEngine::RunOnce(int max_wait_ms) {
  const auto now = options_.clock->Now();
  size_t polling = 0;  // stages to poll
  for (auto& query : queries_) {
    if (query->stopped && query->status.state == QueryState::kRunning && now >= query->retry_at) {
      // The backoff after a retriable failure ended: start again from the last commit.
      query->stopped = false;
      ++query->status.restarts;
      (void)query->producer->TakeErrors();
      for (auto& stage : query->stages) {
        Status rewound = stage->consumer ? Rewind(*stage) : Subscribe(*stage);
        if (!rewound.ok()) {
          Fail(*query, rewound, nullptr);
          break;
        }
      }
    }
    if (!query->stopped) polling += query->stages.size();
  }
  if (polling == 0) {
    // Nothing to poll (every query failed or none started): wait as a poll would.
    if (!connectors_->empty()) return connectors_->PollAll(std::chrono::milliseconds(max_wait_ms));
    std::this_thread::sleep_for(std::chrono::milliseconds(max_wait_ms));
    return int64_t{0};
  }
  const bool commit = now - last_commit_ >= std::chrono::milliseconds(options_.commit_interval_ms);
  const int wait = std::max(1, max_wait_ms / static_cast<int>(polling));
  int64_t processed = 0;
  for (auto& query : queries_) {
    if (query->stopped) continue;
    ASSIGN_OR_RAISE(int64_t count, RunQuery(*query, wait, commit));
    processed += count;
  }
  if (commit) last_commit_ = now;
  // Sink connectors poll briefly: the queries' polls above did the waiting.
  processed += connectors_->PollAll(std::chrono::milliseconds(connectors_->empty() ? 0 : 1));
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
  for (const auto& connector : connectors_->Statuses()) {
    progress.sink_writes += connector.upserts + connector.deletes;
    progress.sink_dead_letters += connector.dead_letters;
  }
  for (const auto& query : queries_) {
    for (const auto& stage : query->stages) {
      progress.consumed += stage->consumed;
      offline::PipelineCounters counters = stage->closed_tasks;
      for (const auto& [partition, task] : stage->tasks) counters += task->counters();
      progress.late_records += counters.late_records;
      progress.decode_errors += counters.decode_errors;
      progress.evaluation_errors += counters.evaluation_errors;
      progress.oversized_results += counters.oversized_results;
    }
  }
  return progress;
}

}  // namespace sidestream::cluster
