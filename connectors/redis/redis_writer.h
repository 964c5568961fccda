#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "connectors/sink/sink_writer.h"

struct redisContext;

/// Applies a table's changes to Redis through hiredis.
namespace sidestream::redis {

/// How a row is stored under its key.
enum class RedisMode {
  kHash,    // HSET of the value's top-level fields (a JSON object); null fields are HDEL'd
  kString,  // SET of the value's bytes as they are
};

/// Options of a RedisWriter.
struct RedisWriterOptions {
  /// redis://[:password@]host[:port][/db]
  std::string url = "redis://127.0.0.1:6379";
  /// Names the hash that keeps the applied offsets: "sidestream:connector:<name>:offsets",
  /// one field "<topic>/<partition>" per partition.
  std::string connector = "sink";
  /// The Redis key of a row: "{KEY}" is the Kafka key (a windowed key as written,
  /// "key@start/end"), "{TOPIC}" the topic.
  std::string key_template = "{KEY}";
  RedisMode mode = RedisMode::kHash;
  /// Records per MULTI/EXEC: bigger batches pipeline better, smaller ones hold Redis less.
  size_t max_transaction_records = 5000;
  /// Connect and read timeout.
  std::chrono::milliseconds timeout{5000};
};

/// Parses `url` (redis://[:password@]host[:port][/db]). InvalidArgument naming what is wrong.
struct RedisAddress {
  std::string host;
  int port = 6379;
  std::string password;
  int database = 0;
};
Result<RedisAddress> ParseRedisUrl(std::string_view url);

/// A SinkWriter for Redis. Each transaction (MULTI/EXEC) holds up to
/// max_transaction_records rows and, with them, HSET of the highest offset of each partition
/// into the offsets hash: rows and offsets are applied together or not at all. Records at or
/// below a partition's stored offset are skipped; of several records of one key in a batch
/// only the last is written; a tombstone is DEL. Commands are pipelined: one round trip per
/// transaction.
///
/// A command Redis refuses inside EXEC (WRONGTYPE: the key holds another type) rejects its
/// record (dead letter); a value that is not a JSON object in hash mode is rejected before.
/// Connection errors, timeouts and LOADING/BUSY/READONLY/OOM replies are Unavailable: the
/// connection is dropped and the next Write reconnects.
///
/// Assumes one writer per partition at a time (the consumer group's assignment), which is
/// why the stored offsets may be cached between writes; ForgetOffsets after a rebalance.
/// Thread: one at a time. Owns its connection; the destructor closes it.
class RedisWriter final : public sink::SinkWriter {
 public:
  /// Checks the options; does not connect (Write does, so Redis may start later).
  static Result<std::unique_ptr<RedisWriter>> Create(RedisWriterOptions options);
  ~RedisWriter() override;

  Result<sink::WriteResult> Write(std::span<const sink::SinkRecord> records) override;
  Result<int64_t> StoredOffset(std::string_view topic, int32_t partition) override;
  void ForgetOffsets() override { offsets_.clear(); }
  const char* store_name() const override { return "redis"; }

  /// The hash that keeps the offsets.
  const std::string& offsets_key() const { return offsets_key_; }

 private:
  RedisWriter(RedisWriterOptions options, RedisAddress address);
  Status Connect();
  void Disconnect();
  /// A hiredis context error as a Status (Unavailable), dropping the connection.
  Status ConnectionError(const char* doing);
  /// Reads the stored offsets of the partitions of `records` missing from the cache.
  Status LoadOffsets(std::span<const sink::SinkRecord> records);
  Status WriteTransaction(std::span<const sink::SinkRecord> records, size_t first_index,
                          sink::WriteResult& result);
  /// Queues the commands of one row; false with `reason` when its value cannot be stored.
  bool AppendRow(const sink::SinkRecord& record, std::string& reason);
  void AppendCommand();

  RedisWriterOptions options_;
  RedisAddress address_;
  std::string offsets_key_;
  redisContext* context_ = nullptr;
  sink::OffsetCache offsets_;
  // Reused per batch: the arguments of the command being built, the record index of every
  // queued command, the rows selected and the value copied with simdjson's padding.
  std::vector<const char*> arguments_;
  std::vector<size_t> argument_lengths_;
  std::vector<std::string_view> null_fields_;
  std::vector<size_t> command_records_;
  std::vector<size_t> selected_;
  std::string key_;
  std::string padded_;
  struct Parser;
  std::unique_ptr<Parser> parser_;
};

}  // namespace sidestream::redis
