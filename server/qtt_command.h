#pragma once

#include <optional>
#include <string>
#include <vector>

namespace sidestream::server {

struct QttOptions {
  std::vector<std::string> paths;       // QTT .json files or folders of them
  std::optional<std::string> json_out;  // per-case results
  /// A file listing case ids that must pass (the ratchet); a listed case that does not
  /// pass makes the run fail.
  std::optional<std::string> must_pass;
  bool verbose = false;  // print passed cases too
};

/// `sidestream qtt PATH...`: runs ksqlDB's query-validation test cases offline (one
/// partition, file order, no wall clock), printing passed, failed (with a diff) or
/// skipped (with the reason) per case and `N passed, N failed, N skipped` at the end.
/// Returns 0 unless a must-pass case failed or the files cannot be read.
int RunQtt(const QttOptions& options);

}  // namespace sidestream::server
