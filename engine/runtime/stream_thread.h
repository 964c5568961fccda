#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/latency_histogram.h"
#include "planner/physical_plan.h"
#include "runtime/query_status.h"
#include "runtime/source.h"
#include "runtime/task_manager.h"

namespace sidestream::runtime {

struct StreamThreadOptions {
  /// Prefix of consumer group and changelog names.
  std::string application_id = "sidestream";
  const Clock* clock = &Clock::System();
  /// How often offsets are committed (after stores are flushed and outputs delivered); 0
  /// commits after every poll.
  int64_t commit_interval_ms = 2000;
  /// How long a commit waits for outputs to be delivered; past it the commit fails with a
  /// retriable error.
  std::chrono::milliseconds commit_timeout{30000};
  /// With no input for this long, stream time follows the wall clock.
  int64_t idle_timeout_ms = 5000;
  /// How long a join task waits for an input that has records on the broker but none fetched
  /// before it runs without it (Kafka Streams' max.task.idle.ms).
  std::chrono::milliseconds max_task_idle{5000};
  size_t max_poll_records = 10000;
  /// Wraps every task's stores (see StoreWrapper); none when empty.
  StoreWrapper wrap_store;
  /// Under exactly_once_v2 each share of a query writes through its own transactional sink
  /// (Kafka Streams' one producer per stream thread, per query here so that queries still
  /// fail alone), with transactional.id "<application_id>_<query id>-<instance_id>-<thread
  /// index>" ("-<instance_id>" left out when empty): stable across restarts of the same
  /// instance, so a restarted share fences its dead predecessor and aborts what it left open.
  ProcessingGuarantee guarantee = ProcessingGuarantee::kAtLeastOnce;
  std::string instance_id;
  /// Where tasks keep their state: in memory (the default) or on local disk.
  TaskStateOptions state;
};

/// A persistent query's stages, for every thread that runs a share of it.
struct QuerySpec {
  std::shared_ptr<QueryControl> control;
  std::vector<StageSpec> stages;                    // the repartition stage first
  std::vector<analyzer::LogicalOperatorPtr> plans;  // the stages' (StageSpec::plan)
};

/// The stages of `physical`, which it takes the plans of. `properties`: the session's and the
/// query's WITH properties. Fails when a stage's plan cannot run (a task is built to check).
Result<std::unique_ptr<QuerySpec>> MakeQuerySpec(
    planner::PhysicalPlan physical, const std::map<std::string, std::string>& properties,
    std::shared_ptr<QueryControl> control);

/// One query's share of a stream thread's work, for metrics. Shares of the same query on
/// several threads add up (operator+=).
struct QueryProgress {
  int64_t consumed = 0;
  int64_t produced = 0;
  int64_t changelog_records = 0;
  int64_t restored_records = 0;
  int64_t rebalances = 0;     // partitions assigned to its members, counted per assignment
  int64_t state_entries = 0;  // in the stores of its live tasks
  int64_t state_bytes = 0;    // their estimated bytes
  /// The oldest stream time of its live tasks; INT64_MIN when none has one.
  int64_t oldest_stream_time = INT64_MIN;
  TaskCounters counters;  // of its tasks, live and closed
  /// How long each run of one partition's polled records took to process.
  LatencyHistogram processing;
  /// Per input partition its tasks read: records on the broker past the next one to process
  /// (from the high watermark the consumer last saw; partitions with nothing processed yet
  /// are left out).
  std::map<TopicPartition, int64_t> consumer_lag;

  QueryProgress& operator+=(const QueryProgress& other);
};

/// Totals of one stream thread, readable from any thread.
struct ThreadProgress {
  int64_t consumed = 0;
  int64_t produced = 0;
  int64_t changelog_records = 0;
  int64_t restored_records = 0;
  int64_t rebalances = 0;
  int64_t commits = 0;  // of a query's share: its offsets (and the outputs before them)
  LatencyHistogram commit_latency;
  TaskCounters counters;  // of its tasks, live and closed
  /// The shares running now, by query id (removed ones count in the totals above only).
  std::map<std::string, QueryProgress> queries;
};

/// Runs tasks of many queries on one thread (Kafka Streams' StreamThread). For each query it
/// holds a share: per stage one Source (a member of the stage's group, which spreads the
/// partitions over every thread's members) with a TaskManager, and one RecordCollector. Each
/// pass polls every share once, processes what arrived, and commits when the commit interval
/// has passed. A share that fails records it in the query's QueryControl; the query's shares
/// on every thread then drop their tasks, and start again from the last commit when the
/// backoff ends (or leave their groups for good). A paused query's shares pause their sources
/// and keep polling them, so they keep their groups and tasks, and process nothing until
/// resumed.
///
/// Under exactly_once_v2 a share's commit is one transaction: its tasks' stores write their
/// changelog records, outputs are delivered, each stage's offsets go into the transaction with
/// that stage's group metadata, and the transaction commits. A revocation commits the whole
/// transaction before the revoked tasks close. Any failure of the share (including partitions
/// lost, or a commit the broker refuses) aborts the open transaction, drops every task's
/// in-memory state and, after the backoff, restores it from the changelogs (read_committed)
/// and seeks the inputs back to the committed offsets, so state that no commit kept is never
/// used. Thread: Start runs passes on a thread of its
/// own; without Start, the owner calls RunOnce. AddQuery, RemoveQuery and progress() from any
/// thread.
class StreamThread {
 public:
  StreamThread(int index, StreamThreadOptions options, Clients& clients);
  ~StreamThread();

  /// Runs passes on a new thread until Stop.
  void Start();
  /// Asks the thread to stop after its pass: it commits what it processed and its sources
  /// leave their groups. Returns at once; several threads stop together this way.
  void RequestStop() {
    stopping_ = true;
    Wake();
  }
  /// RequestStop, then waits for the thread to end.
  void Stop();

  /// Adds this thread's share of `query`; its sources join their groups on this thread. The
  /// spec must outlive the share.
  Status AddQuery(const QuerySpec& query);
  /// Commits the share of `query_id` (with `commit`) and closes it: its sources leave their
  /// groups, its tasks are freed. Waits for it when the thread runs.
  Status RemoveQuery(const std::string& query_id, bool commit);

  /// One pass: polls every share (up to `max_wait_ms` in all). Returns the records processed.
  int64_t RunOnce(int max_wait_ms);
  /// Flushes and commits every running share (on the thread, when it runs). A share whose
  /// commit fails fails its query.
  void CommitAll();

  /// Pull queries read a query's state on the thread that owns it: `visit` runs on this
  /// thread between two polls (at once when the thread was not started: its owner runs the
  /// passes), with the live tasks of the last stage of `query_id` that this thread runs
  /// (none when it runs no share of it, or its share is stopped after a failure). The tasks
  /// are valid during the call only. Returns at once; any thread. Queued visits run at the
  /// latest when the thread stops.
  using TaskVisitor = std::function<void(std::vector<StreamTask*> tasks)>;
  void VisitTasks(const std::string& query_id, TaskVisitor visit);

  ThreadProgress progress() const;
  int index() const { return index_; }

 private:
  struct Share;
  struct Member;
  /// Cuts short the thread's wait (a poll under way, or the sleep of a thread with nothing
  /// to poll) so that queued commands and visits run at once. Any thread.
  void Wake();
  /// Whether commands or visits wait for the thread. Needs commands_mutex_.
  bool HasQueuedWork() const { return !commands_.empty() || !visits_.empty(); }
  /// Runs `command` on the thread (at once when it is not running) and returns its status.
  Status OnThread(std::function<Status()> command);
  void RunCommands();
  /// Runs the queued VisitTasks calls. They change no share, so they may run mid-pass.
  void RunVisits();
  Status Subscribe(Share& share, Member& member);
  /// Counts the member in its query's QueryStatus::awaiting_assignment, or no longer.
  void SetAwaitingAssignment(Member& member, bool awaiting);
  Status StopMember(Member& member, bool commit);
  void DropMember(Member& member);
  Status Rewind(Member& member);
  /// Resumes a paused member's fetching at the records its tasks would process next.
  Status Unpause(Member& member);
  /// Seeks back to the first record of each partition in the member's batch, and clears it.
  Status PutBack(Member& member);
  void Fail(Share& share, const Status& error, const Member* member);
  /// Follows the query's control: drops or stops the share after a failure seen elsewhere,
  /// and restarts it when its backoff ended.
  void Follow(Share& share);
  int64_t RunShare(Share& share, int wait_ms, bool commit);
  Result<int64_t> Poll(Member& member, int wait_ms);
  Status CommitShare(Share& share);
  /// CommitShare under exactly_once_v2: one transaction for every stage of the share.
  Status CommitTransaction(Share& share);
  bool exactly_once() const { return options_.guarantee == ProcessingGuarantee::kExactlyOnceV2; }
  std::string TransactionalId(const std::string& query_id) const;
  void CommitShares();
  /// Every source leaves its group (the thread is stopping; its shares are committed).
  void CloseSources();
  void PublishProgress();

  const int index_;
  const StreamThreadOptions options_;
  Clients& clients_;
  std::vector<std::unique_ptr<Share>> shares_;  // thread-owned
  std::chrono::steady_clock::time_point last_commit_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
  std::mutex commands_mutex_;
  std::vector<std::function<void()>> commands_;  // guarded by commands_mutex_
  std::vector<std::function<void()>> visits_;    // guarded by commands_mutex_
  // The source being polled now, woken when work is queued; guarded by commands_mutex_ (so
  // that it is not closed while another thread wakes it).
  Source* polling_ = nullptr;
  std::condition_variable wake_;  // an idle thread's sleep, with commands_mutex_
  mutable std::mutex progress_mutex_;
  ThreadProgress progress_;          // guarded by progress_mutex_
  int64_t consumed_ = 0;             // thread-owned
  ThreadProgress removed_;           // thread-owned: totals of shares removed
  int64_t commits_ = 0;              // thread-owned
  LatencyHistogram commit_latency_;  // thread-owned
};

}  // namespace sidestream::runtime
