#include "server/broker_command.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <utility>

#include "connectors/kafka/embedded_broker.h"

namespace sidestream::server {
namespace {

struct TopicSpec {
  std::string name;
  int partitions = 1;
};

// "name:partitions" or "name".
Result<TopicSpec> ParseTopic(const std::string& text) {
  TopicSpec spec;
  const size_t colon = text.rfind(':');
  spec.name = text.substr(0, colon);
  if (colon != std::string::npos) {
    const std::string count = text.substr(colon + 1);
    auto [end, error] = std::from_chars(count.data(), count.data() + count.size(), spec.partitions);
    if (error != std::errc() || end != count.data() + count.size() || spec.partitions < 1) {
      return Status::InvalidArgument("topic '" + text +
                                     "': partitions must be a positive integer (name:partitions)");
    }
  }
  if (spec.name.empty()) {
    return Status::InvalidArgument("topic '" + text + "' has no name (name:partitions)");
  }
  return spec;
}

}  // namespace

int RunBroker(const BrokerOptions& options) {
  std::vector<TopicSpec> topics;
  for (const std::string& text : options.topics) {
    Result<TopicSpec> spec = ParseTopic(text);
    if (!spec.ok()) {
      std::fprintf(stderr, "sidestream broker: %s\n", spec.status().ToString().c_str());
      return 2;
    }
    topics.push_back(std::move(spec).value());
  }

  // Block the signals before librdkafka starts its threads, which inherit the mask: then only
  // sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto broker = kafka::EmbeddedBroker::Start(options.brokers);
  if (!broker.ok()) {
    std::fprintf(stderr, "sidestream broker: %s\n", broker.status().ToString().c_str());
    return broker.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  for (const TopicSpec& topic : topics) {
    const int replication = std::min(options.brokers, 3);
    Status created = (*broker)->CreateTopic(topic.name, topic.partitions, replication);
    if (!created.ok()) {
      std::fprintf(stderr, "sidestream broker: %s\n", created.ToString().c_str());
      return created.code() == StatusCode::kInvalidArgument ||
                     created.code() == StatusCode::kAlreadyExists
                 ? 2
                 : 1;
    }
  }
  std::printf("bootstrap.servers=%s\n", (*broker)->bootstrap_servers().c_str());
  std::fflush(stdout);

  int received = 0;
  while (sigwait(&signals, &received) != 0) {
  }
  std::fprintf(stderr, "sidestream broker: %s received, stopping\n",
               received == SIGINT ? "SIGINT" : "SIGTERM");
  return 0;
}

}  // namespace sidestream::server
