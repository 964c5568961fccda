#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "connectors/kafka/batch_consumer.h"
#include "connectors/kafka/client_config.h"
#include "runtime/source.h"

typedef struct rd_kafka_topic_s rd_kafka_topic_t;

namespace sidestream::kafka {

/// One header to produce.
using ProduceHeader = runtime::RecordHeader;

/// Options for a BatchProducer.
struct ProducerOptions {
  /// Bootstrap servers and extra properties (they override the defaults below).
  ClientConfig client;
  /// Small, so that results flow on soon; librdkafka batches whatever arrives meanwhile.
  int linger_ms = 5;
  /// Bound of librdkafka's local queue (queue.buffering.max.messages).
  int max_queued_messages = 100000;
  /// How long Produce keeps retrying while the local queue is full, serving delivery
  /// reports, before it gives up with Unavailable.
  std::chrono::milliseconds enqueue_timeout = std::chrono::seconds(30);
  /// Non-empty: a transactional producer with this transactional.id (exactly-once). Create
  /// initializes its transactions, waiting up to init_timeout: that fences an older producer
  /// with the same id and aborts the transaction it left open.
  std::string transactional_id;
  std::chrono::milliseconds init_timeout = std::chrono::seconds(60);
};

/// The librdkafka properties a producer of `options` starts from, before options.client's.
std::vector<std::pair<std::string, std::string>> ProducerDefaults(const ProducerOptions& options);

/// An idempotent producer that batches in librdkafka and counts delivery reports; with a
/// transactional id, it writes through transactions (librdkafka's transactional API, as
/// examples/transactions.c uses it): Produce and SendOffsets open one when none is open,
/// CommitTransaction and AbortTransaction close it. Transaction calls return Unavailable when
/// the transaction must be aborted (or a retriable error left it undecided: abort it too), and
/// Internal when the producer is unusable (fenced: another producer with the same id started,
/// or a fatal error); the message says which.
///
/// Settings: enable.idempotence=true (so acks=all and ordered retries), linger.ms small,
/// partitioner=murmur2_random (the Java client's, so that keys land where Kafka Streams and
/// ksqlDB put them).
///
/// Ownership and threads: owns its librdkafka handle. Produce, Flush and TakeErrors belong
/// to one thread; delivery reports are served on that thread inside Produce and Flush.
/// counters() may be read from any thread. The destructor flushes for up to 10 s and drops
/// what is still undelivered (call Flush first to know).
class BatchProducer {
 public:
  /// InvalidArgument naming the property when librdkafka refuses one.
  static Result<std::unique_ptr<BatchProducer>> Create(ProducerOptions options);
  ~BatchProducer();
  BatchProducer(const BatchProducer&) = delete;
  BatchProducer& operator=(const BatchProducer&) = delete;

  /// Queues one message (copied) and returns without waiting for delivery.
  /// `partition` -1 lets the partitioner pick by key. `timestamp_ms` 0 means now.
  /// Unavailable when the local queue stays full for enqueue_timeout (retriable), NotFound
  /// for an unknown partition, InvalidArgument for a message that is too large, Internal
  /// after a fatal (idempotence) error.
  Status Produce(std::string_view topic, int32_t partition, std::string_view key,
                 std::string_view value, int64_t timestamp_ms = 0,
                 std::span<const ProduceHeader> headers = {});

  /// Waits until every queued message is delivered or failed. Unavailable when `timeout`
  /// passes first; otherwise the first delivery failure since the last Flush or TakeErrors,
  /// if any (the others stay countable in counters().errors).
  Status Flush(std::chrono::milliseconds timeout);

  bool transactional() const { return !options_.transactional_id.empty(); }
  /// Adds `offsets` (next to read) of `consumer`'s group to the open transaction (opening
  /// one), with the group's metadata as of now. Transactional producers only.
  Status SendOffsets(const BatchConsumer& consumer,
                     const std::vector<TopicPartitionOffset>& offsets,
                     std::chrono::milliseconds timeout);
  /// Delivers the open transaction's messages and commits it; OK when none is open.
  Status CommitTransaction(std::chrono::milliseconds timeout);
  /// Aborts the open transaction, dropping messages not yet delivered; OK when none is open.
  Status AbortTransaction(std::chrono::milliseconds timeout);

  /// Delivery and client errors since the last call (at most 1000 kept).
  std::vector<Status> TakeErrors();

  /// Messages queued but not yet delivered or failed.
  int outstanding() const;

  /// messages and bytes: delivered; errors: failed deliveries and client errors.
  ClientCounters counters() const;

 private:
  explicit BatchProducer(ProducerOptions options) : options_(std::move(options)) {}
  static void DeliveryCallback(rd_kafka_t* handle, const rd_kafka_message_t* message, void* opaque);
  static void ErrorCallback(rd_kafka_t* handle, int error, const char* reason, void* opaque);
  void RecordError(Status status, bool delivery_failure);
  Result<rd_kafka_topic_t*> Topic(std::string_view name);
  /// Opens a transaction when none is open (transactional producers only).
  Status MaybeBeginTransaction();
  /// A transaction call's error as a Status (see the class comment); takes `error`.
  Status TransactionStatus(rd_kafka_error_t* error, std::string_view context);

  ProducerOptions options_;
  UniqueHandle handle_;
  std::unordered_map<std::string, rd_kafka_topic_t*> topics_;  // owned; owner thread only
  uint32_t produced_since_poll_ = 0;
  bool in_transaction_ = false;    // owner thread only
  std::mutex errors_mutex_;        // error_cb runs on a librdkafka thread
  std::vector<Status> errors_;     // guarded by errors_mutex_
  Status first_delivery_failure_;  // guarded by errors_mutex_; reset by Flush
  Status fatal_;                   // guarded by errors_mutex_
  std::atomic<uint64_t> messages_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> error_count_{0};
};

}  // namespace sidestream::kafka
