#pragma once

#include <memory>
#include <string>

#include "connectors/kafka/batch_consumer.h"
#include "connectors/kafka/batch_producer.h"
#include "connectors/kafka/client_config.h"
#include "runtime/source.h"

namespace sidestream::kafka {

/// The runtime's Source over a group consumer.
class KafkaSource final : public runtime::Source {
 public:
  explicit KafkaSource(std::unique_ptr<BatchConsumer> consumer) : consumer_(std::move(consumer)) {}
  Status Poll(size_t max_records, std::chrono::milliseconds timeout,
              runtime::SourceBatch& batch) override;
  Status Commit(const std::vector<TopicPartitionOffset>& offsets) override {
    return consumer_->Commit(offsets);
  }
  Result<std::vector<TopicPartitionOffset>> Committed(
      const std::vector<TopicPartition>& partitions) override {
    return consumer_->Committed(partitions);
  }
  std::pair<int64_t, int64_t> CachedWatermarks(const TopicPartition& partition) const override {
    return consumer_->CachedWatermarks(partition);
  }
  Status Seek(const std::vector<TopicPartitionOffset>& offsets) override {
    return consumer_->Seek(offsets);
  }
  Result<std::vector<TopicPartition>> Assignment() const override {
    return consumer_->assignment();
  }
  Status SetPaused(bool paused) override { return consumer_->SetPaused(paused); }
  Status Close() override;
  void Wake() override { consumer_->Wake(); }
  const BatchConsumer& consumer() const { return *consumer_; }

 private:
  std::unique_ptr<BatchConsumer> consumer_;
  MessageBatch messages_;  // what the last poll returned: the views' bytes
};

/// The runtime's Sink over an idempotent producer, transactional when made with a
/// transactional id. SendOffsets takes KafkaSources only.
class KafkaSink final : public runtime::Sink {
 public:
  explicit KafkaSink(std::unique_ptr<BatchProducer> producer) : producer_(std::move(producer)) {}
  Status Produce(std::string_view topic, int32_t partition, std::string_view key,
                 std::string_view value, int64_t timestamp_ms,
                 std::span<const runtime::RecordHeader> headers) override;
  Status Flush(std::chrono::milliseconds timeout) override { return producer_->Flush(timeout); }
  void ClearErrors() override { (void)producer_->TakeErrors(); }
  bool transactional() const override { return producer_->transactional(); }
  Status SendOffsets(runtime::Source& source, const std::vector<TopicPartitionOffset>& offsets,
                     std::chrono::milliseconds timeout) override;
  Status CommitTransaction(std::chrono::milliseconds timeout) override {
    return producer_->CommitTransaction(timeout);
  }
  Status AbortTransaction(std::chrono::milliseconds timeout) override {
    return producer_->AbortTransaction(timeout);
  }

 private:
  std::unique_ptr<BatchProducer> producer_;
};

/// Makes the runtime's sources, sinks and changelog reads on one cluster.
class KafkaClients final : public runtime::Clients {
 public:
  /// `embedded`: the embedded broker, whose empty fetches wait for their full time. Under
  /// exactly_once_v2 sources read with isolation.level=read_committed whatever the properties
  /// say (so do changelog reads, always).
  KafkaClients(ClientConfig client, bool embedded,
               runtime::ProcessingGuarantee guarantee = runtime::ProcessingGuarantee::kAtLeastOnce);
  Result<std::unique_ptr<runtime::Source>> CreateSource(runtime::SourceOptions options) override;
  Result<std::unique_ptr<runtime::Sink>> CreateSink(runtime::SinkOptions options = {}) override;
  Result<int64_t> ReadChangelog(const std::string& topic, int32_t partition,
                                const runtime::ChangelogVisitor& visit) override;
  Result<runtime::ChangelogReadResult> ReadChangelogFrom(
      const runtime::ChangelogReadRequest& request,
      const runtime::ChangelogVisitor& visit) override;
  size_t max_message_bytes() const override { return max_message_bytes_; }

 private:
  const ClientConfig client_;
  const bool embedded_;
  const runtime::ProcessingGuarantee guarantee_;
  size_t max_message_bytes_ = 1'000'000;  // librdkafka's default message.max.bytes
};

}  // namespace sidestream::kafka
