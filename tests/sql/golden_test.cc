// Runs the golden SQL files in tests/sql/**/*.test. Each file runs on a fresh in-memory
// catalog, block by block; blocks are separated by blank lines:
//
//   statement ok            the SQL must be accepted (and takes effect in the catalog)
//   <sql>
//
//   statement error         the SQL must be rejected with exactly this message
//   <sql>                   (Status::ToString(): "line L:C: message (hint: ...)";
//   ----                    lines count from the block's first SQL line)
//   <expected message>
//
//   explain                 the SQL's plan must equal the snapshot
//   <sql>
//   ----
//   <plan lines>
//
// Set SIDESTREAM_GOLDEN_REWRITE=1 to rewrite every expected block from actual results
// (then review the diff).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "catalog/catalog.h"
#include "session/script_runner.h"
#include "sql/parser.h"

namespace sidestream {
namespace {

namespace fs = std::filesystem;

struct Block {
  std::string directive;  // "statement ok", "statement error", "explain"
  int line = 0;           // where the directive stands in the file
  std::string sql;
  bool has_expected = false;
  std::string expected;
};

std::vector<std::string> ReadLines(const fs::path& path) {
  std::ifstream file(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) lines.push_back(line);
  return lines;
}

std::vector<Block> ParseBlocks(const std::vector<std::string>& lines) {
  std::vector<Block> blocks;
  size_t i = 0;
  while (i < lines.size()) {
    const std::string& line = lines[i];
    if (line.empty() || line[0] == '#') {
      ++i;
      continue;
    }
    Block block;
    block.directive = line;
    block.line = static_cast<int>(i) + 1;
    ++i;
    while (i < lines.size() && !lines[i].empty() && lines[i] != "----") {
      block.sql += (block.sql.empty() ? "" : "\n") + lines[i];
      ++i;
    }
    if (i < lines.size() && lines[i] == "----") {
      block.has_expected = true;
      ++i;
      while (i < lines.size() && !lines[i].empty()) {
        block.expected += (block.expected.empty() ? "" : "\n") + lines[i];
        ++i;
      }
    }
    blocks.push_back(std::move(block));
  }
  return blocks;
}

// Runs one block; returns the actual result text (a message or a plan).
std::string RunBlock(const Block& block, session::ScriptRunner& runner, bool& ok) {
  auto statements = sql::ParseScript(block.sql);
  if (!statements.ok()) {
    ok = false;
    return statements.status().ToString();
  }
  std::string plans;
  for (const auto& statement : *statements) {
    auto outcome = runner.RunStatement(*statement);
    if (!outcome.ok()) {
      ok = false;
      return outcome.status().ToString();
    }
    plans += outcome->plan;
  }
  ok = true;
  while (!plans.empty() && plans.back() == '\n') plans.pop_back();
  return plans;
}

class GoldenSqlTest : public testing::TestWithParam<std::string> {};

TEST_P(GoldenSqlTest, Matches) {
  fs::path path = fs::path(SIDESTREAM_SOURCE_DIR) / "tests" / "sql" / GetParam();
  std::vector<std::string> lines = ReadLines(path);
  std::vector<Block> blocks = ParseBlocks(lines);
  ASSERT_FALSE(blocks.empty()) << path << " holds no test blocks";
  bool rewrite = std::getenv("SIDESTREAM_GOLDEN_REWRITE") != nullptr;

  auto catalog = catalog::Catalog::Open(":memory:");
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  session::ScriptRunner runner(**catalog);
  std::vector<std::pair<int, std::string>> rewrites;  // directive line -> new expected text
  int statements = 0;
  for (const Block& block : blocks) {
    std::string where = GetParam() + ":" + std::to_string(block.line);
    bool ok = false;
    std::string actual = RunBlock(block, runner, ok);
    statements += 1;
    if (block.directive == "statement ok") {
      EXPECT_TRUE(ok) << where << ": expected success but got: " << actual << "\n" << block.sql;
    } else if (block.directive == "statement error") {
      EXPECT_FALSE(ok) << where << ": expected an error but the statement was accepted\n"
                       << block.sql;
      if (rewrite) {
        rewrites.push_back({block.line, actual});
      } else if (!ok) {
        EXPECT_EQ(block.expected, actual) << where << "\n" << block.sql;
      }
    } else if (block.directive == "explain") {
      EXPECT_TRUE(ok) << where << ": expected a plan but got: " << actual;
      if (rewrite) {
        rewrites.push_back({block.line, actual});
      } else {
        EXPECT_EQ(block.expected, actual) << where << "\n" << block.sql;
      }
    } else {
      ADD_FAILURE() << where << ": unknown directive '" << block.directive << "'";
    }
  }
  RecordProperty("statements", statements);

  if (rewrite && !rewrites.empty()) {
    std::vector<std::string> output;
    size_t next = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
      output.push_back(lines[i]);
      if (next < rewrites.size() && static_cast<int>(i) + 1 == rewrites[next].first) {
        // Copy the SQL, then replace the expected block.
        size_t j = i + 1;
        while (j < lines.size() && !lines[j].empty() && lines[j] != "----")
          output.push_back(lines[j++]);
        if (j < lines.size() && lines[j] == "----") {
          ++j;
          while (j < lines.size() && !lines[j].empty()) ++j;
        }
        output.push_back("----");
        std::istringstream expected(rewrites[next].second);
        for (std::string line; std::getline(expected, line);) output.push_back(line);
        i = j - 1;
        ++next;
      }
    }
    std::ofstream file(path);
    for (const auto& line : output) file << line << "\n";
  }
}

std::vector<std::string> GoldenFiles() {
  std::vector<std::string> files;
  fs::path root = fs::path(SIDESTREAM_SOURCE_DIR) / "tests" / "sql";
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().extension() == ".test") {
      files.push_back(fs::relative(entry.path(), root).string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string TestName(const testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenSqlTest, testing::ValuesIn(GoldenFiles()), TestName);

}  // namespace
}  // namespace sidestream
