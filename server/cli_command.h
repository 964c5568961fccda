#pragma once

#include <string>

namespace sidestream::server {

struct CliOptions {
  std::string url = "http://127.0.0.1:8088";
  std::string history_file;  // empty: ~/.sidestream_history
};

/// `sidestream cli [URL]`: an interactive shell over ksqlDB's REST API, as ksqlDB's CLI is:
/// line editing and history (libedit), statements over several lines (until `;`),
/// `RUN SCRIPT 'file'`, SET/UNSET of request properties, push and pull query results printed
/// as tables while they arrive (Ctrl-C ends a push query), and the server's errors with
/// their line:column. Reading from a pipe, it runs the statements without prompts. Returns
/// the exit code: 0, or 1 when a piped statement failed or the server is unreachable.
int RunCli(const CliOptions& options);

}  // namespace sidestream::server
