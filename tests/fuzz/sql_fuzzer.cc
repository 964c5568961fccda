// libFuzzer target: the SQL front end. Arbitrary text goes through ParseScript; each
// statement it yields is analyzed against a catalog that declares a CDR stream (as
// queries/sources/cdr.sql), a subscriber table with nested columns, a stream of every
// type, a windowed table and a custom type. As `sidestream run` does, SET and UNSET change
// the session properties of the statements after them, and a statement that analyzes is
// applied to the catalog, so later statements of the input see what it created or dropped;
// a statement that fails does not stop the ones after it. The catalog is put back as
// declared after every input. Neither step may crash or throw, whatever the text.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "analyzer/analyzer.h"
#include "catalog/catalog.h"
#include "session/script_runner.h"
#include "sql/parser.h"

namespace {

using sidestream::analyzer::Analyzer;
using sidestream::analyzer::SessionProperties;
using sidestream::catalog::Catalog;
using sidestream::catalog::SourceDescription;
using sidestream::sql::StatementKind;
using sidestream::types::SqlType;

constexpr const char* kDeclarations = R"sql(
CREATE STREAM cdr (
  caller_key STRING KEY, cdr_id STRING, record_type STRING, caller STRING, callee STRING,
  imsi STRING, imei STRING, start_ts BIGINT, duration_s INT, setup_ms INT, cell_id STRING,
  lat DOUBLE, lon DOUBLE, termination STRING, bytes_up BIGINT, bytes_down BIGINT,
  sms_text STRING, roaming BOOLEAN, charge DOUBLE,
  WATERMARK FOR start_ts AS start_ts - INTERVAL '30' SECOND
) WITH (KAFKA_TOPIC='cdr', KEY_FORMAT='KAFKA', VALUE_FORMAT='JSON', PARTITIONS=4);
CREATE TYPE address AS STRUCT<street STRING, city STRING, zip INT>;
CREATE TABLE subscribers (
  msisdn STRING PRIMARY KEY, name STRING, plan STRING, credit DECIMAL(10, 2),
  tags ARRAY<STRING>, counters MAP<STRING, BIGINT>, home address, since TIMESTAMP
) WITH (KAFKA_TOPIC='subscribers', VALUE_FORMAT='JSON', PARTITIONS=4);
CREATE STREAM events (
  id BIGINT KEY, b BOOLEAN, i INT, l BIGINT, d DOUBLE, dec DECIMAL(38, 10), s STRING,
  bs BYTES, ts TIMESTAMP, dt DATE, tm TIME, arr ARRAY<INT>, m MAP<STRING, DOUBLE>,
  st STRUCT<a INT, b STRUCT<c ARRAY<STRING>>>, h BYTES HEADER('trace')
) WITH (KAFKA_TOPIC='events', VALUE_FORMAT='JSON', TIMESTAMP='ts', PARTITIONS=2);
CREATE TABLE cell_counts WITH (KAFKA_TOPIC='cell_counts') AS
  SELECT cell_id, COUNT(*) AS calls FROM cdr
  WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 30 SECONDS) GROUP BY cell_id EMIT FINAL;
)sql";

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "sql fuzzer: %s\n", what.c_str());
  std::abort();
}

// The catalog as declared, and how to put it back after an input changed it.
class Fixture {
 public:
  Fixture() {
    auto opened = Catalog::Open(":memory:");
    if (!opened.ok()) Fail("cannot open the catalog: " + opened.status().ToString());
    catalog_ = std::move(opened).value();
    sidestream::session::ScriptRunner runner(*catalog_);
    auto declared = runner.Run(kDeclarations);
    if (!declared.ok()) Fail("cannot declare the sources: " + declared.status().ToString());
    sources_ = catalog_->ListSources();
    types_ = catalog_->ListTypes();
    queries_ = catalog_->ListQueries();
  }

  Catalog& catalog() { return *catalog_; }

  void Restore() {
    for (const auto& source : catalog_->ListSources()) (void)catalog_->DropSource(source.name);
    for (const auto& [name, type] : catalog_->ListTypes()) (void)catalog_->DropType(name);
    for (const auto& query : catalog_->ListQueries()) (void)catalog_->RemoveQuery(query.id);
    for (const auto& source : sources_) Check(catalog_->CreateSource(source, false));
    for (const auto& [name, type] : types_) Check(catalog_->CreateType(name, type));
    for (const auto& query : queries_) Check(catalog_->AddQuery(query));
  }

 private:
  static void Check(const sidestream::Status& status) {
    if (!status.ok()) Fail("cannot restore the catalog: " + status.ToString());
  }

  std::unique_ptr<Catalog> catalog_;
  std::vector<SourceDescription> sources_;
  std::map<std::string, SqlType> types_;
  std::vector<sidestream::catalog::QueryDescription> queries_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  const std::string_view sql(reinterpret_cast<const char*>(data), size);
  auto statements = sidestream::sql::ParseScript(sql);
  if (!statements.ok()) {
    if (statements.status().message().empty()) Fail("a parse error without a message");
    return 0;
  }
  SessionProperties session;
  bool changed = false;
  for (const auto& statement : *statements) {
    const Analyzer analyzer(fixture.catalog(), session);
    auto analyzed = analyzer.Analyze(*statement);
    if (!analyzed.ok()) {
      if (analyzed.status().message().empty()) Fail("an analysis error without a message");
      continue;
    }
    (void)sidestream::session::DescribePlan(*analyzed);
    if (statement->kind == StatementKind::kSet) {
      session[statement->property_name] = statement->property_value;
    } else if (statement->kind == StatementKind::kUnset) {
      session.erase(statement->property_name);
    } else {
      // A statement without an effect on the catalog returns an empty message.
      auto applied = sidestream::analyzer::ApplyToCatalog(*analyzed, fixture.catalog());
      changed = changed || !applied.ok() || !applied->empty();
    }
  }
  if (changed) fixture.Restore();
  return 0;
}
