#include "connectors/kafka/client_config.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>

namespace sidestream::kafka {

Status SetProperty(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    return Status::InvalidArgument("Kafka property '" + name + "'='" + value + "': " + errstr);
  }
  return Status::OK();
}

namespace {
// librdkafka's log lines (syslog levels) go to the process's log, so that they share its
// level and format (a JSON log stays JSON). Called from librdkafka's threads.
void LogToSpdlog(const rd_kafka_t* handle, int level, const char* facility, const char* message) {
  const spdlog::level::level_enum mapped = level <= 2   ? spdlog::level::critical
                                           : level == 3 ? spdlog::level::err
                                           : level == 4 ? spdlog::level::warn
                                           : level <= 6 ? spdlog::level::info
                                                        : spdlog::level::debug;
  spdlog::log(mapped, "kafka {} {}: {}", rd_kafka_name(handle), facility, message);
}
}  // namespace

Result<UniqueConf> BuildConf(const ClientConfig& config,
                             const std::vector<std::pair<std::string, std::string>>& defaults) {
  UniqueConf conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), LogToSpdlog);
  for (const auto& [name, value] : defaults) RETURN_NOT_OK(SetProperty(conf.get(), name, value));
  if (!config.bootstrap_servers.empty()) {
    RETURN_NOT_OK(SetProperty(conf.get(), "bootstrap.servers", config.bootstrap_servers));
  }
  for (const auto& [name, value] : config.properties) {
    RETURN_NOT_OK(SetProperty(conf.get(), name, value));
  }
  return conf;
}

Result<UniqueHandle> NewHandle(rd_kafka_type_t type, UniqueConf conf) {
  char errstr[512];
  rd_kafka_t* handle = rd_kafka_new(type, conf.get(), errstr, sizeof(errstr));
  if (handle == nullptr) {
    // On failure librdkafka leaves the configuration with the caller; conf frees it.
    return Status::InvalidArgument(std::string("Kafka client configuration refused: ") + errstr);
  }
  conf.release();  // Owned by the handle now.
  return UniqueHandle(handle);
}

bool IsRetriable(rd_kafka_resp_err_t error) {
  switch (error) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__IN_PROGRESS:
    case RD_KAFKA_RESP_ERR__PARTITION_EOF:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_NOT_CONTROLLER:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND:
    case RD_KAFKA_RESP_ERR_INVALID_FETCH_SESSION_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
      return true;
    default:
      return false;
  }
}

Status StatusFromError(rd_kafka_resp_err_t error, std::string_view context) {
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::OK();
  std::string message =
      std::string(context) + ": " + rd_kafka_err2str(error) + " (" + rd_kafka_err2name(error) + ")";
  if (IsRetriable(error)) return Status::Unavailable(std::move(message) + " [retriable]");
  switch (error) {
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return Status::NotFound(std::move(message));
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
      return Status::InvalidArgument(std::move(message));
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
      return Status::NotSupported(std::move(message));
    default:
      return Status::Internal(std::move(message) + " [fatal]");
  }
}

int TimeoutMs(std::chrono::milliseconds timeout) {
  return static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, INT_MAX));
}

}  // namespace sidestream::kafka
