// Parses every statement of ksqlDB's query-translation tests (shared/qtt/*.json).
// The last statement of a case with `expectedException` may fail: ksqlDB rejects it,
// in its parser or later. Statements we deliberately do not support are listed in
// tests/qtt/unsupported_statements.txt (a substring, a tab, the reason).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "sql/parser.h"

namespace sidestream::sql {
namespace {

struct Unsupported {
  std::string substring;
  std::string reason;
};

std::vector<Unsupported> LoadUnsupported() {
  std::vector<Unsupported> list;
  std::ifstream file(std::string(SIDESTREAM_SOURCE_DIR) + "/tests/qtt/unsupported_statements.txt");
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    list.push_back({line.substr(0, tab), line.substr(tab + 1)});
  }
  return list;
}

std::vector<std::string> ExpandFormats(const nlohmann::json& test_case, const std::string& sql) {
  std::vector<std::string> out;
  if (!test_case.contains("format") || sql.find("{FORMAT}") == std::string::npos) {
    out.push_back(sql);
    return out;
  }
  for (const auto& format : test_case["format"]) {
    std::string expanded = sql;
    const std::string name = format.get<std::string>();
    for (size_t at = expanded.find("{FORMAT}"); at != std::string::npos;
         at = expanded.find("{FORMAT}", at + name.size())) {
      expanded.replace(at, 8, name);
    }
    out.push_back(expanded);
  }
  return out;
}

TEST(QttStatementsTest, EveryStatementParses) {
  const auto unsupported = LoadUnsupported();
  const std::filesystem::path directory = std::filesystem::path(SIDESTREAM_SHARED_DIR) / "qtt";
  ASSERT_TRUE(std::filesystem::exists(directory)) << directory;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());

  int parsed = 0;
  int skipped = 0;
  int rejected_as_expected = 0;
  int total = 0;
  std::map<std::string, int> reasons;
  std::vector<std::string> failures;
  for (const auto& path : files) {
    std::ifstream stream(path);
    nlohmann::json document = nlohmann::json::parse(stream, nullptr, false);
    ASSERT_FALSE(document.is_discarded()) << path;
    for (const auto& test_case : document.value("tests", nlohmann::json::array())) {
      const auto statements = test_case.value("statements", nlohmann::json::array());
      const bool expects_exception = test_case.contains("expectedException");
      for (size_t i = 0; i < statements.size(); ++i) {
        for (const std::string& sql : ExpandFormats(test_case, statements[i].get<std::string>())) {
          ++total;
          auto result = ParseStatement(sql);
          if (result.ok()) {
            ++parsed;
            continue;
          }
          if (expects_exception && i + 1 == statements.size()) {
            ++rejected_as_expected;
            continue;
          }
          const Unsupported* match = nullptr;
          for (const auto& entry : unsupported) {
            if (sql.find(entry.substring) != std::string::npos) match = &entry;
          }
          if (match != nullptr) {
            ++skipped;
            ++reasons[match->reason];
            continue;
          }
          failures.push_back(path.filename().string() + " / " +
                             test_case.value("name", std::string("?")) + ":\n  " + sql + "\n  " +
                             result.status().ToString());
        }
      }
    }
  }
  std::ostringstream summary;
  summary << "QTT statements: " << parsed << " parsed, " << skipped << " unsupported (";
  bool first = true;
  for (const auto& [reason, count] : reasons) {
    summary << (first ? "" : "; ") << reason << ": " << count;
    first = false;
  }
  summary << "), " << rejected_as_expected << " rejected where ksqlDB expects an error, " << total
          << " total";
  std::cout << summary.str() << std::endl;
  for (const auto& failure : failures) ADD_FAILURE() << failure;
  EXPECT_TRUE(failures.empty()) << failures.size() << " statements failed to parse";
}

}  // namespace
}  // namespace sidestream::sql
