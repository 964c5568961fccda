#pragma once

#include <iosfwd>
#include <optional>
#include <string>

namespace sidestream::server {

/// `sidestream test --sql S.sql --input in.json --output expected.json [--actual FILE]`:
/// runs the statements offline (no broker) in the manner of ksqlDB's ksql-test-runner,
/// feeds the input records, and compares the output records with the expected ones.
/// Prints a diff on mismatch. Returns 0 on a match, 1 on a mismatch or an error.
int RunTest(const std::string& sql_path, const std::string& input_path,
            const std::string& output_path, const std::optional<std::string>& actual_path,
            std::ostream& out, std::ostream& err);

}  // namespace sidestream::server
