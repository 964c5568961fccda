#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

/// The Kafka layer: librdkafka clients (batch consumer, batching producer, topic admin) and
/// the embedded broker (librdkafka's mock cluster).
namespace sidestream::kafka {

/// Deleters so that librdkafka handles live in unique_ptrs.
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct HandleDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* queue) const { rd_kafka_queue_destroy(queue); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
struct ErrorDeleter {
  void operator()(rd_kafka_error_t* error) const { rd_kafka_error_destroy(error); }
};
struct GroupMetadataDeleter {
  void operator()(rd_kafka_consumer_group_metadata_t* metadata) const {
    rd_kafka_consumer_group_metadata_destroy(metadata);
  }
};
using UniqueConf = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using UniqueGroupMetadata =
    std::unique_ptr<rd_kafka_consumer_group_metadata_t, GroupMetadataDeleter>;
using UniqueHandle = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using UniqueQueue = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using UniquePartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using UniqueError = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

/// Where a client connects and how it is tuned. A plain value; copy freely.
struct ClientConfig {
  /// "host:port[,host:port...]": a real cluster or EmbeddedBroker::bootstrap_servers().
  std::string bootstrap_servers;
  /// Extra librdkafka properties (name, value), applied after the client's own defaults
  /// so that they override them. See librdkafka's CONFIGURATION.md for the names.
  std::vector<std::pair<std::string, std::string>> properties;
};

/// Plain counters of a consumer or producer, for metrics.
struct ClientCounters {
  uint64_t messages = 0;  // consumed, or delivered
  uint64_t bytes = 0;     // key + value bytes of those messages
  uint64_t errors = 0;    // failed deliveries, client and commit errors
};

/// Builds a librdkafka configuration: `defaults` first, then bootstrap.servers, then
/// `config.properties`. Returns InvalidArgument naming the property when librdkafka rejects
/// a name or value. The caller owns the result (rd_kafka_new takes it over on success).
Result<UniqueConf> BuildConf(const ClientConfig& config,
                             const std::vector<std::pair<std::string, std::string>>& defaults);

/// Sets one property on `conf`; InvalidArgument naming it when librdkafka rejects it.
Status SetProperty(rd_kafka_conf_t* conf, const std::string& name, const std::string& value);

/// Creates a client of `type` from `conf` (always consumed). InvalidArgument when librdkafka
/// refuses the configuration as a whole.
Result<UniqueHandle> NewHandle(rd_kafka_type_t type, UniqueConf conf);

/// True for librdkafka errors worth retrying unchanged: the broker is down, slow or moving.
bool IsRetriable(rd_kafka_resp_err_t error);

/// Turns a librdkafka error code into a Status: Unavailable when retriable, NotFound for an
/// unknown topic or partition, InvalidArgument for requests the broker refuses as invalid,
/// Internal for the rest (fatal). `context` says what was being done ("commit offsets").
Status StatusFromError(rd_kafka_resp_err_t error, std::string_view context);

/// Milliseconds as an int for librdkafka's timeout arguments, clamped at 0.
int TimeoutMs(std::chrono::milliseconds timeout);

}  // namespace sidestream::kafka
