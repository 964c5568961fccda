#include "analyzer/analyzer.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>

#include "analyzer/connector_properties.h"
#include "analyzer/expression_binder.h"
#include "analyzer/match_recognize.h"
#include "analyzer/source_properties.h"
#include "common/did_you_mean.h"
#include "connectors/formats/avro_format.h"
#include "connectors/formats/json_sr_format.h"
#include "connectors/formats/protobuf_format.h"
#include "connectors/registry/schema_registry.h"
#include "functions/numbers.h"

namespace sidestream::analyzer {

using catalog::ColumnRole;
using catalog::SourceDescription;
using catalog::SourceType;
using types::SqlType;
using types::TypeId;

namespace {

constexpr int64_t kDay = 24LL * 60 * 60 * 1000;
const std::set<std::string> kKnownFormats = {"JSON",          "JSON_SR",   "AVRO",  "PROTOBUF",
                                             "PROTOBUF_NOSR", "DELIMITED", "KAFKA", "NONE"};

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return text;
}

// Whether a format reads its columns from the schema registry (ksqlDB's SCHEMA_INFERENCE).
bool InfersSchema(const std::string& format) {
  return format == "AVRO" || format == "JSON_SR" || format == "PROTOBUF";
}

// A value of session property kDefaultKeyFormatProperty or kDefaultValueFormatProperty
// (`property`) as a format, checked like KEY_FORMAT (NONE is no default for keyed data).
Result<std::string> FormatProperty(const char* property, const std::string& value,
                                   SourceLocation location) {
  std::string format = Upper(value);
  if (!kKnownFormats.count(format) || format == "NONE") {
    return Status::InvalidArgument(
        "Unknown format in session property " + std::string(property) + ": " + value, location,
        "use JSON, AVRO, PROTOBUF, DELIMITED or KAFKA");
  }
  return format;
}

std::string PropertyText(const sql::Literal& literal) {
  switch (literal.kind) {
    case sql::LiteralKind::kBoolean:
      return literal.boolean_value ? "true" : "false";
    case sql::LiteralKind::kInteger:
      return std::to_string(literal.integer_value);
    default:
      return literal.text;
  }
}

// "ID", "ID and ID2", "F1, F2 and F3", ksqlDB's way of listing names.
std::string ListNames(const std::vector<std::string>& names) {
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) text += i + 1 == names.size() ? " and " : ", ";
    text += names[i];
  }
  return text;
}

std::string CommaNames(const std::vector<std::string>& names) {
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) text += (i > 0 ? ", " : "") + names[i];
  return text;
}

// Parses "30 SECONDS" (WINDOW_SIZE property) to milliseconds.
Result<int64_t> ParseDuration(const std::string& text) {
  size_t space = text.find(' ');
  std::string number = text.substr(0, space);
  std::string unit = space == std::string::npos ? "" : Upper(text.substr(space + 1));
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  int64_t value = 0;
  try {
    size_t used = 0;
    value = std::stoll(number, &used);
    if (used != number.size()) throw std::invalid_argument(number);
  } catch (const std::exception&) {
    return Status::InvalidArgument("Configuration WINDOW_SIZE is invalid: Invalid duration: '" +
                                   text + "'. Not a number: '" + number + "'");
  }
  if (!unit.empty() && unit.back() == 'S') unit.pop_back();
  int64_t scale = unit == "MILLISECOND" ? 1
                  : unit == "SECOND"    ? 1000
                  : unit == "MINUTE"    ? 60'000
                  : unit == "HOUR"      ? 3'600'000
                  : unit == "DAY"       ? kDay
                                        : 0;
  if (scale == 0) {
    return Status::InvalidArgument("Configuration WINDOW_SIZE is invalid: Invalid duration: '" +
                                       text + "'. Unknown time unit: '" +
                                       Upper(text.substr(space + 1)) + "'",
                                   {}, "use MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS");
  }
  return value * scale;
}

Status CheckDelimiter(const std::string& name, const std::string& value, SourceLocation where) {
  if (value.empty()) {
    return Status::InvalidArgument(
        "Configuration " + name +
            " is invalid: Delimiter cannot be empty, if you meant to have "
            "a tab or space for delimiter, please use the special values 'TAB' or 'SPACE'",
        where);
  }
  std::string upper = Upper(value);
  if (value.size() != 1 && upper != "TAB" && upper != "SPACE") {
    return Status::InvalidArgument("Configuration " + name +
                                       " is invalid: Invalid delimiter value: '" + value +
                                       "'. Delimiter must be a single character or TAB,SPACE",
                                   where);
  }
  return Status::OK();
}

// ksqlDB's per-format restrictions on column types.
bool ContainsMap(const SqlType& type) {
  if (type.id() == TypeId::kMap) return true;
  if (type.is_nested()) {
    for (const auto& field : type.fields()) {
      if (ContainsMap(field.type)) return true;
    }
  }
  return false;
}

Status CheckFormatSupports(const std::string& format, const catalog::Column& column, bool key) {
  const SqlType& type = column.type;
  if ((format == "DELIMITED" || format == "KAFKA") && type.is_nested()) {
    std::string kind = type.id() == TypeId::kArray ? "ARRAY"
                       : type.id() == TypeId::kMap ? "MAP"
                                                   : "STRUCT";
    return Status::BindError("The '" + format + "' format does not support type '" + kind +
                             "', column: `" + column.name + "`");
  }
  // ksqlDB's KAFKA serdes are Kafka's own: none for BOOLEAN or DECIMAL.
  if (format == "KAFKA" && (type.id() == TypeId::kBoolean || type.id() == TypeId::kDecimal)) {
    return Status::BindError("The 'KAFKA' format does not support type '" +
                             std::string(type.id() == TypeId::kBoolean ? "BOOLEAN" : "DECIMAL") +
                             "'");
  }
  if (key && ContainsMap(type)) {
    return Status::BindError(
        "Map keys, including types that contain maps, are not supported as they may lead to "
        "unexpected behavior due to inconsistent serialization. Key column name: `" +
        column.name + "`. Column type: " + type.ToString());
  }
  std::function<bool(const SqlType&)> bad_map_key = [&](const SqlType& t) {
    if (t.id() == TypeId::kMap && t.key().id() != TypeId::kString) return true;
    if (t.is_nested()) {
      for (const auto& field : t.fields()) {
        if (bad_map_key(field.type)) return true;
      }
    }
    return false;
  };
  if ((format == "JSON" || format == "JSON_SR") && bad_map_key(type)) {
    return Status::BindError("JSON only supports MAP types with STRING keys");
  }
  if ((format == "PROTOBUF" || format == "PROTOBUF_NOSR") && bad_map_key(type)) {
    return Status::BindError(format + " format only supports MAP types with STRING keys");
  }
  // A protobuf repeated field cannot hold repeated values (Confluent's converter refuses it).
  std::function<bool(const SqlType&)> nested_repeat = [&](const SqlType& t) {
    if (t.id() == TypeId::kArray &&
        (t.element().id() == TypeId::kArray || t.element().id() == TypeId::kMap)) {
      return true;
    }
    if (t.is_nested()) {
      for (const auto& field : t.fields()) {
        if (nested_repeat(field.type)) return true;
      }
    }
    return false;
  };
  if ((format == "PROTOBUF" || format == "PROTOBUF_NOSR") && nested_repeat(type)) {
    return Status::BindError("The '" + format + "' format does not support an ARRAY of ARRAY " +
                             "or MAP, column: `" + column.name + "` " + type.ToString());
  }
  return Status::OK();
}

// Where a format error is reported: the column's definition when the statement declares it,
// else the property that chose the format, else the statement.
struct FormatErrorPlaces {
  std::function<SourceLocation(const std::string& column)> column;
  SourceLocation key_format;
  SourceLocation value_format;
};

Status CheckFormats(const SourceDescription& source, const FormatErrorPlaces& places) {
  int key_columns = 0;
  std::vector<const catalog::Column*> value_columns;
  for (const auto& column : source.columns) {
    bool key = column.role == ColumnRole::kKey;
    if (key) ++key_columns;
    if (column.role == ColumnRole::kHeader) continue;
    if (!key) value_columns.push_back(&column);
    RETURN_NOT_OK(CheckFormatSupports(key ? source.key_format : source.value_format, column, key)
                      .WithLocation(places.column(column.name)));
  }
  if (source.key_format == "KAFKA" && key_columns > 1) {
    return Status::BindError(
        "Key format does not support schema. format: KAFKA reason: The 'KAFKA' "
        "format only supports a single field. Got: " +
            std::to_string(key_columns) + " key columns",
        places.key_format, "use KEY_FORMAT='JSON' or 'DELIMITED' for multi-column keys");
  }
  if (source.value_format == "KAFKA" && value_columns.size() > 1) {
    std::string got;
    for (const catalog::Column* column : value_columns) {
      got += (got.empty() ? "`" : ", `") + column->name + "` " + column->type.ToString();
    }
    return Status::BindError("The 'KAFKA' format only supports a single field. Got: [" + got + "]",
                             places.value_format,
                             "use VALUE_FORMAT='JSON' or 'DELIMITED' for several value columns");
  }
  // The columns a NONE format would have to hold, as ksqlDB lists them.
  auto none_error = [&](ColumnRole role, SourceLocation where) {
    std::string got;
    for (const auto& column : source.columns) {
      if (column.role != role) continue;
      got += (got.empty() ? "`" : ", `") + column.name + "` " + column.type.ToString() +
             (role == ColumnRole::kKey ? " KEY" : "");
    }
    return Status::BindError(
        "The 'NONE' format can only be used when no columns are defined. Got: [" + got + "]", where,
        role == ColumnRole::kKey ? "remove KEY_FORMAT='NONE', or the KEY column"
                                 : "remove VALUE_FORMAT='NONE', or the value columns");
  };
  if (source.key_format == "NONE" && key_columns > 0) {
    return none_error(ColumnRole::kKey, places.key_format);
  }
  if (source.value_format == "NONE" && !value_columns.empty()) {
    return none_error(ColumnRole::kValue, places.value_format);
  }
  return Status::OK();
}

// The location of the first of `keys` set in `properties`, else `otherwise`.
SourceLocation PropertyLocation(const std::vector<sql::Property>& properties,
                                std::initializer_list<const char*> keys, SourceLocation otherwise) {
  for (const char* key : keys) {
    for (const sql::Property& property : properties) {
      if (property.key == key) return property.location;
    }
  }
  return otherwise;
}

// Applies WITH properties common to declarations and queries.
Status ApplyProperties(const std::vector<sql::Property>& properties, bool declaration,
                       SourceDescription& source) {
  std::set<std::string> seen;
  for (const sql::Property& property : properties) {
    const PropertyDefinition* definition = FindSourceProperty(property.key);
    if (definition == nullptr) {
      std::vector<std::string> names;
      for (const auto& known : SourceProperties()) names.push_back(known.name);
      std::string nearest = NearestName(property.key, names);
      return Status::InvalidArgument("Unknown property '" + property.key + "' in WITH clause",
                                     property.location,
                                     nearest.empty() ? "see `sidestream properties` for the list"
                                                     : "did you mean " + nearest + "?");
    }
    if (!seen.insert(property.key).second) {
      return Status::InvalidArgument("Duplicate property '" + property.key + "' in WITH clause",
                                     property.location);
    }
    if (declaration && definition->scope == PropertyScope::kQuery) {
      return Status::InvalidArgument(
          "Property '" + property.key + "' applies to CREATE ... AS SELECT only",
          property.location);
    }
    if (!declaration && definition->scope == PropertyScope::kDeclaration) {
      return Status::InvalidArgument(
          "Property '" + property.key + "' cannot be set on a query's sink", property.location);
    }
    bool type_ok = definition->type == PropertyValueType::kString
                       ? property.value.kind == sql::LiteralKind::kString
                   : definition->type == PropertyValueType::kInteger
                       ? property.value.kind == sql::LiteralKind::kInteger
                       : property.value.kind == sql::LiteralKind::kBoolean ||
                             property.value.kind == sql::LiteralKind::kString;
    if (!type_ok) {
      const char* expected = definition->type == PropertyValueType::kString    ? "a string"
                             : definition->type == PropertyValueType::kInteger ? "an integer"
                                                                               : "a boolean";
      return Status::InvalidArgument("Property '" + property.key + "' must be " + expected,
                                     property.location);
    }
    std::string value = PropertyText(property.value);
    source.properties[property.key] = value;
    const std::string& key = property.key;
    if (key == "KAFKA_TOPIC") {
      if (value.empty()) {
        return Status::InvalidArgument("KAFKA_TOPIC cannot be empty", property.location);
      }
      source.topic = value;
    } else if (key == "FORMAT" || key == "KEY_FORMAT" || key == "VALUE_FORMAT") {
      std::string format = Upper(value);
      if (!kKnownFormats.count(format)) {
        std::string nearest = NearestName(
            format, std::vector<std::string>(kKnownFormats.begin(), kKnownFormats.end()));
        return Status::InvalidArgument("Unknown format: " + value, property.location,
                                       nearest.empty()
                                           ? "use JSON, AVRO, PROTOBUF, DELIMITED, KAFKA or NONE"
                                           : "did you mean " + nearest + "?");
      }
      if (key != "VALUE_FORMAT") source.key_format = format;
      if (key != "KEY_FORMAT") source.value_format = format;
    } else if (key == "PARTITIONS") {
      if (property.value.integer_value <= 0) {
        return Status::InvalidArgument("PARTITIONS must be positive", property.location);
      }
      source.partitions = static_cast<int>(property.value.integer_value);
    } else if (key == "TIMESTAMP") {
      source.timestamp_column = Upper(value);
    } else if (key == "TIMESTAMP_FORMAT") {
      source.timestamp_format = value;
    } else if (key == "KEY_DELIMITER" || key == "VALUE_DELIMITER") {
      RETURN_NOT_OK(CheckDelimiter(key, value, property.location));
    }
  }
  if (seen.count("FORMAT") && (seen.count("KEY_FORMAT") || seen.count("VALUE_FORMAT"))) {
    return Status::InvalidArgument("FORMAT cannot be combined with KEY_FORMAT or VALUE_FORMAT",
                                   PropertyLocation(properties, {"FORMAT"}, {}),
                                   "set either FORMAT, or KEY_FORMAT and VALUE_FORMAT");
  }
  if (seen.count("VALUE_DELIMITER") && source.value_format != "DELIMITED") {
    return Status::InvalidArgument(
        source.value_format + " does not support the following configs: [delimiter]",
        PropertyLocation(properties, {"VALUE_DELIMITER"}, {}),
        "VALUE_DELIMITER applies to VALUE_FORMAT='DELIMITED' only");
  }
  std::string wrap = source.properties.count("WRAP_SINGLE_VALUE")
                         ? Upper(source.properties["WRAP_SINGLE_VALUE"])
                         : "";
  if (wrap == "TRUE" && (source.value_format == "DELIMITED" || source.value_format == "KAFKA")) {
    return Status::InvalidArgument(
        "Format '" + source.value_format + "' does not support 'WRAP_SINGLE_VALUE' set to 'true'.",
        PropertyLocation(properties, {"WRAP_SINGLE_VALUE"}, {}));
  }
  // A PROTOBUF value is always a message: its one column cannot be a bare value.
  if (wrap == "FALSE" &&
      (source.value_format == "PROTOBUF" || source.value_format == "PROTOBUF_NOSR")) {
    return Status::InvalidArgument(
        "Format '" + source.value_format + "' does not support 'WRAP_SINGLE_VALUE' set to 'false'.",
        PropertyLocation(properties, {"WRAP_SINGLE_VALUE"}, {}));
  }
  for (const char* key :
       {"KEY_PROTOBUF_NULLABLE_REPRESENTATION", "VALUE_PROTOBUF_NULLABLE_REPRESENTATION"}) {
    if (!source.properties.count(key)) continue;
    const std::string representation = Upper(source.properties[key]);
    if (representation != "OPTIONAL" && representation != "WRAPPER") {
      return Status::InvalidArgument(
          std::string(key) + " must be OPTIONAL or WRAPPER, not '" + source.properties[key] + "'",
          PropertyLocation(properties, {key}, {}));
    }
    const std::string& format = key[0] == 'K' ? source.key_format : source.value_format;
    if (format != "PROTOBUF" && format != "PROTOBUF_NOSR") {
      return Status::InvalidArgument(
          format + " does not support the following configs: [nullable.representation]",
          PropertyLocation(properties, {key}, {}),
          std::string(key) + " applies to the PROTOBUF formats only");
    }
  }
  return Status::OK();
}

Status CheckTimestampColumn(const SourceDescription& source, SourceLocation where) {
  if (!source.timestamp_column) return Status::OK();
  const catalog::Column* column = source.FindColumn(*source.timestamp_column);
  if (column == nullptr) {
    return Status::BindError(
        "The TIMESTAMP column set in the WITH clause does not exist in the "
        "schema: '" +
            *source.timestamp_column + "'",
        where);
  }
  TypeId id = column->type.id();
  if (id == TypeId::kString && !source.timestamp_format) {
    return Status::BindError(
        "TIMESTAMP column " + column->name + " is a STRING: set TIMESTAMP_FORMAT to parse it",
        where);
  }
  if (id != TypeId::kBigint && id != TypeId::kTimestamp && id != TypeId::kString) {
    return Status::BindError("TIMESTAMP column " + column->name +
                                 " must be BIGINT, TIMESTAMP or STRING but is " +
                                 column->type.ToString(),
                             where);
  }
  return Status::OK();
}

// The format and TIMESTAMP checks of a source or sink, with errors placed at the WITH
// property that caused them; `places.column` locates column errors.
// An Avro name: [A-Za-z_][A-Za-z0-9_]* (Avro's Schema.validateName, ksqlDB's message).
Status CheckAvroName(const std::string& name) {
  auto letter = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
  if (name.empty() || !letter(name[0])) {
    return Status::BindError("Schema is not compatible with Avro: Illegal initial character: " +
                             name);
  }
  for (char c : name) {
    if (!letter(c) && !std::isdigit(static_cast<unsigned char>(c))) {
      return Status::BindError("Schema is not compatible with Avro: Illegal character in: " + name);
    }
  }
  return Status::OK();
}

Status CheckAvroNames(const types::SqlType& type) {
  switch (type.id()) {
    case TypeId::kArray:
      return CheckAvroNames(type.element());
    case TypeId::kMap:
      // ksqlDB's AvroUtil.throwOnInvalidSchema: an Avro map's keys are strings.
      if (type.key().id() != TypeId::kString) {
        return Status::BindError("Avro only supports MAPs with STRING keys", SourceLocation{},
                                 "declare the map as MAP<STRING, " + type.value().ToString() +
                                     ">, or use another format");
      }
      return CheckAvroNames(type.value());
    case TypeId::kStruct:
      for (const auto& field : type.fields()) {
        RETURN_NOT_OK(CheckAvroName(field.name));
        RETURN_NOT_OK(CheckAvroNames(field.type));
      }
      return Status::OK();
    default:
      return Status::OK();
  }
}

// ksqlDB's format properties (FormatProperties.validateProperties): a full schema name only
// for the registry formats, and never blank; AVRO's field names must be Avro names.
Status CheckFormatProperties(const SourceDescription& source, SourceLocation location) {
  for (bool key : {true, false}) {
    const std::string& format = key ? source.key_format : source.value_format;
    for (const char* property : {key ? "KEY_SCHEMA_FULL_NAME" : "VALUE_SCHEMA_FULL_NAME",
                                 key ? "" : "VALUE_AVRO_SCHEMA_FULL_NAME"}) {
      auto found = source.properties.find(property);
      if (*property == '\0' || found == source.properties.end()) continue;
      if (format != "AVRO" && format != "JSON_SR" && format != "PROTOBUF") {
        return Status::BindError(
            format + " does not support the following configs: [fullSchemaName]", location);
      }
      const std::string& name = found->second;
      if (name.find_first_not_of(" \t\r\n") == std::string::npos) {
        return Status::BindError(
            "fullSchemaName cannot be empty. Format configuration: {fullSchemaName=}", location);
      }
    }
    if (!key && source.properties.count("WRAP_SINGLE_VALUE") > 0) {
      size_t values = 0;
      for (const auto& column : source.columns) values += column.role == ColumnRole::kValue;
      // ksqlDB's SerdeFeaturesFactory. Zero columns are left to the registry's inference.
      if (values > 1) {
        return Status::BindError(
            "'WRAP_SINGLE_VALUE' is only valid for single-field value schemas", location,
            "the value has " + std::to_string(values) + " columns: remove WRAP_SINGLE_VALUE");
      }
    }
    if (format != "AVRO") continue;
    size_t count = 0;
    for (const auto& column : source.columns) {
      if (column.role == (key ? ColumnRole::kKey : ColumnRole::kValue)) ++count;
    }
    for (const auto& column : source.columns) {
      if (column.role != (key ? ColumnRole::kKey : ColumnRole::kValue)) continue;
      // A single unwrapped column (a key, WRAP_SINGLE_VALUE=false) is no Avro field.
      auto wrap = source.properties.find("WRAP_SINGLE_VALUE");
      const bool unwrapped =
          count == 1 &&
          (key || (wrap != source.properties.end() && Upper(wrap->second) == "FALSE"));
      if (!unwrapped) RETURN_NOT_OK(CheckAvroName(column.name).WithLocation(location));
      RETURN_NOT_OK(CheckAvroNames(column.type).WithLocation(location));
    }
  }
  return Status::OK();
}

Status CheckFormatsAndTimestamp(const SourceDescription& source, const sql::Statement& statement,
                                FormatErrorPlaces places) {
  places.key_format =
      PropertyLocation(statement.properties, {"KEY_FORMAT", "FORMAT"}, statement.location);
  places.value_format =
      PropertyLocation(statement.properties, {"VALUE_FORMAT", "FORMAT"}, statement.location);
  RETURN_NOT_OK(CheckFormats(source, places));
  RETURN_NOT_OK(CheckFormatProperties(source, statement.location));
  return CheckTimestampColumn(
      source, PropertyLocation(statement.properties, {"TIMESTAMP"}, statement.location));
}

// Whether INSERT VALUES coerces a value of type `from` into a column of type `to`, as
// ksqlDB's DefaultSqlValueCoercer: implicitly, and a STRUCT field by field by name, each of
// the value's fields one of the column's (the column's other fields are NULL).
bool InsertConvertible(const SqlType& from, const SqlType& to) {
  if (types::ImplicitlyConvertible(from, to)) return true;
  if (from.id() != to.id()) return false;
  switch (from.id()) {
    case TypeId::kArray:
      return InsertConvertible(from.element(), to.element());
    case TypeId::kMap:
      return InsertConvertible(from.key(), to.key()) && InsertConvertible(from.value(), to.value());
    case TypeId::kStruct:
      for (const auto& field : from.fields()) {
        auto target = std::find_if(to.fields().begin(), to.fields().end(),
                                   [&](const auto& other) { return other.name == field.name; });
        if (target == to.fields().end() || !InsertConvertible(field.type, target->type)) {
          return false;
        }
      }
      return true;
    default:
      return false;
  }
}

// The first reference to WINDOWSTART or WINDOWEND in an expression, or null.
const sql::Expression* FindWindowBound(const sql::Expression& expression) {
  if (expression.kind == sql::ExpressionKind::kColumnRef &&
      (expression.name == "WINDOWSTART" || expression.name == "WINDOWEND")) {
    return &expression;
  }
  for (const auto& child : expression.children) {
    if (const sql::Expression* found = FindWindowBound(*child)) return found;
  }
  return nullptr;
}

// The state of one SELECT while it is being planned.
struct QueryPlanner {
  QueryPlanner(const catalog::Catalog& catalog, const functions::FunctionRegistry& functions,
               const sql::Query& query, sql::StatementKind statement_kind)
      : catalog(catalog), functions(functions), query(query), statement_kind(statement_kind) {}

  const catalog::Catalog& catalog;
  const functions::FunctionRegistry& functions;
  const sql::Query& query;
  sql::StatementKind statement_kind;
  SourceType sink_type = SourceType::kStream;  // what a CREATE asks for
  std::string sink_name;

  LogicalOperatorPtr plan;
  Scope scope;
  bool window_bounds_from_clause = false;  // WINDOWSTART/WINDOWEND come from query.window
  // The key of a FROM with joins: the last join's.
  struct JoinKey {
    int index = -1;  // its column in the join's output; -1 without joins
    types::SqlType type;
    std::vector<std::string> columns;  // sql of the join expressions that are source columns
    bool synthetic = false;            // ROWKEY: no side is a column, or a FULL OUTER join
    bool full_outer = false;
    std::string name;  // the synthetic key's name
    // A foreign-key join: the key is the left table's (`columns` holds it); its name.
    bool foreign_key = false;
    std::string left_source;
  } join_key;
  std::vector<SourceDescription> sources;
  bool matched = false;                 // FROM ... MATCH_RECOGNIZE
  std::vector<std::string> match_keys;  // its PARTITION BY columns: the result's key
  bool persistent() const { return statement_kind != sql::StatementKind::kSelect; }

  Result<SourceDescription> LookupSource(const sql::Relation& relation) {
    auto source = catalog.GetSource(relation.name);
    if (source.ok()) return source;
    std::vector<std::string> names;
    for (const auto& known : catalog.ListSources()) names.push_back(known.name);
    std::string nearest = NearestName(relation.name, names);
    return Status::NotFound("Source `" + relation.name + "` does not exist.", relation.location,
                            nearest.empty() ? "" : "did you mean " + nearest + "?");
  }

  LogicalOperatorPtr Scan(const SourceDescription& source, const std::string& qualifier,
                          int offset) {
    auto scan = std::make_unique<LogicalOperator>();
    scan->kind = LogicalOperatorKind::kScan;
    scan->source = source;
    scan->output.window_type = source.window_type;
    for (const auto& column : source.columns) {
      scan->output.columns.push_back({column.name, column.type, column.role});
    }
    for (size_t i = 0; i < scan->output.columns.size(); ++i) {
      const auto& column = scan->output.columns[i];
      scope.columns.push_back(
          {qualifier, column.name, column.type, offset + static_cast<int>(i), false});
    }
    return scan;
  }

  // Pseudo columns follow the real ones in scope; the runtime supplies them per record.
  void AddPseudoColumns(int offset, const std::string& qualifier, bool windowed) {
    std::vector<std::pair<std::string, SqlType>> pseudo = {{"ROWTIME", SqlType::Bigint()},
                                                           {"ROWPARTITION", SqlType::Int()},
                                                           {"ROWOFFSET", SqlType::Bigint()}};
    if (windowed) {
      pseudo.push_back({"WINDOWSTART", SqlType::Bigint()});
      pseudo.push_back({"WINDOWEND", SqlType::Bigint()});
    }
    for (size_t i = 0; i < pseudo.size(); ++i) {
      scope.columns.push_back(
          {qualifier, pseudo[i].first, pseudo[i].second, offset + static_cast<int>(i), true});
    }
  }

  Status PlanFrom() {
    ASSIGN_OR_RAISE(SourceDescription left, LookupSource(query.from));
    std::string left_qualifier = query.from.alias.empty() ? query.from.name : query.from.alias;
    plan = Scan(left, left_qualifier, 0);
    sources.push_back(left);
    if (query.match_recognize) return PlanMatchRecognize(left, left_qualifier);
    if (query.joins.empty()) {
      // A WINDOW clause gives its aggregation's projection WINDOWSTART and WINDOWEND.
      window_bounds_from_clause =
          left.window_type == catalog::WindowType::kNone && query.window.has_value();
      AddPseudoColumns(static_cast<int>(plan->output.columns.size()), left_qualifier,
                       left.window_type != catalog::WindowType::kNone || query.window);
      return Status::OK();
    }
    return PlanJoins(left, left_qualifier);
  }

  // FROM source MATCH_RECOGNIZE (...): the rows are re-keyed by PARTITION BY (through a
  // repartition topic unless those are the source's key columns, as GROUP BY does), and the
  // clause's output (partition columns, measures) is what the rest of the query reads.
  Status PlanMatchRecognize(const SourceDescription& source, const std::string& qualifier) {
    const sql::MatchRecognize& match = *query.match_recognize;
    if (source.type == SourceType::kTable) {
      return Status::BindError("MATCH_RECOGNIZE reads a stream, but " + source.name + " is a table",
                               query.from.location, "declare the topic as a STREAM");
    }
    if (source.window_type != catalog::WindowType::kNone) {
      return Status::NotSupported("MATCH_RECOGNIZE over a windowed source is not supported",
                                  query.from.location);
    }
    AddPseudoColumns(static_cast<int>(plan->output.columns.size()), qualifier, false);
    Scope output;
    ASSIGN_OR_RAISE(auto node, BindMatchRecognize(match, scope, qualifier, functions, output));
    std::vector<std::string> source_keys, partition_names;
    for (const auto& column : source.columns) {
      if (column.role == ColumnRole::kKey) source_keys.push_back(column.name);
    }
    for (const auto& expression : node->expressions) {
      partition_names.push_back(expression->name);
      match_keys.push_back(expression->name);
    }
    if (partition_names != source_keys && !partition_names.empty()) {
      auto repartition = std::make_unique<LogicalOperator>();
      repartition->kind = LogicalOperatorKind::kRepartition;
      repartition->output = plan->output;
      for (const auto& expression : node->expressions) {
        repartition->expressions.push_back(expression->Clone());
      }
      repartition->children.push_back(std::move(plan));
      plan = std::move(repartition);
    }
    node->children.push_back(std::move(plan));
    plan = std::move(node);
    scope = std::move(output);
    matched = true;
    return Status::OK();
  }

  // Which column ranges of the scope an expression reads.
  static void CollectIndices(const BoundExpression& expression, std::vector<int>& indices) {
    if (expression.kind == BoundKind::kColumn) indices.push_back(expression.column_index);
    for (const auto& child : expression.children) CollectIndices(*child, indices);
  }

  // FROM with joins. Each source's rows carry its own pseudo columns (so S.ROWTIME and
  // T.ROWTIME both resolve); a join's output is the left row, the right row, then the
  // join key, which the runtime computes and a key projection reads.
  Status PlanJoins(const SourceDescription& left, const std::string& left_qualifier) {
    scope.qualify_names = true;
    AddPseudoColumns(static_cast<int>(plan->output.columns.size()), left_qualifier,
                     left.window_type != catalog::WindowType::kNone);
    bool left_table = left.type == SourceType::kTable;
    for (const sql::Join& join : query.joins) {
      ASSIGN_OR_RAISE(SourceDescription right, LookupSource(join.right));
      std::string qualifier = join.right.alias.empty() ? join.right.name : join.right.alias;
      for (const SourceDescription& joined : sources) {
        if (joined.name == right.name) {
          return Status::NotSupported("Can not join '" + joined.name + "' to '" + right.name +
                                          "': self joins are not yet supported.",
                                      join.right.location);
        }
      }
      for (const ScopeColumn& column : scope.columns) {
        if (column.qualifier == qualifier) {
          return Status::BindError("Source " + qualifier + " appears twice in FROM",
                                   join.right.location, "give one of them an alias");
        }
      }
      bool right_table = right.type == SourceType::kTable;
      if (left_table && !right_table) {
        return Status::BindError(
            "Invalid join order: table-stream joins are not supported; only stream-table "
            "joins. Got " +
                sources.back().name + " JOIN " + right.name + ".",
            join.location, "put the stream first");
      }
      const SourceDescription& previous = sources.back();
      bool left_windowed = previous.window_type != catalog::WindowType::kNone;
      bool right_windowed = right.window_type != catalog::WindowType::kNone;
      if (left_windowed != right_windowed) {
        const SourceDescription& windowed = left_windowed ? previous : right;
        const SourceDescription& plain = left_windowed ? right : previous;
        return Status::BindError("Can not join windowed source to non-windowed source: `" +
                                     windowed.name + "` is " +
                                     catalog::WindowTypeName(windowed.window_type) +
                                     " windowed, `" + plain.name + "` is not windowed",
                                 join.location);
      }
      bool same_time_windows = previous.window_type == right.window_type &&
                               previous.window_size_ms == right.window_size_ms;
      if (left_windowed && right.window_type != catalog::WindowType::kSession &&
          previous.window_type != catalog::WindowType::kSession && !same_time_windows) {
        return Status::BindError("Implicit repartitioning of windowed sources is not supported.",
                                 join.location, "join sources with the same window type and size");
      }
      if (left_windowed && (previous.window_type == catalog::WindowType::kSession) !=
                               (right.window_type == catalog::WindowType::kSession)) {
        return Status::BindError(
            std::string("Incompatible windowed sources: left source ") +
                catalog::WindowTypeName(previous.window_type) + ", right source " +
                catalog::WindowTypeName(right.window_type) +
                ". Session windowed sources can only be joined to other session windowed "
                "sources.",
            join.location);
      }
      bool stream_stream = !left_table && !right_table;
      if (stream_stream && !join.within_before_ms) {
        return Status::BindError("Stream-stream joins must have a WITHIN clause specified.",
                                 join.location, "e.g. WITHIN 10 SECONDS");
      }
      if (!stream_stream && join.within_before_ms) {
        return Status::BindError("A join with a table does not accept WITHIN", join.location);
      }
      int left_width = static_cast<int>(scope.columns.size());
      auto right_scan = Scan(right, qualifier, left_width);
      AddPseudoColumns(static_cast<int>(scope.columns.size()), qualifier, right_windowed);

      auto node = std::make_unique<LogicalOperator>();
      node->kind = LogicalOperatorKind::kJoin;
      node->join_type = join.type;
      node->within_before_ms = join.within_before_ms;
      node->within_after_ms = join.within_after_ms;
      node->grace_ms = join.grace_ms;
      node->left_width = left_width;
      node->left_table = left_table;
      node->right_table = right_table;
      for (const ScopeColumn& column : scope.columns) {
        node->output.columns.push_back({column.name, column.type, ColumnRole::kValue});
      }
      node->output.window_type = previous.window_type;
      ExpressionBinder binder(scope, functions, "JOIN ON", AggregateRule::kForbiddenElsewhere);
      ASSIGN_OR_RAISE(node->join_condition, binder.Bind(*join.condition));
      const BoundExpression& condition = *node->join_condition;
      if (condition.type.id() != TypeId::kBoolean) {
        return Status::BindError("JOIN condition must be BOOLEAN but " + condition.sql + " is " +
                                     condition.type.ToString(),
                                 join.condition->location);
      }
      if (condition.kind != BoundKind::kBinary || condition.name != "=") {
        return Status::BindError(
            condition.kind == BoundKind::kBinary &&
                    (condition.name == "AND" || condition.name == "OR")
                ? "Invalid join condition: joins on multiple conditions are not yet "
                  "supported. Got " +
                      condition.sql + "."
                : "Unsupported join expression: " + condition.sql +
                      ". Joins need an equality of an expression of each side.",
            join.condition->location);
      }
      // Each side of `=` must read exactly one source: one the left input, one the right.
      const BoundExpression* sides[2] = {nullptr, nullptr};  // left input's, right input's
      for (const auto& operand : condition.children) {
        std::vector<int> indices;
        CollectIndices(*operand, indices);
        bool reads_left = false, reads_right = false;
        for (int index : indices) (index < left_width ? reads_left : reads_right) = true;
        if (reads_left == reads_right || sides[reads_right ? 1 : 0] != nullptr) {
          return Status::BindError("Invalid comparison expression '" + operand->sql +
                                       "' in join '" + condition.sql +
                                       "'. Each side of the join comparision must contain "
                                       "references from exactly one source.",
                                   join.condition->location);
        }
        sides[reads_right ? 1 : 0] = operand.get();
      }
      if (!(sides[0]->type == sides[1]->type)) {
        return Status::BindError("Invalid join condition: types don't match. Got " + sides[0]->sql +
                                     "{" + sides[0]->type.ToString() + "} = " + sides[1]->sql +
                                     "{" + sides[1]->type.ToString() + "}.",
                                 join.condition->location);
      }
      if (ContainsMap(sides[0]->type)) {
        return Status::BindError(
            "Map keys, including types that contain maps, are not supported as they may lead "
            "to unexpected behavior due to inconsistent serialization. Key column type: " +
                sides[0]->type.ToString(),
            join.condition->location);
      }
      // A table is looked up by its PRIMARY KEY, and cannot be re-keyed (ksqlDB's rules and
      // messages): the join must use it. A stream joined on another column is re-keyed by
      // the planner.
      // The left input of a later join is the previous join's result, keyed by its join key:
      // any of the columns that key is.
      auto on_primary_key = [&](int side) {
        if (side == 0 && sources.size() > 1) {
          return !join_key.synthetic && sides[0]->kind == BoundKind::kColumn &&
                 std::count(join_key.columns.begin(), join_key.columns.end(), sides[0]->sql) > 0;
        }
        const SourceDescription& described = side == 0 ? previous : right;
        int keys = 0;
        for (const auto& column : described.columns) keys += column.role == ColumnRole::kKey;
        return keys == 1 && IsKeyColumn(*sides[side], described);
      };
      const std::string got =
          ". Got " + condition.children.at(0)->sql + " = " + condition.children.at(1)->sql + ".";
      if (right_table && !on_primary_key(1)) {
        return Status::BindError(
            std::string("Invalid join condition: ") +
                (left_table ? "table-table joins require to join on the primary key of the "
                              "right input table"
                            : "stream-table joins require to join on the table's primary key") +
                got,
            join.condition->location);
      }
      // A table joined on a value (a foreign key) to another's PRIMARY KEY: the result is keyed
      // by the left table's key, which a third expression reads (runtime::JoinKind::kForeignKey).
      const bool foreign_key = left_table && !on_primary_key(0);
      const ScopeColumn* left_key = nullptr;
      if (foreign_key) {
        if (sources.size() > 1) {
          return Status::NotSupported(
              "Invalid join condition: foreign-key table-table joins are not supported as part "
              "of n-way joins" +
                  got,
              join.condition->location);
        }
        if (join.type == sql::JoinType::kRight) {
          return Status::BindError("RIGHT OUTER JOIN on a foreign key is not supported",
                                   join.location, "use a LEFT JOIN with the tables swapped");
        }
        if (join.type == sql::JoinType::kFull) {
          return Status::BindError(
              "Invalid join type: full-outer join not supported for foreign-key table-table "
              "join" +
                  got,
              join.location);
        }
        std::vector<const catalog::Column*> keys;
        for (const auto& column : previous.columns) {
          if (column.role == ColumnRole::kKey) keys.push_back(&column);
        }
        if (keys.size() != 1) {
          return Status::NotSupported(
              "Foreign-key table-table joins of a table with " + std::to_string(keys.size()) +
                  " PRIMARY KEY columns are not supported yet: " + previous.name +
                  " needs exactly one",
              join.condition->location);
        }
        for (const ScopeColumn& column : scope.columns) {
          if (column.qualifier == left_qualifier && column.name == keys[0]->name &&
              column.index < left_width) {
            left_key = &column;
          }
        }
        if (left_key == nullptr) {
          return Status::Internal("the left table's key " + keys[0]->name + " is not in scope");
        }
        // ksqlDB's LogicalPlanner checks the right table once the key types match.
        if (right.window_type != catalog::WindowType::kNone) {
          return Status::BindError(
              "Foreign-key table-table joins are not supported on windowed tables.",
              join.condition->location);
        }
      }
      node->expressions.push_back(sides[0]->Clone());
      node->expressions.push_back(sides[1]->Clone());
      if (left_table && sources.size() > 1 && !foreign_key) {
        // The previous join's result is keyed by its join key column, which a row always
        // has (its tombstones and an outer join's missing side leave the source columns NULL).
        auto reference = std::make_unique<BoundExpression>();
        reference->kind = BoundKind::kColumn;
        reference->type = join_key.type;
        reference->name = sides[0]->name;
        reference->sql = sides[0]->sql;
        reference->column_index = join_key.index;
        node->expressions[0] = std::move(reference);
      }
      if (foreign_key) {
        auto reference = std::make_unique<BoundExpression>();
        reference->kind = BoundKind::kColumn;
        reference->type = left_key->type;
        reference->name = left_key->name;
        reference->sql = left_key->qualifier + "." + left_key->name;
        reference->column_index = left_key->index;
        node->expressions.push_back(std::move(reference));
      }
      // Windowed sources join on their windowed keys: another join key would re-key them.
      for (int side = 0; side < 2 && left_windowed; ++side) {
        if (!IsKeyColumn(*sides[side], side == 0 ? previous : right)) {
          return Status::BindError(
              "Implicit repartitioning of windowed sources is not supported. See "
              "https://github.com/confluentinc/ksql/issues/4385.",
              join.condition->location, "join windowed sources on their key columns");
        }
      }
      // The join key: a source column when either side is one (FULL OUTER aside), else a
      // synthetic ROWKEY.
      join_key = JoinKey{};
      join_key.index = static_cast<int>(scope.columns.size());
      for (int side = 0; side < 2 && !foreign_key; ++side) {
        if (sides[side]->kind == BoundKind::kColumn) join_key.columns.push_back(sides[side]->sql);
      }
      join_key.type = sides[0]->type;
      if (foreign_key) {
        join_key.columns.push_back(node->expressions[2]->sql);
        join_key.type = left_key->type;
        join_key.foreign_key = true;
        join_key.left_source = previous.name;
      }
      join_key.full_outer = join.type == sql::JoinType::kFull;
      join_key.synthetic = join_key.full_outer || join_key.columns.empty();
      if (join_key.synthetic) join_key.name = SyntheticKeyName();
      node->output.columns.push_back(
          {join_key.synthetic ? join_key.name : std::string("KSQL_JOIN_KEY"), join_key.type,
           ColumnRole::kKey});
      scope.columns.push_back(
          {"", join_key.synthetic ? join_key.name : "", join_key.type, join_key.index, true});
      node->children.push_back(std::move(plan));
      node->children.push_back(std::move(right_scan));
      plan = std::move(node);
      sources.push_back(right);
      left_table = left_table && right_table;
    }
    std::vector<std::string> kafka_sources;
    for (const SourceDescription& read : sources) {
      if (read.value_format == "KAFKA") kafka_sources.push_back(read.name);
    }
    if (!kafka_sources.empty()) {
      return Status::BindError("Source(s) " + CommaNames(kafka_sources) +
                                   " are using the 'KAFKA' value format. This format does not "
                                   "yet support JOIN.",
                               query.joins.front().location,
                               "declare the sources with VALUE_FORMAT='JSON' or 'DELIMITED'");
    }
    return Status::OK();
  }

  // Whether `expression` is one of `source`'s key columns.
  static bool IsKeyColumn(const BoundExpression& expression, const SourceDescription& source) {
    const catalog::Column* column =
        expression.kind == BoundKind::kColumn ? source.FindColumn(expression.name) : nullptr;
    return column != nullptr && column->role == ColumnRole::kKey;
  }

  // Whether more than one source has a column called `name`.
  bool NameIsShared(const std::string& name) const {
    const ScopeColumn* first = nullptr;
    for (const ScopeColumn& column : scope.columns) {
      if (column.name != name) continue;
      if (first != nullptr && first->qualifier != column.qualifier) return true;
      first = &column;
    }
    return false;
  }

  // ROWKEY, or ROWKEY_n past the highest n the sources use (ksqlDB's rule).
  std::string SyntheticKeyName() const {
    bool used = false;
    int highest = 0;
    for (const ScopeColumn& column : scope.columns) {
      if (column.name == "ROWKEY") used = true;
      if (column.name.rfind("ROWKEY_", 0) == 0) {
        const std::string suffix = column.name.substr(7);
        if (!suffix.empty() && suffix.size() < 9 &&
            std::all_of(suffix.begin(), suffix.end(), ::isdigit)) {
          used = true;
          highest = std::max(highest, std::stoi(suffix));
        }
      }
    }
    return used ? "ROWKEY_" + std::to_string(highest + 1) : "ROWKEY";
  }

  void AddFilter(BoundExpressionPtr predicate) {
    auto filter = std::make_unique<LogicalOperator>();
    filter->kind = LogicalOperatorKind::kFilter;
    filter->output = plan->output;
    filter->predicate = std::move(predicate);
    filter->children.push_back(std::move(plan));
    plan = std::move(filter);
  }

  Status PlanWhere() {
    if (!query.where) return Status::OK();
    if (window_bounds_from_clause) {
      if (const sql::Expression* bound = FindWindowBound(*query.where)) {
        return Status::BindError("Error in WHERE expression: Unknown column " + bound->name + ".",
                                 bound->location,
                                 "the bounds of a WINDOW clause exist only after the aggregation");
      }
    }
    // WINDOWSTART and WINDOWEND of a WINDOW clause exist only after the aggregation.
    auto where_scope = scope;
    if (window_bounds_from_clause) {
      std::erase_if(where_scope.columns, [](const ScopeColumn& column) {
        return column.pseudo && (column.name == "WINDOWSTART" || column.name == "WINDOWEND");
      });
    }
    ExpressionBinder binder(where_scope, functions, "WHERE", AggregateRule::kForbiddenInWhere);
    ASSIGN_OR_RAISE(auto predicate, binder.Bind(*query.where));
    if (predicate->type.id() != TypeId::kBoolean && predicate->type.id() != TypeId::kNull) {
      return Status::BindError("WHERE expression must be BOOLEAN but " + predicate->sql + " is " +
                                   predicate->type.ToString(),
                               query.where->location);
    }
    AddFilter(std::move(predicate));
    return Status::OK();
  }
};

// The type of a HEADERS column: every header of the record, in order.
SqlType HeadersType() {
  return SqlType::Array(SqlType::Struct({{"KEY", SqlType::String()}, {"VALUE", SqlType::Bytes()}}));
}

bool IsTableCall(const BoundExpression& expression) {
  return expression.kind == BoundKind::kFunction && expression.function != nullptr &&
         expression.function->kind == functions::FunctionKind::kTable;
}

// Adds the table function calls in `expression` to `calls` (once per distinct call), as
// they read the FlatMap's input. A table function's arguments may hold neither another
// table function nor an aggregate: ksqlDB runs table functions before aggregating.
Status CollectTableCalls(const BoundExpression& expression, std::vector<BoundExpressionPtr>& calls,
                         SourceLocation location) {
  if (IsTableCall(expression)) {
    for (const auto& argument : expression.children) {
      std::function<Status(const BoundExpression&)> check =
          [&](const BoundExpression& node) -> Status {
        if (IsTableCall(node)) {
          return Status::BindError("Table functions cannot be nested: " + expression.sql, location);
        }
        if (node.kind == BoundKind::kAggregate) {
          return Status::BindError(
              "Table function arguments cannot hold aggregate functions: " + expression.sql,
              location);
        }
        for (const auto& child : node.children) RETURN_NOT_OK(check(*child));
        return Status::OK();
      };
      RETURN_NOT_OK(check(*argument));
    }
    for (const auto& call : calls) {
      if (call->sql == expression.sql) return Status::OK();
    }
    calls.push_back(expression.Clone());
    return Status::OK();
  }
  for (const auto& child : expression.children) {
    RETURN_NOT_OK(CollectTableCalls(*child, calls, location));
  }
  return Status::OK();
}

// Column references at or past `position` move up by `count`: the FlatMap's values go there.
void ShiftColumnsFrom(BoundExpression& expression, int position, int count) {
  if (expression.kind == BoundKind::kColumn && expression.column_index >= position) {
    expression.column_index += count;
  }
  for (auto& child : expression.children) ShiftColumnsFrom(*child, position, count);
}

// Replaces each table function call by a reference to the FlatMap column holding its value
// (the call at index i of `calls` is column position + i). False when a call is not there.
bool ReplaceTableCalls(BoundExpressionPtr& expression, const std::vector<BoundExpressionPtr>& calls,
                       int position) {
  if (IsTableCall(*expression)) {
    for (size_t i = 0; i < calls.size(); ++i) {
      if (calls[i]->sql != expression->sql) continue;
      auto reference = std::make_unique<BoundExpression>();
      reference->kind = BoundKind::kColumn;
      reference->type = expression->type;
      reference->sql = expression->sql;
      reference->name = "KSQL_SYNTH_" + std::to_string(i);
      reference->column_index = position + static_cast<int>(i);
      expression = std::move(reference);
      return true;
    }
    return false;
  }
  for (auto& child : expression->children) {
    if (!ReplaceTableCalls(child, calls, position)) return false;
  }
  return true;
}

// One SELECT item after star expansion and binding.
struct ProjectionItem {
  SourceLocation location;
  std::string name;
  bool explicit_name = false;  // an alias or a column's own name
  BoundExpressionPtr expression;
  bool aliased = false;          // named with AS
  bool from_expression = false;  // a SELECT expression, not `*` (which may name a ROWTIME key)
  std::string field_name{};      // an unaliased struct dereference: its field's name
};

// Replaces sub-expressions that equal a GROUP BY expression by references to the key
// column, and aggregate calls by references to their result column. Column references
// left over are not grouped: they are collected into `ungrouped`.
class AggregateRewriter {
 public:
  AggregateRewriter(const std::vector<BoundExpressionPtr>& group_by, LogicalOperator& aggregate,
                    int aggregate_offset)
      : group_by_(group_by), aggregate_(aggregate), aggregate_offset_(aggregate_offset) {}

  BoundExpressionPtr Rewrite(const BoundExpression& expression,
                             std::vector<std::string>& ungrouped) {
    for (size_t i = 0; i < group_by_.size(); ++i) {
      if (group_by_[i]->sql == expression.sql) {
        return Reference(static_cast<int>(i), expression);
      }
    }
    if (expression.kind == BoundKind::kAggregate) {
      for (size_t i = 0; i < aggregate_.aggregates.size(); ++i) {
        if (aggregate_.aggregates[i].call->sql == expression.sql) {
          return Reference(aggregate_offset_ + static_cast<int>(i), expression);
        }
      }
      std::string name = "KSQL_AGG_VARIABLE_" + std::to_string(aggregate_.aggregates.size());
      aggregate_.aggregates.push_back({name, expression.Clone()});
      aggregate_.output.columns.push_back({name, expression.type, ColumnRole::kValue});
      return Reference(aggregate_offset_ + static_cast<int>(aggregate_.aggregates.size()) - 1,
                       expression);
    }
    if (expression.kind == BoundKind::kColumn) {
      if (expression.name == "WINDOWSTART" || expression.name == "WINDOWEND" ||
          expression.name == "ROWTIME") {
        auto node = expression.Clone();
        node->column_index = -1;  // resolved against the aggregate's output below
        pseudo_.push_back(node.get());
        return node;
      }
      ungrouped.push_back(expression.sql);
      return expression.Clone();
    }
    auto copy = expression.Clone();
    for (size_t i = 0; i < copy->children.size(); ++i) {
      copy->children[i] = Rewrite(*expression.children[i], ungrouped);
    }
    return copy;
  }

  /// Pseudo-column references created by Rewrite; their indexes are set once the
  /// aggregate's output schema is final.
  const std::vector<BoundExpression*>& pseudo_references() const { return pseudo_; }

 private:
  BoundExpressionPtr Reference(int index, const BoundExpression& original) {
    auto node = std::make_unique<BoundExpression>();
    node->kind = BoundKind::kColumn;
    node->type = original.type;
    node->sql = original.sql;
    node->column_index = index;
    node->name = index < static_cast<int>(aggregate_.output.columns.size())
                     ? aggregate_.output.columns[index].name
                     : original.sql;
    return node;
  }

  const std::vector<BoundExpressionPtr>& group_by_;
  LogicalOperator& aggregate_;
  int aggregate_offset_;
  std::vector<BoundExpression*> pseudo_;
};

class StatementAnalyzer {
 public:
  StatementAnalyzer(const catalog::Catalog& catalog, const functions::FunctionRegistry& functions,
                    const SessionProperties& properties)
      : catalog_(catalog), functions_(functions), properties_(properties) {}

  Result<AnalyzedStatement> Analyze(const sql::Statement& statement) {
    AnalyzedStatement result;
    result.kind = statement.kind;
    result.text = statement.text;
    switch (statement.kind) {
      case sql::StatementKind::kCreateSource:
        RETURN_NOT_OK(AnalyzeCreateSource(statement, result));
        break;
      case sql::StatementKind::kCreateAsSelect:
      case sql::StatementKind::kInsertInto:
      case sql::StatementKind::kSelect:
        RETURN_NOT_OK(AnalyzeQuery(statement, result));
        break;
      case sql::StatementKind::kCreateType: {
        if (catalog_.GetType(statement.name).ok() && !statement.if_not_exists) {
          return Status::AlreadyExists("Type " + statement.name + " already exists",
                                       statement.name_location);
        }
        result.target_name = statement.name;
        ASSIGN_OR_RAISE(result.type, ResolveTypeNames(statement.type, statement.type_names));
        result.if_not_exists = statement.if_not_exists;
        break;
      }
      case sql::StatementKind::kDrop:
        RETURN_NOT_OK(AnalyzeDrop(statement, result));
        break;
      case sql::StatementKind::kCreateConnector:
        RETURN_NOT_OK(AnalyzeCreateConnector(statement, result));
        break;
      case sql::StatementKind::kDescribe:
        if (statement.describe_connector) {
          RETURN_NOT_OK(RequireConnector(statement.name, statement.name_location));
          result.targets_connector = true;
          result.target_name = statement.name;
          break;
        }
        if (!statement.describe_function && !statement.name.empty()) {
          RETURN_NOT_OK(RequireSource(statement.name, statement.name_location));
        }
        if (statement.describe_function && !functions_.Find(statement.name)) {
          std::string nearest = functions_.Suggest(statement.name);
          return Status::NotFound("Can't find any functions with the name '" + statement.name + "'",
                                  statement.name_location,
                                  nearest.empty() ? "" : "did you mean " + nearest + "?");
        }
        result.target_name = statement.name;
        break;
      case sql::StatementKind::kTerminate:
      case sql::StatementKind::kPause:
      case sql::StatementKind::kResume:
        if (!statement.all_queries && !catalog_.GetQuery(statement.query_id).ok()) {
          return Status::NotFound(
              "Unknown query id: " + statement.query_id,
              statement.name_location.line > 0 ? statement.name_location : statement.location,
              "SHOW QUERIES lists the running ones");
        }
        result.target_name = statement.query_id;
        break;
      case sql::StatementKind::kExplain:
        if (statement.explained) {
          ASSIGN_OR_RAISE(auto inner, Analyze(*statement.explained));
          result.explained = std::make_unique<AnalyzedStatement>(std::move(inner));
        } else if (!catalog_.GetQuery(statement.query_id).ok()) {
          return Status::NotFound("Unknown query id: " + statement.query_id, statement.location);
        } else {
          result.target_name = statement.query_id;
        }
        break;
      case sql::StatementKind::kInsertValues:
        RETURN_NOT_OK(AnalyzeInsertValues(statement, result));
        break;
      case sql::StatementKind::kSet:
        for (const char* property : {kDefaultKeyFormatProperty, kDefaultValueFormatProperty}) {
          if (statement.property_name != property) continue;
          RETURN_NOT_OK(
              FormatProperty(property, statement.property_value, statement.location).status());
        }
        break;
      case sql::StatementKind::kShow:
      case sql::StatementKind::kUnset:
        break;
    }
    return result;
  }

 private:
  Status RequireSource(const std::string& name, SourceLocation where) {
    if (catalog_.HasSource(name)) return Status::OK();
    std::vector<std::string> names;
    for (const auto& known : catalog_.ListSources()) names.push_back(known.name);
    std::string nearest = NearestName(name, names);
    return Status::NotFound("Source `" + name + "` does not exist.", where,
                            nearest.empty() ? "" : "did you mean " + nearest + "?");
  }

  Status RequireConnector(const std::string& name, SourceLocation where) {
    if (catalog_.GetConnector(name).ok()) return Status::OK();
    std::vector<std::string> names;
    for (const auto& known : catalog_.ListConnectors()) names.push_back(known.name);
    std::string nearest = NearestName(name, names);
    return Status::NotFound(
        "Connector " + name + " does not exist", where,
        nearest.empty() ? "SHOW CONNECTORS lists them" : "did you mean " + nearest + "?");
  }

  Status AnalyzeCreateConnector(const sql::Statement& statement, AnalyzedStatement& result) {
    if (statement.source_connector) {
      return Status::NotSupported("Source connectors are not supported", statement.location,
                                  "Sidestream runs sink connectors: CREATE SINK CONNECTOR");
    }
    result.if_not_exists = statement.if_not_exists;
    result.target_name = statement.name;
    if (catalog_.GetConnector(statement.name).ok()) {
      if (statement.if_not_exists) return Status::OK();
      return Status::AlreadyExists("Connector " + statement.name + " already exists",
                                   statement.name_location, "DROP CONNECTOR it first");
    }
    catalog::ConnectorDescription connector;
    connector.name = statement.name;
    ASSIGN_OR_RAISE(connector.properties, CheckConnectorProperties(statement));
    connector.connector_class = connector.properties["connector.class"];
    connector.sql = statement.text;
    result.new_connector = std::move(connector);
    return Status::OK();
  }

  Status AnalyzeDrop(const sql::Statement& statement, AnalyzedStatement& result) {
    result.target_name = statement.name;
    result.if_exists = statement.if_exists;
    result.delete_topic = statement.delete_topic;
    if (statement.drop_target == sql::DropTarget::kConnector) {
      result.targets_connector = true;
      if (statement.if_exists) return Status::OK();
      return RequireConnector(statement.name, statement.name_location);
    }
    if (statement.drop_target == sql::DropTarget::kType) {
      if (!catalog_.GetType(statement.name).ok() && !statement.if_exists) {
        return Status::NotFound("Type " + statement.name + " does not exist",
                                statement.name_location);
      }
      return Status::OK();
    }
    auto source = catalog_.GetSource(statement.name);
    if (!source.ok()) {
      return statement.if_exists ? Status::OK()
                                 : RequireSource(statement.name, statement.name_location);
    }
    SourceType wanted =
        statement.drop_target == sql::DropTarget::kTable ? SourceType::kTable : SourceType::kStream;
    if (source->type != wanted) {
      return Status::BindError(
          "Incompatible data source type is " +
              std::string(source->type == SourceType::kTable ? "TABLE" : "STREAM") +
              ", but statement was DROP " + (wanted == SourceType::kTable ? "TABLE" : "STREAM"),
          statement.name_location);
    }
    // ksqlDB's TopicDeleteInjector refuses this before the queries are looked at.
    if (statement.delete_topic && source->read_only) {
      return Status::BindError("Cannot delete topic for read-only source: " + source->name,
                               statement.name_location, "DROP without DELETE TOPIC");
    }
    for (const auto& query : catalog_.ListQueries()) {
      bool reads = std::find(query.source_names.begin(), query.source_names.end(),
                             statement.name) != query.source_names.end();
      // As in ksqlDB, the CREATE ... AS SELECT query that writes the source goes with it; a
      // reader, or an INSERT INTO that writes it too, must be terminated first.
      if (!reads && query.id == source->writer_query_id) {
        result.writer_query_id = query.id;
        continue;
      }
      if (reads || query.sink_name == statement.name) {
        return Status::BindError("Cannot drop " + statement.name + ": query " + query.id +
                                     (reads ? " reads from it" : " writes to it"),
                                 statement.name_location, "TERMINATE " + query.id + " first");
      }
    }
    if (statement.delete_topic) {
      std::vector<std::string> sharing;
      for (const auto& other : catalog_.ListSources()) {
        if (other.name != source->name && other.topic == source->topic) {
          sharing.push_back(other.name);
        }
      }
      if (!sharing.empty()) {
        std::sort(sharing.begin(), sharing.end());
        std::string names;
        for (const std::string& name : sharing) names += (names.empty() ? "" : ", ") + name;
        return Status::BindError("Refusing to delete topic. Found other data sources (" + names +
                                     ") using topic " + source->topic,
                                 statement.name_location, "DROP without DELETE TOPIC");
      }
      result.topic_to_delete = source->topic;
    }
    return Status::OK();
  }

  // `type` with part `path[depth...]` replaced by `with`.
  static SqlType ReplacePart(const SqlType& type, const std::vector<size_t>& path, size_t depth,
                             const SqlType& with) {
    if (depth == path.size()) return with;
    const size_t step = path[depth];
    switch (type.id()) {
      case TypeId::kArray:
        return SqlType::Array(ReplacePart(type.element(), path, depth + 1, with));
      case TypeId::kMap:
        return step == 0
                   ? SqlType::Map(ReplacePart(type.key(), path, depth + 1, with), type.value())
                   : SqlType::Map(type.key(), ReplacePart(type.value(), path, depth + 1, with));
      case TypeId::kStruct: {
        std::vector<types::StructField> fields = type.fields();
        fields.at(step).type = ReplacePart(fields.at(step).type, path, depth + 1, with);
        return SqlType::Struct(std::move(fields));
      }
      default:
        return type;
    }
  }

  // `type` with each CREATE TYPE name it uses replaced by the type the name stands for.
  Result<SqlType> ResolveTypeNames(SqlType type, const std::vector<sql::NamedTypeUse>& names) {
    for (const sql::NamedTypeUse& use : names) {
      auto named = catalog_.GetType(use.name);
      if (!named.ok()) {
        return Status::NotFound("Unknown type '" + use.name + "'", use.location,
                                "declare it with CREATE TYPE");
      }
      type = ReplacePart(type, use.path, 0, *named);
    }
    return type;
  }

  Result<SqlType> ResolveColumnType(const sql::ColumnDefinition& column) {
    if (column.custom_type.empty())
      return ResolveTypeNames(column.type, column.nested_custom_types);
    auto type = catalog_.GetType(column.custom_type);
    if (!type.ok()) {
      std::string nearest =
          NearestName(column.custom_type,
                      {"BOOLEAN", "INT", "INTEGER", "BIGINT", "DOUBLE", "DECIMAL", "STRING",
                       "VARCHAR", "BYTES", "TIMESTAMP", "DATE", "TIME", "ARRAY", "MAP", "STRUCT"});
      return Status::NotFound(
          "Unknown type '" + column.custom_type + "' for column " + column.name, column.location,
          nearest.empty() ? "declare it with CREATE TYPE" : "did you mean " + nearest + "?");
    }
    return type;
  }

  // The session's default key format (kDefaultKeyFormatProperty); KAFKA when unset.
  Result<std::string> DefaultKeyFormat(SourceLocation location) const {
    auto found = properties_.find(kDefaultKeyFormatProperty);
    if (found == properties_.end()) return std::string("KAFKA");
    return FormatProperty(kDefaultKeyFormatProperty, found->second, location);
  }

  // ksqlDB's SerdeFeaturesFactory.getDefaultValueWrapping: a single value column without
  // WRAP_SINGLE_VALUE follows the session's kWrapSingleValuesProperty where the value format
  // supports it. Only "false" changes anything: wrapped is the default.
  void ApplyDefaultValueWrapping(SourceDescription& source) const {
    auto found = properties_.find(kWrapSingleValuesProperty);
    if (found == properties_.end() || Upper(found->second) != "FALSE") return;
    if (source.properties.count("WRAP_SINGLE_VALUE") > 0) return;
    size_t values = 0;
    for (const auto& column : source.columns) values += column.role == ColumnRole::kValue;
    const std::string& format = source.value_format;
    if (values == 1 && (format == "JSON" || format == "JSON_SR" || format == "AVRO")) {
      source.properties["WRAP_SINGLE_VALUE"] = "false";
    }
  }

  // The key (`key`) or value columns of an AVRO, JSON_SR or PROTOBUF source from the registry
  // (ksqlDB's SchemaRegistryTopicSchemaSupplier): the schema with KEY_/VALUE_SCHEMA_ID, else
  // the latest under "<topic>-key" / "<topic>-value". Field names are upper-cased unless a
  // schema id names the schema. None when the format infers nothing, no registry is
  // configured, or (for a key) the subject is absent.
  Result<std::vector<catalog::Column>> InferColumns(const sql::Statement& statement,
                                                    const SourceDescription& source, bool key) {
    std::vector<catalog::Column> columns;
    const std::string format = key ? source.key_format : source.value_format;
    const std::string url = registry::DefaultSchemaRegistryUrl();
    if (!InfersSchema(format) || url.empty()) return columns;
    ASSIGN_OR_RAISE(auto client, registry::SharedSchemaRegistry(url));
    const std::string subject = source.topic + (key ? "-key" : "-value");
    auto id = source.properties.find(key ? "KEY_SCHEMA_ID" : "VALUE_SCHEMA_ID");
    auto schema =
        id != source.properties.end()
            ? client->GetById(static_cast<int32_t>(std::strtol(id->second.c_str(), nullptr, 10)))
            : client->GetLatest(subject);
    if (!schema.ok()) {
      if (key && schema.status().code() == StatusCode::kNotFound) return columns;
      return Status::InvalidArgument(
          "Schema for message " + std::string(key ? "keys" : "values") + " on topic '" +
              source.topic +
              "' does not exist in the Schema Registry: " + schema.status().message(),
          statement.location);
    }
    const bool upper_case = id == source.properties.end();
    // Keys are always unwrapped, values when WRAP_SINGLE_VALUE=false (ksqlDB's UNWRAP_SINGLES):
    // the whole schema is then one column. PROTOBUF cannot unwrap.
    auto wrap = source.properties.find("WRAP_SINGLE_VALUE");
    const bool whole_schema =
        format != "PROTOBUF" &&
        (key || (wrap != source.properties.end() && Upper(wrap->second) == "FALSE"));
    auto full_name =
        source.properties.find(key ? "KEY_SCHEMA_FULL_NAME" : "VALUE_SCHEMA_FULL_NAME");
    std::vector<registry::NamedSchema> references;
    if (format == "PROTOBUF") {
      auto referenced = registry::ReferencedSchemas(*client, *schema);
      if (!referenced.ok()) {
        return Status::InvalidArgument(
            "Cannot infer the columns of " + subject + ": " + referenced.status().message(),
            statement.location);
      }
      references = std::move(*referenced);
    }
    auto inferred =
        format == "PROTOBUF"
            ? formats::ColumnsOfProtobufSchema(
                  schema->schema, full_name != source.properties.end() ? full_name->second : "",
                  upper_case, references)
        : format == "JSON_SR"
            ? formats::ColumnsOfJsonSchema(schema->schema, key ? "ROWKEY" : "ROWVAL", whole_schema,
                                           upper_case)
            : formats::ColumnsOfAvroSchema(schema->schema, key ? "ROWKEY" : "ROWVAL", whole_schema,
                                           upper_case);
    if (!inferred.ok() && inferred.status().code() == StatusCode::kNotFound) {
      // ksqlDB's words when the named message is not in the schema.
      return Status::InvalidArgument(
          "Schema for message " + std::string(key ? "keys" : "values") + " on topic '" +
              source.topic +
              "' does not exist in the Schema Registry: " + inferred.status().message(),
          statement.location);
    }
    if (!inferred.ok()) {
      return Status::InvalidArgument(
          "Cannot infer the columns of " + subject + ": " + inferred.status().message(),
          statement.location);
    }
    for (auto& inferred_column : *inferred) {
      catalog::Column column;
      column.name = std::move(inferred_column.name);
      column.type = std::move(inferred_column.type);
      column.role = key ? ColumnRole::kKey : ColumnRole::kValue;
      columns.push_back(std::move(column));
    }
    return columns;
  }

  // ksqlDB's rule for a CREATE ... AS SELECT with KEY_/VALUE_SCHEMA_ID (DefaultSchemaInjector's
  // checkColumnsCompatibility): the format must infer schemas, and each result column must be
  // the registered schema's column at its place, with its name and type; the schema may have
  // more columns after them. The sink then writes with that schema.
  Status CheckSinkSchemaIds(const sql::Statement& statement, const SourceDescription& sink) {
    for (bool key : {true, false}) {
      const char* id_property = key ? "KEY_SCHEMA_ID" : "VALUE_SCHEMA_ID";
      if (sink.properties.count(id_property) == 0) continue;
      const std::string& format = key ? sink.key_format : sink.value_format;
      if (!InfersSchema(format)) {
        return Status::InvalidArgument(std::string(key ? "KEY_FORMAT" : "VALUE_FORMAT") +
                                           " should support schema inference when " + id_property +
                                           " is provided. Current format is " + format + ".",
                                       statement.location);
      }
      ASSIGN_OR_RAISE(auto inferred, InferColumns(statement, sink, key));
      if (inferred.empty()) continue;  // no registry configured
      auto describe = [](const std::vector<const catalog::Column*>& columns) {
        std::string text;
        for (const catalog::Column* column : columns) {
          text += (text.empty() ? "`" : ", `") + column->name + "` " + column->type.ToString();
        }
        return "[" + text + "]";
      };
      std::vector<const catalog::Column*> changed, registered;
      for (const auto& column : inferred) registered.push_back(&column);
      size_t index = 0;
      for (const auto& column : sink.columns) {
        if (column.role != (key ? ColumnRole::kKey : ColumnRole::kValue)) continue;
        if (index >= inferred.size() || inferred[index].name != column.name ||
            !(inferred[index].type == column.type)) {
          changed.push_back(&column);
        }
        ++index;
      }
      if (!changed.empty()) {
        return Status::InvalidArgument(
            "The following " + std::string(key ? "key" : "value") +
                " columns are changed, missing or reordered: " + describe(changed) +
                ". Schema from schema registry is " + describe(registered),
            statement.location);
      }
    }
    return Status::OK();
  }

  Status AnalyzeCreateSource(const sql::Statement& statement, AnalyzedStatement& result) {
    SourceDescription source;
    source.name = statement.name;
    source.type =
        statement.source_kind == sql::SourceKind::kTable ? SourceType::kTable : SourceType::kStream;
    source.sql = statement.text;
    source.read_only = statement.source_only;
    if (statement.or_replace) {
      auto existing = catalog_.GetSource(source.name);
      if (statement.source_only || (existing.ok() && existing->read_only)) {
        const char* kind = source.type == SourceType::kTable ? "table" : "stream";
        return Status::BindError(std::string("Cannot add ") + kind + " '" + source.name +
                                     "': CREATE OR REPLACE is not supported on source " + kind +
                                     "s.",
                                 statement.name_location,
                                 "a SOURCE stream or table is read-only: DROP it and CREATE it "
                                 "again");
      }
    }
    source.value_format = "";
    ASSIGN_OR_RAISE(source.key_format, DefaultKeyFormat(statement.location));
    RETURN_NOT_OK(ApplyProperties(statement.properties, true, source));
    if (source.topic.empty()) {
      return Status::InvalidArgument("Missing required property \"KAFKA_TOPIC\" in WITH clause",
                                     statement.location, "add WITH (KAFKA_TOPIC='topic', ...)");
    }
    if (source.value_format.empty()) {
      auto found = properties_.find(kDefaultValueFormatProperty);
      if (found == properties_.end()) {
        return Status::InvalidArgument(
            "Statement is missing the 'VALUE_FORMAT' property from the WITH clause. Either "
            "provide one or set a default via the '" +
                std::string(kDefaultValueFormatProperty) + "' config.",
            statement.location, "add VALUE_FORMAT='JSON' (or FORMAT='JSON')");
      }
      ASSIGN_OR_RAISE(source.value_format, FormatProperty(kDefaultValueFormatProperty,
                                                          found->second, statement.location));
    }
    std::set<std::string> names;
    std::vector<catalog::Column> keys, values, headers;
    for (const auto& definition : statement.columns) {
      if (!names.insert(definition.name).second) {
        return Status::BindError("Duplicate column name '" + definition.name + "'",
                                 definition.location);
      }
      if (definition.name == "ROWTIME" || definition.name == "ROWPARTITION" ||
          definition.name == "ROWOFFSET" || definition.name == "WINDOWSTART" ||
          definition.name == "WINDOWEND") {
        return Status::BindError("'" + definition.name +
                                     "' is a reserved column name. You cannot use it as a name "
                                     "for a column.",
                                 definition.location, "rename the column");
      }
      catalog::Column column;
      column.name = definition.name;
      ASSIGN_OR_RAISE(column.type, ResolveColumnType(definition));
      switch (definition.constraint) {
        case sql::ColumnConstraint::kKey:
          if (source.type == SourceType::kTable) {
            return Status::BindError(
                "Column `" + definition.name +
                    "` is a 'KEY' column: please use 'PRIMARY KEY' for tables.",
                definition.location);
          }
          column.role = ColumnRole::kKey;
          keys.push_back(column);
          break;
        case sql::ColumnConstraint::kPrimaryKey:
          if (source.type == SourceType::kStream) {
            return Status::BindError(
                "Column `" + definition.name +
                    "` is a 'PRIMARY KEY' column: please use 'KEY' for streams.",
                definition.location,
                "Tables have PRIMARY KEYs, which are unique and NON NULL. "
                "Streams have KEYs, which have no uniqueness or NON NULL "
                "constraints.");
          }
          column.role = ColumnRole::kKey;
          keys.push_back(column);
          break;
        case sql::ColumnConstraint::kHeaders:
          if (definition.header_key.empty() && column.type != HeadersType()) {
            return Status::BindError("Invalid type for HEADERS column: expected " +
                                         HeadersType().ToString() + ", got " +
                                         column.type.ToString(),
                                     definition.location);
          }
          if (!definition.header_key.empty() && column.type.id() != TypeId::kBytes) {
            return Status::BindError("Invalid type for HEADER('" + definition.header_key +
                                         "') column: expected BYTES, got " + column.type.ToString(),
                                     definition.location);
          }
          column.role = ColumnRole::kHeader;
          column.header_key = definition.header_key;
          headers.push_back(column);
          break;
        case sql::ColumnConstraint::kNone:
          values.push_back(column);
          break;
      }
    }
    // Schema inference (ksqlDB's DefaultSchemaInjector): the key or value columns a CREATE
    // leaves out come from the registry when their format can infer them; a schema id asks
    // for inference and so needs such a format and no declared columns of its kind.
    for (bool key : {true, false}) {
      const char* id_property = key ? "KEY_SCHEMA_ID" : "VALUE_SCHEMA_ID";
      const std::string& format = key ? source.key_format : source.value_format;
      if (source.properties.count(id_property) != 0) {
        if (!InfersSchema(format)) {
          return Status::InvalidArgument(std::string(key ? "KEY_FORMAT" : "VALUE_FORMAT") +
                                             " should support schema inference when " +
                                             id_property + " is provided. Current format is " +
                                             format + ".",
                                         statement.location);
        }
        if (!(key ? keys : values).empty()) {
          return Status::InvalidArgument(std::string("Table elements and ") + id_property +
                                             " cannot both exist for create statement.",
                                         statement.location);
        }
      }
    }
    if (values.empty()) {
      ASSIGN_OR_RAISE(values, InferColumns(statement, source, false));
    }
    if (keys.empty()) {
      ASSIGN_OR_RAISE(keys, InferColumns(statement, source, true));
    }
    if (statement.columns.empty() && values.empty()) {
      return Status::NotSupported(
          "Schema inference needs VALUE_FORMAT='AVRO', 'JSON_SR' or 'PROTOBUF' and a schema "
          "registry (ksql.schema.registry.url): declare the columns",
          statement.location);
    }
    if (source.type == SourceType::kTable && keys.empty()) {
      return Status::BindError("Tables require a PRIMARY KEY. Please define the PRIMARY KEY.",
                               statement.location, "e.g. ID BIGINT PRIMARY KEY");
    }
    if (keys.empty() && statement.FindProperty("WINDOW_TYPE") != nullptr) {
      return Status::BindError("Windowed sources require a key column.",
                               statement.FindProperty("WINDOW_TYPE")->location,
                               "declare the KEY column the window belongs to");
    }
    if (keys.empty() && !statement.FindProperty("KEY_FORMAT") &&
        !statement.FindProperty("FORMAT")) {
      source.key_format = "NONE";
    }
    source.columns = keys;
    source.columns.insert(source.columns.end(), values.begin(), values.end());
    source.columns.insert(source.columns.end(), headers.begin(), headers.end());
    ApplyDefaultValueWrapping(source);
    FormatErrorPlaces places;
    places.column = [&](const std::string& name) {
      for (const auto& definition : statement.columns) {
        if (definition.name == name) return definition.location;
      }
      return statement.location;
    };
    RETURN_NOT_OK(CheckFormatsAndTimestamp(source, statement, places));
    RETURN_NOT_OK(ApplyWindowProperties(statement, source));
    if (statement.watermark) {
      const auto& watermark = *statement.watermark;
      const catalog::Column* column = source.FindColumn(watermark.column);
      if (column == nullptr) {
        std::vector<std::string> names;
        for (const auto& known : source.columns) names.push_back(known.name);
        std::string nearest = NearestName(watermark.column, names);
        return Status::BindError("WATERMARK column '" + watermark.column + "' is not a column",
                                 watermark.location,
                                 nearest.empty() ? "" : "did you mean " + nearest + "?");
      }
      if (column->type.id() != TypeId::kBigint && column->type.id() != TypeId::kTimestamp) {
        return Status::BindError("WATERMARK column " + watermark.column +
                                     " must be BIGINT (epoch ms) or TIMESTAMP but is " +
                                     column->type.ToString(),
                                 watermark.location);
      }
      if (source.timestamp_column && *source.timestamp_column != watermark.column) {
        return Status::BindError("WATERMARK FOR " + watermark.column +
                                     " conflicts with TIMESTAMP='" + *source.timestamp_column + "'",
                                 watermark.location);
      }
      if (watermark.delay_ms < 0) {
        return Status::BindError("WATERMARK delay must not be negative", watermark.location);
      }
      source.timestamp_column = watermark.column;
      source.watermark_delay_ms = watermark.delay_ms;
    }
    if (!statement.or_replace && !statement.if_not_exists && catalog_.HasSource(source.name)) {
      return Status::AlreadyExists(
          std::string("Cannot add ") + (source.type == SourceType::kTable ? "table" : "stream") +
              " '" + source.name + "': A source with the same name already exists",
          statement.name_location, "use CREATE OR REPLACE, or DROP it first");
    }
    result.new_source = std::move(source);
    result.or_replace = statement.or_replace;
    result.if_not_exists = statement.if_not_exists;
    return Status::OK();
  }

  Status ApplyWindowProperties(const sql::Statement& statement, SourceDescription& source) {
    const sql::Property* window_type = statement.FindProperty("WINDOW_TYPE");
    const sql::Property* window_size = statement.FindProperty("WINDOW_SIZE");
    if (window_type == nullptr) {
      if (window_size != nullptr) {
        return Status::InvalidArgument("WINDOW_SIZE requires WINDOW_TYPE", window_size->location);
      }
      return Status::OK();
    }
    std::string type = Upper(window_type->value.text);
    if (type == "TUMBLING") {
      source.window_type = catalog::WindowType::kTumbling;
    } else if (type == "HOPPING") {
      source.window_type = catalog::WindowType::kHopping;
    } else if (type == "SESSION") {
      source.window_type = catalog::WindowType::kSession;
    } else {
      return Status::InvalidArgument("Unknown WINDOW_TYPE '" + window_type->value.text + "'",
                                     window_type->location, "use TUMBLING, HOPPING or SESSION");
    }
    if (source.window_type == catalog::WindowType::kSession) {
      if (window_size != nullptr) {
        return Status::InvalidArgument("'WINDOW_SIZE' should not be set for SESSION windows.",
                                       window_size->location);
      }
      return Status::OK();
    }
    if (window_size == nullptr) {
      return Status::InvalidArgument("WINDOW_SIZE is required for " + type + " windows",
                                     window_type->location, "e.g. WINDOW_SIZE='30 SECONDS'");
    }
    auto size = ParseDuration(window_size->value.text);
    if (!size.ok()) return size.status().WithLocation(window_size->location);
    source.window_size_ms = *size;
    return Status::OK();
  }

  Status AnalyzeInsertValues(const sql::Statement& statement, AnalyzedStatement& result) {
    auto target = catalog_.GetSource(statement.name);
    if (!target.ok()) {
      std::vector<std::string> names;
      for (const auto& known : catalog_.ListSources()) names.push_back(known.name);
      std::string nearest = NearestName(statement.name, names);
      return Status::NotFound(
          "Cannot insert values into an unknown stream/table: `" + statement.name + "`",
          statement.name_location, nearest.empty() ? "" : "did you mean " + nearest + "?");
    }
    if (target->read_only) {
      return Status::BindError(
          std::string("Cannot insert values into read-only ") +
              (target->type == SourceType::kTable ? "table" : "stream") + ": " + target->name,
          statement.name_location, "it was created with CREATE SOURCE, which makes it read-only");
    }
    std::vector<std::string> columns;
    if (statement.columns.empty()) {
      for (const auto& column : target->columns) columns.push_back(column.name);
    } else {
      for (const auto& column : statement.columns) columns.push_back(column.name);
    }
    // Header columns come from the record's headers, which INSERT VALUES does not write.
    std::vector<std::string> header_columns;
    for (const std::string& name : columns) {
      const catalog::Column* column = target->FindColumn(name);
      if (column != nullptr && column->role == ColumnRole::kHeader) header_columns.push_back(name);
    }
    if (!header_columns.empty()) {
      return Status::BindError("Cannot insert into HEADER columns: " + CommaNames(header_columns),
                               statement.location, "leave them out of the column list");
    }
    if (columns.size() != statement.values.size()) {
      return Status::BindError("Expected " + std::to_string(columns.size()) + " values but got " +
                                   std::to_string(statement.values.size()),
                               statement.location);
    }
    Scope empty;
    ExpressionBinder binder(empty, functions_, "VALUES", AggregateRule::kForbiddenElsewhere);
    const catalog::Column rowtime{"ROWTIME", types::SqlType::Bigint(), ColumnRole::kValue, ""};
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == "ROWPARTITION" || columns[i] == "ROWOFFSET") {
        return Status::BindError("Inserting into column `" + columns[i] + "` is not allowed.",
                                 statement.location);
      }
      const catalog::Column* column =
          columns[i] == "ROWTIME" ? &rowtime : target->FindColumn(columns[i]);
      if (column == nullptr) {
        std::vector<std::string> names;
        for (const auto& known : target->columns) names.push_back(known.name);
        std::string nearest = NearestName(columns[i], names);
        return Status::BindError("Column '" + columns[i] + "' is not in " + statement.name,
                                 statement.location,
                                 nearest.empty() ? "" : "did you mean " + nearest + "?");
      }
      // VALUES has no FROM: ksqlDB's AstSanitizer refuses any qualified column first.
      std::function<const sql::Expression*(const sql::Expression&)> qualified =
          [&](const sql::Expression& node) -> const sql::Expression* {
        if (node.kind == sql::ExpressionKind::kColumnRef && !node.qualifier.empty()) return &node;
        for (const auto& child : node.children) {
          if (const sql::Expression* found = qualified(*child)) return found;
        }
        return nullptr;
      };
      if (const sql::Expression* reference = qualified(*statement.values[i])) {
        return Status::BindError("Failed to prepare statement: '" + reference->qualifier +
                                     "' is not a valid stream/table name or alias.",
                                 reference->location);
      }
      ASSIGN_OR_RAISE(auto value, binder.Bind(*statement.values[i]));
      if (!InsertConvertible(value->type, column->type) &&
          !(value->type.id() == TypeId::kString && column->type.is_temporal())) {
        return Status::BindError("Expected type " + column->type.ToString() + " for column " +
                                     column->name + " but got " + value->sql + " (" +
                                     value->type.ToString() + ")",
                                 statement.values[i]->location);
      }
      result.insert_values.emplace_back(column->name, std::move(value));
    }
    result.target_name = target->name;
    return Status::OK();
  }

  Status AnalyzeQuery(const sql::Statement& statement, AnalyzedStatement& result);

  const catalog::Catalog& catalog_;
  const functions::FunctionRegistry& functions_;
  const SessionProperties& properties_;
};

// Splits a column name as ksqlDB's ColumnNames.NUMBERED_COLUMN_PATTERN does: "B_2" is
// ("B", 2), "KSQL_COL_0" is ("KSQL_COL", 0), and a name without a numeric suffix is (name, 0).
std::pair<std::string, int64_t> SplitNumberedName(const std::string& name) {
  size_t underscore = name.rfind('_');
  if (underscore != std::string::npos && underscore + 1 < name.size() &&
      underscore + 1 + 9 >= name.size() &&
      std::all_of(name.begin() + underscore + 1, name.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    return {name.substr(0, underscore), std::stoll(name.substr(underscore + 1))};
  }
  return {name, 0};
}

// Names the unnamed items as ksqlDB's ColumnNames.columnAliasGenerator does. A struct
// dereference takes its field's name (without a numeric suffix), numbered _1, _2, ... past
// the numbers that the sources' columns of that name use; any other expression takes
// KSQL_COL_n past the sources' KSQL_COL_n columns. Names that explicit items take are
// skipped as well, so that two items never share a generated name.
void NameItems(const std::vector<SourceDescription>& sources, std::vector<ProjectionItem>& items) {
  std::map<std::string, std::set<int64_t>> used;  // by name without number
  for (const SourceDescription& source : sources) {
    for (const catalog::Column& column : source.columns) {
      auto [base, number] = SplitNumberedName(column.name);
      used[base].insert(number);
    }
  }
  std::set<std::string> taken;
  for (const auto& item : items) {
    if (item.explicit_name) taken.insert(item.name);
  }
  std::map<std::string, int64_t> next;  // by name without number
  for (auto& item : items) {
    if (item.explicit_name) continue;
    const bool field = !item.field_name.empty();
    const std::string base = field ? SplitNumberedName(item.field_name).first : "KSQL_COL";
    const std::set<int64_t>& numbers = used[base];
    int64_t& index = next[base];
    std::string name;
    do {
      while (numbers.count(index)) ++index;
      // A field's first name drops the _0, as ksqlDB's AliasGenerator does.
      name = field && index == 0 ? base : base + "_" + std::to_string(index);
      ++index;
    } while (taken.count(name));
    item.name = name;
    taken.insert(name);
  }
}

// INSERT INTO's implicit cast, as ksqlDB's ImplicitlyCastResolver: a numeric literal SELECTed
// into a DECIMAL sink column becomes a DECIMAL literal of that type when its digits fit without
// rounding (DecimalUtil.canImplicitlyCast). Anything else is left for the schema check.
void CastLiteralToSinkDecimal(BoundExpression& expression, const SqlType& target) {
  if (expression.kind != BoundKind::kLiteral || target.id() != TypeId::kDecimal) return;
  const sql::Literal& literal = expression.literal;
  types::Decimal value;
  if (literal.kind == sql::LiteralKind::kInteger) {
    value = {literal.integer_value, 0};
  } else if (literal.kind == sql::LiteralKind::kDecimal) {
    auto parsed = functions::ParseDecimal(literal.text);
    if (!parsed.ok()) return;
    value = *parsed;
  } else if (literal.kind == sql::LiteralKind::kDouble) {
    auto converted = functions::DecimalFromDouble(literal.double_value);
    if (!converted.ok()) return;
    value = *converted;
  } else {
    return;
  }
  // DecimalUtil.fromValue: BigDecimal's precision, except that a zero has scale + 1 digits.
  int precision = value.unscaled == 0 ? value.scale + 1 : functions::DigitCount(value.unscaled);
  if (value.scale > target.scale() ||
      precision - value.scale > target.precision() - target.scale()) {
    return;
  }
  value.unscaled = functions::RescaleHalfUp(value.unscaled, value.scale, target.scale());
  value.scale = target.scale();
  expression.literal = sql::Literal{};
  expression.literal.kind = sql::LiteralKind::kDecimal;
  expression.literal.text = types::DecimalToString(value);
  expression.sql = expression.literal.text;
  expression.type = target;
}

// A reference to a column of the query's input, as `*` expands it.
BoundExpressionPtr StarColumn(const ScopeColumn& column, bool qualify_names) {
  auto node = std::make_unique<BoundExpression>();
  node->kind = BoundKind::kColumn;
  node->type = column.type;
  node->name = column.name;
  node->column_index = column.index;
  node->sql = qualify_names ? column.qualifier + "." + column.name : column.name;
  return node;
}

// `*` after PARTITION BY, as ksqlDB expands it over the re-keyed stream: the new key
// columns, then the source's value columns, then its old key columns, each once.
void ExpandStarAfterPartitionBy(SourceLocation location, const Scope& scope,
                                const SourceDescription& source,
                                const std::vector<BoundExpressionPtr>& partition_by,
                                std::vector<ProjectionItem>& items) {
  std::set<std::string> new_keys;
  for (const auto& expression : partition_by) {
    // A column keeps its name and a struct field takes the field's; others get KSQL_COL_n.
    bool named =
        expression->kind == BoundKind::kColumn || expression->kind == BoundKind::kDereference;
    if (expression->kind == BoundKind::kColumn) new_keys.insert(expression->name);
    items.push_back({location, named ? expression->name : "", named, expression->Clone()});
  }
  for (bool old_keys : {false, true}) {
    for (const ScopeColumn& column : scope.columns) {
      if (column.pseudo || new_keys.count(column.name)) continue;
      const catalog::Column* declared = source.FindColumn(column.name);
      if ((declared->role == ColumnRole::kKey) != old_keys) continue;
      items.push_back({location, column.name, true, StarColumn(column, false)});
    }
  }
}

// `*` after a join and PARTITION BY, as ksqlDB expands it over the join's value schema
// (LogicalSchema.withPseudoAndKeyColsInValue, each side's columns prefixed by its name): the
// new key columns, then per source its value columns, its pseudo columns (L_ROWTIME,
// L_ROWPARTITION, L_ROWOFFSET and a windowed source's bounds) and its key columns, each once.
void ExpandJoinStarAfterPartitionBy(SourceLocation location, const Scope& scope,
                                    const std::vector<SourceDescription>& sources,
                                    const std::vector<std::string>& qualifiers,
                                    const std::vector<BoundExpressionPtr>& partition_by,
                                    std::vector<ProjectionItem>& items) {
  std::set<int> new_keys;  // scope indexes of the columns the stream is partitioned by
  for (const auto& expression : partition_by) {
    bool column = expression->kind == BoundKind::kColumn;
    std::string name;
    if (column) {
      new_keys.insert(expression->column_index);
      for (const ScopeColumn& bound : scope.columns) {
        if (bound.index == expression->column_index) name = bound.qualifier + "_" + bound.name;
      }
    } else if (expression->kind == BoundKind::kDereference) {
      name = expression->name;
    }
    items.push_back({location, name, !name.empty(), expression->Clone()});
  }
  for (size_t s = 0; s < sources.size() && s < qualifiers.size(); ++s) {
    for (int part = 0; part < 3; ++part) {  // values, pseudo columns, keys
      for (const ScopeColumn& column : scope.columns) {
        if (column.qualifier != qualifiers[s] || new_keys.count(column.index)) continue;
        if (column.pseudo != (part == 1)) continue;
        if (part != 1) {
          const catalog::Column* declared = sources[s].FindColumn(column.name);
          if (declared == nullptr || (declared->role == ColumnRole::kKey) != (part == 2)) continue;
        }
        items.push_back(
            {location, column.qualifier + "_" + column.name, true, StarColumn(column, true)});
      }
    }
  }
}

// A reference to the join key column the runtime computes.
BoundExpressionPtr JoinKeyReference(const QueryPlanner::JoinKey& key, const std::string& sql) {
  auto node = std::make_unique<BoundExpression>();
  node->kind = BoundKind::kColumn;
  node->type = key.type;
  node->name = sql;
  node->sql = sql;
  node->column_index = key.index;
  return node;
}

// The SELECT item that is a join's result key, as ksqlDB chooses it: the first item that is
// one of the join's column expressions (the left side's first), or the synthetic ROWKEY, which
// `*` includes. The key item then reads the join key itself: on an outer join's missing side
// the column would be NULL.
Result<int> ProjectJoinKey(const QueryPlanner& planner, const std::vector<ProjectionItem>& items,
                           std::vector<BoundExpressionPtr>& projection, SourceLocation location) {
  const QueryPlanner::JoinKey& key = planner.join_key;
  auto is_key = [&](const ProjectionItem& item) {
    const BoundExpression& expression = *item.expression;
    if (key.synthetic) {
      return expression.kind == BoundKind::kColumn && expression.column_index == key.index;
    }
    return std::find(key.columns.begin(), key.columns.end(), expression.sql) != key.columns.end();
  };
  // The left side's join column is preferred over the right side's.
  int found = -1;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!is_key(items[i])) continue;
    if (found < 0 || (!key.synthetic && items[i].expression->sql == key.columns[0] &&
                      items[found].expression->sql != key.columns[0])) {
      found = static_cast<int>(i);
    }
  }
  for (size_t i = 0; i < items.size() && found >= 0; ++i) {
    if (static_cast<int>(i) == found) continue;
    const BoundExpression& kept = *items[found].expression;
    const BoundExpression& other = *items[i].expression;
    // Pseudo columns are unqualified in a join's SQL: a.ROWPARTITION and b.ROWPARTITION
    // share their text but not their column.
    const bool same = kept.kind == BoundKind::kColumn && other.kind == BoundKind::kColumn
                          ? kept.column_index == other.column_index
                          : kept.sql == other.sql;
    if (same) {
      return Status::BindError("The projection contains a key column (`" + items[found].name +
                                   "`) more than once, aliased as: " + items[i].name + " and " +
                                   items[found].name + ".",
                               items[i].location, "use AS_VALUE(x) to copy a key into the value");
    }
  }
  if (found < 0 && key.foreign_key) {
    const std::string name = key.columns[0].substr(key.columns[0].rfind('.') + 1);
    return Status::BindError(
        "Primary key column missing in projection. For foreign-key table-table joins, the "
        "projection must include all primary key columns from the left input table (`" +
            key.left_source + "`). Missing column: `" + name + "`.",
        location);
  }
  if (found < 0) {
    std::string sink = "The query used to build `" + planner.sink_name + "` must include the ";
    if (key.synthetic) {
      return Status::BindError(
          sink + "join expression " + key.name + " in its projection (eg, SELECT " + key.name +
              "...). " + key.name +
              " was added as a synthetic key column because the join criteria did not match "
              "any source column.",
          location);
    }
    return Status::BindError(sink + "join expression" + (key.columns.size() > 1 ? "s " : " ") +
                                 key.columns[0] +
                                 (key.columns.size() > 1 ? " or " + key.columns[1] : "") +
                                 " in its projection (eg, SELECT " + key.columns[0] + "...).",
                             location);
  }
  projection[found] = JoinKeyReference(key, items[found].expression->sql);
  return found;
}

/// ksqlDB's EngineExecutor: a persistent query may not write a read-only (CREATE SOURCE) source.
Status RefuseReadOnlySink(const SourceDescription& sink, const SourceLocation& where) {
  if (!sink.read_only) return Status::OK();
  return Status::BindError(std::string("Cannot insert into read-only ") +
                               (sink.type == SourceType::kTable ? "table" : "stream") + ": " +
                               sink.name,
                           where, "it was created with CREATE SOURCE, which makes it read-only");
}

Status StatementAnalyzer::AnalyzeQuery(const sql::Statement& statement, AnalyzedStatement& result) {
  const sql::Query& query = *statement.query;
  QueryPlanner planner(catalog_, functions_, query, statement.kind);
  planner.sink_type =
      statement.source_kind == sql::SourceKind::kTable ? SourceType::kTable : SourceType::kStream;
  planner.sink_name = statement.name;
  // The hidden query a REST push query runs as (SIDESTREAM_TRANSIENT_...): ksqlDB lets a
  // push query leave out the key, so it projects the missing key under a hidden name.
  const bool transient = planner.sink_name.starts_with("SIDESTREAM_TRANSIENT_");
  int hidden_keys = 0;
  auto project_hidden_key = [&](std::vector<ProjectionItem>& into, BoundExpressionPtr key) {
    for (const auto& item : into) {
      if (item.expression->sql == key->sql) return false;
    }
    into.push_back({query.location, "SIDESTREAM_TRANSIENT_KEY_" + std::to_string(hidden_keys++),
                    true, std::move(key)});
    return true;
  };
  RETURN_NOT_OK(planner.PlanFrom());
  const SourceDescription& source = planner.sources.front();
  const bool joined = planner.join_key.index >= 0;
  // A join's result is a table only when every source is one.
  bool table_source = std::all_of(planner.sources.begin(), planner.sources.end(),
                                  [](const auto& read) { return read.type == SourceType::kTable; });
  if (planner.matched) {
    // The query around MATCH_RECOGNIZE projects and filters its rows (Flink's semantics).
    const sql::Expression* clause = !query.group_by.empty()       ? query.group_by.front().get()
                                    : !query.partition_by.empty() ? query.partition_by.front().get()
                                    : query.having                ? query.having.get()
                                                                  : nullptr;
    if (clause != nullptr || query.window) {
      return Status::NotSupported(
          "GROUP BY, WINDOW, PARTITION BY and HAVING around MATCH_RECOGNIZE are not supported",
          query.window ? query.window->location : clause->location,
          "aggregate the matches in a query over this one's result");
    }
  }
  RETURN_NOT_OK(planner.PlanWhere());

  // PARTITION BY is bound first: it re-keys the stream before the projection, so `*`
  // expands to the re-keyed columns. PARTITION BY NULL keeps no key expression.
  std::vector<BoundExpressionPtr> partition_by;
  bool partition_by_null = false;
  if (!query.partition_by.empty() && query.group_by.empty()) {
    ExpressionBinder partition_binder(planner.scope, functions_, "PARTITION BY",
                                      AggregateRule::kForbiddenElsewhere);
    for (const auto& expression : query.partition_by) {
      ASSIGN_OR_RAISE(auto bound, partition_binder.Bind(*expression));
      if (bound->kind == BoundKind::kLiteral && bound->literal.kind == sql::LiteralKind::kNull) {
        partition_by_null = true;
        continue;
      }
      partition_by.push_back(std::move(bound));
    }
    if (partition_by_null && query.partition_by.size() > 1) {
      return Status::BindError("Cannot PARTITION BY multiple columns including NULL",
                               query.partition_by.front()->location);
    }
  }

  // Expand stars and bind the SELECT list against the input.
  ExpressionBinder select_binder(planner.scope, functions_, "SELECT", AggregateRule::kAllowed);
  std::vector<ProjectionItem> items;
  bool has_aggregate = false;
  // INSERT INTO's sink columns, keys first as in ksqlDB's LogicalSchema, by SELECT position.
  std::vector<SqlType> sink_types;
  if (statement.kind == sql::StatementKind::kInsertInto) {
    auto target = catalog_.GetSource(statement.name);
    if (target.ok()) {
      for (ColumnRole role : {ColumnRole::kKey, ColumnRole::kValue}) {
        for (const auto& column : target->columns) {
          if (column.role == role) sink_types.push_back(column.type);
        }
      }
    }
  }
  for (size_t select_index = 0; select_index < query.select.size(); ++select_index) {
    const sql::SelectItem& item = query.select[select_index];
    if (item.star && !planner.scope.qualify_names && !query.partition_by.empty()) {
      ExpandStarAfterPartitionBy(item.location, planner.scope, source, partition_by, items);
      continue;
    }
    if (item.star && item.star_qualifier.empty() && planner.scope.qualify_names &&
        !query.partition_by.empty() && !planner.join_key.synthetic) {
      std::vector<std::string> qualifiers;
      for (size_t s = 0; s < planner.sources.size() && s <= query.joins.size(); ++s) {
        const sql::Relation& relation = s == 0 ? query.from : query.joins[s - 1].right;
        qualifiers.push_back(relation.alias.empty() ? relation.name : relation.alias);
      }
      ExpandJoinStarAfterPartitionBy(item.location, planner.scope, planner.sources, qualifiers,
                                     partition_by, items);
      continue;
    }
    if (item.star) {
      bool matched = false;
      if (item.star_qualifier.empty() && planner.join_key.synthetic) {
        const auto& key = planner.join_key;
        items.push_back({item.location, key.name, true, JoinKeyReference(key, key.name)});
      }
      // A SELECT's `*` (pull or push) on a windowed source has the window bounds after the
      // key, as in ksqlDB (PlanNode.orderColumns): they are part of its key. A persistent
      // query's `*` leaves them in the key; the hidden one a REST push query runs as
      // (SIDESTREAM_TRANSIENT_...) writes them out as the SELECT has them.
      const bool bounds_in_star = (statement.kind == sql::StatementKind::kSelect || transient) &&
                                  !planner.scope.qualify_names && planner.sources.size() == 1 &&
                                  source.window_type != catalog::WindowType::kNone;
      const size_t source_keys = static_cast<size_t>(
          std::count_if(source.columns.begin(), source.columns.end(),
                        [](const auto& column) { return column.role == ColumnRole::kKey; }));
      size_t expanded = 0;
      auto add_bounds = [&] {
        for (const ScopeColumn& bound : planner.scope.columns) {
          if (bound.pseudo && (bound.name == "WINDOWSTART" || bound.name == "WINDOWEND")) {
            items.push_back({item.location, bound.name, true, StarColumn(bound, false)});
          }
        }
      };
      if (bounds_in_star && source_keys == 0) add_bounds();
      // In a join, each windowed source's bounds follow its key columns, prefixed
      // (S1_WINDOWSTART, S1_WINDOWEND), as ksqlDB's join schema has them in each side's value.
      std::map<std::string, size_t> join_keys;  // qualifier -> key columns not yet expanded
      std::set<std::pair<std::string, std::string>> join_key_names;  // (qualifier, column)
      auto add_join_bounds = [&](const std::string& qualifier) {
        for (const ScopeColumn& bound : planner.scope.columns) {
          if (bound.pseudo && bound.qualifier == qualifier &&
              (bound.name == "WINDOWSTART" || bound.name == "WINDOWEND")) {
            items.push_back(
                {item.location, qualifier + "_" + bound.name, true, StarColumn(bound, true)});
          }
        }
      };
      if (planner.scope.qualify_names) {
        for (size_t s = 0; s < planner.sources.size() && s <= query.joins.size(); ++s) {
          const sql::Relation& relation = s == 0 ? query.from : query.joins[s - 1].right;
          const std::string qualifier = relation.alias.empty() ? relation.name : relation.alias;
          if (!item.star_qualifier.empty() && qualifier != item.star_qualifier) continue;
          const auto& columns = planner.sources[s].columns;
          size_t keys = static_cast<size_t>(
              std::count_if(columns.begin(), columns.end(),
                            [](const auto& column) { return column.role == ColumnRole::kKey; }));
          for (const auto& column : columns) {
            if (column.role == ColumnRole::kKey) join_key_names.insert({qualifier, column.name});
          }
          if (keys == 0) {
            add_join_bounds(qualifier);
          } else {
            join_keys[qualifier] = keys;
          }
        }
      }
      for (const ScopeColumn& column : planner.scope.columns) {
        if (column.pseudo) continue;
        if (!item.star_qualifier.empty() && column.qualifier != item.star_qualifier) continue;
        matched = true;
        std::string name =
            planner.scope.qualify_names ? column.qualifier + "_" + column.name : column.name;
        items.push_back(
            {item.location, name, true, StarColumn(column, planner.scope.qualify_names)});
        if (bounds_in_star && ++expanded == source_keys) add_bounds();
        auto keys = join_keys.find(column.qualifier);
        if (keys != join_keys.end() && join_key_names.count({column.qualifier, column.name}) &&
            --keys->second == 0) {
          add_join_bounds(column.qualifier);
        }
      }
      if (!matched) {
        return Status::BindError("'" + item.star_qualifier + "' is not a source in FROM",
                                 item.location);
      }
      continue;
    }
    if (item.struct_all) {
      // `s->*`: one item per field of the STRUCT, named after the field.
      ASSIGN_OR_RAISE(auto base, select_binder.Bind(*item.expression));
      if (base->type.id() != TypeId::kStruct) {
        return Status::BindError(
            "->* applies to STRUCT values but " + base->sql + " is " + base->type.ToString(),
            item.location);
      }
      has_aggregate = has_aggregate || base->ContainsAggregate();
      for (const types::StructField& field : base->type.fields()) {
        auto dereference = std::make_unique<BoundExpression>();
        dereference->kind = BoundKind::kDereference;
        dereference->type = field.type;
        dereference->sql = base->sql + "->" + field.name;
        dereference->name = field.name;
        dereference->children.push_back(base->Clone());
        items.push_back({item.location, field.name, true, std::move(dereference)});
      }
      continue;
    }
    ASSIGN_OR_RAISE(auto bound, select_binder.Bind(*item.expression));
    has_aggregate = has_aggregate || bound->ContainsAggregate();
    if (select_index < sink_types.size())
      CastLiteralToSinkDecimal(*bound, sink_types[select_index]);
    ProjectionItem projected{item.location,    item.alias,          !item.alias.empty(),
                             std::move(bound), !item.alias.empty(), true};
    if (projected.name.empty()) {
      const sql::Expression& expression = *item.expression;
      if (expression.kind == sql::ExpressionKind::kColumnRef) {
        // In a join, a column whose name more than one source has is named SOURCE_COLUMN.
        projected.name = planner.scope.qualify_names && !expression.qualifier.empty() &&
                                 planner.NameIsShared(expression.name)
                             ? expression.qualifier + "_" + expression.name
                             : expression.name;
        projected.explicit_name = true;
      } else if (expression.kind == sql::ExpressionKind::kDereference) {
        projected.field_name = expression.name;
      }
    }
    items.push_back(std::move(projected));
  }
  NameItems(planner.sources, items);
  // A persistent query's columns may not take the names of pseudo columns (ksqlDB's rule).
  // REST push queries run as hidden CSAS statements named SIDESTREAM_TRANSIENT_...; in
  // ksqlDB a transient SELECT ROWTIME, ... is allowed, so they are exempt.
  if (planner.persistent() && !planner.sink_name.starts_with("SIDESTREAM_TRANSIENT_")) {
    for (const auto& item : items) {
      const std::string& name = item.name;
      if (!item.from_expression) continue;
      if (name != "ROWTIME" && name != "ROWPARTITION" && name != "ROWOFFSET" &&
          name != "WINDOWSTART" && name != "WINDOWEND") {
        continue;
      }
      // ksqlDB's parser refuses the newer pseudo columns as aliases; the rest fail later.
      if (item.aliased && (name == "ROWPARTITION" || name == "ROWOFFSET")) {
        return Status::BindError(
            "`" + name + "` is a reserved column name. You cannot use it as an alias for a column.",
            item.location, "choose another alias");
      }
      return Status::BindError(
          "Reserved column name in select: `" + name + "`. Please remove or alias the column.",
          item.location, "e.g. " + name + " AS " + name + "_COPY");
    }
  }
  {
    std::set<std::string> names;
    for (const auto& item : items) {
      if (!names.insert(item.name).second) {
        return Status::BindError("Duplicate value columns found in schema: `" + item.name + "` " +
                                     item.expression->type.ToString(),
                                 item.location, "give one of them another name with AS");
      }
    }
  }

  // Table functions: a FlatMap after WHERE (and PARTITION BY) runs each call once per row,
  // as ksqlDB's FlatMapNode; the rest of the query reads their values as columns.
  std::vector<BoundExpressionPtr> table_calls;
  for (const auto& item : items) {
    RETURN_NOT_OK(CollectTableCalls(*item.expression, table_calls, item.location));
  }
  const int table_call_position = static_cast<int>(planner.plan->output.columns.size());
  if (!table_calls.empty()) {
    if (table_source) {
      return Status::BindError("Table source is not supported with table functions", query.location,
                               "table functions read streams");
    }
    if (planner.matched) {
      return Status::NotSupported("Table functions over MATCH_RECOGNIZE are not supported",
                                  query.location);
    }
    const int count = static_cast<int>(table_calls.size());
    for (auto& column : planner.scope.columns) {
      if (column.index >= table_call_position) column.index += count;
    }
    for (auto& item : items) ShiftColumnsFrom(*item.expression, table_call_position, count);
    for (auto& expression : partition_by) {
      ShiftColumnsFrom(*expression, table_call_position, count);
    }
    for (auto& item : items) ReplaceTableCalls(item.expression, table_calls, table_call_position);
    auto flat_map = std::make_unique<LogicalOperator>();
    flat_map->kind = LogicalOperatorKind::kFlatMap;
    flat_map->output = planner.plan->output;
    for (int i = 0; i < count; ++i) {
      flat_map->output.columns.push_back(
          {"KSQL_SYNTH_" + std::to_string(i), table_calls[i]->type, ColumnRole::kValue});
      flat_map->expressions.push_back(table_calls[i]->Clone());
    }
    flat_map->children.push_back(std::move(planner.plan));
    planner.plan = std::move(flat_map);
  }

  // The grouping expressions. An aggregate without GROUP BY in a push query's hidden query
  // groups every row into one group, as ksqlDB's AggregateNode does (by a constant).
  std::vector<const sql::Expression*> grouping;
  for (const auto& expression : query.group_by) grouping.push_back(expression.get());
  sql::Expression constant_group;
  const bool push_select =
      statement.kind == sql::StatementKind::kSelect && query.emit != sql::EmitMode::kNone;
  if ((transient || push_select) && grouping.empty() && has_aggregate) {
    constant_group.location = query.location;
    constant_group.literal.kind = sql::LiteralKind::kInteger;
    constant_group.literal.integer_value = 1;
    constant_group.literal.text = "1";
    constant_group.text = "1";
    grouping.push_back(&constant_group);
  }
  bool grouped = !grouping.empty();
  bool is_table_result = grouped || has_aggregate || table_source;
  if (query.window && query.group_by.empty()) {
    return Status::BindError("WINDOW requires a GROUP BY clause", query.window->location,
                             "windows apply to aggregations, e.g. GROUP BY CELL_ID");
  }
  if (query.emit == sql::EmitMode::kFinal && !query.window) {
    return Status::BindError("EMIT FINAL is only supported for windowed aggregations.",
                             query.location, "add WINDOW TUMBLING (SIZE ...) or use EMIT CHANGES");
  }
  if (grouped && !query.partition_by.empty()) {
    return Status::BindError("PARTITION BY and GROUP BY in the same query is not supported",
                             query.partition_by.front()->location,
                             "GROUP BY already re-keys the result");
  }
  // ksqlDB's PushQueryValidator: a windowed table's rows are keyed by window, and no
  // persistent query may read one (a push query may; the REST API runs those as hidden
  // SIDESTREAM_TRANSIENT_ sinks). Sidestream refuses it for a declared windowed table (WITH
  // WINDOW_TYPE) only: a windowed aggregation's result may be read back by a persistent
  // query, an extension (its keys carry the windows).
  if (statement.kind != sql::StatementKind::kSelect &&
      !planner.sink_name.starts_with("SIDESTREAM_TRANSIENT_")) {
    for (const SourceDescription& read : planner.sources) {
      if (read.type == SourceType::kTable && read.window_type != catalog::WindowType::kNone &&
          read.writer_query_id.empty()) {
        return Status::BindError("KSQL does not support persistent queries on windowed tables.",
                                 query.location,
                                 read.name +
                                     " is a windowed table: read it with a push query "
                                     "(SELECT ... EMIT CHANGES)");
      }
    }
  }
  if (grouped) {
    std::vector<std::string> kafka_sources;
    for (const SourceDescription& read : planner.sources) {
      if (read.value_format == "KAFKA") kafka_sources.push_back(read.name);
    }
    if (!kafka_sources.empty()) {
      return Status::BindError("Source(s) " + CommaNames(kafka_sources) +
                                   " are using the 'KAFKA' value format. This format does not "
                                   "yet support GROUP BY.",
                               grouping.front()->location,
                               "declare the source with VALUE_FORMAT='JSON' or 'DELIMITED'");
    }
  }
  if (query.having && query.group_by.empty()) {
    return Status::BindError("HAVING requires a GROUP BY clause", query.having->location);
  }
  if (query.window && table_source) {
    return Status::BindError("Windowing is not supported for table aggregations",
                             query.window->location);
  }
  if (statement.kind == sql::StatementKind::kCreateAsSelect) {
    if (planner.sink_type == SourceType::kStream && is_table_result) {
      return Status::BindError(
          "Invalid result type. Your SELECT query produces a TABLE. Please "
          "use CREATE TABLE AS SELECT statement instead.",
          statement.location);
    }
    if (planner.sink_type == SourceType::kTable && !is_table_result) {
      return Status::BindError(
          "Invalid result type. Your SELECT query produces a STREAM. Please "
          "use CREATE STREAM AS SELECT statement instead.",
          statement.location);
    }
  }

  std::vector<std::string> key_expressions;  // sql of the result's key expressions
  std::string key_kind = "key column";
  std::vector<BoundExpressionPtr> projection;

  if (grouped || has_aggregate) {
    if (!grouped) {
      std::string first;
      for (const auto& item : items) {
        if (item.expression->ContainsAggregate()) {
          first = item.expression->sql;
          break;
        }
      }
      return Status::BindError(std::string(statement.kind == sql::StatementKind::kCreateAsSelect
                                               ? "CREATE TABLE AS SELECT statement"
                                               : "A query") +
                                   " does not support aggregate function [" + first +
                                   "] without a GROUP BY clause.",
                               query.location, "add GROUP BY");
    }
    ExpressionBinder group_binder(planner.scope, functions_, "GROUP BY",
                                  AggregateRule::kForbiddenInGroupBy);
    std::vector<BoundExpressionPtr> group_by;
    for (const sql::Expression* expression : grouping) {
      ASSIGN_OR_RAISE(auto bound, group_binder.Bind(*expression));
      if (!ReplaceTableCalls(bound, table_calls, table_call_position)) {
        return Status::BindError(
            "A table function in GROUP BY must also be in the SELECT list: " + bound->sql,
            expression->location);
      }
      for (const auto& existing : group_by) {
        if (existing->sql == bound->sql) {
          return Status::BindError("Duplicate GROUP BY expression: " + bound->sql,
                                   expression->location);
        }
      }
      group_by.push_back(std::move(bound));
    }
    BoundExpressionPtr having;
    if (query.having && query.window) {
      // ksqlDB's AggregateAnalyzer: a WINDOW clause's bounds exist only in the SELECT.
      if (const sql::Expression* bound = FindWindowBound(*query.having)) {
        return Status::BindError(
            "Window bounds column " + bound->name +
                " can only be used in the SELECT clause of windowed aggregations and can not be "
                "passed to aggregate functions.\nSee "
                "https://github.com/confluentinc/ksql/issues/4397",
            bound->location);
      }
    }
    if (query.having) {
      ExpressionBinder having_binder(planner.scope, functions_, "HAVING", AggregateRule::kAllowed);
      ASSIGN_OR_RAISE(having, having_binder.Bind(*query.having));
      if (having->type.id() != TypeId::kBoolean) {
        return Status::BindError("HAVING expression must be BOOLEAN but " + having->sql + " is " +
                                     having->type.ToString(),
                                 query.having->location);
      }
      has_aggregate = has_aggregate || having->ContainsAggregate();
    }
    if (!has_aggregate) {
      return Status::BindError(
          "GROUP BY requires aggregate functions in either the SELECT or "
          "HAVING clause.",
          grouping.front()->location, "e.g. SELECT ..., COUNT(*)");
    }
    if (table_source) {
      std::vector<std::string> forbidden;
      for (const auto& item : items) {
        std::function<void(const BoundExpression&)> visit = [&](const BoundExpression& node) {
          if (node.kind == BoundKind::kAggregate &&
              (node.name == "MIN" || node.name == "MAX" || node.name == "LATEST_BY_OFFSET" ||
               node.name == "EARLIEST_BY_OFFSET" || node.name == "TOPK" ||
               node.name == "TOPKDISTINCT" || node.name == "COUNT_DISTINCT")) {
            if (std::find(forbidden.begin(), forbidden.end(), node.name) == forbidden.end()) {
              forbidden.push_back(node.name);
            }
          }
          for (const auto& child : node.children) visit(*child);
        };
        visit(*item.expression);
      }
      if (!forbidden.empty()) {
        std::sort(forbidden.begin(), forbidden.end());
        return Status::BindError("The aggregation functions " + ListNames(forbidden) +
                                     " cannot be applied to a table source, only to a stream "
                                     "source.",
                                 query.location);
      }
    }

    // Re-key through an internal topic unless the groups are the source's key columns.
    std::vector<std::string> source_keys;
    for (const auto& column : source.columns) {
      if (column.role == ColumnRole::kKey) source_keys.push_back(column.name);
    }
    std::vector<std::string> group_names;
    for (const auto& expression : group_by) {
      group_names.push_back(expression->kind == BoundKind::kColumn ? expression->name : "");
    }
    if (group_names != source_keys || table_source) {
      auto repartition = std::make_unique<LogicalOperator>();
      repartition->kind = LogicalOperatorKind::kRepartition;
      repartition->output = planner.plan->output;
      for (const auto& expression : group_by)
        repartition->expressions.push_back(expression->Clone());
      repartition->children.push_back(std::move(planner.plan));
      planner.plan = std::move(repartition);
    }

    auto aggregate = std::make_unique<LogicalOperator>();
    aggregate->kind = LogicalOperatorKind::kAggregate;
    aggregate->emit =
        query.emit == sql::EmitMode::kFinal ? sql::EmitMode::kFinal : sql::EmitMode::kChanges;
    for (const auto& expression : group_by) {
      aggregate->output.columns.push_back(
          {expression->kind == BoundKind::kColumn ? expression->name : expression->sql,
           expression->type, ColumnRole::kKey});
      aggregate->expressions.push_back(expression->Clone());
    }
    if (query.window) {
      sql::WindowSpec window = *query.window;
      if (window.kind == sql::WindowKind::kHopping) {
        if (!window.advance_ms || *window.advance_ms <= 0) {
          return Status::BindError("HOPPING windows need a positive ADVANCE BY", window.location);
        }
        if (*window.advance_ms > window.size_ms) {
          return Status::BindError("ADVANCE BY (" + std::to_string(*window.advance_ms) +
                                       " ms) must not exceed the window SIZE (" +
                                       std::to_string(window.size_ms) + " ms)",
                                   window.location);
        }
      }
      if (window.size_ms <= 0) {
        return Status::BindError("Window size must be positive", window.location);
      }
      if (!window.grace_ms) {
        // ksqlDB: max(24h - size, 0); zero under EMIT FINAL.
        window.grace_ms = aggregate->emit == sql::EmitMode::kFinal
                              ? 0
                              : std::max<int64_t>(kDay - window.size_ms, 0);
      }
      int64_t minimum_retention = window.size_ms + *window.grace_ms;
      if (window.retention_ms && *window.retention_ms < minimum_retention) {
        return Status::BindError(
            "RETENTION must be at least the window size plus the grace "
            "period: " +
                std::to_string(minimum_retention) + " ms",
            window.location);
      }
      aggregate->window = window;
      aggregate->output.window_type =
          window.kind == sql::WindowKind::kTumbling  ? catalog::WindowType::kTumbling
          : window.kind == sql::WindowKind::kHopping ? catalog::WindowType::kHopping
                                                     : catalog::WindowType::kSession;
    }
    int aggregate_offset = static_cast<int>(group_by.size());
    AggregateRewriter rewriter(group_by, *aggregate, aggregate_offset);
    std::vector<std::string> ungrouped;
    SourceLocation first_ungrouped;  // the first SELECT item that is not grouped
    for (auto& item : items) {
      size_t before = ungrouped.size();
      projection.push_back(rewriter.Rewrite(*item.expression, ungrouped));
      if (ungrouped.size() > before && !first_ungrouped.known()) first_ungrouped = item.location;
    }
    if (transient) {
      for (const auto& expression : group_by) {
        if (project_hidden_key(items, expression->Clone())) {
          projection.push_back(rewriter.Rewrite(*expression, ungrouped));
        }
      }
    }
    if (!ungrouped.empty()) {
      return Status::BindError(
          "Non-aggregate SELECT expression(s) not part of GROUP BY: " + CommaNames(ungrouped) + ".",
          first_ungrouped, "add the column(s) to the GROUP BY or remove them from the SELECT");
    }
    BoundExpressionPtr having_rewritten;
    if (having) {
      having_rewritten = rewriter.Rewrite(*having, ungrouped);
      if (!ungrouped.empty()) {
        return Status::BindError(
            "Non-aggregate HAVING expression not part of GROUP BY: " + CommaNames(ungrouped),
            query.having->location);
      }
    }
    // Window bounds and ROWTIME follow the aggregates in the aggregate's output.
    bool windowed = aggregate->window.has_value();
    for (BoundExpression* reference : rewriter.pseudo_references()) {
      if (!windowed && reference->name != "ROWTIME") {
        return Status::BindError("SELECT column '" + reference->name + "' cannot be resolved.",
                                 query.location, "WINDOWSTART and WINDOWEND need a WINDOW clause");
      }
    }
    int pseudo_offset = static_cast<int>(aggregate->output.columns.size());
    for (BoundExpression* reference : rewriter.pseudo_references()) {
      reference->column_index = pseudo_offset + (reference->name == "ROWTIME"       ? 0
                                                 : reference->name == "WINDOWSTART" ? 1
                                                                                    : 2);
    }
    aggregate->children.push_back(std::move(planner.plan));
    planner.plan = std::move(aggregate);
    if (having_rewritten) planner.AddFilter(std::move(having_rewritten));
    for (const auto& expression : group_by) key_expressions.push_back(expression->sql);
    key_kind = "grouping expression";
  } else {
    if (!query.partition_by.empty()) {
      auto repartition = std::make_unique<LogicalOperator>();
      repartition->kind = LogicalOperatorKind::kRepartition;
      repartition->output = planner.plan->output;
      for (auto& bound : partition_by) {
        key_expressions.push_back(bound->sql);
        if (transient) project_hidden_key(items, bound->Clone());
        repartition->expressions.push_back(std::move(bound));
      }
      if (table_source) {
        return Status::BindError("PARTITION BY is not supported on tables",
                                 query.partition_by.front()->location,
                                 "a table's key is its PRIMARY KEY");
      }
      repartition->children.push_back(std::move(planner.plan));
      planner.plan = std::move(repartition);
      key_kind = "partitioning expression";
    } else if (planner.matched) {
      key_expressions = planner.match_keys;
    } else if (!joined) {
      for (const auto& column : source.columns) {
        if (column.role != ColumnRole::kKey) continue;
        key_expressions.push_back(column.name);
        if (!transient || !table_source) continue;  // a push query on a stream may be keyless
        for (const ScopeColumn& bound : planner.scope.columns) {
          if (!bound.pseudo && bound.name == column.name) {
            project_hidden_key(items, StarColumn(bound, false));
          }
        }
      }
    }
    for (auto& item : items) projection.push_back(item.expression->Clone());
  }

  // Key columns come first in the result, in key order; each must be projected once.
  std::vector<int> key_items(key_expressions.size(), -1);
  std::vector<std::string> missing;
  if (planner.persistent()) {
    for (size_t k = 0; k < key_expressions.size(); ++k) {
      for (size_t i = 0; i < items.size(); ++i) {
        if (items[i].expression->sql != key_expressions[k]) continue;
        if (key_items[k] >= 0) {
          return Status::BindError(
              key_kind == "key column"
                  ? "The projection contains a key column (`" + key_expressions[k] +
                        "`) more than once, aliased as: " + items[key_items[k]].name + " and " +
                        items[i].name + "."
                  : "The projection contains a key column more than once: `" +
                        items[key_items[k]].name + "` and `" + items[i].name + "`.",
              items[i].location, "use AS_VALUE(x) to copy a key into the value");
        }
        key_items[k] = static_cast<int>(i);
      }
      if (key_items[k] < 0) missing.push_back(key_expressions[k]);
    }
    bool keyless_allowed = planner.sink_type == SourceType::kStream && key_kind == "key column" &&
                           PropertyIsTrue(properties_, kNewQueryPlannerProperty);
    if (!missing.empty() && !keyless_allowed) {
      std::string plural = missing.size() > 1 ? "s" : "";
      return Status::BindError("The query used to build `" + planner.sink_name +
                                   "` must include the " + key_kind + plural + " " +
                                   ListNames(missing) + " in its projection (eg, SELECT " +
                                   CommaNames(missing) + "...).",
                               query.location);
    }
  }

  if (planner.persistent() && joined && key_expressions.empty()) {
    ASSIGN_OR_RAISE(int key_item, ProjectJoinKey(planner, items, projection, query.location));
    key_items = {key_item};
    key_expressions = {items[key_item].expression->sql};
  }

  auto project = std::make_unique<LogicalOperator>();
  project->kind = LogicalOperatorKind::kProject;
  project->output.window_type = planner.plan->output.window_type;
  std::vector<bool> is_key(items.size(), false);
  for (int index : key_items) {
    if (index < 0) continue;
    is_key[index] = true;
    project->output.columns.push_back(
        {items[index].name, items[index].expression->type, ColumnRole::kKey});
    project->expressions.push_back(std::move(projection[index]));
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (is_key[i]) continue;
    project->output.columns.push_back(
        {items[i].name, items[i].expression->type, ColumnRole::kValue});
    project->expressions.push_back(std::move(projection[i]));
  }
  size_t projected_keys = key_items.size() - std::count(key_items.begin(), key_items.end(), -1);
  if (planner.persistent() && !transient && project->output.columns.size() == projected_keys &&
      !key_expressions.empty()) {
    return Status::BindError("The projection contains no value columns.", query.location,
                             "add a value column, or AS_VALUE(key) to copy the key");
  }
  project->children.push_back(std::move(planner.plan));
  planner.plan = std::move(project);

  if (statement.kind == sql::StatementKind::kSelect) {
    // Without EMIT CHANGES: a pull query, read from a table's state or (ksqlDB 0.23+) a
    // bounded scan of a stream's topic; the server checks ksqlDB's rules for each.
    result.pull_query = query.emit == sql::EmitMode::kNone;
    result.plan = std::move(planner.plan);
    return Status::OK();
  }

  // The sink: a new source (CREATE ... AS SELECT) or an existing stream (INSERT INTO).
  SourceDescription sink;
  sink.name = statement.name;
  sink.type = is_table_result ? SourceType::kTable : SourceType::kStream;
  sink.topic = statement.name;
  sink.key_format = source.key_format;
  sink.value_format = source.value_format;
  sink.partitions = source.partitions;
  sink.window_type = planner.plan->output.window_type;
  if (query.window) sink.window_size_ms = query.window->size_ms;
  sink.sql = statement.text;
  if (key_expressions.empty() && sink.key_format != "NONE") sink.key_format = "NONE";
  if (!key_expressions.empty() && sink.key_format == "NONE") {
    ASSIGN_OR_RAISE(sink.key_format, DefaultKeyFormat(statement.location));
  }
  RETURN_NOT_OK(ApplyProperties(statement.properties, false, sink));
  if (partition_by_null && sink.key_format != "NONE") {
    return Status::BindError(
        "Key format specified for stream without key columns.",
        PropertyLocation(statement.properties, {"KEY_FORMAT", "FORMAT"}, statement.location),
        "PARTITION BY NULL writes no key: remove KEY_FORMAT, or set it to 'NONE'");
  }
  // Like ksqlDB, a sink that keeps the source's format keeps its delimiter too.
  auto inherit = [&](const std::string& option, const std::string& source_format,
                     const std::string& sink_format) {
    auto found = source.properties.find(option);
    if (found != source.properties.end() && sink_format == source_format &&
        sink.properties.count(option) == 0) {
      sink.properties[option] = found->second;
    }
  };
  inherit("KEY_DELIMITER", source.key_format, sink.key_format);
  inherit("VALUE_DELIMITER", source.value_format, sink.value_format);
  for (const auto& column : planner.plan->output.columns) {
    sink.columns.push_back({column.name, column.type, column.role, ""});
  }
  if (statement.kind == sql::StatementKind::kCreateAsSelect) ApplyDefaultValueWrapping(sink);
  FormatErrorPlaces places;
  places.column = [&](const std::string&) { return statement.location; };
  RETURN_NOT_OK(CheckFormatsAndTimestamp(sink, statement, places));
  if (statement.kind == sql::StatementKind::kCreateAsSelect) {
    RETURN_NOT_OK(CheckSinkSchemaIds(statement, sink));
  }

  if (statement.kind == sql::StatementKind::kInsertInto) {
    auto target = catalog_.GetSource(statement.name);
    if (!target.ok()) {
      std::vector<std::string> names;
      for (const auto& known : catalog_.ListSources()) names.push_back(known.name);
      std::string nearest = NearestName(statement.name, names);
      return Status::NotFound("Source `" + statement.name + "` does not exist.",
                              statement.name_location,
                              nearest.empty() ? "" : "did you mean " + nearest + "?");
    }
    RETURN_NOT_OK(RefuseReadOnlySink(*target, statement.name_location));
    for (const SourceDescription& read : planner.sources) {
      if (read.name == target->name) {
        return Status::BindError("Cannot INSERT INTO " + target->name + ": the query reads from it",
                                 statement.name_location,
                                 "a query that writes to its own source loops forever");
      }
    }
    if (target->type == SourceType::kTable) {
      return Status::BindError("INSERT INTO can only be used to insert into a stream. " +
                                   statement.name + " is a table.",
                               statement.name_location);
    }
    // A query's rows have no headers to write (ksqlDB's rule).
    if (std::any_of(target->columns.begin(), target->columns.end(),
                    [](const auto& column) { return column.role == ColumnRole::kHeader; })) {
      return Status::BindError(
          "Cannot insert into " + target->name + " because it has header columns",
          statement.name_location);
    }
    Schema result_schema = planner.plan->output;
    Schema target_schema;
    for (const auto& column : target->columns) {
      target_schema.columns.push_back({column.name, column.type, column.role});
    }
    bool same = result_schema.columns.size() == target_schema.columns.size();
    for (size_t i = 0; same && i < result_schema.columns.size(); ++i) {
      same = result_schema.columns[i].name == target_schema.columns[i].name &&
             result_schema.columns[i].type == target_schema.columns[i].type &&
             result_schema.columns[i].role == target_schema.columns[i].role;
    }
    if (!same) {
      return Status::BindError(
          "Incompatible schema between results and sink. Result schema is " +
              result_schema.ToString() + "; sink schema is " + target_schema.ToString(),
          query.location, "the SELECT must produce the sink's columns, in order");
    }
    sink = *target;
    result.query_id_prefix = "INSERTQUERY";
  } else {
    if (auto existing = catalog_.GetSource(sink.name); existing.ok() && statement.or_replace) {
      RETURN_NOT_OK(RefuseReadOnlySink(*existing, statement.name_location));
    }
    if (!statement.or_replace && !statement.if_not_exists && catalog_.HasSource(sink.name)) {
      return Status::AlreadyExists(
          std::string("Cannot add ") + (sink.type == SourceType::kTable ? "table" : "stream") +
              " '" + sink.name + "': A source with the same name already exists",
          statement.name_location, "use CREATE OR REPLACE, or DROP it first");
    }
    result.query_id_prefix =
        std::string(sink.type == SourceType::kTable ? "CTAS_" : "CSAS_") + sink.name;
    result.new_source = sink;
    result.or_replace = statement.or_replace;
    result.if_not_exists = statement.if_not_exists;
  }
  auto sink_node = std::make_unique<LogicalOperator>();
  sink_node->kind = LogicalOperatorKind::kSink;
  sink_node->source = sink;
  sink_node->insert_into = statement.kind == sql::StatementKind::kInsertInto;
  sink_node->output = planner.plan->output;
  sink_node->children.push_back(std::move(planner.plan));
  result.plan = std::move(sink_node);
  result.target_name = sink.name;
  return Status::OK();
}

}  // namespace

bool PropertyIsTrue(const std::map<std::string, std::string>& properties, const char* name) {
  auto found = properties.find(name);
  if (found == properties.end() || found->second.size() != 4) return false;
  std::string value = found->second;
  for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return value == "true";
}

Analyzer::Analyzer(const catalog::Catalog& catalog, const functions::FunctionRegistry& functions)
    : catalog_(catalog), functions_(functions) {}

Analyzer::Analyzer(const catalog::Catalog& catalog, SessionProperties properties)
    : catalog_(catalog),
      functions_(functions::FunctionRegistry::BuiltIns()),
      properties_(std::move(properties)) {}

Result<AnalyzedStatement> Analyzer::Analyze(const sql::Statement& statement) const {
  StatementAnalyzer analyzer(catalog_, functions_, properties_);
  auto result = analyzer.Analyze(statement);
  if (!result.ok()) return result.status().WithLocation(statement.location);
  if (result->plan && result->plan->kind == LogicalOperatorKind::kSink) {
    result->query_properties = properties_;
    for (const auto& property : statement.properties) {
      result->query_properties[property.key] = property.value.text;
    }
  }
  return result;
}

namespace {
std::vector<std::string> PlanSources(const LogicalOperator& node) {
  std::vector<std::string> names;
  if (node.kind == LogicalOperatorKind::kScan) names.push_back(node.source.name);
  for (const auto& child : node.children) {
    for (auto& name : PlanSources(*child)) names.push_back(std::move(name));
  }
  return names;
}
}  // namespace

Result<std::string> ApplyToCatalog(const AnalyzedStatement& statement, catalog::Catalog& catalog) {
  switch (statement.kind) {
    case sql::StatementKind::kCreateSource: {
      const SourceDescription& source = *statement.new_source;
      if (statement.if_not_exists && catalog.HasSource(source.name)) return std::string();
      RETURN_NOT_OK(catalog.CreateSource(source, statement.or_replace));
      return std::string("Created ") + (source.type == SourceType::kTable ? "table " : "stream ") +
             source.name;
    }
    case sql::StatementKind::kCreateAsSelect:
    case sql::StatementKind::kInsertInto: {
      if (statement.new_source) {
        if (statement.if_not_exists && catalog.HasSource(statement.new_source->name)) {
          return std::string();
        }
      }
      ASSIGN_OR_RAISE(std::string id, catalog.NextQueryId(statement.query_id_prefix));
      if (statement.new_source) {
        SourceDescription sink = *statement.new_source;
        sink.writer_query_id = id;
        RETURN_NOT_OK(catalog.CreateSource(sink, statement.or_replace));
      }
      catalog::QueryDescription query;
      query.id = id;
      query.sql = statement.text;
      query.source_names = PlanSources(*statement.plan);
      query.sink_name = statement.target_name;
      query.properties = statement.query_properties;
      RETURN_NOT_OK(catalog.AddQuery(query));
      return "Created query " + id;
    }
    case sql::StatementKind::kCreateType:
      if (statement.if_not_exists && catalog.GetType(statement.target_name).ok()) {
        return std::string();
      }
      RETURN_NOT_OK(catalog.CreateType(statement.target_name, statement.type));
      return "Created type " + statement.target_name;
    case sql::StatementKind::kCreateConnector:
      if (!statement.new_connector) return std::string();  // IF NOT EXISTS, and it exists
      RETURN_NOT_OK(catalog.CreateConnector(*statement.new_connector));
      return "Created connector " + statement.target_name;
    case sql::StatementKind::kDrop:
      if (statement.targets_connector) {
        if (!catalog.GetConnector(statement.target_name).ok()) return std::string();
        RETURN_NOT_OK(catalog.DropConnector(statement.target_name));
        return "Dropped connector " + statement.target_name;
      }
      if (catalog.HasSource(statement.target_name)) {
        // Its engine stops the query once the catalog no longer lists it.
        if (!statement.writer_query_id.empty()) {
          RETURN_NOT_OK(catalog.RemoveQuery(statement.writer_query_id));
        }
        RETURN_NOT_OK(catalog.DropSource(statement.target_name));
        return "Dropped " + statement.target_name;
      }
      if (catalog.GetType(statement.target_name).ok()) {
        RETURN_NOT_OK(catalog.DropType(statement.target_name));
        return "Dropped type " + statement.target_name;
      }
      return std::string();
    case sql::StatementKind::kTerminate:
      if (statement.target_name.empty()) {
        for (const auto& query : catalog.ListQueries())
          RETURN_NOT_OK(catalog.RemoveQuery(query.id));
        return std::string("Terminated all queries");
      }
      RETURN_NOT_OK(catalog.RemoveQuery(statement.target_name));
      return "Terminated " + statement.target_name;
    // The catalog keeps no state of running queries: the engine that runs them pauses them.
    case sql::StatementKind::kPause:
      return statement.target_name.empty() ? std::string("Paused all queries")
                                           : "Paused " + statement.target_name;
    case sql::StatementKind::kResume:
      return statement.target_name.empty() ? std::string("Resumed all queries")
                                           : "Resumed " + statement.target_name;
    default:
      return std::string();
  }
}

}  // namespace sidestream::analyzer
