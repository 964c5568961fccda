#include "connectors/kafka/partition_reader.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <vector>

namespace sidestream::kafka {

namespace {

// A message's key and value; absent when null (a tombstone has no value).
std::optional<std::string_view> KeyOf(const rd_kafka_message_t& message) {
  if (message.key == nullptr) return std::nullopt;
  return std::string_view(static_cast<const char*>(message.key), message.key_len);
}
std::optional<std::string_view> ValueOf(const rd_kafka_message_t& message) {
  if (message.payload == nullptr) return std::nullopt;
  return std::string_view(static_cast<const char*>(message.payload), message.len);
}

}  // namespace

Result<int64_t> ReadPartitionToEnd(const ClientConfig& client, const std::string& topic,
                                   int32_t partition, const PartitionVisitor& visit,
                                   std::chrono::milliseconds timeout) {
  return ReadPartitionToEnd(client, topic, partition,
                            TimedPartitionVisitor([&visit](std::optional<std::string_view> key,
                                                           std::optional<std::string_view> value,
                                                           int64_t) { return visit(key, value); }),
                            timeout);
}

Result<int64_t> ReadPartitionToEnd(const ClientConfig& client, const std::string& topic,
                                   int32_t partition, const TimedPartitionVisitor& visit,
                                   std::chrono::milliseconds timeout) {
  PartitionReadOptions options;
  options.timeout = timeout;
  ASSIGN_OR_RAISE(PartitionRead read, ReadPartitionFrom(client, topic, partition, options, visit));
  return read.records;
}

Result<PartitionRead> ReadPartitionFrom(const ClientConfig& client, const std::string& topic,
                                        int32_t partition, const PartitionReadOptions& options,
                                        const TimedPartitionVisitor& visit) {
  PartitionRead result;
  const std::chrono::milliseconds timeout = options.timeout;
  const int64_t from = options.from;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // A group id is required of a consumer handle even when it only assigns; it never joins.
  ASSIGN_OR_RAISE(
      UniqueConf conf,
      BuildConf(client, {{"group.id", "sidestream-restore"},
                         {"enable.auto.commit", "false"},
                         {"enable.auto.offset.store", "false"},
                         {"fetch.wait.max.ms",
                          "10"},  // the embedded broker waits this long on an empty fetch
                         {"log_level", "3"}}));
  // Only what transactions committed (and records written outside any): a store restored
  // from its changelog never holds state that an aborted or unfinished transaction wrote.
  // Control records and aborted records are skipped, so the end is found by the partition
  // EOF event (at the last stable offset), not by the last record's offset.
  RETURN_NOT_OK(SetProperty(conf.get(), "isolation.level", "read_committed"));
  RETURN_NOT_OK(SetProperty(conf.get(), "enable.partition.eof", "true"));
  ASSIGN_OR_RAISE(UniqueHandle handle, NewHandle(RD_KAFKA_CONSUMER, std::move(conf)));
  rd_kafka_t* consumer = handle.get();
  int64_t low = 0, high = 0;
  RETURN_NOT_OK(StatusFromError(rd_kafka_query_watermark_offsets(consumer, topic.c_str(), partition,
                                                                 &low, &high, TimeoutMs(timeout)),
                                "read the end offset of " + topic));
  result.end_offset = high;
  const int64_t start = from == kBeginningOffset ? low : from;
  // Before the first offset: records the reader's state lacks are gone (retention).
  if (start < low || start > high) {
    result.out_of_range = true;
    return result;
  }
  if (options.on_range) options.on_range(start, high);
  // Nothing to read, unless a transaction open at the end may hide committed records.
  if (high <= start && !options.wait_for_open_transactions) return result;
  UniquePartitionList assignment(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), partition)->offset = start;
  RETURN_NOT_OK(StatusFromError(rd_kafka_assign(consumer, assignment.get()), "assign " + topic));
  RETURN_NOT_OK(StatusFromError(rd_kafka_poll_set_consumer(consumer), "set up the queue"));
  UniqueQueue queue(rd_kafka_queue_get_consumer(consumer));
  std::vector<rd_kafka_message_t*> messages(1024);
  int64_t read = 0, next = start;
  int64_t stable_end = -1;    // where the last end of partition event was met
  int64_t settled_high = -1;  // with wait_for_open_transactions: the end to reach
  bool at_end = false;
  Status status;
  while (status.ok()) {
    if (at_end) {
      if (!options.wait_for_open_transactions) break;
      if (settled_high < 0) {
        // The high watermark of the last fetch (librdkafka keeps it): past the last stable
        // offset while a transaction is open.
        int64_t low_now = 0, high_now = 0;
        rd_kafka_get_watermark_offsets(consumer, topic.c_str(), partition, &low_now, &high_now);
        settled_high = std::max(high, high_now);
        if (stable_end < settled_high && options.on_wait) options.on_wait(stable_end, settled_high);
      }
      if (stable_end >= settled_high) break;
      at_end = false;  // the next end of partition comes once the open transaction ends
    } else if (!options.wait_for_open_transactions && next >= high) {
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      status = Status::Unavailable(
          "reading " + topic + " stopped at offset " + std::to_string(next) + " of " +
          std::to_string(std::max(high, settled_high)) + ": timed out" +
          (settled_high > stable_end
               ? " waiting for the transaction open at offset " + std::to_string(stable_end) +
                     " to end (the broker aborts an abandoned one after its "
                     "transaction.timeout.ms)"
               : std::string()));
      break;
    }
    // A batch call waits its whole timeout unless the batch fills: keep the wait short, so
    // that the partition's last, partial batch does not cost a long wait.
    ssize_t count = rd_kafka_consume_batch_queue(queue.get(), std::min(5, TimeoutMs(left)),
                                                 messages.data(), messages.size());
    for (ssize_t i = 0; i < count; ++i) {
      rd_kafka_message_t* message = messages[i];
      if (status.ok() && message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        status =
            visit(KeyOf(*message), ValueOf(*message), rd_kafka_message_timestamp(message, nullptr));
        next = message->offset + 1;
        ++read;
      } else if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        at_end = true;
        stable_end = message->offset;
      } else if (status.ok() && !IsRetriable(message->err)) {
        status = StatusFromError(message->err, "read " + topic);
      }
      rd_kafka_message_destroy(message);
    }
  }
  queue.reset();
  rd_kafka_consumer_close(consumer);
  if (!status.ok()) return status;
  result.records = read;
  if (options.wait_for_open_transactions) result.end_offset = std::max({high, next, stable_end});
  return result;
}

Result<std::unique_ptr<PartitionTailer>> PartitionTailer::Create(const ClientConfig& client,
                                                                 std::string topic,
                                                                 int32_t partition, int64_t from) {
  std::unique_ptr<PartitionTailer> tailer(new PartitionTailer());
  tailer->topic_ = std::move(topic);
  tailer->partition_ = partition;
  // A group id is required of a consumer handle even when it only assigns; it never joins.
  ASSIGN_OR_RAISE(UniqueConf conf, BuildConf(client, {{"group.id", "sidestream-tailer"},
                                                      {"enable.auto.commit", "false"},
                                                      {"enable.auto.offset.store", "false"},
                                                      {"auto.offset.reset", "error"},
                                                      // the embedded broker holds an
                                                      // empty fetch this long
                                                      {"fetch.wait.max.ms", "20"},
                                                      {"log_level", "3"}}));
  ASSIGN_OR_RAISE(tailer->handle_, NewHandle(RD_KAFKA_CONSUMER, std::move(conf)));
  rd_kafka_t* consumer = tailer->handle_.get();
  UniquePartitionList assignment(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(assignment.get(), tailer->topic_.c_str(), partition)->offset =
      from == kBeginningOffset ? RD_KAFKA_OFFSET_BEGINNING : from;
  RETURN_NOT_OK(
      StatusFromError(rd_kafka_assign(consumer, assignment.get()), "assign " + tailer->topic_));
  RETURN_NOT_OK(StatusFromError(rd_kafka_poll_set_consumer(consumer), "set up the queue"));
  tailer->queue_.reset(rd_kafka_queue_get_consumer(consumer));
  return tailer;
}

PartitionTailer::~PartitionTailer() {
  queue_.reset();
  if (handle_) rd_kafka_consumer_close(handle_.get());
}

Result<int64_t> PartitionTailer::Poll(std::chrono::milliseconds timeout, const Visitor& visit) {
  // A batch call waits its whole timeout unless the batch fills: wait for the first message
  // alone, so that one arriving ends the wait, then take what else is there.
  rd_kafka_message_t* messages[256];
  ssize_t count = 0;
  messages[0] = rd_kafka_consume_queue(queue_.get(), TimeoutMs(timeout));
  if (messages[0] != nullptr) {
    const ssize_t more = rd_kafka_consume_batch_queue(queue_.get(), 0, messages + 1, 255);
    count = 1 + std::max<ssize_t>(more, 0);
  }
  int64_t read = 0;
  Status status;
  for (ssize_t i = 0; i < count; ++i) {
    rd_kafka_message_t* message = messages[i];
    if (status.ok() && message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      visit(message->offset, KeyOf(*message), ValueOf(*message));
      ++read;
    } else if (status.ok() && message->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
      status =
          Status::Corruption("reading " + topic_ + ": the next offset is out of range (" +
                             rd_kafka_message_errstr(message) + "); its earlier records are gone");
    } else if (status.ok() && message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF &&
               !IsRetriable(message->err)) {
      status = StatusFromError(message->err, "read " + topic_);
    }
    rd_kafka_message_destroy(message);
  }
  if (!status.ok()) return status;
  return read;
}

Result<int64_t> PartitionTailer::EndOffset(std::chrono::milliseconds timeout) {
  int64_t low = 0, high = 0;
  RETURN_NOT_OK(
      StatusFromError(rd_kafka_query_watermark_offsets(handle_.get(), topic_.c_str(), partition_,
                                                       &low, &high, TimeoutMs(timeout)),
                      "read the end offset of " + topic_));
  return high;
}

}  // namespace sidestream::kafka
