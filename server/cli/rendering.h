#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sidestream::cli {

/// A table with column widths fitted to its content, framed as ksqlDB's CLI frames them.
std::string RenderTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows);

/// The entities of a `/ksql` answer as ksqlDB's CLI prints them: a command's status message,
/// listings (streams, tables, queries, topics, properties, functions) and source descriptions
/// as tables, then each entity's warnings. An entity of another type prints as indented JSON.
std::string RenderEntities(const nlohmann::json& entities);

/// An error answer in ksqlDB's shape (`message`, with `line L:C:` for SQL errors), or the
/// HTTP status and body when the body is not one.
std::string RenderError(long http_status, const std::string& body);

/// One cell: strings as they are, NULL as "null", anything else as compact JSON.
std::string CellText(const nlohmann::json& value);

/// Prints a query's rows as they arrive (push queries never end), so columns have a fixed
/// width: the header's, at least kMinWidth; a longer value widens its own line only.
class RowPrinter {
 public:
  static constexpr size_t kMinWidth = 12;
  explicit RowPrinter(std::vector<std::string> columns);
  std::string Header() const;
  std::string Row(const nlohmann::json& values) const;
  std::string Footer(int64_t rows) const;

 private:
  std::string Rule() const;
  std::vector<std::string> columns_;
  std::vector<size_t> widths_;
};

}  // namespace sidestream::cli
