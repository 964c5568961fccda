// Robustness: every ksqlDB conformance statement, damaged in seeded random ways, must be
// either accepted or rejected with one user-facing error. Never a crash (ASan/UBSan
// watch), never an internal error, never an exception.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "catalog/catalog.h"
#include "session/script_runner.h"
#include "sql/parser.h"

namespace sidestream::session {
namespace {

std::vector<std::vector<std::string>> QttCases() {
  std::vector<std::vector<std::string>> cases;
  std::filesystem::path folder = std::filesystem::path(SIDESTREAM_SHARED_DIR) / "qtt";
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream file(entry.path());
    nlohmann::json document = nlohmann::json::parse(file, nullptr, false);
    if (document.is_discarded()) continue;
    for (const auto& test : document["tests"]) {
      std::vector<std::string> statements;
      for (const auto& statement : test["statements"]) {
        std::string text = statement.get<std::string>();
        for (size_t at; (at = text.find("{FORMAT}")) != std::string::npos;) {
          text.replace(at, 8, "JSON");
        }
        statements.push_back(text);
      }
      cases.push_back(std::move(statements));
    }
  }
  return cases;
}

std::string Damage(const std::string& text, std::mt19937& random) {
  if (text.size() < 2) return text;
  std::uniform_int_distribution<size_t> position(0, text.size() - 1);
  std::string damaged = text;
  switch (random() % 4) {
    case 0:
      damaged.resize(position(random));
      break;  // cut short
    case 1:
      damaged.erase(position(random), 1 + random() % 5);
      break;
    case 2:
      std::swap(damaged[position(random)], damaged[position(random)]);
      break;
    default:
      damaged.insert(position(random), 1, "(),;'`\"*-x0"[random() % 11]);
      break;
  }
  return damaged;
}

TEST(MutationTest, DamagedStatementsGetOneLocatedUserError) {
  auto cases = QttCases();
  ASSERT_GT(cases.size(), 500u) << "expected ksqlDB's QTT files in " << SIDESTREAM_SHARED_DIR;
  std::mt19937 random(20261124);
  int accepted = 0;
  int rejected = 0;
  for (const auto& statements : cases) {
    auto catalog = catalog::Catalog::Open(":memory:");
    ASSERT_TRUE(catalog.ok());
    ScriptRunner runner(**catalog);
    for (const std::string& statement : statements) {
      std::string damaged = Damage(statement, random);
      auto result = runner.Run(damaged);
      if (result.ok()) {
        ++accepted;
        continue;
      }
      ++rejected;
      const Status& status = result.status();
      EXPECT_TRUE(status.user_error()) << status.ToString() << "\nfor: " << damaged;
      EXPECT_FALSE(status.message().empty()) << damaged;
      EXPECT_EQ(status.message().find('\n'), std::string::npos)
          << "one message, one line: " << status.message();
      // Let the original statement take effect so later statements see their sources.
      (void)runner.Run(statement);
    }
  }
  std::printf("damaged statements: %d accepted, %d rejected with a user error\n", accepted,
              rejected);
  EXPECT_GT(rejected, 500);
}

}  // namespace
}  // namespace sidestream::session
