#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

/// What every upsert sink (Redis, CouchDB) implements, and the offset bookkeeping they share:
/// a store keeps, with its writes, the last offset it applied per (topic, partition), and a
/// record at or below it is skipped, so a replay never applies an older value over a newer one.
namespace sidestream::sink {

/// One change of a table, as read from its topic. Views into the consumed message: valid
/// for the duration of the call it is passed to.
struct SinkRecord {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string_view> key;    // nullopt: the record has no key (rejected)
  std::optional<std::string_view> value;  // nullopt: a tombstone, which deletes the key
};

/// A record the store refused: it goes to the dead-letter topic with `reason`.
struct RejectedRecord {
  size_t index = 0;  // into the records passed to Write
  std::string reason;
};

/// What one Write did. Every record is counted once.
struct WriteResult {
  int64_t upserts = 0;
  int64_t deletes = 0;
  int64_t skipped = 0;  // at or below the offset the store had already applied
  int64_t folded = 0;   // superseded by a later record of the same key in the same batch
  std::vector<RejectedRecord> rejected;
};

/// A store that applies a table's changes. Implementations: redis::RedisWriter,
/// couchdb::CouchDbWriter.
///
/// Thread: one thread at a time (the connector's). Ownership: the connector owns it.
class SinkWriter {
 public:
  virtual ~SinkWriter() = default;

  /// Applies `records` (in offset order within each partition) and stores, per partition,
  /// the highest offset among them, so that a later Write skips records at or below it.
  /// Records the store refuses are returned in `rejected` and count as applied (their offset
  /// is stored too). Unavailable (retriable: server down, 5xx) when the store could not be
  /// written; part of the records may then be applied, and calling Write again with the same
  /// records is safe.
  virtual Result<WriteResult> Write(std::span<const SinkRecord> records) = 0;

  /// The last offset applied for `topic`'s `partition` as the store holds it; -1 for none.
  virtual Result<int64_t> StoredOffset(std::string_view topic, int32_t partition) = 0;

  /// Forgets the offsets cached from the store (after partitions moved between instances):
  /// the next Write reads them again.
  virtual void ForgetOffsets() = 0;

  /// "redis" or "couchdb", for messages.
  virtual const char* store_name() const = 0;
};

/// Orders (topic, partition) pairs whether the topic is a string or a string_view, so that
/// maps keyed by them can be searched with a view.
struct PartitionLess {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return std::pair<std::string_view, int32_t>(a.first, a.second) <
           std::pair<std::string_view, int32_t>(b.first, b.second);
  }
};

/// The offsets a writer read from its store, per (topic, partition); -1 where none.
using OffsetCache = std::map<std::pair<std::string, int32_t>, int64_t, PartitionLess>;

/// Selects what a batch should write: the records above the stored offset of their
/// partition, and of those only the last of each key (the others are `folded`). Records
/// without a key are rejected. `selected` gets indexes into `records`, in their order.
/// `cache` must hold every partition of `records`.
void SelectLatest(std::span<const SinkRecord> records, const OffsetCache& cache,
                  std::vector<size_t>& selected, WriteResult& result);

/// Per (topic, partition) of `records`: the highest offset, i.e. what the store should keep
/// once they are applied.
OffsetCache HighestOffsets(std::span<const SinkRecord> records);

/// The offset of `topic`'s `partition` read afresh from the store: drops it from `cache`,
/// then `load` (a writer's LoadOffsets) reads it back into `cache`.
Result<int64_t> ReloadOffset(OffsetCache& cache, std::string_view topic, int32_t partition,
                             const std::function<Status(std::span<const SinkRecord>)>& load);

/// Replaces every "{KEY}" in `key_template` with `key` and every "{TOPIC}" with `topic`,
/// appending to `out`.
void ExpandKeyTemplate(std::string_view key_template, std::string_view key, std::string_view topic,
                       std::string& out);

}  // namespace sidestream::sink
