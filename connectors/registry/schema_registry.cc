#include "connectors/registry/schema_registry.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace sidestream::registry {

const char* SchemaTypeName(SchemaType type) {
  switch (type) {
    case SchemaType::kAvro:
      return "AVRO";
    case SchemaType::kJson:
      return "JSON";
    case SchemaType::kProtobuf:
      return "PROTOBUF";
  }
  return "AVRO";
}

Result<SchemaToWrite> GetSchemaToWrite(SchemaRegistry& registry, int32_t id, SchemaType type,
                                       const std::string& subject) {
  SchemaToWrite found;
  found.what = std::string("the ") + SchemaTypeName(type) + " schema with id " +
               std::to_string(id) + " (" + subject + ", at " + registry.url() + ")";
  auto registered = registry.GetById(id);
  if (!registered.ok()) {
    return Status(registered.status().code() == StatusCode::kUnavailable
                      ? StatusCode::kUnavailable
                      : StatusCode::kInvalidArgument,
                  "cannot read " + found.what + ": " + registered.status().message());
  }
  if (registered->type != type) {
    return Status::InvalidArgument(found.what + " is a " + SchemaTypeName(registered->type) +
                                   " schema, not " + SchemaTypeName(type));
  }
  found.registered = std::move(*registered);
  return found;
}

namespace {

// Depth-first: a schema's references before the schema, each once; `open` holds the path
// from the root, to name a cycle.
Status AddReferences(SchemaRegistry& registry, const RegisteredSchema& schema,
                     std::vector<std::string>& open, std::vector<NamedSchema>& out) {
  for (const SchemaReference& reference : schema.references) {
    if (std::any_of(out.begin(), out.end(),
                    [&](const NamedSchema& done) { return done.name == reference.name; })) {
      continue;
    }
    if (std::find(open.begin(), open.end(), reference.name) != open.end()) {
      return Status::InvalidArgument("schema references form a cycle through '" + reference.name +
                                     "'");
    }
    auto referenced = registry.GetVersion(reference.subject, reference.version);
    if (!referenced.ok()) {
      return Status(referenced.status().code() == StatusCode::kUnavailable
                        ? StatusCode::kUnavailable
                        : StatusCode::kInvalidArgument,
                    "cannot read the schema referenced as '" + reference.name + "' (" +
                        referenced.status().message() + ")");
    }
    open.push_back(reference.name);
    RETURN_NOT_OK(AddReferences(registry, *referenced, open, out));
    open.pop_back();
    out.push_back({reference.name, std::move(referenced->schema)});
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<NamedSchema>> ReferencedSchemas(SchemaRegistry& registry,
                                                   const RegisteredSchema& schema) {
  std::vector<NamedSchema> out;
  std::vector<std::string> open;
  RETURN_NOT_OK(AddReferences(registry, schema, open, out));
  return out;
}

void AppendWireHeader(int32_t schema_id, std::string& out) {
  const auto id = static_cast<uint32_t>(schema_id);
  out.push_back('\0');
  out.push_back(static_cast<char>(id >> 24));
  out.push_back(static_cast<char>(id >> 16));
  out.push_back(static_cast<char>(id >> 8));
  out.push_back(static_cast<char>(id));
}

Result<WireMessage> ParseWireHeader(std::string_view message) {
  if (message.size() < kWireHeaderBytes) {
    return Status::InvalidArgument(
        "message of " + std::to_string(message.size()) +
        " bytes is shorter than the 5-byte schema registry header (magic byte 0, schema id)");
  }
  if (message[0] != '\0') {
    return Status::InvalidArgument("unknown magic byte " +
                                   std::to_string(static_cast<unsigned char>(message[0])) +
                                   " (a schema registry message starts with 0)");
  }
  uint32_t id = 0;
  for (size_t i = 1; i < kWireHeaderBytes; ++i) {
    id = (id << 8) | static_cast<unsigned char>(message[i]);
  }
  return WireMessage{static_cast<int32_t>(id), message.substr(kWireHeaderBytes)};
}

namespace {

SchemaType TypeFromName(const std::string& name) {
  if (name == "JSON") return SchemaType::kJson;
  if (name == "PROTOBUF") return SchemaType::kProtobuf;
  return SchemaType::kAvro;
}

// What every client caches: schemas by id and ids by (subject, type, schema).
class SchemaCache {
 public:
  std::optional<RegisteredSchema> ById(int32_t id) {
    std::lock_guard lock(mutex_);
    auto found = by_id_.find(id);
    if (found == by_id_.end()) return std::nullopt;
    return found->second;
  }
  std::optional<int32_t> IdOf(const std::string& subject, SchemaType type,
                              const std::string& schema) {
    std::lock_guard lock(mutex_);
    auto found = ids_.find({subject, type, schema});
    if (found == ids_.end()) return std::nullopt;
    return found->second;
  }
  void Remember(const RegisteredSchema& schema) {
    std::lock_guard lock(mutex_);
    RegisteredSchema copy = schema;
    copy.version = 0;
    by_id_.emplace(schema.id, std::move(copy));
  }
  void ForgetSubject(const std::string& subject) {
    std::lock_guard lock(mutex_);
    for (auto it = ids_.begin(); it != ids_.end();) {
      it = std::get<0>(it->first) == subject ? ids_.erase(it) : std::next(it);
    }
  }
  void RememberId(const std::string& subject, SchemaType type, const std::string& schema,
                  int32_t id) {
    std::lock_guard lock(mutex_);
    ids_[{subject, type, schema}] = id;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<int32_t, RegisteredSchema> by_id_;
  std::map<std::tuple<std::string, SchemaType, std::string>, int32_t> ids_;
};

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct HeadersDeleter {
  void operator()(curl_slist* headers) const { curl_slist_free_all(headers); }
};

size_t Collect(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

struct HttpResponse {
  long status = 0;
  std::string body;
};

// The registry's error text ({"error_code":40401,"message":"..."}), or the body itself.
std::string ErrorMessage(const HttpResponse& response) {
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_object() && body.contains("message") && body["message"].is_string()) {
    return body["message"].get<std::string>();
  }
  return response.body.substr(0, 300);
}

// A parsed JSON object from a 2xx answer, or the error the answer means.
Result<nlohmann::json> ObjectOf(const HttpResponse& response, const std::string& what) {
  if (response.status == 404) {
    return Status::NotFound(what + ": " + ErrorMessage(response));
  }
  if (response.status == 409 || response.status == 422) {
    return Status::InvalidArgument(what + ": the registry refused it: " + ErrorMessage(response));
  }
  if (response.status < 200 || response.status >= 300) {
    return Status::Unavailable(what + ": HTTP " + std::to_string(response.status) + ": " +
                               ErrorMessage(response));
  }
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  if (!body.is_object()) {
    return Status::Corruption(
        what + ": the registry answered with no JSON object: " + response.body.substr(0, 200));
  }
  return body;
}

Result<RegisteredSchema> SchemaOf(const nlohmann::json& body, const std::string& what) {
  RegisteredSchema schema;
  if (!body.contains("schema") || !body["schema"].is_string()) {
    return Status::Corruption(what + ": the registry's answer has no schema text");
  }
  schema.schema = body["schema"].get<std::string>();
  if (body.contains("schemaType") && body["schemaType"].is_string()) {
    schema.type = TypeFromName(body["schemaType"].get<std::string>());
  }
  if (body.contains("id") && body["id"].is_number_integer()) schema.id = body["id"].get<int32_t>();
  if (body.contains("version") && body["version"].is_number_integer()) {
    schema.version = body["version"].get<int32_t>();
  }
  for (const auto& reference : body.value("references", nlohmann::json::array())) {
    if (!reference.is_object() || !reference.value("name", nlohmann::json()).is_string() ||
        !reference.value("subject", nlohmann::json()).is_string() ||
        !reference.value("version", nlohmann::json()).is_number_integer()) {
      return Status::Corruption(
          what + ": a schema reference is not {name, subject, version}: " + reference.dump());
    }
    schema.references.push_back({reference["name"].get<std::string>(),
                                 reference["subject"].get<std::string>(),
                                 reference["version"].get<int32_t>()});
  }
  return schema;
}

// Confluent's REST API over libcurl. Each call opens its own easy handle: calls are rare
// (the cache answers the rest) and may come from any thread.
class HttpSchemaRegistry final : public SchemaRegistry {
 public:
  using SchemaRegistry::Register;
  explicit HttpSchemaRegistry(std::string base_url) : base_url_(std::move(base_url)) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  }

  Result<int32_t> Register(const std::string& subject, SchemaType type, const std::string& schema,
                           const std::vector<SchemaReference>& references) override {
    if (auto id = cache_.IdOf(subject, type, schema)) return *id;
    nlohmann::json request = {{"schema", schema}};
    if (type != SchemaType::kAvro) request["schemaType"] = SchemaTypeName(type);
    for (const SchemaReference& reference : references) {
      request["references"].push_back({{"name", reference.name},
                                       {"subject", reference.subject},
                                       {"version", reference.version}});
    }
    const std::string what = "registering a schema under subject '" + subject + "' at " + url();
    ASSIGN_OR_RAISE(HttpResponse response,
                    Send("/subjects/" + Escape(subject) + "/versions", request.dump()));
    ASSIGN_OR_RAISE(nlohmann::json body, ObjectOf(response, what));
    if (!body.contains("id") || !body["id"].is_number_integer()) {
      return Status::Corruption(what + ": the registry's answer has no id: " + response.body);
    }
    const int32_t id = body["id"].get<int32_t>();
    cache_.RememberId(subject, type, schema, id);
    cache_.Remember(RegisteredSchema{id, type, schema, 0, references});
    return id;
  }

  Result<RegisteredSchema> GetById(int32_t id) override {
    if (auto schema = cache_.ById(id)) return *schema;
    const std::string what = "schema id " + std::to_string(id) + " at " + url();
    ASSIGN_OR_RAISE(HttpResponse response, Send("/schemas/ids/" + std::to_string(id), ""));
    ASSIGN_OR_RAISE(nlohmann::json body, ObjectOf(response, what));
    ASSIGN_OR_RAISE(RegisteredSchema schema, SchemaOf(body, what));
    schema.id = id;
    cache_.Remember(schema);
    return schema;
  }

  Result<RegisteredSchema> GetLatest(const std::string& subject) override {
    const std::string what = "the latest schema of subject '" + subject + "' at " + url();
    ASSIGN_OR_RAISE(HttpResponse response,
                    Send("/subjects/" + Escape(subject) + "/versions/latest", ""));
    ASSIGN_OR_RAISE(nlohmann::json body, ObjectOf(response, what));
    ASSIGN_OR_RAISE(RegisteredSchema schema, SchemaOf(body, what));
    if (schema.id != 0) cache_.Remember(schema);
    return schema;
  }

  Result<RegisteredSchema> GetVersion(const std::string& subject, int32_t version) override {
    const std::string what =
        "version " + std::to_string(version) + " of subject '" + subject + "' at " + url();
    ASSIGN_OR_RAISE(
        HttpResponse response,
        Send("/subjects/" + Escape(subject) + "/versions/" + std::to_string(version), ""));
    ASSIGN_OR_RAISE(nlohmann::json body, ObjectOf(response, what));
    ASSIGN_OR_RAISE(RegisteredSchema schema, SchemaOf(body, what));
    if (schema.id != 0) cache_.Remember(schema);
    return schema;
  }

  Result<std::vector<std::string>> ListSubjects() override {
    ASSIGN_OR_RAISE(HttpResponse response, Send("/subjects", ""));
    if (response.status != 200) {
      return Status::Unavailable("listing subjects at " + url() + ": HTTP " +
                                 std::to_string(response.status) + ": " + ErrorMessage(response));
    }
    nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
    std::vector<std::string> subjects;
    if (!body.is_array()) return Status::Corruption("listing subjects: not a JSON array");
    for (const auto& subject : body) {
      if (subject.is_string()) subjects.push_back(subject.get<std::string>());
    }
    return subjects;
  }

  Status DeleteSubject(const std::string& subject) override {
    cache_.ForgetSubject(subject);
    for (const char* query : {"", "?permanent=true"}) {
      ASSIGN_OR_RAISE(HttpResponse response,
                      Send("/subjects/" + Escape(subject) + query, "", "DELETE"));
      if (response.status != 200 && response.status != 404) {
        return Status::Unavailable("deleting subject '" + subject + "' at " + url() + ": HTTP " +
                                   std::to_string(response.status) + ": " + ErrorMessage(response));
      }
    }
    return Status::OK();
  }

  const std::string& url() const override { return base_url_; }
  int64_t requests_sent() const override { return requests_sent_.load(); }

 private:
  static std::string Escape(const std::string& text) {
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    char* escaped = curl_easy_escape(curl.get(), text.data(), static_cast<int>(text.size()));
    std::string result = escaped != nullptr ? escaped : text;
    curl_free(escaped);
    return result;
  }

  // GET when `body` is empty, else POST it as JSON.
  Result<HttpResponse> Send(const std::string& path, const std::string& body,
                            const char* method = nullptr) const {
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) return Status::Internal("curl_easy_init failed");
    const std::string url = base_url_ + path;
    std::unique_ptr<curl_slist, HeadersDeleter> headers(curl_slist_append(
        curl_slist_append(nullptr, "Content-Type: application/vnd.schemaregistry.v1+json"),
        "Accept: application/vnd.schemaregistry.v1+json, application/json"));
    HttpResponse response;
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    if (!body.empty()) {
      curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    if (method != nullptr) curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 15000L);
    ++requests_sent_;
    const CURLcode code = curl_easy_perform(curl.get());
    if (code != CURLE_OK) {
      return Status::Unavailable("cannot reach the schema registry at " + url + ": " +
                                 curl_easy_strerror(code));
    }
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &response.status);
    return response;
  }

  std::string base_url_;
  SchemaCache cache_;
  mutable std::atomic<int64_t> requests_sent_{0};
};

// ksqlDB's mock:// registry: subjects and schemas in memory.
class InMemorySchemaRegistry final : public SchemaRegistry {
 public:
  using SchemaRegistry::Register;
  explicit InMemorySchemaRegistry(std::string url) : url_(std::move(url)) {}

  Result<int32_t> Register(const std::string& subject, SchemaType type, const std::string& schema,
                           const std::vector<SchemaReference>& references) override {
    std::lock_guard lock(mutex_);
    int32_t id = 0;
    for (const auto& [existing_id, existing] : schemas_) {
      if (existing.type == type && existing.schema == schema && existing.references == references) {
        id = existing_id;
      }
    }
    if (id == 0) {
      id = next_id_++;
      schemas_[id] = RegisteredSchema{id, type, schema, 0, references};
    }
    auto& versions = subjects_[subject];
    if (versions.empty() || versions.back() != id) versions.push_back(id);
    return id;
  }

  Result<RegisteredSchema> GetById(int32_t id) override {
    std::lock_guard lock(mutex_);
    auto found = schemas_.find(id);
    if (found == schemas_.end()) {
      return Status::NotFound("schema id " + std::to_string(id) + " is not in the registry " +
                              url_);
    }
    return found->second;
  }

  Result<RegisteredSchema> GetLatest(const std::string& subject) override {
    std::lock_guard lock(mutex_);
    auto found = subjects_.find(subject);
    if (found == subjects_.end() || found->second.empty()) {
      return Status::NotFound("subject '" + subject + "' is not in the registry " + url_);
    }
    RegisteredSchema schema = schemas_.at(found->second.back());
    schema.version = static_cast<int32_t>(found->second.size());
    return schema;
  }

  Result<RegisteredSchema> GetVersion(const std::string& subject, int32_t version) override {
    std::lock_guard lock(mutex_);
    auto found = subjects_.find(subject);
    if (found == subjects_.end() || version < 1 ||
        static_cast<size_t>(version) > found->second.size()) {
      return Status::NotFound("version " + std::to_string(version) + " of subject '" + subject +
                              "' is not in the registry " + url_);
    }
    RegisteredSchema schema = schemas_.at(found->second[version - 1]);
    schema.version = version;
    return schema;
  }

  Result<std::vector<std::string>> ListSubjects() override {
    std::lock_guard lock(mutex_);
    std::vector<std::string> subjects;
    for (const auto& [subject, versions] : subjects_) subjects.push_back(subject);
    return subjects;
  }

  Status DeleteSubject(const std::string& subject) override {
    std::lock_guard lock(mutex_);
    subjects_.erase(subject);
    return Status::OK();
  }

  const std::string& url() const override { return url_; }

 private:
  std::string url_;
  std::mutex mutex_;
  int32_t next_id_ = 1;
  std::map<int32_t, RegisteredSchema> schemas_;
  std::map<std::string, std::vector<int32_t>> subjects_;
};

std::mutex& SharedMutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

std::unique_ptr<SchemaRegistry> MakeHttpSchemaRegistry(std::string base_url) {
  return std::make_unique<HttpSchemaRegistry>(std::move(base_url));
}

std::unique_ptr<SchemaRegistry> MakeInMemorySchemaRegistry(std::string url) {
  return std::make_unique<InMemorySchemaRegistry>(std::move(url));
}

Result<std::shared_ptr<SchemaRegistry>> SharedSchemaRegistry(const std::string& url) {
  if (url.empty()) {
    return Status::InvalidArgument(
        "no schema registry is configured (set ksql.schema.registry.url)");
  }
  static auto* registries = new std::map<std::string, std::shared_ptr<SchemaRegistry>>();
  std::lock_guard lock(SharedMutex());
  auto& registry = (*registries)[url];
  if (!registry) {
    if (url.rfind("mock://", 0) == 0) {
      registry = MakeInMemorySchemaRegistry(url);
    } else if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) {
      registry = MakeHttpSchemaRegistry(url);
    } else {
      registries->erase(url);
      return Status::InvalidArgument("schema registry url '" + url +
                                     "' must start with http://, https:// or mock://");
    }
  }
  return registry;
}

namespace {
std::string& DefaultUrl() {
  static auto* url = new std::string();
  return *url;
}
}  // namespace

void SetDefaultSchemaRegistryUrl(std::string url) {
  std::lock_guard lock(SharedMutex());
  DefaultUrl() = std::move(url);
}

std::string DefaultSchemaRegistryUrl() {
  std::lock_guard lock(SharedMutex());
  return DefaultUrl();
}

}  // namespace sidestream::registry
