// Front-end speed: parsing, and parsing plus analysis, of a ~2 KB CREATE TABLE AS SELECT
// over the CDR stream. The target is under 1 ms for parse + analyze.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

#include "analyzer/analyzer.h"
#include "catalog/catalog.h"
#include "session/script_runner.h"
#include "sql/parser.h"

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

// A wide aggregation of about 2 KB: many aggregates, CASE expressions and a HAVING.
std::string TwoKilobyteStatement() {
  std::string sql = "CREATE TABLE cell_profile AS SELECT cell_id, COUNT(*) AS calls";
  for (int i = 0; sql.size() < 1900; ++i) {
    std::string n = std::to_string(i);
    sql += ", SUM(CASE WHEN termination = 'DROPPED' AND setup_ms > " + n +
           " THEN 1 ELSE 0 END) AS dropped_" + n + ", AVG(duration_s * " + n + ") AS avg_" + n;
  }
  sql +=
      " FROM cdr WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 30 SECONDS)"
      " WHERE record_type = 'VOICE' AND roaming = false GROUP BY cell_id"
      " HAVING COUNT(*) > 10 EMIT FINAL;";
  return sql;
}

struct Fixture {
  std::unique_ptr<sidestream::catalog::Catalog> catalog;
  std::string statement = TwoKilobyteStatement();

  Fixture() {
    catalog = std::move(sidestream::catalog::Catalog::Open(":memory:").value());
    sidestream::session::ScriptRunner runner(*catalog);
    auto declared = runner.Run(ReadFile(SIDESTREAM_SOURCE_DIR "/queries/sources/cdr.sql"));
    if (!declared.ok()) {
      fprintf(stderr, "cannot declare cdr: %s\n", declared.status().ToString().c_str());
      std::abort();
    }
  }
};

Fixture& SharedFixture() {
  static Fixture fixture;
  return fixture;
}

void BM_Parse2KB(benchmark::State& state) {
  const std::string& sql = SharedFixture().statement;
  for (auto _ : state) {
    auto parsed = sidestream::sql::ParseStatement(sql);
    if (!parsed.ok()) {
      state.SkipWithError(parsed.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * sql.size()));
  state.counters["statement_bytes"] = static_cast<double>(sql.size());
}
BENCHMARK(BM_Parse2KB)->Unit(benchmark::kMicrosecond);

void BM_ParseAndAnalyze2KB(benchmark::State& state) {
  Fixture& fixture = SharedFixture();
  sidestream::analyzer::Analyzer analyzer(*fixture.catalog);
  for (auto _ : state) {
    auto parsed = sidestream::sql::ParseStatement(fixture.statement);
    if (!parsed.ok()) {
      state.SkipWithError(parsed.status().ToString().c_str());
      break;
    }
    auto analyzed = analyzer.Analyze(**parsed);
    if (!analyzed.ok()) {
      state.SkipWithError(analyzed.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(analyzed);
  }
  state.counters["target_us"] = 1000;
}
BENCHMARK(BM_ParseAndAnalyze2KB)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
