#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "connectors/kafka/client_config.h"
#include "runtime/source.h"

namespace sidestream::kafka {

using runtime::RebalanceEvent;
using runtime::TopicPartition;
using runtime::TopicPartitionOffset;

class BatchConsumer;

/// How a message's timestamp was set.
enum class TimestampType { kNotAvailable, kCreateTime, kLogAppendTime };

/// One record header; views into the message.
struct MessageHeader {
  std::string_view name;
  std::string_view value;
  bool has_value = false;  // false for a null header value
};

/// A read-only view of one consumed message. Valid while the MessageBatch that holds it is
/// neither polled into again, cleared nor destroyed. Cheap to copy.
class MessageView {
 public:
  explicit MessageView(rd_kafka_message_t* message) : message_(message) {}

  std::string_view topic() const;
  int32_t partition() const { return message_->partition; }
  int64_t offset() const { return message_->offset; }
  /// Empty for a null key; has_key() tells null from empty.
  std::string_view key() const {
    return {static_cast<const char*>(message_->key), message_->key_len};
  }
  bool has_key() const { return message_->key != nullptr; }
  std::string_view value() const {
    return {static_cast<const char*>(message_->payload), message_->len};
  }
  bool has_value() const { return message_->payload != nullptr; }
  /// Milliseconds since the epoch; -1 when not available.
  int64_t timestamp() const;
  TimestampType timestamp_type() const;
  size_t header_count() const;
  /// The `index`th header, 0 <= index < header_count().
  MessageHeader header(size_t index) const;
  /// The last header called `name`, if any.
  bool FindHeader(std::string_view name, std::string_view* value) const;

 private:
  rd_kafka_message_t* message_;
};

/// Messages from one BatchConsumer::Poll, owned here. Reused across polls to avoid
/// allocation. When the consumer that filled it is destroyed first, the consumer clears it
/// (librdkafka cannot shut down while its messages live). Not thread-safe: use it on the
/// consumer's thread.
class MessageBatch {
 public:
  MessageBatch() = default;
  ~MessageBatch() { Clear(); }
  MessageBatch(const MessageBatch&) = delete;
  MessageBatch& operator=(const MessageBatch&) = delete;

  size_t size() const { return messages_.size(); }
  bool empty() const { return messages_.empty(); }
  MessageView operator[](size_t index) const { return MessageView(messages_[index]); }
  /// Frees the messages; their views become invalid.
  void Clear();

 private:
  friend class BatchConsumer;
  std::vector<rd_kafka_message_t*> messages_;
  BatchConsumer* owner_ = nullptr;  // the consumer whose messages these are, if any
};

/// Options for a BatchConsumer.
struct ConsumerOptions {
  /// Bootstrap servers and extra properties (they override the defaults below).
  ClientConfig client;
  std::string group_id;
  std::vector<std::string> topics;
  /// Defaults suited to the embedded broker (see PLATFORM.md): with Kafka's 45 s a
  /// rebalance after a member leaves takes too long.
  int session_timeout_ms = 6000;
  int heartbeat_interval_ms = 1000;
  /// Called synchronously on the polling thread, inside Poll or Close: after partitions are
  /// assigned, and before revoked or lost ones are unassigned (so the callee may still commit
  /// revoked partitions' offsets). May call Commit. Optional; events are also queued for
  /// TakeRebalanceEvents.
  std::function<void(const RebalanceEvent&)> on_rebalance;
  /// Non-empty: reads these partitions from these offsets (-2, librdkafka's
  /// RD_KAFKA_OFFSET_BEGINNING, for the first) by assignment instead of subscribing to
  /// `topics`: no group is joined and nothing is committed (`group_id` may be empty), and each
  /// partition whose fetch reaches its end is reported (TakePartitionEnds). A bounded scan: a
  /// pull query on a stream.
  std::vector<TopicPartitionOffset> assignment;
};

/// A group consumer that reads in batches through librdkafka's queue API.
///
/// Settings: partition.assignment.strategy=cooperative-sticky (incremental assign and
/// unassign), enable.auto.commit=false (commit with Commit), enable.auto.offset.store=false,
/// auto.offset.reset=earliest.
///
/// Ownership and threads: owns its librdkafka handle and consumer queue. Poll, Commit,
/// Close and TakeRebalanceEvents belong to one thread (the stream thread that owns it);
/// counters() may be read from any thread. Close leaves the group (revoking everything,
/// which calls on_rebalance); the destructor calls Close when it was not called.
class BatchConsumer {
 public:
  /// Creates the consumer and subscribes (or assigns `options.assignment`). InvalidArgument
  /// for a refused property, a missing group id or no topics.
  static Result<std::unique_ptr<BatchConsumer>> Create(ConsumerOptions options);
  ~BatchConsumer();
  BatchConsumer(const BatchConsumer&) = delete;
  BatchConsumer& operator=(const BatchConsumer&) = delete;

  /// Replaces `batch`'s content with up to `max_messages` messages, waiting up to `timeout`
  /// for the first. Also serves rebalances. An empty batch is not an error. Non-fatal errors
  /// that librdkafka reports on the way (broker down, ...) are retried by librdkafka, counted
  /// and kept for TakeErrors. Returns an error only when the consumer is unusable: Internal
  /// for a fatal error, or after Close.
  Status Poll(size_t max_messages, std::chrono::milliseconds timeout, MessageBatch* batch);

  /// Commits `offsets` (next offsets to read) synchronously. Unavailable when retriable;
  /// Rebalanced when a member joined or left meanwhile (the commit is refused).
  Status Commit(const std::vector<TopicPartitionOffset>& offsets);

  /// The committed offsets (next to read) of `partitions`; -1001 (RD_KAFKA_OFFSET_INVALID)
  /// where the group has none.
  Result<std::vector<TopicPartitionOffset>> Committed(
      const std::vector<TopicPartition>& partitions,
      std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// The low and high watermarks of `partition` as the last fetch response reported them
  /// (no broker call); -1001 (RD_KAFKA_OFFSET_INVALID) each while none has arrived.
  std::pair<int64_t, int64_t> CachedWatermarks(const TopicPartition& partition) const;

  /// The low and high watermarks of `partition` from its leader (a round trip of up to
  /// `timeout`): the high one is the offset the next record appended will get.
  Result<std::pair<int64_t, int64_t>> QueryWatermarks(const TopicPartition& partition,
                                                      std::chrono::milliseconds timeout);
  /// With an assignment: the partitions whose fetch reached the end of the log (librdkafka's
  /// partition EOF) in the polls since the last call, each with the offset it reached.
  std::vector<TopicPartitionOffset> TakePartitionEnds() { return std::exchange(ends_, {}); }
  /// Makes the next polls return `offsets`' partitions from those offsets again: messages
  /// already fetched past them are dropped, not returned (librdkafka's seek).
  Status Seek(const std::vector<TopicPartitionOffset>& offsets);

  /// The current assignment.
  Result<std::vector<TopicPartition>> assignment() const;

  /// Pauses (or resumes) fetching of every assigned partition, and of those assigned while
  /// paused (librdkafka's pause: the member stays in its group and Poll keeps serving
  /// rebalances and max.poll.interval.ms). Messages fetched but not yet polled are dropped;
  /// resumed, a partition is fetched from its fetch position (Seek to choose it).
  Status SetPaused(bool paused);

  /// Rebalance events since the last call, oldest first.
  std::vector<RebalanceEvent> TakeRebalanceEvents();

  /// Non-fatal errors since the last call (each retriable or not), at most 1000 kept.
  std::vector<Status> TakeErrors();

  /// Leaves the group. Idempotent.
  Status Close();

  /// Makes a Poll under way on another thread return at once, or else the next Poll
  /// (librdkafka's rd_kafka_queue_yield on the consumer queue: it sets a flag that the
  /// waiting consume call checks, so no message is lost and nothing polls busily). Any
  /// thread; not concurrently with the destructor.
  void Wake();

  ClientCounters counters() const;
  const std::string& group_id() const { return options_.group_id; }
  /// The group id, generation and member id as of now, for a transactional producer's
  /// SendOffsets (KIP-447: the broker refuses offsets of a generation it has moved on from).
  UniqueGroupMetadata GroupMetadata() const {
    return UniqueGroupMetadata(rd_kafka_consumer_group_metadata(handle_.get()));
  }

 private:
  explicit BatchConsumer(ConsumerOptions options) : options_(std::move(options)) {}
  static void RebalanceCallback(rd_kafka_t* handle, rd_kafka_resp_err_t error,
                                rd_kafka_topic_partition_list_t* partitions, void* opaque);
  void OnRebalance(rd_kafka_resp_err_t error, rd_kafka_topic_partition_list_t* partitions);
  static void ErrorCallback(rd_kafka_t* handle, int error, const char* reason, void* opaque);
  void RecordError(Status status);
  Status FatalError();

  friend class MessageBatch;
  void ForgetBatch(MessageBatch* batch);

  ConsumerOptions options_;
  UniqueHandle handle_;
  std::vector<MessageBatch*> filled_batches_;  // batches holding our messages
  UniqueQueue queue_;
  bool closed_ = false;
  bool paused_ = false;                          // owner thread only
  Status fatal_;                                 // guarded by errors_mutex_
  std::deque<RebalanceEvent> rebalance_events_;  // owner thread only
  std::vector<TopicPartitionOffset> ends_;       // owner thread only
  std::mutex errors_mutex_;
  std::vector<Status> errors_;  // guarded by errors_mutex_
  std::atomic<uint64_t> messages_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> error_count_{0};
};

}  // namespace sidestream::kafka
