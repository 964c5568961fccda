#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "host/kafka_engine.h"

namespace sidestream::server {

struct RunOptions {
  std::string sql_path;
  /// Empty: $SIDESTREAM_BOOTSTRAP_SERVERS, else the embedded broker.
  std::string bootstrap_servers;
  std::vector<std::pair<std::string, std::string>> client_properties;
  double duration_seconds = 0;          // 0: until Ctrl-C
  int stream_threads = 0;               // num.stream.threads; 0: host::DefaultStreamThreads
  int64_t shutdown_timeout_ms = 30000;  // a stop that takes longer exits anyway (code 1)
  std::string processing_guarantee = "at_least_once";  // as the setting takes it
  int64_t commit_interval_ms = -1;                     // -1: the setting's default
  /// The state.* settings; empty or 0 takes the setting's default (docs/CONFIG.md).
  std::string state_store;
  std::string state_dir;
  int64_t state_memory_bytes = 0;
  int64_t state_cache_bytes = 0;
  int num_standby_replicas = -1;  // -1: the setting's default
  /// Part of the transactional ids under exactly_once_v2; empty: the host's name. Give each
  /// process on one host its own, kept across its restarts.
  std::string instance_id;
};

/// `sidestream run FILE.sql`: runs the statements against Kafka (or the embedded broker,
/// whose address it prints) and keeps the persistent queries running until Ctrl-C or
/// the duration ends, printing progress to stderr. Returns the exit code.
int RunRun(const RunOptions& options);

}  // namespace sidestream::server
