#include "catalog/description_json.h"

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog/type_json.h"

namespace sidestream::catalog {
namespace {

using nlohmann::json;

// Stable names written to disk; they must never change once released.
const char* SourceTypeName(SourceType type) {
  switch (type) {
    case SourceType::kStream:
      return "STREAM";
    case SourceType::kTable:
      return "TABLE";
  }
  return "UNKNOWN";
}

const char* ColumnRoleName(ColumnRole role) {
  switch (role) {
    case ColumnRole::kKey:
      return "KEY";
    case ColumnRole::kValue:
      return "VALUE";
    case ColumnRole::kHeader:
      return "HEADER";
  }
  return "UNKNOWN";
}

}  // namespace

const char* WindowTypeName(WindowType type) {
  switch (type) {
    case WindowType::kNone:
      return "NONE";
    case WindowType::kTumbling:
      return "TUMBLING";
    case WindowType::kHopping:
      return "HOPPING";
    case WindowType::kSession:
      return "SESSION";
  }
  return "UNKNOWN";
}

namespace {

// Finds the enum value whose name is `name` among `values`.
template <typename Enum, size_t N>
std::optional<Enum> EnumFromName(const std::string& name, const Enum (&values)[N],
                                 const char* (*to_name)(Enum)) {
  for (Enum value : values) {
    if (name == to_name(value)) return value;
  }
  return std::nullopt;
}

constexpr SourceType kSourceTypes[] = {SourceType::kStream, SourceType::kTable};
constexpr ColumnRole kColumnRoles[] = {ColumnRole::kKey, ColumnRole::kValue, ColumnRole::kHeader};
constexpr WindowType kWindowTypes[] = {WindowType::kNone, WindowType::kTumbling,
                                       WindowType::kHopping, WindowType::kSession};

Status Bad(const std::string& member, const std::string& problem) {
  return Status::InvalidArgument("member '" + member + "' " + problem);
}

// Readers for one member of a JSON object. An absent or null member leaves *out unchanged;
// a member of the wrong kind is InvalidArgument.
Status ReadString(const json& object, const char* key, std::string* out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return Status::OK();
  if (!it->is_string()) return Bad(key, "must be a string");
  *out = it->get<std::string>();
  return Status::OK();
}

Status ReadString(const json& object, const char* key, std::optional<std::string>* out) {
  std::string value;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return Status::OK();
  RETURN_NOT_OK(ReadString(object, key, &value));
  *out = std::move(value);
  return Status::OK();
}

Status ReadInt64(const json& object, const char* key, std::optional<int64_t>* out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return Status::OK();
  if (!it->is_number_integer()) return Bad(key, "must be an integer");
  if (it->is_number_unsigned() &&
      it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Bad(key, "is out of range");
  }
  *out = it->get<int64_t>();
  return Status::OK();
}

Status ReadInt(const json& object, const char* key, int* out) {
  std::optional<int64_t> value;
  RETURN_NOT_OK(ReadInt64(object, key, &value));
  if (!value) return Status::OK();
  if (*value < std::numeric_limits<int>::min() || *value > std::numeric_limits<int>::max()) {
    return Bad(key, "is out of range");
  }
  *out = static_cast<int>(*value);
  return Status::OK();
}

Status ReadStrings(const json& object, const char* key, std::vector<std::string>* out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return Status::OK();
  if (!it->is_array()) return Bad(key, "must be an array of strings");
  std::vector<std::string> values;
  for (const json& item : *it) {
    if (!item.is_string()) return Bad(key, "must be an array of strings");
    values.push_back(item.get<std::string>());
  }
  *out = std::move(values);
  return Status::OK();
}

Status ReadProperties(const json& object, const char* key,
                      std::map<std::string, std::string>* out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return Status::OK();
  if (!it->is_object()) return Bad(key, "must be an object of strings");
  std::map<std::string, std::string> values;
  for (const auto& [name, value] : it->items()) {
    if (!value.is_string()) return Bad(std::string(key) + "." + name, "must be a string");
    values.emplace(name, value.get<std::string>());
  }
  *out = std::move(values);
  return Status::OK();
}

template <typename Enum, size_t N>
Status ReadEnum(const json& object, const char* key, const Enum (&values)[N],
                const char* (*to_name)(Enum), Enum* out) {
  std::optional<std::string> name;
  RETURN_NOT_OK(ReadString(object, key, &name));
  if (!name) return Status::OK();
  std::optional<Enum> value = EnumFromName(*name, values, to_name);
  if (!value) return Bad(key, "has unknown value '" + *name + "'");
  *out = *value;
  return Status::OK();
}

Status RequireString(const json& object, const char* key, std::string* out) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return Bad(key, "must be a string");
  *out = it->get<std::string>();
  return Status::OK();
}

Result<Column> ColumnFromJson(const json& object, size_t index) {
  std::string where = "columns[" + std::to_string(index) + "]";
  if (!object.is_object()) return Bad(where, "must be an object");
  Column column;
  Status status = RequireString(object, "name", &column.name);
  if (status.ok()) {
    status = ReadEnum(object, "role", kColumnRoles, ColumnRoleName, &column.role);
  }
  if (status.ok()) status = ReadString(object, "header_key", &column.header_key);
  if (!status.ok()) return Status::InvalidArgument(where + ": " + status.message());
  auto type_it = object.find("type");
  if (type_it == object.end()) return Bad(where + ".type", "is missing");
  Result<types::SqlType> type = TypeFromJson(*type_it);
  if (!type.ok()) return Status::InvalidArgument(where + ".type: " + type.status().message());
  column.type = std::move(type).value();
  return column;
}

Result<SourceDescription> ReadSource(const json& object) {
  if (!object.is_object()) return Status::InvalidArgument("a source must be a JSON object");
  SourceDescription source;
  RETURN_NOT_OK(RequireString(object, "name", &source.name));
  RETURN_NOT_OK(ReadEnum(object, "type", kSourceTypes, SourceTypeName, &source.type));
  auto columns_it = object.find("columns");
  if (columns_it != object.end() && !columns_it->is_null()) {
    if (!columns_it->is_array()) return Bad("columns", "must be an array");
    for (size_t i = 0; i < columns_it->size(); ++i) {
      ASSIGN_OR_RAISE(Column column, ColumnFromJson((*columns_it)[i], i));
      source.columns.push_back(std::move(column));
    }
  }
  RETURN_NOT_OK(ReadString(object, "topic", &source.topic));
  RETURN_NOT_OK(ReadString(object, "key_format", &source.key_format));
  RETURN_NOT_OK(ReadString(object, "value_format", &source.value_format));
  RETURN_NOT_OK(ReadInt(object, "partitions", &source.partitions));
  RETURN_NOT_OK(ReadString(object, "timestamp_column", &source.timestamp_column));
  RETURN_NOT_OK(ReadString(object, "timestamp_format", &source.timestamp_format));
  RETURN_NOT_OK(ReadInt64(object, "watermark_delay_ms", &source.watermark_delay_ms));
  RETURN_NOT_OK(ReadEnum(object, "window_type", kWindowTypes, WindowTypeName, &source.window_type));
  RETURN_NOT_OK(ReadInt64(object, "window_size_ms", &source.window_size_ms));
  RETURN_NOT_OK(ReadProperties(object, "properties", &source.properties));
  RETURN_NOT_OK(ReadString(object, "sql", &source.sql));
  RETURN_NOT_OK(ReadString(object, "writer_query_id", &source.writer_query_id));
  auto read_only_it = object.find("read_only");
  if (read_only_it != object.end()) {
    if (!read_only_it->is_boolean()) return Bad("read_only", "must be a boolean");
    source.read_only = read_only_it->get<bool>();
  }
  return source;
}

Result<QueryDescription> ReadQuery(const json& object) {
  if (!object.is_object()) return Status::InvalidArgument("a query must be a JSON object");
  QueryDescription query;
  RETURN_NOT_OK(RequireString(object, "id", &query.id));
  RETURN_NOT_OK(ReadString(object, "sql", &query.sql));
  RETURN_NOT_OK(ReadStrings(object, "source_names", &query.source_names));
  RETURN_NOT_OK(ReadString(object, "sink_name", &query.sink_name));
  RETURN_NOT_OK(ReadString(object, "state", &query.state));
  RETURN_NOT_OK(ReadProperties(object, "properties", &query.properties));
  return query;
}

}  // namespace

json SourceToJson(const SourceDescription& source) {
  json columns = json::array();
  for (const Column& column : source.columns) {
    json item = {{"name", column.name},
                 {"type", TypeToJson(column.type)},
                 {"role", ColumnRoleName(column.role)}};
    if (!column.header_key.empty()) item["header_key"] = column.header_key;
    columns.push_back(std::move(item));
  }
  json object = {
      {"name", source.name},
      {"type", SourceTypeName(source.type)},
      {"columns", std::move(columns)},
      {"topic", source.topic},
      {"key_format", source.key_format},
      {"value_format", source.value_format},
      {"partitions", source.partitions},
      {"window_type", WindowTypeName(source.window_type)},
      {"properties", source.properties},
      {"sql", source.sql},
      {"writer_query_id", source.writer_query_id},
  };
  if (source.timestamp_column) object["timestamp_column"] = *source.timestamp_column;
  if (source.timestamp_format) object["timestamp_format"] = *source.timestamp_format;
  if (source.watermark_delay_ms) object["watermark_delay_ms"] = *source.watermark_delay_ms;
  if (source.window_size_ms) object["window_size_ms"] = *source.window_size_ms;
  if (source.read_only) object["read_only"] = true;
  return object;
}

Result<SourceDescription> SourceFromJson(const json& json) {
  // Every member is checked for its kind before it is read; the catch is the boundary for
  // library exceptions all the same.
  try {
    return ReadSource(json);
  } catch (const nlohmann::json::exception& error) {
    return Status::InvalidArgument(error.what());
  }
}

json QueryToJson(const QueryDescription& query) {
  return {
      {"id", query.id},
      {"sql", query.sql},
      {"source_names", query.source_names},
      {"sink_name", query.sink_name},
      {"state", query.state},
      {"properties", query.properties},
  };
}

Result<QueryDescription> QueryFromJson(const json& json) {
  try {
    return ReadQuery(json);
  } catch (const nlohmann::json::exception& error) {
    return Status::InvalidArgument(error.what());
  }
}

json ConnectorToJson(const ConnectorDescription& connector) {
  return {
      {"name", connector.name},
      {"connector_class", connector.connector_class},
      {"properties", connector.properties},
      {"sql", connector.sql},
  };
}

Result<ConnectorDescription> ConnectorFromJson(const json& json) {
  try {
    if (!json.is_object() || !json.contains("name") || !json["name"].is_string()) {
      return Status::InvalidArgument("a connector needs a string \"name\"");
    }
    ConnectorDescription connector;
    connector.name = json["name"].get<std::string>();
    connector.connector_class = json.value("connector_class", std::string());
    connector.sql = json.value("sql", std::string());
    if (json.contains("properties")) {
      connector.properties = json["properties"].get<std::map<std::string, std::string>>();
    }
    return connector;
  } catch (const nlohmann::json::exception& error) {
    return Status::InvalidArgument(error.what());
  }
}

}  // namespace sidestream::catalog
