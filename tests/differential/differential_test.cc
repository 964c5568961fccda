// Differential test of windowed aggregation: random EMIT FINAL queries over random
// CDR-like streams run on the offline engine and are checked against SQLite (see
// sqlite_oracle.h for the rule it models). A mismatch is shrunk to a small input and
// printed as files for `sidestream test`.
//
// SIDESTREAM_DIFFERENTIAL_SEEDS=N runs seeds 1..N (default 500);
// SIDESTREAM_DIFFERENTIAL_SEED=N runs seed N only and writes its files even when it
// passes; SIDESTREAM_DIFFERENTIAL_PARTITIONS=N runs the engine on N partitions (see
// MakeCase for what that changes).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "cdr_stream_generator.h"
#include "query_generator.h"
#include "sqlite_oracle.h"

namespace sidestream::differential {
namespace {

using host::TestRecord;
using nlohmann::json;

constexpr int kDefaultSeeds = 500;
constexpr double kRelativeTolerance = 1e-9;
// Shrinking reruns both engines once per attempt; a bound keeps a failure's report quick.
constexpr int kMaxShrinkAttempts = 4000;

std::string Upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::string QueryId() { return std::string("CTAS_") + kSinkTopic + "_0"; }

/// What the engine did with the stream: its results and counters.
struct EngineRun {
  QueryResults results;
  runtime::TaskCounters counters;
};

Result<EngineRun> RunEngine(const WindowedQuery& query, const std::vector<TestRecord>& records,
                            int partitions) {
  ASSIGN_OR_RAISE(auto engine, host::OfflineEngine::Create(partitions));
  RETURN_NOT_OK(engine->Execute(CdrStreamDdl() + "\n" + query.EngineSql()).status());
  for (const TestRecord& record : records) RETURN_NOT_OK(engine->Produce(record));
  // The far-future record reaches one partition: an idle period closes the others' windows.
  if (partitions > 1) RETURN_NOT_OK(engine->AdvanceWallClock(query.size_ms + query.grace_ms));
  EngineRun run;
  run.counters = engine->counters();
  for (const TestRecord& out : engine->Output(kSinkTopic)) {
    WindowResult row;
    for (size_t i = 0; i < query.group_by.size(); ++i) {
      if (query.group_by.size() == 1) {
        row.group.push_back(out.key);
      } else {
        row.group.push_back(out.key.is_object() ? out.key.value(Upper(query.group_by[i]), json())
                                                : json("<key " + out.key.dump() + ">"));
      }
    }
    if (out.window) {
      row.window_start = out.window->start;
      row.window_end = out.window->end;
    } else {
      row.window_start = row.window_end = -1;  // shows up as a mismatch
    }
    for (const AggregateTerm& term : query.aggregates) {
      row.aggregates.push_back(out.value.is_object() && out.value.contains(term.alias)
                                   ? out.value[term.alias]
                                   : json("<missing " + term.alias + ">"));
    }
    row.timestamp = out.timestamp.value_or(-1);
    run.results.windows.push_back(std::move(row));
  }
  for (const TestRecord& out : engine->Output(kLateTopic)) {
    LateResult late;
    // The late topic carries the input's key and value bytes as they came.
    late.key =
        out.key.is_string() ? json::parse(out.key.get<std::string>(), nullptr, false) : out.key;
    const json& value = out.value;
    std::string text = value.value("RECORD", std::string());
    late.record = json::parse(text, nullptr, false);
    if (late.record.is_discarded()) late.record = text;
    late.window_start = value.value("WINDOW_START", int64_t{-1});
    late.window_end = value.value("WINDOW_END", int64_t{-1});
    late.stream_time = value.value("STREAM_TIME", int64_t{-1});
    late.rowtime = value.value("ROWTIME", int64_t{-1});
    if (value.value("REASON", std::string()) != "window closed" || out.timestamp != late.rowtime) {
      late.rowtime = -1;  // shows up as a mismatch
    }
    run.results.late.push_back(std::move(late));
  }
  return run;
}

bool ValuesMatch(ValueKind kind, const json& expected, const json& actual) {
  if (expected.is_null() || actual.is_null()) return expected.is_null() && actual.is_null();
  switch (kind) {
    case ValueKind::kString:
      return expected.is_string() && expected == actual;
    case ValueKind::kInteger:
      return expected.is_number_integer() && actual.is_number_integer() &&
             expected.get<int64_t>() == actual.get<int64_t>();
    case ValueKind::kDouble: {
      if (!expected.is_number() || !actual.is_number_float()) return false;
      double x = expected.get<double>();
      double y = actual.get<double>();
      return x == y ||
             std::fabs(x - y) <= kRelativeTolerance * std::max(std::fabs(x), std::fabs(y));
    }
  }
  return false;
}

ValueKind ColumnKind(const std::string& name) {
  for (const StreamColumn& column : CdrColumns()) {
    if (column.name == name) return column.kind;
  }
  return ValueKind::kString;
}

bool RowsMatch(const WindowedQuery& query, const WindowResult& expected,
               const WindowResult& actual) {
  if (expected.window_start != actual.window_start || expected.window_end != actual.window_end ||
      expected.timestamp != actual.timestamp || expected.group.size() != actual.group.size()) {
    return false;
  }
  for (size_t i = 0; i < expected.group.size(); ++i) {
    if (!ValuesMatch(ColumnKind(query.group_by[i]), expected.group[i], actual.group[i])) {
      return false;
    }
  }
  for (size_t i = 0; i < query.aggregates.size(); ++i) {
    if (!ValuesMatch(query.aggregates[i].result_kind, expected.aggregates[i],
                     actual.aggregates[i])) {
      return false;
    }
  }
  return true;
}

std::string RowText(const WindowResult& row) {
  return "group " + json(row.group).dump() + " window [" + std::to_string(row.window_start) + ", " +
         std::to_string(row.window_end) + ") aggregates " + json(row.aggregates).dump() +
         " timestamp " + std::to_string(row.timestamp);
}

std::string LateText(const LateResult& late) {
  return json({{"key", late.key},
               {"record", late.record},
               {"window", {late.window_start, late.window_end}},
               {"stream_time", late.stream_time},
               {"rowtime", late.rowtime}})
      .dump();
}

// The (window, group) identity of a result row: unique within one query's results.
std::string RowIdentity(const WindowResult& row) {
  return std::to_string(row.window_start) + "/" + std::to_string(row.window_end) + "/" +
         json(row.group).dump();
}

// The rows of one group, in order.
std::vector<std::string> GroupRows(const std::vector<WindowResult>& rows, const json& group) {
  std::vector<std::string> identities;
  for (const WindowResult& row : rows) {
    if (json(row.group) == group) identities.push_back(RowIdentity(row));
  }
  return identities;
}

/// Empty when the engine's run equals the oracle's; else what differs. On several
/// partitions, only each group's rows keep an order: other groups' tasks may run ahead.
std::string Compare(const WindowedQuery& query, const QueryResults& expected, const EngineRun& run,
                    int partitions) {
  std::ostringstream diff;
  const QueryResults& actual = run.results;
  std::map<std::string, const WindowResult*> want, got;
  for (const WindowResult& row : expected.windows) want[RowIdentity(row)] = &row;
  for (const WindowResult& row : actual.windows) {
    if (!got.emplace(RowIdentity(row), &row).second) {
      diff << "  emitted twice: " << RowText(row) << "\n";
    }
  }
  int shown = 0;
  for (const auto& [identity, row] : want) {
    auto found = got.find(identity);
    if (found == got.end()) {
      if (shown++ < 8) diff << "  missing:  " << RowText(*row) << "\n";
    } else if (!RowsMatch(query, *row, *found->second)) {
      if (shown++ < 8) {
        diff << "  differs:  expected " << RowText(*row) << "\n            actual   "
             << RowText(*found->second) << "\n";
      }
    }
  }
  for (const auto& [identity, row] : got) {
    if (!want.count(identity) && shown++ < 8) diff << "  extra:    " << RowText(*row) << "\n";
  }
  if (shown > 8) diff << "  ... and " << shown - 8 << " more result differences\n";
  if (diff.str().empty() && partitions > 1) {
    std::set<json> groups;
    for (const WindowResult& row : expected.windows) groups.insert(json(row.group));
    for (const json& group : groups) {
      if (GroupRows(expected.windows, group) != GroupRows(actual.windows, group)) {
        diff << "  group " << group.dump() << " out of order\n";
        break;
      }
    }
  } else if (diff.str().empty()) {
    // Same rows: they must also come in the documented order.
    for (size_t i = 0; i < expected.windows.size(); ++i) {
      if (RowIdentity(expected.windows[i]) != RowIdentity(actual.windows[i])) {
        diff << "  result " << i << " out of order: expected " << RowText(expected.windows[i])
             << "\n            actual   " << RowText(actual.windows[i]) << "\n";
        break;
      }
    }
  }

  std::vector<std::string> late_want, late_got;
  for (LateResult late : expected.late) {
    if (partitions > 1) late.stream_time = -1;  // the task's, which the oracle does not know
    late_want.push_back(LateText(late));
  }
  for (LateResult late : actual.late) {
    if (partitions > 1) late.stream_time = -1;
    late_got.push_back(LateText(late));
  }
  // Late records come from every task: no order across them.
  if (partitions > 1) {
    std::sort(late_want.begin(), late_want.end());
    std::sort(late_got.begin(), late_got.end());
  }
  if (late_want != late_got) {
    diff << "  late topic: expected " << late_want.size() << " records, got " << late_got.size()
         << "\n";
    std::multiset<std::string> want_set(late_want.begin(), late_want.end());
    std::multiset<std::string> got_set(late_got.begin(), late_got.end());
    shown = 0;
    for (const std::string& late : late_want) {
      auto found = got_set.find(late);
      if (found != got_set.end()) {
        got_set.erase(found);
      } else if (shown++ < 5) {
        diff << "    missing: " << late << "\n";
      }
    }
    for (const std::string& late : got_set) {
      if (shown++ < 10) diff << "    extra:   " << late << "\n";
    }
    if (shown == 0) diff << "    same records, different order\n";
  }
  if (run.counters.late_records != static_cast<int64_t>(expected.late.size())) {
    diff << "  late_records counter " << run.counters.late_records << ", expected "
         << expected.late.size() << "\n";
  }
  if (run.counters.decode_errors != 0 || run.counters.evaluation_errors != 0) {
    diff << "  decode errors " << run.counters.decode_errors << ", evaluation errors "
         << run.counters.evaluation_errors << "\n";
  }
  return diff.str();
}

/// Runs both sides; empty when they agree, else the difference (or an error).
std::string Check(const WindowedQuery& query, const std::vector<TestRecord>& records,
                  int partitions, QueryResults* expected_out = nullptr) {
  auto expected = RunOracle(query, records, {.close_every_window = partitions > 1});
  if (!expected.ok()) return "oracle failed: " + expected.status().ToString();
  // The oracle cannot tell (MakeCase never gives such a stream, but shrinking may).
  if (partitions > 1 && !expected->partition_dependent.empty()) return "";
  if (expected_out) *expected_out = *expected;
  auto run = RunEngine(query, records, partitions);
  if (!run.ok()) return "engine failed: " + run.status().ToString();
  return Compare(query, *expected, *run, partitions);
}

/// Drops chunks of records, then single records, while the mismatch persists.
std::vector<TestRecord> Shrink(const WindowedQuery& query, std::vector<TestRecord> records,
                               int partitions) {
  int attempts = 0;
  for (size_t chunk = records.size() / 2; chunk >= 1; chunk /= 2) {
    bool removed = true;
    while (removed && attempts < kMaxShrinkAttempts) {
      removed = false;
      for (size_t begin = 0; begin + chunk <= records.size() && attempts < kMaxShrinkAttempts;) {
        std::vector<TestRecord> candidate(records.begin(), records.begin() + begin);
        candidate.insert(candidate.end(), records.begin() + begin + chunk, records.end());
        ++attempts;
        if (!candidate.empty() && !Check(query, candidate, partitions).empty()) {
          records = std::move(candidate);
          removed = true;
        } else {
          begin += chunk;
        }
      }
    }
    if (chunk == 1) break;
  }
  return records;
}

json KeyOfGroup(const WindowedQuery& query, const std::vector<json>& group) {
  if (query.group_by.size() == 1) return group[0];
  json key = json::object();
  for (size_t i = 0; i < group.size(); ++i) key[Upper(query.group_by[i])] = group[i];
  return key;
}

/// The expected output as `sidestream test` reads it (per topic, in order).
json ExpectedOutputs(const WindowedQuery& query, const QueryResults& expected) {
  json outputs = json::array();
  for (const WindowResult& row : expected.windows) {
    TestRecord record;
    record.topic = kSinkTopic;
    record.key = KeyOfGroup(query, row.group);
    record.value = json::object();
    for (size_t i = 0; i < query.aggregates.size(); ++i) {
      record.value[query.aggregates[i].alias] = row.aggregates[i];
    }
    record.timestamp = row.timestamp;
    record.window = runtime::WindowBounds{row.window_start, row.window_end};
    outputs.push_back(host::TestRecordToJson(record));
  }
  for (const LateResult& late : expected.late) {
    TestRecord record;
    record.topic = kLateTopic;
    record.key = late.key.is_null() ? json() : json(late.key.dump());
    record.value = {{"REASON", "window closed"},         {"QUERY_ID", QueryId()},
                    {"WINDOW_START", late.window_start}, {"WINDOW_END", late.window_end},
                    {"STREAM_TIME", late.stream_time},   {"ROWTIME", late.rowtime},
                    {"RECORD", late.record.dump()}};
    record.timestamp = late.rowtime;
    outputs.push_back(host::TestRecordToJson(record));
  }
  return {{"outputs", outputs}};
}

std::string RecordsDocument(const char* field, const json& records) {
  std::string text = std::string("{\"") + field + "\": [\n";
  for (size_t i = 0; i < records.size(); ++i) {
    text += "  " + records[i].dump() + (i + 1 < records.size() ? ",\n" : "\n");
  }
  return text + "]}\n";
}

/// Writes repro.sql, input.json and expected.json to a fresh folder and returns their text
/// with the command that reruns them.
std::string WriteReproducer(uint64_t seed, const WindowedQuery& query,
                            const std::vector<TestRecord>& records, const QueryResults& expected) {
  namespace fs = std::filesystem;
  fs::path folder =
      fs::path(testing::TempDir()) / ("sidestream-differential-" + std::to_string(seed));
  std::error_code ignored;
  fs::create_directories(folder, ignored);
  std::string sql = CdrStreamDdl() + "\n\n" + query.EngineSql() + "\n";
  json inputs = json::array();
  for (const TestRecord& record : records) inputs.push_back(host::TestRecordToJson(record));
  std::string input = RecordsDocument("inputs", inputs);
  std::string output = RecordsDocument("outputs", ExpectedOutputs(query, expected)["outputs"]);
  std::ofstream(folder / "repro.sql") << sql;
  std::ofstream(folder / "input.json") << input;
  std::ofstream(folder / "expected.json") << output;
  return "--- " + (folder / "repro.sql").string() + "\n" + sql + "--- " +
         (folder / "input.json").string() + "\n" + input + "--- " +
         (folder / "expected.json").string() + " (the oracle's; AVG and double SUM may differ " +
         "in the last digit)\n" + output + "rerun: sidestream test --sql " +
         (folder / "repro.sql").string() + " --input " + (folder / "input.json").string() +
         " --output " + (folder / "expected.json").string() + "\n";
}

/// One seed's query and stream.
struct Case {
  WindowedQuery query;
  std::vector<TestRecord> records;
};

// On several partitions each task has its own stream time, which depends on the hash that
// routes records, and the oracle does not model the hash. So the stream drops the records
// whose lateness could depend on it (QueryResults::partition_dependent), until none is left:
// dropping one can lower later stream times. Every other record is late, or not, alike on
// any partitioning. The end is an idle period that closes every window
// (OracleOptions::close_every_window).
Case MakeCase(uint64_t seed, int partitions) {
  std::mt19937_64 random(seed);
  Case generated;
  generated.query = GenerateQuery(random);
  generated.records = GenerateCdrStream(seed, {generated.query.size_ms, generated.query.grace_ms});
  while (partitions > 1) {
    auto expected = RunOracle(generated.query, generated.records);
    EXPECT_TRUE(expected.ok()) << expected.status().ToString();
    if (!expected.ok() || expected->partition_dependent.empty()) break;
    const std::set<size_t> dropped(expected->partition_dependent.begin(),
                                   expected->partition_dependent.end());
    std::vector<TestRecord> kept;
    for (size_t i = 0; i < generated.records.size(); ++i) {
      if (!dropped.count(i)) kept.push_back(std::move(generated.records[i]));
    }
    generated.records = std::move(kept);
  }
  return generated;
}

std::optional<int64_t> EnvironmentNumber(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  return std::strtoll(text, nullptr, 10);
}

// Totals over the seeds run, to show the corpus exercises what it should.
struct Coverage {
  int64_t results = 0;
  int64_t late_pairs = 0;
  int64_t hopping_split_records = 0;  // late for some windows, applied to others
  int64_t hopping_queries = 0;
  int64_t two_column_groups = 0;
};

void Count(const Case& generated, const QueryResults& expected, Coverage& coverage) {
  coverage.results += static_cast<int64_t>(expected.windows.size());
  coverage.late_pairs += static_cast<int64_t>(expected.late.size());
  if (generated.query.window == WindowKind::kHopping) {
    ++coverage.hopping_queries;
    std::map<int64_t, size_t> late_windows;  // cdr_id -> late pairs
    for (const LateResult& late : expected.late)
      ++late_windows[late.record["cdr_id"].get<int64_t>()];
    for (const TestRecord& record : generated.records) {
      auto found = late_windows.find(record.value["cdr_id"].get<int64_t>());
      if (found != late_windows.end() &&
          found->second < AssignWindows(generated.query, *record.timestamp).size()) {
        ++coverage.hopping_split_records;
        late_windows.erase(found);
      }
    }
  }
  if (generated.query.group_by.size() == 2) ++coverage.two_column_groups;
}

TEST(DifferentialTest, WindowedAggregatesMatchSqlite) {
  std::optional<int64_t> only = EnvironmentNumber("SIDESTREAM_DIFFERENTIAL_SEED");
  int64_t seeds = EnvironmentNumber("SIDESTREAM_DIFFERENTIAL_SEEDS").value_or(kDefaultSeeds);
  int64_t first = only.value_or(1);
  int64_t last = only.value_or(seeds);
  const int partitions =
      static_cast<int>(EnvironmentNumber("SIDESTREAM_DIFFERENTIAL_PARTITIONS").value_or(1));
  ASSERT_TRUE(partitions >= 1 && partitions <= 64) << partitions;
  Coverage coverage;
  int failures = 0;
  auto began = std::chrono::steady_clock::now();
  for (int64_t seed = first; seed <= last; ++seed) {
    Case generated = MakeCase(static_cast<uint64_t>(seed), partitions);
    QueryResults expected;
    std::string diff = Check(generated.query, generated.records, partitions, &expected);
    Count(generated, expected, coverage);
    if (only && diff.empty()) {
      std::cout << WriteReproducer(seed, generated.query, generated.records, expected);
    }
    if (diff.empty()) continue;
    ++failures;
    std::vector<TestRecord> shrunk = Shrink(generated.query, generated.records, partitions);
    QueryResults shrunk_expected;
    std::string shrunk_diff = Check(generated.query, shrunk, partitions, &shrunk_expected);
    ADD_FAILURE() << "seed " << seed << ": the engine differs from SQLite\n"
                  << generated.query.EngineSql() << "\n"
                  << diff << "shrunk from " << generated.records.size() << " to " << shrunk.size()
                  << " records:\n"
                  << shrunk_diff << WriteReproducer(seed, generated.query, shrunk, shrunk_expected)
                  << (partitions > 1 ? "(sidestream test runs one partition: the files show the "
                                       "input, the engine ran it on several)\n"
                                     : "")
                  << "rerun this seed: SIDESTREAM_DIFFERENTIAL_SEED=" << seed
                  << (partitions > 1
                          ? " SIDESTREAM_DIFFERENTIAL_PARTITIONS=" + std::to_string(partitions)
                          : "")
                  << "\n";
    if (failures >= 3) {
      ADD_FAILURE() << "stopping after 3 failing seeds";
      break;
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::cout << "seeds " << first << ".." << last << " in " << seconds << " s: " << coverage.results
            << " results, " << coverage.late_pairs << " late pairs, "
            << coverage.hopping_split_records << " hopping records both late and applied, "
            << coverage.hopping_queries << " hopping queries, " << coverage.two_column_groups
            << " two-column groups\n";
  if (partitions > 1) {
    if (!only && failures == 0 && last - first + 1 >= 100) {
      EXPECT_GT(coverage.results, 1000);
      EXPECT_GT(coverage.late_pairs, 20);
    }
  } else if (!only && failures == 0 && last - first + 1 >= kDefaultSeeds) {
    // The corpus must reach what it is meant to test.
    EXPECT_GT(coverage.results, 1000);
    EXPECT_GT(coverage.late_pairs, 100);
    EXPECT_GT(coverage.hopping_split_records, 10);
    EXPECT_GT(coverage.two_column_groups, 20);
  }
}

TEST(DifferentialTest, OracleAssignsWindowsLikeKafkaStreams) {
  WindowedQuery hopping;
  hopping.window = WindowKind::kHopping;
  hopping.size_ms = 10'000;
  hopping.advance_ms = 3000;
  using Windows = std::vector<std::pair<int64_t, int64_t>>;
  EXPECT_EQ(AssignWindows(hopping, 9000),
            (Windows{{0, 10'000}, {3000, 13'000}, {6000, 16'000}, {9000, 19'000}}));
  EXPECT_EQ(AssignWindows(hopping, 12'000),
            (Windows{{3000, 13'000}, {6000, 16'000}, {9000, 19'000}, {12'000, 22'000}}));
  WindowedQuery tumbling;
  tumbling.size_ms = tumbling.advance_ms = 5000;
  EXPECT_EQ(AssignWindows(tumbling, 4999), (Windows{{0, 5000}}));
  EXPECT_EQ(AssignWindows(tumbling, 5000), (Windows{{5000, 10'000}}));
}

TEST(DifferentialTest, GeneratorsAreDeterministic) {
  Case a = MakeCase(42, 1);
  Case b = MakeCase(42, 1);
  EXPECT_EQ(a.query.EngineSql(), b.query.EngineSql());
  ASSERT_EQ(a.records.size(), b.records.size());
  for (size_t i = 0; i < a.records.size(); ++i) {
    EXPECT_EQ(host::TestRecordToJson(a.records[i]), host::TestRecordToJson(b.records[i]));
  }
}

}  // namespace
}  // namespace sidestream::differential
