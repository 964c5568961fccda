#pragma once

#include <functional>
#include <memory>

#include "common/status.h"
#include "runtime/record.h"

namespace sidestream::runtime {

/// Takes records pushed by the operator before it. A topology is a chain of these,
/// ending in a sink callback.
/// Thread: a chain belongs to one task; one thread calls it at a time.
class RecordConsumer {
 public:
  virtual ~RecordConsumer() = default;
  /// Processes one record; may push any number of records downstream. `record` may be
  /// modified (operators reuse it to avoid copies).
  virtual Status Consume(Record& record) = 0;
  /// Stream time moved to `stream_time` (ms): operators that hold records back (EMIT
  /// FINAL) emit what is now final, then pass the call on.
  virtual Status AdvanceStreamTime(int64_t stream_time) = 0;
};

/// An operator with one downstream consumer, set once while the topology is built.
class Operator : public RecordConsumer {
 public:
  void set_next(RecordConsumer* next) { next_ = next; }
  Status AdvanceStreamTime(int64_t stream_time) override {
    return next_->AdvanceStreamTime(stream_time);
  }

 protected:
  RecordConsumer* next_ = nullptr;
};

/// The end of a chain: hands each result record to a callback.
class CallbackSink : public RecordConsumer {
 public:
  using Callback = std::function<Status(const Record&)>;
  explicit CallbackSink(Callback callback) : callback_(std::move(callback)) {}
  Status Consume(Record& record) override { return callback_(record); }
  Status AdvanceStreamTime(int64_t) override { return Status::OK(); }

 private:
  Callback callback_;
};

}  // namespace sidestream::runtime
