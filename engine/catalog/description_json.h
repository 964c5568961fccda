#pragma once

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "common/status.h"

/// JSON documents for the catalog's rows: one per source and one per query.
namespace sidestream::catalog {

/// Writes every field of `source`; optional fields that are empty are left out. Never throws.
nlohmann::json SourceToJson(const SourceDescription& source);

/// Reads a document written by SourceToJson. "name" is required; any other member that is
/// absent keeps the SourceDescription default, so rows written before a field existed still
/// load. Returns InvalidArgument naming the first bad member. Never throws.
Result<SourceDescription> SourceFromJson(const nlohmann::json& json);

/// Writes every field of `query`. Never throws.
nlohmann::json QueryToJson(const QueryDescription& query);

/// Reads a document written by QueryToJson, with the same rules as SourceFromJson ("id" is
/// required). Never throws.
Result<QueryDescription> QueryFromJson(const nlohmann::json& json);

/// Writes every field of `connector`. Never throws.
nlohmann::json ConnectorToJson(const ConnectorDescription& connector);

/// Reads a document written by ConnectorToJson ("name" is required). Never throws.
Result<ConnectorDescription> ConnectorFromJson(const nlohmann::json& json);

}  // namespace sidestream::catalog
