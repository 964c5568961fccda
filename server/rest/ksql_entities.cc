#include "server/rest/ksql_entities.h"

namespace sidestream::rest {

using nlohmann::json;

json GenericError(int error_code, const std::string& message) {
  return {{"@type", "generic_error"}, {"error_code", error_code}, {"message", message}};
}

json StatementError(int error_code, const std::string& message, const std::string& statement_text,
                    json entities) {
  return {{"@type", "statement_error"},
          {"error_code", error_code},
          {"message", message},
          {"statementText", statement_text},
          {"entities", std::move(entities)}};
}

std::pair<int, json> StatementFailure(const Status& status, const std::string& statement_text,
                                      json entities) {
  // "line 3:14: <message> (hint: ...)": where the statement went wrong, as ksqlDB's parser
  // errors say it, for any error located in the SQL (unresolved names too).
  const std::string message = status.ToString();
  switch (status.code()) {
    case StatusCode::kUnavailable:
      return {503, StatementError(kErrorUnavailable, message, statement_text, std::move(entities))};
    case StatusCode::kInternal:
    case StatusCode::kCorruption:
    case StatusCode::kIOError:
      return {500, StatementError(kErrorServerError, message, statement_text, std::move(entities))};
    default:
      return {400,
              StatementError(kErrorBadStatement, message, statement_text, std::move(entities))};
  }
}

std::string SchemaString(const std::vector<std::pair<std::string, types::SqlType>>& columns) {
  std::string text;
  for (const auto& [name, type] : columns) {
    if (!text.empty()) text += ", ";
    text += "`" + name + "` " + type.ToString();
  }
  return text;
}

json SchemaJson(const types::SqlType& type) {
  json schema = {{"type", nullptr}, {"fields", nullptr}, {"memberSchema", nullptr}};
  switch (type.id()) {
    case types::TypeId::kArray:
      schema["type"] = "ARRAY";
      schema["memberSchema"] = SchemaJson(type.element());
      break;
    case types::TypeId::kMap:
      schema["type"] = "MAP";
      schema["memberSchema"] = SchemaJson(type.value());
      break;
    case types::TypeId::kStruct: {
      schema["type"] = "STRUCT";
      json fields = json::array();
      for (const auto& field : type.fields()) {
        fields.push_back({{"name", field.name}, {"schema", SchemaJson(field.type)}});
      }
      schema["fields"] = std::move(fields);
      break;
    }
    case types::TypeId::kDecimal:
      schema["type"] = "DECIMAL";
      schema["parameters"] = {{"precision", type.precision()}, {"scale", type.scale()}};
      break;
    default:
      schema["type"] = type.ToString();
  }
  return schema;
}

json SourceInfo(const catalog::SourceDescription& source) {
  return {{"type", source.type == catalog::SourceType::kTable ? "TABLE" : "STREAM"},
          {"name", source.name},
          {"topic", source.topic},
          {"keyFormat", source.key_format},
          {"valueFormat", source.value_format},
          {"isWindowed", source.window_type != catalog::WindowType::kNone}};
}

json QueryInfo(const catalog::QueryDescription& query, const std::string& sink_topic,
               const std::string& state) {
  return {{"queryString", query.sql},
          {"sinks", json::array({query.sink_name})},
          {"sinkKafkaTopics", json::array({sink_topic})},
          {"id", query.id},
          {"statusCount", {{state, 1}}},
          {"queryType", "PERSISTENT"},
          {"state", state}};
}

json QueryErrorsJson(const std::vector<runtime::QueryError>& errors) {
  json list = json::array();
  for (const auto& error : errors) {
    list.push_back({{"timestamp", error.time_ms},
                    {"errorMessage", error.ToString()},
                    {"type", error.error.user_error() ? "USER" : "SYSTEM"}});
  }
  return list;
}

json SourceDescriptionJson(const catalog::SourceDescription& source,
                           const std::vector<json>& read_queries,
                           const std::vector<json>& write_queries, bool extended) {
  json fields = json::array();
  for (const auto& column : source.columns) {
    json field = {{"name", column.name}, {"schema", SchemaJson(column.type)}};
    if (column.role == catalog::ColumnRole::kKey) {
      field["type"] = source.type == catalog::SourceType::kTable ? "PRIMARY_KEY" : "KEY";
    } else if (column.role == catalog::ColumnRole::kHeader) {
      field["type"] = "HEADER";
      if (!column.header_key.empty()) field["headerKey"] = column.header_key;
    }
    fields.push_back(std::move(field));
  }
  const bool windowed = source.window_type != catalog::WindowType::kNone;
  return {{"name", source.name},
          {"windowType", windowed ? json(catalog::WindowTypeName(source.window_type)) : json()},
          {"readQueries", read_queries},
          {"writeQueries", write_queries},
          {"fields", std::move(fields)},
          {"type", source.type == catalog::SourceType::kTable ? "TABLE" : "STREAM"},
          {"timestamp", source.timestamp_column.value_or("")},
          {"statistics", ""},
          {"errorStats", ""},
          {"extended", extended},
          {"keyFormat", source.key_format},
          {"valueFormat", source.value_format},
          {"topic", source.topic},
          {"partitions", source.partitions},
          {"replication", 1},
          {"statement", source.sql},
          {"queryOffsetSummaries", json::array()},
          {"sourceConstraints", json::array()}};
}

}  // namespace sidestream::rest
