#include "connectors/kafka/batch_producer.h"

#include <librdkafka/rdkafka.h>

namespace sidestream::kafka {
namespace {

constexpr size_t kMaxKeptErrors = 1000;
// Serve delivery reports every this many Produce calls, so that they do not pile up.
constexpr uint32_t kPollEvery = 1024;

}  // namespace

std::vector<std::pair<std::string, std::string>> ProducerDefaults(const ProducerOptions& options) {
  std::vector<std::pair<std::string, std::string>> defaults = {
      {"enable.idempotence", "true"},
      {"linger.ms", std::to_string(options.linger_ms)},
      {"queue.buffering.max.messages", std::to_string(options.max_queued_messages)},
      {"partitioner", "murmur2_random"},
      {"log_level", "3"}};
  if (!options.transactional_id.empty()) {
    // Kafka Streams' value under exactly-once (librdkafka's is 60 s): a killed producer's open
    // transaction holds back read_committed readers, and the restores of its tasks' next
    // owners, until the broker aborts it after this long.
    defaults.emplace_back("transaction.timeout.ms", "10000");
  }
  return defaults;
}

Result<std::unique_ptr<BatchProducer>> BatchProducer::Create(ProducerOptions options) {
  if (options.client.bootstrap_servers.empty()) {
    return Status::InvalidArgument("producer needs bootstrap servers");
  }
  std::unique_ptr<BatchProducer> producer(new BatchProducer(std::move(options)));
  const ProducerOptions& opts = producer->options_;
  ASSIGN_OR_RAISE(UniqueConf conf, BuildConf(opts.client, ProducerDefaults(opts)));
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &BatchProducer::DeliveryCallback);
  rd_kafka_conf_set_error_cb(conf.get(), &BatchProducer::ErrorCallback);
  rd_kafka_conf_set_opaque(conf.get(), producer.get());
  if (!opts.transactional_id.empty()) {
    RETURN_NOT_OK(SetProperty(conf.get(), "transactional.id", opts.transactional_id));
  }
  ASSIGN_OR_RAISE(producer->handle_, NewHandle(RD_KAFKA_PRODUCER, std::move(conf)));
  if (!opts.transactional_id.empty()) {
    RETURN_NOT_OK(producer->TransactionStatus(
        rd_kafka_init_transactions(producer->handle_.get(), TimeoutMs(opts.init_timeout)),
        "init transactions"));
  }
  return producer;
}

BatchProducer::~BatchProducer() {
  // What an unfinished transaction holds is never committed: abort it rather than wait for
  // the broker's transaction timeout to do so (read_committed readers stall until then).
  if (handle_ != nullptr && in_transaction_) (void)AbortTransaction(std::chrono::seconds(10));
  if (handle_ != nullptr) (void)Flush(std::chrono::seconds(10));
  for (auto& [name, topic] : topics_) rd_kafka_topic_destroy(topic);
  handle_.reset();
}

void BatchProducer::DeliveryCallback(rd_kafka_t* /*handle*/, const rd_kafka_message_t* message,
                                     void* opaque) {
  auto* self = static_cast<BatchProducer*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->messages_.fetch_add(1, std::memory_order_relaxed);
    self->bytes_.fetch_add(message->len + message->key_len, std::memory_order_relaxed);
    return;
  }
  // Purged by an aborted transaction: dropped on purpose, not a failure of the next one.
  if (message->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
      message->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
    return;
  }
  std::string context = "deliver to " + std::string(rd_kafka_topic_name(message->rkt)) + "[" +
                        std::to_string(message->partition) + "]";
  self->RecordError(StatusFromError(message->err, context), /*delivery_failure=*/true);
}

void BatchProducer::ErrorCallback(rd_kafka_t* handle, int error, const char* reason, void* opaque) {
  auto* self = static_cast<BatchProducer*>(opaque);
  auto code = static_cast<rd_kafka_resp_err_t>(error);
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal_reason[512];
    rd_kafka_resp_err_t cause = rd_kafka_fatal_error(handle, fatal_reason, sizeof(fatal_reason));
    Status status = Status::Internal(
        "fatal producer error: " + std::string(rd_kafka_err2name(cause)) + ": " + fatal_reason);
    {
      std::lock_guard<std::mutex> lock(self->errors_mutex_);
      self->fatal_ = status;
    }
    self->RecordError(std::move(status), /*delivery_failure=*/false);
    return;
  }
  self->RecordError(StatusFromError(code, std::string("producer (") + reason + ")"),
                    /*delivery_failure=*/false);
}

void BatchProducer::RecordError(Status status, bool delivery_failure) {
  error_count_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(errors_mutex_);
  if (delivery_failure && first_delivery_failure_.ok()) first_delivery_failure_ = status;
  if (errors_.size() < kMaxKeptErrors) errors_.push_back(std::move(status));
}

Result<rd_kafka_topic_t*> BatchProducer::Topic(std::string_view name) {
  // Heterogeneous lookup needs C++20 transparent hashing; a short string copy is cheaper
  // than the topic lookup librdkafka would do per message.
  std::string key(name);
  auto found = topics_.find(key);
  if (found != topics_.end()) return found->second;
  rd_kafka_topic_t* topic = rd_kafka_topic_new(handle_.get(), key.c_str(), nullptr);
  if (topic == nullptr) {
    return StatusFromError(rd_kafka_last_error(), "open topic '" + key + "'");
  }
  topics_.emplace(std::move(key), topic);
  return topic;
}

Status BatchProducer::TransactionStatus(rd_kafka_error_t* raw, std::string_view context) {
  UniqueError error(raw);
  if (!error) return Status::OK();
  std::string what = std::string(context) + " (transactional.id '" + options_.transactional_id +
                     "'): " + rd_kafka_error_name(error.get()) + ": " +
                     rd_kafka_error_string(error.get());
  if (rd_kafka_error_is_fatal(error.get())) {
    const bool fenced = rd_kafka_error_code(error.get()) == RD_KAFKA_RESP_ERR__FENCED ||
                        rd_kafka_error_code(error.get()) == RD_KAFKA_RESP_ERR_PRODUCER_FENCED;
    Status status = Status::Internal(
        what + (fenced ? " [fatal: a newer producer with the same transactional.id fenced this "
                         "one; is the same query running in another process with the same "
                         "service id?]"
                       : " [fatal]"));
    std::lock_guard<std::mutex> lock(errors_mutex_);
    if (fatal_.ok()) fatal_ = status;
    return status;
  }
  if (rd_kafka_error_txn_requires_abort(error.get())) {
    return Status::Unavailable(what + " [abortable: the transaction is aborted and redone]");
  }
  return Status::Unavailable(what + " [retriable]");
}

Status BatchProducer::MaybeBeginTransaction() {
  if (in_transaction_ || !transactional()) return Status::OK();
  RETURN_NOT_OK(
      TransactionStatus(rd_kafka_begin_transaction(handle_.get()), "begin a transaction"));
  in_transaction_ = true;
  return Status::OK();
}

Status BatchProducer::SendOffsets(const BatchConsumer& consumer,
                                  const std::vector<TopicPartitionOffset>& offsets,
                                  std::chrono::milliseconds timeout) {
  if (!transactional())
    return Status::InvalidArgument("SendOffsets needs a transactional producer");
  if (offsets.empty()) return Status::OK();
  RETURN_NOT_OK(MaybeBeginTransaction());
  UniquePartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const TopicPartitionOffset& offset : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), offset.topic.c_str(), offset.partition)->offset =
        offset.offset;
  }
  UniqueGroupMetadata metadata = consumer.GroupMetadata();
  return TransactionStatus(
      rd_kafka_send_offsets_to_transaction(handle_.get(), list.get(), metadata.get(),
                                           TimeoutMs(timeout)),
      "send offsets of group '" + consumer.group_id() + "' to the transaction");
}

Status BatchProducer::CommitTransaction(std::chrono::milliseconds timeout) {
  if (!in_transaction_) return Status::OK();
  Status committed = TransactionStatus(
      rd_kafka_commit_transaction(handle_.get(), TimeoutMs(timeout)), "commit the transaction");
  // Delivery failures of the transaction's messages fail the commit itself.
  if (committed.ok()) {
    in_transaction_ = false;
    std::lock_guard<std::mutex> lock(errors_mutex_);
    first_delivery_failure_ = Status::OK();
  }
  return committed;
}

Status BatchProducer::AbortTransaction(std::chrono::milliseconds timeout) {
  if (!in_transaction_) return Status::OK();
  Status aborted = TransactionStatus(rd_kafka_abort_transaction(handle_.get(), TimeoutMs(timeout)),
                                     "abort the transaction");
  if (aborted.ok()) {
    in_transaction_ = false;
    rd_kafka_poll(handle_.get(), 0);  // serve the purged messages' reports now
    std::lock_guard<std::mutex> lock(errors_mutex_);
    first_delivery_failure_ = Status::OK();
  }
  return aborted;
}

Status BatchProducer::Produce(std::string_view topic_name, int32_t partition, std::string_view key,
                              std::string_view value, int64_t timestamp_ms,
                              std::span<const ProduceHeader> headers) {
  {
    std::lock_guard<std::mutex> lock(errors_mutex_);
    if (!fatal_.ok()) return fatal_;
  }
  ASSIGN_OR_RAISE(rd_kafka_topic_t * topic, Topic(topic_name));
  RETURN_NOT_OK(MaybeBeginTransaction());
  if (++produced_since_poll_ >= kPollEvery) {
    produced_since_poll_ = 0;
    rd_kafka_poll(handle_.get(), 0);
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.enqueue_timeout;
  for (;;) {
    rd_kafka_headers_t* message_headers = nullptr;
    if (!headers.empty()) {
      message_headers = rd_kafka_headers_new(headers.size());
      for (const ProduceHeader& header : headers) {
        rd_kafka_header_add(message_headers, header.name.data(),
                            static_cast<ssize_t>(header.name.size()),
                            header.has_value ? header.value.data() : nullptr,
                            static_cast<ssize_t>(header.value.size()));
      }
    }
    rd_kafka_resp_err_t error = rd_kafka_producev(
        handle_.get(), RD_KAFKA_V_RKT(topic), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_HEADERS(message_headers), RD_KAFKA_V_END);
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::OK();  // headers now owned
    if (message_headers != nullptr) rd_kafka_headers_destroy(message_headers);
    if (error != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      error_count_.fetch_add(1, std::memory_order_relaxed);
      return StatusFromError(error, "produce to '" + std::string(topic_name) + "'");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      error_count_.fetch_add(1, std::memory_order_relaxed);
      return Status::Unavailable("produce to '" + std::string(topic_name) +
                                 "': local queue still full after " +
                                 std::to_string(options_.enqueue_timeout.count()) +
                                 " ms (broker slow or down) [retriable]");
    }
    // Make room: serve delivery reports, waiting a little for some to arrive.
    rd_kafka_poll(handle_.get(), 10);
  }
}

Status BatchProducer::Flush(std::chrono::milliseconds timeout) {
  rd_kafka_resp_err_t error = rd_kafka_flush(handle_.get(), TimeoutMs(timeout));
  if (error == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return Status::Unavailable("flush: " + std::to_string(outstanding()) +
                               " messages still undelivered after " +
                               std::to_string(timeout.count()) + " ms [retriable]");
  }
  std::lock_guard<std::mutex> lock(errors_mutex_);
  if (!fatal_.ok()) return fatal_;
  if (first_delivery_failure_.ok()) return StatusFromError(error, "flush");
  Status first = std::move(first_delivery_failure_);
  first_delivery_failure_ = Status::OK();
  return first;
}

std::vector<Status> BatchProducer::TakeErrors() {
  std::lock_guard<std::mutex> lock(errors_mutex_);
  std::vector<Status> errors;
  errors.swap(errors_);
  first_delivery_failure_ = Status::OK();
  return errors;
}

int BatchProducer::outstanding() const { return rd_kafka_outq_len(handle_.get()); }

ClientCounters BatchProducer::counters() const {
  return {messages_.load(std::memory_order_relaxed), bytes_.load(std::memory_order_relaxed),
          error_count_.load(std::memory_order_relaxed)};
}

}  // namespace sidestream::kafka
