#include "connectors/kafka/batch_consumer.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cstring>

namespace sidestream::kafka {
namespace {

constexpr size_t kMaxKeptErrors = 1000;

std::vector<TopicPartition> ToPartitions(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> result;
  if (list == nullptr) return result;
  result.reserve(list->cnt);
  for (int i = 0; i < list->cnt; ++i) {
    result.push_back({list->elems[i].topic, list->elems[i].partition});
  }
  return result;
}

// Cooperative-sticky moves only the partitions that change owner. Before librdkafka 2.3.0 a
// consumer closed before its first assignment aborts the process in that assignor
// (librdkafka#4312: a member with no partitions, or a stop during the first join), so older
// versions, Debian 12's 2.0.2 among them, use the eager round-robin assignor.
const char* AssignmentStrategy() {
  return rd_kafka_version() >= 0x020300ff ? "cooperative-sticky" : "roundrobin";
}

}  // namespace

std::string_view MessageView::topic() const {
  return message_->rkt != nullptr ? std::string_view(rd_kafka_topic_name(message_->rkt))
                                  : std::string_view();
}

int64_t MessageView::timestamp() const { return rd_kafka_message_timestamp(message_, nullptr); }

TimestampType MessageView::timestamp_type() const {
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  rd_kafka_message_timestamp(message_, &type);
  switch (type) {
    case RD_KAFKA_TIMESTAMP_CREATE_TIME:
      return TimestampType::kCreateTime;
    case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME:
      return TimestampType::kLogAppendTime;
    default:
      return TimestampType::kNotAvailable;
  }
}

size_t MessageView::header_count() const {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message_, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
  return rd_kafka_header_cnt(headers);
}

MessageHeader MessageView::header(size_t index) const {
  rd_kafka_headers_t* headers = nullptr;
  MessageHeader result;
  if (rd_kafka_message_headers(message_, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return result;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_all(headers, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    result.name = name;
    result.has_value = value != nullptr;
    if (value != nullptr) result.value = {static_cast<const char*>(value), size};
  }
  return result;
}

bool MessageView::FindHeader(std::string_view name, std::string_view* value) const {
  bool found = false;
  const size_t count = header_count();
  for (size_t i = 0; i < count; ++i) {
    MessageHeader header = this->header(i);
    if (header.name == name) {
      *value = header.value;
      found = true;
    }
  }
  return found;
}

void MessageBatch::Clear() {
  for (rd_kafka_message_t* message : messages_) rd_kafka_message_destroy(message);
  messages_.clear();
  if (owner_ != nullptr) {
    owner_->ForgetBatch(this);
    owner_ = nullptr;
  }
}

Status BatchConsumer::FatalError() {
  std::lock_guard<std::mutex> lock(errors_mutex_);
  return fatal_;
}

void BatchConsumer::ForgetBatch(MessageBatch* batch) {
  auto found = std::find(filled_batches_.begin(), filled_batches_.end(), batch);
  if (found != filled_batches_.end()) filled_batches_.erase(found);
}

Result<std::unique_ptr<BatchConsumer>> BatchConsumer::Create(ConsumerOptions options) {
  const bool assigned = !options.assignment.empty();
  // librdkafka wants a group id on every consumer handle; an assigned one never joins it.
  if (assigned && options.group_id.empty()) options.group_id = "sidestream-scan";
  if (options.group_id.empty()) return Status::InvalidArgument("consumer needs a group id");
  if (options.topics.empty() && !assigned) {
    return Status::InvalidArgument("consumer needs topics");
  }
  if (options.client.bootstrap_servers.empty()) {
    return Status::InvalidArgument("consumer needs bootstrap servers");
  }
  std::unique_ptr<BatchConsumer> consumer(new BatchConsumer(std::move(options)));
  const ConsumerOptions& opts = consumer->options_;
  ASSIGN_OR_RAISE(
      UniqueConf conf,
      BuildConf(opts.client, {{"group.id", opts.group_id},
                              {"session.timeout.ms", std::to_string(opts.session_timeout_ms)},
                              {"heartbeat.interval.ms", std::to_string(opts.heartbeat_interval_ms)},
                              {"partition.assignment.strategy", AssignmentStrategy()},
                              {"enable.auto.commit", "false"},
                              {"enable.auto.offset.store", "false"},
                              {"auto.offset.reset", "earliest"},
                              {"log_level", "3"}}));
  if (assigned) RETURN_NOT_OK(SetProperty(conf.get(), "enable.partition.eof", "true"));
  rd_kafka_conf_set_rebalance_cb(conf.get(), &BatchConsumer::RebalanceCallback);
  rd_kafka_conf_set_error_cb(conf.get(), &BatchConsumer::ErrorCallback);
  rd_kafka_conf_set_opaque(conf.get(), consumer.get());
  ASSIGN_OR_RAISE(consumer->handle_, NewHandle(RD_KAFKA_CONSUMER, std::move(conf)));
  rd_kafka_t* handle = consumer->handle_.get();
  // Route the main queue (rebalances, errors) into the consumer queue that Poll serves.
  RETURN_NOT_OK(StatusFromError(rd_kafka_poll_set_consumer(handle), "set up the consumer queue"));
  consumer->queue_.reset(rd_kafka_queue_get_consumer(handle));

  if (assigned) {
    UniquePartitionList partitions(
        rd_kafka_topic_partition_list_new(static_cast<int>(opts.assignment.size())));
    for (const TopicPartitionOffset& start : opts.assignment) {
      rd_kafka_topic_partition_list_add(partitions.get(), start.topic.c_str(), start.partition)
          ->offset = start.offset;
    }
    RETURN_NOT_OK(StatusFromError(rd_kafka_assign(handle, partitions.get()), "assign"));
    return consumer;
  }
  UniquePartitionList topics(
      rd_kafka_topic_partition_list_new(static_cast<int>(opts.topics.size())));
  for (const std::string& topic : opts.topics) {
    rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  RETURN_NOT_OK(StatusFromError(rd_kafka_subscribe(handle, topics.get()), "subscribe"));
  return consumer;
}

BatchConsumer::~BatchConsumer() {
  // rd_kafka_destroy waits for every message to be freed: free those still in batches.
  while (!filled_batches_.empty()) filled_batches_.back()->Clear();
  if (handle_ != nullptr) (void)Close();
  queue_.reset();
  handle_.reset();
}

void BatchConsumer::RebalanceCallback(rd_kafka_t* /*handle*/, rd_kafka_resp_err_t error,
                                      rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<BatchConsumer*>(opaque)->OnRebalance(error, partitions);
}

void BatchConsumer::OnRebalance(rd_kafka_resp_err_t error,
                                rd_kafka_topic_partition_list_t* partitions) {
  rd_kafka_t* handle = handle_.get();
  // No protocol while the consumer is not in a group (it is closing).
  const char* protocol = rd_kafka_rebalance_protocol(handle);
  const bool cooperative = protocol != nullptr && std::strcmp(protocol, "COOPERATIVE") == 0;
  RebalanceEvent event;
  event.partitions = ToPartitions(partitions);
  if (error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    event.kind = RebalanceEvent::Kind::kAssigned;
    Status status;
    if (cooperative) {
      rd_kafka_error_t* assign_error = rd_kafka_incremental_assign(handle, partitions);
      if (assign_error != nullptr) {
        status = StatusFromError(rd_kafka_error_code(assign_error), "incremental assign");
        rd_kafka_error_destroy(assign_error);
      }
    } else {
      status = StatusFromError(rd_kafka_assign(handle, partitions), "assign");
    }
    // A paused member's new partitions are paused before their first fetch.
    if (status.ok() && paused_) {
      status = StatusFromError(rd_kafka_pause_partitions(handle, partitions), "pause partitions");
    }
    if (!status.ok()) RecordError(std::move(status));
    if (options_.on_rebalance) options_.on_rebalance(event);
  } else {
    event.kind = rd_kafka_assignment_lost(handle) ? RebalanceEvent::Kind::kLost
                                                  : RebalanceEvent::Kind::kRevoked;
    // Tell the owner first, so that it may still commit what it processed.
    if (options_.on_rebalance) options_.on_rebalance(event);
    Status status;
    if (cooperative) {
      rd_kafka_error_t* unassign_error = rd_kafka_incremental_unassign(handle, partitions);
      if (unassign_error != nullptr) {
        status = StatusFromError(rd_kafka_error_code(unassign_error), "incremental unassign");
        rd_kafka_error_destroy(unassign_error);
      }
    } else {
      status = StatusFromError(rd_kafka_assign(handle, nullptr), "unassign");
    }
    if (!status.ok()) RecordError(std::move(status));
  }
  rebalance_events_.push_back(std::move(event));
}

void BatchConsumer::ErrorCallback(rd_kafka_t* handle, int error, const char* reason, void* opaque) {
  auto* self = static_cast<BatchConsumer*>(opaque);
  auto code = static_cast<rd_kafka_resp_err_t>(error);
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal_reason[512];
    rd_kafka_resp_err_t cause = rd_kafka_fatal_error(handle, fatal_reason, sizeof(fatal_reason));
    std::lock_guard<std::mutex> lock(self->errors_mutex_);
    self->fatal_ = Status::Internal(
        "fatal consumer error: " + std::string(rd_kafka_err2name(cause)) + ": " + fatal_reason);
    return;
  }
  self->RecordError(StatusFromError(code, std::string("consumer (") + reason + ")"));
}

void BatchConsumer::RecordError(Status status) {
  error_count_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(errors_mutex_);
  if (errors_.size() < kMaxKeptErrors) errors_.push_back(std::move(status));
}

void BatchConsumer::Wake() {
  if (queue_ != nullptr) rd_kafka_queue_yield(queue_.get());
}

Status BatchConsumer::Poll(size_t max_messages, std::chrono::milliseconds timeout,
                           MessageBatch* batch) {
  batch->Clear();
  if (closed_) return Status::InvalidArgument("Poll after Close");
  RETURN_NOT_OK(FatalError());
  batch->messages_.resize(max_messages);
  // librdkafka's batch call waits until the batch is full or the timeout passes, which
  // holds a trickle of records back for the whole timeout: wait for one message only,
  // then take what is already fetched without waiting.
  ssize_t count = max_messages == 0 ? 0
                                    : rd_kafka_consume_batch_queue(queue_.get(), TimeoutMs(timeout),
                                                                   batch->messages_.data(), 1);
  if (count == 1 && max_messages > 1) {
    ssize_t more = rd_kafka_consume_batch_queue(queue_.get(), 0, batch->messages_.data() + 1,
                                                max_messages - 1);
    count = more < 0 ? more : count + more;
  }
  if (count < 0) {
    batch->messages_.clear();
    return StatusFromError(rd_kafka_last_error(), "consume");
  }
  // Keep the data messages; turn error messages into recorded errors. Compacts in place.
  size_t kept = 0;
  uint64_t bytes = 0;
  for (ssize_t i = 0; i < count; ++i) {
    rd_kafka_message_t* message = batch->messages_[i];
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      bytes += message->len + message->key_len;
      batch->messages_[kept++] = message;
      continue;
    }
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (message->rkt != nullptr) {
        ends_.push_back({rd_kafka_topic_name(message->rkt), message->partition, message->offset});
      }
    } else {
      std::string context = "consume";
      if (message->rkt != nullptr) {
        context += " " + std::string(rd_kafka_topic_name(message->rkt)) + "[" +
                   std::to_string(message->partition) + "]";
      }
      context += std::string(" (") + rd_kafka_message_errstr(message) + ")";
      if (message->err == RD_KAFKA_RESP_ERR__FATAL) {
        char reason[512];
        rd_kafka_resp_err_t cause = rd_kafka_fatal_error(handle_.get(), reason, sizeof(reason));
        std::lock_guard<std::mutex> lock(errors_mutex_);
        fatal_ = Status::Internal("fatal consumer error: " + std::string(rd_kafka_err2name(cause)) +
                                  ": " + reason);
      } else {
        RecordError(StatusFromError(message->err, context));
      }
    }
    rd_kafka_message_destroy(message);
  }
  batch->messages_.resize(kept);
  if (kept > 0) {
    batch->owner_ = this;
    filled_batches_.push_back(batch);
  }
  messages_.fetch_add(kept, std::memory_order_relaxed);
  bytes_.fetch_add(bytes, std::memory_order_relaxed);
  return FatalError();
}

Status BatchConsumer::Commit(const std::vector<TopicPartitionOffset>& offsets) {
  if (offsets.empty()) return Status::OK();
  UniquePartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const TopicPartitionOffset& offset : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), offset.topic.c_str(), offset.partition)->offset =
        offset.offset;
  }
  rd_kafka_resp_err_t error = rd_kafka_commit(handle_.get(), list.get(), /*async=*/0);
  if (error == RD_KAFKA_RESP_ERR__NO_OFFSET) return Status::OK();
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < list->cnt; ++i) {
      if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        error = list->elems[i].err;
        break;
      }
    }
  }
  const std::string context = "commit offsets of group '" + options_.group_id + "'";
  if (error == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
      error == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
      error == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID) {
    // A member joined or left meanwhile (Kafka Streams' CommitFailedException).
    return Status::Rebalanced(context + ": " + rd_kafka_err2name(error));
  }
  Status status = StatusFromError(error, context);
  if (!status.ok()) error_count_.fetch_add(1, std::memory_order_relaxed);
  return status;
}

Result<std::vector<TopicPartitionOffset>> BatchConsumer::Committed(
    const std::vector<TopicPartition>& partitions, std::chrono::milliseconds timeout) {
  UniquePartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const TopicPartition& partition : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), partition.topic.c_str(), partition.partition);
  }
  RETURN_NOT_OK(StatusFromError(rd_kafka_committed(handle_.get(), list.get(), TimeoutMs(timeout)),
                                "read committed offsets"));
  std::vector<TopicPartitionOffset> result;
  for (int i = 0; i < list->cnt; ++i) {
    result.push_back({list->elems[i].topic, list->elems[i].partition, list->elems[i].offset});
  }
  return result;
}

std::pair<int64_t, int64_t> BatchConsumer::CachedWatermarks(const TopicPartition& partition) const {
  int64_t low = RD_KAFKA_OFFSET_INVALID, high = RD_KAFKA_OFFSET_INVALID;
  if (rd_kafka_get_watermark_offsets(handle_.get(), partition.topic.c_str(), partition.partition,
                                     &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return {RD_KAFKA_OFFSET_INVALID, RD_KAFKA_OFFSET_INVALID};
  }
  return {low, high};
}

Result<std::pair<int64_t, int64_t>> BatchConsumer::QueryWatermarks(
    const TopicPartition& partition, std::chrono::milliseconds timeout) {
  int64_t low = 0, high = 0;
  RETURN_NOT_OK(StatusFromError(
      rd_kafka_query_watermark_offsets(handle_.get(), partition.topic.c_str(), partition.partition,
                                       &low, &high, TimeoutMs(timeout)),
      "read the end offset of " + partition.topic + "[" + std::to_string(partition.partition) +
          "]"));
  return std::make_pair(low, high);
}

Status BatchConsumer::Seek(const std::vector<TopicPartitionOffset>& offsets) {
  UniquePartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const TopicPartitionOffset& offset : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), offset.topic.c_str(), offset.partition)->offset =
        offset.offset;
  }
  // No timeout, as confluent-kafka-go does: a seek is local (it queues a fetcher reset behind a
  // version barrier) and ends in microseconds. librdkafka 2.0.2 also reads a finite timeout as
  // microseconds (fixed in 2.1.0, PR #4230), so 10 s meant 10 ms and busy consumers failed.
  UniqueError error(rd_kafka_seek_partitions(handle_.get(), list.get(), -1));
  if (error) return Status::Unavailable("seek: " + std::string(rd_kafka_error_string(error.get())));
  for (int i = 0; i < list->cnt; ++i) {
    RETURN_NOT_OK(
        StatusFromError(list->elems[i].err, "seek " + std::string(list->elems[i].topic) + "[" +
                                                std::to_string(list->elems[i].partition) + "]"));
  }
  return Status::OK();
}

Result<std::vector<TopicPartition>> BatchConsumer::assignment() const {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  RETURN_NOT_OK(StatusFromError(rd_kafka_assignment(handle_.get(), &raw), "read assignment"));
  UniquePartitionList list(raw);
  return ToPartitions(list.get());
}

Status BatchConsumer::SetPaused(bool paused) {
  if (closed_) return Status::InvalidArgument("SetPaused after Close");
  paused_ = paused;
  rd_kafka_topic_partition_list_t* raw = nullptr;
  RETURN_NOT_OK(StatusFromError(rd_kafka_assignment(handle_.get(), &raw), "read assignment"));
  UniquePartitionList list(raw);
  if (list->cnt == 0) return Status::OK();
  return StatusFromError(paused ? rd_kafka_pause_partitions(handle_.get(), list.get())
                                : rd_kafka_resume_partitions(handle_.get(), list.get()),
                         paused ? "pause partitions" : "resume partitions");
}

std::vector<RebalanceEvent> BatchConsumer::TakeRebalanceEvents() {
  std::vector<RebalanceEvent> events(std::make_move_iterator(rebalance_events_.begin()),
                                     std::make_move_iterator(rebalance_events_.end()));
  rebalance_events_.clear();
  return events;
}

std::vector<Status> BatchConsumer::TakeErrors() {
  std::lock_guard<std::mutex> lock(errors_mutex_);
  std::vector<Status> errors;
  errors.swap(errors_);
  return errors;
}

Status BatchConsumer::Close() {
  if (closed_) return Status::OK();
  closed_ = true;
  // Serves the final revoke through RebalanceCallback on this thread.
  return StatusFromError(rd_kafka_consumer_close(handle_.get()), "close the consumer");
}

ClientCounters BatchConsumer::counters() const {
  return {messages_.load(std::memory_order_relaxed), bytes_.load(std::memory_order_relaxed),
          error_count_.load(std::memory_order_relaxed)};
}

}  // namespace sidestream::kafka
