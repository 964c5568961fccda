#include "server/cli/rendering.h"

#include <algorithm>

namespace sidestream::cli {

using nlohmann::json;

namespace {

std::string Rule(const std::vector<size_t>& widths) {
  std::string rule = "+";
  for (size_t width : widths) rule += std::string(width + 2, '-') + "+";
  return rule + "\n";
}

std::string Line(const std::vector<std::string>& cells, const std::vector<size_t>& widths) {
  std::string line = "|";
  for (size_t i = 0; i < widths.size(); ++i) {
    const std::string& cell = i < cells.size() ? cells[i] : std::string();
    line +=
        " " + cell + std::string(widths[i] > cell.size() ? widths[i] - cell.size() : 0, ' ') + " |";
  }
  return line + "\n";
}

std::string Text(const json& object, const char* key) {
  auto found = object.find(key);
  return found == object.end() ? std::string() : CellText(*found);
}

// The rows of `entity[list_key]`: for each item, the values of `keys`.
std::vector<std::vector<std::string>> Rows(const json& entity, const char* list_key,
                                           const std::vector<const char*>& keys) {
  std::vector<std::vector<std::string>> rows;
  auto list = entity.find(list_key);
  if (list == entity.end() || !list->is_array()) return rows;
  for (const json& item : *list) {
    std::vector<std::string>& row = rows.emplace_back();
    for (const char* key : keys) row.push_back(item.is_object() ? Text(item, key) : CellText(item));
  }
  return rows;
}

std::string RenderSource(const json& source) {
  std::string text = "Name                 : " + Text(source, "name") + "\n" +
                     "Type                 : " + Text(source, "type") + "\n" +
                     "Kafka topic          : " + Text(source, "topic") +
                     " (partitions: " + Text(source, "partitions") + ")\n" +
                     "Key format           : " + Text(source, "keyFormat") + "\n" +
                     "Value format         : " + Text(source, "valueFormat") + "\n";
  if (!Text(source, "windowType").empty() && Text(source, "windowType") != "null") {
    text += "Window               : " + Text(source, "windowType") + "\n";
  }
  std::vector<std::vector<std::string>> fields;
  if (auto list = source.find("fields"); list != source.end() && list->is_array()) {
    for (const json& field : *list) {
      std::string type = field.contains("schema") ? Text(field["schema"], "type") : "";
      if (Text(field, "type") == "KEY") type += " (key)";
      fields.push_back({Text(field, "name"), type});
    }
  }
  return text + "\n" + RenderTable({"Field", "Type"}, fields);
}

std::string RenderEntity(const json& entity) {
  const std::string type = Text(entity, "@type");
  if (type == "currentStatus") {
    const json status = entity.value("commandStatus", json::object());
    return RenderTable({"Message"}, {{Text(status, "message")}});
  }
  if (type == "streams" || type == "tables") {
    return RenderTable(
        {type == "streams" ? "Stream Name" : "Table Name", "Kafka Topic", "Key Format",
         "Value Format", "Windowed"},
        Rows(entity, type.c_str(), {"name", "topic", "keyFormat", "valueFormat", "isWindowed"}));
  }
  if (type == "queries") {
    std::vector<std::vector<std::string>> rows;
    for (const json& query : entity.value("queries", json::array())) {
      if (!query.is_object()) continue;
      std::string sinks;
      for (const json& sink : query.value("sinks", json::array())) {
        sinks += (sinks.empty() ? "" : ",") + CellText(sink);
      }
      rows.push_back({Text(query, "id"), Text(query, "queryType"), Text(query, "state"), sinks,
                      Text(query, "queryString")});
    }
    return RenderTable({"Query ID", "Query Type", "Status", "Sink Name", "Query String"}, rows);
  }
  if (type == "kafka_topics") {
    std::vector<std::vector<std::string>> rows;
    for (const json& topic : entity.value("topics", json::array())) {
      if (!topic.is_object()) continue;
      const json replicas = topic.value("replicaInfo", json::array());
      rows.push_back({Text(topic, "name"), std::to_string(replicas.size())});
    }
    return RenderTable({"Kafka Topic", "Partitions"}, rows);
  }
  if (type == "properties") {
    std::vector<std::vector<std::string>> rows;
    for (const json& property : entity.value("properties", json::array())) {
      rows.push_back({Text(property, "name"), Text(property, "value")});
    }
    return RenderTable({"Property", "Value"}, rows);
  }
  if (type == "function_names") {
    return RenderTable({"Function Name", "Category"},
                       Rows(entity, "functions", {"name", "category"}));
  }
  if (type == "sourceDescription") return RenderSource(entity.value("sourceDescription", json()));
  return entity.dump(2) + "\n";
}

}  // namespace

std::string CellText(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "null";
  return value.dump();
}

std::string RenderTable(const std::vector<std::string>& headers,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const std::string& header : headers) widths.push_back(header.size());
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string text = Rule(widths) + Line(headers, widths) + Rule(widths);
  for (const auto& row : rows) text += Line(row, widths);
  return text + Rule(widths);
}

std::string RenderEntities(const json& entities) {
  std::string text;
  if (!entities.is_array()) return entities.dump(2) + "\n";
  for (const json& entity : entities) {
    if (!entity.is_object()) continue;
    text += RenderEntity(entity);
    for (const json& warning : entity.value("warnings", json::array())) {
      text +=
          "WARNING: " + (warning.is_object() ? Text(warning, "message") : CellText(warning)) + "\n";
    }
  }
  return text;
}

std::string RenderError(long http_status, const std::string& body) {
  const json error = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (error.is_object() && error.contains("message")) {
    std::string text = Text(error, "message") + "\n";
    if (const std::string statement = Text(error, "statementText");
        !statement.empty() && statement != "null") {
      text += "Statement: " + statement + "\n";
    }
    return text;
  }
  return "error: HTTP " + std::to_string(http_status) + (body.empty() ? "" : ": " + body) + "\n";
}

RowPrinter::RowPrinter(std::vector<std::string> columns) : columns_(std::move(columns)) {
  for (const std::string& column : columns_) widths_.push_back(std::max(kMinWidth, column.size()));
}

std::string RowPrinter::Rule() const { return cli::Rule(widths_); }

std::string RowPrinter::Header() const { return Rule() + Line(columns_, widths_) + Rule(); }

std::string RowPrinter::Row(const json& values) const {
  std::vector<std::string> cells;
  if (values.is_array()) {
    for (const json& value : values) cells.push_back(CellText(value));
  } else {
    cells.push_back(CellText(values));
  }
  return Line(cells, widths_);
}

std::string RowPrinter::Footer(int64_t rows) const {
  return Rule() + std::to_string(rows) + (rows == 1 ? " row" : " rows") + "\n";
}

}  // namespace sidestream::cli
