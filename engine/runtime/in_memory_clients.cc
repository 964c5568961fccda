#include "runtime/in_memory_clients.h"

#include <chrono>
#include <deque>
#include <functional>
#include <thread>

namespace sidestream::runtime {

namespace {

std::optional<std::string> StoredHeaderValue(const RecordHeader& header) {
  return header.has_value ? std::optional<std::string>(header.value) : std::nullopt;
}

}  // namespace

struct InMemoryClients::Record {
  std::optional<std::string> key, value;
  int64_t timestamp = 0;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;  // null: no value
};

struct InMemoryClients::Partition {
  mutable std::mutex mutex;
  // A deque, so that views of a record stay valid while its partition grows.
  std::deque<Record> records;  // guarded by mutex
};

struct InMemoryClients::Topic {
  std::string name;
  std::vector<std::unique_ptr<Partition>> partitions;
};

InMemoryClients::InMemoryClients(int members_per_group, int default_partitions)
    : members_per_group_(members_per_group), default_partitions_(default_partitions) {}

InMemoryClients::~InMemoryClients() = default;

void InMemoryClients::CreateTopic(const std::string& topic, int partitions) {
  std::lock_guard lock(mutex_);
  auto& created = topics_[topic];
  if (created) return;
  created = std::make_unique<Topic>();
  created->name = topic;
  for (int i = 0; i < partitions; ++i) created->partitions.push_back(std::make_unique<Partition>());
}

InMemoryClients::Topic& InMemoryClients::FindTopic(std::string_view name) {
  {
    std::lock_guard lock(mutex_);
    auto found = topics_.find(name);
    if (found != topics_.end()) return *found->second;
  }
  CreateTopic(std::string(name), default_partitions_);
  std::lock_guard lock(mutex_);
  return *topics_.find(name)->second;
}

Status InMemoryClients::Append(std::string_view topic, int32_t partition,
                               std::optional<std::string_view> key,
                               std::optional<std::string_view> value, int64_t timestamp,
                               std::span<const RecordHeader> headers) {
  return AppendTo(FindTopic(topic), partition, key, value, timestamp, headers);
}

Status InMemoryClients::AppendTo(Topic& target, int32_t partition,
                                 std::optional<std::string_view> key,
                                 std::optional<std::string_view> value, int64_t timestamp,
                                 std::span<const RecordHeader> headers) {
  const auto count = static_cast<int32_t>(target.partitions.size());
  if (partition < 0) {
    partition = static_cast<int32_t>(std::hash<std::string_view>()(key.value_or("")) %
                                     static_cast<size_t>(count));
  }
  if (partition >= count) {
    return Status::NotFound("topic " + target.name + " has no partition " +
                            std::to_string(partition));
  }
  Record record;
  if (key) record.key = std::string(*key);
  if (value) record.value = std::string(*value);
  record.timestamp = timestamp;
  for (const RecordHeader& header : headers) {
    record.headers.emplace_back(std::string(header.name), StoredHeaderValue(header));
  }
  Partition& stored = *target.partitions[partition];
  std::lock_guard lock(stored.mutex);
  stored.records.push_back(std::move(record));
  return Status::OK();
}

int64_t InMemoryClients::Size(const std::string& topic) const {
  std::lock_guard lock(mutex_);
  auto found = topics_.find(topic);
  if (found == topics_.end()) return 0;
  int64_t size = 0;
  for (const auto& partition : found->second->partitions) {
    std::lock_guard partition_lock(partition->mutex);
    size += static_cast<int64_t>(partition->records.size());
  }
  return size;
}

/// A fixed member of a group: reads its partitions round-robin from its positions.
class InMemoryClients::MemorySource final : public Source {
 public:
  MemorySource(InMemoryClients& clients, SourceOptions options, int member)
      : clients_(clients), options_(std::move(options)) {
    for (const std::string& name : options_.topics) {
      Topic& topic = clients_.FindTopic(name);
      for (int32_t p = 0; p < static_cast<int32_t>(topic.partitions.size()); ++p) {
        if (p % clients_.members_per_group_ != member) continue;
        assigned_.push_back({name, p});
        partitions_.push_back(topic.partitions[p].get());
        positions_.push_back(-1);  // the committed offset, read at the first poll
      }
    }
  }

  Status Poll(size_t max_records, std::chrono::milliseconds timeout, SourceBatch& batch) override {
    batch.Clear();
    if (!announced_) {
      announced_ = true;
      if (options_.on_rebalance) {
        options_.on_rebalance({RebalanceEvent::Kind::kAssigned, assigned_});
      }
    }
    for (size_t i = 0; i < assigned_.size(); ++i) {
      if (positions_[i] >= 0) continue;
      ASSIGN_OR_RAISE(auto committed, Committed({assigned_[i]}));
      positions_[i] = std::max<int64_t>(0, committed[0].offset);
    }
    if (paused_) {
      std::this_thread::sleep_for(std::min(timeout, kIdleWait));
      return Status::OK();
    }
    // A share of the batch per partition, so that none starves.
    const size_t share = std::max<size_t>(1, max_records / std::max<size_t>(1, assigned_.size()));
    for (size_t i = 0; i < assigned_.size(); ++i) {
      std::lock_guard lock(partitions_[i]->mutex);
      const auto& records = partitions_[i]->records;
      const size_t end = std::min(records.size(), static_cast<size_t>(positions_[i]) + share);
      for (auto offset = static_cast<size_t>(positions_[i]); offset < end; ++offset) {
        const Record& stored = records[offset];
        SourceRecord& record = batch.records.emplace_back();
        record.topic = assigned_[i].topic;
        record.partition = assigned_[i].partition;
        record.offset = static_cast<int64_t>(offset);
        record.timestamp = stored.timestamp;
        if (stored.key) record.key = *stored.key;
        if (stored.value) record.value = *stored.value;
        record.first_header = static_cast<uint32_t>(batch.headers.size());
        record.header_count = static_cast<uint32_t>(stored.headers.size());
        for (const auto& [name, value] : stored.headers) {
          batch.headers.push_back(
              {name, value ? std::string_view(*value) : std::string_view(), value.has_value()});
        }
      }
      positions_[i] = static_cast<int64_t>(end);
    }
    if (batch.records.empty()) std::this_thread::sleep_for(std::min(timeout, kIdleWait));
    return Status::OK();
  }

  Status Commit(const std::vector<TopicPartitionOffset>& offsets) override {
    std::lock_guard lock(clients_.mutex_);
    for (const auto& offset : offsets) {
      clients_.committed_[{options_.group_id, offset.topic, offset.partition}] = offset.offset;
    }
    return Status::OK();
  }

  Result<std::vector<TopicPartitionOffset>> Committed(
      const std::vector<TopicPartition>& partitions) override {
    std::lock_guard lock(clients_.mutex_);
    std::vector<TopicPartitionOffset> offsets;
    for (const auto& partition : partitions) {
      auto found =
          clients_.committed_.find({options_.group_id, partition.topic, partition.partition});
      offsets.push_back({partition.topic, partition.partition,
                         found == clients_.committed_.end() ? -1 : found->second});
    }
    return offsets;
  }

  std::pair<int64_t, int64_t> CachedWatermarks(const TopicPartition& partition) const override {
    for (size_t i = 0; i < assigned_.size(); ++i) {
      if (assigned_[i] != partition) continue;
      std::lock_guard lock(partitions_[i]->mutex);
      return {0, static_cast<int64_t>(partitions_[i]->records.size())};
    }
    return {-1, -1};
  }

  Status Seek(const std::vector<TopicPartitionOffset>& offsets) override {
    for (const auto& offset : offsets) {
      for (size_t i = 0; i < assigned_.size(); ++i) {
        if (assigned_[i].topic == offset.topic && assigned_[i].partition == offset.partition) {
          positions_[i] = offset.offset == kBeginning ? 0 : offset.offset;
        }
      }
    }
    return Status::OK();
  }

  Result<std::vector<TopicPartition>> Assignment() const override { return assigned_; }
  const std::string& group_id() const { return options_.group_id; }

  Status SetPaused(bool paused) override {
    paused_ = paused;
    return Status::OK();
  }

  Status Close() override {
    if (announced_ && options_.on_rebalance) {
      options_.on_rebalance({RebalanceEvent::Kind::kRevoked, assigned_});
    }
    announced_ = false;
    return Status::OK();
  }

 private:
  static constexpr std::chrono::milliseconds kIdleWait{1};
  InMemoryClients& clients_;
  SourceOptions options_;
  std::vector<TopicPartition> assigned_;
  std::vector<Partition*> partitions_;
  std::vector<int64_t> positions_;  // next offset per assigned partition; -1: not read yet
  bool announced_ = false;          // the assignment was reported
  bool paused_ = false;
};

/// Appends to the topics at once, or, with a transactional id, at CommitTransaction, together
/// with the offsets sent to the transaction; delivery cannot fail. A newer sink with the same
/// transactional id fences this one: its commits then fail with Internal.
class InMemoryClients::MemorySink final : public Sink {
 public:
  MemorySink(InMemoryClients& clients, SinkOptions options, uint64_t epoch)
      : clients_(clients), options_(std::move(options)), epoch_(epoch) {}
  Status Produce(std::string_view topic, int32_t partition, std::string_view key,
                 std::string_view value, int64_t timestamp_ms,
                 std::span<const RecordHeader> headers) override {
    // Topics found once per sink: the clients' lock is shared by every stream thread.
    auto found = topics_.find(topic);
    if (found == topics_.end()) found = topics_.emplace(topic, &clients_.FindTopic(topic)).first;
    if (!transactional()) {
      return clients_.AppendTo(*found->second, partition, key, value, timestamp_ms, headers);
    }
    RETURN_NOT_OK(CheckNotFenced());
    Pending& pending = pending_.emplace_back();
    pending.topic = found->second;
    pending.partition = partition;
    pending.key = std::string(key);
    pending.value = std::string(value);
    pending.timestamp = timestamp_ms;
    for (const RecordHeader& header : headers) {
      pending.headers.emplace_back(std::string(header.name), StoredHeaderValue(header));
    }
    return Status::OK();
  }
  Status Flush(std::chrono::milliseconds) override { return Status::OK(); }
  void ClearErrors() override {}

  bool transactional() const override { return !options_.transactional_id.empty(); }
  Status SendOffsets(Source& source, const std::vector<TopicPartitionOffset>& offsets,
                     std::chrono::milliseconds) override {
    if (!transactional()) return Sink::SendOffsets(source, offsets, {});
    RETURN_NOT_OK(CheckNotFenced());
    auto* member = dynamic_cast<MemorySource*>(&source);
    if (member == nullptr) return Status::InvalidArgument("a source of other clients");
    for (const auto& offset : offsets) {
      pending_offsets_[{member->group_id(), offset.topic, offset.partition}] = offset.offset;
    }
    return Status::OK();
  }
  Status CommitTransaction(std::chrono::milliseconds) override {
    if (!transactional()) return Status::OK();
    RETURN_NOT_OK(CheckNotFenced());
    for (const Pending& pending : pending_) {
      std::vector<RecordHeader> headers;
      for (const auto& [name, value] : pending.headers) {
        headers.push_back(
            {name, value ? std::string_view(*value) : std::string_view(), value.has_value()});
      }
      RETURN_NOT_OK(clients_.AppendTo(*pending.topic, pending.partition, pending.key, pending.value,
                                      pending.timestamp, headers));
    }
    {
      std::lock_guard lock(clients_.mutex_);
      for (const auto& [partition, offset] : pending_offsets_)
        clients_.committed_[partition] = offset;
    }
    pending_.clear();
    pending_offsets_.clear();
    return Status::OK();
  }
  Status AbortTransaction(std::chrono::milliseconds) override {
    pending_.clear();
    pending_offsets_.clear();
    return Status::OK();
  }

 private:
  struct Pending {
    Topic* topic = nullptr;
    int32_t partition = -1;
    std::string key, value;
    int64_t timestamp = 0;
    std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  };
  Status CheckNotFenced() const {
    std::lock_guard lock(clients_.mutex_);
    if (clients_.transactional_epochs_[options_.transactional_id] == epoch_) return Status::OK();
    return Status::Internal("producer fenced: a newer sink uses transactional.id '" +
                            options_.transactional_id + "'");
  }

  InMemoryClients& clients_;
  const SinkOptions options_;
  const uint64_t epoch_;
  std::map<std::string, Topic*, std::less<>> topics_;
  std::vector<Pending> pending_;  // the open transaction's records
  std::map<std::tuple<std::string, std::string, int32_t>, int64_t> pending_offsets_;
};

Result<std::unique_ptr<Source>> InMemoryClients::CreateSource(SourceOptions options) {
  int member = 0;
  {
    std::lock_guard lock(mutex_);
    member = group_members_[options.group_id]++ % members_per_group_;
  }
  return std::unique_ptr<Source>(std::make_unique<MemorySource>(*this, std::move(options), member));
}

Result<std::unique_ptr<Sink>> InMemoryClients::CreateSink(SinkOptions options) {
  uint64_t epoch = 0;
  if (!options.transactional_id.empty()) {
    std::lock_guard lock(mutex_);
    epoch = ++transactional_epochs_[options.transactional_id];
  }
  return std::unique_ptr<Sink>(std::make_unique<MemorySink>(*this, std::move(options), epoch));
}

Result<int64_t> InMemoryClients::ReadChangelog(const std::string& topic, int32_t partition,
                                               const ChangelogVisitor& visit) {
  Topic& stored = FindTopic(topic);
  if (partition >= static_cast<int32_t>(stored.partitions.size())) return int64_t{0};
  Partition& read = *stored.partitions[partition];
  std::lock_guard lock(read.mutex);
  for (const auto& record : read.records) {
    RETURN_NOT_OK(visit(record.key, record.value));
  }
  return static_cast<int64_t>(read.records.size());
}

Result<ChangelogReadResult> InMemoryClients::ReadChangelogFrom(const ChangelogReadRequest& request,
                                                               const ChangelogVisitor& visit) {
  // Records are never dropped here, so offsets are indexes.
  ChangelogReadResult result;
  Topic& stored = FindTopic(request.topic);
  if (request.partition >= static_cast<int32_t>(stored.partitions.size())) {
    result.out_of_range = request.from > 0;
    return result;
  }
  Partition& read = *stored.partitions[request.partition];
  std::lock_guard lock(read.mutex);
  const auto end = static_cast<int64_t>(read.records.size());
  const int64_t start = request.from == Source::kBeginning ? 0 : request.from;
  result.end_offset = end;
  if (start < 0 || start > end) {
    result.out_of_range = true;
    return result;
  }
  if (request.on_range) request.on_range(start, end);
  for (int64_t offset = start; offset < end; ++offset) {
    const auto& record = read.records[static_cast<size_t>(offset)];
    RETURN_NOT_OK(visit(record.key, record.value));
    ++result.records;
  }
  return result;
}

}  // namespace sidestream::runtime
