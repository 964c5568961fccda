#pragma once

#include <csignal>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sidestream::cli {

/// ksqlDB's REST API as the CLI uses it, over HTTP/1.1 with libcurl.
class RestClient {
 public:
  explicit RestClient(std::string base_url);

  struct Response {
    long status = 0;
    std::string body;
  };
  /// GET `path`. Unavailable when the server cannot be reached.
  Result<Response> Get(const std::string& path) const;
  /// POST /ksql with `statements` and `properties` (ksqlDB's streamsProperties).
  Result<Response> PostKsql(const std::string& statements, const nlohmann::json& properties) const;
  /// POST /query-stream (ksqlDB's delimited answer: a header object, then one row per line)
  /// and calls `on_line` for each line as it arrives, until the server ends the query or
  /// `cancelled` becomes non-zero (Ctrl-C), which closes the connection and so the query.
  /// Returns the HTTP status; the body of an error answer goes to `on_line` too.
  Result<long> StreamQuery(const std::string& sql, const nlohmann::json& properties,
                           const std::function<void(std::string_view line)>& on_line,
                           const volatile std::sig_atomic_t& cancelled) const;

  const std::string& base_url() const { return base_url_; }

 private:
  std::string base_url_;
};

}  // namespace sidestream::cli
