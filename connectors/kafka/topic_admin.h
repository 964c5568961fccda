#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "connectors/kafka/client_config.h"

namespace sidestream::kafka {

/// Creates topics and reads their partition counts, on a real cluster or the embedded one.
///
/// When `config.bootstrap_servers` names an EmbeddedBroker living in this process, topics are
/// created through the mock's own API (the mock has no CreateTopics); otherwise through the
/// AdminClient (CreateTopics). Metadata reads list all topics rather than naming one, so that
/// they never auto-create a topic.
///
/// Errors: Unavailable (retriable: broker down or slow), NotFound (no such topic),
/// InvalidArgument (bad name or counts), NotSupported (the cluster cannot create topics, e.g.
/// an embedded broker in another process: create them there), Internal (fatal).
///
/// Ownership and threads: owns one librdkafka handle; its methods block up to their timeout
/// and may be called from any thread, one call at a time per object.
class TopicAdmin {
 public:
  /// InvalidArgument when the configuration is refused.
  static Result<std::unique_ptr<TopicAdmin>> Create(const ClientConfig& config);

  /// Topic-level settings for a topic to create ("retention.ms" = "-1", ...).
  using TopicConfigs = std::vector<std::pair<std::string, std::string>>;

  /// Makes sure `name` exists. An existing topic is success, whatever its partition count
  /// (check PartitionCount when it matters). Waits until the new topic shows in metadata.
  /// `configs` apply to a topic created here (the embedded broker ignores them).
  Status EnsureTopic(const std::string& name, int partitions, int replication = 1,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30),
                     const TopicConfigs& configs = {});

  /// Deletes the topics named (DeleteTopics through the AdminClient) and waits until metadata
  /// no longer lists them. A topic that does not exist is success. NotSupported when the
  /// cluster cannot delete topics: an embedded broker (librdkafka's mock has no DeleteTopics)
  /// in this process or another.
  Status DeleteTopics(const std::vector<std::string>& names,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

  /// The topic's partition count; NotFound when it does not exist.
  Result<int> PartitionCount(const std::string& name,
                             std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// Whether the cluster is librdkafka's mock (an embedded broker, here or in another process
  /// such as `sidestream broker`): its cluster id starts with "mockCluster". False when the id
  /// cannot be read in `timeout`.
  bool IsMockCluster(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  TopicAdmin() = default;
  bool ControllerIsListed();
  Status CreateWithAdminApi(const std::string& name, int partitions, int replication,
                            std::chrono::milliseconds timeout, const TopicConfigs& configs);

  ClientConfig config_;
  UniqueHandle handle_;
};

}  // namespace sidestream::kafka
