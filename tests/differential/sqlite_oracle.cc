#include "sqlite_oracle.h"

#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <tuple>

namespace sidestream::differential {

namespace {

using nlohmann::json;

struct CloseDatabase {
  void operator()(sqlite3* database) const { sqlite3_close(database); }
};
struct FinalizeStatement {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Database = std::unique_ptr<sqlite3, CloseDatabase>;
using Statement = std::unique_ptr<sqlite3_stmt, FinalizeStatement>;

Status SqliteError(sqlite3* database, const std::string& what) {
  return Status::Internal("SQLite " + what + ": " + sqlite3_errmsg(database));
}

Result<Statement> Prepare(sqlite3* database, const std::string& sql) {
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(database, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    return SqliteError(database, "prepare of `" + sql + "`");
  }
  return Statement(statement);
}

Status Run(sqlite3* database, const std::string& sql) {
  if (sqlite3_exec(database, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return SqliteError(database, "`" + sql + "`");
  }
  return Status::OK();
}

void Bind(sqlite3_stmt* statement, int index, const json& value) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()),
                      SQLITE_TRANSIENT);
  } else if (value.is_number_integer()) {
    sqlite3_bind_int64(statement, index, value.get<int64_t>());
  } else if (value.is_number_float()) {
    sqlite3_bind_double(statement, index, value.get<double>());
  } else {
    sqlite3_bind_null(statement, index);
  }
}

json ColumnValue(sqlite3_stmt* statement, int index) {
  switch (sqlite3_column_type(statement, index)) {
    case SQLITE_INTEGER:
      return static_cast<int64_t>(sqlite3_column_int64(statement, index));
    case SQLITE_FLOAT:
      return sqlite3_column_double(statement, index);
    case SQLITE_TEXT:
      return std::string(reinterpret_cast<const char*>(sqlite3_column_text(statement, index)),
                         sqlite3_column_bytes(statement, index));
    default:
      return nullptr;
  }
}

int64_t FloorDivide(int64_t value, int64_t divisor) {
  int64_t quotient = value / divisor;
  return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient;
}

Status LoadRecords(sqlite3* database, const std::vector<host::TestRecord>& records) {
  std::string columns = "seq INTEGER PRIMARY KEY, rowtime INTEGER";
  std::string placeholders = "?, ?";
  for (const StreamColumn& column : CdrColumns()) {
    columns += ", " + column.name +
               (column.kind == ValueKind::kString    ? " TEXT"
                : column.kind == ValueKind::kInteger ? " INTEGER"
                                                     : " REAL");
    placeholders += ", ?";
  }
  RETURN_NOT_OK(Run(database, "CREATE TABLE cdr (" + columns + ")"));
  RETURN_NOT_OK(Run(
      database, "CREATE TABLE applied (seq INTEGER, window_start INTEGER, window_end INTEGER)"));
  ASSIGN_OR_RAISE(Statement insert,
                  Prepare(database, "INSERT INTO cdr VALUES (" + placeholders + ")"));
  for (size_t seq = 0; seq < records.size(); ++seq) {
    const host::TestRecord& record = records[seq];
    sqlite3_reset(insert.get());
    sqlite3_bind_int64(insert.get(), 1, static_cast<int64_t>(seq));
    sqlite3_bind_int64(insert.get(), 2, record.timestamp.value_or(0));
    int index = 3;
    for (const StreamColumn& column : CdrColumns()) {
      json value = nullptr;
      if (column.key) {
        value = record.key;
      } else if (record.value.is_object() && record.value.contains(column.name)) {
        value = record.value[column.name];
      }
      Bind(insert.get(), index++, value);
    }
    if (sqlite3_step(insert.get()) != SQLITE_DONE) return SqliteError(database, "insert");
  }
  return Status::OK();
}

std::string GroupList(const WindowedQuery& query) {
  std::string list;
  for (const std::string& column : query.group_by) list += (list.empty() ? "" : ", ") + column;
  return list;
}

}  // namespace

std::vector<std::pair<int64_t, int64_t>> AssignWindows(const WindowedQuery& query,
                                                       int64_t timestamp) {
  std::vector<std::pair<int64_t, int64_t>> windows;
  // Every multiple of the advance in (timestamp - size, timestamp].
  int64_t last = FloorDivide(timestamp, query.advance_ms);
  for (int64_t k = FloorDivide(timestamp - query.size_ms, query.advance_ms); k <= last; ++k) {
    int64_t start = k * query.advance_ms;
    if (start <= timestamp && timestamp < start + query.size_ms && (start >= 0 || timestamp < 0)) {
      windows.emplace_back(start, start + query.size_ms);
    }
  }
  return windows;
}

Result<QueryResults> RunOracle(const WindowedQuery& query,
                               const std::vector<host::TestRecord>& records,
                               const OracleOptions& options) {
  sqlite3* raw = nullptr;
  if (sqlite3_open(":memory:", &raw) != SQLITE_OK) {
    sqlite3_close(raw);
    return Status::Internal("SQLite cannot open an in-memory database");
  }
  Database database(raw);
  RETURN_NOT_OK(LoadRecords(database.get(), records));

  // The records that reach the aggregation: through the filter, no NULL grouping value.
  std::string reaching_sql = "SELECT seq, " + GroupList(query) + " FROM cdr WHERE " +
                             (query.sqlite_filter.empty() ? "1" : "(" + query.sqlite_filter + ")");
  for (const std::string& column : query.group_by)
    reaching_sql += " AND " + column + " IS NOT NULL";
  std::map<int64_t, json> reaching;  // seq -> the group's values
  {
    ASSIGN_OR_RAISE(Statement select, Prepare(database.get(), reaching_sql));
    int step;
    while ((step = sqlite3_step(select.get())) == SQLITE_ROW) {
      json group = json::array();
      for (size_t i = 0; i < query.group_by.size(); ++i) {
        group.push_back(ColumnValue(select.get(), static_cast<int>(i) + 1));
      }
      reaching[sqlite3_column_int64(select.get(), 0)] = std::move(group);
    }
    if (step != SQLITE_DONE) return SqliteError(database.get(), "select of reaching records");
  }

  // Walk the arrivals: stream time first, then each window of the record on its own.
  QueryResults results;
  std::vector<int64_t> stream_times;                            // after each arrival
  using WindowKey = std::tuple<std::string, int64_t, int64_t>;  // group text, start, end
  std::map<WindowKey, int64_t> created;                         // -> creation number
  int64_t stream_time = INT64_MIN;
  // Grouping by the message key (caller) alone needs no repartition topic: the aggregation's
  // stream time counts every record. Any other grouping re-keys through a repartition topic,
  // which carries only the rows that pass the filter with no NULL grouping value (Kafka
  // Streams drops null keys there), so the aggregation's stream time counts only those.
  const bool repartitioned = !(query.group_by.size() == 1 && query.group_by[0] == "caller");
  // On several partitions a task's stream time lies between that of the records routed by the
  // same key (the caller, or the group once repartitioned) and the one stream time above.
  std::map<std::string, int64_t> routed_times;  // routing key's text -> its stream time
  {
    ASSIGN_OR_RAISE(Statement insert,
                    Prepare(database.get(), "INSERT INTO applied VALUES (?, ?, ?)"));
    for (size_t seq = 0; seq < records.size(); ++seq) {
      const host::TestRecord& record = records[seq];
      int64_t timestamp = record.timestamp.value_or(0);
      auto group = reaching.find(static_cast<int64_t>(seq));
      int64_t routed_time = INT64_MIN;
      if (!repartitioned || group != reaching.end()) {
        stream_time = std::max(stream_time, timestamp);
        auto [routed, added] = routed_times.emplace(
            repartitioned ? group->second.dump() : record.key.dump(), timestamp);
        routed_time = routed->second = std::max(routed->second, timestamp);
      }
      stream_times.push_back(stream_time);
      if (group == reaching.end()) continue;
      bool ambiguous = false;
      for (const auto& [start, end] : AssignWindows(query, timestamp)) {
        ambiguous |= (end + query.grace_ms <= stream_time) != (end + query.grace_ms <= routed_time);
        if (end + query.grace_ms <= stream_time) {
          results.late.push_back(
              {record.key, record.value, start, end, stream_time, timestamp, seq});
          continue;
        }
        created.emplace(WindowKey{group->second.dump(), start, end},
                        static_cast<int64_t>(created.size()));
        sqlite3_reset(insert.get());
        sqlite3_bind_int64(insert.get(), 1, static_cast<int64_t>(seq));
        sqlite3_bind_int64(insert.get(), 2, start);
        sqlite3_bind_int64(insert.get(), 3, end);
        if (sqlite3_step(insert.get()) != SQLITE_DONE) {
          return SqliteError(database.get(), "insert of an applied pair");
        }
      }
      if (ambiguous) results.partition_dependent.push_back(seq);
    }
  }

  std::string aggregates;
  for (const AggregateTerm& term : query.aggregates) {
    aggregates += ", " + query.SqliteAggregate(term);
  }
  std::string group_list = GroupList(query);
  std::string result_sql = "SELECT " + group_list + ", applied.window_start, applied.window_end" +
                           aggregates + ", MAX(cdr.rowtime) FROM cdr JOIN applied " +
                           "ON cdr.seq = applied.seq GROUP BY " + group_list +
                           ", applied.window_start, applied.window_end";
  ASSIGN_OR_RAISE(Statement select, Prepare(database.get(), result_sql));
  // (closing arrival, window end, creation number) -> row
  std::map<std::tuple<int64_t, int64_t, int64_t>, WindowResult> ordered;
  int step;
  while ((step = sqlite3_step(select.get())) == SQLITE_ROW) {
    WindowResult row;
    int column = 0;
    for (size_t i = 0; i < query.group_by.size(); ++i) {
      row.group.push_back(ColumnValue(select.get(), column++));
    }
    row.window_start = sqlite3_column_int64(select.get(), column++);
    row.window_end = sqlite3_column_int64(select.get(), column++);
    for (size_t i = 0; i < query.aggregates.size(); ++i) {
      row.aggregates.push_back(ColumnValue(select.get(), column++));
    }
    row.timestamp = sqlite3_column_int64(select.get(), column++);
    // The first arrival that brought stream time to end + grace closed the window.
    int64_t closes_at = row.window_end + query.grace_ms;
    auto closing = std::lower_bound(stream_times.begin(), stream_times.end(), closes_at);
    // The idle end counts as one more arrival, after the last.
    if (closing == stream_times.end() && !options.close_every_window) continue;  // still open
    json group(row.group);
    int64_t creation = created.at(WindowKey{group.dump(), row.window_start, row.window_end});
    ordered.emplace(std::make_tuple(closing - stream_times.begin(), row.window_end, creation),
                    std::move(row));
  }
  if (step != SQLITE_DONE) return SqliteError(database.get(), "select of results");
  for (auto& [order, row] : ordered) results.windows.push_back(std::move(row));
  return results;
}

}  // namespace sidestream::differential
