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
//   produce TOPIC           feeds records (one JSON object a line: key, value,
//   {"key": ..., "value": ..., "timestamp": ...}     timestamp, window) to TOPIC
//
//   expect TOPIC            the records queries wrote to TOPIC since the last expect
//   {"key": ..., "value": ..., "timestamp": ...}     on it, in order (ksqlDB's rules:
//                           timestamp and window are checked when given)
//
//   expect TOPIC            with no lines: nothing was written to TOPIC since then
//
//   produce TOPIC           feeds records until one fails, with exactly this message
//   <records>               (a query stopped)
//   ----
//   <expected message>
//
//   advance_wall_clock MS   no input for MS of wall-clock time: every task's stream time
//                           moves to its newest record's timestamp plus MS (the idle close)
//
//   partitions N            first block only: every topic has N partitions (default 1),
//                           records go to the partition their key hashes to, and each
//                           stage of a query runs a task per partition (the Kafka plan)
//
// Set SIDESTREAM_GOLDEN_REWRITE=1 to rewrite every expected block from actual results
// (then review the diff).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "host/offline_engine.h"

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

// Runs a statement block; returns the actual result text (an error or the plans).
std::string RunStatements(const Block& block, host::OfflineEngine& engine, bool& ok) {
  auto outcomes = engine.Execute(block.sql);
  if (!outcomes.ok()) {
    ok = false;
    return outcomes.status().ToString();
  }
  std::string plans;
  for (const auto& outcome : *outcomes) plans += outcome.plan;
  ok = true;
  while (!plans.empty() && plans.back() == '\n') plans.pop_back();
  return plans;
}

// The records of a produce or expect block: one JSON object a line, topic added.
Result<std::vector<host::TestRecord>> BlockRecords(const Block& block, const std::string& topic) {
  nlohmann::json records = nlohmann::json::array();
  std::istringstream lines(block.sql);
  for (std::string line; std::getline(lines, line);) {
    nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!record.is_object()) return Status::InvalidArgument("not a JSON object: " + line);
    record["topic"] = topic;
    records.push_back(record);
  }
  return host::ParseTestRecords(records);
}

class GoldenSqlTest : public testing::TestWithParam<std::string> {};

TEST_P(GoldenSqlTest, Matches) {
  fs::path path = fs::path(SIDESTREAM_SOURCE_DIR) / "tests" / "sql" / GetParam();
  std::vector<std::string> lines = ReadLines(path);
  std::vector<Block> blocks = ParseBlocks(lines);
  ASSERT_FALSE(blocks.empty()) << path << " holds no test blocks";
  bool rewrite = std::getenv("SIDESTREAM_GOLDEN_REWRITE") != nullptr;

  int partitions = 1;
  if (blocks.front().directive.rfind("partitions ", 0) == 0) {
    partitions = std::stoi(blocks.front().directive.substr(11));
    blocks.erase(blocks.begin());
  }
  auto engine = host::OfflineEngine::Create(partitions);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  std::vector<std::pair<int, std::string>> rewrites;  // directive line -> new expected text
  std::map<std::string, size_t> expected_so_far;      // topic -> records already expected
  int statements = 0;
  for (const Block& block : blocks) {
    std::string where = GetParam() + ":" + std::to_string(block.line);
    if (block.directive.rfind("advance_wall_clock ", 0) == 0) {
      Status advanced = (*engine)->AdvanceWallClock(std::stoll(block.directive.substr(19)));
      EXPECT_TRUE(advanced.ok()) << where << ": " << advanced.ToString();
      continue;
    }
    if (block.directive.rfind("produce ", 0) == 0 || block.directive.rfind("expect ", 0) == 0) {
      bool produce = block.directive[0] == 'p';
      std::string topic = block.directive.substr(produce ? 8 : 7);
      auto records = BlockRecords(block, topic);
      ASSERT_TRUE(records.ok()) << where << ": " << records.status().ToString();
      if (produce) {
        Status produced;
        for (const auto& record : *records) {
          produced = (*engine)->Produce(record);
          if (!produced.ok()) break;
        }
        if (block.has_expected) {
          EXPECT_EQ(produced.ToString(), block.expected) << where;
        } else {
          EXPECT_TRUE(produced.ok()) << where << ": " << produced.ToString();
        }
        continue;
      }
      std::vector<host::TestRecord> written = (*engine)->Output(topic);
      std::vector<host::TestRecord> fresh(
          written.begin() + static_cast<long>(std::min(expected_so_far[topic], written.size())),
          written.end());
      expected_so_far[topic] = written.size();
      if (records->empty()) {
        EXPECT_TRUE(fresh.empty()) << where << ": expected nothing on " << topic << " but got "
                                   << host::TestRecordToJson(fresh.front()).dump();
      } else {
        std::string diff = host::CompareRecords(*records, fresh);
        EXPECT_TRUE(diff.empty()) << where << "\n" << diff;
      }
      continue;
    }
    bool ok = false;
    std::string actual = RunStatements(block, **engine, ok);
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
