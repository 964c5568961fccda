#include "server/rest/command_log.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <random>

#include "connectors/kafka/batch_producer.h"
#include "connectors/kafka/topic_admin.h"

namespace sidestream::rest {

namespace {

using json = nlohmann::json;

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// How long one pass of a wait reads before it checks its deadline.
constexpr std::chrono::milliseconds kPollSlice{100};

}  // namespace

std::string CommandTopicName(const std::string& service_id) {
  return "_confluent-ksql-" + service_id + "_command_topic";
}

Result<std::unique_ptr<CommandLog>> CommandLog::Open(CommandLogOptions options,
                                                     host::KafkaEngine& engine) {
  std::unique_ptr<CommandLog> log(new CommandLog());
  log->options_ = std::move(options);
  const std::string& topic = log->options_.topic;
  {
    ASSIGN_OR_RAISE(auto admin, kafka::TopicAdmin::Create(log->options_.client));
    // ksqlDB's settings: commands are never deleted, since a new instance replays them all.
    Status created = admin->EnsureTopic(topic, 1, 1, log->options_.timeout,
                                        {{"retention.ms", "-1"}, {"cleanup.policy", "delete"}});
    if (created.code() == StatusCode::kNotSupported && admin->PartitionCount(topic).ok()) {
      created = Status::OK();  // created beforehand, where the broker runs
    }
    if (!created.ok()) {
      return Status(created.code(), "command topic " + topic + ": " + created.message() +
                                        (created.code() == StatusCode::kNotSupported
                                             ? " (start the broker with --topic " + topic + ":1)"
                                             : ""));
    }
    ASSIGN_OR_RAISE(int partitions, admin->PartitionCount(topic));
    if (partitions != 1) {
      spdlog::warn("command topic {} has {} partitions; only partition 0 is used", topic,
                   partitions);
    }
  }
  kafka::ProducerOptions producer;
  producer.client = log->options_.client;
  producer.linger_ms = 0;  // a statement waits for its command: send it at once
  ASSIGN_OR_RAISE(log->producer_, kafka::BatchProducer::Create(std::move(producer)));
  // Offsets start at 0 and are never deleted, so a catalog that applied none reads from 0: a
  // topic whose first commands are gone is an error, not a silently partial catalog.
  const int64_t from = engine.catalog().applied_command_offset() + 1;
  ASSIGN_OR_RAISE(log->reader_,
                  kafka::PartitionTailer::Create(log->options_.client, topic, 0, from));
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::random_device random;
  log->instance_tag_ = std::string(host) + "-" + std::to_string(getpid()) + "-" +
                       std::to_string((static_cast<uint64_t>(random()) << 32) | random());
  return log;
}

CommandLog::~CommandLog() = default;

Status CommandLog::CatchUp(host::KafkaEngine& engine) {
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  ASSIGN_OR_RAISE(int64_t end, reader_->EndOffset(options_.timeout));
  if (engine.catalog().applied_command_offset() >= end) {
    return Status::Corruption(
        "the catalog applied commands up to offset " +
        std::to_string(engine.catalog().applied_command_offset()) + ", but " + options_.topic +
        " ends at " + std::to_string(end) +
        ": the catalog belongs to another cluster or topic; move its file aside to rebuild it "
        "from the topic");
  }
  while (engine.catalog().applied_command_offset() + 1 < end) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Unavailable("replaying " + options_.topic + ": stopped at offset " +
                                 std::to_string(engine.catalog().applied_command_offset() + 1) +
                                 " of " + std::to_string(end) + " after " +
                                 std::to_string(options_.timeout.count()) + " ms");
    }
    RETURN_NOT_OK(Poll(engine, kPollSlice));
  }
  return Status::OK();
}

Status CommandLog::Poll(host::KafkaEngine& engine, std::chrono::milliseconds wait) {
  ASSIGN_OR_RAISE(int64_t read,
                  reader_->Poll(wait, [&](int64_t offset, std::optional<std::string_view>,
                                          std::optional<std::string_view> value) {
                    Apply(engine, offset, value);
                  }));
  (void)read;
  return Status::OK();
}

Result<CommandLog::Applied> CommandLog::Append(host::KafkaEngine& engine,
                                               const std::string& statement,
                                               const analyzer::SessionProperties& properties) {
  const std::string request = instance_tag_ + "-" + std::to_string(next_request_++);
  json command = {{"statement", statement},
                  {"streamsProperties", properties},
                  {"originalProperties", json::object()},
                  {"sidestreamRequestId", request}};
  RETURN_NOT_OK(producer_->Produce(options_.topic, 0, request, Dump(command)));
  Status flushed = producer_->Flush(options_.timeout);
  if (!flushed.ok()) {
    return Status(flushed.code(),
                  "the statement was not sent to " + options_.topic + ": " + flushed.message());
  }
  awaited_request_ = request;
  awaited_result_.reset();
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  Status polled;
  while (polled.ok() && !awaited_result_) {
    if (std::chrono::steady_clock::now() > deadline) {
      polled = Status::Unavailable(
          "the statement was sent to " + options_.topic + " but did not come back within " +
          std::to_string(options_.timeout.count()) + " ms; it runs when it does");
      break;
    }
    polled = Poll(engine, kPollSlice);
  }
  awaited_request_.clear();
  if (!polled.ok()) return polled;
  return *std::exchange(awaited_result_, std::nullopt);
}

void CommandLog::Apply(host::KafkaEngine& engine, int64_t offset,
                       std::optional<std::string_view> value) {
  catalog::Catalog& catalog = engine.catalog();
  if (offset <= catalog.applied_command_offset()) return;  // applied before a restart
  ++applied_;
  // The command's changes and its offset reach the catalog's file together, or not at all.
  Status began = catalog.BeginChanges();
  std::string request;
  std::string statement;
  Outcome outcome;
  Status status = [&]() -> Status {
    if (!value) return Status::InvalidArgument("the record has no value");
    json command = json::parse(*value, nullptr, /*allow_exceptions=*/false);
    if (command.is_discarded() || !command.is_object() || !command.contains("statement") ||
        !command["statement"].is_string()) {
      return Status::InvalidArgument(
          "not a command: expected a JSON object with a 'statement' string");
    }
    statement = command["statement"].get<std::string>();
    if (command.contains("sidestreamRequestId") && command["sidestreamRequestId"].is_string()) {
      request = command["sidestreamRequestId"].get<std::string>();
    }
    analyzer::SessionProperties properties;
    if (command.contains("streamsProperties") && command["streamsProperties"].is_object()) {
      for (const auto& [name, property] : command["streamsProperties"].items()) {
        properties[name] = property.is_string() ? property.get<std::string>() : Dump(property);
      }
    }
    // ksqlDB numbers a command's query by the command's offset: one id on every instance.
    RETURN_NOT_OK(catalog.SetNextQueryNumber(offset));
    if (observer_) outcome = observer_(statement, offset, catalog);
    return engine.ExecuteWith(statement, properties);
  }();
  if (!status.ok()) {
    ++failed_;
    spdlog::warn("{} offset {}: the command failed here and is skipped: {}{}", options_.topic,
                 offset, status.ToString(), statement.empty() ? "" : " (" + statement + ")");
  }
  if (outcome) outcome(status, catalog);
  Status recorded = catalog.SetAppliedCommandOffset(offset);
  if (began.ok()) {
    Status committed = catalog.CommitChanges();
    if (recorded.ok()) recorded = committed;
  } else if (recorded.ok()) {
    recorded = began;
  }
  if (!recorded.ok()) {
    spdlog::error("{} offset {}: the catalog did not record it (it may run again at a restart): {}",
                  options_.topic, offset, recorded.ToString());
  }
  if (!request.empty() && request == awaited_request_) {
    awaited_result_ = Applied{offset, std::move(status)};
  }
}

}  // namespace sidestream::rest
