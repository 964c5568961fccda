#include "catalog/catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

namespace sidestream::catalog {
namespace {

using testing::HasSubstr;
using types::SqlType;

SourceDescription MakeStream(const std::string& name) {
  SourceDescription source;
  source.name = name;
  source.type = SourceType::kStream;
  source.columns = {{"CALLER", SqlType::String(), ColumnRole::kKey, ""},
                    {"DURATION", SqlType::Bigint(), ColumnRole::kValue, ""}};
  source.topic = name + "_topic";
  source.sql = "CREATE STREAM " + name + " (...)";
  return source;
}

// A source with every field set away from its default.
SourceDescription MakeFullTable() {
  SourceDescription source;
  source.name = "CALLS_PER_CELL";
  source.type = SourceType::kTable;
  source.columns = {
      {"CELL", SqlType::String(), ColumnRole::kKey, ""},
      {"TOTAL", SqlType::Decimal(18, 3), ColumnRole::kValue, ""},
      {"LOC",
       SqlType::Struct({{"LAT", SqlType::Double()},
                        {"HOPS", SqlType::Array(SqlType::Map(SqlType::String(), SqlType::Int()))}}),
       ColumnRole::kValue, ""},
      {"TRACE", SqlType::Bytes(), ColumnRole::kHeader, "trace-id"},
  };
  source.topic = "calls_per_cell";
  source.key_format = "JSON";
  source.value_format = "AVRO";
  source.partitions = 6;
  source.timestamp_column = "START_TS";
  source.timestamp_format = "yyyy-MM-dd'T'HH:mm:ss";
  source.watermark_delay_ms = 5000;
  source.window_type = WindowType::kHopping;
  source.window_size_ms = 60000;
  source.properties = {{"KAFKA_TOPIC", "calls_per_cell"}, {"PARTITIONS", "6"}};
  source.sql = "CREATE TABLE CALLS_PER_CELL AS SELECT ...";
  source.writer_query_id = "CTAS_CALLS_PER_CELL_3";
  source.read_only = true;
  return source;
}

QueryDescription MakeQuery(const std::string& id) {
  QueryDescription query;
  query.id = id;
  query.sql = "CREATE STREAM OUT AS SELECT * FROM CDR;";
  query.source_names = {"CDR", "CELLS"};
  query.sink_name = "OUT";
  query.state = "PAUSED";
  query.properties = {{"auto.offset.reset", "earliest"}, {"KAFKA_TOPIC", "out"}};
  return query;
}

void ExpectSameSource(const SourceDescription& actual, const SourceDescription& expected) {
  EXPECT_EQ(actual.name, expected.name);
  EXPECT_EQ(actual.type, expected.type);
  ASSERT_EQ(actual.columns.size(), expected.columns.size());
  for (size_t i = 0; i < expected.columns.size(); ++i) {
    EXPECT_EQ(actual.columns[i].name, expected.columns[i].name);
    EXPECT_EQ(actual.columns[i].type, expected.columns[i].type)
        << actual.columns[i].type.ToString() << " vs " << expected.columns[i].type.ToString();
    EXPECT_EQ(actual.columns[i].role, expected.columns[i].role);
    EXPECT_EQ(actual.columns[i].header_key, expected.columns[i].header_key);
  }
  EXPECT_EQ(actual.topic, expected.topic);
  EXPECT_EQ(actual.key_format, expected.key_format);
  EXPECT_EQ(actual.value_format, expected.value_format);
  EXPECT_EQ(actual.partitions, expected.partitions);
  EXPECT_EQ(actual.timestamp_column, expected.timestamp_column);
  EXPECT_EQ(actual.timestamp_format, expected.timestamp_format);
  EXPECT_EQ(actual.watermark_delay_ms, expected.watermark_delay_ms);
  EXPECT_EQ(actual.window_type, expected.window_type);
  EXPECT_EQ(actual.window_size_ms, expected.window_size_ms);
  EXPECT_EQ(actual.properties, expected.properties);
  EXPECT_EQ(actual.sql, expected.sql);
  EXPECT_EQ(actual.writer_query_id, expected.writer_query_id);
  EXPECT_EQ(actual.read_only, expected.read_only);
}

void ExpectSameQuery(const QueryDescription& actual, const QueryDescription& expected) {
  EXPECT_EQ(actual.id, expected.id);
  EXPECT_EQ(actual.sql, expected.sql);
  EXPECT_EQ(actual.source_names, expected.source_names);
  EXPECT_EQ(actual.sink_name, expected.sink_name);
  EXPECT_EQ(actual.state, expected.state);
  EXPECT_EQ(actual.properties, expected.properties);
}

std::vector<std::string> SourceNames(const Catalog& catalog) {
  std::vector<std::string> names;
  for (const auto& source : catalog.ListSources()) names.push_back(source.name);
  return names;
}

std::unique_ptr<Catalog> OpenInMemory() {
  auto catalog = Catalog::Open(":memory:");
  EXPECT_TRUE(catalog.ok()) << catalog.status().ToString();
  return catalog.ok() ? std::move(catalog).value() : nullptr;
}

// Runs SQL on a catalog file through a second connection, as an operator or a fault would.
void RunSql(const std::string& path, const std::string& sql) {
  sqlite3* database = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &database), SQLITE_OK);
  char* error = nullptr;
  int code = sqlite3_exec(database, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(database);
  ASSERT_EQ(code, SQLITE_OK) << message;
}

// ---------------------------------------------------------------------------- in memory

TEST(CatalogTest, CreateGetDropListSources) {
  auto catalog = OpenInMemory();
  ASSERT_NE(catalog, nullptr);
  EXPECT_TRUE(catalog->ListSources().empty());

  ASSERT_TRUE(catalog->CreateSource(MakeStream("ZED"), false).ok());
  ASSERT_TRUE(catalog->CreateSource(MakeFullTable(), false).ok());
  ASSERT_TRUE(catalog->CreateSource(MakeStream("ALPHA"), false).ok());

  EXPECT_TRUE(catalog->HasSource("ZED"));
  EXPECT_FALSE(catalog->HasSource("NOPE"));
  auto table = catalog->GetSource("CALLS_PER_CELL");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  ExpectSameSource(*table, MakeFullTable());
  ASSERT_NE(table->FindColumn("TOTAL"), nullptr);
  EXPECT_EQ(table->FindColumn("TOTAL")->type, SqlType::Decimal(18, 3));
  EXPECT_EQ(table->FindColumn("total"), nullptr);

  EXPECT_THAT(SourceNames(*catalog), testing::ElementsAre("ALPHA", "CALLS_PER_CELL", "ZED"));

  ASSERT_TRUE(catalog->DropSource("ZED").ok());
  EXPECT_FALSE(catalog->HasSource("ZED"));
  EXPECT_EQ(catalog->GetSource("ZED").status().code(), StatusCode::kNotFound);
  EXPECT_THAT(SourceNames(*catalog), testing::ElementsAre("ALPHA", "CALLS_PER_CELL"));
}

TEST(CatalogTest, CreateSourceTwiceIsAlreadyExistsUnlessOrReplace) {
  auto catalog = OpenInMemory();
  ASSERT_NE(catalog, nullptr);
  ASSERT_TRUE(catalog->CreateSource(MakeStream("CDR"), false).ok());

  SourceDescription replacement = MakeStream("CDR");
  replacement.topic = "cdr_v2";
  Status again = catalog->CreateSource(replacement, false);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(again.message(), HasSubstr("CDR"));
  EXPECT_EQ(catalog->GetSource("CDR")->topic, "CDR_topic");

  ASSERT_TRUE(catalog->CreateSource(replacement, true).ok());
  EXPECT_EQ(catalog->GetSource("CDR")->topic, "cdr_v2");
  EXPECT_EQ(catalog->ListSources().size(), 1u);
  // OR REPLACE also creates when absent.
  EXPECT_TRUE(catalog->CreateSource(MakeStream("NEW"), true).ok());
  EXPECT_TRUE(catalog->HasSource("NEW"));
}

TEST(CatalogTest, MissingSourcesAreNotFound) {
  auto catalog = OpenInMemory();
  ASSERT_NE(catalog, nullptr);
  Status drop = catalog->DropSource("GHOST");
  EXPECT_EQ(drop.code(), StatusCode::kNotFound);
  EXPECT_THAT(drop.message(), HasSubstr("GHOST"));
  EXPECT_EQ(catalog->GetSource("GHOST").status().code(), StatusCode::kNotFound);
}

TEST(CatalogTest, NamesAreComparedExactly) {
  auto catalog = OpenInMemory();
  ASSERT_NE(catalog, nullptr);
  ASSERT_TRUE(catalog->CreateSource(MakeStream("CDR"), false).ok());
  ASSERT_TRUE(catalog->CreateSource(MakeStream("cdr"), false).ok());
  EXPECT_FALSE(catalog->HasSource("Cdr"));
  EXPECT_EQ(catalog->GetSource("cdr")->topic, "cdr_topic");
  EXPECT_EQ(catalog->GetSource("CDR")->topic, "CDR_topic");
  ASSERT_TRUE(catalog->DropSource("cdr").ok());
  EXPECT_TRUE(catalog->HasSource("CDR"));
}

TEST(CatalogTest, BadNamesAreInvalidArgumentAndChangeNothing) {
  auto catalog = OpenInMemory();
  ASSERT_NE(catalog, nullptr);
  EXPECT_EQ(catalog->CreateSource(MakeStream(""), false).code(), StatusCode::kInvalidArgument);
  // JSON cannot hold invalid UTF-8; the error must not escape as an exception.
  Status bad_utf8 = catalog->CreateSource(MakeStream("BAD\xff"), false);
  EXPECT_EQ(bad_utf8.code(), StatusCode::kInvalidArgument) << bad_utf8.ToString();
  EXPECT_TRUE(catalog->ListSources().empty());
  EXPECT_EQ(catalog->CreateType("", SqlType::Int()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog->AddQuery(MakeQuery("")).code(), StatusCode::kInvalidArgument);
}

TEST(CatalogTest, TypesCreateGetDropList) {
  auto catalog = OpenInMemory();
  ASSERT_NE(catalog, nullptr);
  SqlType address = SqlType::Struct(
      {{"STREET", SqlType::String()},
       {"GEO", SqlType::Struct({{"LAT", SqlType::Decimal(9, 6)}, {"LON", SqlType::Decimal(9, 6)}})},
       {"PHONES", SqlType::Array(SqlType::String())}});
  ASSERT_TRUE(catalog->CreateType("ADDRESS", address).ok());
  ASSERT_TRUE(catalog->CreateType("MONEY", SqlType::Decimal(10, 2)).ok());

  auto back = catalog->GetType("ADDRESS");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, address);
  EXPECT_EQ(catalog->CreateType("MONEY", SqlType::Int()).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*catalog->GetType("MONEY"), SqlType::Decimal(10, 2));

  auto all = catalog->ListTypes();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all.begin()->first, "ADDRESS");

  ASSERT_TRUE(catalog->DropType("MONEY").ok());
  EXPECT_EQ(catalog->GetType("MONEY").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog->DropType("MONEY").code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog->ListTypes().size(), 1u);
}

TEST(CatalogTest, QueriesAddGetRemoveList) {
  auto catalog = OpenInMemory();
  ASSERT_NE(catalog, nullptr);
  ASSERT_TRUE(catalog->AddQuery(MakeQuery("INSERTQUERY_2")).ok());
  ASSERT_TRUE(catalog->AddQuery(MakeQuery("CSAS_OUT_1")).ok());
  EXPECT_EQ(catalog->AddQuery(MakeQuery("CSAS_OUT_1")).code(), StatusCode::kAlreadyExists);

  auto query = catalog->GetQuery("CSAS_OUT_1");
  ASSERT_TRUE(query.ok());
  ExpectSameQuery(*query, MakeQuery("CSAS_OUT_1"));

  auto all = catalog->ListQueries();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "CSAS_OUT_1");
  EXPECT_EQ(all[1].id, "INSERTQUERY_2");

  ASSERT_TRUE(catalog->RemoveQuery("CSAS_OUT_1").ok());
  EXPECT_EQ(catalog->GetQuery("CSAS_OUT_1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog->RemoveQuery("CSAS_OUT_1").code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog->ListQueries().size(), 1u);
}

TEST(CatalogTest, QueryIdsCountUpAcrossPrefixes) {
  auto catalog = OpenInMemory();
  ASSERT_NE(catalog, nullptr);
  EXPECT_EQ(*catalog->NextQueryId("CSAS_OUTPUT"), "CSAS_OUTPUT_0");
  EXPECT_EQ(*catalog->NextQueryId("CTAS_TOTALS"), "CTAS_TOTALS_1");
  EXPECT_EQ(*catalog->NextQueryId("INSERTQUERY"), "INSERTQUERY_2");
}

TEST(CatalogTest, ConcurrentQueryIdsAreUnique) {
  auto catalog = OpenInMemory();
  ASSERT_NE(catalog, nullptr);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto id = catalog->NextQueryId("Q");
        if (id.ok()) ids[t].push_back(*id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> unique;
  for (const auto& list : ids) unique.insert(list.begin(), list.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_TRUE(unique.count("Q_0") && unique.count("Q_199"));
}

// ---------------------------------------------------------------------------- on disk

class CatalogFileTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    directory_ = std::filesystem::path(testing::TempDir()) /
                 ("catalog_test_" + std::to_string(getpid()) + "_" + info->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string PathIn(const std::string& relative) const { return (directory_ / relative).string(); }

  void WriteBytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
  }

  std::filesystem::path directory_;
};

TEST_F(CatalogFileTest, EverythingSurvivesReopen) {
  // The data directory does not exist yet; Open creates it.
  std::string path = PathIn("data/dir/catalog.db");
  SqlType money =
      SqlType::Struct({{"AMOUNT", SqlType::Decimal(12, 2)}, {"CURRENCY", SqlType::String()}});
  {
    auto catalog = Catalog::Open(path);
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    ASSERT_TRUE((*catalog)->CreateSource(MakeFullTable(), false).ok());
    ASSERT_TRUE((*catalog)->CreateSource(MakeStream("CDR"), false).ok());
    ASSERT_TRUE((*catalog)->CreateSource(MakeStream("DROPPED"), false).ok());
    ASSERT_TRUE((*catalog)->DropSource("DROPPED").ok());
    ASSERT_TRUE((*catalog)->CreateType("MONEY", money).ok());
    ASSERT_TRUE((*catalog)->AddQuery(MakeQuery("CTAS_CALLS_PER_CELL_3")).ok());
    ASSERT_TRUE((*catalog)->AddQuery(MakeQuery("GONE_4")).ok());
    ASSERT_TRUE((*catalog)->RemoveQuery("GONE_4").ok());
  }
  EXPECT_TRUE(std::filesystem::is_regular_file(path));

  auto catalog = Catalog::Open(path);
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  EXPECT_THAT(SourceNames(**catalog), testing::ElementsAre("CALLS_PER_CELL", "CDR"));
  ExpectSameSource(*(*catalog)->GetSource("CALLS_PER_CELL"), MakeFullTable());
  ExpectSameSource(*(*catalog)->GetSource("CDR"), MakeStream("CDR"));
  EXPECT_EQ(*(*catalog)->GetType("MONEY"), money);
  auto queries = (*catalog)->ListQueries();
  ASSERT_EQ(queries.size(), 1u);
  ExpectSameQuery(queries[0], MakeQuery("CTAS_CALLS_PER_CELL_3"));
}

TEST_F(CatalogFileTest, QueryIdCounterSurvivesReopen) {
  std::string path = PathIn("catalog.db");
  {
    auto catalog = Catalog::Open(path);
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    EXPECT_EQ(*(*catalog)->NextQueryId("CSAS_A"), "CSAS_A_0");
    EXPECT_EQ(*(*catalog)->NextQueryId("CSAS_B"), "CSAS_B_1");
  }
  {
    auto catalog = Catalog::Open(path);
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    EXPECT_EQ(*(*catalog)->NextQueryId("CSAS_A"), "CSAS_A_2");
  }
  auto catalog = Catalog::Open(path);
  ASSERT_TRUE(catalog.ok());
  EXPECT_EQ(*(*catalog)->NextQueryId("CSAS_A"), "CSAS_A_3");
}

// The command topic's bookkeeping: a replayed command numbers its query by its offset, and
// the last applied offset survives a restart (where the replay resumes).
TEST_F(CatalogFileTest, AppliedCommandOffsetAndPinnedQueryNumberSurviveReopen) {
  std::string path = PathIn("catalog.db");
  {
    auto catalog = Catalog::Open(path);
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    EXPECT_EQ((*catalog)->applied_command_offset(), -1);
    ASSERT_TRUE((*catalog)->SetNextQueryNumber(7).ok());
    EXPECT_EQ(*(*catalog)->NextQueryId("CSAS_OUT"), "CSAS_OUT_7");
    ASSERT_TRUE((*catalog)->SetAppliedCommandOffset(7).ok());
    EXPECT_EQ((*catalog)->applied_command_offset(), 7);
    EXPECT_EQ((*catalog)->SetNextQueryNumber(-1).code(), StatusCode::kInvalidArgument);
  }
  auto catalog = Catalog::Open(path);
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  EXPECT_EQ((*catalog)->applied_command_offset(), 7);
  EXPECT_EQ(*(*catalog)->NextQueryId("CSAS_OUT"), "CSAS_OUT_8");
}

// A command's changes and its offset go to the file together: a process that dies between
// them (here: the catalog closed before CommitChanges) leaves neither, so the command runs
// again in full at the restart. Committed, both are there.
TEST_F(CatalogFileTest, ChangesWithTheirOffsetSurviveAllOrNothing) {
  std::string path = PathIn("catalog.db");
  {
    auto catalog = Catalog::Open(path);
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    ASSERT_TRUE((*catalog)->BeginChanges().ok());
    ASSERT_TRUE((*catalog)->CreateSource(MakeStream("LOST"), false).ok());
    ASSERT_TRUE((*catalog)->SetAppliedCommandOffset(3).ok());
  }
  {
    auto catalog = Catalog::Open(path);
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    EXPECT_EQ((*catalog)->applied_command_offset(), -1);
    EXPECT_FALSE((*catalog)->GetSource("LOST").ok());
    ASSERT_TRUE((*catalog)->BeginChanges().ok());
    ASSERT_TRUE((*catalog)->CreateSource(MakeStream("KEPT"), false).ok());
    // A change that fails inside rolls back alone.
    EXPECT_FALSE((*catalog)->CreateSource(MakeStream("KEPT"), false).ok());
    ASSERT_TRUE((*catalog)->SetAppliedCommandOffset(3).ok());
    ASSERT_TRUE((*catalog)->CommitChanges().ok());
  }
  auto catalog = Catalog::Open(path);
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  EXPECT_EQ((*catalog)->applied_command_offset(), 3);
  EXPECT_TRUE((*catalog)->GetSource("KEPT").ok());
}

TEST_F(CatalogFileTest, BadAppliedCommandOffsetIsCorruption) {
  std::string path = PathIn("catalog.db");
  ASSERT_TRUE(Catalog::Open(path).ok());
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(raw, "INSERT INTO meta (key, value) VALUES ('applied_command_offset', 'x7')",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(raw);
  auto catalog = Catalog::Open(path);
  ASSERT_FALSE(catalog.ok());
  EXPECT_THAT(catalog.status().message(), HasSubstr("applied_command_offset"));
}

TEST_F(CatalogFileTest, EmptyFileBecomesANewCatalog) {
  std::string path = PathIn("catalog.db");
  WriteBytes(path, "");
  auto catalog = Catalog::Open(path);
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  EXPECT_EQ(*(*catalog)->NextQueryId("Q"), "Q_0");
}

TEST_F(CatalogFileTest, RandomBytesAreCorruptionNamingThePath) {
  std::string path = PathIn("catalog.db");
  std::mt19937 random(42);
  std::string bytes(8192, '\0');
  for (char& byte : bytes) byte = static_cast<char>(random());
  WriteBytes(path, bytes);

  auto catalog = Catalog::Open(path);
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(catalog.status().code(), StatusCode::kCorruption) << catalog.status().ToString();
  EXPECT_THAT(catalog.status().message(), HasSubstr(path));
  EXPECT_THAT(catalog.status().message(), HasSubstr("move it aside"));
}

TEST_F(CatalogFileTest, ForeignSqliteDatabaseIsCorruption) {
  std::string path = PathIn("other.db");
  RunSql(path,
         "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); "
         "INSERT INTO users VALUES (1, 'a@example.com');");
  auto catalog = Catalog::Open(path);
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(catalog.status().code(), StatusCode::kCorruption) << catalog.status().ToString();
  EXPECT_THAT(catalog.status().message(), HasSubstr(path));
  EXPECT_THAT(catalog.status().message(), HasSubstr("not a Sidestream catalog"));
}

TEST_F(CatalogFileTest, ForeignMetaTableIsCorruption) {
  std::string path = PathIn("other.db");
  RunSql(path, "CREATE TABLE meta (id INTEGER, blob BLOB);");
  auto catalog = Catalog::Open(path);
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(catalog.status().code(), StatusCode::kCorruption) << catalog.status().ToString();
  EXPECT_THAT(catalog.status().message(), HasSubstr(path));
}

TEST_F(CatalogFileTest, FutureSchemaVersionIsCorruption) {
  std::string path = PathIn("catalog.db");
  ASSERT_TRUE(Catalog::Open(path).ok());
  RunSql(path, "UPDATE meta SET value = '999' WHERE key = 'schema_version';");

  auto catalog = Catalog::Open(path);
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(catalog.status().code(), StatusCode::kCorruption) << catalog.status().ToString();
  EXPECT_THAT(catalog.status().message(), HasSubstr(path));
  EXPECT_THAT(catalog.status().message(), HasSubstr("999"));
}

TEST_F(CatalogFileTest, UnparsableRowIsCorruptionNamingTheRow) {
  std::string path = PathIn("catalog.db");
  ASSERT_TRUE(Catalog::Open(path).ok());
  RunSql(path, "INSERT INTO sources VALUES ('BROKEN_ROW', '{not json');");
  auto catalog = Catalog::Open(path);
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(catalog.status().code(), StatusCode::kCorruption) << catalog.status().ToString();
  EXPECT_THAT(catalog.status().message(), HasSubstr("BROKEN_ROW"));
  EXPECT_THAT(catalog.status().message(), HasSubstr(path));
}

TEST_F(CatalogFileTest, MistypedRowIsCorruptionNamingTheMember) {
  std::string path = PathIn("catalog.db");
  ASSERT_TRUE(Catalog::Open(path).ok());
  RunSql(path, "INSERT INTO queries VALUES ('Q_1', '{\"id\":\"Q_1\",\"source_names\":\"CDR\"}');");
  auto catalog = Catalog::Open(path);
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(catalog.status().code(), StatusCode::kCorruption) << catalog.status().ToString();
  EXPECT_THAT(catalog.status().message(), HasSubstr("Q_1"));
  EXPECT_THAT(catalog.status().message(), HasSubstr("source_names"));
}

TEST_F(CatalogFileTest, PathUnderARegularFileIsIOError) {
  std::string file = PathIn("plain_file");
  WriteBytes(file, "not a directory");
  std::string path = file + "/sub/catalog.db";
  auto catalog = Catalog::Open(path);
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(catalog.status().code(), StatusCode::kIOError) << catalog.status().ToString();
  EXPECT_THAT(catalog.status().message(), HasSubstr(path));
}

TEST_F(CatalogFileTest, DirectoryAsPathIsIOError) {
  auto catalog = Catalog::Open(directory_.string());
  ASSERT_FALSE(catalog.ok());
  EXPECT_EQ(catalog.status().code(), StatusCode::kIOError) << catalog.status().ToString();
  EXPECT_THAT(catalog.status().message(), HasSubstr(directory_.string()));
}

TEST_F(CatalogFileTest, FailedWriteLeavesMemoryAndFileUnchanged) {
  std::string path = PathIn("catalog.db");
  auto catalog = Catalog::Open(path);
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  ASSERT_TRUE((*catalog)->CreateSource(MakeStream("CDR"), false).ok());
  ASSERT_TRUE((*catalog)->AddQuery(MakeQuery("Q_0")).ok());

  // Fault injection: triggers make every write to the catalog's tables fail.
  RunSql(path, R"sql(
    CREATE TRIGGER no_insert BEFORE INSERT ON sources BEGIN SELECT RAISE(ABORT, 'injected'); END;
    CREATE TRIGGER no_delete BEFORE DELETE ON sources BEGIN SELECT RAISE(ABORT, 'injected'); END;
    CREATE TRIGGER no_query BEFORE DELETE ON queries BEGIN SELECT RAISE(ABORT, 'injected'); END;
    CREATE TRIGGER no_count BEFORE UPDATE ON query_id_counter
      BEGIN SELECT RAISE(ABORT, 'injected'); END;
  )sql");
  SourceDescription replacement = MakeStream("CDR");
  replacement.topic = "changed";
  Status replace = (*catalog)->CreateSource(replacement, true);
  EXPECT_FALSE(replace.ok());
  EXPECT_THAT(replace.message(), HasSubstr("injected"));
  EXPECT_EQ((*catalog)->GetSource("CDR")->topic, "CDR_topic");
  EXPECT_FALSE((*catalog)->CreateSource(MakeStream("NEW"), false).ok());
  EXPECT_FALSE((*catalog)->HasSource("NEW"));
  EXPECT_FALSE((*catalog)->DropSource("CDR").ok());
  EXPECT_TRUE((*catalog)->HasSource("CDR"));
  EXPECT_FALSE((*catalog)->RemoveQuery("Q_0").ok());
  EXPECT_TRUE((*catalog)->GetQuery("Q_0").ok());
  EXPECT_FALSE((*catalog)->NextQueryId("Q").ok());

  // Once the fault is gone the catalog works, and no transaction was left open.
  RunSql(path,
         "DROP TRIGGER no_insert; DROP TRIGGER no_delete; DROP TRIGGER no_query; "
         "DROP TRIGGER no_count;");
  EXPECT_EQ(*(*catalog)->NextQueryId("Q"), "Q_0");
  ASSERT_TRUE((*catalog)->CreateSource(MakeStream("NEW"), false).ok());
  catalog = Result<std::unique_ptr<Catalog>>(Status::Internal("closed"));
  auto reopened = Catalog::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->GetSource("CDR")->topic, "CDR_topic");
  EXPECT_THAT(SourceNames(**reopened), testing::ElementsAre("CDR", "NEW"));
  EXPECT_EQ(*(*reopened)->NextQueryId("Q"), "Q_1");
}

}  // namespace
}  // namespace sidestream::catalog
