#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

/// A client of a schema registry that speaks Confluent's REST API (Confluent Schema
/// Registry, Apicurio's /apis/ccompat/v7), for the AVRO, JSON_SR and PROTOBUF formats.
namespace sidestream::registry {

/// The kind of a registered schema (Confluent's "schemaType"; absent means AVRO).
enum class SchemaType { kAvro, kJson, kProtobuf };

/// "AVRO", "JSON" or "PROTOBUF", as the registry spells it.
const char* SchemaTypeName(SchemaType type);

/// Another registered schema that a schema uses (Confluent's schema references): a .proto
/// file it imports by `name`, held as `version` of `subject`.
struct SchemaReference {
  std::string name;
  std::string subject;
  int32_t version = 0;
  bool operator==(const SchemaReference&) const = default;
};

/// A schema as the registry holds it.
struct RegisteredSchema {
  int32_t id = 0;
  SchemaType type = SchemaType::kAvro;
  std::string schema;   // the schema text (Avro JSON, JSON Schema, .proto)
  int32_t version = 0;  // within its subject; 0 when fetched by id
  std::vector<SchemaReference> references;
};

/// A referenced schema's text under the name the referring schema imports it by.
struct NamedSchema {
  std::string name;
  std::string schema;
};

/// The registry, as formats use it. Implementations cache what cannot change (a schema by
/// id, the id of a (subject, type, schema) already registered), so a format's hot path
/// never waits on the network after the first record of a schema.
///
/// Errors: NotFound (no such id or subject), Unavailable (the registry cannot be reached;
/// retriable), InvalidArgument (the registry refused the schema, e.g. incompatible).
/// Thread-safety: every method may be called from any thread.
class SchemaRegistry {
 public:
  virtual ~SchemaRegistry() = default;
  /// Registers `schema`, which uses `references`, under `subject` (e.g. "orders-value") and
  /// returns its id; the same schema registered again returns the same id without a request.
  virtual Result<int32_t> Register(const std::string& subject, SchemaType type,
                                   const std::string& schema,
                                   const std::vector<SchemaReference>& references) = 0;
  Result<int32_t> Register(const std::string& subject, SchemaType type, const std::string& schema) {
    return Register(subject, type, schema, {});
  }
  /// The schema with `id`.
  virtual Result<RegisteredSchema> GetById(int32_t id) = 0;
  /// The latest version registered under `subject` (never cached: it can change).
  virtual Result<RegisteredSchema> GetLatest(const std::string& subject) = 0;
  /// Version `version` (1, 2, ...) of `subject`.
  virtual Result<RegisteredSchema> GetVersion(const std::string& subject, int32_t version) = 0;
  /// Every subject (Confluent's GET /subjects).
  virtual Result<std::vector<std::string>> ListSubjects() = 0;
  /// Deletes `subject` and its versions for good (soft, then permanent delete), and forgets
  /// the ids cached for it.
  virtual Status DeleteSubject(const std::string& subject) = 0;
  /// Where it is, for error messages ("http://127.0.0.1:8081", "mock://qtt").
  virtual const std::string& url() const = 0;
  /// How many requests went to the registry (0 for one held in memory): a cached lookup
  /// sends none.
  virtual int64_t requests_sent() const { return 0; }
};

/// The schema a sink given KEY_/VALUE_SCHEMA_ID writes with (ksqlDB's rule): the one `id`
/// names, which must be of `type`. `what` names it for errors, e.g. "the AVRO schema with
/// id 3 (orders-value, at http://...)". Unavailable when the registry cannot be reached
/// (retriable), InvalidArgument otherwise.
struct SchemaToWrite {
  RegisteredSchema registered;
  std::string what;
};
Result<SchemaToWrite> GetSchemaToWrite(SchemaRegistry& registry, int32_t id, SchemaType type,
                                       const std::string& subject);

/// The schemas `schema` references, directly or through another reference, each once and
/// after the schemas it references (the order to compile them in). InvalidArgument when a
/// reference cannot be read or the references form a cycle; Unavailable when the registry
/// cannot be reached.
Result<std::vector<NamedSchema>> ReferencedSchemas(SchemaRegistry& registry,
                                                   const RegisteredSchema& schema);

/// A client of the registry at `base_url` (http:// or https://), over libcurl.
std::unique_ptr<SchemaRegistry> MakeHttpSchemaRegistry(std::string base_url);

/// A registry held in memory, named `url` (ksqlDB's "mock://" registries): for offline runs
/// and tests. Ids start at 1.
std::unique_ptr<SchemaRegistry> MakeInMemorySchemaRegistry(std::string url);

/// The process's shared client for `url`: "mock://NAME" is an in-memory registry, anything
/// else an HTTP client. The same url gives the same client (and so the same caches).
/// InvalidArgument when `url` is empty.
Result<std::shared_ptr<SchemaRegistry>> SharedSchemaRegistry(const std::string& url);

/// The registry url used when a query sets none (the server's ksql.schema.registry.url);
/// empty when none is configured.
void SetDefaultSchemaRegistryUrl(std::string url);
std::string DefaultSchemaRegistryUrl();

/// The Confluent wire format: magic byte 0, the schema id as 4 big-endian bytes, then the
/// payload.
inline constexpr size_t kWireHeaderBytes = 5;
/// Appends the 5-byte header for `schema_id` to `out`.
void AppendWireHeader(int32_t schema_id, std::string& out);
/// The schema id of a message in the wire format, and the payload after the header.
/// InvalidArgument when the message is shorter than the header or its magic byte is not 0.
struct WireMessage {
  int32_t schema_id = 0;
  std::string_view payload;
};
Result<WireMessage> ParseWireHeader(std::string_view message);

}  // namespace sidestream::registry
