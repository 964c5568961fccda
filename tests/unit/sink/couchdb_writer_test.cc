#include "connectors/couchdb/couchdb_writer.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "tests/servers/store_servers.h"

namespace sidestream::couchdb {
namespace {

using sink::SinkRecord;

SinkRecord Upsert(int64_t offset, std::string_view key, std::string_view value,
                  int32_t partition = 0) {
  return SinkRecord{"T", partition, offset, key, value};
}
SinkRecord Tombstone(int64_t offset, std::string_view key) {
  return SinkRecord{"T", 0, offset, key, std::nullopt};
}

class CouchDbWriterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto server = testing::StartPouchDb(
        SIDESTREAM_POUCHDB_DIR, SIDESTREAM_SOURCE_DIR "/tests/servers/install_npm_package.sh");
    if (server.ok()) {
      server_ = std::move(*server).release();
    } else {
      skip_reason_ = new std::string(server.status().ToString());
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (skip_reason_ != nullptr) GTEST_SKIP() << "SKIPPED: " << *skip_reason_;
    database_ = "sink_test_" + std::to_string(++databases_);
  }

  CouchDbWriterOptions Options() {
    CouchDbWriterOptions options;
    options.url = "http://127.0.0.1:" + std::to_string(server_->port());
    options.database = database_;
    options.connector = "C1";
    return options;
  }
  std::unique_ptr<CouchDbWriter> Writer() {
    auto writer = CouchDbWriter::Create(Options());
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    return std::move(*writer);
  }
  /// Every document of the database, without _rev.
  std::map<std::string, nlohmann::json> Documents(CouchDbWriter& writer) {
    auto response = writer.Request("GET", "/" + database_ + "/_all_docs?include_docs=true", "");
    EXPECT_TRUE(response.ok());
    std::map<std::string, nlohmann::json> documents;
    auto body = nlohmann::json::parse(response->body);
    for (auto& row : body["rows"]) {
      nlohmann::json document = row["doc"];
      document.erase("_rev");
      documents[row["id"].get<std::string>()] = document;
    }
    return documents;
  }

  static inline testing::ServerProcess* server_ = nullptr;
  static inline std::string* skip_reason_ = nullptr;
  static inline int databases_ = 0;
  std::string database_;
};

TEST_F(CouchDbWriterTest, UpsertsUpdatesAndDeletes) {
  auto writer = Writer();
  std::vector<SinkRecord> records = {Upsert(0, "A", R"({"CALLS":1})"),
                                     Upsert(1, "B", R"({"CALLS":5,"NAME":"b"})"),
                                     Upsert(2, "A", R"({"CALLS":2})"), Upsert(3, "E", "{}")};
  auto result = writer->Write(records);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->upserts, 3);
  EXPECT_EQ(result->folded, 1);
  auto documents = Documents(*writer);
  ASSERT_EQ(documents.size(), 3u);
  EXPECT_EQ(documents["A"], nlohmann::json::parse(R"({"_id":"A","CALLS":2})"));
  EXPECT_EQ(documents["B"], nlohmann::json::parse(R"({"_id":"B","CALLS":5,"NAME":"b"})"));
  EXPECT_EQ(documents["E"], nlohmann::json::parse(R"({"_id":"E"})"));

  // An update needs the current _rev; a tombstone deletes; a deleted key comes back.
  records = {Upsert(4, "A", R"({"CALLS":3})"), Tombstone(5, "B"), Tombstone(6, "NEVER")};
  result = writer->Write(records);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->upserts, 1);
  EXPECT_EQ(result->deletes, 2);
  documents = Documents(*writer);
  EXPECT_EQ(documents.count("B"), 0u);
  EXPECT_EQ(documents["A"]["CALLS"], 3);
  records = {Upsert(7, "B", R"({"CALLS":6})")};
  ASSERT_TRUE(writer->Write(records).ok());
  EXPECT_EQ(Documents(*writer)["B"]["CALLS"], 6);
  EXPECT_EQ(*writer->StoredOffset("T", 0), 7);
}

TEST_F(CouchDbWriterTest, ReplayAfterRestartSkipsAppliedOffsets) {
  {
    auto writer = Writer();
    std::vector<SinkRecord> records = {Upsert(10, "A", R"({"V":10})"),
                                       Upsert(3, "B", R"({"V":3})", 1)};
    ASSERT_TRUE(writer->Write(records).ok());
  }
  auto writer = Writer();
  std::vector<SinkRecord> replay = {Upsert(9, "A", R"({"V":9})"), Upsert(10, "A", R"({"V":10})"),
                                    Upsert(4, "B", R"({"V":4})", 1),
                                    Upsert(11, "A", R"({"V":11})")};
  auto result = writer->Write(replay);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->skipped, 2);
  EXPECT_EQ(result->upserts, 2);
  auto documents = Documents(*writer);
  EXPECT_EQ(documents["A"]["V"], 11);
  EXPECT_EQ(documents["B"]["V"], 4);
  EXPECT_EQ(*writer->StoredOffset("T", 0), 11);
  EXPECT_EQ(*writer->StoredOffset("T", 1), 4);
}

TEST_F(CouchDbWriterTest, RefusedDocumentsAreRejectedWithTheReason) {
  auto writer = Writer();
  std::vector<SinkRecord> records = {
      Upsert(0, "A", R"({"_secret":1})"),  // the server refuses special members
      Upsert(1, "B", "[1,2]"), Upsert(2, "C", R"({"_rev":"1-x"})"), Upsert(3, "_design", "{}"),
      Upsert(4, "OK", R"({"V":4})")};
  auto result = writer->Write(records);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::map<size_t, std::string> reasons;
  for (const auto& rejected : result->rejected) reasons[rejected.index] = rejected.reason;
  ASSERT_EQ(reasons.size(), 4u);
  EXPECT_NE(reasons[0].find("CouchDB refused"), std::string::npos) << reasons[0];
  EXPECT_NE(reasons[1].find("not a JSON object"), std::string::npos) << reasons[1];
  EXPECT_NE(reasons[2].find("_rev"), std::string::npos) << reasons[2];
  EXPECT_NE(reasons[3].find("reserved"), std::string::npos) << reasons[3];
  EXPECT_EQ(result->upserts, 1);
  EXPECT_EQ(Documents(*writer)["OK"]["V"], 4);
  EXPECT_EQ(*writer->StoredOffset("T", 0), 4);
}

TEST_F(CouchDbWriterTest, ARevisionChangedElsewhereIsReadAndWrittenOver) {
  auto writer = Writer();
  std::vector<SinkRecord> records = {Upsert(0, "A", R"({"V":0})"), Upsert(1, "B", R"({"V":1})")};
  ASSERT_TRUE(writer->Write(records).ok());
  // Someone else updates A and deletes B: the writer's remembered revisions are stale.
  auto other = Writer();
  auto current = other->Request("GET", "/" + database_ + "/A", "");
  ASSERT_TRUE(current.ok());
  auto document = nlohmann::json::parse(current->body);
  document["V"] = 100;
  ASSERT_EQ(other->Request("PUT", "/" + database_ + "/A", document.dump())->status, 201);
  auto b = nlohmann::json::parse(other->Request("GET", "/" + database_ + "/B", "")->body);
  ASSERT_EQ(other->Request("DELETE", "/" + database_ + "/B?rev=" + b["_rev"].get<std::string>(), "")
                ->status,
            200);

  records = {Upsert(2, "A", R"({"V":2})"), Tombstone(3, "B")};
  auto result = writer->Write(records);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->rejected.empty());
  EXPECT_EQ(result->upserts, 1);
  EXPECT_EQ(result->deletes, 1);
  auto documents = Documents(*writer);
  EXPECT_EQ(documents["A"]["V"], 2);
  EXPECT_EQ(documents.count("B"), 0u);
}

TEST_F(CouchDbWriterTest, ServerDownIsRetriable) {
  CouchDbWriterOptions options = Options();
  options.url = "http://127.0.0.1:" + std::to_string(testing::FreePort());
  options.timeout = std::chrono::milliseconds(2000);
  auto writer = CouchDbWriter::Create(options);
  ASSERT_TRUE(writer.ok());
  std::vector<SinkRecord> records = {Upsert(0, "A", "{}")};
  auto result = (*writer)->Write(records);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().retriable()) << result.status().ToString();
}

TEST(CouchDbOptionsTest, RefusesBadOptions) {
  CouchDbWriterOptions options;
  options.database = "Upper";
  EXPECT_FALSE(CouchDbWriter::Create(options).ok());
  options.database = "ok";
  options.url = "ftp://x";
  EXPECT_FALSE(CouchDbWriter::Create(options).ok());
}

}  // namespace
}  // namespace sidestream::couchdb
