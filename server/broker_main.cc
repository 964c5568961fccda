// sidestream-broker: the embedded Kafka broker alone, until `sidestream broker` is wired
// into the main binary. Usage: sidestream-broker [--brokers N] [--topic name:partitions]...
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/logging.h"
#include "server/broker_command.h"

int main(int argc, char** argv) {
  // librdkafka's lines to stderr: stdout carries bootstrap.servers= for scripts.
  (void)sidestream::ConfigureLogging("info", "text");
  sidestream::server::BrokerOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    if ((argument == "--topic" || argument == "-t") && i + 1 < argc) {
      options.topics.emplace_back(argv[++i]);
    } else if (argument == "--brokers" && i + 1 < argc) {
      options.brokers = std::atoi(argv[++i]);
    } else if (argument == "--help" || argument == "-h") {
      std::printf(
          "usage: %s [--brokers N] [--topic name:partitions]...\n"
          "Hosts the embedded Kafka broker, prints bootstrap.servers=HOST:PORT, and runs until\n"
          "SIGINT or SIGTERM.\n",
          argv[0]);
      return 0;
    } else {
      std::fprintf(stderr, "%s: unexpected argument '%s' (try --help)\n", argv[0], argv[i]);
      return 2;
    }
  }
  return sidestream::server::RunBroker(options);
}
