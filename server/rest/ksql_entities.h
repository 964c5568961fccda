#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/status.h"
#include "host/kafka_engine.h"

/// ksqlDB's REST entities and error bodies, as JSON: the `@type`s and field names its clients
/// read (io.confluent.ksql.rest.entity.*).
namespace sidestream::rest {

/// ksqlDB's error codes (Errors.java).
inline constexpr int kErrorBadRequest = 40000;
inline constexpr int kErrorBadStatement = 40001;
inline constexpr int kErrorQueryEndpoint = 40002;
inline constexpr int kErrorUnauthorized = 40100;
inline constexpr int kErrorForbidden = 40300;
inline constexpr int kErrorNotFound = 40400;
inline constexpr int kErrorMethodNotAllowed = 40500;
inline constexpr int kErrorNotAcceptable = 40600;
inline constexpr int kErrorPayloadTooLarge = 41300;
inline constexpr int kErrorTooManyRequests = 42900;
inline constexpr int kErrorServerError = 50000;
inline constexpr int kErrorUnavailable = 50300;

/// {"@type": "generic_error", "error_code", "message"}.
nlohmann::json GenericError(int error_code, const std::string& message);

/// {"@type": "statement_error", "error_code", "message", "statementText", "entities"}.
nlohmann::json StatementError(int error_code, const std::string& message,
                              const std::string& statement_text,
                              nlohmann::json entities = nlohmann::json::array());

/// A failed statement's HTTP status and error body. A SQL error's message starts with
/// "line L:C: " when its location is known, as ksqlDB's parser errors do, and ends with
/// " (hint: ...)" when it has one.
std::pair<int, nlohmann::json> StatementFailure(const Status& status,
                                                const std::string& statement_text,
                                                nlohmann::json entities);

/// The schema string of a column list: "`K` STRING, `ID` INTEGER".
std::string SchemaString(const std::vector<std::pair<std::string, types::SqlType>>& columns);

/// {"type": "INTEGER", "fields": null, "memberSchema": null}, nested for ARRAY, MAP, STRUCT.
nlohmann::json SchemaJson(const types::SqlType& type);

/// One element of SHOW STREAMS / SHOW TABLES.
nlohmann::json SourceInfo(const catalog::SourceDescription& source);

/// One element of SHOW QUERIES (RunningQuery).
nlohmann::json QueryInfo(const catalog::QueryDescription& query, const std::string& sink_topic,
                         const std::string& state);

/// EXPLAIN's "queryErrors": ksqlDB's QueryError entities ({"timestamp", "errorMessage",
/// "type": USER or SYSTEM}), oldest first.
nlohmann::json QueryErrorsJson(const std::vector<runtime::QueryError>& errors);

/// The "sourceDescription" of DESCRIBE.
nlohmann::json SourceDescriptionJson(const catalog::SourceDescription& source,
                                     const std::vector<nlohmann::json>& read_queries,
                                     const std::vector<nlohmann::json>& write_queries,
                                     bool extended);

}  // namespace sidestream::rest
