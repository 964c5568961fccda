#pragma once

#include <functional>
#include <memory>
#include <utility>

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
  /// `replaced`: a table update's retraction of the row `record` replaces, when the two
  /// halves of one input's change arrive together (see Consume); else null.
  using Callback = std::function<Status(const Record& record, const Record* replaced)>;
  explicit CallbackSink(Callback callback) : callback_(std::move(callback)) {}
  /// Hands each record to the callback. A retraction directly followed by the row that
  /// replaces it (same partition, offset and batch position: one input's change) goes with
  /// that row in one call, so a sink can write both in one message, as Kafka Streams writes
  /// a Change of new and old value when both have the same key.
  Status Consume(RecordBatch& batch) override {
    for (size_t i = 0; i < batch.size(); ++i) {
      const Record& record = batch[i];
      if (record.retract && i + 1 < batch.size() && Replaces(batch[i + 1], record)) {
        RETURN_NOT_OK(callback_(batch[i + 1], &record));
        ++i;
      } else {
        RETURN_NOT_OK(callback_(record, nullptr));
      }
    }
    return Status::OK();
  }
  Status AdvanceStreamTime(int64_t) override { return Status::OK(); }
  Status Flush() override { return Status::OK(); }
  /// Sends the records to `callback` from now on; returns the callback it replaces.
  Callback Exchange(Callback callback) { return std::exchange(callback_, std::move(callback)); }

 private:
  static bool Replaces(const Record& next, const Record& retraction) {
    return !next.retract && !next.tombstone && next.partition == retraction.partition &&
           next.offset == retraction.offset && next.input_index == retraction.input_index;
  }

  Callback callback_;
};

}  // namespace sidestream::runtime
