#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "connectors/sink/sink_writer.h"

/// Applies a table's changes to CouchDB (or any server of its HTTP API) through libcurl.
namespace sidestream::couchdb {

/// Options of a CouchDbWriter.
struct CouchDbWriterOptions {
  /// The server: http://[user:password@]host:port
  std::string url = "http://127.0.0.1:5984";
  std::string database;
  /// Names the offsets documents: "_local/<connector>-offsets-<topic>-<partition>".
  std::string connector = "sink";
  /// A document's _id: "{KEY}" is the Kafka key, "{TOPIC}" the topic.
  std::string id_template = "{KEY}";
  /// Creates the database when missing (at the first write).
  bool create_database = true;
  /// Documents per _bulk_docs request.
  size_t max_batch_documents = 2000;
  /// How often a document whose revision changed under us (conflict) is tried again, with
  /// its new revision, before it is rejected.
  int max_conflict_retries = 3;
  std::chrono::milliseconds timeout{30000};
};

/// A SinkWriter for CouchDB: one document per key, the value's JSON object as its body.
/// Per batch of up to max_batch_documents rows it writes them with one POST _bulk_docs (a
/// tombstone sets _deleted) with the revisions it last wrote (none for documents it has not
/// written); those that conflict get their current revisions (POST _all_docs with keys) and
/// are written again. Then, per partition, PUTs the highest offset of the batch into the
/// local document "_local/<connector>-offsets-<topic>-<partition>". Records at or below the
/// stored offset are skipped, so a crash between the two replays only rows whose newest
/// value is already there.
///
/// A document the server rejects (forbidden, bad special member, a conflict that persists
/// after max_conflict_retries) is rejected (dead letter), as is a value that is not a JSON
/// object or sets _id, _rev or _deleted. Connection errors, timeouts and 5xx replies are
/// Unavailable. Every request carries Content-Type: application/json.
///
/// Assumes one writer per partition at a time (see RedisWriter). Thread: one at a time.
/// Owns its libcurl handle.
class CouchDbWriter final : public sink::SinkWriter {
 public:
  /// Checks the options; does not connect.
  static Result<std::unique_ptr<CouchDbWriter>> Create(CouchDbWriterOptions options);
  ~CouchDbWriter() override;

  Result<sink::WriteResult> Write(std::span<const sink::SinkRecord> records) override;
  Result<int64_t> StoredOffset(std::string_view topic, int32_t partition) override;
  void ForgetOffsets() override {
    offsets_.clear();
    revisions_.clear();
  }
  const char* store_name() const override { return "couchdb"; }

  /// The id of the local document that keeps a partition's offset, without "_local/".
  std::string OffsetsDocumentId(std::string_view topic, int32_t partition) const;

  struct Response {
    long status = 0;
    std::string body;
  };
  /// One HTTP request to the server, `path` after the URL ("/db/_bulk_docs"). Unavailable
  /// for connection errors, timeouts and 5xx; other statuses are returned.
  Result<Response> Request(const char* method, const std::string& path, std::string_view body);

 private:
  explicit CouchDbWriter(CouchDbWriterOptions options);
  Status EnsureDatabase();
  Status LoadOffsets(std::span<const sink::SinkRecord> records);
  Status StoreOffsets(const sink::OffsetCache& highest);
  Status WriteBatch(std::span<const sink::SinkRecord> records, size_t first_index,
                    sink::WriteResult& result);
  /// POSTs `documents` to _bulk_docs (`body` is a reused buffer); returns one outcome per
  /// document. When the server refuses the whole request for an invalid document, they are
  /// sent one at a time, so that only the invalid ones are refused.
  Result<nlohmann::json> BulkDocs(const std::vector<std::string>& documents, std::string& body);
  /// The current revision of each id ("" when missing or deleted).
  Result<std::vector<std::string>> FetchRevisions(const std::vector<std::string>& ids);
  std::string Escape(std::string_view text) const;

  CouchDbWriterOptions options_;
  std::string database_path_;  // "/<escaped database>"
  void* curl_ = nullptr;       // CURL*
  void* headers_ = nullptr;    // curl_slist*
  bool database_ready_ = false;
  sink::OffsetCache offsets_;
  std::map<std::pair<std::string, int32_t>, std::string> offset_revisions_;  // _local docs' _rev
  // Per document id: the revision this writer last wrote, tried first (a conflict reads the
  // current one).
  std::unordered_map<std::string, std::string> revisions_;
  std::vector<size_t> selected_;
  struct Parser;
  std::unique_ptr<Parser> parser_;
};

}  // namespace sidestream::couchdb
