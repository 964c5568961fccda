#include "runtime/side_records.h"

#include "connectors/formats/scalar_text.h"

namespace sidestream::runtime {

void AddPayload(nlohmann::json& record, const std::string& name, std::string_view bytes,
                size_t limit) {
  std::string_view kept = bytes.substr(0, limit);
  if (formats::IsUtf8(bytes)) {
    record[name] = std::string(kept);
  } else {
    std::string encoded;
    formats::AppendBase64(kept, encoded);
    record[name + "_BASE64"] = std::move(encoded);
  }
  if (kept.size() < bytes.size()) {
    record[name + "_TRUNCATED"] = true;
    record[name + "_BYTES"] = bytes.size();
  }
}

std::string SideRecordText(const nlohmann::json& record) {
  return record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace sidestream::runtime
