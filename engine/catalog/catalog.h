#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "types/sql_type.h"

struct sqlite3;

/// The catalog of streams, tables, custom types, persistent queries and sink connectors.
namespace sidestream::catalog {

enum class SourceType { kStream, kTable };

enum class ColumnRole { kKey, kValue, kHeader };

struct Column {
  std::string name;
  types::SqlType type;
  ColumnRole role = ColumnRole::kValue;
  std::string header_key;  // for kHeader columns declared HEADER('key'); empty for HEADERS
};

enum class WindowType { kNone, kTumbling, kHopping, kSession };
/// "TUMBLING", "HOPPING", "SESSION" ("NONE" when not windowed), as ksqlDB prints them.
const char* WindowTypeName(WindowType type);

/// A stream or table: its schema and where its data lives.
struct SourceDescription {
  std::string name;  // as stored in SQL (unquoted names upper-cased)
  SourceType type = SourceType::kStream;
  std::vector<Column> columns;  // key columns first, then value columns, then headers
  std::string topic;
  std::string key_format = "KAFKA";
  std::string value_format = "JSON";
  int partitions = 0;  // 0 when unknown
  std::optional<std::string> timestamp_column;
  std::optional<std::string> timestamp_format;
  std::optional<int64_t> watermark_delay_ms;   // WATERMARK FOR timestamp_column AS ... - delay
  WindowType window_type = WindowType::kNone;  // windowed key
  std::optional<int64_t> window_size_ms;
  std::map<std::string, std::string> properties;  // every WITH property, values as text
  std::string sql;                                // the statement that defined it
  std::string writer_query_id;  // the persistent query writing it; empty for declared sources
  /// CREATE SOURCE STREAM|TABLE: read-only, as in ksqlDB. No INSERT (VALUES or SELECT), no
  /// DROP ... DELETE TOPIC, no CREATE OR REPLACE.
  bool read_only = false;

  /// Finds a column by exact name; null when absent.
  const Column* FindColumn(const std::string& name) const;
};

/// A persistent query: CREATE ... AS SELECT or INSERT INTO.
struct QueryDescription {
  std::string id;  // CSAS_OUTPUT_0, CTAS_OUTPUT_1, INSERTQUERY_2
  std::string sql;
  std::vector<std::string> source_names;
  std::string sink_name;
  std::string state = "RUNNING";
  /// The session properties it was created with, overridden by its WITH clause.
  std::map<std::string, std::string> properties;
};

/// A sink connector (CREATE SINK CONNECTOR): where a topic's changes are written.
struct ConnectorDescription {
  std::string name;             // as stored in SQL (unquoted names upper-cased)
  std::string connector_class;  // canonical: "redis" or "couchdb"
  /// Every property, under its canonical lower-case name, with defaults filled in; values
  /// as text.
  std::map<std::string, std::string> properties;
  std::string sql;  // the statement that defined it
};

/// Persistent catalog backed by one SQLite file in the data directory, with an
/// in-memory copy for reads. Every mutation is written through to SQLite in a
/// transaction before the call returns, so the catalog survives a restart.
///
/// Thread-safety: all methods are safe to call from any thread (one internal mutex).
/// Ownership: the Catalog owns its SQLite connection and closes it on destruction.
class Catalog {
 public:
  /// Opens the catalog at `path`, creating the file and schema when missing.
  /// ":memory:" opens a catalog that is not persisted (tests, offline runs).
  /// Returns Corruption with the path when the file is not a readable Sidestream catalog,
  /// and IOError when the file cannot be opened or created.
  static Result<std::unique_ptr<Catalog>> Open(const std::string& path);
  ~Catalog();

  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  /// Adds a source. AlreadyExists when the name is taken and !or_replace.
  Status CreateSource(const SourceDescription& source, bool or_replace);
  /// NotFound when absent.
  Result<SourceDescription> GetSource(const std::string& name) const;
  bool HasSource(const std::string& name) const;
  /// NotFound when absent. Does not touch queries.
  Status DropSource(const std::string& name);
  /// All sources, ordered by name.
  std::vector<SourceDescription> ListSources() const;

  /// Adds a custom type (CREATE TYPE). AlreadyExists when the name is taken.
  Status CreateType(const std::string& name, const types::SqlType& type);
  Result<types::SqlType> GetType(const std::string& name) const;
  Status DropType(const std::string& name);
  std::map<std::string, types::SqlType> ListTypes() const;

  /// Adds a persistent query. AlreadyExists when the id is taken.
  Status AddQuery(const QueryDescription& query);
  Result<QueryDescription> GetQuery(const std::string& id) const;
  Status RemoveQuery(const std::string& id);
  std::vector<QueryDescription> ListQueries() const;

  /// Adds a sink connector. AlreadyExists when the name is taken.
  Status CreateConnector(const ConnectorDescription& connector);
  /// NotFound when absent.
  Result<ConnectorDescription> GetConnector(const std::string& name) const;
  Status DropConnector(const std::string& name);
  /// All connectors, ordered by name.
  std::vector<ConnectorDescription> ListConnectors() const;

  /// Returns a fresh query id: prefix + "_" + counter, e.g. "CSAS_OUTPUT_0".
  /// The counter is persisted and never reused.
  Result<std::string> NextQueryId(const std::string& prefix);
  /// Makes the next NextQueryId use `number` (persisted). A command replayed from the command
  /// topic numbers its query by its offset, as ksqlDB does, so that every instance gives it
  /// the same id (and so the same consumer group).
  Status SetNextQueryNumber(int64_t number);

  /// The offset of the last command-topic record applied to this catalog; -1 when none.
  int64_t applied_command_offset() const;
  /// Records that the command at `offset` was applied (persisted).
  Status SetAppliedCommandOffset(int64_t offset);

  /// Makes the changes until CommitChanges one transaction: after a crash all of them are in
  /// the file, or none. A command replayed from the command topic runs in one with its
  /// offset, so that a crash never leaves it applied and unrecorded (it would run twice).
  /// Not nested; changes made from other threads meanwhile join it.
  Status BeginChanges();
  Status CommitChanges();

 private:
  explicit Catalog(sqlite3* database);
  Status Load();

  sqlite3* database_;
  mutable std::mutex mutex_;
  std::map<std::string, SourceDescription> sources_;
  std::map<std::string, types::SqlType> types_;
  std::map<std::string, QueryDescription> queries_;
  std::map<std::string, ConnectorDescription> connectors_;
  int64_t next_query_number_ = 0;
  int64_t applied_command_offset_ = -1;
};

}  // namespace sidestream::catalog
