#pragma once

#include <string>
#include <vector>

/// `sidestream broker`: hosts the embedded Kafka broker alone, for tests and demos that span
/// several processes.
namespace sidestream::server {

/// What `sidestream broker` starts.
struct BrokerOptions {
  /// Brokers in the mock cluster (ids 1..N).
  int brokers = 1;
  /// Topics to create before announcing the address: "name:partitions" ("name" alone means
  /// one partition).
  std::vector<std::string> topics;
};

/// Starts the embedded broker, creates `options.topics`, prints
/// `bootstrap.servers=HOST:PORT` on stdout (flushed; it doubles as the "ready" signal), then
/// blocks until SIGINT or SIGTERM and shuts the broker down. Returns the process exit code:
/// 0 after a signal, 2 for bad options (told on stderr), 1 when the broker cannot start.
/// Call it from the main thread before any other thread starts: it blocks SIGINT and SIGTERM
/// in the calling thread (so in librdkafka's threads too) and waits for them with sigwait.
int RunBroker(const BrokerOptions& options);

}  // namespace sidestream::server
