#include "connectors/kafka/topic_admin.h"

#include <librdkafka/rdkafka.h>

#include <thread>

#include "connectors/kafka/embedded_broker.h"

namespace sidestream::kafka {
namespace {

using Clock = std::chrono::steady_clock;

struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* options) const {
    rd_kafka_AdminOptions_destroy(options);
  }
};
struct NewTopicDeleter {
  void operator()(rd_kafka_NewTopic_t* topic) const { rd_kafka_NewTopic_destroy(topic); }
};
struct DeleteTopicDeleter {
  void operator()(rd_kafka_DeleteTopic_t* topic) const { rd_kafka_DeleteTopic_destroy(topic); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* event) const { rd_kafka_event_destroy(event); }
};

std::chrono::milliseconds Remaining(Clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

}  // namespace

Result<std::unique_ptr<TopicAdmin>> TopicAdmin::Create(const ClientConfig& config) {
  if (config.bootstrap_servers.empty()) {
    return Status::InvalidArgument("TopicAdmin needs bootstrap servers");
  }
  ASSIGN_OR_RAISE(UniqueConf conf, BuildConf(config, {{"log_level", "3"}}));
  ASSIGN_OR_RAISE(UniqueHandle handle, NewHandle(RD_KAFKA_PRODUCER, std::move(conf)));
  std::unique_ptr<TopicAdmin> admin(new TopicAdmin());
  admin->config_ = config;
  admin->handle_ = std::move(handle);
  return admin;
}

Result<int> TopicAdmin::PartitionCount(const std::string& name, std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* metadata = nullptr;
  // all_topics=1: naming the topic would make an auto-creating broker (the mock) create it.
  rd_kafka_resp_err_t error =
      rd_kafka_metadata(handle_.get(), 1, nullptr, &metadata, TimeoutMs(timeout));
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return StatusFromError(error, "read metadata from " + config_.bootstrap_servers);
  }
  Result<int> result = Status::NotFound("topic '" + name + "' does not exist");
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& topic = metadata->topics[i];
    if (name != topic.topic) continue;
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      result = StatusFromError(topic.err, "read metadata of topic '" + name + "'");
    } else {
      result = topic.partition_cnt;
    }
    break;
  }
  rd_kafka_metadata_destroy(metadata);
  return result;
}

Status TopicAdmin::EnsureTopic(const std::string& name, int partitions, int replication,
                               std::chrono::milliseconds timeout, const TopicConfigs& configs) {
  const Clock::time_point deadline = Clock::now() + timeout;
  Status embedded = EmbeddedBroker::WithBroker(
      config_.bootstrap_servers,
      [&](EmbeddedBroker& broker) { return broker.CreateTopic(name, partitions, replication); });
  if (embedded.code() == StatusCode::kAlreadyExists) return Status::OK();
  if (embedded.code() != StatusCode::kNotFound) return embedded;  // ok, or a real error
  // Not an embedded broker of this process. Skip the create when the topic exists already:
  // this also serves an embedded broker hosted by another process, which has no CreateTopics.
  Result<int> count = PartitionCount(name, Remaining(deadline));
  if (count.ok()) return Status::OK();
  if (count.status().code() != StatusCode::kNotFound) return count.status();
  // CreateTopics goes to the controller that the metadata just read names. The mock names
  // one that is not among its brokers (it has no admin API): say so now rather than time out
  // waiting for it.
  if (!ControllerIsListed()) {
    return Status::NotSupported(
        "cannot create topic '" + name + "': the cluster at " + config_.bootstrap_servers +
        " names no controller, so it has no admin API (an embedded broker of another "
        "process?); create the topic where the broker runs (sidestream broker --topic " +
        name + ":" + std::to_string(partitions) + ")");
  }
  RETURN_NOT_OK(CreateWithAdminApi(name, partitions, replication, Remaining(deadline), configs));
  // A new topic reaches every broker's metadata cache a little after CreateTopics returns.
  for (;;) {
    count = PartitionCount(name, std::max(Remaining(deadline), std::chrono::milliseconds(1)));
    if (count.ok()) return Status::OK();
    if (Remaining(deadline).count() == 0) {
      return Status::Unavailable("topic '" + name +
                                 "' was created but is not in metadata yet [retriable]");
    }
    if (count.status().code() != StatusCode::kNotFound && !count.status().retriable()) {
      return count.status();
    }
  }
}

Status TopicAdmin::DeleteTopics(const std::vector<std::string>& names,
                                std::chrono::milliseconds timeout) {
  if (names.empty()) return Status::OK();
  const Clock::time_point deadline = Clock::now() + timeout;
  Status embedded = EmbeddedBroker::WithBroker(config_.bootstrap_servers,
                                               [](EmbeddedBroker&) { return Status::OK(); });
  if (embedded.ok() || !ControllerIsListed()) {
    return Status::NotSupported("the embedded broker at " + config_.bootstrap_servers +
                                " cannot delete topics (librdkafka's mock has no DeleteTopics)");
  }
  std::vector<std::unique_ptr<rd_kafka_DeleteTopic_t, DeleteTopicDeleter>> owned;
  std::vector<rd_kafka_DeleteTopic_t*> topics;
  for (const std::string& name : names) {
    owned.emplace_back(rd_kafka_DeleteTopic_new(name.c_str()));
    topics.push_back(owned.back().get());
  }
  char errstr[512];
  std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter> options(
      rd_kafka_AdminOptions_new(handle_.get(), RD_KAFKA_ADMIN_OP_DELETETOPICS));
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), TimeoutMs(timeout), errstr,
                                                sizeof(errstr)) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), TimeoutMs(timeout), errstr,
                                                  sizeof(errstr)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::InvalidArgument(std::string("DeleteTopics options: ") + errstr);
  }
  UniqueQueue queue(rd_kafka_queue_new(handle_.get()));
  rd_kafka_DeleteTopics(handle_.get(), topics.data(), topics.size(), options.get(), queue.get());
  std::unique_ptr<rd_kafka_event_t, EventDeleter> event(
      rd_kafka_queue_poll(queue.get(), TimeoutMs(timeout) + 5000));
  if (event == nullptr) {
    return Status::Unavailable("delete topics: no answer from " + config_.bootstrap_servers +
                               " [retriable]");
  }
  rd_kafka_resp_err_t error = rd_kafka_event_error(event.get());
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return StatusFromError(
        error, std::string("delete topics (") + rd_kafka_event_error_string(event.get()) + ")");
  }
  const rd_kafka_DeleteTopics_result_t* result = rd_kafka_event_DeleteTopics_result(event.get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_DeleteTopics_result_topics(result, &count);
  for (size_t i = 0; i < count; ++i) {
    rd_kafka_resp_err_t topic_error = rd_kafka_topic_result_error(results[i]);
    if (topic_error == RD_KAFKA_RESP_ERR_NO_ERROR ||
        topic_error == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      continue;
    }
    const char* detail = rd_kafka_topic_result_error_string(results[i]);
    return StatusFromError(
        topic_error, "delete topic '" + std::string(rd_kafka_topic_result_name(results[i])) + "'" +
                         (detail != nullptr ? std::string(" (") + detail + ")" : ""));
  }
  // Deletion reaches every broker's metadata a little after DeleteTopics returns.
  for (const std::string& name : names) {
    for (;;) {
      Result<int> count =
          PartitionCount(name, std::max(Remaining(deadline), std::chrono::milliseconds(1)));
      if (count.status().code() == StatusCode::kNotFound) break;
      if (!count.ok() && !count.status().retriable()) return count.status();
      if (Remaining(deadline).count() == 0) {
        return Status::Unavailable("topic '" + name +
                                   "' was deleted but is still in metadata [retriable]");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return Status::OK();
}

bool TopicAdmin::IsMockCluster(std::chrono::milliseconds timeout) {
  char* id = rd_kafka_clusterid(handle_.get(), TimeoutMs(timeout));
  if (id == nullptr) return false;
  const bool mock = std::string_view(id).starts_with("mockCluster");  // rdkafka_mock.c
  rd_kafka_mem_free(handle_.get(), id);
  return mock;
}

bool TopicAdmin::ControllerIsListed() {
  const int32_t controller = rd_kafka_controllerid(handle_.get(), 0);
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(handle_.get(), 0, nullptr, &metadata, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return true;  // unknown: let CreateTopics report what it finds
  }
  bool listed = false;
  for (int i = 0; i < metadata->broker_cnt; ++i) listed |= metadata->brokers[i].id == controller;
  rd_kafka_metadata_destroy(metadata);
  return listed;
}

Status TopicAdmin::CreateWithAdminApi(const std::string& name, int partitions, int replication,
                                      std::chrono::milliseconds timeout,
                                      const TopicConfigs& configs) {
  char errstr[512];
  std::unique_ptr<rd_kafka_NewTopic_t, NewTopicDeleter> new_topic(
      rd_kafka_NewTopic_new(name.c_str(), partitions, replication, errstr, sizeof(errstr)));
  if (new_topic == nullptr) {
    return Status::InvalidArgument("topic '" + name + "': " + errstr);
  }
  for (const auto& [key, value] : configs) {
    if (rd_kafka_NewTopic_set_config(new_topic.get(), key.c_str(), value.c_str()) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::InvalidArgument("topic '" + name + "': cannot set " + key + "=" + value);
    }
  }
  std::unique_ptr<rd_kafka_AdminOptions_t, AdminOptionsDeleter> options(
      rd_kafka_AdminOptions_new(handle_.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS));
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), TimeoutMs(timeout), errstr,
                                                sizeof(errstr)) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), TimeoutMs(timeout), errstr,
                                                  sizeof(errstr)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::InvalidArgument(std::string("CreateTopics options: ") + errstr);
  }
  UniqueQueue queue(rd_kafka_queue_new(handle_.get()));
  rd_kafka_NewTopic_t* topics[] = {new_topic.get()};
  rd_kafka_CreateTopics(handle_.get(), topics, 1, options.get(), queue.get());
  // The request itself times out after `timeout`; allow a little more for the result event.
  std::unique_ptr<rd_kafka_event_t, EventDeleter> event(
      rd_kafka_queue_poll(queue.get(), TimeoutMs(timeout) + 5000));
  if (event == nullptr) {
    return Status::Unavailable("create topic '" + name + "': no answer from " +
                               config_.bootstrap_servers + " [retriable]");
  }
  rd_kafka_resp_err_t error = rd_kafka_event_error(event.get());
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return StatusFromError(
        error, "create topic '" + name + "' (" + rd_kafka_event_error_string(event.get()) + ")");
  }
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event.get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
  for (size_t i = 0; i < count; ++i) {
    rd_kafka_resp_err_t topic_error = rd_kafka_topic_result_error(results[i]);
    if (topic_error == RD_KAFKA_RESP_ERR_NO_ERROR ||
        topic_error == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      continue;
    }
    const char* detail = rd_kafka_topic_result_error_string(results[i]);
    return StatusFromError(
        topic_error, "create topic '" + name + "'" +
                         (detail != nullptr ? std::string(" (") + detail + ")" : std::string()));
  }
  return Status::OK();
}

}  // namespace sidestream::kafka
