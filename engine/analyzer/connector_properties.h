#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "sql/ast.h"

/// The WITH properties of CREATE SINK CONNECTOR: one declarative table, checked here and
/// printed by `sidestream properties`.
namespace sidestream::analyzer {

/// Which connector classes a property applies to.
enum class ConnectorScope { kAll, kRedis, kCouchDb };

struct ConnectorPropertyDefinition {
  const char* name;  // canonical, lower-case as Kafka Connect spells them
  ConnectorScope scope;
  bool required;
  const char* default_value;  // "" when none
  const char* doc;
};

/// Every connector property, in documentation order.
const std::vector<ConnectorPropertyDefinition>& ConnectorProperties();

/// The canonical class for a 'connector.class' value ("redis", "couchdb"), accepting the
/// aliases 'io.sidestream.RedisSink' and 'io.sidestream.CouchDbSink' (any case); empty when
/// unknown.
std::string CanonicalConnectorClass(const std::string& value);

/// Checks a CREATE SINK CONNECTOR's properties: connector.class names a known class, every
/// property is known and applies to that class, required ones are given, enumerations hold
/// allowed values. Returns them under canonical names with defaults filled in. Errors are
/// InvalidArgument naming the property, located at it, with a hint.
Result<std::map<std::string, std::string>> CheckConnectorProperties(
    const sql::Statement& statement);

/// The table as Markdown.
std::string ConnectorPropertiesMarkdown();

}  // namespace sidestream::analyzer
