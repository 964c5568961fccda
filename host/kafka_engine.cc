#include "host/kafka_engine.h"

#include <algorithm>
#include <thread>

#include "analyzer/analyzer.h"
#include "connectors/kafka/embedded_broker.h"
#include "connectors/kafka/kafka_clients.h"
#include "connectors/kafka/topic_admin.h"
#include "connectors/sink/sink_connectors.h"
#include "planner/physical_plan.h"
#include "runtime/insert_values.h"
#include "runtime/stream_task.h"
#include "session/statements.h"
#include "sql/parser.h"
#include "state/rocksdb_store.h"

namespace sidestream::host {

int DefaultStreamThreads(bool mock_broker) {
  if (mock_broker) return 1;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

Result<KafkaEngineOptions::StateStore> ParseStateStore(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "memory") return KafkaEngineOptions::StateStore::kMemory;
  if (lower == "rocksdb") return KafkaEngineOptions::StateStore::kRocksDb;
  return Status::InvalidArgument("state.store '" + text + "' is not memory or rocksdb");
}

KafkaEngine::~KafkaEngine() {
  if (connectors_) (void)connectors_->CloseAll();
  // Threads stop, and their sources leave their groups, before the plans they run go.
  for (auto& thread : threads_) thread->RequestStop();
  for (auto& thread : threads_) thread->Stop();
  threads_.clear();
  standby_.reset();
  queries_.clear();
  clients_.reset();
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
  if (options.stream_threads == kDefaultStreamThreads) {
    const bool mock = engine->embedded() || engine->admin_->IsMockCluster();
    engine->options_.stream_threads = DefaultStreamThreads(mock);
    if (mock && !engine->embedded()) {
      engine->warnings_.push_back("the cluster at " + options.bootstrap_servers +
                                  " is an embedded (mock) broker: one stream thread by default, as "
                                  "its group coordinator stalls groups of several members");
    }
  }
  engine->clients_ = TappingClients(
      std::make_unique<kafka::KafkaClients>(client, engine->embedded(), options.guarantee),
      engine->taps_);
  if (options.state_store == KafkaEngineOptions::StateStore::kRocksDb) {
    state::RocksDbStoreProvider::Options state;
    state.state_dir = options.state_dir;
    state.application_id = options.application_id;
    state.memory_bytes = options.state_memory_bytes;
    state.write_cache_bytes = options.state_cache_bytes;
    ASSIGN_OR_RAISE(engine->state_provider_, state::RocksDbStoreProvider::Create(state));
  }
  if (options.num_standby_replicas > 0) {
    if (engine->state_provider_ == nullptr) {
      return Status::InvalidArgument(
          "num.standby.replicas " + std::to_string(options.num_standby_replicas) +
          " needs state.store=rocksdb: a standby keeps its copy of a task's state on local disk, "
          "and memory stores restore in full from the changelogs anyway");
    }
    engine->standby_ = std::make_unique<runtime::StandbyTasks>(
        options.application_id, *engine->clients_, *engine->state_provider_,
        engine->clients_->max_message_bytes(), std::chrono::seconds(1));
  }
  ASSIGN_OR_RAISE(engine->catalog_, catalog::Catalog::Open(options.catalog_path));
  KafkaEngine* self = engine.get();
  engine->connectors_ = std::make_unique<sink::SinkConnectors>(
      client, options.application_id, options.clock,
      [self](const std::string& topic) { return self->EnsureTopic(topic, 1); });
  engine->serialized_failure_ = [engine = engine.get()](const std::string& query_id,
                                                        const QueryError& error, QueryState state) {
    std::lock_guard lock(engine->failure_mutex_);
    if (engine->on_query_failure_) engine->on_query_failure_(query_id, error, state);
  };
  return engine;
}

Result<std::shared_ptr<OutputTap>> KafkaEngine::AddTap(
    std::shared_ptr<const analyzer::AnalyzedStatement> analyzed, std::optional<int64_t> limit,
    OutputTap::Options options) {
  ASSIGN_OR_RAISE(auto tap, OutputTap::Create(std::move(analyzed), limit, std::move(options)));
  taps_->Add(tap);
  return tap;
}

void KafkaEngine::set_on_query_failure(QueryFailureCallback callback) {
  std::lock_guard lock(failure_mutex_);
  on_query_failure_ = std::move(callback);
}

void KafkaEngine::StartThreads() {
  if (!threads_.empty()) return;
  runtime::StreamThreadOptions thread;
  thread.application_id = options_.application_id;
  thread.clock = options_.clock;
  thread.commit_interval_ms = options_.commit_interval_ms;
  thread.commit_timeout = options_.commit_timeout;
  thread.idle_timeout_ms = options_.idle_timeout_ms;
  thread.guarantee = options_.guarantee;
  thread.instance_id = options_.instance_id;
  if (thread.instance_id.empty() &&
      options_.guarantee == runtime::ProcessingGuarantee::kExactlyOnceV2) {
    instance_id_ =
        std::make_unique<ClaimedInstanceId>(options_.state_dir + "/" + options_.application_id);
    thread.instance_id = instance_id_->id();
  }
  thread.state.provider = state_provider_.get();
  thread.state.active_tasks = standby_.get();
  const int count = std::max(1, options_.stream_threads);
  for (int index = 0; index < count; ++index) {
    threads_.push_back(std::make_unique<runtime::StreamThread>(index, thread, *clients_));
  }
  if (options_.stream_threads > 0) {
    for (auto& started : threads_) started->Start();
    threads_running_ = true;
  }
}

Status KafkaEngine::EnsureTopic(const std::string& topic, int partitions) {
  return admin_->EnsureTopic(topic, partitions > 0 ? partitions : options_.default_partitions, 1,
                             std::chrono::seconds(30));
}

Status KafkaEngine::DeleteTopics(const std::vector<std::string>& topics, bool warn) {
  Status deleted = admin_->DeleteTopics(topics);
  if (deleted.code() != StatusCode::kNotSupported) return deleted;
  if (warn) {
    std::string names;
    for (const std::string& topic : topics) names += (names.empty() ? "" : ", ") + topic;
    warnings_.push_back("Topic " + names + " was not deleted: " + deleted.message());
  }
  return Status::OK();
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
    if (statement->kind == sql::StatementKind::kInsertValues) {
      RETURN_NOT_OK(InsertValues(analyzed));
      continue;
    }
    std::vector<std::string> before;
    for (const auto& query : catalog_->ListQueries()) before.push_back(query.id);
    std::string message;
    ASSIGN_OR_RAISE(auto query, session::ApplyStatement(*statement, analyzed, *catalog_,
                                                        session_properties_, message));
    if (query) RETURN_NOT_OK(StartQuery(query->id, std::move(query->plan), query->properties));
    // TERMINATE (or DROP of a query's sink) removed queries from the catalog: stop them here.
    for (const std::string& id : before) {
      if (!catalog_->GetQuery(id).ok()) RETURN_NOT_OK(Terminate(id));
    }
    RETURN_NOT_OK(ForgetDroppedSourceTables());
    if (statement->kind == sql::StatementKind::kCreateSource && statement->source_only &&
        statement->source_kind == sql::SourceKind::kTable && analyzed.new_source) {
      ASSIGN_OR_RAISE(auto table, catalog_->GetSource(analyzed.new_source->name));
      RETURN_NOT_OK(MaterializeSourceTable(table));
    }
    if (statement->kind == sql::StatementKind::kPause ||
        statement->kind == sql::StatementKind::kResume) {
      RETURN_NOT_OK(SetPaused(analyzed.target_name, statement->kind == sql::StatementKind::kPause));
    }
    // DROP ... DELETE TOPIC: the topic goes after the query that wrote it stopped.
    if (!analyzed.topic_to_delete.empty()) {
      Status deleted = DeleteTopics({analyzed.topic_to_delete}, /*warn=*/true);
      if (!deleted.ok()) {
        return Status(deleted.code(),
                      "Source " + analyzed.target_name +
                          " was dropped, but its topic was not deleted: " + deleted.message());
      }
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

Status KafkaEngine::ExecuteWith(std::string_view sql,
                                const analyzer::SessionProperties& properties) {
  analyzer::SessionProperties own = std::exchange(session_properties_, properties);
  Status executed = Execute(sql);
  session_properties_ = std::move(own);
  return executed;
}

Status KafkaEngine::Validate(std::string_view sql) const {
  ASSIGN_OR_RAISE(auto statements, sql::ParseScript(sql));
  for (const auto& statement : statements) {
    analyzer::Analyzer analyzer(*catalog_, session_properties_);
    RETURN_NOT_OK(analyzer.Analyze(*statement).status());
  }
  return Status::OK();
}

Status KafkaEngine::RestoreQueries() {
  for (const catalog::QueryDescription& query : catalog_->ListQueries()) {
    Status restored = [&]() -> Status {
      ASSIGN_OR_RAISE(auto statements, sql::ParseScript(query.sql));
      if (statements.size() != 1) {
        return Status::Corruption("its stored SQL is not one statement");
      }
      sql::Statement& statement = *statements.front();
      // Its sink is in the catalog already: analyzed as a replacement of itself.
      statement.or_replace = true;
      // With the properties it was created with (a catalog from before they were kept has
      // none: this session's then).
      analyzer::Analyzer analyzer(
          *catalog_, query.properties.empty() ? session_properties_ : query.properties);
      ASSIGN_OR_RAISE(auto analyzed, analyzer.Analyze(statement));
      if (!analyzed.plan || analyzed.plan->kind != analyzer::LogicalOperatorKind::kSink) {
        return Status::Corruption("its stored SQL is not a persistent query");
      }
      return StartQuery(query.id, std::move(analyzed.plan), analyzed.query_properties);
    }();
    if (!restored.ok()) {
      warnings_.push_back("query " + query.id + " was not restarted: " + restored.ToString());
    }
  }
  for (const catalog::SourceDescription& source : catalog_->ListSources()) {
    if (source.type != catalog::SourceType::kTable || !source.writer_query_id.empty()) continue;
    auto statements = sql::ParseScript(source.sql);
    if (!statements.ok() || statements->size() != 1 || !statements->front()->source_only) continue;
    Status materialized = MaterializeSourceTable(source);
    if (!materialized.ok()) {
      warnings_.push_back("source table " + source.name +
                          " was not materialized: " + materialized.ToString());
    }
  }
  return connectors_->Sync(*catalog_);
}

Status KafkaEngine::MaterializeSourceTable(const catalog::SourceDescription& table) {
  auto earlier = materialized_.find(table.name);
  if (earlier != materialized_.end()) {
    std::string id = earlier->second;
    materialized_.erase(earlier);
    RETURN_NOT_OK(Terminate(id));
  }
  const std::string query_id = "CST_" + table.name;
  auto statements = sql::ParseScript("CREATE TABLE `SIDESTREAM_CST_" + table.name +
                                     "` WITH (KAFKA_TOPIC='_sidestream_cst_" + table.name +
                                     "') AS SELECT * FROM `" + table.name + "`;");
  if (!statements.ok() || statements->size() != 1) {
    return Status::InvalidArgument("Source table " + table.name + " cannot be materialized");
  }
  analyzer::Analyzer analyzer(*catalog_, session_properties_);
  ASSIGN_OR_RAISE(auto analyzed, analyzer.Analyze(*statements->front()));
  RETURN_NOT_OK(StartQuery(query_id, std::move(analyzed.plan), analyzed.query_properties));
  materialized_[table.name] = query_id;
  return Status::OK();
}

Status KafkaEngine::ForgetDroppedSourceTables() {
  for (auto it = materialized_.begin(); it != materialized_.end();) {
    auto table = catalog_->GetSource(it->first);
    if (table.ok() && table->type == catalog::SourceType::kTable) {
      ++it;
      continue;
    }
    std::string id = it->second;
    it = materialized_.erase(it);
    RETURN_NOT_OK(Terminate(id));
  }
  return Status::OK();
}

Status KafkaEngine::InsertValues(const analyzer::AnalyzedStatement& analyzed) {
  ASSIGN_OR_RAISE(auto target, catalog_->GetSource(analyzed.target_name));
  ASSIGN_OR_RAISE(auto inserted,
                  runtime::EncodeInsertValues(analyzed, target, options_.clock->WallMs()));
  if (!insert_sink_) {
    ASSIGN_OR_RAISE(insert_sink_, clients_->CreateSink());
  }
  // A null view (no data) is a null key.
  const std::string_view key = inserted.key ? std::string_view(*inserted.key) : std::string_view();
  RETURN_NOT_OK(
      insert_sink_->Produce(inserted.topic, -1, key, inserted.value, inserted.timestamp_ms, {}));
  // ksqlDB answers once the row is written.
  return insert_sink_->Flush(options_.commit_timeout);
}

Status KafkaEngine::StartQuery(const std::string& query_id, analyzer::LogicalOperatorPtr plan,
                               const std::map<std::string, std::string>& properties) {
  planner::PlannerOptions planning;
  planning.application_id = options_.application_id;
  planning.partition_count = [this](const std::string& topic) {
    return admin_->PartitionCount(topic);
  };
  ASSIGN_OR_RAISE(planner::PhysicalPlan physical,
                  planner::PlanQuery(query_id, std::move(plan), planning));
  // Internal topics get the partitions the plan gives them (a changelog its stage's tasks, a
  // join's repartition topic its partner input's), else as many as the query's input, as in
  // Kafka Streams.
  const std::string& input = physical.stages.front().sources.front().topic;
  auto counted = admin_->PartitionCount(input);
  const int input_partitions = counted.ok() ? *counted : options_.default_partitions;
  std::vector<std::string> internal_topics;
  for (const planner::InternalTopic& topic : physical.internal_topics) {
    const int partitions = topic.partitions > 0 ? topic.partitions : input_partitions;
    RETURN_NOT_OK(
        admin_->EnsureTopic(topic.name, partitions, 1, std::chrono::seconds(30), topic.configs));
    internal_topics.push_back(topic.name);
  }
  auto control = std::make_shared<runtime::QueryControl>(
      query_id, *options_.clock,
      runtime::RetryPolicy{options_.retry_backoff_initial, options_.retry_backoff_max},
      &serialized_failure_);
  ASSIGN_OR_RAISE(auto query, runtime::MakeQuerySpec(std::move(physical), properties, control));
  // The sink topic gets the input's partition count unless PARTITIONS says otherwise.
  for (const runtime::StageSpec& stage : query->stages) {
    if (stage.writes_repartition) continue;
    const int wanted = stage.plan->source.partitions;
    auto source_partitions = admin_->PartitionCount(stage.source_topics.front());
    RETURN_NOT_OK(EnsureTopic(stage.sink_topic, wanted > 0               ? wanted
                                                : source_partitions.ok() ? *source_partitions
                                                                         : 0));
  }
  StartThreads();
  if (standby_) {
    // Before the threads join the groups, so that no task becomes active unseen by it.
    for (const runtime::StageSpec& stage : query->stages) {
      auto partitions = admin_->PartitionCount(stage.source_topics.front());
      if (partitions.ok()) standby_->AddStage(stage, *partitions);
    }
  }
  for (size_t index = 0; index < threads_.size(); ++index) {
    Status added = threads_[index]->AddQuery(*query);
    if (!added.ok()) {
      for (size_t started = 0; started < index; ++started) {
        (void)threads_[started]->RemoveQuery(query_id, /*commit=*/false);
      }
      if (standby_) standby_->RemoveQuery(query_id);
      return added;
    }
  }
  if (standby_ && !standby_started_) {
    standby_->Start();
    standby_started_ = true;
  }
  queries_.push_back(std::move(query));
  internal_topics_[query_id] = std::move(internal_topics);
  return Status::OK();
}

Status KafkaEngine::Terminate(const std::string& query_id) {
  auto found = std::find_if(queries_.begin(), queries_.end(),
                            [&](const auto& query) { return query->control->id() == query_id; });
  if (found == queries_.end()) return Status::NotFound("Unknown query id: " + query_id);
  Status committed;
  for (auto& thread : threads_) {
    Status removed = thread->RemoveQuery(query_id, /*commit=*/true);
    if (committed.ok()) committed = removed;
  }
  (*found)->control->Terminate();
  if (standby_) standby_->RemoveQuery(query_id);
  queries_.erase(found);
  // Its state is gone for good: so are the topics that held it (ksqlDB cleans them up too).
  // The embedded broker keeps them, unused, without a warning: it forgets them at exit.
  Status deleted = DeleteTopics(internal_topics_[query_id], /*warn=*/false);
  if (!deleted.ok()) {
    warnings_.push_back("Internal topics of " + query_id +
                        " were not deleted: " + deleted.message());
  }
  internal_topics_.erase(query_id);
  return committed;
}

Status KafkaEngine::Pause(const std::string& query_id) { return SetPaused(query_id, true); }
Status KafkaEngine::Resume(const std::string& query_id) { return SetPaused(query_id, false); }

Status KafkaEngine::SetPaused(const std::string& query_id, bool paused) {
  bool found = false;
  for (const auto& query : queries_) {
    if (!query_id.empty() && query->control->id() != query_id) continue;
    found = true;
    if (paused) {
      (void)query->control->Pause();
    } else {
      (void)query->control->Resume();
    }
  }
  if (!found && !query_id.empty()) return Status::NotFound("Unknown query id: " + query_id);
  return Status::OK();
}

std::vector<QueryStatus> KafkaEngine::Queries() const {
  std::vector<QueryStatus> statuses;
  for (const auto& query : queries_) statuses.push_back(query->control->status());
  return statuses;
}

Result<int64_t> KafkaEngine::RunOnce(int max_wait_ms) {
  const auto wait = std::chrono::milliseconds(max_wait_ms);
  if (!threads_.empty() && !threads_running_) {
    // The queries run here; sink connectors poll briefly after them.
    int64_t processed = threads_.front()->RunOnce(max_wait_ms);
    if (!connectors_->empty()) processed += connectors_->PollAll(std::chrono::milliseconds(1));
    return processed;
  }
  // The queries run on their stream threads (or none started yet): the connectors wait here.
  int64_t processed = 0;
  if (connectors_->empty()) {
    std::this_thread::sleep_for(wait);
  } else {
    processed += connectors_->PollAll(wait);
  }
  const int64_t consumed = progress().consumed;
  processed += consumed - reported_consumed_;
  reported_consumed_ = consumed;
  return processed;
}

bool KafkaEngine::RunOnceOnlyWaits() const { return threads_running_ && connectors_->empty(); }

Status KafkaEngine::Run() {
  while (!stopping_) {
    ASSIGN_OR_RAISE(int64_t processed, RunOnce(200));
    (void)processed;
  }
  return CommitAll();
}

Status KafkaEngine::CommitAll() {
  for (auto& thread : threads_) thread->CommitAll();
  return connectors_->CommitAll();
}

EngineProgress KafkaEngine::progress() const {
  EngineProgress progress;
  for (const auto& thread : threads_) {
    const runtime::ThreadProgress totals = thread->progress();
    progress.consumed += totals.consumed;
    progress.produced += totals.produced;
    progress.changelog_records += totals.changelog_records;
    progress.restored_records += totals.restored_records;
    progress.late_records += totals.counters.late_records;
    progress.decode_errors += totals.counters.decode_errors;
    progress.evaluation_errors += totals.counters.evaluation_errors;
    progress.oversized_results += totals.counters.oversized_results;
  }
  for (const auto& connector : connectors_->Statuses()) {
    progress.sink_writes += connector.upserts + connector.deletes;
    progress.sink_dead_letters += connector.dead_letters;
  }
  if (standby_) {
    progress.standby_records = standby_->records_replayed();
    progress.standby_copies = standby_->open_copies();
  }
  return progress;
}

EngineMetrics KafkaEngine::Metrics() const {
  EngineMetrics metrics;
  metrics.totals = progress();
  metrics.stream_threads = static_cast<int>(threads_.size());
  for (const auto& thread : threads_) {
    const runtime::ThreadProgress totals = thread->progress();
    metrics.commits += totals.commits;
    metrics.commit_latency += totals.commit_latency;
    metrics.rebalances += totals.rebalances;
    for (const auto& [id, query] : totals.queries) metrics.queries[id] += query;
  }
  metrics.connectors = connectors_->Statuses();
  return metrics;
}

}  // namespace sidestream::host
