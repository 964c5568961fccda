#include "runtime/header_columns.h"

namespace sidestream::runtime {

void FillHeaderColumns(std::span<const HeaderColumn> columns, std::span<const RecordHeader> headers,
                       types::Row& row) {
  for (const HeaderColumn& column : columns) {
    types::Value& value = row[column.index];
    if (column.header_key.empty()) {
      std::vector<types::Value> entries;
      entries.reserve(headers.size());
      for (const RecordHeader& header : headers) {
        entries.push_back(
            types::Value::Struct({types::Value::String(std::string(header.name)),
                                  header.has_value ? types::Value::Bytes(std::string(header.value))
                                                   : types::Value::Null()}));
      }
      value = types::Value::Array(std::move(entries));
      continue;
    }
    value.SetNull();
    for (size_t i = headers.size(); i > 0; --i) {
      const RecordHeader& header = headers[i - 1];
      if (header.name != column.header_key) continue;
      if (header.has_value) value = types::Value::Bytes(std::string(header.value));
      break;
    }
  }
}

}  // namespace sidestream::runtime
