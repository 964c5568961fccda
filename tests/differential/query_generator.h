#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

/// Random windowed aggregation queries over the CDR-like stream of cdr_stream_generator.h,
/// written in the subset of SQL that Sidestream (ksqlDB's dialect) and SQLite read alike.
/// The filter is written for each: SQLite's comparisons are wrapped so that, as in ksqlDB, a
/// comparison with a NULL side is false (NOT (x > 1) holds when x is NULL).
namespace sidestream::differential {

/// How a column's values compare in results: strings and integers exactly, doubles with a
/// relative tolerance.
enum class ValueKind { kString, kInteger, kDouble };

/// A column of the generated stream `cdr`.
struct StreamColumn {
  std::string name;  // lower case, as declared
  ValueKind kind;
  bool key = false;  // the record key (caller); every other column is in the JSON value
};

/// The columns of `cdr`, in declaration order: caller (key), cell, callee, record_type,
/// duration, bytes, charge, cdr_id.
const std::vector<StreamColumn>& CdrColumns();

/// `CREATE STREAM cdr ...` for the engine.
std::string CdrStreamDdl();

enum class WindowKind { kTumbling, kHopping };

/// One aggregate of the SELECT list, e.g. `SUM(duration) AS A2`.
struct AggregateTerm {
  std::string function;  // COUNT, SUM, MIN, MAX or AVG
  std::string column;    // empty for COUNT(*)
  std::string alias;     // upper case
  ValueKind result_kind;
};

/// One windowed GROUP BY query with EMIT FINAL, a GRACE PERIOD and a LATE_TOPIC.
/// Plain data: copy freely.
struct WindowedQuery {
  WindowKind window = WindowKind::kTumbling;
  int64_t size_ms = 0;
  int64_t advance_ms = 0;  // equals size_ms for TUMBLING
  int64_t grace_ms = 0;
  std::string filter;                 // empty: no WHERE; else the engine's
  std::string sqlite_filter;          // the same filter for SQLite (see above)
  std::vector<std::string> group_by;  // one or two column names
  std::vector<AggregateTerm> aggregates;
  // The SELECT list order: an index into group_by when >= 0, else aggregate -1 - index.
  std::vector<int> projection;

  /// The CREATE TABLE ... AS SELECT statement (the stream must already exist).
  std::string EngineSql() const;
  /// The aggregate's expression for SQLite, with ksqlDB's results on no input: SUM gives 0
  /// and AVG 0.0 where SQL gives NULL.
  std::string SqliteAggregate(const AggregateTerm& term) const;
};

/// The sink table's name, its topic and the late topic of every generated query.
inline constexpr char kSinkTopic[] = "WINDOWED";
inline constexpr char kLateTopic[] = "late";

/// Draws one query; deterministic for a given generator state.
WindowedQuery GenerateQuery(std::mt19937_64& random);

}  // namespace sidestream::differential
