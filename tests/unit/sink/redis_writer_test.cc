#include "connectors/redis/redis_writer.h"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <map>

#include "tests/servers/store_servers.h"

namespace sidestream::redis {
namespace {

using sink::SinkRecord;

SinkRecord Upsert(int64_t offset, std::string_view key, std::string_view value,
                  int32_t partition = 0) {
  return SinkRecord{"T", partition, offset, key, value};
}
SinkRecord Tombstone(int64_t offset, std::string_view key, int32_t partition = 0) {
  return SinkRecord{"T", partition, offset, key, std::nullopt};
}

class RedisWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = testing::StartRedis();
    if (server.status().code() == StatusCode::kNotFound) {
      GTEST_SKIP() << "SKIPPED: " << server.status().message();
    }
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    context_ = redisConnect("127.0.0.1", server_->port());
    ASSERT_TRUE(context_ != nullptr && context_->err == 0);
  }
  void TearDown() override {
    if (context_ != nullptr) redisFree(context_);
  }

  RedisWriterOptions Options(RedisMode mode = RedisMode::kHash) {
    RedisWriterOptions options;
    options.url = "redis://127.0.0.1:" + std::to_string(server_->port());
    options.connector = "C1";
    options.key_template = "cell:{KEY}";
    options.mode = mode;
    return options;
  }

  std::map<std::string, std::string> Hash(const std::string& key) {
    std::map<std::string, std::string> fields;
    auto* reply = static_cast<redisReply*>(redisCommand(context_, "HGETALL %s", key.c_str()));
    for (size_t i = 0; reply != nullptr && i + 1 < reply->elements; i += 2) {
      fields[reply->element[i]->str] = reply->element[i + 1]->str;
    }
    freeReplyObject(reply);
    return fields;
  }
  std::optional<std::string> Get(const std::string& key) {
    auto* reply = static_cast<redisReply*>(redisCommand(context_, "GET %s", key.c_str()));
    std::optional<std::string> value;
    if (reply->type == REDIS_REPLY_STRING) value = std::string(reply->str, reply->len);
    freeReplyObject(reply);
    return value;
  }
  bool Exists(const std::string& key) {
    auto* reply = static_cast<redisReply*>(redisCommand(context_, "EXISTS %s", key.c_str()));
    const bool exists = reply->integer == 1;
    freeReplyObject(reply);
    return exists;
  }

  std::unique_ptr<testing::ServerProcess> server_;
  redisContext* context_ = nullptr;
};

TEST_F(RedisWriterTest, HashUpsertsNullFieldsAndTombstones) {
  auto writer = RedisWriter::Create(Options());
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  std::vector<SinkRecord> records = {
      Upsert(0, "A", R"({"CALLS":1,"NAME":"x \"q\"","TAGS":[1,2],"RATE":null})"),
      Upsert(1, "B", R"({"CALLS":5})"),
      Upsert(2, "A", R"({"CALLS":2,"NAME":"y","RATE":0.5})"),
  };
  auto result = (*writer)->Write(records);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->upserts, 2);
  EXPECT_EQ(result->folded, 1);
  EXPECT_TRUE(result->rejected.empty());
  EXPECT_EQ(Hash("cell:A"),
            (std::map<std::string, std::string>{{"CALLS", "2"}, {"NAME", "y"}, {"RATE", "0.5"}}));
  EXPECT_EQ(Hash("cell:B"), (std::map<std::string, std::string>{{"CALLS", "5"}}));

  // A later null removes the field; nested values are stored as JSON text.
  records = {Upsert(3, "A", R"({"CALLS":3,"NAME":null,"TAGS":[1, 2]})"), Tombstone(4, "B")};
  result = (*writer)->Write(records);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->upserts, 1);
  EXPECT_EQ(result->deletes, 1);
  EXPECT_EQ(Hash("cell:A"), (std::map<std::string, std::string>{
                                {"CALLS", "3"}, {"RATE", "0.5"}, {"TAGS", "[1, 2]"}}));
  EXPECT_FALSE(Exists("cell:B"));
  EXPECT_EQ(Hash((*writer)->offsets_key()), (std::map<std::string, std::string>{{"T/0", "4"}}));
}

TEST_F(RedisWriterTest, ReplayNeverAppliesOlderOffsets) {
  {
    auto writer = RedisWriter::Create(Options());
    ASSERT_TRUE(writer.ok());
    std::vector<SinkRecord> records = {Upsert(10, "A", R"({"V":10})"),
                                       Upsert(5, "B", R"({"V":5})", 1)};
    ASSERT_TRUE((*writer)->Write(records).ok());
  }
  // A new writer (a restart) reads the offsets back: the older records are skipped, on each
  // partition by its own offset.
  auto writer = RedisWriter::Create(Options());
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ(*(*writer)->StoredOffset("T", 0), 10);
  EXPECT_EQ(*(*writer)->StoredOffset("T", 1), 5);
  EXPECT_EQ(*(*writer)->StoredOffset("T", 2), -1);
  std::vector<SinkRecord> replay = {Upsert(9, "A", R"({"V":9})"), Upsert(10, "A", R"({"V":10})"),
                                    Upsert(6, "B", R"({"V":6})", 1),
                                    Upsert(11, "A", R"({"V":11})")};
  auto result = (*writer)->Write(replay);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->skipped, 2);
  EXPECT_EQ(result->upserts, 2);
  EXPECT_EQ(Hash("cell:A").at("V"), "11");
  EXPECT_EQ(Hash("cell:B").at("V"), "6");
}

TEST_F(RedisWriterTest, RefusedRowsAreRejectedAndTheirOffsetsStored) {
  freeReplyObject(redisCommand(context_, "SET cell:S plain"));
  auto writer = RedisWriter::Create(Options());
  ASSERT_TRUE(writer.ok());
  std::vector<SinkRecord> records = {Upsert(0, "S", R"({"V":1})"),  // WRONGTYPE
                                     Upsert(1, "N", "not json"), SinkRecord{"T", 0, 2, {}, "{}"},
                                     Upsert(3, "OK", R"({"V":3})")};
  auto result = (*writer)->Write(records);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->rejected.size(), 3u);
  std::map<size_t, std::string> reasons;
  for (const auto& rejected : result->rejected) reasons[rejected.index] = rejected.reason;
  EXPECT_NE(reasons[0].find("WRONGTYPE"), std::string::npos) << reasons[0];
  EXPECT_NE(reasons[1].find("not a JSON object"), std::string::npos) << reasons[1];
  EXPECT_NE(reasons[2].find("no key"), std::string::npos) << reasons[2];
  EXPECT_EQ(result->upserts, 1);
  EXPECT_EQ(Get("cell:S"), "plain");
  EXPECT_EQ(Hash("cell:OK").at("V"), "3");
  EXPECT_EQ(*(*writer)->StoredOffset("T", 0), 3);
}

TEST_F(RedisWriterTest, StringMode) {
  auto writer = RedisWriter::Create(Options(RedisMode::kString));
  ASSERT_TRUE(writer.ok());
  std::vector<SinkRecord> records = {Upsert(0, "A", R"({"V":1})"), Upsert(1, "B", "raw text"),
                                     Tombstone(2, "A")};
  auto result = (*writer)->Write(records);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(Exists("cell:A"));
  EXPECT_EQ(Get("cell:B"), "raw text");
}

TEST_F(RedisWriterTest, DownIsRetriableAndTheWriterReconnects) {
  auto writer = RedisWriter::Create(Options());
  ASSERT_TRUE(writer.ok());
  std::vector<SinkRecord> first = {Upsert(0, "A", R"({"V":0})")};
  ASSERT_TRUE((*writer)->Write(first).ok());
  const int port = server_->port();
  redisFree(context_);
  context_ = nullptr;
  server_->Kill();
  std::vector<SinkRecord> second = {Upsert(1, "A", R"({"V":1})")};
  auto failed = (*writer)->Write(second);
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(failed.status().retriable()) << failed.status().ToString();

  auto restarted =
      testing::ServerProcess::Start({"redis-server", "--port", std::to_string(port), "--bind",
                                     "127.0.0.1", "--save", "", "--appendonly", "no"},
                                    port, std::chrono::seconds(10));
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  server_ = std::move(*restarted);
  context_ = redisConnect("127.0.0.1", port);
  // The restarted Redis is empty; the writer's cached offset (0) still holds for it.
  auto written = (*writer)->Write(second);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(Hash("cell:A").at("V"), "1");
}

TEST(RedisUrlTest, ParsesAndRefuses) {
  auto address = ParseRedisUrl("redis://:secret@localhost:6380/2");
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(address->host, "localhost");
  EXPECT_EQ(address->port, 6380);
  EXPECT_EQ(address->password, "secret");
  EXPECT_EQ(address->database, 2);
  EXPECT_EQ(ParseRedisUrl("redis://h")->port, 6379);
  EXPECT_FALSE(ParseRedisUrl("http://h:1").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://h:x").ok());
  EXPECT_FALSE(ParseRedisUrl("redis://:1").ok());
}

}  // namespace
}  // namespace sidestream::redis
