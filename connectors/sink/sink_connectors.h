#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/status.h"
#include "connectors/kafka/client_config.h"
#include "connectors/sink/sink_connector.h"

namespace sidestream::sink {

/// The sink connectors of one engine, kept in step with its catalog: the whole surface the
/// engine uses (Sync after each statement, PollAll in its loop, CloseAll at shutdown).
///
/// Thread: the engine's thread only. Ownership: owns the running connectors; CloseAll (or the
/// destructor) commits and closes them.
class SinkConnectors {
 public:
  /// `ensure_topic` creates a dead-letter topic when missing (may be empty).
  SinkConnectors(kafka::ClientConfig client, std::string application_id, const Clock* clock,
                 std::function<Status(const std::string& topic)> ensure_topic);
  ~SinkConnectors();

  /// Starts the catalog's connectors that are not running, and closes the running ones the
  /// catalog no longer has (DROP CONNECTOR). A connector that cannot start is an error.
  Status Sync(const catalog::Catalog& catalog);

  /// Polls every running connector once, `wait` in all. Returns records consumed.
  int64_t PollAll(std::chrono::milliseconds wait);
  /// Commits what every connector wrote.
  Status CommitAll();
  Status CloseAll();

  bool empty() const { return running_.empty(); }
  std::vector<ConnectorStatus> Statuses() const;

  /// SHOW CONNECTORS: one line per connector (name, class, state, topics).
  std::string Show(const catalog::Catalog& catalog) const;
  /// DESCRIBE CONNECTOR: its properties and counters. NotFound for an unknown name.
  Result<std::string> Describe(const catalog::Catalog& catalog, const std::string& name) const;

 private:
  kafka::ClientConfig client_;
  std::string application_id_;
  const Clock* clock_;
  std::function<Status(const std::string&)> ensure_topic_;
  std::map<std::string, std::unique_ptr<SinkConnector>> running_;
};

}  // namespace sidestream::sink
