#include "host/output_tap.h"

#include <algorithm>
#include <unordered_set>

#include "common/clock.h"
#include "connectors/formats/row_format.h"
#include "runtime/record_collector.h"
#include "runtime/stream_task.h"
#include "runtime/topology.h"

namespace sidestream::host {

using catalog::ColumnRole;

struct OutputTap::State {
  std::shared_ptr<const analyzer::AnalyzedStatement> analyzed;
  catalog::SourceDescription source;
  std::optional<int64_t> limit;
  std::vector<formats::FormatColumn> keys, values;
  std::unique_ptr<formats::RowDecoder> key_decoder, value_decoder;
  std::unique_ptr<runtime::Topology> select;
  runtime::RecordBatch batch;
  std::vector<types::Row>* output = nullptr;  // where the topology's rows go during a Poll
  std::vector<bool>* tombstones = nullptr;    // and their flags, when the reader wants them
  int64_t emitted = 0;
  // Options::table_deletes on a table: the message keys (window included) whose last row
  // came out, whose delete is a row too (as a Kafka Streams table filter forwards no delete
  // of a key it never passed), and which output columns a delete keeps: the source's key
  // columns and window bounds, by name.
  bool deletes = false;
  std::unordered_set<std::string> live_keys;
  std::vector<bool> delete_keeps;
  const std::deque<Pending>* taken = nullptr;  // the records of the Poll under way

  // Passes one result record of the SELECT to the reader.
  Status Take(const runtime::Record& record);

  bool limit_reached() const { return limit && emitted >= *limit; }
  // Decodes one produced record into `record`; false when it does not fit the source (a
  // record another writer put there): skipped.
  bool Decode(const Pending& pending, runtime::Record& record);
};

bool OutputTap::State::Decode(const Pending& pending, runtime::Record& record) {
  types::Row& row = record.row;
  row.resize(source.columns.size());
  for (auto& value : row) value.SetNull();
  record.tombstone = !pending.has_value;
  record.retract = false;
  record.window.reset();
  record.timestamp = pending.timestamp;
  record.partition = -1;  // chosen by the producer's partitioner, after the tap
  record.offset = -1;
  record.key_absent = !pending.has_key;
  Status status;
  std::string_view key = pending.key;
  if (pending.has_key && source.window_type != catalog::WindowType::kNone) {
    record.window = runtime::SplitWindowedKey(key);
  }
  if (pending.has_key && !keys.empty()) status = key_decoder->Decode(key, row, 0);
  if (status.ok() && pending.has_value)
    status = value_decoder->Decode(pending.value, row, keys.size());
  return status.ok();
}

Status OutputTap::State::Take(const runtime::Record& record) {
  if (record.retract || limit_reached()) return Status::OK();
  const Pending* from = taken != nullptr && record.input_index < taken->size()
                            ? &(*taken)[record.input_index]
                            : nullptr;
  const bool keyed = deletes && from != nullptr && from->has_key;
  if (record.tombstone) {
    // A stream's null value is no row; a table's delete is one only if its key came out.
    if (!keyed || live_keys.erase(from->key) == 0) return Status::OK();
    types::Row& row = output->emplace_back(record.row);
    for (size_t i = 0; i < row.size(); ++i) {
      if (i >= delete_keeps.size() || !delete_keeps[i]) row[i].SetNull();
    }
    if (tombstones != nullptr) tombstones->push_back(true);
    ++emitted;
    return Status::OK();
  }
  if (keyed) live_keys.insert(from->key);
  output->push_back(record.row);
  if (tombstones != nullptr) tombstones->push_back(false);
  ++emitted;
  return Status::OK();
}

OutputTap::OutputTap(std::unique_ptr<State> state, Options options)
    : state_(std::move(state)), options_(std::move(options)) {}

OutputTap::~OutputTap() = default;

Result<std::shared_ptr<OutputTap>> OutputTap::Create(
    std::shared_ptr<const analyzer::AnalyzedStatement> analyzed, std::optional<int64_t> limit,
    Options options) {
  if (!analyzed || !analyzed->plan) return Status::InvalidArgument("A push query needs a plan");
  auto state = std::make_unique<State>();
  state->analyzed = std::move(analyzed);
  state->limit = limit;
  ASSIGN_OR_RAISE(state->select,
                  runtime::Topology::Build(
                      *state->analyzed->plan,
                      [self = state.get()](const runtime::Record& record, const runtime::Record*) {
                        return self->Take(record);
                      },
                      {}));
  if (state->select->sources().size() != 1) {
    return Status::InvalidArgument("A scalable push query reads one source");
  }
  state->source = state->select->sources().front().source;
  const catalog::SourceDescription& source = state->source;
  state->keys = runtime::FormatColumns(source, ColumnRole::kKey);
  state->values = runtime::FormatColumns(source, ColumnRole::kValue);
  state->deletes = options.table_deletes && source.type == catalog::SourceType::kTable;
  for (const auto& column : state->analyzed->plan->output.columns) {
    bool keeps = false;
    for (const auto& key : state->keys) keeps = keeps || key.name == column.name;
    if (source.window_type != catalog::WindowType::kNone &&
        (column.name == "WINDOWSTART" || column.name == "WINDOWEND")) {
      keeps = true;
    }
    state->delete_keeps.push_back(keeps);
  }
  ASSIGN_OR_RAISE(state->key_decoder,
                  formats::MakeDecoder(runtime::FormatOptionsOf(source, true), state->keys));
  ASSIGN_OR_RAISE(state->value_decoder,
                  formats::MakeDecoder(runtime::FormatOptionsOf(source, false), state->values));
  return std::shared_ptr<OutputTap>(new OutputTap(std::move(state), std::move(options)));
}

const std::string& OutputTap::topic() const { return state_->source.topic; }

void OutputTap::Offer(std::string_view key, std::string_view value, int64_t timestamp_ms) {
  offered_.fetch_add(1, std::memory_order_relaxed);
  if (overflowed_.load(std::memory_order_relaxed)) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const size_t bytes = key.size() + value.size() + sizeof(Pending);
  bool was_empty = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_bytes_ + bytes > options_.max_buffered_bytes) {
      overflowed_ = true;
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    was_empty = pending_.empty();
    Pending& pending = pending_.emplace_back();
    pending.has_key = key.data() != nullptr;
    pending.has_value = value.data() != nullptr;
    pending.key.assign(key);
    pending.value.assign(value);
    pending.timestamp = timestamp_ms != 0 ? timestamp_ms : Clock::System().WallMs();
    pending_bytes_ += bytes;
  }
  if (was_empty && options_.on_ready) options_.on_ready();
}

Status OutputTap::Poll(size_t max_records, std::vector<types::Row>& rows,
                       std::vector<bool>* tombstones) {
  State& state = *state_;
  std::deque<Pending> taken;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const size_t count = std::min(max_records, pending_.size());
    for (size_t i = 0; i < count; ++i) {
      pending_bytes_ -=
          pending_.front().key.size() + pending_.front().value.size() + sizeof(Pending);
      taken.push_back(std::move(pending_.front()));
      pending_.pop_front();
    }
  }
  if (state.limit_reached()) return Status::OK();
  state.batch.Clear();
  for (size_t i = 0; i < taken.size(); ++i) {
    runtime::Record& record = state.batch.Append();
    record.input_index = static_cast<uint32_t>(i);
    if (!state.Decode(taken[i], record)) state.batch.PopBack();
  }
  state.output = &rows;
  state.tombstones = tombstones;
  state.taken = &taken;
  Status processed = state.batch.empty() ? Status::OK() : state.select->Process(0, state.batch);
  state.output = nullptr;
  state.tombstones = nullptr;
  state.taken = nullptr;
  RETURN_NOT_OK(processed);
  if (overflowed_.load() && !state.limit_reached()) {
    return Status::Unavailable("The push query fell behind its source `" + state.source.name +
                               "`: more than " + std::to_string(options_.max_buffered_bytes) +
                               " bytes of its records waited, and records were dropped");
  }
  return Status::OK();
}

bool OutputTap::limit_reached() const { return state_->limit_reached(); }

void OutputTaps::Add(std::shared_ptr<OutputTap> tap) {
  std::lock_guard<std::mutex> lock(mutex_);
  taps_.push_back(std::move(tap));
  count_.store(static_cast<int>(taps_.size()), std::memory_order_release);
}

void OutputTaps::Remove(const OutputTap* tap) {
  std::lock_guard<std::mutex> lock(mutex_);
  std::erase_if(taps_, [tap](const auto& candidate) { return candidate.get() == tap; });
  count_.store(static_cast<int>(taps_.size()), std::memory_order_release);
}

void OutputTaps::Publish(std::string_view topic, std::string_view key, std::string_view value,
                         int64_t timestamp_ms) {
  if (count_.load(std::memory_order_acquire) == 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& tap : taps_) {
    if (tap->topic() == topic) tap->Offer(key, value, timestamp_ms);
  }
}

namespace {

class TappingSink : public runtime::Sink {
 public:
  TappingSink(std::unique_ptr<runtime::Sink> inner, std::shared_ptr<OutputTaps> taps)
      : inner_(std::move(inner)), taps_(std::move(taps)) {}

  Status Produce(std::string_view topic, int32_t partition, std::string_view key,
                 std::string_view value, int64_t timestamp_ms,
                 std::span<const runtime::RecordHeader> headers) override {
    RETURN_NOT_OK(inner_->Produce(topic, partition, key, value, timestamp_ms, headers));
    taps_->Publish(topic, key, value, timestamp_ms);
    return Status::OK();
  }
  Status Flush(std::chrono::milliseconds timeout) override { return inner_->Flush(timeout); }
  void ClearErrors() override { inner_->ClearErrors(); }
  bool transactional() const override { return inner_->transactional(); }
  Status SendOffsets(runtime::Source& source,
                     const std::vector<runtime::TopicPartitionOffset>& offsets,
                     std::chrono::milliseconds timeout) override {
    return inner_->SendOffsets(source, offsets, timeout);
  }
  Status CommitTransaction(std::chrono::milliseconds timeout) override {
    return inner_->CommitTransaction(timeout);
  }
  Status AbortTransaction(std::chrono::milliseconds timeout) override {
    return inner_->AbortTransaction(timeout);
  }

 private:
  std::unique_ptr<runtime::Sink> inner_;
  std::shared_ptr<OutputTaps> taps_;
};

class TappingClientsImpl : public runtime::Clients {
 public:
  TappingClientsImpl(std::unique_ptr<runtime::Clients> inner, std::shared_ptr<OutputTaps> taps)
      : inner_(std::move(inner)), taps_(std::move(taps)) {}

  Result<std::unique_ptr<runtime::Source>> CreateSource(runtime::SourceOptions options) override {
    return inner_->CreateSource(std::move(options));
  }
  Result<std::unique_ptr<runtime::Sink>> CreateSink(runtime::SinkOptions options) override {
    ASSIGN_OR_RAISE(auto sink, inner_->CreateSink(std::move(options)));
    return std::unique_ptr<runtime::Sink>(new TappingSink(std::move(sink), taps_));
  }
  Result<int64_t> ReadChangelog(const std::string& topic, int32_t partition,
                                const runtime::ChangelogVisitor& visit) override {
    return inner_->ReadChangelog(topic, partition, visit);
  }
  Result<runtime::ChangelogReadResult> ReadChangelogFrom(
      const runtime::ChangelogReadRequest& request,
      const runtime::ChangelogVisitor& visit) override {
    return inner_->ReadChangelogFrom(request, visit);
  }
  size_t max_message_bytes() const override { return inner_->max_message_bytes(); }

 private:
  std::unique_ptr<runtime::Clients> inner_;
  std::shared_ptr<OutputTaps> taps_;
};

}  // namespace

std::unique_ptr<runtime::Clients> TappingClients(std::unique_ptr<runtime::Clients> inner,
                                                 std::shared_ptr<OutputTaps> taps) {
  return std::make_unique<TappingClientsImpl>(std::move(inner), std::move(taps));
}

}  // namespace sidestream::host
