#include "host/stream_pull_query.h"

#include <map>

#include "connectors/formats/row_format.h"
#include "connectors/kafka/batch_consumer.h"
#include "connectors/kafka/topic_admin.h"
#include "functions/temporal_format.h"
#include "host/kafka_engine.h"
#include "planner/physical_plan.h"
#include "runtime/header_columns.h"
#include "runtime/stream_task.h"
#include "runtime/topology.h"

namespace sidestream::host {

using catalog::ColumnRole;

struct StreamPullQuery::State {
  std::shared_ptr<const analyzer::AnalyzedStatement> analyzed;
  catalog::SourceDescription source;
  std::optional<int64_t> limit;
  std::chrono::milliseconds timeout{0};

  std::unique_ptr<kafka::BatchConsumer> consumer;
  kafka::MessageBatch messages;
  // Per partition still being read: the end offset captured at Start.
  std::map<int32_t, int64_t> ends;

  std::vector<formats::FormatColumn> keys, values;
  std::unique_ptr<formats::RowDecoder> key_decoder, value_decoder;
  std::vector<runtime::HeaderColumn> header_columns;
  std::vector<runtime::RecordHeader> headers;
  int timestamp_column = -1;
  std::optional<functions::TemporalPattern> timestamp_format;

  std::unique_ptr<runtime::Topology> select;
  runtime::RecordBatch batch;
  std::vector<types::Row>* output = nullptr;  // where the topology's rows go during a Poll
  int64_t emitted = 0;
  int64_t read = 0;
  int64_t decode_errors = 0;
  std::chrono::steady_clock::time_point last_progress;

  bool limit_reached() const { return limit && emitted >= *limit; }
  // Decodes `message` into `record`; false (counted) when it does not fit the stream.
  bool Decode(const kafka::MessageView& message, runtime::Record& record);
  // The partition is read up to its end offset.
  void Finish(int32_t partition) { ends.erase(partition); }
};

bool StreamPullQuery::State::Decode(const kafka::MessageView& message, runtime::Record& record) {
  types::Row& row = record.row;
  const size_t decoded = keys.size() + values.size();
  row.resize(source.columns.size());
  for (size_t i = decoded; i < row.size(); ++i) row[i].SetNull();
  if (!header_columns.empty()) {
    headers.clear();
    for (size_t i = 0; i < message.header_count(); ++i) {
      kafka::MessageHeader header = message.header(i);
      headers.push_back({header.name, header.value, header.has_value});
    }
    runtime::FillHeaderColumns(header_columns, headers, row);
  }
  // As in a stream task: a null value is a record whose value columns are NULL.
  record.tombstone = !message.has_value();
  record.retract = false;
  record.window.reset();
  record.timestamp = message.timestamp();
  record.partition = message.partition();
  record.offset = message.offset();
  record.key_absent = !message.has_key();
  Status status;
  if (message.has_key() && !keys.empty()) {
    status = key_decoder->Decode(message.key(), row, 0);
  } else {
    for (size_t i = 0; i < keys.size(); ++i) row[i].SetNull();
  }
  if (status.ok() && message.has_value()) {
    status = value_decoder->Decode(message.value(), row, keys.size());
  } else if (status.ok()) {
    for (size_t i = keys.size(); i < decoded; ++i) row[i].SetNull();
  }
  // ROWTIME is the stream's TIMESTAMP column where it declares one.
  if (status.ok() && timestamp_column >= 0 && !record.tombstone) {
    const types::Value& event_time = row[static_cast<size_t>(timestamp_column)];
    if (event_time.kind() == types::TypeId::kString && timestamp_format) {
      auto parsed = timestamp_format->Parse(event_time.string(), 0);
      if (parsed.ok()) record.timestamp = *parsed;
      status = parsed.status();
    } else if (event_time.is_null() || event_time.kind() == types::TypeId::kString) {
      status = Status::InvalidArgument("no valid event time");
    } else {
      record.timestamp = event_time.integer();
    }
  }
  if (!status.ok()) ++decode_errors;
  return status.ok();
}

StreamPullQuery::StreamPullQuery(std::unique_ptr<State> state) : state_(std::move(state)) {}

StreamPullQuery::~StreamPullQuery() {
  if (!state_ || !state_->consumer) return;
  state_->messages.Clear();
  Status closed = state_->consumer->Close();
  (void)closed;  // an assigned consumer has no group to leave and nothing to commit
}

Result<std::unique_ptr<StreamPullQuery>> StreamPullQuery::Start(
    const kafka::ClientConfig& client, int partitions,
    std::shared_ptr<const analyzer::AnalyzedStatement> analyzed, std::optional<int64_t> limit,
    std::chrono::milliseconds timeout) {
  if (!analyzed || !analyzed->plan) return Status::InvalidArgument("A pull query needs a plan");
  auto state = std::make_unique<State>();
  state->analyzed = std::move(analyzed);
  state->limit = limit;
  state->timeout = timeout;
  const analyzer::LogicalOperator& plan = *state->analyzed->plan;
  ASSIGN_OR_RAISE(state->select,
                  runtime::Topology::Build(
                      plan,
                      [self = state.get()](const runtime::Record& record, const runtime::Record*) {
                        if (record.retract || self->limit_reached()) return Status::OK();
                        self->output->push_back(record.row);
                        ++self->emitted;
                        return Status::OK();
                      },
                      {}));
  if (state->select->sources().size() != 1) {
    return Status::InvalidArgument("A pull query on a stream reads one stream");
  }
  state->source = state->select->sources().front().source;
  const catalog::SourceDescription& source = state->source;
  if (source.type != catalog::SourceType::kStream) {
    return Status::InvalidArgument("`" + source.name + "` is not a stream");
  }
  // Decode only what the SELECT reads (and the event time), as a stream task does.
  const std::vector<std::vector<bool>> used = planner::UsedColumnsBySource(plan);
  state->keys = runtime::FormatColumns(source, ColumnRole::kKey);
  state->values = runtime::FormatColumns(source, ColumnRole::kValue);
  for (size_t i = 0; i < state->values.size(); ++i) {
    const bool event_time =
        source.timestamp_column && *source.timestamp_column == state->values[i].name;
    const size_t column = state->keys.size() + i;
    state->values[i].skip =
        !event_time && !used.empty() && column < used[0].size() && !used[0][column];
  }
  for (size_t i = 0; i < source.columns.size(); ++i) {
    if (source.columns[i].role == ColumnRole::kHeader) {
      state->header_columns.push_back({i, source.columns[i].header_key});
    }
    if (source.timestamp_column && source.columns[i].name == *source.timestamp_column) {
      state->timestamp_column = static_cast<int>(i);
    }
  }
  if (source.timestamp_format) {
    ASSIGN_OR_RAISE(state->timestamp_format,
                    functions::TemporalPattern::Compile(*source.timestamp_format));
  }
  ASSIGN_OR_RAISE(state->key_decoder,
                  formats::MakeDecoder(runtime::FormatOptionsOf(source, true), state->keys));
  ASSIGN_OR_RAISE(state->value_decoder,
                  formats::MakeDecoder(runtime::FormatOptionsOf(source, false), state->values));

  kafka::ConsumerOptions options;
  options.client = client;
  for (int32_t partition = 0; partition < partitions; ++partition) {
    options.assignment.push_back({source.topic, partition, runtime::Source::kBeginning});
  }
  if (options.assignment.empty() || (limit && *limit <= 0)) {
    return std::unique_ptr<StreamPullQuery>(new StreamPullQuery(std::move(state)));
  }
  ASSIGN_OR_RAISE(state->consumer, kafka::BatchConsumer::Create(std::move(options)));
  // The end of each partition as the query starts: records appended later are not read.
  for (int32_t partition = 0; partition < partitions; ++partition) {
    ASSIGN_OR_RAISE(auto watermarks,
                    state->consumer->QueryWatermarks({source.topic, partition}, timeout));
    if (watermarks.second > watermarks.first) state->ends[partition] = watermarks.second;
  }
  state->last_progress = std::chrono::steady_clock::now();
  return std::unique_ptr<StreamPullQuery>(new StreamPullQuery(std::move(state)));
}

Result<bool> StreamPullQuery::Poll(std::chrono::milliseconds wait, size_t max_records,
                                   std::vector<types::Row>& rows) {
  State& state = *state_;
  if (state.ends.empty() || state.limit_reached()) return true;
  RETURN_NOT_OK(state.consumer->Poll(max_records, wait, &state.messages));
  const auto now = std::chrono::steady_clock::now();
  bool progress = !state.messages.empty();
  state.batch.Clear();
  for (size_t i = 0; i < state.messages.size(); ++i) {
    kafka::MessageView message = state.messages[i];
    auto found = state.ends.find(message.partition());
    if (found == state.ends.end() || message.offset() >= found->second) continue;
    if (message.offset() + 1 >= found->second) state.Finish(message.partition());
    ++state.read;
    runtime::Record& record = state.batch.Append();
    if (!state.Decode(message, record)) state.batch.PopBack();
  }
  // After the batch's messages: a partition's end comes after its last records, maybe in the
  // same batch.
  for (const auto& end : state.consumer->TakePartitionEnds()) {
    // The fetch caught up with the log: every record before the captured end has been read
    // (the end is past control records of transactions, which are never returned).
    auto found = state.ends.find(end.partition);
    if (found != state.ends.end() && end.offset >= found->second) state.Finish(end.partition);
    progress = true;
  }
  state.output = &rows;
  Status processed = state.batch.empty() ? Status::OK() : state.select->Process(0, state.batch);
  state.output = nullptr;
  // The rows refer to nothing in the messages (decoded values own their bytes).
  state.messages.Clear();
  RETURN_NOT_OK(processed);
  if (state.ends.empty() || state.limit_reached()) return true;
  if (progress) {
    state.last_progress = now;
  } else if (now - state.last_progress > state.timeout) {
    return Status::Unavailable("The scan of " + state.source.topic + " made no progress for " +
                               std::to_string(state.timeout.count()) + " ms");
  }
  return false;
}

Result<std::unique_ptr<StreamPullQuery>> KafkaEngine::StartStreamPullQuery(
    std::shared_ptr<const analyzer::AnalyzedStatement> analyzed, std::optional<int64_t> limit) {
  const analyzer::LogicalOperator* scan = analyzed ? analyzed->plan.get() : nullptr;
  while (scan != nullptr && scan->kind != analyzer::LogicalOperatorKind::kScan) {
    scan = scan->children.size() == 1 ? scan->children.front().get() : nullptr;
  }
  if (scan == nullptr) return Status::NotSupported("Pull queries on streams read a single stream");
  ASSIGN_OR_RAISE(int partitions, admin_->PartitionCount(scan->source.topic));
  kafka::ClientConfig client{bootstrap_servers_, options_.client_properties};
  return StreamPullQuery::Start(client, partitions, std::move(analyzed), limit);
}

bool StreamPullQuery::limit_reached() const { return state_->limit_reached(); }
int64_t StreamPullQuery::records_read() const { return state_->read; }
int64_t StreamPullQuery::decode_errors() const { return state_->decode_errors; }

}  // namespace sidestream::host
