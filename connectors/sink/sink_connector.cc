#include "connectors/sink/sink_connector.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <thread>

#include "connectors/couchdb/couchdb_writer.h"
#include "connectors/redis/redis_writer.h"

namespace sidestream::sink {

namespace {

std::string Text(std::string_view bytes) { return std::string(bytes); }

std::string Property(const catalog::ConnectorDescription& connector, const std::string& name) {
  auto found = connector.properties.find(name);
  return found == connector.properties.end() ? std::string() : found->second;
}

std::vector<std::string> SplitTopics(const std::string& text) {
  std::vector<std::string> topics;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string::npos) end = text.size();
    std::string topic = text.substr(begin, end - begin);
    topic.erase(0, topic.find_first_not_of(" \t"));
    topic.erase(topic.find_last_not_of(" \t") + 1);
    if (!topic.empty()) topics.push_back(std::move(topic));
    begin = end + 1;
  }
  return topics;
}

}  // namespace

const char* ConnectorStateName(ConnectorState state) {
  return state == ConnectorState::kRunning ? "RUNNING" : "FAILED";
}

SinkConnector::SinkConnector(SinkConnectorOptions options, std::unique_ptr<SinkWriter> writer)
    : options_(std::move(options)), writer_(std::move(writer)) {}

SinkConnector::~SinkConnector() { (void)Close(); }

Result<std::unique_ptr<SinkConnector>> SinkConnector::Create(SinkConnectorOptions options,
                                                             std::unique_ptr<SinkWriter> writer,
                                                             std::string connector_class) {
  if (options.topics.empty()) {
    return Status::InvalidArgument("connector " + options.name + " names no topics");
  }
  if (options.group_id.empty()) {
    options.group_id = options.application_id + "-connector-" + options.name;
  }
  std::unique_ptr<SinkConnector> connector(new SinkConnector(options, std::move(writer)));
  connector->status_.name = options.name;
  connector->status_.connector_class = std::move(connector_class);
  connector->last_commit_ = options.clock->Now();
  kafka::ProducerOptions producer;
  producer.client = options.client;
  ASSIGN_OR_RAISE(connector->producer_, kafka::BatchProducer::Create(producer));
  kafka::ConsumerOptions consumer;
  consumer.client = options.client;
  consumer.group_id = options.group_id;
  consumer.topics = options.topics;
  SinkConnector* self = connector.get();
  consumer.on_rebalance = [self](const kafka::RebalanceEvent& event) {
    // Partitions that come (back) may have been written by another instance meanwhile.
    self->writer_->ForgetOffsets();
    if (event.kind == kafka::RebalanceEvent::Kind::kAssigned) {
      for (const kafka::TopicPartition& partition : event.partitions) {
        self->not_owned_.erase({partition.topic, partition.partition});
      }
      return;
    }
    if (event.kind == kafka::RebalanceEvent::Kind::kRevoked) (void)self->Commit();
    // Offsets of partitions we no longer own must not be committed later, even for records
    // of them still held.
    for (const kafka::TopicPartition& partition : event.partitions) {
      self->written_.erase({partition.topic, partition.partition});
      self->not_owned_.insert({partition.topic, partition.partition});
    }
  };
  ASSIGN_OR_RAISE(connector->consumer_, kafka::BatchConsumer::Create(std::move(consumer)));
  return connector;
}

void SinkConnector::Fail(const Status& error) {
  status_.state = ConnectorState::kFailed;
  status_.retrying = false;
  status_.last_error = error.ToString();
  holding_ = false;
  records_.clear();
  for (auto& batch : batches_) batch.Clear();
  if (consumer_) (void)consumer_->Close();
}

Status SinkConnector::DeadLetter(const SinkRecord& record, const std::string& reason) {
  nlohmann::json letter = {{"connector", options_.name},
                           {"topic", Text(record.topic)},
                           {"partition", record.partition},
                           {"offset", record.offset},
                           {"reason", reason}};
  letter["key"] = record.key ? nlohmann::json(Text(*record.key)) : nlohmann::json(nullptr);
  letter["value"] = record.value ? nlohmann::json(Text(*record.value)) : nlohmann::json(nullptr);
  const std::string text = letter.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  dead_letters_pending_ = true;
  ++status_.dead_letters;
  return producer_->Produce(options_.dead_letter_topic, -1, record.key.value_or(""), text);
}

void SinkConnector::WriteHeld() {
  Result<WriteResult> written = writer_->Write(records_);
  if (!written.ok()) {
    status_.last_error = written.status().ToString();
    if (!written.status().retriable()) {
      Fail(written.status());
      return;
    }
    ++status_.retries;
    status_.retrying = true;
    backoff_ = backoff_.count() == 0 ? options_.retry_backoff_initial
                                     : std::min(backoff_ * 2, options_.retry_backoff_max);
    retry_at_ = options_.clock->Now() + backoff_;
    return;
  }
  for (const RejectedRecord& rejected : written->rejected) {
    Status sent = DeadLetter(records_[rejected.index], rejected.reason);
    if (!sent.ok()) {
      Fail(sent);
      return;
    }
  }
  status_.upserts += written->upserts;
  status_.deletes += written->deletes;
  status_.skipped += written->skipped;
  status_.folded += written->folded;
  for (const SinkRecord& record : records_) {
    std::pair<std::string, int32_t> partition(std::string(record.topic), record.partition);
    if (not_owned_.count(partition)) continue;
    int64_t& next = written_[std::move(partition)];
    next = std::max(next, record.offset + 1);
  }
  uncommitted_ = true;
  holding_ = false;
  status_.retrying = false;
  backoff_ = std::chrono::milliseconds(0);
  records_.clear();
  for (auto& batch : batches_) batch.Clear();
}

ConnectorStatus SinkConnector::status() const {
  ConnectorStatus status = status_;
  for (const auto& [partition, next] : written_) {
    if (not_owned_.count(partition) || !consumer_) continue;
    const int64_t high = consumer_->CachedWatermarks({partition.first, partition.second}).second;
    if (high >= 0) status.lag[partition] = std::max<int64_t>(0, high - next);
  }
  return status;
}

int64_t SinkConnector::Poll(std::chrono::milliseconds wait) {
  if (status_.state == ConnectorState::kFailed) return 0;
  const auto now = options_.clock->Now();
  if (holding_) {
    if (now < retry_at_) {
      // Waiting out the backoff: wait as a poll would, at most until the retry.
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(wait, retry_at_ - now));
      return 0;
    }
    WriteHeld();
    return 0;
  }
  // A poll returns what one fetch brought (often a few hundred records of one partition):
  // polls without waiting add to the batch, up to max_batch_records, so that one store write
  // (one round trip) carries many.
  records_.clear();
  size_t used = 0;
  for (; used < batches_.size() && records_.size() < options_.max_batch_records; ++used) {
    kafka::MessageBatch& batch = batches_[used];
    Status polled = consumer_->Poll(options_.max_batch_records - records_.size(),
                                    used == 0 ? wait : std::chrono::milliseconds(0), &batch);
    if (!polled.ok()) {
      Fail(polled);
      return 0;
    }
    if (batch.empty()) break;
    for (size_t i = 0; i < batch.size(); ++i) {
      kafka::MessageView message = batch[i];
      SinkRecord& record = records_.emplace_back();
      record.topic = message.topic();
      record.partition = message.partition();
      record.offset = message.offset();
      if (message.has_key()) record.key = message.key();
      if (message.has_value()) record.value = message.value();
    }
  }
  const int64_t consumed = static_cast<int64_t>(records_.size());
  if (consumed > 0) {
    status_.consumed += consumed;
    holding_ = true;
    WriteHeld();
  }
  if (uncommitted_ && options_.clock->Now() - last_commit_ >= options_.commit_interval) {
    Status committed = Commit();
    if (!committed.ok()) status_.last_error = committed.ToString();
  }
  return consumed;
}

Status SinkConnector::Commit() {
  if (!uncommitted_ || !consumer_) return Status::OK();
  if (dead_letters_pending_) {
    // Dead letters are delivered before the offsets of their records are committed.
    RETURN_NOT_OK(producer_->Flush(std::chrono::seconds(30)));
    dead_letters_pending_ = false;
  }
  std::vector<kafka::TopicPartitionOffset> offsets;
  for (const auto& [partition, next] : written_) {
    offsets.push_back({partition.first, partition.second, next});
  }
  if (!offsets.empty()) RETURN_NOT_OK(consumer_->Commit(offsets));
  uncommitted_ = false;
  last_commit_ = options_.clock->Now();
  return Status::OK();
}

Status SinkConnector::Close() {
  if (!consumer_) return Status::OK();
  Status committed = status_.state == ConnectorState::kFailed ? Status::OK() : Commit();
  Status closed = consumer_->Close();
  consumer_.reset();
  if (producer_) (void)producer_->Flush(std::chrono::seconds(10));
  return committed.ok() ? closed : committed;
}

Result<std::unique_ptr<SinkWriter>> CreateSinkWriter(
    const catalog::ConnectorDescription& connector) {
  if (connector.connector_class == "redis") {
    redis::RedisWriterOptions options;
    options.url = Property(connector, "redis.url");
    options.connector = connector.name;
    options.key_template = Property(connector, "redis.key.template");
    options.mode = Property(connector, "redis.mode") == "string" ? redis::RedisMode::kString
                                                                 : redis::RedisMode::kHash;
    ASSIGN_OR_RAISE(auto writer, redis::RedisWriter::Create(std::move(options)));
    return std::unique_ptr<SinkWriter>(std::move(writer));
  }
  if (connector.connector_class == "couchdb") {
    couchdb::CouchDbWriterOptions options;
    options.url = Property(connector, "couchdb.url");
    options.database = Property(connector, "couchdb.database");
    options.connector = connector.name;
    options.id_template = Property(connector, "couchdb.id.template");
    ASSIGN_OR_RAISE(auto writer, couchdb::CouchDbWriter::Create(std::move(options)));
    return std::unique_ptr<SinkWriter>(std::move(writer));
  }
  return Status::InvalidArgument("connector " + connector.name + ": unknown connector.class '" +
                                 connector.connector_class + "'");
}

Result<std::unique_ptr<SinkConnector>> StartSinkConnector(
    const catalog::ConnectorDescription& connector, const kafka::ClientConfig& client,
    const std::string& application_id, const Clock* clock) {
  ASSIGN_OR_RAISE(auto writer, CreateSinkWriter(connector));
  SinkConnectorOptions options;
  options.name = connector.name;
  options.topics = SplitTopics(Property(connector, "topics"));
  options.client = client;
  options.application_id = application_id;
  options.clock = clock;
  const std::string dead_letters = Property(connector, "errors.deadletterqueue.topic.name");
  if (!dead_letters.empty()) options.dead_letter_topic = dead_letters;
  const std::string batch = Property(connector, "batch.max.records");
  if (!batch.empty()) {
    std::from_chars(batch.data(), batch.data() + batch.size(), options.max_batch_records);
  }
  return SinkConnector::Create(std::move(options), std::move(writer), connector.connector_class);
}

}  // namespace sidestream::sink
