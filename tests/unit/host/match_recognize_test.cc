// MATCH_RECOGNIZE's NFA against a reference: when each variable's DEFINE is "the row's letter
// is this variable's letter", SQL's row pattern semantics (leftmost start, then the most
// preferred match: greedy, reluctant, leftmost alternative) are those of a Perl-style regex
// over the rows' letters (leftmost-first), so RE2 is an independent oracle. Random letter strings
// run through the offline engine (the operator, its store and the planner's stages) and through
// repeated regex searches must give the same matches. Also: the state's changelog encoding
// round-trips, and a damaged one is Corruption.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <random>

#include "host/offline_engine.h"
#include "runtime/match_recognize_operator.h"

namespace sidestream::host {
namespace {

struct Found {
  int64_t first = 0;  // the match's first and last row (their timestamps / 1000)
  int64_t last = 0;
  friend bool operator==(const Found& a, const Found& b) {
    return a.first == b.first && a.last == b.last;
  }
};

std::ostream& operator<<(std::ostream& out, const Found& found) {
  return out << "[" << found.first << ", " << found.last << "]";
}

// The matches the engine finds in `letters` (one row per letter, at (i + 1) seconds).
std::vector<Found> EngineMatches(const std::string& pattern, bool skip_to_next_row,
                                 const std::string& letters) {
  auto engine = OfflineEngine::Create();
  EXPECT_TRUE(engine.ok());
  std::string defines;
  for (char variable : {'A', 'B', 'C'}) {
    if (pattern.find(variable) == std::string::npos) continue;
    defines += std::string(defines.empty() ? "" : ", ") + variable + " AS k = '" +
               static_cast<char>(variable - 'A' + 'a') + "'";
  }
  std::string sql =
      "CREATE STREAM rows (id STRING KEY, k STRING) WITH (KAFKA_TOPIC='rows', "
      "VALUE_FORMAT='JSON');\n"
      "CREATE STREAM found AS SELECT * FROM rows MATCH_RECOGNIZE (PARTITION BY id ORDER BY "
      "ROWTIME MEASURES FIRST(ROWTIME) AS first_ts, LAST(ROWTIME) AS last_ts AFTER MATCH SKIP " +
      std::string(skip_to_next_row ? "TO NEXT ROW" : "PAST LAST ROW") + " PATTERN (" + pattern +
      ") WITHIN INTERVAL '1' DAY DEFINE " + defines + ");";
  auto executed = (*engine)->Execute(sql);
  EXPECT_TRUE(executed.ok()) << executed.status().ToString();
  for (size_t i = 0; i < letters.size(); ++i) {
    TestRecord record;
    record.topic = "rows";
    record.key = "p";
    record.value = {{"k", std::string(1, letters[i])}};
    record.timestamp = static_cast<int64_t>(i + 1) * 1000;
    EXPECT_TRUE((*engine)->Produce(record).ok());
  }
  // The end of the input: stream time passes every WITHIN, so greedy tails finish.
  EXPECT_TRUE((*engine)->AdvanceWallClock(2LL * 24 * 60 * 60 * 1000).ok());
  std::vector<Found> found;
  for (const TestRecord& record : (*engine)->Output("FOUND")) {
    found.push_back({record.value["FIRST_TS"].get<int64_t>() / 1000 - 1,
                     record.value["LAST_TS"].get<int64_t>() / 1000 - 1});
  }
  return found;
}

// The same with RE2 (leftmost-first, as Perl): the leftmost match, its preferred form, then on.
std::vector<Found> RegexMatches(const std::string& pattern, bool skip_to_next_row,
                                const std::string& letters) {
  std::string expression;
  for (char c : pattern) {
    if (c == ' ') continue;
    expression.push_back(c >= 'A' && c <= 'C' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  const RE2 regex(expression);
  EXPECT_TRUE(regex.ok()) << expression;
  std::vector<Found> found;
  size_t from = 0;
  re2::StringPiece match;
  while (from < letters.size() &&
         regex.Match(letters, from, letters.size(), RE2::UNANCHORED, &match, 1)) {
    const int64_t first = match.data() - letters.data();
    const int64_t last = first + static_cast<int64_t>(match.size()) - 1;
    found.push_back({first, last});
    from = skip_to_next_row ? static_cast<size_t>(first) + 1 : static_cast<size_t>(last) + 1;
  }
  return found;
}

TEST(MatchRecognizeTest, AgreesWithRegexSemanticsOnRandomRows) {
  const std::vector<std::string> patterns = {
      "A B",        "A+ B",    "A+? B",          "A B* C",    "A B*? C",
      "(A | B)+ C", "(A B)+",  "A (B | C){2,3}", "A{2,3} B?", "A{2,} B",
      "(A | B C)+", "A? B C?", "(A+ | B)+? C",   "A (B C?)+", "(A B | A) C",
  };
  std::mt19937 random(7);
  std::uniform_int_distribution<int> letter(0, 2);
  int compared = 0;
  for (const std::string& pattern : patterns) {
    for (bool skip_to_next_row : {false, true}) {
      for (int round = 0; round < 4; ++round) {
        std::string letters;
        for (int i = 0; i < 40; ++i) letters.push_back(static_cast<char>('a' + letter(random)));
        EXPECT_EQ(EngineMatches(pattern, skip_to_next_row, letters),
                  RegexMatches(pattern, skip_to_next_row, letters))
            << "PATTERN (" << pattern << ") over " << letters
            << (skip_to_next_row ? " SKIP TO NEXT ROW" : " SKIP PAST LAST ROW");
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 120);
}

TEST(MatchRecognizeTest, StateRoundTripsThroughItsEncoding) {
  runtime::MatchPartition partition;
  partition.first_sequence = 7;
  partition.rows.push_back({1000, 2, 33, {types::Value::String("x"), types::Value::Bigint(5)}});
  partition.waiting.push_back({2000, 1, 34, {types::Value::Null(), types::Value::Int(3)}});
  runtime::MatchRun run;
  run.start = 7;
  run.matched = true;
  run.match = std::string("\x00\x01", 2);
  run.threads.push_back({4, std::string("\x00", 1)});
  partition.runs.push_back(run);
  types::Row encoded;
  partition.Encode(encoded);
  runtime::MatchPartition decoded;
  ASSERT_TRUE(decoded.Decode(encoded).ok());
  EXPECT_EQ(decoded.first_sequence, 7);
  ASSERT_EQ(decoded.rows.size(), 1u);
  EXPECT_EQ(decoded.rows[0].offset, 33);
  EXPECT_EQ(decoded.rows[0].values[0].string(), "x");
  ASSERT_EQ(decoded.waiting.size(), 1u);
  EXPECT_EQ(decoded.waiting[0].timestamp, 2000);
  ASSERT_EQ(decoded.runs.size(), 1u);
  EXPECT_EQ(decoded.runs[0].match, run.match);
  ASSERT_EQ(decoded.runs[0].threads.size(), 1u);
  EXPECT_EQ(decoded.runs[0].threads[0].pc, 4);
  EXPECT_EQ(decoded.runs[0].threads[0].labels, run.threads[0].labels);
  // Truncated state is refused, never read past its end.
  for (size_t size = 0; size < encoded.size(); ++size) {
    types::Row damaged(encoded.begin(), encoded.begin() + static_cast<std::ptrdiff_t>(size));
    runtime::MatchPartition ignored;
    EXPECT_EQ(ignored.Decode(damaged).code(), StatusCode::kCorruption) << size;
  }
}

}  // namespace
}  // namespace sidestream::host
