#include "connectors/kafka/embedded_broker.h"

#include <librdkafka/rdkafka.h>
// rdkafka_mock.h must come after rdkafka.h.
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <vector>

namespace sidestream::kafka {
namespace {

// Live embedded brokers of this process, guarded by EmbeddedBroker::RegistryMutex().
std::vector<EmbeddedBroker*>& Registry() {
  static std::vector<EmbeddedBroker*> registry;
  return registry;
}

}  // namespace

std::mutex& EmbeddedBroker::RegistryMutex() {
  static std::mutex mutex;
  return mutex;
}

EmbeddedBroker* EmbeddedBroker::FindLocked(const std::string& bootstrap_servers) {
  for (EmbeddedBroker* broker : Registry()) {
    if (broker->bootstrap_servers_ == bootstrap_servers) return broker;
  }
  return nullptr;
}

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::Start(int broker_count) {
  if (broker_count < 1) {
    return Status::InvalidArgument("embedded broker count must be at least 1, got " +
                                   std::to_string(broker_count));
  }
  // The host handle only carries the mock cluster: it never connects anywhere itself.
  ASSIGN_OR_RAISE(UniqueConf conf, BuildConf({}, {{"log_level", "3"}}));
  ASSIGN_OR_RAISE(UniqueHandle host, NewHandle(RD_KAFKA_PRODUCER, std::move(conf)));
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(host.get(), broker_count);
  if (cluster == nullptr) return Status::Internal("could not start the embedded Kafka broker");

  std::unique_ptr<EmbeddedBroker> broker(new EmbeddedBroker());
  broker->host_ = std::move(host);
  broker->cluster_ = cluster;
  broker->bootstrap_servers_ = rd_kafka_mock_cluster_bootstraps(cluster);
  broker->broker_count_ = broker_count;
  std::lock_guard<std::mutex> lock(RegistryMutex());
  Registry().push_back(broker.get());
  return broker;
}

EmbeddedBroker::~EmbeddedBroker() {
  {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    auto& registry = Registry();
    registry.erase(std::remove(registry.begin(), registry.end(), this), registry.end());
  }
  // The cluster must go before the handle that hosts it.
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  host_.reset();
}

Status EmbeddedBroker::CreateTopic(const std::string& name, int partitions, int replication) {
  if (name.empty() || name.size() > 249) {
    return Status::InvalidArgument("topic name must have 1 to 249 characters: '" + name + "'");
  }
  if (partitions < 1) {
    return Status::InvalidArgument("topic '" + name + "' needs at least 1 partition, got " +
                                   std::to_string(partitions));
  }
  if (replication < 1 || replication > broker_count_) {
    return Status::InvalidArgument("topic '" + name + "': replication " +
                                   std::to_string(replication) + " must be between 1 and " +
                                   std::to_string(broker_count_) + " (the broker count)");
  }
  std::lock_guard<std::mutex> lock(topics_mutex_);
  // The mock does not refuse a second create of one name; remember what we made.
  if (topics_.count(name) > 0) {
    return Status::AlreadyExists("topic '" + name + "' exists already");
  }
  rd_kafka_resp_err_t error =
      rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, replication);
  if (error == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
    return Status::AlreadyExists("topic '" + name + "' exists already");
  }
  RETURN_NOT_OK(StatusFromError(error, "create topic '" + name + "' on the embedded broker"));
  topics_.insert(name);
  return Status::OK();
}

Status EmbeddedBroker::SetBrokerDown(int32_t broker_id) {
  return StatusFromError(rd_kafka_mock_broker_set_down(cluster_, broker_id),
                         "take embedded broker " + std::to_string(broker_id) + " down");
}

Status EmbeddedBroker::SetBrokerUp(int32_t broker_id) {
  return StatusFromError(rd_kafka_mock_broker_set_up(cluster_, broker_id),
                         "bring embedded broker " + std::to_string(broker_id) + " up");
}

}  // namespace sidestream::kafka
