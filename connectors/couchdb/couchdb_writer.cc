#include "connectors/couchdb/couchdb_writer.h"

#include <curl/curl.h>
#include <simdjson.h>

#include <mutex>
#include <nlohmann/json.hpp>

namespace sidestream::couchdb {

namespace {

void AppendJsonString(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

size_t CollectBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// Revisions this writer remembers (of documents it wrote); past it the memory starts over.
constexpr size_t kMaxCachedRevisions = 1 << 20;

// The server refused a document as invalid: CouchDB says 400 (bad_request) or
// doc_validation; pouchdb-server says 500 with doc_validation. Not worth retrying.
bool RefusedDocument(const CouchDbWriter::Response& response) {
  if (response.status < 400) return false;
  return response.body.find("\"doc_validation\"") != std::string::npos ||
         (response.status == 400 && response.body.find("\"bad_request\"") != std::string::npos);
}

std::string BodyExcerpt(const std::string& body) {
  return body.size() > 300 ? body.substr(0, 300) + "..." : body;
}

}  // namespace

struct CouchDbWriter::Parser {
  simdjson::ondemand::parser parser;
  std::string padded;
};

CouchDbWriter::CouchDbWriter(CouchDbWriterOptions options)
    : options_(std::move(options)), parser_(std::make_unique<Parser>()) {}

CouchDbWriter::~CouchDbWriter() {
  if (headers_ != nullptr) curl_slist_free_all(static_cast<curl_slist*>(headers_));
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<std::unique_ptr<CouchDbWriter>> CouchDbWriter::Create(CouchDbWriterOptions options) {
  if (!options.url.starts_with("http://") && !options.url.starts_with("https://")) {
    return Status::InvalidArgument("couchdb.url '" + options.url +
                                   "' must start with http:// or https://");
  }
  while (options.url.ends_with('/')) options.url.pop_back();
  if (options.database.empty()) {
    return Status::InvalidArgument("the CouchDB database name is empty");
  }
  // CouchDB's rule for database names.
  const std::string& name = options.database;
  bool valid = name[0] >= 'a' && name[0] <= 'z';
  for (char c : name) {
    valid = valid && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      std::string_view("_$()+-/").find(c) != std::string_view::npos);
  }
  if (!valid) {
    return Status::InvalidArgument("CouchDB database name '" + name +
                                   "' must start with a lower-case letter and hold only a-z, "
                                   "0-9 and _$()+-/");
  }
  if (options.id_template.empty()) {
    return Status::InvalidArgument("the CouchDB document id template is empty");
  }
  if (options.max_batch_documents == 0) options.max_batch_documents = 1;
  static std::once_flag global;
  std::call_once(global, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CouchDbWriter> writer(new CouchDbWriter(std::move(options)));
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Status::Internal("libcurl: cannot create a handle");
  writer->curl_ = curl;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Accept: application/json");
  writer->headers_ = headers;
  writer->database_path_ = "/" + writer->Escape(writer->options_.database);
  return writer;
}

std::string CouchDbWriter::Escape(std::string_view text) const {
  char* escaped =
      curl_easy_escape(static_cast<CURL*>(curl_), text.data(), static_cast<int>(text.size()));
  std::string result(escaped != nullptr ? escaped : "");
  curl_free(escaped);
  return result;
}

std::string CouchDbWriter::OffsetsDocumentId(std::string_view topic, int32_t partition) const {
  return options_.connector + "-offsets-" + std::string(topic) + "-" + std::to_string(partition);
}

Result<CouchDbWriter::Response> CouchDbWriter::Request(const char* method, const std::string& path,
                                                       std::string_view body) {
  CURL* curl = static_cast<CURL*>(curl_);
  Response response;
  const std::string url = options_.url + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(headers_));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  if (std::string_view(method) == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, nullptr);
  } else {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    return Status::Unavailable("CouchDB " + std::string(method) + " " + url + ": " +
                               curl_easy_strerror(code));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  if (response.status >= 500 && !RefusedDocument(response)) {
    return Status::Unavailable("CouchDB " + std::string(method) + " " + url + ": HTTP " +
                               std::to_string(response.status) + " " + BodyExcerpt(response.body));
  }
  return response;
}

Status CouchDbWriter::EnsureDatabase() {
  if (database_ready_) return Status::OK();
  ASSIGN_OR_RAISE(Response head, Request("GET", database_path_, ""));
  if (head.status == 404 && options_.create_database) {
    ASSIGN_OR_RAISE(Response created, Request("PUT", database_path_, ""));
    if (created.status != 201 && created.status != 202 && created.status != 412) {
      return Status::InvalidArgument("CouchDB refused creating database '" + options_.database +
                                     "': HTTP " + std::to_string(created.status) + " " +
                                     BodyExcerpt(created.body));
    }
  } else if (head.status != 200) {
    return Status::InvalidArgument("CouchDB database '" + options_.database + "': HTTP " +
                                   std::to_string(head.status) + " " + BodyExcerpt(head.body));
  }
  database_ready_ = true;
  return Status::OK();
}

Status CouchDbWriter::LoadOffsets(std::span<const sink::SinkRecord> records) {
  for (const sink::SinkRecord& record : records) {
    std::pair<std::string, int32_t> partition(std::string(record.topic), record.partition);
    if (offsets_.count(partition)) continue;
    const std::string path =
        database_path_ + "/_local/" + Escape(OffsetsDocumentId(record.topic, record.partition));
    ASSIGN_OR_RAISE(Response response, Request("GET", path, ""));
    int64_t offset = -1;
    if (response.status == 200) {
      auto document = nlohmann::json::parse(response.body, nullptr, false);
      if (document.is_discarded() || !document.is_object() || !document.contains("offset") ||
          !document["offset"].is_number_integer()) {
        return Status::Corruption("CouchDB document _local/" +
                                  OffsetsDocumentId(record.topic, record.partition) +
                                  " holds no integer offset: " + BodyExcerpt(response.body));
      }
      offset = document["offset"].get<int64_t>();
      if (document.contains("_rev") && document["_rev"].is_string()) {
        offset_revisions_[partition] = document["_rev"].get<std::string>();
      }
    } else if (response.status != 404) {
      return Status::Internal("CouchDB GET " + path + ": HTTP " + std::to_string(response.status) +
                              " " + BodyExcerpt(response.body));
    }
    offsets_[partition] = offset;
  }
  return Status::OK();
}

Result<int64_t> CouchDbWriter::StoredOffset(std::string_view topic, int32_t partition) {
  RETURN_NOT_OK(EnsureDatabase());
  return sink::ReloadOffset(
      offsets_, topic, partition,
      [this](std::span<const sink::SinkRecord> records) { return LoadOffsets(records); });
}

Status CouchDbWriter::StoreOffsets(const sink::OffsetCache& highest) {
  for (const auto& [partition, offset] : highest) {
    const std::string path =
        database_path_ + "/_local/" + Escape(OffsetsDocumentId(partition.first, partition.second));
    for (int attempt = 0;; ++attempt) {
      std::string body = "{\"offset\":" + std::to_string(offset);
      auto revision = offset_revisions_.find(partition);
      if (revision != offset_revisions_.end()) {
        body += ",\"_rev\":";
        AppendJsonString(revision->second, body);
      }
      body += '}';
      ASSIGN_OR_RAISE(Response response, Request("PUT", path, body));
      auto reply = nlohmann::json::parse(response.body, nullptr, false);
      if ((response.status == 201 || response.status == 200) && reply.is_object() &&
          reply.contains("rev") && reply["rev"].is_string()) {
        offset_revisions_[partition] = reply["rev"].get<std::string>();
        offsets_[partition] = offset;
        break;
      }
      if (response.status == 409 && attempt == 0) {
        // Our cached revision is stale (the document was rewritten elsewhere): read it again.
        offset_revisions_.erase(partition);
        ASSIGN_OR_RAISE(Response current, Request("GET", path, ""));
        auto document = nlohmann::json::parse(current.body, nullptr, false);
        if (current.status == 200 && document.is_object() && document.contains("_rev") &&
            document["_rev"].is_string()) {
          offset_revisions_[partition] = document["_rev"].get<std::string>();
        }
        continue;
      }
      return Status::Internal("CouchDB refused storing the offset in _local/" +
                              OffsetsDocumentId(partition.first, partition.second) + ": HTTP " +
                              std::to_string(response.status) + " " + BodyExcerpt(response.body));
    }
  }
  return Status::OK();
}

Result<std::vector<std::string>> CouchDbWriter::FetchRevisions(
    const std::vector<std::string>& ids) {
  std::vector<std::string> revisions(ids.size());
  if (ids.empty()) return revisions;
  std::string body = "{\"keys\":[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) body += ',';
    AppendJsonString(ids[i], body);
  }
  body += "]}";
  ASSIGN_OR_RAISE(Response response, Request("POST", database_path_ + "/_all_docs", body));
  auto reply = nlohmann::json::parse(response.body, nullptr, false);
  if (response.status != 200 || !reply.is_object() || !reply.contains("rows") ||
      !reply["rows"].is_array() || reply["rows"].size() != ids.size()) {
    return Status::Internal("CouchDB _all_docs: HTTP " + std::to_string(response.status) + " " +
                            BodyExcerpt(response.body));
  }
  const auto& rows = reply["rows"];
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto& row = rows[i];
    if (!row.contains("value") || !row["value"].is_object()) continue;  // not_found
    const auto& value = row["value"];
    if (value.contains("deleted") && value["deleted"].is_boolean() &&
        value["deleted"].get<bool>()) {
      continue;
    }
    if (value.contains("rev") && value["rev"].is_string()) {
      revisions[i] = value["rev"].get<std::string>();
    }
  }
  return revisions;
}

Result<nlohmann::json> CouchDbWriter::BulkDocs(const std::vector<std::string>& documents,
                                               std::string& body) {
  body.assign("{\"docs\":[");
  for (size_t i = 0; i < documents.size(); ++i) {
    if (i > 0) body += ',';
    body += documents[i];
  }
  body += "]}";
  ASSIGN_OR_RAISE(Response response, Request("POST", database_path_ + "/_bulk_docs", body));
  auto reply = nlohmann::json::parse(response.body, nullptr, false);
  if ((response.status == 201 || response.status == 200) && reply.is_array() &&
      reply.size() == documents.size()) {
    return reply;
  }
  // The server refused the whole request for one document (CouchDB checks special members
  // before it writes anything): write them one at a time to find which.
  if (RefusedDocument(response) && documents.size() > 1) {
    nlohmann::json outcomes = nlohmann::json::array();
    std::string single;
    for (const std::string& document : documents) {
      ASSIGN_OR_RAISE(nlohmann::json outcome, BulkDocs({document}, single));
      outcomes.push_back(outcome[0]);
    }
    return outcomes;
  }
  if (RefusedDocument(response) && reply.is_object()) {
    return nlohmann::json::array({reply});
  }
  return Status::Internal("CouchDB _bulk_docs: HTTP " + std::to_string(response.status) + " " +
                          BodyExcerpt(response.body));
}

Status CouchDbWriter::WriteBatch(std::span<const sink::SinkRecord> records, size_t first_index,
                                 sink::WriteResult& result) {
  RETURN_NOT_OK(LoadOffsets(records));
  const size_t rejected_before = result.rejected.size();
  sink::SelectLatest(records, offsets_, selected_, result);
  for (size_t i = rejected_before; i < result.rejected.size(); ++i) {
    result.rejected[i].index += first_index;
  }
  sink::OffsetCache highest = sink::HighestOffsets(records);
  for (auto it = highest.begin(); it != highest.end();) {
    it = it->second <= offsets_[it->first] ? highest.erase(it) : std::next(it);
  }
  if (highest.empty()) return Status::OK();

  // The rows to write: id and the value's object (without its braces), checked here.
  struct Row {
    size_t index;
    std::string id;
    std::string_view fields;  // the value's members as written, without the braces
    int attempts = 0;
  };
  std::vector<Row> rows;
  rows.reserve(selected_.size());
  for (size_t index : selected_) {
    const sink::SinkRecord& record = records[index];
    Row row{index, {}, {}};
    sink::ExpandKeyTemplate(options_.id_template, *record.key, record.topic, row.id);
    if (row.id.starts_with('_')) {
      result.rejected.push_back(
          {first_index + index, "document id '" + row.id + "' starts with '_' (reserved)"});
      continue;
    }
    if (record.value) {
      std::string_view value = *record.value;
      Parser& parser = *parser_;
      parser.padded.assign(value);
      parser.padded.reserve(value.size() + simdjson::SIMDJSON_PADDING);
      simdjson::padded_string_view input(parser.padded.data(), parser.padded.size(),
                                         parser.padded.capacity());
      simdjson::ondemand::document document;
      simdjson::ondemand::object object;
      std::string reason;
      if (parser.parser.iterate(input).get(document) != simdjson::SUCCESS ||
          document.get_object().get(object) != simdjson::SUCCESS) {
        reason = "the value is not a JSON object";
      } else {
        for (auto field_result : object) {
          simdjson::ondemand::field field;
          std::string_view name;
          if (std::move(field_result).get(field) != simdjson::SUCCESS ||
              field.unescaped_key().get(name) != simdjson::SUCCESS) {
            reason = "the value is not valid JSON";
            break;
          }
          if (name == "_id" || name == "_rev" || name == "_deleted") {
            reason = "the value sets " + std::string(name) + ", which the sink manages";
            break;
          }
        }
        const char* trailing = nullptr;
        if (reason.empty() && document.current_location().get(trailing) == simdjson::SUCCESS) {
          reason = "the value has trailing content after its JSON object";
        }
      }
      if (!reason.empty()) {
        result.rejected.push_back({first_index + index, std::move(reason)});
        continue;
      }
      const size_t open = value.find('{');
      const size_t close = value.rfind('}');
      row.fields = value.substr(open + 1, close - open - 1);
      if (row.fields.find_first_not_of(" \t\r\n") == std::string_view::npos) row.fields = {};
    }
    rows.push_back(std::move(row));
  }

  // Write optimistically with the revisions this writer last wrote (none for a document it
  // has not seen: a new one needs none); documents that conflict are written again with
  // their current revisions, read with _all_docs.
  std::vector<Row*> pending;
  for (Row& row : rows) pending.push_back(&row);
  std::string body;
  bool fetched = false;
  while (!pending.empty()) {
    std::vector<std::string> revisions(pending.size());
    if (fetched) {
      std::vector<std::string> ids;
      for (const Row* row : pending) ids.push_back(row->id);
      ASSIGN_OR_RAISE(revisions, FetchRevisions(ids));
    } else {
      for (size_t i = 0; i < pending.size(); ++i) {
        auto known = revisions_.find(pending[i]->id);
        if (known != revisions_.end()) revisions[i] = known->second;
      }
    }
    std::vector<Row*> sent;
    std::vector<std::string> documents;
    for (size_t i = 0; i < pending.size(); ++i) {
      Row& row = *pending[i];
      const sink::SinkRecord& record = records[row.index];
      if (fetched && !record.value && revisions[i].empty()) {
        ++result.deletes;  // already absent
        continue;
      }
      std::string& document = documents.emplace_back("{\"_id\":");
      AppendJsonString(row.id, document);
      if (!revisions[i].empty()) {
        document += ",\"_rev\":";
        AppendJsonString(revisions[i], document);
      }
      if (!record.value) {
        document += ",\"_deleted\":true}";
      } else if (row.fields.empty()) {
        document += '}';
      } else {
        document += ',';
        document.append(row.fields);
        document += '}';
      }
      sent.push_back(&row);
    }
    pending.clear();
    if (sent.empty()) break;
    ASSIGN_OR_RAISE(nlohmann::json outcomes, BulkDocs(documents, body));
    fetched = true;
    for (size_t i = 0; i < sent.size(); ++i) {
      Row& row = *sent[i];
      const auto& outcome = outcomes[i];
      const sink::SinkRecord& record = records[row.index];
      if (outcome.is_object() && outcome.contains("error")) {
        std::string error = outcome["error"].is_string() ? outcome["error"].get<std::string>() : "";
        std::string reason = outcome.contains("reason") && outcome["reason"].is_string()
                                 ? outcome["reason"].get<std::string>()
                                 : "";
        revisions_.erase(row.id);
        if (error == "conflict" && ++row.attempts <= options_.max_conflict_retries) {
          pending.push_back(&row);
          continue;
        }
        if (!record.value && error == "not_found") {
          ++result.deletes;  // already absent
          continue;
        }
        result.rejected.push_back(
            {first_index + row.index, "CouchDB refused the document: " + error + ": " + reason});
        continue;
      }
      if (record.value && outcome.contains("rev") && outcome["rev"].is_string()) {
        if (revisions_.size() >= kMaxCachedRevisions) revisions_.clear();
        revisions_[row.id] = outcome["rev"].get<std::string>();
      } else {
        revisions_.erase(row.id);  // deleted: a new document needs no revision
      }
      ++(record.value ? result.upserts : result.deletes);
    }
  }
  return StoreOffsets(highest);
}

Result<sink::WriteResult> CouchDbWriter::Write(std::span<const sink::SinkRecord> records) {
  sink::WriteResult result;
  RETURN_NOT_OK(EnsureDatabase());
  for (size_t first = 0; first < records.size(); first += options_.max_batch_documents) {
    const size_t count = std::min(options_.max_batch_documents, records.size() - first);
    RETURN_NOT_OK(WriteBatch(records.subspan(first, count), first, result));
  }
  return result;
}

}  // namespace sidestream::couchdb
