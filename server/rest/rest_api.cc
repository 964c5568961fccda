#include "server/rest/rest_api.h"

#include <strings.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "analyzer/analyzer.h"
#include "common/percent_decode.h"
#include "connectors/formats/row_format.h"
#include "connectors/formats/scalar_text.h"
#include "connectors/kafka/batch_consumer.h"
#include "connectors/sink/sink_connectors.h"
#include "host/pull_query_where.h"
#include "server/console/console_assets.h"
#include "server/rest/command_log.h"
#include "server/rest/engine_metrics.h"
#include "server/rest/ksql_entities.h"
#include "session/script_runner.h"
#include "sql/parser.h"

namespace sidestream::rest {

using nlohmann::json;

namespace {

// Sinks of push queries: hidden from SHOW and DESCRIBE.
constexpr const char* kTransientPrefix = "SIDESTREAM_TRANSIENT_";
constexpr const char* kJsonType = "application/json";

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

void RespondJson(Responder& responder, int status, const json& body) {
  responder.Respond(status, kJsonType, Dump(body));
}

bool IsTransient(const std::string& name) { return name.starts_with(kTransientPrefix); }

std::string Quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  return quoted + "'";
}

// The request body as a JSON object, or an answer saying why not.
std::optional<json> ParseBody(const HttpRequest& request, int64_t max_body_bytes,
                              Responder& responder) {
  if (static_cast<int64_t>(request.body.size()) > max_body_bytes) {
    RespondJson(
        responder, 413,
        GenericError(kErrorPayloadTooLarge, "The request body is larger than max.body.bytes (" +
                                                std::to_string(max_body_bytes) + " bytes)"));
    return std::nullopt;
  }
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    RespondJson(responder, 400,
                GenericError(kErrorBadRequest, "Invalid JSON in request: expected an object"));
    return std::nullopt;
  }
  return body;
}

// The streamsProperties (or properties) member as SET statements' name and text value.
Result<std::vector<std::pair<std::string, std::string>>> Properties(const json& body,
                                                                    const char* member) {
  std::vector<std::pair<std::string, std::string>> properties;
  if (!body.contains(member) || body[member].is_null()) return properties;
  if (!body[member].is_object()) {
    return Status::InvalidArgument(std::string("'") + member + "' must be an object");
  }
  for (const auto& [name, value] : body[member].items()) {
    properties.emplace_back(name, value.is_string() ? value.get<std::string>() : Dump(value));
  }
  return properties;
}

std::string StateOf(const std::string& query_id, const std::vector<host::QueryStatus>& states) {
  for (const auto& state : states) {
    if (state.id == query_id) return host::QueryStateName(state.state);
  }
  return "RUNNING";
}

// Sets session properties for the statements of one request, and takes them back after.
class ScopedProperties {
 public:
  ScopedProperties(host::KafkaEngine& engine) : engine_(engine) {}
  ~ScopedProperties() {
    for (const std::string& name : names_) {
      Status ignored = engine_.Execute("UNSET " + Quote(name) + ";");
      (void)ignored;  // UNSET of a name that was SET cannot fail
    }
  }
  Status Set(const std::string& name, const std::string& value) {
    RETURN_NOT_OK(engine_.Execute("SET " + Quote(name) + " = " + Quote(value) + ";"));
    names_.push_back(name);
    return Status::OK();
  }

 private:
  host::KafkaEngine& engine_;
  std::vector<std::string> names_;
};

// Runs one non-query statement; returns its entity (null for SET/UNSET) or an error. With a
// command log, a statement that changes the catalog or the queries runs through it.
// What a command needs from the catalog as it was before it ran, for its status.
struct CatalogBefore {
  std::vector<std::string> queries;  // ids
  std::string dropped_topic;         // a DROP's source's topic

  static CatalogBefore Of(const sql::Statement& statement, const catalog::Catalog& catalog) {
    CatalogBefore before;
    for (const auto& query : catalog.ListQueries()) before.queries.push_back(query.id);
    if (statement.kind == sql::StatementKind::kDrop) {
      auto source = catalog.GetSource(statement.name);
      if (source.ok()) before.dropped_topic = source->topic;
    }
    return before;
  }
};

// ksqlDB's commandId and commandStatus of a command that ran. `query_suffix`: "_<offset>" of
// a command from the command topic, whose query is numbered by it; empty otherwise.
std::pair<std::string, json> CommandOutcome(const sql::Statement& statement,
                                            const catalog::Catalog& catalog,
                                            const CatalogBefore& before,
                                            const std::string& query_suffix) {
  json status = {{"status", "SUCCESS"}, {"message", ""}, {"queryId", nullptr}};
  std::string command = "stream/`" + statement.name + "`/create";
  switch (statement.kind) {
    case sql::StatementKind::kCreateSource:
      status["message"] =
          statement.source_kind == sql::SourceKind::kTable ? "Table created" : "Stream created";
      if (statement.source_kind == sql::SourceKind::kTable) {
        command = "table/`" + statement.name + "`/create";
      }
      break;
    case sql::StatementKind::kCreateAsSelect:
    case sql::StatementKind::kInsertInto:
      for (const auto& query : catalog.ListQueries()) {
        if (std::find(before.queries.begin(), before.queries.end(), query.id) !=
            before.queries.end())
          continue;
        if (!query.id.ends_with(query_suffix)) continue;
        status["message"] = "Created query with ID " + query.id;
        status["queryId"] = query.id;
      }
      if (statement.source_kind == sql::SourceKind::kTable) {
        command = "table/`" + statement.name + "`/create";
      }
      break;
    case sql::StatementKind::kDrop:
      status["message"] =
          "Source `" + statement.name + "` (topic: " + before.dropped_topic + ") was dropped.";
      command = "stream/`" + statement.name + "`/drop";
      break;
    // ksqlDB's command ids: "<action>/<query id, or ALL>/execute".
    case sql::StatementKind::kTerminate:
      status["message"] = "Query terminated.";
      command = "terminate/" + (statement.all_queries ? "ALL" : statement.query_id) + "/execute";
      break;
    case sql::StatementKind::kPause:
      status["message"] = "Query paused.";
      command = "pause/" + (statement.all_queries ? "ALL" : statement.query_id) + "/execute";
      break;
    case sql::StatementKind::kResume:
      status["message"] = "Query resumed.";
      command = "resume/" + (statement.all_queries ? "ALL" : statement.query_id) + "/execute";
      break;
    case sql::StatementKind::kCreateType:
      status["message"] = "Registered custom type with name '" + statement.name + "'";
      command = "type/" + statement.name + "/create";
      break;
    default:
      break;
  }
  return {std::move(command), std::move(status)};
}

Result<json> RunStatement(host::KafkaEngine& engine, const sql::Statement& statement,
                          const RestOptions& options, int64_t sequence, ScopedProperties& scoped,
                          CommandLog* command_log) {
  const std::string text = statement.text + ";";
  catalog::Catalog& catalog = engine.catalog();
  switch (statement.kind) {
    case sql::StatementKind::kSelect:
      return Status(StatusCode::kInvalidArgument,
                    "The following statement types should be issued to the websocket endpoint "
                    "'/query':\n\t* PRINT\n\t* SELECT");
    case sql::StatementKind::kInsertValues:
      // ksqlDB answers an insert with no entity.
      RETURN_NOT_OK(engine.Execute(text));
      return json();
    case sql::StatementKind::kSet:
      RETURN_NOT_OK(scoped.Set(statement.property_name, statement.property_value));
      return json();
    case sql::StatementKind::kUnset:
      RETURN_NOT_OK(engine.Execute(text));
      return json();
    case sql::StatementKind::kShow: {
      json entity = {{"statementText", text}, {"warnings", json::array()}};
      switch (statement.show_target) {
        case sql::ShowTarget::kStreams:
        case sql::ShowTarget::kTables: {
          const bool tables = statement.show_target == sql::ShowTarget::kTables;
          json list = json::array();
          for (const auto& source : catalog.ListSources()) {
            if (IsTransient(source.name)) continue;
            if ((source.type == catalog::SourceType::kTable) != tables) continue;
            list.push_back(SourceInfo(source));
          }
          entity["@type"] = tables ? "tables" : "streams";
          entity[tables ? "tables" : "streams"] = std::move(list);
          return entity;
        }
        case sql::ShowTarget::kQueries: {
          json list = json::array();
          auto states = engine.Queries();
          for (const auto& query : catalog.ListQueries()) {
            auto sink = catalog.GetSource(query.sink_name);
            json info = QueryInfo(query, sink.ok() ? sink->topic : "", StateOf(query.id, states));
            // A push query runs as a persistent query into a private topic: listed as PUSH.
            if (IsTransient(query.sink_name)) info["queryType"] = "PUSH";
            list.push_back(std::move(info));
          }
          entity["@type"] = "queries";
          entity["queries"] = std::move(list);
          return entity;
        }
        case sql::ShowTarget::kTopics: {
          std::map<std::string, int> topics;
          for (const auto& source : catalog.ListSources()) {
            if (!IsTransient(source.name)) topics[source.topic] = std::max(1, source.partitions);
          }
          json list = json::array();
          for (const auto& [name, partitions] : topics) {
            list.push_back({{"name", name}, {"replicaInfo", std::vector<int>(partitions, 1)}});
          }
          entity["@type"] = "kafka_topics";
          entity["topics"] = std::move(list);
          return entity;
        }
        case sql::ShowTarget::kConnectors: {
          json list = json::array();
          for (const auto& connector : engine.connectors().Statuses()) {
            list.push_back({{"name", connector.name},
                            {"type", "SINK"},
                            {"className", connector.connector_class},
                            {"state", sink::ConnectorStateName(connector.state)}});
          }
          entity["@type"] = "connector_list";
          entity["connectors"] = std::move(list);
          return entity;
        }
        case sql::ShowTarget::kProperties: {
          json list = json::array();
          for (const auto& [name, value] : options.properties) {
            list.push_back({{"name", name}, {"scope", "KSQL"}, {"value", value}});
          }
          entity["@type"] = "properties";
          entity["properties"] = std::move(list);
          entity["overwrittenProperties"] = json::array();
          entity["defaultProperties"] = json::array();
          return entity;
        }
        case sql::ShowTarget::kTypes: {
          json types = json::object();
          for (const auto& [name, type] : catalog.ListTypes()) types[name] = SchemaJson(type);
          entity["@type"] = "type_list";
          entity["types"] = std::move(types);
          return entity;
        }
        case sql::ShowTarget::kFunctions:
          return Status::NotSupported("SHOW FUNCTIONS is not built yet in the REST API",
                                      statement.location);
      }
      return Status::Internal("unknown SHOW target");
    }
    case sql::StatementKind::kDescribe: {
      if (statement.describe_function) {
        return Status::NotSupported("DESCRIBE FUNCTION is not built yet in the REST API",
                                    statement.location);
      }
      auto states = engine.Queries();
      auto describe = [&](const catalog::SourceDescription& source) {
        std::vector<json> readers, writers;
        for (const auto& query : catalog.ListQueries()) {
          if (IsTransient(query.sink_name)) continue;
          auto sink = catalog.GetSource(query.sink_name);
          json info = QueryInfo(query, sink.ok() ? sink->topic : "", StateOf(query.id, states));
          if (query.sink_name == source.name) writers.push_back(info);
          if (std::find(query.source_names.begin(), query.source_names.end(), source.name) !=
              query.source_names.end()) {
            readers.push_back(info);
          }
        }
        return SourceDescriptionJson(source, readers, writers, statement.extended);
      };
      if (statement.describe_sources) {
        const bool tables = statement.show_target == sql::ShowTarget::kTables;
        json list = json::array();
        for (const auto& source : catalog.ListSources()) {
          if (IsTransient(source.name)) continue;
          if ((source.type == catalog::SourceType::kTable) != tables) continue;
          list.push_back(describe(source));
        }
        return json{{"@type", "source_descriptions"},
                    {"statementText", text},
                    {"sourceDescriptions", std::move(list)},
                    {"warnings", json::array()}};
      }
      auto source = catalog.GetSource(statement.name);
      if (!source.ok() || IsTransient(statement.name)) {
        return Status::NotFound(
            "Could not find STREAM/TABLE '" + statement.name + "' in the Metastore",
            statement.name_location);
      }
      return json{{"@type", "sourceDescription"},
                  {"statementText", text},
                  {"sourceDescription", describe(*source)},
                  {"warnings", json::array()}};
    }
    case sql::StatementKind::kExplain: {
      analyzer::Analyzer analyzer(catalog);
      ASSIGN_OR_RAISE(auto analyzed, analyzer.Analyze(statement));
      json description = {{"id", ""},
                          {"statementText", text},
                          {"windowType", nullptr},
                          {"fields", json::array()},
                          {"sources", json::array()},
                          {"sinks", json::array()},
                          {"topology", ""},
                          {"executionPlan", session::DescribePlan(analyzed)},
                          {"overriddenProperties", json::object()},
                          {"ksqlHostQueryStatus", json::object()},
                          {"queryType", "PERSISTENT"},
                          {"queryErrors", json::array()},
                          {"tasksMetadata", json::array()},
                          {"state", nullptr}};
      if (!statement.query_id.empty()) {
        ASSIGN_OR_RAISE(auto query, catalog.GetQuery(statement.query_id));
        description["id"] = query.id;
        description["statementText"] = query.sql;
        description["sources"] = query.source_names;
        description["sinks"] = json::array({query.sink_name});
        auto states = engine.Queries();
        description["state"] = StateOf(query.id, states);
        for (const auto& state : states) {
          if (state.id == query.id) description["queryErrors"] = QueryErrorsJson(state.errors);
        }
      }
      return json{{"@type", "queryDescription"},
                  {"statementText", text},
                  {"queryDescription", std::move(description)},
                  {"warnings", json::array()}};
    }
    default:
      break;
  }
  // A command: it changes the catalog or the running queries.
  if (statement.kind == sql::StatementKind::kCreateAsSelect ||
      statement.kind == sql::StatementKind::kInsertInto) {
    int64_t persistent = 0;
    for (const auto& query : catalog.ListQueries())
      persistent += IsTransient(query.sink_name) ? 0 : 1;
    if (persistent >= options.max_persistent_queries) {
      return Status::InvalidArgument(
          "Not executing statement(s) as it would cause the number of active, persistent queries "
          "to exceed the configured limit. Use the TERMINATE command to terminate existing "
          "queries, or increase the 'max.persistent.queries' setting "
          "(ksql.query.persistent.active.limit). Current persistent query count: " +
          std::to_string(persistent) +
          ". Configured limit: " + std::to_string(options.max_persistent_queries) + ".");
    }
  }
  const CatalogBefore before = CatalogBefore::Of(statement, catalog);
  (void)engine.TakeWarnings();  // earlier work's (a push query ending): not this statement's
  // Its query is numbered by its command's offset; others' commands may run before it.
  std::string query_suffix;
  if (command_log != nullptr) {
    // ksqlDB checks a statement before it enters the topic, so a wrong one never does; and
    // checks it after running every command already there, so that one just sent to another
    // instance counts (its DistributingExecutor waits for the command consumer first).
    RETURN_NOT_OK(command_log->CatchUp(engine));
    RETURN_NOT_OK(engine.Validate(text));
    ASSIGN_OR_RAISE(CommandLog::Applied applied,
                    command_log->Append(engine, text, engine.session_properties()));
    RETURN_NOT_OK(applied.status);
    sequence = applied.offset;
    query_suffix = "_" + std::to_string(applied.offset);
  } else {
    RETURN_NOT_OK(engine.Execute(text));
  }
  auto [command, status] = CommandOutcome(statement, catalog, before, query_suffix);
  json warnings = json::array();
  for (std::string& warning : engine.TakeWarnings()) {
    warnings.push_back({{"message", std::move(warning)}});
  }
  return json{{"@type", "currentStatus"},
              {"statementText", text},
              {"commandId", command},
              {"commandStatus", std::move(status)},
              {"commandSequenceNumber", sequence},
              {"warnings", std::move(warnings)}};
}

void RunKsql(host::KafkaEngine& engine, const std::string& sql,
             const std::vector<std::pair<std::string, std::string>>& properties,
             const RestOptions& options, std::atomic<int64_t>& sequence, CommandLog* command_log,
             Responder& responder, const std::function<void(const json& entity)>& on_command) {
  json entities = json::array();
  ScopedProperties scoped(engine);
  for (const auto& [name, value] : properties) {
    Status set = scoped.Set(name, value);
    if (!set.ok()) {
      auto [code, body] = StatementFailure(set, sql, entities);
      return RespondJson(responder, code, body);
    }
  }
  auto statements = sql::ParseScript(sql);
  if (!statements.ok()) {
    auto [code, body] = StatementFailure(statements.status(), sql, entities);
    return RespondJson(responder, code, body);
  }
  for (const auto& statement : *statements) {
    auto entity =
        RunStatement(engine, *statement, options, sequence.fetch_add(1), scoped, command_log);
    if (!entity.ok()) {
      int error_code = statement->kind == sql::StatementKind::kSelect ? kErrorQueryEndpoint : 0;
      auto [code, body] = StatementFailure(entity.status(), statement->text + ";", entities);
      if (error_code != 0) body["error_code"] = error_code;
      return RespondJson(responder, code, body);
    }
    if (entity->is_object() && entity->contains("commandId")) on_command(*entity);
    if (!entity->is_null()) entities.push_back(std::move(*entity));
  }
  RespondJson(responder, 200, entities);
}

}  // namespace

/// One transient push query: the engine runs it as a persistent query into a private topic,
/// which a consumer here reads and streams to the client. Engine thread only, but for
/// `cancelled` and the responder.
struct PushQuery {
  enum class Format { kLegacy, kDelimited, kJsonArray };
  std::string id;
  Format format = Format::kDelimited;
  std::shared_ptr<Responder> responder;
  std::atomic<bool> cancelled{false};
  std::vector<std::pair<std::string, std::string>> properties;

  catalog::SourceDescription sink;                              // the private stream or table
  std::vector<std::pair<std::string, types::SqlType>> columns;  // in projection order
  std::optional<int64_t> limit;
  int64_t emitted = 0;
  /// A table's keys (message key bytes) whose last row was sent: only their deletion is a
  /// tombstone to send, as a Kafka Streams table filter forwards no delete of a key it never
  /// passed. /query's JSON only (see RowOf).
  std::unordered_set<std::string> live_keys;
  std::unique_ptr<kafka::BatchConsumer> consumer;
  kafka::MessageBatch batch;
  bool started = false;
  bool push = false;  // a push query (counts against max.push.queries); under push_mutex_
  std::unique_ptr<host::StreamPullQuery> scan;  // a pull query on a stream, while it reads
  std::shared_ptr<host::OutputTap> tap;  // a scalable push query: the sink's records it takes
};

namespace {

// `select` without a trailing "LIMIT n" (LIMIT is the last clause of a SELECT).
std::string WithoutLimit(const std::string& select) {
  size_t end = select.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return select;
  size_t digits = end + 1;
  while (digits > 0 && std::isdigit(static_cast<unsigned char>(select[digits - 1]))) --digits;
  if (digits == end + 1) return select;
  size_t keyword = select.find_last_not_of(" \t\r\n", digits - 1);
  if (keyword == std::string::npos || keyword + 1 == digits || keyword < 4) return select;
  std::string word = select.substr(keyword - 4, 5);
  for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (word != "LIMIT") return select;
  return select.substr(0, keyword - 4);
}

// A key column's value from the bytes of a KAFKA-format key.
json KafkaKeyToJson(std::string_view bytes, const types::SqlType& type) {
  auto big_endian = [&](size_t size) {
    uint64_t value = 0;
    for (size_t i = 0; i < size; ++i) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
    return value;
  };
  switch (type.id()) {
    case types::TypeId::kInt:
      if (bytes.size() == 4) return static_cast<int32_t>(big_endian(4));
      break;
    case types::TypeId::kBigint:
      if (bytes.size() == 8) return static_cast<int64_t>(big_endian(8));
      break;
    case types::TypeId::kDouble:
      if (bytes.size() == 8) {
        uint64_t raw = big_endian(8);
        double number;
        std::memcpy(&number, &raw, sizeof number);
        return number;
      }
      break;
    default:
      break;
  }
  return std::string(bytes);
}

// The row of one message of the push query's topic, in projection order; null for a record
// that is no row. A table's tombstone is a row of its key columns (and window bounds), the
// other columns null, with `*tombstone` set: as in ksqlDB, only /query's JSON has a way to
// mark it (TombstoneFactory), so other formats drop it.
json RowOf(const PushQuery& query, const kafka::MessageView& message, bool* tombstone) {
  *tombstone = false;
  std::map<std::string, json> fields;
  if (!message.has_value()) {
    if (query.format != PushQuery::Format::kLegacy ||
        query.sink.type != catalog::SourceType::kTable || !message.has_key() ||
        !query.live_keys.contains(std::string(message.key()))) {
      return json();
    }
    *tombstone = true;
  } else {
    json value = json::parse(message.value(), nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return json();
    if (value.is_object()) {
      for (auto& [name, field] : value.items()) fields[name] = field;
    }
  }
  std::string_view key = message.key();
  std::optional<runtime::WindowBounds> window;
  if (message.has_key() && query.sink.window_type != catalog::WindowType::kNone) {
    window = runtime::SplitWindowedKey(key);
  }
  std::vector<const catalog::Column*> key_columns;
  for (const auto& column : query.sink.columns) {
    if (column.role == catalog::ColumnRole::kKey) key_columns.push_back(&column);
  }
  if (message.has_key() && !key_columns.empty()) {
    if (query.sink.key_format == "KAFKA" || query.sink.key_format == "DELIMITED") {
      fields[key_columns[0]->name] = KafkaKeyToJson(key, key_columns[0]->type);
    } else {
      json parsed = json::parse(key, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_object() && key_columns.size() > 1) {
        for (auto& [name, field] : parsed.items()) fields[name] = field;
      } else if (!parsed.is_discarded()) {
        fields[key_columns[0]->name] = parsed;
      }
    }
  }
  if (window) {
    fields.emplace("WINDOWSTART", window->start);
    fields.emplace("WINDOWEND", window->end);
  }
  json row = json::array();
  for (const auto& [name, type] : query.columns) {
    auto found = fields.find(name);
    row.push_back(found == fields.end() ? json() : found->second);
  }
  return row;
}

void WriteRow(PushQuery& query, const json& row, bool tombstone) {
  switch (query.format) {
    case PushQuery::Format::kLegacy: {
      json item = {{"columns", row}};
      if (tombstone) item["tombstone"] = true;
      query.responder->Write(",\n" + Dump(json{{"row", item}}));
      break;
    }
    case PushQuery::Format::kJsonArray:
      query.responder->Write(",\n" + Dump(row));
      break;
    case PushQuery::Format::kDelimited:
      query.responder->Write(Dump(row) + "\n");
      break;
  }
}

void EndStream(PushQuery& query, const char* final_message) {
  if (query.format == PushQuery::Format::kLegacy) {
    query.responder->Write(",\n" + Dump(json{{"finalMessage", final_message}}) + "]\n");
  } else if (query.format == PushQuery::Format::kJsonArray) {
    query.responder->Write("]\n");
  }
  query.responder->Finish();
}

// An error after the header: it goes in the stream, as ksqlDB's does.
void WriteStreamError(PushQuery& query, int error_code, const std::string& message) {
  json error = GenericError(error_code, message);
  query.responder->Write(query.format == PushQuery::Format::kLegacy
                             ? ",\n" + Dump(json{{"errorMessage", error}})
                             : (query.format == PushQuery::Format::kJsonArray ? ",\n" : "") +
                                   Dump(error) + "\n");
}

// The header of a push query's stream, in its format.
void WritePushHeader(PushQuery& query) {
  const std::string& id = query.id;
  switch (query.format) {
    case PushQuery::Format::kLegacy:
      query.responder->StartStream(200, kJsonType);
      query.responder->Write(
          "[" + Dump(json{{"header", {{"queryId", id}, {"schema", SchemaString(query.columns)}}}}));
      break;
    case PushQuery::Format::kJsonArray:
    case PushQuery::Format::kDelimited: {
      json names = json::array(), types = json::array();
      for (const auto& [column, type] : query.columns) {
        names.push_back(column);
        types.push_back(type.ToString());
      }
      json header = {{"queryId", id}, {"columnNames", names}, {"columnTypes", types}};
      if (query.format == PushQuery::Format::kJsonArray) {
        query.responder->StartStream(200, kJsonType);
        query.responder->Write("[" + Dump(header));
      } else {
        query.responder->StartStream(200, "application/vnd.ksqlapi.delimited.v1");
        query.responder->Write(Dump(header) + "\n");
      }
      break;
    }
  }
}

// One column of a pull query's answer.
struct PullColumn {
  std::string name;
  types::SqlType type;
  bool key = false;
  std::unique_ptr<formats::RowEncoder> encoder;  // the column alone, as bare JSON
};

// Which of a pull query's columns ksqlDB marks KEY: those that are the table's key columns,
// or a windowed table's WINDOWSTART and WINDOWEND, as they are.
std::vector<bool> PullKeyColumns(const analyzer::LogicalOperator& plan) {
  std::vector<bool> keys(plan.output.columns.size(), false);
  if (plan.kind != analyzer::LogicalOperatorKind::kProject || plan.children.empty()) return keys;
  const analyzer::LogicalOperator& input = *plan.children.front();
  const auto& inputs = input.output.columns;
  const bool windowed = input.output.window_type != catalog::WindowType::kNone;
  for (size_t i = 0; i < keys.size() && i < plan.expressions.size(); ++i) {
    const analyzer::BoundExpression& expression = *plan.expressions[i];
    if (expression.kind != analyzer::BoundKind::kColumn || expression.column_index < 0) continue;
    const size_t index = static_cast<size_t>(expression.column_index);
    if (index < inputs.size()) {
      keys[i] = inputs[index].role == catalog::ColumnRole::kKey;
    } else {
      // The pseudo columns after the source's: ROWTIME, ROWPARTITION, ROWOFFSET, WINDOWSTART,
      // WINDOWEND.
      keys[i] = windowed && index - inputs.size() >= 3;
    }
  }
  return keys;
}

// The header of a pull query's answer, as ksqlDB writes it (key columns marked KEY).
std::string PullHeader(const PushQuery& query, const std::vector<PullColumn>& columns) {
  if (query.format == PushQuery::Format::kLegacy) {
    std::string schema;
    for (const PullColumn& column : columns) {
      if (!schema.empty()) schema += ", ";
      schema += "`" + column.name + "` " + column.type.ToString() + (column.key ? " KEY" : "");
    }
    return "[" + Dump(json{{"header", {{"queryId", query.id}, {"schema", schema}}}});
  }
  json names = json::array(), types = json::array();
  for (const PullColumn& column : columns) {
    names.push_back(column.name);
    types.push_back(column.type.ToString());
  }
  json header = {{"queryId", query.id}, {"columnNames", names}, {"columnTypes", types}};
  if (query.format == PushQuery::Format::kJsonArray) return "[" + Dump(header);
  return Dump(header) + "\n";
}

// One row of a pull query's answer: each column as bare JSON, "[1,\"a\"]".
std::string PullRow(const std::vector<PullColumn>& columns, const types::Row& row,
                    std::string& encoded) {
  std::string line = "[";
  for (size_t i = 0; i < columns.size() && i < row.size(); ++i) {
    if (i > 0) line += ",";
    encoded.clear();
    Status status = columns[i].encoder->Encode(row, i, encoded);
    line += status.ok() && !encoded.empty() ? encoded : "null";
  }
  return line + "]";
}

// A pull query's row as its format writes it after the header.
std::string FramedRow(PushQuery::Format format, const std::string& line) {
  switch (format) {
    case PushQuery::Format::kLegacy:
      return ",\n{\"row\":{\"columns\":" + line + "}}";
    case PushQuery::Format::kJsonArray:
      return ",\n" + line;
    case PushQuery::Format::kDelimited:
      break;
  }
  return line + "\n";
}

// The columns of a pull query's answer, each with its encoder; `keys` marks those ksqlDB
// calls KEY in the header.
Result<std::shared_ptr<std::vector<PullColumn>>> PullColumns(const analyzer::LogicalOperator& plan,
                                                             const std::vector<bool>& keys) {
  auto columns = std::make_shared<std::vector<PullColumn>>();
  for (size_t i = 0; i < plan.output.columns.size(); ++i) {
    const auto& column = plan.output.columns[i];
    formats::FormatOptions options;
    options.wrap_single_value = false;
    ASSIGN_OR_RAISE(auto encoder, formats::MakeEncoder(options, {{column.name, column.type}}));
    columns->push_back({column.name, column.type, i < keys.size() && keys[i], std::move(encoder)});
  }
  return columns;
}

// The ROWPARTITION and ROWOFFSET columns `root` names, as "`ROWPARTITION`, `ROWOFFSET`".
std::string PositionColumns(const sql::Expression* root) {
  std::string names;
  std::vector<const sql::Expression*> pending = {root};
  while (!pending.empty()) {
    const sql::Expression* node = pending.back();
    pending.pop_back();
    if (node == nullptr) continue;
    if (node->kind == sql::ExpressionKind::kColumnRef &&
        (strcasecmp(node->name.c_str(), "ROWPARTITION") == 0 ||
         strcasecmp(node->name.c_str(), "ROWOFFSET") == 0)) {
      std::string name = node->name;
      std::transform(name.begin(), name.end(), name.begin(), ::toupper);
      if (names.find("`" + name + "`") == std::string::npos) {
        names += (names.empty() ? "`" : ", `") + name + "`";
      }
    }
    for (auto it = node->children.rbegin(); it != node->children.rend(); ++it) {
      pending.push_back(it->get());
    }
  }
  return names;
}

// The checks ksqlDB makes of every pull query before it binds it (PullQueryValidator), with
// its help at the end; empty when the query passes. `properties` are the request's: LIMIT
// is refused when ksql.query.pull.limit.clause.enabled is false (it is true by default).
std::string PullQueryRefusal(const sql::Query& query,
                             const std::vector<std::pair<std::string, std::string>>& properties) {
  bool limit_enabled = true;
  for (const auto& [name, value] : properties) {
    if (name == "ksql.query.pull.limit.clause.enabled") {
      std::string lower = value;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      limit_enabled = lower != "false";
    }
  }
  std::string refusal;
  if (!query.joins.empty()) {
    refusal = "Pull queries don't support JOIN clauses.";
  } else if (query.window) {
    refusal = "Pull queries don't support WINDOW clauses.";
  } else if (!query.group_by.empty()) {
    refusal = "Pull queries don't support GROUP BY clauses.";
  } else if (!query.partition_by.empty()) {
    refusal = "Pull queries don't support PARTITION BY clauses.";
  } else if (query.having) {
    refusal = "Pull queries don't support HAVING clauses.";
  } else if (query.limit && !limit_enabled) {
    refusal =
        "LIMIT clause in pull queries is currently disabled. You can enable them by setting "
        "ksql.query.pull.limit.clause.enabled=true.";
  } else if (query.limit && *query.limit < 0) {
    refusal = "Pull queries don't support negative integers in the LIMIT clause.";
  }
  // ROWPARTITION and ROWOFFSET name a record's place in a topic, which a table's state has not.
  if (refusal.empty()) {
    std::string names;
    for (const sql::SelectItem& item : query.select) {
      std::string found = PositionColumns(item.expression.get());
      if (!found.empty()) names += (names.empty() ? "" : ", ") + found;
    }
    if (!names.empty()) {
      refusal = "Pull queries don't support the following columns in SELECT clauses: " + names;
    }
  }
  if (refusal.empty()) {
    std::string names = PositionColumns(query.where.get());
    if (!names.empty()) {
      refusal = "Pull queries don't support the following columns in WHERE clauses: " + names;
    }
  }
  if (refusal.empty()) return refusal;
  return refusal +
         " See https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to issue a "
         "push query.";
}

// The request's ksql.query.pull.table.scan.enabled and ksql.query.pull.range.scan.enabled
// (both true unless set to false, as ksqlDB's defaults).
host::PullQueryPlanOptions PullPlanOptions(
    const std::vector<std::pair<std::string, std::string>>& properties) {
  host::PullQueryPlanOptions options;
  for (const auto& [name, value] : properties) {
    const bool off = strcasecmp(value.c_str(), "false") == 0;
    if (name == "ksql.query.pull.table.scan.enabled") options.table_scans_enabled = !off;
    if (name == "ksql.query.pull.range.scan.enabled") options.range_scans_enabled = !off;
  }
  return options;
}

// Whether `plan` reads a stream: the Scan at its bottom is one.
bool ReadsStream(const analyzer::LogicalOperator& plan) {
  const analyzer::LogicalOperator* node = &plan;
  while (node->kind != analyzer::LogicalOperatorKind::kScan) {
    if (node->children.size() != 1) return false;
    node = node->children.front().get();
  }
  return node->source.type == catalog::SourceType::kStream;
}

// Whether a pull query on a stream can run `plan` record by record: a projection over
// filters and table functions of one stream, and no aggregation.
bool ScansRecordByRecord(const analyzer::LogicalOperator& plan) {
  for (const analyzer::LogicalOperator* node = &plan;; node = node->children.front().get()) {
    switch (node->kind) {
      case analyzer::LogicalOperatorKind::kScan:
        return true;
      case analyzer::LogicalOperatorKind::kProject:
      case analyzer::LogicalOperatorKind::kFilter:
      case analyzer::LogicalOperatorKind::kFlatMap:
        break;
      default:
        return false;
    }
    if (node->children.size() != 1) return false;
  }
}

// The value of a query's property `name`: the request's, else the session's; case-insensitive.
std::optional<std::string> PropertyOf(
    const std::vector<std::pair<std::string, std::string>>& request,
    const analyzer::SessionProperties& session, const std::string& name) {
  for (const auto& [key, value] : request) {
    if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
  }
  for (const auto& [key, value] : session) {
    if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
  }
  return std::nullopt;
}

// Whether ksqlDB runs `statement` as a scalable push query (push v2: ScalablePushUtil): a
// push query (EMIT CHANGES) with no JOIN, WINDOW, GROUP BY, PARTITION BY or HAVING, reading
// from "latest" (auto.offset.reset not earliest), on a source that exactly one persistent
// query writes, naming neither ROWPARTITION nor ROWOFFSET. Here the writer must also run on
// this engine (its records are tapped in process), and the SELECT must run record by record.
bool IsScalablePushQuery(host::KafkaEngine& engine,
                         const std::vector<std::pair<std::string, std::string>>& properties,
                         const sql::Statement& statement,
                         const analyzer::AnalyzedStatement& analyzed) {
  if (!statement.query || !analyzed.plan) return false;
  const sql::Query& query = *statement.query;
  if (query.emit != sql::EmitMode::kChanges || !query.joins.empty() || query.window ||
      !query.group_by.empty() || !query.partition_by.empty() || query.having) {
    return false;
  }
  const analyzer::SessionProperties& session = engine.session_properties();
  auto enabled = PropertyOf(properties, session, "ksql.query.push.v2.enabled");
  if (enabled && strcasecmp(enabled->c_str(), "false") == 0) return false;
  for (const char* name : {"auto.offset.reset", "ksql.streams.auto.offset.reset"}) {
    auto reset = PropertyOf(properties, session, name);
    if (reset && strcasecmp(reset->c_str(), "earliest") == 0) return false;
  }
  for (const sql::SelectItem& item : query.select) {
    if (!PositionColumns(item.expression.get()).empty()) return false;
  }
  if (!PositionColumns(query.where.get()).empty()) return false;
  if (!ScansRecordByRecord(*analyzed.plan)) return false;
  const analyzer::LogicalOperator* scan = analyzed.plan.get();
  while (scan->kind != analyzer::LogicalOperatorKind::kScan) scan = scan->children.front().get();
  const std::string& source = scan->source.name;
  if (IsTransient(source)) return false;
  std::vector<std::string> writers;
  for (const auto& written : engine.catalog().ListQueries()) {
    if (written.sink_name == source) writers.push_back(written.id);
  }
  if (writers.size() != 1) return false;
  for (const auto& running : engine.Queries()) {
    if (running.id == writers.front()) return true;
  }
  return false;
}

// Stops the engine's query and drops its private sink.
void Release(host::KafkaEngine& engine, PushQuery& query) {
  if (query.tap) engine.RemoveTap(*query.tap);  // no record is offered to it after this
  query.tap.reset();
  query.scan.reset();  // closes its consumer: the scan stops here
  query.batch.Clear();
  if (query.consumer) {
    Status closed = query.consumer->Close();
    (void)closed;  // a push query's consumer commits nothing: leaving its group may fail alone
    query.consumer.reset();
  }
  if (query.sink.name.empty()) return;
  std::string sql;
  if (!query.sink.writer_query_id.empty()) sql += "TERMINATE " + query.sink.writer_query_id + ";";
  sql += std::string("DROP ") +
         (query.sink.type == catalog::SourceType::kTable ? "TABLE " : "STREAM ") + query.sink.name +
         ";";
  Status dropped = engine.Execute(sql);
  if (!dropped.ok()) std::cerr << "push query " << query.id << ": " << dropped.ToString() << "\n";
  query.sink.name.clear();
}

}  // namespace

Status DropLeftoverPushQueries(catalog::Catalog& catalog) {
  for (const catalog::SourceDescription& source : catalog.ListSources()) {
    if (!IsTransient(source.name)) continue;
    if (!source.writer_query_id.empty() && catalog.GetQuery(source.writer_query_id).ok()) {
      RETURN_NOT_OK(catalog.RemoveQuery(source.writer_query_id));
    }
    RETURN_NOT_OK(catalog.DropSource(source.name));
  }
  return Status::OK();
}

RestApi::RestApi(EngineWorker& worker, RestOptions options)
    : worker_(worker), options_(std::move(options)) {
  DescribeRestMetrics(rest_metrics_);
}

RestApi::~RestApi() = default;

void RestApi::set_advertised_address(std::string address) {
  std::lock_guard<std::mutex> lock(push_mutex_);
  options_.advertised_address = std::move(address);
}

void RestApi::Handle(HttpRequest request, std::shared_ptr<Responder> responder) {
  struct Route {
    const char* path;
    const char* method;
  };
  static const Route kRoutes[] = {
      {"/ksql", "POST"},           {"/query", "POST"},    {"/query-stream", "POST"},
      {"/close-query", "POST"},    {"/info", "GET"},      {"/healthcheck", "GET"},
      {"/chc/live", "GET"},        {"/chc/ready", "GET"}, {"/clusterStatus", "GET"},
      {"/inserts-stream", "POST"}, {"/metrics", "GET"}};
  static const Route kStatusRoute = {"/status", "GET"};
  const Route* route = nullptr;
  for (const Route& candidate : kRoutes) {
    if (request.path == candidate.path) route = &candidate;
  }
  // The web console: its page at / and its files under /console/ (server/console).
  const console::Asset* asset = console::FindAsset(request.path);
  // GET /status/<commandId>: the id has slashes of its own ("stream/`S`/create").
  if (request.path.starts_with("/status/")) route = &kStatusRoute;
  // Unknown paths share one label, so that a scan cannot grow the metrics without bound.
  std::string label(route ? std::string_view(route->path) : asset ? asset->path : "unmatched");
  responder->set_on_status([this, label = std::move(label)](int status) {
    rest_metrics_.Add("sidestream_rest_requests_total",
                      {{"route", label}, {"status", std::to_string(status)}});
  });
  // Every route but liveness needs a credential when authentication is on, unknown ones too
  // (so that a scan learns nothing without one).
  if (request.path != "/chc/live" && !Authorized(request, *responder)) return;
  if (asset != nullptr && request.method == "GET") {
    return responder->Respond(200, std::string(asset->content_type), std::string(asset->body));
  }
  if (asset != nullptr) {
    return RespondJson(*responder, 405,
                       GenericError(kErrorMethodNotAllowed, request.method + " is not allowed on " +
                                                                request.path + "; use GET"));
  }
  if (route == nullptr) {
    return RespondJson(*responder, 404,
                       GenericError(kErrorNotFound, "No route for " + request.path));
  }
  if (request.method != route->method) {
    return RespondJson(
        *responder, 405,
        GenericError(kErrorMethodNotAllowed, request.method + " is not allowed on " + request.path +
                                                 "; use " + route->method));
  }
  const std::string& path = request.path;
  if (route == &kStatusRoute) {
    // Clients escape the id's backticks (%60).
    auto command_id = PercentDecode(path.substr(strlen("/status/")), false);
    if (!command_id.ok()) {
      return RespondJson(*responder, 400,
                         GenericError(kErrorBadRequest, command_id.status().message()));
    }
    return HandleStatus(*command_id, *responder);
  }
  if (path == "/ksql") return HandleKsql(request, std::move(responder));
  if (path == "/query") return HandleQuery(request, std::move(responder), /*legacy=*/true);
  if (path == "/query-stream") return HandleQuery(request, std::move(responder), false);
  if (path == "/close-query") return HandleCloseQuery(request, std::move(responder));
  if (path == "/metrics") return HandleMetrics(std::move(responder));
  if (path == "/inserts-stream") return HandleInsertsStream(request, std::move(responder));
  if (path == "/info") {
    return RespondJson(*responder, 200,
                       {{"KsqlServerInfo",
                         {{"version", "0.29.0"},
                          {"kafkaClusterId", worker_.embedded() ? "embedded" : "kafka"},
                          {"ksqlServiceId", options_.service_id},
                          {"serverStatus", "RUNNING"}}}});
  }
  if (path == "/healthcheck") {
    json healthy = {{"isHealthy", true}};
    return RespondJson(
        *responder, 200,
        {{"isHealthy", true},
         {"details", {{"metastore", healthy}, {"kafka", healthy}, {"commandRunner", healthy}}},
         {"serverState", "READY"}});
  }
  if (path == "/chc/live") return RespondJson(*responder, 200, {{"isHealthy", true}});
  if (path == "/chc/ready") return HandleReady(std::move(responder));
  if (path == "/clusterStatus") {
    std::string address;
    {
      std::lock_guard<std::mutex> lock(push_mutex_);
      address = options_.advertised_address;
    }
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    return RespondJson(
        *responder, 200,
        {{"clusterStatus",
          {{address,
            {{"hostAlive", true},
             {"lastStatusUpdateMs", now},
             {"activeStandbyPerQuery", json::object()},
             {"hostStoreLags", {{"stateStoreLags", json::object()}, {"updateTimeMs", now}}}}}}}});
  }
}

namespace {

// Compares in time that depends on the lengths only, so a wrong credential's answer time
// tells nothing about how much of it was right.
bool SameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char differ = 0;
  for (size_t i = 0; i < a.size(); ++i) differ |= static_cast<unsigned char>(a[i] ^ b[i]);
  return differ == 0;
}

}  // namespace

bool RestApi::Authorized(const HttpRequest& request, Responder& responder) const {
  if (options_.basic_users.empty() && options_.bearer_tokens.empty()) return true;
  const std::string header = request.Header("authorization");
  if (header.empty()) {
    RespondJson(responder, 401,
                GenericError(kErrorUnauthorized,
                             "Unauthorized: this server needs HTTP basic or bearer credentials"));
    return false;
  }
  bool accepted = false;
  auto scheme_is = [&](const char* scheme) {
    return header.size() > strlen(scheme) &&
           strncasecmp(header.c_str(), scheme, strlen(scheme)) == 0;
  };
  if (scheme_is("Basic ")) {
    std::string decoded;
    std::string_view encoded = std::string_view(header).substr(strlen("Basic "));
    if (formats::DecodeBase64(encoded, decoded)) {
      for (const std::string& user : options_.basic_users) accepted |= SameSecret(user, decoded);
    }
  } else if (scheme_is("Bearer ")) {
    std::string_view token = std::string_view(header).substr(strlen("Bearer "));
    for (const std::string& expected : options_.bearer_tokens) {
      accepted |= SameSecret(expected, token);
    }
  }
  if (!accepted) {
    RespondJson(responder, 403,
                GenericError(kErrorForbidden, "Forbidden: the credentials were not accepted"));
  }
  return accepted;
}

void RestApi::set_command_log(CommandLog* log) {
  command_log_ = log;
  if (log == nullptr) return;
  // Each instance keeps the status of every command it ran, as ksqlDB's command runner does,
  // so /status answers for commands sent to other instances too.
  log->set_observer([this](const std::string& text, int64_t offset,
                           const catalog::Catalog& catalog) -> CommandLog::Outcome {
    auto parsed = sql::ParseScript(text);
    if (!parsed.ok() || parsed->size() != 1) return nullptr;
    std::shared_ptr<const sql::Statement> statement = std::move(parsed->front());
    return [this, statement, before = CatalogBefore::Of(*statement, catalog),
            suffix = "_" + std::to_string(offset)](const Status& status,
                                                   const catalog::Catalog& catalog) {
      auto [command, outcome] = CommandOutcome(*statement, catalog, before, suffix);
      if (!status.ok()) {
        outcome = {{"status", "ERROR"}, {"message", status.message()}, {"queryId", nullptr}};
      }
      std::lock_guard<std::mutex> lock(commands_mutex_);
      command_statuses_[command] = std::move(outcome);
    };
  });
}

void RestApi::HandleStatus(const std::string& command_id, Responder& responder) {
  std::lock_guard<std::mutex> lock(commands_mutex_);
  auto found = command_statuses_.find(command_id);
  if (found == command_statuses_.end()) {
    return RespondJson(responder, 404,
                       GenericError(kErrorNotFound, "Command not found: " + command_id));
  }
  // Statements run before /ksql answers, so a known command has its final status.
  RespondJson(responder, 200, found->second);
}

void RestApi::HandleMetrics(std::shared_ptr<Responder> responder) {
  worker_.Post([this, responder](host::KafkaEngine& engine) {
    metrics::Registry registry;
    DescribeEngineMetrics(registry);
    CollectEngineMetrics(engine.Metrics(), engine.Queries(), Clock::System().WallMs(), registry);
    if (command_log_ != nullptr) {
      registry.Describe("sidestream_commands_applied_total", metrics::MetricType::kCounter,
                        "Commands of the command topic this instance ran since it started.");
      registry.Describe("sidestream_commands_failed_total", metrics::MetricType::kCounter,
                        "Commands of the command topic that failed here (logged and skipped).");
      registry.Set("sidestream_commands_applied_total", {},
                   static_cast<double>(command_log_->applied()));
      registry.Set("sidestream_commands_failed_total", {},
                   static_cast<double>(command_log_->failed()));
    }
    {
      std::lock_guard<std::mutex> lock(push_mutex_);
      rest_metrics_.Set("sidestream_push_queries_open", {},
                        static_cast<double>(push_queries_.size()));
    }
    rest_metrics_.Set("sidestream_push_query_taps_open", {}, static_cast<double>(engine.taps()));
    responder->Respond(200, metrics::kContentType, rest_metrics_.Render() + registry.Render());
  });
}

void RestApi::HandleKsql(const HttpRequest& request, std::shared_ptr<Responder> responder) {
  auto body = ParseBody(request, options_.max_body_bytes, *responder);
  if (!body) return;
  if (!body->contains("ksql") || !(*body)["ksql"].is_string()) {
    return RespondJson(*responder, 400,
                       GenericError(kErrorBadRequest, "The request needs a 'ksql' string"));
  }
  auto properties = Properties(*body, "streamsProperties");
  if (!properties.ok()) {
    return RespondJson(*responder, 400,
                       GenericError(kErrorBadRequest, properties.status().message()));
  }
  std::string sql = (*body)["ksql"].get<std::string>();
  worker_.Post([this, sql = std::move(sql), properties = std::move(*properties),
                responder](host::KafkaEngine& engine) {
    RunKsql(engine, sql, properties, options_, command_sequence_, command_log_, *responder,
            [this](const json& entity) {
              std::lock_guard<std::mutex> lock(commands_mutex_);
              command_statuses_[entity["commandId"].get<std::string>()] = entity["commandStatus"];
            });
  });
}

bool RestApi::TakePushSlot(PushQuery& query) {
  std::lock_guard<std::mutex> lock(push_mutex_);
  int64_t open = 0;
  for (const auto& [id, other] : push_queries_) open += other->push ? 1 : 0;
  if (open >= options_.max_push_queries) {
    RespondJson(
        *query.responder, 429,
        GenericError(kErrorTooManyRequests, "Too many push queries running (max.push.queries is " +
                                                std::to_string(options_.max_push_queries) + ")"));
    push_queries_.erase(query.id);
    return false;
  }
  query.push = true;
  return true;
}

void RestApi::HandleQuery(const HttpRequest& request, std::shared_ptr<Responder> responder,
                          bool legacy) {
  auto body = ParseBody(request, options_.max_body_bytes, *responder);
  if (!body) return;
  const char* member = legacy ? "ksql" : "sql";
  if (!body->contains(member) || !(*body)[member].is_string()) {
    return RespondJson(
        *responder, 400,
        GenericError(kErrorBadRequest, std::string("The request needs a '") + member + "' string"));
  }
  auto properties = Properties(*body, legacy ? "streamsProperties" : "properties");
  if (!properties.ok()) {
    return RespondJson(*responder, 400,
                       GenericError(kErrorBadRequest, properties.status().message()));
  }
  auto query = std::make_shared<PushQuery>();
  query->responder = responder;
  query->properties = std::move(*properties);
  if (legacy) {
    query->format = PushQuery::Format::kLegacy;
  } else {
    std::string accept = request.Header("accept");
    if (accept.find("protobuf") != std::string::npos) {
      return RespondJson(*responder, 406,
                         GenericError(kErrorNotAcceptable, "Protobuf results are not built yet"));
    }
    if (accept.find("application/json") != std::string::npos ||
        accept.find("application/vnd.ksql.v1+json") != std::string::npos) {
      query->format = PushQuery::Format::kJsonArray;
    }
  }
  {
    std::lock_guard<std::mutex> lock(push_mutex_);
    query->id =
        "transient_" + std::to_string(transient_counter_.fetch_add(1)) + "_" +
        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000007);
    push_queries_[query->id] = query;
  }
  // Closing the connection (or the stream) ends the query.
  std::weak_ptr<PushQuery> weak = query;
  responder->set_on_close([weak] {
    if (auto alive = weak.lock()) alive->cancelled = true;
  });
  std::string sql = (*body)[member].get<std::string>();
  worker_.Post([this, query, sql = std::move(sql)](host::KafkaEngine& engine) {
    StartPushQuery(engine, query, sql);
  });
}

void RestApi::Forget(const std::string& query_id) {
  std::lock_guard<std::mutex> lock(push_mutex_);
  push_queries_.erase(query_id);
}

void RestApi::StartPushQuery(host::KafkaEngine& engine, std::shared_ptr<PushQuery> query,
                             const std::string& sql) {
  auto fail = [&](const Status& status, const std::string& text) {
    auto [code, body] = StatementFailure(status, text, json::array());
    RespondJson(*query->responder, code, body);
    Release(engine, *query);
    Forget(query->id);
  };
  auto statements = sql::ParseScript(sql);
  if (!statements.ok()) return fail(statements.status(), sql);
  if (statements->size() != 1 || statements->front()->kind != sql::StatementKind::kSelect) {
    return fail(Status::InvalidArgument("Expected exactly one SELECT statement"), sql);
  }
  const sql::Statement& statement = *statements->front();
  const std::string text = statement.text + ";";
  analyzer::Analyzer analyzer(engine.catalog());
  if (statement.query && statement.query->emit == sql::EmitMode::kNone) {
    // ksqlDB's checks of a pull query, before it binds the statement.
    std::string refusal = PullQueryRefusal(*statement.query, query->properties);
    if (!refusal.empty()) return fail(Status::InvalidArgument(refusal), text);
  }
  auto analyzed = analyzer.Analyze(statement);
  if (!analyzed.ok()) return fail(analyzed.status(), text);
  if (analyzed->pull_query) {
    auto shared = std::make_shared<const analyzer::AnalyzedStatement>(std::move(*analyzed));
    if (shared->plan && ReadsStream(*shared->plan)) {
      return RunStreamPullQuery(engine, query, statement, std::move(shared));
    }
    return RunPullQuery(engine, query, statement, std::move(shared));
  }
  // Pull queries end at once and do not count; push queries do, once known to be one.
  if (!TakePushSlot(*query)) return;
  for (const auto& column : analyzed->plan->output.columns) {
    query->columns.emplace_back(column.name, column.type);
  }
  query->limit = statement.query ? statement.query->limit : std::nullopt;
  if (options_.push_v2_enabled &&
      IsScalablePushQuery(engine, query->properties, statement, *analyzed)) {
    return RunTappedPushQuery(
        engine, query, text,
        std::make_shared<const analyzer::AnalyzedStatement>(std::move(*analyzed)));
  }

  // The query runs as a persistent query into a private topic. A push query may leave out
  // the key, and LIMIT belongs to the stream here, not to the persistent query.
  const std::string select = WithoutLimit(statement.text);
  const std::string name = kTransientPrefix + std::to_string(transient_counter_.fetch_add(1));
  std::string topic = "_sidestream_" + query->id;
  ScopedProperties scoped(engine);
  for (const auto& [property, value] : query->properties) {
    Status set = scoped.Set(property, value);
    if (!set.ok()) return fail(set, text);
  }
  Status set = scoped.Set(analyzer::kNewQueryPlannerProperty, "true");
  if (!set.ok()) return fail(set, text);
  Status created;
  for (const char* kind : {"STREAM ", "TABLE "}) {
    created = engine.Execute("CREATE " + std::string(kind) + name +
                             " WITH (KAFKA_TOPIC=" + Quote(topic) + ") AS " + select + ";");
    if (created.ok()) break;
  }
  if (!created.ok()) {
    // The error of the statement as the user wrote it, where it is one.
    return fail(created, text);
  }
  auto sink = engine.catalog().GetSource(name);
  if (!sink.ok()) return fail(sink.status(), text);
  query->sink = *sink;
  kafka::ConsumerOptions consumer;
  consumer.client = kafka::ClientConfig{worker_.bootstrap_servers(), {}};
  consumer.group_id = "sidestream_push_" + query->id;
  consumer.topics = {topic};
  auto created_consumer = kafka::BatchConsumer::Create(std::move(consumer));
  if (!created_consumer.ok()) return fail(created_consumer.status(), text);
  query->consumer = std::move(*created_consumer);

  const std::string& id = query->id;
  WritePushHeader(*query);
  if (query->limit && *query->limit <= 0) {
    EndStream(*query, "Limit Reached");
    Release(engine, *query);
    return Forget(id);
  }
  worker_.AddTicker([this, query](host::KafkaEngine& engine, bool stopping) {
    if (stopping || query->cancelled || query->responder->closed()) {
      if (stopping) EndStream(*query, "Server stopping");
      Release(engine, *query);
      Forget(query->id);
      return false;
    }
    if (ClientFellBehind(*query)) {
      Release(engine, *query);
      Forget(query->id);
      return false;
    }
    Status polled = query->consumer->Poll(500, std::chrono::milliseconds(0), &query->batch);
    if (!polled.ok()) {
      std::cerr << "push query " << query->id << ": " << polled.ToString() << "\n";
      return true;  // the consumer retries; the client can close
    }
    for (size_t i = 0; i < query->batch.size(); ++i) {
      bool tombstone = false;
      json row = RowOf(*query, query->batch[i], &tombstone);
      if (row.is_null()) continue;
      if (query->format == PushQuery::Format::kLegacy &&
          query->sink.type == catalog::SourceType::kTable && query->batch[i].has_key()) {
        std::string key(query->batch[i].key());
        if (tombstone) {
          query->live_keys.erase(key);
        } else {
          query->live_keys.insert(std::move(key));
        }
      }
      WriteRow(*query, row, tombstone);
      if (query->limit && ++query->emitted >= *query->limit) {
        EndStream(*query, "Limit Reached");
        Release(engine, *query);
        Forget(query->id);
        return false;
      }
    }
    query->batch.Clear();
    return true;
  });
}

bool RestApi::ClientFellBehind(PushQuery& query) {
  const int64_t unsent = query.responder->unsent_bytes();
  if (unsent <= options_.push_max_queued_bytes) return false;
  rest_metrics_.Add("sidestream_push_queries_dropped_total", {{"reason", "client_slow"}});
  std::cerr << "push query " << query.id << ": ended, its client fell behind (" << unsent
            << " bytes queued)\n";
  WriteStreamError(query, kErrorServerError,
                   "The client is not reading the query's rows fast enough: more than " +
                       std::to_string(options_.push_max_queued_bytes) +
                       " bytes waited for it (push.query.max.queued.bytes); the query ended");
  query.responder->Finish();
  return true;
}

void RestApi::RunTappedPushQuery(host::KafkaEngine& engine, std::shared_ptr<PushQuery> query,
                                 const std::string& text,
                                 std::shared_ptr<const analyzer::AnalyzedStatement> analyzed) {
  auto fail = [&](const Status& status) {
    auto [code, body] = StatementFailure(status, text, json::array());
    RespondJson(*query->responder, code, body);
    Release(engine, *query);
    Forget(query->id);
  };
  auto columns = PullColumns(*analyzed->plan, {});
  if (!columns.ok()) return fail(columns.status());
  host::OutputTap::Options options;
  options.max_buffered_bytes = static_cast<size_t>(options_.push_max_queued_bytes);
  options.on_ready = [this] { worker_.Wake(); };
  // Only /query's JSON has a way to mark a table's delete (see RowOf).
  options.table_deletes = query->format == PushQuery::Format::kLegacy;
  auto tap = engine.AddTap(std::move(analyzed), query->limit, std::move(options));
  if (!tap.ok()) return fail(tap.status());
  query->tap = std::move(*tap);
  WritePushHeader(*query);
  if (query->limit && *query->limit <= 0) {
    EndStream(*query, "Limit Reached");
    Release(engine, *query);
    return Forget(query->id);
  }
  worker_.AddTicker([this, query, columns = std::move(*columns)](host::KafkaEngine& engine,
                                                                 bool stopping) {
    auto end = [&](const char* final_message) {
      if (final_message != nullptr) EndStream(*query, final_message);
      Release(engine, *query);
      Forget(query->id);
      return false;
    };
    if (stopping) return end("Server stopping");
    if (query->cancelled || query->responder->closed()) return end(nullptr);
    if (ClientFellBehind(*query)) return end(nullptr);
    std::vector<types::Row> rows;
    std::vector<bool> tombstones;
    Status polled = query->tap->Poll(10000, rows, &tombstones);
    std::string encoded;
    for (size_t i = 0; i < rows.size(); ++i) {
      const std::string line = PullRow(*columns, rows[i], encoded);
      if (i < tombstones.size() && tombstones[i]) {
        query->responder->Write(",\n{\"row\":{\"columns\":" + line + ",\"tombstone\":true}}");
      } else {
        query->responder->Write(FramedRow(query->format, line));
      }
    }
    if (!polled.ok()) {
      if (polled.code() == StatusCode::kUnavailable) {
        rest_metrics_.Add("sidestream_push_queries_dropped_total", {{"reason", "tap_overflow"}});
      }
      std::cerr << "push query " << query->id << ": " << polled.ToString() << "\n";
      WriteStreamError(*query, kErrorServerError, polled.message());
      return end("Query Failed");
    }
    if (query->tap->limit_reached()) return end("Limit Reached");
    return true;
  });
}

void RestApi::HandleReady(std::shared_ptr<Responder> responder) {
  // The catalog is loaded (and the queries file run) before the server listens, so what can
  // still be missing is state: a persistent query's consumer that has not been given its
  // partitions yet, whose tasks are still to come, and a task restoring its stores from their
  // changelogs, which processes nothing and answers no pull query until it is done. Push
  // queries come and go with their clients and do not count.
  worker_.Post([responder = std::move(responder)](host::KafkaEngine& engine) {
    std::set<std::string> persistent;
    for (const auto& query : engine.catalog().ListQueries()) {
      if (!IsTransient(query.sink_name)) persistent.insert(query.id);
    }
    int restoring = 0;
    int awaiting = 0;
    for (const host::QueryStatus& query : engine.Queries()) {
      if (!persistent.contains(query.id)) continue;
      restoring += query.restoring_tasks;
      awaiting += query.awaiting_assignment;
    }
    const bool ready = restoring == 0 && awaiting == 0;
    json body = {{"isHealthy", ready},
                 {"details",
                  {{"catalog", {{"isHealthy", true}}},
                   {"stateStores",
                    {{"isHealthy", ready},
                     {"restoringTasks", restoring},
                     {"consumersAwaitingAssignment", awaiting}}}}}};
    std::string reason;
    if (awaiting > 0) {
      reason = std::to_string(awaiting) +
               (awaiting == 1 ? " query consumer is" : " query consumers are") +
               " waiting for a first partition assignment";
    }
    if (restoring > 0) {
      reason += (reason.empty() ? "" : "; ") + std::to_string(restoring) +
                (restoring == 1 ? " task is" : " tasks are") +
                " restoring state from changelog topics";
    }
    if (!ready) body["reason"] = reason;
    RespondJson(*responder, ready ? 200 : 503, body);
  });
}

void RestApi::RunPullQuery(host::KafkaEngine& engine, std::shared_ptr<PushQuery> query,
                           const sql::Statement& statement,
                           std::shared_ptr<const analyzer::AnalyzedStatement> analyzed) {
  const std::string text = statement.text + ";";
  // ksqlDB's checks of the WHERE: what it may look up, and whether that needs a table scan.
  Status where = host::CheckPullQueryWhere(*analyzed->plan, PullPlanOptions(query->properties));
  if (!where.ok()) {
    auto [code, body] = StatementFailure(where, text, json::array());
    RespondJson(*query->responder, code, body);
    return Forget(query->id);
  }
  // Each column as JSON on its own (a bare value), so the row keeps the sink formats' number
  // forms (DOUBLE as 1.0) and duplicate names cannot collide.
  auto columns = PullColumns(*analyzed->plan, PullKeyColumns(*analyzed->plan));
  if (!columns.ok()) {
    auto [code, body] = StatementFailure(columns.status(), text, json::array());
    RespondJson(*query->responder, code, body);
    return Forget(query->id);
  }
  std::optional<int64_t> limit = statement.query ? statement.query->limit : std::nullopt;
  engine.PullQuery(
      std::move(analyzed), limit, std::nullopt,
      [this, query, columns = std::move(*columns), text](Result<std::vector<types::Row>> rows) {
        if (!rows.ok()) {
          auto [code, body] = StatementFailure(rows.status(), text, json::array());
          RespondJson(*query->responder, code, body);
          return Forget(query->id);
        }
        // Row by row, as ksqlDB writes them: over HTTP/2 each is a DATA frame
        // of its own, which its clients read as one row each.
        query->responder->StartStream(200, query->format == PushQuery::Format::kDelimited
                                               ? "application/vnd.ksqlapi.delimited.v1"
                                               : kJsonType);
        query->responder->Write(PullHeader(*query, *columns));
        std::string encoded;
        for (const types::Row& row : *rows) {
          query->responder->Write(FramedRow(query->format, PullRow(*columns, row, encoded)));
        }
        if (query->format != PushQuery::Format::kDelimited) {
          query->responder->Write("]\n");
        }
        query->responder->Finish();
        Forget(query->id);
      });
}

void RestApi::RunStreamPullQuery(host::KafkaEngine& engine, std::shared_ptr<PushQuery> query,
                                 const sql::Statement& statement,
                                 std::shared_ptr<const analyzer::AnalyzedStatement> analyzed) {
  const std::string text = statement.text + ";";
  auto fail = [&](const Status& status) {
    auto [code, body] = StatementFailure(status, text, json::array());
    RespondJson(*query->responder, code, body);
    Forget(query->id);
  };
  if (!ScansRecordByRecord(*analyzed->plan)) {
    return fail(Status::InvalidArgument(
        "Pull queries on streams don't support aggregate functions. See "
        "https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to issue a "
        "push query."));
  }
  // A scan may run long: it counts against max.push.queries, as a push query does.
  if (!TakePushSlot(*query)) return;
  // A stream's header marks no column KEY (ksqlDB's schema of a stream pull query).
  auto columns = PullColumns(*analyzed->plan, {});
  if (!columns.ok()) return fail(columns.status());
  std::optional<int64_t> limit = statement.query ? statement.query->limit : std::nullopt;
  auto scan = engine.StartStreamPullQuery(std::move(analyzed), limit);
  if (!scan.ok()) return fail(scan.status());
  query->scan = std::move(*scan);
  query->responder->StartStream(200, query->format == PushQuery::Format::kDelimited
                                         ? "application/vnd.ksqlapi.delimited.v1"
                                         : kJsonType);
  query->responder->Write(PullHeader(*query, **columns));
  worker_.AddTicker([this, query, columns = std::move(*columns)](host::KafkaEngine& engine,
                                                                 bool stopping) {
    auto end = [&](const char* final_message) {
      EndStream(*query, final_message);
      Release(engine, *query);
      Forget(query->id);
      return false;
    };
    if (stopping) return end("Server stopping");
    if (query->cancelled || query->responder->closed()) {
      Release(engine, *query);
      Forget(query->id);
      return false;
    }
    // Without waiting: this is the engine's thread. Bounded, so that one large scan shares it.
    std::vector<types::Row> rows;
    Result<bool> done = query->scan->Poll(std::chrono::milliseconds(0), 5000, rows);
    std::string encoded;
    for (const types::Row& row : rows) {
      query->responder->Write(FramedRow(query->format, PullRow(*columns, row, encoded)));
    }
    if (!done.ok()) {
      // The header is out: the error goes in the stream, as ksqlDB's does.
      json error = GenericError(
          done.status().code() == StatusCode::kUnavailable ? kErrorUnavailable : kErrorServerError,
          done.status().message());
      query->responder->Write(query->format == PushQuery::Format::kLegacy
                                  ? ",\n" + Dump(json{{"errorMessage", error}})
                                  : (query->format == PushQuery::Format::kJsonArray ? ",\n" : "") +
                                        Dump(error) + "\n");
      return end("Query Failed");
    }
    if (!*done) return true;
    return end(query->scan->limit_reached() ? "Limit Reached" : "Query Completed");
  });
}

namespace {

// `value` as a SQL literal of `type`, for the INSERT ... VALUES an /inserts-stream row becomes.
Result<std::string> SqlLiteral(const json& value, const types::SqlType& type,
                               const std::string& column) {
  auto mismatch = [&](const char* expected) {
    return Status::InvalidArgument("Column " + column + ": expected " + expected + " but got " +
                                   Dump(value));
  };
  if (value.is_null()) return std::string("NULL");
  switch (type.id()) {
    case types::TypeId::kArray: {
      if (!value.is_array()) return mismatch("an array");
      std::string text = "ARRAY[";
      for (size_t i = 0; i < value.size(); ++i) {
        ASSIGN_OR_RAISE(std::string element, SqlLiteral(value[i], type.element(), column));
        text += (i > 0 ? ", " : "") + element;
      }
      return text + "]";
    }
    case types::TypeId::kMap: {
      if (!value.is_object()) return mismatch("an object");
      if (value.empty()) return mismatch("a non-empty object (an empty MAP has no literal)");
      const types::SqlType& value_type = type.fields().at(1).type;
      std::string text = "MAP(";
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        ASSIGN_OR_RAISE(std::string literal, SqlLiteral(item, value_type, column));
        text += (first ? "" : ", ") + Quote(key) + " := " + literal;
        first = false;
      }
      return text + ")";
    }
    case types::TypeId::kStruct: {
      if (!value.is_object()) return mismatch("an object");
      std::string text = "STRUCT(";
      bool first = true;
      for (const auto& field : type.fields()) {
        const json* item = nullptr;
        for (const auto& [key, candidate] : value.items()) {
          if (strcasecmp(key.c_str(), field.name.c_str()) == 0) item = &candidate;
        }
        if (item == nullptr) continue;
        ASSIGN_OR_RAISE(std::string literal, SqlLiteral(*item, field.type, column));
        text += (first ? "`" : ", `") + field.name + "` := " + literal;
        first = false;
      }
      return text + ")";
    }
    case types::TypeId::kBytes:
      if (!value.is_string()) return mismatch("a base64 string");
      return "TO_BYTES(" + Quote(value.get<std::string>()) + ", 'base64')";
    case types::TypeId::kBoolean:
      if (value.is_boolean()) return std::string(value.get<bool>() ? "TRUE" : "FALSE");
      if (value.is_string()) return Quote(value.get<std::string>());
      return mismatch("a boolean");
    default:
      if (value.is_string()) return Quote(value.get<std::string>());
      if (value.is_number()) return Dump(value);
      if (value.is_boolean()) return std::string(value.get<bool>() ? "TRUE" : "FALSE");
      return mismatch(type.ToString().c_str());
  }
}

// The INSERT ... VALUES statement for one /inserts-stream row of `target`.
Result<std::string> InsertStatement(const catalog::SourceDescription& target, const json& row) {
  if (!row.is_object()) return Status::InvalidArgument("Each row must be a JSON object");
  std::string names, values;
  for (const auto& [name, value] : row.items()) {
    const catalog::Column* column = nullptr;
    for (const auto& candidate : target.columns) {
      if (candidate.name == name) column = &candidate;
    }
    for (const auto& candidate : target.columns) {
      if (column == nullptr && strcasecmp(candidate.name.c_str(), name.c_str()) == 0) {
        column = &candidate;
      }
    }
    std::string literal;
    if (column == nullptr && strcasecmp(name.c_str(), "ROWTIME") == 0) {
      ASSIGN_OR_RAISE(literal, SqlLiteral(value, types::SqlType::Bigint(), "ROWTIME"));
      names += std::string(names.empty() ? "" : ", ") + "ROWTIME";
    } else if (column == nullptr) {
      return Status::InvalidArgument("Column name `" + name + "` does not exist.");
    } else {
      ASSIGN_OR_RAISE(literal, SqlLiteral(value, column->type, column->name));
      names += std::string(names.empty() ? "" : ", ") + "`" + column->name + "`";
    }
    values += (values.empty() ? "" : ", ") + literal;
  }
  return "INSERT INTO `" + target.name + "` (" + names + ") VALUES (" + values + ");";
}

}  // namespace

void RestApi::HandleInsertsStream(const HttpRequest& request,
                                  std::shared_ptr<Responder> responder) {
  if (static_cast<int64_t>(request.body.size()) > options_.max_body_bytes) {
    return RespondJson(*responder, 413,
                       GenericError(kErrorPayloadTooLarge,
                                    "The request body is larger than max.body.bytes (" +
                                        std::to_string(options_.max_body_bytes) + " bytes)"));
  }
  // The first line names the target; each line after it is one row.
  std::vector<std::string> lines;
  for (size_t at = 0; at < request.body.size();) {
    size_t end = request.body.find('\n', at);
    if (end == std::string::npos) end = request.body.size();
    std::string line = request.body.substr(at, end - at);
    at = end + 1;
    if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(std::move(line));
  }
  json target = lines.empty() ? json() : json::parse(lines.front(), nullptr, false);
  if (!target.is_object() || !target.contains("target") || !target["target"].is_string()) {
    return RespondJson(*responder, 400,
                       GenericError(kErrorBadRequest,
                                    "The first line must be a JSON object with a 'target' string"));
  }
  lines.erase(lines.begin());
  // As in ksqlDB, the acks are newline-delimited, or one JSON array when the client accepts
  // JSON (npm's ksqldb-client parses the whole body as an array).
  const std::string accept = request.Header("accept");
  const bool json_array = accept.find("application/json") != std::string::npos ||
                          accept.find("application/vnd.ksql.v1+json") != std::string::npos;
  worker_.Post([target_name = target["target"].get<std::string>(), lines = std::move(lines),
                json_array, responder](host::KafkaEngine& engine) {
    std::string name = target_name;
    if (!name.starts_with("`")) {
      std::transform(name.begin(), name.end(), name.begin(), ::toupper);
    } else if (name.size() >= 2) {
      name = name.substr(1, name.size() - 2);
    }
    auto source = engine.catalog().GetSource(name);
    if (!source.ok() || IsTransient(name)) {
      return RespondJson(
          *responder, 400,
          GenericError(kErrorBadRequest, "Cannot insert into an unknown stream: " + target_name));
    }
    if (source->type == catalog::SourceType::kTable) {
      return RespondJson(*responder, 400,
                         GenericError(kErrorBadRequest, "Cannot insert into a table"));
    }
    // One ack per row, each once its row is written (as INSERT ... VALUES is); a bad row gets
    // an error object and the rows after it still go in.
    responder->StartStream(200, json_array ? kJsonType : "application/vnd.ksqlapi.delimited.v1");
    for (size_t seq = 0; seq < lines.size(); ++seq) {
      json row = json::parse(lines[seq], nullptr, false);
      Result<std::string> statement =
          row.is_discarded() ? Result<std::string>(Status::InvalidArgument("Invalid JSON in row"))
                             : InsertStatement(*source, row);
      Status inserted = statement.ok() ? engine.Execute(*statement) : statement.status();
      // ksqlDB's member order: status first.
      nlohmann::ordered_json ack = {{"status", "ok"}, {"seq", seq}};
      if (!inserted.ok()) {
        ack = {{"status", "error"},
               {"seq", seq},
               {"error_code",
                inserted.code() == StatusCode::kUnavailable ? kErrorUnavailable : kErrorBadRequest},
               {"message", inserted.message()}};
      }
      const std::string text = ack.dump(-1, ' ', false, json::error_handler_t::replace);
      responder->Write(json_array ? (seq == 0 ? "[" : ",") + text : text + "\n");
    }
    if (json_array) responder->Write(lines.empty() ? "[]" : "]");
    responder->Finish();
  });
}

void RestApi::HandleCloseQuery(const HttpRequest& request, std::shared_ptr<Responder> responder) {
  auto body = ParseBody(request, options_.max_body_bytes, *responder);
  if (!body) return;
  if (!body->contains("queryId") || !(*body)["queryId"].is_string()) {
    return RespondJson(*responder, 400,
                       GenericError(kErrorBadRequest, "The request needs a 'queryId' string"));
  }
  const std::string id = (*body)["queryId"].get<std::string>();
  std::lock_guard<std::mutex> lock(push_mutex_);
  auto found = push_queries_.find(id);
  if (found == push_queries_.end()) {
    return RespondJson(*responder, 400, GenericError(kErrorBadRequest, "No query with id " + id));
  }
  found->second->cancelled = true;
  found->second->responder->Finish();
  responder->Respond(200, kJsonType, "");
}

}  // namespace sidestream::rest
