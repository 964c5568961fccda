#pragma once

#include <functional>
#include <memory>

#include "common/status.h"
#include "runtime/record.h"

namespace sidestream::runtime {

/// Takes batches of records pushed by the operator before it. A topology is a chain of
/// these, ending in a sink callback. Records travel in batches so that each operator runs
/// its loop over many records and reuses its output buffers.
/// Thread: a chain belongs to one task; one thread calls it at a time.
class RecordConsumer {
 public:
  virtual ~RecordConsumer() = default;
  /// Processes a batch in order; may push any number of batches downstream. The records
  /// may be modified or reordered in place (operators reuse them to avoid copies).
  virtual Status Consume(RecordBatch& batch) = 0;
  /// Stream time moved to `stream_time` (ms): operators that hold records back (EMIT
  /// FINAL) emit what is now final, then pass the call on.
  virtual Status AdvanceStreamTime(int64_t stream_time) = 0;
  /// A commit is under way: state stores make their writes durable.
  virtual Status Flush() = 0;
};

/// An operator with one downstream consumer, set once while the topology is built.
class Operator : public RecordConsumer {
 public:
  void set_next(RecordConsumer* next) { next_ = next; }
  Status AdvanceStreamTime(int64_t stream_time) override {
    return next_->AdvanceStreamTime(stream_time);
  }
  Status Flush() override { return next_->Flush(); }

 protected:
  RecordConsumer* next_ = nullptr;
};

/// The end of a chain: hands each result record to a callback.
class CallbackSink : public RecordConsumer {
 public:
  using Callback = std::function<Status(const Record&)>;
  explicit CallbackSink(Callback callback) : callback_(std::move(callback)) {}
  Status Consume(RecordBatch& batch) override {
    for (const Record& record : batch) RETURN_NOT_OK(callback_(record));
    return Status::OK();
  }
  Status AdvanceStreamTime(int64_t) override { return Status::OK(); }
  Status Flush() override { return Status::OK(); }

 private:
  Callback callback_;
};

}  // namespace sidestream::runtime
