#include "bench/timed_reader.h"

#include <algorithm>

namespace sidestream::bench {

Result<std::unique_ptr<TimedReader>> TimedReader::Create(const kafka::ClientConfig& client,
                                                         const std::string& topic,
                                                         const std::string& group_id) {
  std::unique_ptr<TimedReader> reader(new TimedReader());
  kafka::ConsumerOptions options;
  options.client = client;
  options.group_id = group_id;
  options.topics = {topic};
  TimedReader* self = reader.get();
  options.on_rebalance = [self](const kafka::RebalanceEvent& event) {
    if (event.kind == kafka::RebalanceEvent::Kind::kAssigned &&
        self->assigned_ == Clock::time_point()) {
      self->assigned_ = Clock::now();
    }
  };
  reader->created_ = Clock::now();
  ASSIGN_OR_RAISE(reader->consumer_, kafka::BatchConsumer::Create(std::move(options)));
  return reader;
}

Result<ReadRun> TimedReader::ReadAll(int64_t messages, size_t batch_size,
                                     std::chrono::seconds timeout) {
  ReadRun run;
  kafka::MessageBatch batch;
  const auto started = Clock::now();
  const auto deadline = Clock::now() + timeout;
  while (run.messages < messages && Clock::now() < deadline) {
    RETURN_NOT_OK(consumer_->Poll(batch_size, std::chrono::milliseconds(100), &batch));
    for (size_t i = 0; i < batch.size(); ++i) run.bytes += batch[i].value().size();
    run.messages += static_cast<int64_t>(batch.size());
  }
  const auto done = Clock::now();
  batch.Clear();
  if (run.messages < messages) {
    return Status::Unavailable("read only " + std::to_string(run.messages) + " of " +
                               std::to_string(messages) + " messages in time");
  }
  run.seconds = std::chrono::duration<double>(done - assigned_).count();
  run.join_seconds = std::chrono::duration<double>(assigned_ - created_).count();
  run.assignment_wait_seconds =
      std::max(0.0, std::chrono::duration<double>(assigned_ - started).count());
  return run;
}

}  // namespace sidestream::bench
