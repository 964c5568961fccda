// The `sidestream` command line. Each subcommand lives in its own file; this one only
// wires them to CLI11.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>

#include "analyzer/source_properties.h"
#include "server/explain_command.h"
#include "server/test_command.h"

namespace {

// Lists the .sql files of a folder, sorted by name.
std::vector<std::string> SqlFiles(const std::filesystem::path& folder) {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    if (entry.path().extension() == ".sql") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// `sidestream demo`: until the streaming runtime lands, the demo shows the front end
// working over the example queries; it says so rather than pretending to stream.
int RunDemo(const std::string& queries_dir) {
  std::vector<std::string> files = SqlFiles(std::filesystem::path(queries_dir) / "sources");
  std::vector<std::string> queries = SqlFiles(queries_dir);
  if (queries.empty()) {
    std::cerr << "demo: no .sql files in " << queries_dir << "\n";
    return 1;
  }
  files.insert(files.end(), queries.begin(), queries.end());
  std::cout << "Sidestream demo: compiling the example queries in " << queries_dir << "\n"
            << "(The streaming runtime, embedded broker and CDR generator are not built yet: "
               "this demo shows the SQL front end's plans.)\n\n";
  int code = sidestream::server::RunExplain(files, std::cout, std::cerr);
  if (code == 0) std::cout << files.size() << " query files compiled\n";
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Sidestream: continuous SQL over Kafka topics"};
  app.set_version_flag("--version", SIDESTREAM_VERSION);
  app.require_subcommand(1);

  std::vector<std::string> explain_files;
  auto* explain = app.add_subcommand(
      "explain", "Print the plan of every statement in SQL files (run in order, one catalog)");
  explain->add_option("FILE", explain_files, "SQL files")->required()->check(CLI::ExistingFile);

  std::string queries_dir = SIDESTREAM_QUERIES_DIR;
  auto* demo = app.add_subcommand("demo", "Run the example queries on built-in data");
  demo->add_option("--queries", queries_dir, "Folder of example .sql files");

  std::string test_sql, test_input, test_output, test_actual;
  auto* test = app.add_subcommand(
      "test", "Run statements offline over input records and compare the output (no broker)");
  test->add_option("--sql", test_sql, "SQL statements")->required()->check(CLI::ExistingFile);
  test->add_option("--input", test_input, "Input records: {\"inputs\": [...]}")
      ->required()
      ->check(CLI::ExistingFile);
  test->add_option("--output", test_output, "Expected records: {\"outputs\": [...]}")
      ->required()
      ->check(CLI::ExistingFile);
  test->add_option("--actual", test_actual, "Write the records produced to this file");

  auto* properties =
      app.add_subcommand("properties", "Print the WITH properties of CREATE STREAM|TABLE");

  CLI11_PARSE(app, argc, argv);

  if (explain->parsed()) return sidestream::server::RunExplain(explain_files, std::cout, std::cerr);
  if (demo->parsed()) return RunDemo(queries_dir);
  if (test->parsed()) {
    std::optional<std::string> actual;
    if (!test_actual.empty()) actual = test_actual;
    return sidestream::server::RunTest(test_sql, test_input, test_output, actual, std::cout,
                                       std::cerr);
  }
  if (properties->parsed()) {
    std::cout << sidestream::analyzer::SourcePropertiesMarkdown();
    return 0;
  }
  return 0;
}
