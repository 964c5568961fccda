#include "server/cli_command.h"

#include <editline/readline.h>
#include <re2/re2.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "server/cli/rendering.h"
#include "server/cli/rest_client.h"
#include "server/cli/statement_buffer.h"

namespace sidestream::server {

using nlohmann::json;

namespace {

volatile std::sig_atomic_t interrupted = 0;
void OnInterrupt(int) { interrupted = 1; }

constexpr const char* kHelp =
    "Statements end with ';' and may span lines. Besides ksqlDB's SQL:\n"
    "  RUN SCRIPT '<file>';     runs the statements of a file\n"
    "  SET '<name>'='<value>';  sets a property sent with every request (UNSET '<name>';)\n"
    "  help, exit, quit\n"
    "A push query (EMIT CHANGES) prints rows as they arrive; Ctrl-C ends it.\n";

bool StartsWithWord(const std::string& text, std::string_view word) {
  if (text.size() < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(text[i])) != word[i]) return false;
  }
  return text.size() == word.size() || !std::isalnum(static_cast<unsigned char>(text[word.size()]));
}

class Shell {
 public:
  explicit Shell(cli::RestClient client) : client_(std::move(client)) {}

  // Runs one statement; false when it failed.
  bool Execute(const std::string& statement) {
    static const RE2 kRunScript(R"((?is)\s*RUN\s+SCRIPT\s+'([^']*)'\s*;?\s*)");
    static const RE2 kSet(R"((?is)\s*SET\s+'([^']+)'\s*=\s*'([^']*)'\s*;?\s*)");
    static const RE2 kUnset(R"((?is)\s*UNSET\s+'([^']+)'\s*;?\s*)");
    std::string name, value;
    if (RE2::FullMatch(statement, kRunScript, &name)) return RunScript(name);
    if (RE2::FullMatch(statement, kSet, &name, &value)) {
      properties_[name] = value;
      std::cout << "Successfully changed local property '" << name << "' to '" << value << "'.\n";
      return true;
    }
    if (RE2::FullMatch(statement, kUnset, &name)) {
      properties_.erase(name);
      std::cout << "Successfully unset local property '" << name << "'.\n";
      return true;
    }
    if (StartsWithWord(statement, "SELECT")) return Query(statement);
    return Ksql(statement);
  }

 private:
  bool RunScript(const std::string& path) {
    std::ifstream file(path);
    if (!file) {
      std::cout << "Cannot read the script " << path << "\n";
      return false;
    }
    std::stringstream text;
    text << file.rdbuf();
    return Ksql(text.str());
  }

  bool Ksql(const std::string& statements) {
    auto response = client_.PostKsql(statements, properties_);
    if (!response.ok()) {
      std::cout << response.status().message() << "\n";
      return false;
    }
    if (response->status != 200) {
      std::cout << cli::RenderError(response->status, response->body);
      return false;
    }
    std::cout << cli::RenderEntities(json::parse(response->body, nullptr, false));
    return true;
  }

  bool Query(const std::string& sql) {
    std::optional<cli::RowPrinter> printer;
    std::string error_body;
    int64_t rows = 0;
    interrupted = 0;
    auto previous = std::signal(SIGINT, OnInterrupt);
    auto status = client_.StreamQuery(
        sql, properties_,
        [&](std::string_view line) {
          const json parsed = json::parse(line, nullptr, false);
          if (parsed.is_array() && printer) {
            std::cout << printer->Row(parsed) << std::flush;
            ++rows;
          } else if (parsed.is_object() && parsed.contains("columnNames") &&
                     parsed["columnNames"].is_array() && !printer) {
            // Any JSON the server sends must not throw: names print as cells do.
            std::vector<std::string> columns;
            for (const json& name : parsed["columnNames"]) columns.push_back(cli::CellText(name));
            printer.emplace(std::move(columns));
            std::cout << printer->Header() << std::flush;
          } else {
            error_body.append(line);
          }
        },
        interrupted);
    std::signal(SIGINT, previous);
    if (!status.ok()) {
      std::cout << status.status().message() << "\n";
      return false;
    }
    if (*status != 200 || !printer) {
      std::cout << cli::RenderError(*status, error_body);
      return false;
    }
    std::cout << printer->Footer(rows);
    if (interrupted) std::cout << "Query terminated\n";
    return true;
  }

  cli::RestClient client_;
  json properties_ = json::object();
};

std::string HistoryFile(const CliOptions& options) {
  if (!options.history_file.empty()) return options.history_file;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.sidestream_history";
}

}  // namespace

int RunCli(const CliOptions& options) {
  cli::RestClient client(options.url);
  const bool interactive = isatty(STDIN_FILENO) != 0;
  auto info = client.Get("/info");
  if (!info.ok() || info->status != 200) {
    std::cerr << "error: no ksqlDB API at " << client.base_url() << ": "
              << (info.ok() ? "HTTP " + std::to_string(info->status) : info.status().message())
              << "\n";
    return 1;
  }
  if (interactive) {
    const json server = json::parse(info->body, nullptr, false).value("KsqlServerInfo", json());
    std::cout << "Sidestream CLI, connected to " << client.base_url() << " (ksqlDB API "
              << server.value("version", std::string("?")) << ", service "
              << server.value("ksqlServiceId", std::string("?")) << ")\n"
              << "Type 'help' for help, 'exit' to leave.\n\n";
    using_history();
    read_history(HistoryFile(options).c_str());
  }
  Shell shell(std::move(client));
  cli::StatementBuffer buffer;
  bool failed = false;
  for (;;) {
    std::string line;
    if (interactive) {
      char* read = readline(buffer.empty() ? "sidestream> " : "         >> ");
      if (read == nullptr) break;  // Ctrl-D
      line = read;
      std::free(read);
    } else if (!std::getline(std::cin, line)) {
      break;
    }
    if (buffer.empty()) {
      std::string word = line;
      word.erase(std::remove_if(word.begin(), word.end(), ::isspace), word.end());
      std::transform(word.begin(), word.end(), word.begin(), ::tolower);
      if (word == "exit" || word == "quit") break;
      if (word == "help") {
        std::cout << kHelp;
        continue;
      }
      if (word.empty()) continue;
    }
    buffer.AppendLine(line);
    while (auto statement = buffer.TakeStatement()) {
      if (interactive) add_history(statement->c_str());
      failed |= !shell.Execute(*statement);
    }
  }
  if (!buffer.empty()) {
    std::cout << "Incomplete statement at the end of the input (no ';'): not run\n";
    failed = true;
  }
  if (interactive) {
    write_history(HistoryFile(options).c_str());
    std::cout << "\nExiting Sidestream CLI.\n";
  }
  return !interactive && failed ? 1 : 0;
}

}  // namespace sidestream::server
