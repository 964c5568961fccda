#include "connectors/sink/sink_connectors.h"

#include <algorithm>
#include <optional>

namespace sidestream::sink {

SinkConnectors::SinkConnectors(kafka::ClientConfig client, std::string application_id,
                               const Clock* clock,
                               std::function<Status(const std::string& topic)> ensure_topic)
    : client_(std::move(client)),
      application_id_(std::move(application_id)),
      clock_(clock),
      ensure_topic_(std::move(ensure_topic)) {}

SinkConnectors::~SinkConnectors() { (void)CloseAll(); }

Status SinkConnectors::Sync(const catalog::Catalog& catalog) {
  const std::vector<catalog::ConnectorDescription> wanted = catalog.ListConnectors();
  for (auto it = running_.begin(); it != running_.end();) {
    const bool kept = std::any_of(wanted.begin(), wanted.end(), [&](const auto& connector) {
      return connector.name == it->first;
    });
    if (kept) {
      ++it;
      continue;
    }
    (void)it->second->Close();
    it = running_.erase(it);
  }
  for (const catalog::ConnectorDescription& connector : wanted) {
    if (running_.count(connector.name)) continue;
    auto dead_letters = connector.properties.find("errors.deadletterqueue.topic.name");
    if (ensure_topic_ && dead_letters != connector.properties.end()) {
      RETURN_NOT_OK(ensure_topic_(dead_letters->second));
    }
    ASSIGN_OR_RAISE(auto started, StartSinkConnector(connector, client_, application_id_, clock_));
    running_.emplace(connector.name, std::move(started));
  }
  return Status::OK();
}

int64_t SinkConnectors::PollAll(std::chrono::milliseconds wait) {
  if (running_.empty()) return 0;
  const auto each =
      std::max(std::chrono::milliseconds(1), wait / static_cast<int>(running_.size()));
  int64_t consumed = 0;
  for (auto& [name, connector] : running_) consumed += connector->Poll(each);
  return consumed;
}

Status SinkConnectors::CommitAll() {
  Status first;
  for (auto& [name, connector] : running_) {
    Status committed = connector->Commit();
    if (first.ok() && !committed.ok()) first = committed;
  }
  return first;
}

Status SinkConnectors::CloseAll() {
  Status first;
  for (auto& [name, connector] : running_) {
    Status closed = connector->Close();
    if (first.ok() && !closed.ok()) first = closed;
  }
  running_.clear();
  return first;
}

std::vector<ConnectorStatus> SinkConnectors::Statuses() const {
  std::vector<ConnectorStatus> statuses;
  for (const auto& [name, connector] : running_) statuses.push_back(connector->status());
  return statuses;
}

namespace {
std::string StateOf(const std::optional<ConnectorStatus>& status) {
  if (!status) return "NOT RUNNING";
  std::string state = ConnectorStateName(status->state);
  if (status->retrying) state += " (retrying)";
  return state;
}
}  // namespace

std::string SinkConnectors::Show(const catalog::Catalog& catalog) const {
  std::string text = "Connector Name | Type | Class | State | Topics\n";
  for (const auto& connector : catalog.ListConnectors()) {
    auto running = running_.find(connector.name);
    const auto status = running == running_.end()
                            ? std::nullopt
                            : std::optional<ConnectorStatus>(running->second->status());
    auto topics = connector.properties.find("topics");
    text += connector.name + " | SINK | " + connector.connector_class + " | " + StateOf(status) +
            " | " + (topics == connector.properties.end() ? "" : topics->second) + "\n";
  }
  return text;
}

Result<std::string> SinkConnectors::Describe(const catalog::Catalog& catalog,
                                             const std::string& name) const {
  ASSIGN_OR_RAISE(catalog::ConnectorDescription connector, catalog.GetConnector(name));
  auto running = running_.find(name);
  const auto status = running == running_.end()
                          ? std::nullopt
                          : std::optional<ConnectorStatus>(running->second->status());
  std::string text = "Name                 : " + connector.name +
                     "\nClass                : " + connector.connector_class +
                     "\nType                 : SINK\n" +
                     "State                : " + StateOf(status) + "\n";
  for (const auto& [key, value] : connector.properties) {
    text += "  " + key + " = " + value + "\n";
  }
  if (status) {
    int64_t lag = 0;
    for (const auto& [partition, records] : status->lag) lag += records;
    text += "consumed " + std::to_string(status->consumed) + ", upserts " +
            std::to_string(status->upserts) + ", deletes " + std::to_string(status->deletes) +
            ", skipped " + std::to_string(status->skipped) + ", folded " +
            std::to_string(status->folded) + ", dead letters " +
            std::to_string(status->dead_letters) + ", retries " + std::to_string(status->retries) +
            ", lag " + std::to_string(lag) + "\n";
    if (!status->last_error.empty()) text += "last error: " + status->last_error + "\n";
  }
  return text;
}

}  // namespace sidestream::sink
