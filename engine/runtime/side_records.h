#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace sidestream::runtime {

/// Adds raw record bytes to a side record (dead-letter or late) as member `name`: the text
/// when it is valid UTF-8, else base64 under `<name>_BASE64`, so any bytes survive the trip
/// (ksqlDB's processing log keeps undecodable records as base64 too). At most `limit` bytes
/// are kept; a longer payload is cut, and `<name>_TRUNCATED` and `<name>_BYTES` say so.
void AddPayload(nlohmann::json& record, const std::string& name, std::string_view bytes,
                size_t limit);

/// The side record's text. Never throws: bytes that are not UTF-8 in any string (an error
/// message quoting its input) become U+FFFD.
std::string SideRecordText(const nlohmann::json& record);

/// Builds a side record whose text fits in `max_bytes`: `build(limit)` makes the record with
/// payloads of at most `limit` bytes, halved until the text fits (a payload of 900 KB can
/// only be kept in part, and JSON escaping can grow text sixfold).
template <typename Build>
std::string FittedSideRecord(size_t max_bytes, Build build) {
  size_t limit = max_bytes;
  for (;;) {
    std::string text = SideRecordText(build(limit));
    if (text.size() <= max_bytes || limit == 0) return text;
    limit /= 2;
  }
}

}  // namespace sidestream::runtime
