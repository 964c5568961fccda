#include "runtime/stream_thread.h"

#include <pthread.h>

#include <algorithm>
#include <future>
#include <map>
#include <utility>

namespace sidestream::runtime {

namespace {
// Under exactly-once a task's local state is trusted only after a clean close.
TaskStateOptions StateOptionsFor(const StreamThreadOptions& options) {
  TaskStateOptions state = options.state;
  state.exactly_once = options.guarantee == ProcessingGuarantee::kExactlyOnceV2;
  return state;
}
}  // namespace

/// One stage of a share: a member of the stage's group and the tasks of its partitions.
struct StreamThread::Member {
  Member(const StageSpec& spec, Share& owner, const StreamThreadOptions& options,
         RecordCollector& collector, Clients& clients)
      : stage(spec),
        share(owner),
        group(spec.source_topics, *options.clock, options.max_task_idle),
        tasks(spec, options.application_id, collector, clients, options.commit_timeout,
              options.wrap_store, StateOptionsFor(options)) {}

  const StageSpec& stage;
  Share& share;
  PartitionGroup group;
  TaskManager tasks;
  std::unique_ptr<Source> source;  // null while the share is stopped for good
  SourceBatch batch;
  std::vector<InputMessage> inputs;                  // reused per poll
  std::vector<InputMessage> merged;                  // a join task's inputs in timestamp order
  std::chrono::steady_clock::time_point last_input;  // for the idle close
  // The run of messages being processed (source, partition, offsets): where a failure was.
  size_t run_source = 0;
  int32_t run_partition = -1;
  int64_t run_first_offset = -1, run_last_offset = -1;
  // Whether a revoke (the source closing or a rebalance) commits what the tasks processed:
  // not when the query is stopped by a failure.
  bool commit_on_revoke = true;
  // Exactly-once: the offsets the last committed transaction holds, so that a commit sends
  // only those that moved.
  std::map<TopicPartition, int64_t> committed;
  // Subscribed, and its group has not yet given it partitions (nor told it that it has none).
  bool awaiting_assignment = false;
};

/// This thread's share of one query.
struct StreamThread::Share {
  const QuerySpec* spec = nullptr;
  int64_t consumed = 0;
  int64_t rebalances = 0;
  LatencyHistogram processing;
  std::unique_ptr<RecordCollector> collector;
  std::vector<std::unique_ptr<Member>> members;
  uint64_t seen_failures = 0;  // the query's failures this share has followed
  bool stopped = false;        // after a failure: until the backoff ends, or for good
  bool paused = false;         // its sources are paused (PAUSE); it polls, processes nothing
  // A failure met inside a rebalance callback (a revocation's commit, partitions lost under
  // exactly-once), acted on once the poll that served it returns.
  Status pending_failure;
  QueryControl& control() const { return *spec->control; }
};

Result<std::unique_ptr<QuerySpec>> MakeQuerySpec(
    planner::PhysicalPlan physical, const std::map<std::string, std::string>& properties,
    std::shared_ptr<QueryControl> control) {
  auto query = std::make_unique<QuerySpec>();
  query->control = std::move(control);
  for (planner::Stage& stage : physical.stages) {
    StageSpec& spec = query->stages.emplace_back();
    spec.query_id = query->control->id();
    spec.id = stage.id;
    spec.reads_changes = stage.reads_changes;
    spec.sink_topic = stage.plan->source.topic;
    spec.writes_repartition = stage.writes_repartition;
    // A re-keying stage runs with none of the query's properties: they apply to its results.
    // It passes each row's input on when the query keeps late records: the next stage writes
    // them as they arrived.
    if (!stage.writes_repartition) spec.properties = properties;
    spec.carry_sources = stage.writes_repartition && properties.count("LATE_TOPIC") > 0;
    for (const planner::StageSource& source : stage.sources) {
      spec.source_topics.push_back(source.topic);
      spec.windowed_sources.push_back(source.windowed);
    }
    // Build one task now, so that a plan that cannot run fails at CREATE time.
    RETURN_NOT_OK(StreamTask::Create(spec.query_id, *stage.plan, spec.properties, {}).status());
    spec.plan = stage.plan.get();
    query->plans.push_back(std::move(stage.plan));
  }
  return query;
}

StreamThread::StreamThread(int index, StreamThreadOptions options, Clients& clients)
    : index_(index), options_(std::move(options)), clients_(clients) {
  last_commit_ = options_.clock->Now();
}

StreamThread::~StreamThread() {
  Stop();
  // Sources leave their groups (committing revoked tasks) while the collectors still live.
  for (auto& share : shares_) {
    for (auto& member : share->members) {
      if (member->source) (void)member->source->Close();
    }
  }
  shares_.clear();
}

void StreamThread::Start() {
  running_ = true;
  thread_ = std::thread([this] {
    // Named, so that top and /proc tell the stream threads from librdkafka's.
    pthread_setname_np(pthread_self(), ("ss-stream-" + std::to_string(index_)).c_str());
    // A pass polls for at most 50 ms in all; queued commands and pull queries (VisitTasks)
    // wake the poll under way (Wake), so they do not wait for it to time out.
    while (!stopping_) RunOnce(50);
    RunCommands();
    RunVisits();
    CommitShares();
    // Each thread leaves its groups itself, serving the rebalances that causes, while the
    // other threads stop too.
    CloseSources();
    PublishProgress();
  });
}

void StreamThread::CloseSources() {
  // A share that is running committed just before: leaving, its tasks commit nothing new but
  // keep their local state (checkpoints) for the next start.
  for (auto& share : shares_) {
    for (auto& member : share->members) (void)StopMember(*member, /*commit=*/!share->stopped);
  }
}

void StreamThread::Stop() {
  stopping_ = true;
  Wake();
  if (thread_.joinable()) thread_.join();
  running_ = false;
}

Status StreamThread::OnThread(std::function<Status()> command) {
  if (!running_ || std::this_thread::get_id() == thread_.get_id()) return command();
  auto done = std::make_shared<std::promise<Status>>();
  std::future<Status> result = done->get_future();
  {
    std::lock_guard lock(commands_mutex_);
    commands_.push_back([command = std::move(command), done] { done->set_value(command()); });
  }
  Wake();
  return result.get();
}

void StreamThread::RunCommands() {
  std::vector<std::function<void()>> commands;
  {
    std::lock_guard lock(commands_mutex_);
    commands.swap(commands_);
  }
  for (auto& command : commands) command();
}

void StreamThread::VisitTasks(const std::string& query_id, TaskVisitor visit) {
  auto command = [this, query_id, visit = std::move(visit)] {
    std::vector<StreamTask*> tasks;
    for (auto& share : shares_) {
      if (share->control().id() != query_id || share->stopped) continue;
      for (auto& member : share->members) {
        if (member->stage.writes_repartition) continue;
        member->tasks.ForEachTask([&](int32_t, StreamTask& task) { tasks.push_back(&task); });
      }
    }
    visit(std::move(tasks));
  };
  if (!running_ || std::this_thread::get_id() == thread_.get_id()) return command();
  {
    std::lock_guard lock(commands_mutex_);
    visits_.push_back(std::move(command));
  }
  Wake();
}

void StreamThread::Wake() {
  std::lock_guard lock(commands_mutex_);
  if (polling_ != nullptr) polling_->Wake();
  wake_.notify_all();
}

void StreamThread::RunVisits() {
  std::vector<std::function<void()>> visits;
  {
    std::lock_guard lock(commands_mutex_);
    visits.swap(visits_);
  }
  for (auto& visit : visits) visit();
}

Status StreamThread::AddQuery(const QuerySpec& query) {
  return OnThread([this, &query]() -> Status {
    auto share = std::make_unique<Share>();
    share->spec = &query;
    share->seen_failures = query.control->failures();
    SinkOptions sink_options;
    if (exactly_once()) sink_options.transactional_id = TransactionalId(query.control->id());
    ASSIGN_OR_RAISE(auto sink, clients_.CreateSink(std::move(sink_options)));
    share->collector =
        std::make_unique<RecordCollector>(std::move(sink), clients_.max_message_bytes());
    for (const StageSpec& stage : query.stages) {
      share->members.push_back(
          std::make_unique<Member>(stage, *share, options_, *share->collector, clients_));
      share->members.back()->tasks.set_restore_counters({&query.control->restores()});
    }
    for (auto& member : share->members) {
      Status subscribed = Subscribe(*share, *member);
      if (!subscribed.ok()) {
        for (auto& started : share->members) (void)StopMember(*started, /*commit=*/false);
        return subscribed;
      }
    }
    shares_.push_back(std::move(share));
    return Status::OK();
  });
}

Status StreamThread::RemoveQuery(const std::string& query_id, bool commit) {
  return OnThread([this, &query_id, commit]() -> Status {
    auto found = std::find_if(shares_.begin(), shares_.end(),
                              [&](const auto& share) { return share->control().id() == query_id; });
    if (found == shares_.end()) return Status::OK();
    Share& share = **found;
    Status committed;
    if (commit && !share.stopped) committed = CommitShare(share);
    // What was processed since the last commit is not kept.
    if (exactly_once()) (void)share.collector->AbortTransaction(options_.commit_timeout);
    for (auto& member : share.members) (void)StopMember(*member, /*commit=*/false);
    removed_.produced += share.collector->produced();
    removed_.changelog_records += share.collector->changelog_records();
    removed_.rebalances += share.rebalances;
    for (auto& member : share.members) {
      removed_.counters += member->tasks.counters();
      removed_.restored_records += member->tasks.restored_records();
    }
    shares_.erase(found);
    PublishProgress();
    return committed;
  });
}

Status StreamThread::Subscribe(Share& share, Member& member) {
  SourceOptions source;
  source.group_id = options_.application_id + "_" + member.stage.id;
  source.topics = member.group.input_topics();
  source.co_partitioned = member.group.joins();
  Member* self = &member;
  source.on_rebalance = [self, this](const RebalanceEvent& event) {
    std::vector<int32_t> partitions;
    for (const auto& partition : event.partitions) partitions.push_back(partition.partition);
    if (event.kind == RebalanceEvent::Kind::kAssigned) {
      ++self->share.rebalances;
      SetAwaitingAssignment(*self, false);
      // A new task's restore may wait for a transaction its killed owner left open (see
      // TaskStateOptions::exactly_once): the share's own open transaction (the work of its
      // other tasks, under an incremental rebalance) commits first, so that the wait cannot
      // make it outlive its transaction.timeout.ms.
      if (exactly_once() && self->source && self->share.pending_failure.ok() &&
          !self->share.stopped) {
        Status commit = CommitTransaction(self->share);
        if (!commit.ok()) self->share.pending_failure = commit;
      }
      // A task that cannot start here is created again, and fails its query, when its first
      // records arrive (TaskManager::Process).
      for (int32_t partition : partitions) (void)self->tasks.Create(partition);
    } else if (self->source && !exactly_once()) {
      (void)self->tasks.Close(
          *self->source, partitions,
          /*commit=*/event.kind == RebalanceEvent::Kind::kRevoked && self->commit_on_revoke);
    } else if (self->source) {
      Share& owner = self->share;
      // One transaction holds the work of every task of the share: a revocation commits it
      // whole (Kafka Streams commits all its tasks then too), and lost partitions, whose
      // offsets can no longer be committed, abort it whole: the share then starts again from
      // the last commit with state restored from the changelogs.
      bool committed = false;
      if (event.kind == RebalanceEvent::Kind::kLost) {
        if (owner.pending_failure.ok()) {
          owner.pending_failure = Status::Unavailable(
              "partitions of group '" + options_.application_id + "_" + self->stage.id +
              "' were lost (session timed out): the open transaction is aborted");
        }
      } else if (self->commit_on_revoke && owner.pending_failure.ok() && !owner.stopped) {
        Status commit = CommitTransaction(owner);
        committed = commit.ok();
        if (!committed) owner.pending_failure = commit;
      }
      // Committed, the tasks' local state is the changelogs': kept with a checkpoint, so that
      // a partition that comes back here (most do, at a rebalance) replays only the tail.
      if (committed) {
        (void)self->tasks.CloseCommitted(partitions);
      } else {
        (void)self->tasks.Close(*self->source, partitions, /*commit=*/false);
      }
      for (const auto& partition : event.partitions) self->committed.erase(partition);
    }
  };
  (void)share;
  member.commit_on_revoke = true;
  member.last_input = options_.clock->Now();
  ASSIGN_OR_RAISE(member.source, clients_.CreateSource(std::move(source)));
  SetAwaitingAssignment(member, true);
  return Status::OK();
}

void StreamThread::SetAwaitingAssignment(Member& member, bool awaiting) {
  if (member.awaiting_assignment == awaiting) return;
  member.awaiting_assignment = awaiting;
  member.share.control().awaiting_assignment() += awaiting ? 1 : -1;
}

Status StreamThread::StopMember(Member& member, bool commit) {
  if (!member.source) return Status::OK();
  member.commit_on_revoke = commit;
  // Leaving the group revokes every partition, which closes their tasks.
  Status closed = member.source->Close();
  DropMember(member);
  member.source.reset();
  SetAwaitingAssignment(member, false);
  return closed;
}

void StreamThread::DropMember(Member& member) {
  member.batch.Clear();  // its views borrow the source's records
  member.tasks.DropAll();
  member.committed.clear();
  member.group.Reset();
}

Status StreamThread::Rewind(Member& member) {
  ASSIGN_OR_RAISE(auto assigned, member.source->Assignment());
  if (assigned.empty()) return Status::OK();
  ASSIGN_OR_RAISE(auto committed, member.source->Committed(assigned));
  // Nothing committed: from the start, as auto.offset.reset=earliest would.
  for (auto& offset : committed) {
    if (offset.offset < 0) offset.offset = Source::kBeginning;
  }
  return member.source->Seek(committed);
}

void StreamThread::Fail(Share& share, const Status& error, const Member* member) {
  QueryError failure;
  failure.error = error;
  if (member != nullptr && member->run_partition >= 0) {
    failure.topic = member->stage.source_topics[member->run_source];
    failure.partition = member->run_partition;
    failure.first_offset = member->run_first_offset;
    failure.last_offset = member->run_last_offset;
  }
  share.control().Fail(std::move(failure));
  Follow(share);
}

void StreamThread::Follow(Share& share) {
  QueryControl& control = share.control();
  if (control.paused() != share.paused) {
    share.paused = !share.paused;
    for (auto& member : share.members) {
      if (!member->source) continue;
      Status followed = share.paused ? member->source->SetPaused(true) : Unpause(*member);
      if (!followed.ok()) {
        Fail(share, followed, nullptr);
        return;
      }
    }
  }
  const uint64_t failures = control.failures();
  if (failures != share.seen_failures) {
    // What the query processed since its last commit is dropped, not committed: a restart
    // processes it again from there, with the state its changelogs held at that commit. Its
    // sources stay in their groups while it waits (no rebalance: a member that cannot reach
    // the broker cannot leave cleanly either); for good, they leave.
    share.seen_failures = failures;
    share.stopped = true;
    // Nothing of the open transaction is kept: its outputs and changelog writes are never
    // visible to read_committed readers, and the tasks' in-memory state, which has seen them,
    // is dropped below.
    if (exactly_once()) (void)share.collector->AbortTransaction(options_.commit_timeout);
    const QueryState state = control.state();
    const bool for_good = state == QueryState::kError || state == QueryState::kTerminated;
    for (auto& member : share.members) {
      if (for_good) {
        (void)StopMember(*member, /*commit=*/false);
      } else {
        DropMember(*member);
      }
    }
  }
  if (!share.stopped || !control.MayRestart(share.seen_failures)) return;
  // The backoff after a retriable failure ended: start again from the last commit.
  share.stopped = false;
  share.pending_failure = Status::OK();
  share.collector->ClearErrors();
  for (auto& member : share.members) {
    Status rewound = member->source ? Rewind(*member) : Subscribe(share, *member);
    if (!rewound.ok()) {
      Fail(share, rewound, nullptr);
      return;
    }
  }
}

Status StreamThread::Unpause(Member& member) {
  RETURN_NOT_OK(member.source->SetPaused(false));
  // Fetching goes on from the partitions' fetch positions, which the pause may have left past
  // records fetched but never processed: seek to the next offset each task would process
  // (the committed one where it processed nothing), so no record is skipped or read twice.
  ASSIGN_OR_RAISE(auto assigned, member.source->Assignment());
  if (!assigned.empty()) {
    ASSIGN_OR_RAISE(auto offsets, member.source->Committed(assigned));
    const NextOffsets& processed = member.tasks.next_offsets();
    for (auto& offset : offsets) {
      if (offset.offset < 0) offset.offset = Source::kBeginning;
      for (size_t source = 0; source < member.stage.source_topics.size(); ++source) {
        if (member.stage.source_topics[source] != offset.topic) continue;
        auto next = processed.find({source, offset.partition});
        if (next != processed.end()) offset.offset = next->second;
      }
    }
    RETURN_NOT_OK(member.source->Seek(offsets));
  }
  // Time spent paused is not idleness: windows do not close on it.
  member.last_input = options_.clock->Now();
  return Status::OK();
}

Result<int64_t> StreamThread::Poll(Member& member, int wait_ms) {
  {
    // Work queued before the poll starts would not wake it: do not wait at all then.
    std::lock_guard lock(commands_mutex_);
    if (HasQueuedWork()) wait_ms = 0;
    polling_ = member.source.get();
  }
  Status polled = member.source->Poll(options_.max_poll_records, std::chrono::milliseconds(wait_ms),
                                      member.batch);
  {
    std::lock_guard lock(commands_mutex_);
    polling_ = nullptr;
  }
  RETURN_NOT_OK(polled);
  // A rebalance served inside the poll failed the share (exactly-once): redo from the last
  // commit rather than process on.
  if (!member.share.pending_failure.ok()) {
    member.batch.Clear();
    return std::exchange(member.share.pending_failure, Status::OK());
  }
  const auto now = options_.clock->Now();
  const std::vector<SourceRecord>& records = member.batch.records;
  if (member.share.paused) {
    // Fetched before the pause took hold: put back, for the resumed query to process.
    if (!records.empty()) RETURN_NOT_OK(PutBack(member));
    return int64_t{0};
  }
  if (records.empty()) {
    // Every partition quiet: let stream time follow the wall clock so windows close.
    auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(now - member.last_input);
    if (idle.count() >= options_.idle_timeout_ms)
      RETURN_NOT_OK(member.tasks.AdvanceIdle(idle.count()));
    return int64_t{0};
  }
  member.last_input = now;
  const StageSpec& stage = member.stage;
  auto process = [&member, this](std::span<const InputMessage> run) {
    member.run_source = run.front().source;
    member.run_partition = run.front().partition;
    member.run_first_offset = run.front().offset;
    member.run_last_offset = run.back().offset;
    const auto started = options_.clock->Now();
    Status processed = member.tasks.Process(run);
    member.share.processing.Observe(
        std::chrono::duration<double>(options_.clock->Now() - started).count());
    return processed;
  };
  // A poll interleaves partitions: each run of one partition's messages is one batch for its
  // task. The views borrow the source's buffers until the batch is polled into again.
  std::vector<InputMessage>& inputs = member.inputs;
  inputs.clear();
  // A join's inputs are gathered first, to be merged by timestamp per task (below).
  const bool merge = member.group.joins();
  const size_t sources = stage.source_topics.size();
  for (const SourceRecord& record : records) {
    if (!merge && !inputs.empty() && inputs.back().partition != record.partition) {
      RETURN_NOT_OK(process(inputs));
      inputs.clear();
    }
    // Each source reading the record's topic gets it (two streams may share a topic).
    for (size_t source = 0; source < sources; ++source) {
      if (sources > 1 && record.topic != stage.source_topics[source]) continue;
      InputMessage& input = inputs.emplace_back();
      input.source = source;
      input.key = record.key;
      input.window.reset();
      if (stage.windowed_sources[source] && input.key) input.window = SplitWindowedKey(*input.key);
      input.value = record.value;
      input.timestamp = record.timestamp;
      input.partition = record.partition;
      input.offset = record.offset;
      input.retract = false;
      input.old_value.reset();
      input.source_key.reset();
      input.source_value.reset();
      input.headers = {member.batch.headers.data() + record.first_header, record.header_count};
      if (stage.reads_changes && record.header_count > 0) {
        const SourceBatch& batch = member.batch;
        input.retract = batch.FindHeader(record, kRetractHeader).has_value();
        input.old_value = batch.FindHeader(record, kOldValueHeader);
        input.source_key = batch.FindHeader(record, kSourceKeyHeader);
        input.source_value = batch.FindHeader(record, kSourceValueHeader);
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
      std::span<InputMessage> run(inputs.data() + begin, end - begin);
      MergeSourcesByTimestamp(run, member.merged);
      ASSIGN_OR_RAISE(size_t ready, member.group.ProcessableCount(*member.source, member.merged,
                                                                  member.tasks.next_offsets()));
      if (ready > 0) RETURN_NOT_OK(process(std::span(member.merged).first(ready)));
      if (ready < member.merged.size()) {
        ASSIGN_OR_RAISE(
            int64_t again,
            member.group.FetchAgain(*member.source, std::span(member.merged).subspan(ready)));
        fetched_again += again;
      }
      begin = end;
    }
  } else if (!inputs.empty()) {
    RETURN_NOT_OK(process(inputs));
  }
  inputs.clear();
  const int64_t count = static_cast<int64_t>(records.size()) - fetched_again;
  consumed_ += count;
  // The query's input is what its first stage reads; later stages read its repartition topic.
  if (&member == member.share.members.front().get()) member.share.consumed += count;
  return count;
}

Status StreamThread::PutBack(Member& member) {
  std::map<std::pair<std::string_view, int32_t>, int64_t> first;
  for (const SourceRecord& record : member.batch.records) {
    auto [offset, inserted] = first.try_emplace({record.topic, record.partition}, record.offset);
    if (!inserted) offset->second = std::min(offset->second, record.offset);
  }
  std::vector<TopicPartitionOffset> offsets;
  for (const auto& [partition, offset] : first) {
    offsets.push_back({std::string(partition.first), partition.second, offset});
  }
  member.batch.Clear();
  return member.source->Seek(offsets);
}

std::string StreamThread::TransactionalId(const std::string& query_id) const {
  std::string id = options_.application_id + "_" + query_id;
  if (!options_.instance_id.empty()) id += "-" + options_.instance_id;
  return id + "-" + std::to_string(index_);
}

Status StreamThread::CommitTransaction(Share& share) {
  // Stores write their changelog records, into the open transaction.
  std::vector<std::pair<Member*, std::vector<TopicPartitionOffset>>> offsets;
  for (auto& member : share.members) {
    if (!member->source) continue;
    ASSIGN_OR_RAISE(std::vector<TopicPartitionOffset> flushed, member->tasks.Flush({}));
    std::vector<TopicPartitionOffset> moved;
    for (TopicPartitionOffset& offset : flushed) {
      auto found = member->committed.find({offset.topic, offset.partition});
      if (found == member->committed.end() || found->second != offset.offset) {
        moved.push_back(std::move(offset));
      }
    }
    if (!moved.empty()) offsets.emplace_back(member.get(), std::move(moved));
  }
  // Delivered first, so that a failed delivery aborts the transaction rather than surfacing
  // only at the commit.
  RETURN_NOT_OK(share.collector->Flush(options_.commit_timeout));
  for (const auto& [member, moved] : offsets) {
    RETURN_NOT_OK(share.collector->SendOffsets(*member->source, moved, options_.commit_timeout));
  }
  RETURN_NOT_OK(share.collector->CommitTransaction(options_.commit_timeout));
  for (const auto& [member, moved] : offsets) {
    for (const TopicPartitionOffset& offset : moved) {
      member->committed[{offset.topic, offset.partition}] = offset.offset;
    }
  }
  return Status::OK();
}

Status StreamThread::CommitShare(Share& share) {
  const auto started = options_.clock->Now();
  if (exactly_once()) {
    RETURN_NOT_OK(CommitTransaction(share));
    share.control().Committed();
    ++commits_;
    commit_latency_.Observe(std::chrono::duration<double>(options_.clock->Now() - started).count());
    return Status::OK();
  }
  for (auto& member : share.members) {
    if (!member->source) continue;
    Status committed = member->tasks.Commit(*member->source, {});
    // The group is rebalancing (a member joined or left): the commit waits for the next
    // interval. Partitions that move are revoked (and committed) or lost (and closed
    // unprocessed) through the rebalance callbacks; nothing failed.
    if (committed.code() == StatusCode::kRebalanced) continue;
    RETURN_NOT_OK(committed);
  }
  share.control().Committed();
  ++commits_;
  commit_latency_.Observe(std::chrono::duration<double>(options_.clock->Now() - started).count());
  return Status::OK();
}

int64_t StreamThread::RunShare(Share& share, int wait_ms, bool commit) {
  int64_t processed = 0;
  for (auto& member : share.members) {
    // Pull queries (VisitTasks) wait for one poll at most, not for a whole pass.
    RunVisits();
    auto count = Poll(*member, wait_ms);
    if (!count.ok()) {
      Fail(share, count.status(), member.get());
      return processed;
    }
    processed += *count;
  }
  if (commit) {
    Status committed = CommitShare(share);
    if (!committed.ok()) Fail(share, committed, nullptr);
  }
  return processed;
}

int64_t StreamThread::RunOnce(int max_wait_ms) {
  RunCommands();
  RunVisits();
  const auto now = options_.clock->Now();
  size_t polling = 0;  // members to poll
  for (auto& share : shares_) {
    Follow(*share);
    if (!share->stopped) polling += share->members.size();
  }
  if (polling == 0) {
    // Nothing to poll (every query failed or none started): wait as a poll would, or until
    // work is queued.
    std::unique_lock lock(commands_mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(max_wait_ms),
                   [this] { return HasQueuedWork() || stopping_; });
    lock.unlock();
    PublishProgress();
    return 0;
  }
  const bool commit = now - last_commit_ >= std::chrono::milliseconds(options_.commit_interval_ms);
  const int wait = std::max(1, max_wait_ms / static_cast<int>(polling));
  int64_t processed = 0;
  for (auto& share : shares_) {
    if (!share->stopped) processed += RunShare(*share, wait, commit);
  }
  if (commit) last_commit_ = now;
  PublishProgress();
  return processed;
}

void StreamThread::CommitAll() {
  (void)OnThread([this] {
    CommitShares();
    return Status::OK();
  });
}

void StreamThread::CommitShares() {
  for (auto& share : shares_) {
    if (share->stopped) continue;
    Status committed = CommitShare(*share);
    if (!committed.ok()) Fail(*share, committed, nullptr);
  }
  last_commit_ = options_.clock->Now();
}

namespace {

// The older of two stream times, INT64_MIN standing for none.
int64_t OlderStreamTime(int64_t a, int64_t b) {
  if (a == INT64_MIN) return b;
  if (b == INT64_MIN) return a;
  return std::min(a, b);
}

}  // namespace

QueryProgress& QueryProgress::operator+=(const QueryProgress& other) {
  consumed += other.consumed;
  produced += other.produced;
  changelog_records += other.changelog_records;
  restored_records += other.restored_records;
  rebalances += other.rebalances;
  state_entries += other.state_entries;
  state_bytes += other.state_bytes;
  oldest_stream_time = OlderStreamTime(oldest_stream_time, other.oldest_stream_time);
  counters += other.counters;
  processing += other.processing;
  // A partition is read by one thread's member at a time.
  for (const auto& [partition, lag] : other.consumer_lag) consumer_lag[partition] = lag;
  return *this;
}

void StreamThread::PublishProgress() {
  ThreadProgress progress = removed_;
  progress.consumed = consumed_;
  progress.commits = commits_;
  progress.commit_latency = commit_latency_;
  for (const auto& share : shares_) {
    QueryProgress& query = progress.queries[share->control().id()];
    query.consumed = share->consumed;
    query.produced = share->collector->produced();
    query.changelog_records = share->collector->changelog_records();
    query.rebalances = share->rebalances;
    query.processing = share->processing;
    for (const auto& member : share->members) {
      query.counters += member->tasks.counters();
      query.restored_records += member->tasks.restored_records();
      query.state_entries += member->tasks.state_entries();
      query.state_bytes += member->tasks.state_bytes();
      query.oldest_stream_time =
          OlderStreamTime(query.oldest_stream_time, member->tasks.oldest_stream_time());
      if (!member->source) continue;
      for (const auto& [input, next] : member->tasks.next_offsets()) {
        TopicPartition partition{member->stage.source_topics[input.first], input.second};
        const int64_t high = member->source->CachedWatermarks(partition).second;
        if (high >= 0) query.consumer_lag[partition] = std::max<int64_t>(0, high - next);
      }
    }
    progress.produced += query.produced;
    progress.changelog_records += query.changelog_records;
    progress.rebalances += query.rebalances;
    progress.counters += query.counters;
    progress.restored_records += query.restored_records;
  }
  std::lock_guard lock(progress_mutex_);
  progress_ = progress;
}

ThreadProgress StreamThread::progress() const {
  std::lock_guard lock(progress_mutex_);
  return progress_;
}

}  // namespace sidestream::runtime
