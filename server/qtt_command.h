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
  /// Every topic's partition count. Above 1, outputs compare per key (Kafka's order), and a
  /// case that fails is run again on one partition: if it passes there, it is reported as
  /// partition-sensitive instead of failed.
  int partitions = 1;
  /// A schema registry (http://... or mock://NAME): AVRO and JSON_SR use it, and the cases
  /// that name schemas ("topics", SCHEMA_ID) run instead of being skipped. Every subject in
  /// it is deleted before each such case.
  std::string schema_registry;
};

/// `sidestream qtt PATH...`: runs ksqlDB's query-validation test cases offline (file order,
/// no wall clock, one partition unless `partitions` says more), printing passed, failed (with
/// a diff), partition-sensitive (with the diff) or skipped (with the reason) per case and
/// `N passed, N failed, N skipped` at the end.
/// Returns 0 unless a must-pass case failed or the files cannot be read.
int RunQtt(const QttOptions& options);

}  // namespace sidestream::server
