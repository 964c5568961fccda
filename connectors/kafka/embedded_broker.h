#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "common/status.h"
#include "connectors/kafka/client_config.h"

typedef struct rd_kafka_mock_cluster_s rd_kafka_mock_cluster_t;

namespace sidestream::kafka {

/// The embedded Kafka-protocol broker: librdkafka's mock cluster, hosted by a private
/// rd_kafka_t inside this process. It listens on loopback TCP, so clients in this and other
/// processes (kcat, other Sidestream processes) reach it at bootstrap_servers().
///
/// Limits (librdkafka 2.0.2's mock): no admin API (create topics with CreateTopic here, or
/// they are auto-created with 4 partitions by the first Metadata request naming them), at
/// most 5 MiB / 100k message sets kept per partition, no compaction, and transactions that
/// do not hide aborted records.
///
/// Ownership and threads: the object owns the host handle and the cluster; the cluster runs
/// on librdkafka's own threads. All methods are safe to call from any thread. The destructor
/// stops the cluster; clients still connected then see their broker disappear (destroy them
/// first for a quiet shutdown). Not copyable or movable.
class EmbeddedBroker {
 public:
  /// Starts a cluster of `broker_count` brokers (ids 1..N) on loopback.
  /// InvalidArgument for broker_count < 1; Internal when librdkafka cannot start it.
  static Result<std::unique_ptr<EmbeddedBroker>> Start(int broker_count = 1);

  ~EmbeddedBroker();
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

  /// "127.0.0.1:PORT[,...]"; stable for the object's life.
  const std::string& bootstrap_servers() const { return bootstrap_servers_; }
  int broker_count() const { return broker_count_; }

  /// Creates `name` with `partitions` partitions, each replicated on `replication` brokers
  /// (1 <= replication <= broker_count). AlreadyExists when this broker already created the
  /// topic (TopicAdmin::EnsureTopic treats an existing topic as success). InvalidArgument for
  /// bad counts or names.
  Status CreateTopic(const std::string& name, int partitions, int replication = 1);

  /// Fault injection for tests: takes broker `broker_id` (1..N) off the network, or back.
  Status SetBrokerDown(int32_t broker_id);
  Status SetBrokerUp(int32_t broker_id);

  /// The raw mock cluster for other fault injection (rdkafka_mock.h). Owned by this object.
  rd_kafka_mock_cluster_t* mock_cluster() const { return cluster_; }

  /// Runs `create(broker)` while the embedded broker serving exactly `bootstrap_servers` in
  /// this process is kept alive, and returns its Status; NotFound when no such broker lives
  /// here (the cluster is remote, or an embedded broker in another process). Lets TopicAdmin
  /// use the mock's topic API without holding a pointer that may dangle.
  template <typename Function>
  static Status WithBroker(const std::string& bootstrap_servers, Function&& create) {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    EmbeddedBroker* broker = FindLocked(bootstrap_servers);
    if (broker == nullptr) return Status::NotFound("no embedded broker at " + bootstrap_servers);
    return create(*broker);
  }

 private:
  EmbeddedBroker() = default;
  static std::mutex& RegistryMutex();
  static EmbeddedBroker* FindLocked(const std::string& bootstrap_servers);

  UniqueHandle host_;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_servers_;
  int broker_count_ = 0;
  std::mutex topics_mutex_;
  std::set<std::string> topics_;  // created through CreateTopic, guarded by topics_mutex_
};

}  // namespace sidestream::kafka
