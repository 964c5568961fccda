#include "analyzer/connector_properties.h"

#include <algorithm>

#include "common/did_you_mean.h"

namespace sidestream::analyzer {

namespace {

std::string LowerCase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

const char* ScopeName(ConnectorScope scope) {
  switch (scope) {
    case ConnectorScope::kAll:
      return "all";
    case ConnectorScope::kRedis:
      return "redis";
    case ConnectorScope::kCouchDb:
      return "couchdb";
  }
  return "all";
}

}  // namespace

const std::vector<ConnectorPropertyDefinition>& ConnectorProperties() {
  using S = ConnectorScope;
  static const std::vector<ConnectorPropertyDefinition> kProperties = {
      {"connector.class", S::kAll, true, "",
       "Where the changes go: 'redis' or 'couchdb' (also 'io.sidestream.RedisSink', "
       "'io.sidestream.CouchDbSink')."},
      {"topics", S::kAll, true, "",
       "Comma-separated Kafka topics to read: a table's topic (its changelog)."},
      {"errors.deadletterqueue.topic.name", S::kAll, false, "sidestream_dead_letters",
       "Topic that receives records the store refuses, as JSON naming connector, topic, "
       "partition, offset and reason."},
      {"batch.max.records", S::kAll, false, "10000",
       "Records read from Kafka per write to the store."},
      {"tasks.max", S::kAll, false, "1",
       "Accepted for Kafka Connect compatibility; the connector is one consumer group, and "
       "runs as many consumers as Sidestream instances."},
      {"redis.url", S::kRedis, false, "redis://127.0.0.1:6379",
       "Redis server: redis://[:password@]host[:port][/db]."},
      {"redis.key.template", S::kRedis, false, "{KEY}",
       "Redis key of a row: {KEY} is the Kafka key (a windowed key reads key@start/end), "
       "{TOPIC} the topic. For example 'cell:{KEY}'."},
      {"redis.mode", S::kRedis, false, "hash",
       "hash: HSET of the value's fields (a JSON object); string: SET of the value as it is."},
      {"couchdb.url", S::kCouchDb, false, "http://127.0.0.1:5984",
       "CouchDB server: http://[user:password@]host:port."},
      {"couchdb.database", S::kCouchDb, true, "",
       "Database that holds one document per key; created when missing."},
      {"couchdb.id.template", S::kCouchDb, false, "{KEY}",
       "Document _id of a row: {KEY} is the Kafka key, {TOPIC} the topic."},
  };
  return kProperties;
}

std::string CanonicalConnectorClass(const std::string& value) {
  const std::string lower = LowerCase(value);
  if (lower == "redis" || lower == "io.sidestream.redissink") return "redis";
  if (lower == "couchdb" || lower == "io.sidestream.couchdbsink") return "couchdb";
  return "";
}

Result<std::map<std::string, std::string>> CheckConnectorProperties(
    const sql::Statement& statement) {
  std::map<std::string, std::string> values;
  std::map<std::string, SourceLocation> locations;
  std::vector<std::string> names;
  for (const auto& definition : ConnectorProperties()) names.push_back(definition.name);
  for (const sql::Property& property : statement.properties) {
    const std::string name = LowerCase(property.key);
    auto known = std::find(names.begin(), names.end(), name);
    if (known == names.end()) {
      std::string hint;
      if (std::string nearest = NearestName(name, names); !nearest.empty()) {
        hint = "did you mean '" + nearest + "'?";
      } else {
        hint = "known properties: ";
        for (size_t i = 0; i < names.size(); ++i) hint += (i > 0 ? ", " : "") + names[i];
      }
      return Status::InvalidArgument("Unknown connector property '" + name + "'", property.location,
                                     hint);
    }
    values[name] = property.value.text;
    locations[name] = property.location;
  }
  auto class_value = values.find("connector.class");
  if (class_value == values.end()) {
    return Status::InvalidArgument("Missing connector property 'connector.class'",
                                   statement.location,
                                   "add 'connector.class'='redis' or 'connector.class'='couchdb'");
  }
  const std::string connector_class = CanonicalConnectorClass(class_value->second);
  if (connector_class.empty()) {
    return Status::InvalidArgument(
        "Unknown connector.class '" + class_value->second + "'", locations["connector.class"],
        "Sidestream runs 'redis' and 'couchdb' sinks (or 'io.sidestream.RedisSink', "
        "'io.sidestream.CouchDbSink')");
  }
  class_value->second = connector_class;
  const ConnectorScope scope =
      connector_class == "redis" ? ConnectorScope::kRedis : ConnectorScope::kCouchDb;
  std::vector<std::string> missing;
  for (const auto& definition : ConnectorProperties()) {
    const bool applies = definition.scope == ConnectorScope::kAll || definition.scope == scope;
    auto given = values.find(definition.name);
    if (!applies) {
      if (given != values.end()) {
        return Status::InvalidArgument(
            "Connector property '" + std::string(definition.name) +
                "' does not apply to connector.class '" + connector_class + "'",
            locations[definition.name],
            "it is for " + std::string(ScopeName(definition.scope)) + " connectors");
      }
      continue;
    }
    if (given == values.end()) {
      if (definition.required) {
        missing.push_back(definition.name);
      } else {
        values[definition.name] = definition.default_value;
      }
    } else if (given->second.empty() && definition.required) {
      missing.push_back(definition.name);
    }
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& name : missing) list += (list.empty() ? "'" : ", '") + name + "'";
    return Status::InvalidArgument(
        "Missing connector propert" + std::string(missing.size() == 1 ? "y " : "ies ") + list,
        statement.location, "a " + connector_class + " connector needs " + list);
  }
  if (scope == ConnectorScope::kRedis) {
    std::string& mode = values["redis.mode"];
    mode = LowerCase(mode);
    if (mode != "hash" && mode != "string") {
      return Status::InvalidArgument("redis.mode must be 'hash' or 'string', not '" + mode + "'",
                                     locations["redis.mode"]);
    }
  }
  for (const char* number : {"batch.max.records", "tasks.max"}) {
    const std::string& text = values[number];
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
        text.size() > 9 || std::stol(text) < 1) {
      return Status::InvalidArgument(
          std::string(number) + " must be a positive integer, not '" + text + "'",
          locations[number]);
    }
  }
  return values;
}

std::string ConnectorPropertiesMarkdown() {
  std::string text =
      "| property | connector.class | required | default | meaning |\n|---|---|---|---|---|\n";
  for (const auto& definition : ConnectorProperties()) {
    text += std::string("| `") + definition.name + "` | " + ScopeName(definition.scope) + " | " +
            (definition.required ? "yes" : "no") + " | " +
            (definition.default_value[0] != '\0' ? "`" + std::string(definition.default_value) + "`"
                                                 : std::string()) +
            " | " + definition.doc + " |\n";
  }
  return text;
}

}  // namespace sidestream::analyzer
