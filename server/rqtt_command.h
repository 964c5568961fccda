#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sidestream::server {

struct RqttOptions {
  std::vector<std::string> paths;        // REST query-validation .json files or folders
  std::optional<std::string> must_pass;  // ratchet: case ids that must pass
  bool verbose = false;
  std::string name_filter;  // when set, only the cases whose id contains it run
  std::string self;         // this binary, started as `sidestream serve` for every case
};

/// `sidestream rqtt PATH...`: runs ksqlDB's REST query-validation cases against a real
/// `sidestream serve` (a child process per case, embedded broker, one partition per topic):
/// the statements before the first SELECT go to /ksql in one request, the inputs are
/// produced to Kafka, and each SELECT goes to /query. Prints passed, failed with a diff, or
/// skipped with the reason per case, and `N passed, N failed, N skipped`. Null keys and
/// values are produced as null, and a windowed source's inputs carry their window in the key.
/// As ksqlDB's runner, a case that expects an error but sends no SELECT is judged on its
/// responses and outputs alone. Returns 0 unless a must-pass case did not pass or a file
/// cannot be read.
int RunRqtt(const RqttOptions& options);

}  // namespace sidestream::server
