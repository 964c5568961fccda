#include "server/qtt_command.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <sstream>

#include "connectors/registry/schema_registry.h"
#include "functions/function_registry.h"
#include "host/offline_engine.h"
#include "server/qtt_test_functions.h"
#include "sql/parser.h"

namespace sidestream::server {

namespace {

using nlohmann::json;

// kPartitionSensitive: failed on several partitions, passed on one (see RunQtt).
enum class Outcome { kPassed, kFailed, kSkipped, kPartitionSensitive };
constexpr int kOutcomes = 4;

struct CaseResult {
  std::string id;  // "file.json: case name [FORMAT]"
  Outcome outcome = Outcome::kFailed;
  std::string detail;  // the diff, error or skip reason
};

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), ::toupper);
  return text;
}

// The format a "topics" entry's schema is in: its own valueFormat/keyFormat, else the case's.
std::string TopicSchemaFormat(const json& topic, bool key, const std::string& format,
                              const std::string& statements) {
  std::string named = topic.value(key ? "keyFormat" : "valueFormat", std::string());
  if (named.empty()) named = topic.value("format", std::string());
  if (!named.empty()) return Upper(named);
  if (format != "JSON") return format;
  for (const char* candidate : {"JSON_SR", "PROTOBUF", "AVRO"}) {
    if (statements.find(std::string("'") + candidate + "'") != std::string::npos) return candidate;
  }
  return "JSON";
}

// Where ksqlDB's runner gets schemas from: a "topics" entry, and a CREATE STREAM/TABLE that
// declares columns in a format that infers schemas (TestCaseBuilderUtil.getAllTopics).
struct TopicSchemas {
  std::string name;
  const json* entry = nullptr;  // the "topics" entry, if any
  bool key = false;             // has a key schema
  bool value = false;           // has a value schema
};

// The order in which Java's HashMap<String, ...> iterates `names` (inserted in that order):
// by bucket of String.hashCode() (spread as HashMap.hash does), at the table size that holds
// them, and in insertion order within a bucket. ksqlDB's runner registers the topics' schemas
// in this order, which numbers them in its mock registry.
std::vector<size_t> JavaHashMapOrder(const std::vector<std::string>& names) {
  uint32_t capacity = 16;
  while (names.size() > capacity * 3 / 4) capacity *= 2;
  std::vector<std::pair<uint32_t, size_t>> buckets;
  for (size_t i = 0; i < names.size(); ++i) {
    uint32_t hash = 0;
    for (unsigned char c : names[i]) hash = hash * 31 + c;
    hash ^= hash >> 16;
    buckets.emplace_back(hash & (capacity - 1), i);
  }
  std::stable_sort(buckets.begin(), buckets.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<size_t> order;
  for (const auto& [bucket, index] : buckets) order.push_back(index);
  return order;
}

// The topics of a case that carry schemas, in the order ksqlDB's runner registers them.
std::vector<TopicSchemas> SchemaTopics(const json& test,
                                       const std::vector<std::string>& statements) {
  std::vector<TopicSchemas> topics;
  auto find = [&](const std::string& name) -> TopicSchemas& {
    for (auto& topic : topics) {
      if (topic.name == name) return topic;
    }
    topics.push_back({name});
    return topics.back();
  };
  for (const auto& entry : test.value("topics", json::array())) {
    TopicSchemas& topic = find(entry.value("name", std::string()));
    topic.entry = &entry;
    topic.key = entry.contains("keySchema") && !entry["keySchema"].is_null();
    topic.value = entry.contains("valueSchema") && !entry["valueSchema"].is_null();
  }
  std::string default_key_format = "KAFKA";
  const json properties = test.value("properties", json::object());
  if (auto found = properties.find("ksql.persistence.default.format.key");
      found != properties.end() && found->is_string()) {
    default_key_format = Upper(found->get<std::string>());
  }
  auto infers = [](const std::string& format) {
    return format == "AVRO" || format == "JSON_SR" || format == "PROTOBUF";
  };
  for (const std::string& text : statements) {
    auto parsed = sql::ParseStatement(text);
    if (!parsed.ok() || (*parsed)->kind != sql::StatementKind::kCreateSource ||
        (*parsed)->columns.empty()) {
      continue;
    }
    const sql::Statement& statement = **parsed;
    auto property = [&](const char* name) {
      const sql::Property* found = statement.FindProperty(name);
      return found == nullptr ? std::string() : found->value.text;
    };
    const std::string topic_name = property("KAFKA_TOPIC");
    if (topic_name.empty()) continue;
    std::string key_format = Upper(property("KEY_FORMAT"));
    std::string value_format = Upper(property("VALUE_FORMAT"));
    if (key_format.empty()) key_format = Upper(property("FORMAT"));
    if (value_format.empty()) value_format = Upper(property("FORMAT"));
    if (key_format.empty()) key_format = default_key_format;
    bool keys = false, values = false;
    for (const auto& column : statement.columns) {
      const bool key = column.constraint == sql::ColumnConstraint::kKey ||
                       column.constraint == sql::ColumnConstraint::kPrimaryKey;
      keys = keys || key;
      values = values || (!key && column.constraint != sql::ColumnConstraint::kHeaders);
    }
    TopicSchemas& topic = find(topic_name);
    topic.key = topic.key || (keys && infers(key_format));
    topic.value = topic.value || (values && infers(value_format));
  }
  std::vector<std::string> names;
  for (const auto& topic : topics) names.push_back(topic.name);
  std::vector<TopicSchemas> ordered;
  for (size_t index : JavaHashMapOrder(names)) ordered.push_back(topics[index]);
  return ordered;
}

// The registry's kind of a "topics" schema in `format`.
Result<registry::SchemaType> SchemaTypeOf(const std::string& format) {
  if (format == "AVRO") return registry::SchemaType::kAvro;
  if (format == "JSON_SR" || format == "JSON") return registry::SchemaType::kJson;
  if (format == "PROTOBUF") return registry::SchemaType::kProtobuf;
  return Status::NotSupported(
      "a " + format + " schema in 'topics': only AVRO, JSON_SR and PROTOBUF are built here");
}

// A "topics" schema as the registry takes it: .proto text as it is, JSON as its text.
std::string SchemaText(json schema, registry::SchemaType type) {
  // Apicurio guesses a schema's kind from its text even when told, and takes a JSON Schema
  // without "$schema" (a bare oneOf, {"type":"integer"}) for no known kind: name the draft,
  // which changes nothing the schema says.
  if (type == registry::SchemaType::kJson && schema.is_object() && !schema.contains("$schema")) {
    schema["$schema"] = "http://json-schema.org/draft-07/schema#";
  }
  return schema.is_string() && type != registry::SchemaType::kAvro ? schema.get<std::string>()
                                                                   : schema.dump();
}

// Registers the schemas of a case's "topics" section as its producers would, and tells the
// engine to write that topic's inputs under them. Returns the registered id of each id the
// case declares (valueSchemaId, keySchemaId), or the reason the case cannot run.
Result<std::map<int64_t, int32_t>> RegisterTopicSchemas(const json& test, const std::string& format,
                                                        const std::string& statements,
                                                        const std::vector<std::string>& texts,
                                                        registry::SchemaRegistry& registry,
                                                        host::OfflineEngine& engine) {
  std::map<int64_t, int32_t> ids;
  // A case that declares no ids names its schemas as ksqlDB's mock registry numbered them:
  // 1, 2, ... in registration order (each topic's key, then its value), counting the schemas
  // of the CREATE statements, which the engine registers itself when it writes.
  bool declares_ids = false;
  for (const auto& topic : test.value("topics", json::array())) {
    declares_ids = declares_ids || topic.contains("keySchemaId") || topic.contains("valueSchemaId");
  }
  std::map<std::pair<std::string, bool>, int64_t> case_ids;
  int64_t next_case_id = 1;
  for (const TopicSchemas& topic : SchemaTopics(test, texts)) {
    for (bool key : {true, false}) {
      if (key ? topic.key : topic.value) case_ids[{topic.name, key}] = next_case_id++;
    }
  }
  for (const auto& topic : test.value("topics", json::array())) {
    const std::string name = topic.value("name", std::string());
    for (bool key : {true, false}) {
      const char* field = key ? "keySchema" : "valueSchema";
      if (!topic.contains(field) || topic[field].is_null()) continue;
      ASSIGN_OR_RAISE(registry::SchemaType type,
                      SchemaTypeOf(TopicSchemaFormat(topic, key, format, statements)));
      const std::string text = SchemaText(topic[field], type);
      // ksqlDB's runner registers each referenced schema under its name, then the schema.
      std::vector<registry::SchemaReference> references;
      std::vector<registry::NamedSchema> referenced;
      for (const auto& reference :
           topic.value(key ? "keySchemaReferences" : "valueSchemaReferences", json::array())) {
        const std::string reference_name = reference.value("name", std::string());
        ASSIGN_OR_RAISE(registry::SchemaType reference_type,
                        SchemaTypeOf(Upper(reference.value("format", std::string()))));
        const std::string reference_text = SchemaText(reference["schema"], reference_type);
        RETURN_NOT_OK(registry.Register(reference_name, reference_type, reference_text).status());
        ASSIGN_OR_RAISE(registry::RegisteredSchema latest, registry.GetLatest(reference_name));
        references.push_back({reference_name, reference_name, latest.version});
        referenced.push_back({reference_name, reference_text});
      }
      ASSIGN_OR_RAISE(int32_t registered,
                      registry.Register(name + (key ? "-key" : "-value"), type, text, references));
      if (type == registry::SchemaType::kAvro || type == registry::SchemaType::kProtobuf) {
        engine.SetTopicWriterSchema(name, key, text, registered,
                                    type == registry::SchemaType::kProtobuf, referenced);
      }
      if (!declares_ids) {
        auto numbered = case_ids.find({name, key});
        if (numbered != case_ids.end()) ids[numbered->second] = registered;
      }
      const char* id_field = key ? "keySchemaId" : "valueSchemaId";
      if (topic.contains(id_field) && topic[id_field].is_number_integer()) {
        ids[topic[id_field].get<int64_t>()] = registered;
      }
    }
  }
  return ids;
}

// KEY_SCHEMA_ID=n / VALUE_SCHEMA_ID=n with the id the registry gave the case's schema n.
std::string MapSchemaIds(const std::string& statement, const std::map<int64_t, int32_t>& ids) {
  const std::string upper = Upper(statement);
  std::string out;
  size_t copied = 0;
  for (size_t at = upper.find("_SCHEMA_ID"); at != std::string::npos;
       at = upper.find("_SCHEMA_ID", at + 1)) {
    size_t digits = at + 10;
    while (digits < upper.size() && (upper[digits] == ' ' || upper[digits] == '=')) ++digits;
    size_t end = digits;
    while (end < upper.size() && std::isdigit(static_cast<unsigned char>(upper[end]))) ++end;
    if (end == digits || end - digits > 9) continue;
    auto found = ids.find(std::stoll(upper.substr(digits, end - digits)));
    if (found == ids.end()) continue;
    out.append(statement, copied, digits - copied);
    out += std::to_string(found->second);
    copied = end;
  }
  out.append(statement, copied, std::string::npos);
  return out;
}

// Runs one expanded case with every topic on `partitions` partitions.
CaseResult RunCase(const std::string& id, const json& test, const std::string& format,
                   int partitions, const std::string& schema_registry) {
  CaseResult result{id, Outcome::kFailed, ""};
  std::vector<std::string> statements;
  for (const auto& statement : test["statements"]) {
    statements.push_back(Replace(statement.get<std::string>(), "{FORMAT}", format));
  }
  std::string all = Upper(std::accumulate(statements.begin(), statements.end(), std::string()));
  // A "topics" entry needs a registry when it names a schema, not when it only gives a format
  // or a partition count.
  bool names_schema = false;
  for (const auto& topic : test.value("topics", json::array())) {
    for (const char* field :
         {"keySchema", "valueSchema", "keySchemaId", "valueSchemaId", "valueSchemaReferences"}) {
      names_schema = names_schema || (topic.contains(field) && !topic[field].is_null());
    }
  }
  const bool needs_registry = all.find("SCHEMA_ID") != std::string::npos || names_schema;
  if (needs_registry && schema_registry.empty()) {
    return {id, Outcome::kSkipped, "needs a schema registry (run with --schema-registry URL)"};
  }
  bool expects_error = test.contains("expectedException");
  auto engine = host::OfflineEngine::Create(partitions);
  if (!engine.ok()) return {id, Outcome::kFailed, engine.status().ToString()};
  // The case's properties are session properties, as ksqlDB's runner passes them.
  const json properties = test.value("properties", json::object());
  for (const auto& [name, value] : properties.items()) {
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    auto set = (*engine)->Execute("SET '" + name + "' = '" + text + "';");
    if (!set.ok())
      return {id, Outcome::kFailed, "property " + name + ": " + set.status().ToString()};
  }
  if (needs_registry) {
    // Each case starts from an empty registry, as ksqlDB's runner does with its mock.
    auto registry = registry::SharedSchemaRegistry(schema_registry);
    if (!registry.ok()) return {id, Outcome::kFailed, registry.status().ToString()};
    auto subjects = (*registry)->ListSubjects();
    if (!subjects.ok()) return {id, Outcome::kFailed, subjects.status().ToString()};
    // A subject that others reference goes once they are gone: pass after pass.
    std::vector<std::string> left = std::move(*subjects);
    while (!left.empty()) {
      std::vector<std::string> refused;
      Status last;
      for (const std::string& subject : left) {
        Status deleted = (*registry)->DeleteSubject(subject);
        if (!deleted.ok()) {
          refused.push_back(subject);
          last = deleted;
        }
      }
      if (refused.size() == left.size()) return {id, Outcome::kFailed, last.ToString()};
      left = std::move(refused);
    }
    auto ids = RegisterTopicSchemas(test, format, all, statements, **registry, **engine);
    if (!ids.ok()) {
      if (ids.status().code() == StatusCode::kNotSupported) {
        return {id, Outcome::kSkipped, ids.status().message()};
      }
      return {id, Outcome::kFailed, "registering the topics' schemas: " + ids.status().ToString()};
    }
    for (std::string& statement : statements) statement = MapSchemaIds(statement, *ids);
  }
  for (size_t i = 0; i < statements.size(); ++i) {
    auto executed = (*engine)->Execute(statements[i]);
    if (executed.ok()) continue;
    const Status& status = executed.status();
    bool last = i + 1 == statements.size();
    if (expects_error && last) return {id, Outcome::kPassed, "rejected: " + status.message()};
    if (status.code() == StatusCode::kNotSupported) {
      return {id, Outcome::kSkipped, status.message()};
    }
    return {id, Outcome::kFailed, "statement " + std::to_string(i + 1) + ": " + status.ToString()};
  }
  auto inputs = host::ParseTestRecords(test.value("inputs", json::array()));
  auto expected = host::ParseTestRecords(test.value("outputs", json::array()));
  if (!inputs.ok() || !expected.ok()) {
    return {id, Outcome::kFailed, "unreadable records in the test file"};
  }
  for (const auto& record : *inputs) {
    Status produced = (*engine)->Produce(record);
    if (!produced.ok()) {
      if (expects_error) return {id, Outcome::kPassed, "failed at run time: " + produced.message()};
      return {id, Outcome::kFailed, "input: " + produced.ToString()};
    }
  }
  if (expects_error) {
    return {id, Outcome::kFailed,
            "ksqlDB rejects this case (" +
                test["expectedException"].value("message", std::string("an exception")) +
                ") but Sidestream accepted it"};
  }
  std::vector<host::TestRecord> actual;
  for (const std::string& topic : (*engine)->OutputTopics()) {
    for (auto& record : (*engine)->Output(topic)) actual.push_back(std::move(record));
  }
  // ksqlDB's expected records are in one partition's order; over several, Kafka keeps the
  // order per key only.
  std::string diff = partitions == 1 ? host::CompareRecords(*expected, actual)
                                     : host::CompareRecordsPerKey(*expected, actual);
  if (!diff.empty()) return {id, Outcome::kFailed, diff};
  return {id, Outcome::kPassed, ""};
}

// Why a case's results may depend on how its records spread over partitions: a hint for
// whoever judges a partition-sensitive case.
std::string PartitioningHint(const json& test) {
  const std::string statements = Upper(test["statements"].dump());
  auto uses = [&](const char* word) { return statements.find(word) != std::string::npos; };
  if (uses("ROWPARTITION") || uses("ROWOFFSET")) {
    return "reads ROWPARTITION or ROWOFFSET: the record's partition, and its offset there";
  }
  std::string found;
  for (const char* feature : {"EMIT FINAL", "GRACE PERIOD", "WINDOW", "WITHIN"}) {
    if (uses(feature)) found += (found.empty() ? "" : ", ") + std::string(feature);
  }
  if (found.empty()) return "uses no window, ROWPARTITION or ROWOFFSET: may be a bug";
  return "uses " + found + ": windows close, and records are late, by each partition's stream time";
}

// Parses a test file like nlohmann's DOM parser, except that a number with more significant
// digits than a double holds stays exact, as the JSON string of its text: ksqlDB's runner
// reads numbers as BigDecimal. The engine's JSON decoder coerces numeric strings, and the
// comparison reads an expected string as an exact decimal.
class ExactNumberSax : public nlohmann::detail::json_sax_dom_parser<json> {
 public:
  explicit ExactNumberSax(json& root) : json_sax_dom_parser(root, /*allow_exceptions=*/false) {}

  bool number_float(json::number_float_t value, const std::string& text) {
    if (SignificantDigits(text) <= 17) return json_sax_dom_parser::number_float(value, text);
    std::string exact = text;
    return string(exact);
  }

 private:
  static int SignificantDigits(const std::string& text) {
    int digits = 0;
    bool leading = true;
    for (char c : text) {
      if (c == 'e' || c == 'E') break;
      if (c < '0' || c > '9') continue;
      if (leading && c == '0') continue;
      leading = false;
      ++digits;
    }
    return digits;
  }
};

std::vector<std::filesystem::path> QttFiles(const std::vector<std::string>& paths) {
  std::vector<std::filesystem::path> files;
  for (const std::string& path : paths) {
    if (std::filesystem::is_directory(path)) {
      for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.path().extension() == ".json") files.push_back(entry.path());
      }
    } else {
      files.push_back(path);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int RunQtt(const QttOptions& options) {
  // ksqlDB's runner has its test UDFs on the classpath; so does this one, in this process only.
  if (Status extended = functions::FunctionRegistry::Extend(AddQttTestFunctions); !extended.ok()) {
    std::cerr << "qtt: " << extended.ToString() << "\n";
    return 2;
  }
  const bool several = options.partitions > 1;
  std::string schema_registry = options.schema_registry;
  if (const char* url = std::getenv("SIDESTREAM_SCHEMA_REGISTRY_URL");
      schema_registry.empty() && url != nullptr) {
    schema_registry = url;
  }
  // AVRO and JSON_SR go through the registry in every case, as on a real deployment.
  registry::SetDefaultSchemaRegistryUrl(schema_registry);
  std::vector<CaseResult> results;
  std::map<std::string, std::array<int, kOutcomes>> per_file;
  int passed_as_json = 0;
  for (const auto& file : QttFiles(options.paths)) {
    std::ifstream stream(file);
    json document;
    ExactNumberSax sax(document);
    bool parsed = json::sax_parse(stream, &sax);
    if (!parsed || !document.contains("tests")) {
      std::cerr << file.string() << ": error: not a QTT file\n";
      return 2;
    }
    std::string name = file.filename().string();
    for (const auto& test : document["tests"]) {
      std::vector<std::string> formats = {"JSON"};
      if (test.contains("format")) formats = test["format"].get<std::vector<std::string>>();
      for (const std::string& format : formats) {
        std::string id = name + ": " + test.value("name", std::string("?"));
        if (formats.size() > 1 || test.contains("format")) id += " [" + format + "]";
        CaseResult result;
        if (!test.value("enabled", true)) {
          result = {id, Outcome::kSkipped, "disabled in ksqlDB's suite"};
        } else {
          result = RunCase(id, test, format, options.partitions, schema_registry);
          // What fails on several partitions but passes on one depends on how the records
          // spread: set apart for a human to judge, with the diff on several.
          if (several && result.outcome == Outcome::kFailed &&
              RunCase(id, test, format, 1, schema_registry).outcome == Outcome::kPassed) {
            result.outcome = Outcome::kPartitionSensitive;
            result.detail = PartitioningHint(test) + "\n" + result.detail;
          }
          // Without a registry, AVRO is read as JSON and PROTOBUF without Confluent's schema
          // ids (the conformance rules); with one, both run in the wire format.
          std::string statements = Upper(test["statements"].dump());
          const bool without_schema =
              schema_registry.empty() &&
              (format == "AVRO" || statements.find("'AVRO'") != std::string::npos ||
               format == "PROTOBUF" || statements.find("'PROTOBUF'") != std::string::npos);
          if (result.outcome == Outcome::kPassed && without_schema) {
            ++passed_as_json;
          }
        }
        per_file[name][static_cast<int>(result.outcome)]++;
        results.push_back(std::move(result));
      }
    }
  }
  int counts[kOutcomes] = {0, 0, 0, 0};
  for (const auto& result : results) {
    counts[static_cast<int>(result.outcome)]++;
    if (result.outcome == Outcome::kFailed || result.outcome == Outcome::kPartitionSensitive) {
      std::cout << (result.outcome == Outcome::kFailed ? "FAILED  " : "PARTITION-SENSITIVE  ")
                << result.id << "\n  " << Replace(result.detail, "\n", "\n  ") << "\n";
    } else if (result.outcome == Outcome::kSkipped) {
      std::cout << "SKIPPED " << result.id << ": " << result.detail << "\n";
    } else if (options.verbose) {
      std::cout << "PASSED  " << result.id << "\n";
    }
  }
  std::cout << "\nper file (passed/failed/skipped" << (several ? "/partition-sensitive" : "")
            << "):\n";
  for (const auto& [file, count] : per_file) {
    std::cout << "  " << file << ": " << count[0] << "/" << count[1] << "/" << count[2];
    if (several) std::cout << "/" << count[3];
    std::cout << "\n";
  }
  if (options.json_out) {
    json out = json::array();
    for (const auto& result : results) {
      out.push_back({{"id", result.id},
                     {"outcome", result.outcome == Outcome::kPassed    ? "passed"
                                 : result.outcome == Outcome::kFailed  ? "failed"
                                 : result.outcome == Outcome::kSkipped ? "skipped"
                                                                       : "partition-sensitive"},
                     {"detail", result.detail}});
    }
    std::ofstream(*options.json_out) << out.dump(1) << "\n";
  }
  int exit_code = 0;
  if (options.must_pass) {
    std::ifstream list(*options.must_pass);
    if (!list) {
      std::cerr << *options.must_pass << ": error: cannot read the must-pass list\n";
      return 2;
    }
    std::set<std::string> passed;
    for (const auto& result : results) {
      if (result.outcome == Outcome::kPassed) passed.insert(result.id);
    }
    for (std::string line; std::getline(list, line);) {
      if (line.empty() || line[0] == '#') continue;
      if (!passed.count(line)) {
        std::cout << "REGRESSION: listed as passing but did not pass: " << line << "\n";
        exit_code = 1;
      }
    }
  }
  if (schema_registry.empty()) {
    std::cout << "(" << passed_as_json
              << " of the passed cases use AVRO or PROTOBUF without a schema registry)\n";
  } else {
    std::cout << "(AVRO, JSON_SR and PROTOBUF ran against " << schema_registry << ")\n";
  }
  if (several) {
    std::cout << "on " << options.partitions << " partitions, outputs compared per key; "
              << counts[3] << " partition-sensitive (failed here, passed on 1 partition)\n";
  }
  std::cout << counts[0] << " passed, " << counts[1] << " failed, " << counts[2] << " skipped\n";
  return exit_code;
}

}  // namespace sidestream::server
