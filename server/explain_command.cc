#include "server/explain_command.h"

#include <fstream>
#include <ostream>
#include <sstream>

#include "session/error_rendering.h"
#include "session/script_runner.h"
#include "sql/parser.h"

namespace sidestream::server {

namespace {

// Runs one file's statements; returns false after printing its first error.
bool ExplainFile(const std::string& path, session::ScriptRunner& runner, std::ostream& out,
                 std::ostream& err) {
  std::ifstream file(path);
  if (!file) {
    err << path << ": error: cannot read the file\n";
    return false;
  }
  std::stringstream buffer;
  buffer << file.rdbuf();
  std::string sql = buffer.str();
  auto statements = sql::ParseScript(sql);
  if (!statements.ok()) {
    err << session::RenderError(statements.status(), sql, path);
    return false;
  }
  for (const auto& statement : *statements) {
    auto outcome = runner.RunStatement(*statement);
    if (!outcome.ok()) {
      err << session::RenderError(outcome.status(), sql, path);
      return false;
    }
    out << "-- " << path << ":" << statement->location.line << "\n" << outcome->text << "\n";
    if (!outcome->plan.empty()) out << outcome->plan;
    if (!outcome->physical_plan.empty()) out << outcome->physical_plan;
    out << "\n";
  }
  return true;
}

}  // namespace

int RunExplain(const std::vector<std::string>& paths, std::ostream& out, std::ostream& err) {
  auto catalog = catalog::Catalog::Open(":memory:");
  if (!catalog.ok()) {
    err << "error: " << catalog.status().ToString() << "\n";
    return 1;
  }
  session::ScriptRunner runner(**catalog);
  for (const std::string& path : paths) {
    if (!ExplainFile(path, runner, out, err)) return 1;
  }
  return 0;
}

}  // namespace sidestream::server
