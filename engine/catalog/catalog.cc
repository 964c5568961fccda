#include "catalog/catalog.h"

#include <sqlite3.h>

#include <charconv>
#include <filesystem>
#include <functional>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>

#include "catalog/description_json.h"
#include "catalog/type_json.h"

namespace sidestream::catalog {
namespace {

using nlohmann::json;

// Version of the tables below. Bump it, and teach Open to migrate, when they change.
constexpr int64_t kSchemaVersion = 1;
constexpr const char* kInMemoryPath = ":memory:";
// How long a write waits for another connection's lock before failing with IOError.
constexpr int kBusyTimeoutMs = 5000;

constexpr const char* kCreateSchema = R"sql(
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE sources (name TEXT PRIMARY KEY, description TEXT NOT NULL);
  CREATE TABLE types (name TEXT PRIMARY KEY, description TEXT NOT NULL);
  CREATE TABLE queries (id TEXT PRIMARY KEY, description TEXT NOT NULL);
  CREATE TABLE query_id_counter (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    next_number INTEGER NOT NULL);
  INSERT INTO query_id_counter (singleton, next_number) VALUES (1, 0);
)sql";

constexpr const char* kCatalogTables[] = {"meta", "sources", "types", "queries",
                                          "query_id_counter"};

// Added after version 1 without a version bump: created when missing, so older files open.
constexpr const char* kAppliedCommandOffsetKey = "applied_command_offset";
constexpr const char* kCreateConnectors =
    "CREATE TABLE IF NOT EXISTS connectors (name TEXT PRIMARY KEY, description TEXT NOT NULL)";

constexpr const char* kMoveAside = "; move it aside to start with an empty catalog";

struct DatabaseCloser {
  void operator()(sqlite3* database) const { sqlite3_close_v2(database); }
};
using DatabasePtr = std::unique_ptr<sqlite3, DatabaseCloser>;

struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

std::string Quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// The file behind `database` for messages; ":memory:" when it has none.
std::string PathOf(sqlite3* database) {
  const char* name = sqlite3_db_filename(database, "main");
  return name == nullptr || name[0] == '\0' ? kInMemoryPath : name;
}

// Turns a failed SQLite call into a Status that names the file and says what to do.
Status SqliteError(sqlite3* database, int code, std::string_view action) {
  std::string path = PathOf(database);
  std::string detail = std::string(action) + ": " + sqlite3_errmsg(database);
  switch (code & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption("catalog file " + Quoted(path) + " is corrupt (" + detail + ")" +
                                kMoveAside);
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_PERM:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOLFS:
    case SQLITE_AUTH:
      return Status::IOError("catalog file " + Quoted(path) + ": " + detail);
    default:
      return Status::Internal("catalog file " + Quoted(path) + ": " + detail);
  }
}

// One prepared statement. Text parameters must outlive Step().
class Statement {
 public:
  static Result<Statement> Prepare(sqlite3* database, std::string_view sql) {
    sqlite3_stmt* raw = nullptr;
    int code =
        sqlite3_prepare_v2(database, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
    StatementPtr statement(raw);
    if (code != SQLITE_OK) return SqliteError(database, code, "preparing " + std::string(sql));
    return Statement(database, std::move(statement));
  }

  /// Binds `text` to the 1-based parameter `index`.
  Status BindText(int index, std::string_view text) {
    return Check(sqlite3_bind_text(statement_.get(), index, text.data(),
                                   static_cast<int>(text.size()), SQLITE_STATIC));
  }
  Status BindInt64(int index, int64_t value) {
    return Check(sqlite3_bind_int64(statement_.get(), index, value));
  }

  /// True when a row is ready, false when the statement is done.
  Result<bool> Step() {
    int code = sqlite3_step(statement_.get());
    if (code == SQLITE_ROW) return true;
    if (code == SQLITE_DONE) return false;
    return SqliteError(database_, code, "running " + std::string(sqlite3_sql(statement_.get())));
  }

  /// Runs the statement to completion, ignoring rows.
  Status Run() {
    while (true) {
      ASSIGN_OR_RAISE(bool has_row, Step());
      if (!has_row) return Status::OK();
    }
  }

  /// Column `index` of the current row as text; nullopt for NULL.
  std::optional<std::string> Text(int index) const {
    const unsigned char* text = sqlite3_column_text(statement_.get(), index);
    if (text == nullptr) return std::nullopt;
    int size = sqlite3_column_bytes(statement_.get(), index);
    return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
  }
  int ColumnType(int index) const { return sqlite3_column_type(statement_.get(), index); }
  int64_t Int64(int index) const { return sqlite3_column_int64(statement_.get(), index); }

 private:
  Statement(sqlite3* database, StatementPtr statement)
      : database_(database), statement_(std::move(statement)) {}

  Status Check(int code) {
    if (code == SQLITE_OK) return Status::OK();
    return SqliteError(database_, code, "binding a parameter");
  }

  sqlite3* database_;
  StatementPtr statement_;
};

Status Execute(sqlite3* database, std::string_view sql) {
  int code = sqlite3_exec(database, std::string(sql).c_str(), nullptr, nullptr, nullptr);
  if (code != SQLITE_OK) return SqliteError(database, code, "running " + std::string(sql));
  return Status::OK();
}

// Runs `body` in a savepoint: a transaction of its own, or a part of the one BeginChanges
// opened. When the body or the release fails its changes are rolled back and the first error
// is returned, so callers may update their in-memory state exactly when this returns OK.
Status InTransaction(sqlite3* database, const std::function<Status()>& body) {
  RETURN_NOT_OK(Execute(database, "SAVEPOINT catalog_change"));
  Status status = body();
  if (status.ok()) status = Execute(database, "RELEASE catalog_change");
  if (!status.ok()) {
    // A failed release can leave the savepoint open (SQLITE_BUSY); close it so the next
    // mutation starts clean. The rollback's own error adds nothing to the first one.
    sqlite3_exec(database, "ROLLBACK TO catalog_change; RELEASE catalog_change", nullptr, nullptr,
                 nullptr);
  }
  return status;
}

// Serializes a JSON document; InvalidArgument when a string in it is not valid UTF-8.
Result<std::string> Dump(const json& document, std::string_view what) {
  try {
    return document.dump();
  } catch (const json::exception& error) {
    return Status::InvalidArgument(std::string(what) + " cannot be stored: " + error.what());
  }
}

Result<json> Parse(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::exception& error) {
    return Status::InvalidArgument(error.what());
  }
}

Status BadRow(sqlite3* database, std::string_view table, std::string_view key,
              std::string_view problem) {
  return Status::Corruption(
      "catalog file " + Quoted(PathOf(database)) + ": row " + Quoted(key) + " of table " +
      std::string(table) + " is unreadable: " + std::string(problem) +
      "; delete that row, or move the file aside " + "to start with an empty catalog");
}

Status NotOurs(sqlite3* database, std::string_view problem) {
  return Status::Corruption("catalog file " + Quoted(PathOf(database)) +
                            " is not a Sidestream catalog (" + std::string(problem) + ")" +
                            kMoveAside);
}

// While the file is being identified, any failure to read it (a missing column, a file that
// is not a database) means the file is not ours; only I/O trouble stays an IOError.
Status AsNotOurs(sqlite3* database, const Status& status) {
  if (status.ok() || status.code() == StatusCode::kIOError ||
      status.code() == StatusCode::kCorruption) {
    return status;
  }
  return NotOurs(database, sqlite3_errmsg(database));
}

// Creates the schema in an empty file, or checks that an existing file is a catalog of a
// version this build reads.
Status PrepareSchema(sqlite3* database) {
  std::set<std::string> tables;
  {
    Result<Statement> list = Statement::Prepare(
        database,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    RETURN_NOT_OK(AsNotOurs(database, list.status()));
    while (true) {
      Result<bool> has_row = list->Step();
      RETURN_NOT_OK(AsNotOurs(database, has_row.status()));
      if (!*has_row) break;
      tables.insert(list->Text(0).value_or(""));
    }
  }
  if (tables.empty()) {
    return InTransaction(database, [&] {
      RETURN_NOT_OK(Execute(database, kCreateSchema));
      ASSIGN_OR_RAISE(Statement insert, Statement::Prepare(database,
                                                           "INSERT INTO meta (key, value) VALUES "
                                                           "('schema_version', ?1)"));
      std::string version = std::to_string(kSchemaVersion);
      RETURN_NOT_OK(insert.BindText(1, version));
      return insert.Run();
    });
  }
  if (tables.count("meta") == 0) return NotOurs(database, "it has no meta table");

  Result<Statement> select =
      Statement::Prepare(database, "SELECT value FROM meta WHERE key = 'schema_version'");
  RETURN_NOT_OK(AsNotOurs(database, select.status()));
  Result<bool> has_row = select->Step();
  RETURN_NOT_OK(AsNotOurs(database, has_row.status()));
  if (!*has_row) return NotOurs(database, "meta has no schema_version");
  std::string text = select->Text(0).value_or("");
  int64_t version = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (error != std::errc() || end != text.data() + text.size() || version < 1) {
    return NotOurs(database, "schema_version " + Quoted(text) + " is not a positive integer");
  }
  if (version > kSchemaVersion) {
    return Status::Corruption(
        "catalog file " + Quoted(PathOf(database)) + " has schema version " +
        std::to_string(version) + ", newer than the " + std::to_string(kSchemaVersion) +
        " this Sidestream reads; run a newer Sidestream, or move it aside to start with an " +
        "empty catalog");
  }
  for (const char* table : kCatalogTables) {
    if (tables.count(table) == 0) {
      return NotOurs(database, "table " + std::string(table) + " is missing");
    }
  }
  return Status::OK();
}

// Reads every (key, JSON document) row of `table` and hands each parsed document to `add`.
Status ReadRows(sqlite3* database, std::string_view table, std::string_view key_column,
                const std::function<Status(const std::string&, const json&)>& add) {
  std::string sql = "SELECT " + std::string(key_column) + ", description FROM " +
                    std::string(table) + " ORDER BY " + std::string(key_column);
  Result<Statement> select = Statement::Prepare(database, sql);
  RETURN_NOT_OK(AsNotOurs(database, select.status()));
  while (true) {
    ASSIGN_OR_RAISE(bool has_row, select->Step());
    if (!has_row) return Status::OK();
    std::optional<std::string> key = select->Text(0);
    std::optional<std::string> text = select->Text(1);
    if (!key || !text || select->ColumnType(1) != SQLITE_TEXT) {
      return BadRow(database, table, key.value_or("NULL"), "the key or description is not text");
    }
    Result<json> document = Parse(*text);
    if (!document.ok()) return BadRow(database, table, *key, document.status().message());
    Status added = add(*key, *document);
    if (!added.ok()) return BadRow(database, table, *key, added.message());
  }
}

Status CheckName(std::string_view what, const std::string& name) {
  if (name.empty()) return Status::InvalidArgument(std::string(what) + " must not be empty");
  return Status::OK();
}

}  // namespace

const Column* SourceDescription::FindColumn(const std::string& name) const {
  for (const Column& column : columns) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

Catalog::Catalog(sqlite3* database) : database_(database) {}

Catalog::~Catalog() { sqlite3_close_v2(database_); }

Result<std::unique_ptr<Catalog>> Catalog::Open(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("catalog path must not be empty");
  if (path != kInMemoryPath) {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code error;
    if (!parent.empty() && !std::filesystem::is_directory(parent, error)) {
      std::filesystem::create_directories(parent, error);
      if (error) {
        return Status::IOError("cannot create the directory of catalog file " + Quoted(path) +
                               ": " + error.message());
      }
    }
  }

  sqlite3* raw = nullptr;
  // NOMUTEX: the Catalog's own mutex already serializes every use of the connection.
  int code =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DatabasePtr database(raw);
  if (code != SQLITE_OK) {
    std::string detail = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(code);
    return Status::IOError("cannot open catalog file " + Quoted(path) + ": " + detail);
  }
  sqlite3_extended_result_codes(database.get(), 1);
  sqlite3_busy_timeout(database.get(), kBusyTimeoutMs);
  // SQLite falls back to read-only when the file is not writable; a catalog must be.
  if (sqlite3_db_readonly(database.get(), "main") == 1) {
    return Status::IOError("catalog file " + Quoted(path) + " is read-only");
  }
  RETURN_NOT_OK(PrepareSchema(database.get()));
  RETURN_NOT_OK(Execute(database.get(), kCreateConnectors));

  std::unique_ptr<Catalog> catalog(new Catalog(database.release()));
  RETURN_NOT_OK(catalog->Load());
  return catalog;
}

Status Catalog::Load() {
  sqlite3* database = database_;
  RETURN_NOT_OK(ReadRows(database, "sources", "name",
                         [&](const std::string& name, const json& document) -> Status {
                           ASSIGN_OR_RAISE(SourceDescription source, SourceFromJson(document));
                           if (source.name != name)
                             return Status::InvalidArgument("its name is " + Quoted(source.name));
                           sources_.emplace(name, std::move(source));
                           return Status::OK();
                         }));
  RETURN_NOT_OK(ReadRows(database, "types", "name",
                         [&](const std::string& name, const json& document) -> Status {
                           ASSIGN_OR_RAISE(types::SqlType type, TypeFromJson(document));
                           types_.emplace(name, std::move(type));
                           return Status::OK();
                         }));
  RETURN_NOT_OK(ReadRows(database, "queries", "id",
                         [&](const std::string& id, const json& document) -> Status {
                           ASSIGN_OR_RAISE(QueryDescription query, QueryFromJson(document));
                           if (query.id != id)
                             return Status::InvalidArgument("its id is " + Quoted(query.id));
                           queries_.emplace(id, std::move(query));
                           return Status::OK();
                         }));

  RETURN_NOT_OK(ReadRows(
      database, "connectors", "name", [&](const std::string& name, const json& document) -> Status {
        ASSIGN_OR_RAISE(ConnectorDescription connector, ConnectorFromJson(document));
        if (connector.name != name)
          return Status::InvalidArgument("its name is " + Quoted(connector.name));
        connectors_.emplace(name, std::move(connector));
        return Status::OK();
      }));

  ASSIGN_OR_RAISE(Statement counter,
                  Statement::Prepare(database, "SELECT next_number FROM query_id_counter"));
  ASSIGN_OR_RAISE(bool has_row, counter.Step());
  if (!has_row || counter.ColumnType(0) != SQLITE_INTEGER || counter.Int64(0) < 0) {
    return BadRow(database, "query_id_counter", "1", "expected one non-negative integer");
  }
  next_query_number_ = counter.Int64(0);

  // Kept in meta, so that a catalog from before the command topic opens as "none applied".
  ASSIGN_OR_RAISE(Statement applied,
                  Statement::Prepare(database, "SELECT value FROM meta WHERE key = ?1"));
  RETURN_NOT_OK(applied.BindText(1, kAppliedCommandOffsetKey));
  ASSIGN_OR_RAISE(bool has_offset, applied.Step());
  if (has_offset) {
    std::string text = applied.Text(0).value_or("");
    int64_t offset = -1;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), offset);
    if (error != std::errc() || end != text.data() + text.size() || offset < -1) {
      return BadRow(database, "meta", kAppliedCommandOffsetKey,
                    "expected an offset, got " + Quoted(text));
    }
    applied_command_offset_ = offset;
  }
  return Status::OK();
}

Status Catalog::SetNextQueryNumber(int64_t number) {
  if (number < 0) return Status::InvalidArgument("a query number must not be negative");
  std::lock_guard lock(mutex_);
  RETURN_NOT_OK(InTransaction(database_, [&] {
    ASSIGN_OR_RAISE(Statement update,
                    Statement::Prepare(database_,
                                       "UPDATE query_id_counter SET next_number = ?1 "
                                       "WHERE singleton = 1"));
    RETURN_NOT_OK(update.BindInt64(1, number));
    return update.Run();
  }));
  next_query_number_ = number;
  return Status::OK();
}

int64_t Catalog::applied_command_offset() const {
  std::lock_guard lock(mutex_);
  return applied_command_offset_;
}

Status Catalog::BeginChanges() {
  std::lock_guard lock(mutex_);
  return Execute(database_, "SAVEPOINT catalog_changes");
}

Status Catalog::CommitChanges() {
  std::lock_guard lock(mutex_);
  return Execute(database_, "RELEASE catalog_changes");
}

Status Catalog::SetAppliedCommandOffset(int64_t offset) {
  std::lock_guard lock(mutex_);
  RETURN_NOT_OK(InTransaction(database_, [&] {
    ASSIGN_OR_RAISE(
        Statement upsert,
        Statement::Prepare(database_, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)"));
    RETURN_NOT_OK(upsert.BindText(1, kAppliedCommandOffsetKey));
    // Bound without a copy (SQLITE_STATIC): the text must outlive the statement's run.
    const std::string text = std::to_string(offset);
    RETURN_NOT_OK(upsert.BindText(2, text));
    return upsert.Run();
  }));
  applied_command_offset_ = offset;
  return Status::OK();
}

Status Catalog::CreateSource(const SourceDescription& source, bool or_replace) {
  RETURN_NOT_OK(CheckName("a source name", source.name));
  ASSIGN_OR_RAISE(std::string text, Dump(SourceToJson(source), "source " + Quoted(source.name)));
  std::lock_guard lock(mutex_);
  if (!or_replace && sources_.count(source.name) > 0) {
    return Status::AlreadyExists("a stream or table named " + Quoted(source.name) +
                                 " already exists");
  }
  RETURN_NOT_OK(InTransaction(database_, [&] {
    ASSIGN_OR_RAISE(Statement insert,
                    Statement::Prepare(database_,
                                       "INSERT OR REPLACE INTO sources (name, description) "
                                       "VALUES (?1, ?2)"));
    RETURN_NOT_OK(insert.BindText(1, source.name));
    RETURN_NOT_OK(insert.BindText(2, text));
    return insert.Run();
  }));
  sources_.insert_or_assign(source.name, source);
  return Status::OK();
}

Result<SourceDescription> Catalog::GetSource(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = sources_.find(name);
  if (it == sources_.end()) {
    return Status::NotFound("no stream or table named " + Quoted(name));
  }
  return it->second;
}

bool Catalog::HasSource(const std::string& name) const {
  std::lock_guard lock(mutex_);
  return sources_.count(name) > 0;
}

Status Catalog::DropSource(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (sources_.count(name) == 0) {
    return Status::NotFound("no stream or table named " + Quoted(name));
  }
  RETURN_NOT_OK(InTransaction(database_, [&] {
    ASSIGN_OR_RAISE(Statement remove,
                    Statement::Prepare(database_, "DELETE FROM sources WHERE name = ?1"));
    RETURN_NOT_OK(remove.BindText(1, name));
    return remove.Run();
  }));
  sources_.erase(name);
  return Status::OK();
}

std::vector<SourceDescription> Catalog::ListSources() const {
  std::lock_guard lock(mutex_);
  std::vector<SourceDescription> sources;
  sources.reserve(sources_.size());
  for (const auto& [name, source] : sources_) sources.push_back(source);
  return sources;
}

Status Catalog::CreateType(const std::string& name, const types::SqlType& type) {
  RETURN_NOT_OK(CheckName("a type name", name));
  ASSIGN_OR_RAISE(std::string text, Dump(TypeToJson(type), "type " + Quoted(name)));
  std::lock_guard lock(mutex_);
  if (types_.count(name) > 0) {
    return Status::AlreadyExists("a type named " + Quoted(name) + " already exists");
  }
  RETURN_NOT_OK(InTransaction(database_, [&] {
    ASSIGN_OR_RAISE(
        Statement insert,
        Statement::Prepare(database_, "INSERT INTO types (name, description) VALUES (?1, ?2)"));
    RETURN_NOT_OK(insert.BindText(1, name));
    RETURN_NOT_OK(insert.BindText(2, text));
    return insert.Run();
  }));
  types_.emplace(name, type);
  return Status::OK();
}

Result<types::SqlType> Catalog::GetType(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = types_.find(name);
  if (it == types_.end()) return Status::NotFound("no type named " + Quoted(name));
  return it->second;
}

Status Catalog::DropType(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (types_.count(name) == 0) return Status::NotFound("no type named " + Quoted(name));
  RETURN_NOT_OK(InTransaction(database_, [&] {
    ASSIGN_OR_RAISE(Statement remove,
                    Statement::Prepare(database_, "DELETE FROM types WHERE name = ?1"));
    RETURN_NOT_OK(remove.BindText(1, name));
    return remove.Run();
  }));
  types_.erase(name);
  return Status::OK();
}

std::map<std::string, types::SqlType> Catalog::ListTypes() const {
  std::lock_guard lock(mutex_);
  return types_;
}

Status Catalog::AddQuery(const QueryDescription& query) {
  RETURN_NOT_OK(CheckName("a query id", query.id));
  ASSIGN_OR_RAISE(std::string text, Dump(QueryToJson(query), "query " + Quoted(query.id)));
  std::lock_guard lock(mutex_);
  if (queries_.count(query.id) > 0) {
    return Status::AlreadyExists("a query with id " + Quoted(query.id) + " already exists");
  }
  RETURN_NOT_OK(InTransaction(database_, [&] {
    ASSIGN_OR_RAISE(
        Statement insert,
        Statement::Prepare(database_, "INSERT INTO queries (id, description) VALUES (?1, ?2)"));
    RETURN_NOT_OK(insert.BindText(1, query.id));
    RETURN_NOT_OK(insert.BindText(2, text));
    return insert.Run();
  }));
  queries_.emplace(query.id, query);
  return Status::OK();
}

Result<QueryDescription> Catalog::GetQuery(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = queries_.find(id);
  if (it == queries_.end()) return Status::NotFound("no query with id " + Quoted(id));
  return it->second;
}

Status Catalog::RemoveQuery(const std::string& id) {
  std::lock_guard lock(mutex_);
  if (queries_.count(id) == 0) return Status::NotFound("no query with id " + Quoted(id));
  RETURN_NOT_OK(InTransaction(database_, [&] {
    ASSIGN_OR_RAISE(Statement remove,
                    Statement::Prepare(database_, "DELETE FROM queries WHERE id = ?1"));
    RETURN_NOT_OK(remove.BindText(1, id));
    return remove.Run();
  }));
  queries_.erase(id);
  return Status::OK();
}

std::vector<QueryDescription> Catalog::ListQueries() const {
  std::lock_guard lock(mutex_);
  std::vector<QueryDescription> queries;
  queries.reserve(queries_.size());
  for (const auto& [id, query] : queries_) queries.push_back(query);
  return queries;
}

Result<std::string> Catalog::NextQueryId(const std::string& prefix) {
  std::lock_guard lock(mutex_);
  int64_t number = next_query_number_;
  RETURN_NOT_OK(InTransaction(database_, [&] {
    ASSIGN_OR_RAISE(Statement update,
                    Statement::Prepare(database_,
                                       "UPDATE query_id_counter SET next_number = ?1 "
                                       "WHERE singleton = 1"));
    RETURN_NOT_OK(update.BindInt64(1, number + 1));
    RETURN_NOT_OK(update.Run());
    if (sqlite3_changes(database_) != 1) {
      return Status::Internal("catalog file " + Quoted(PathOf(database_)) +
                              ": the query id counter row is missing");
    }
    return Status::OK();
  }));
  next_query_number_ = number + 1;
  return prefix + "_" + std::to_string(number);
}

Status Catalog::CreateConnector(const ConnectorDescription& connector) {
  RETURN_NOT_OK(CheckName("a connector name", connector.name));
  ASSIGN_OR_RAISE(std::string text,
                  Dump(ConnectorToJson(connector), "connector " + Quoted(connector.name)));
  std::lock_guard lock(mutex_);
  if (connectors_.count(connector.name) > 0) {
    return Status::AlreadyExists("Connector " + connector.name + " already exists");
  }
  RETURN_NOT_OK(InTransaction(database_, [&] {
    ASSIGN_OR_RAISE(Statement insert,
                    Statement::Prepare(
                        database_, "INSERT INTO connectors (name, description) VALUES (?1, ?2)"));
    RETURN_NOT_OK(insert.BindText(1, connector.name));
    RETURN_NOT_OK(insert.BindText(2, text));
    return insert.Run();
  }));
  connectors_.emplace(connector.name, connector);
  return Status::OK();
}

Result<ConnectorDescription> Catalog::GetConnector(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = connectors_.find(name);
  if (it == connectors_.end()) return Status::NotFound("Connector " + name + " does not exist");
  return it->second;
}

Status Catalog::DropConnector(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (connectors_.count(name) == 0) {
    return Status::NotFound("Connector " + name + " does not exist");
  }
  RETURN_NOT_OK(InTransaction(database_, [&] {
    ASSIGN_OR_RAISE(Statement remove,
                    Statement::Prepare(database_, "DELETE FROM connectors WHERE name = ?1"));
    RETURN_NOT_OK(remove.BindText(1, name));
    return remove.Run();
  }));
  connectors_.erase(name);
  return Status::OK();
}

std::vector<ConnectorDescription> Catalog::ListConnectors() const {
  std::lock_guard lock(mutex_);
  std::vector<ConnectorDescription> connectors;
  for (const auto& [name, connector] : connectors_) connectors.push_back(connector);
  return connectors;
}

}  // namespace sidestream::catalog
