#include "server/config/settings.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace sidestream::config {
namespace {

TEST(SettingsTest, DefaultsComeFromTheTable) {
  Settings settings;
  EXPECT_EQ(settings.GetInt("port"), 8088);
  EXPECT_EQ(settings.GetString("host"), "127.0.0.1");
  EXPECT_EQ(settings.GetString("bootstrap.servers"), "");
}

TEST(SettingsTest, FileThenEnvironmentThenFlags) {
  std::string path = ::testing::TempDir() + "settings_test.yaml";
  std::ofstream(path) << "port: 9000\nservice.id: from_file\nkafka:\n  acks: all\n"
                      << "ksql:\n  streams:\n    commit.interval.ms: 500\n";
  Settings settings;
  ASSERT_TRUE(settings.LoadFile(path).ok());
  EXPECT_EQ(settings.GetInt("port"), 9000);
  EXPECT_EQ(settings.GetInt("commit.interval.ms"), 500);  // ksqlDB's name, nested
  ASSERT_TRUE(settings
                  .LoadEnvironment({"SIDESTREAM_PORT=9001", "SIDESTREAM_KAFKA_SOCKET_TIMEOUT_MS=5",
                                    "SIDESTREAM_MODELS_DIR=x", "HOME=/root"})
                  .ok());
  EXPECT_EQ(settings.GetInt("port"), 9001);
  EXPECT_EQ(settings.GetString("service.id"), "from_file");
  ASSERT_TRUE(settings.Set("port", "9002", "--port").ok());
  EXPECT_EQ(settings.GetInt("port"), 9002);
  auto kafka = settings.kafka_properties();
  ASSERT_EQ(kafka.size(), 2u);
  EXPECT_EQ(kafka[0], (std::pair<std::string, std::string>("acks", "all")));
  EXPECT_EQ(kafka[1], (std::pair<std::string, std::string>("socket.timeout.ms", "5")));
  std::remove(path.c_str());
}

TEST(SettingsTest, KsqlNamesMeanTheSame) {
  Settings settings;
  ASSERT_TRUE(settings.Set("ksql.service.id", "svc", "test").ok());
  ASSERT_TRUE(settings.Set("ksql.streams.bootstrap.servers", "k:9092", "test").ok());
  EXPECT_EQ(settings.GetString("service.id"), "svc");
  EXPECT_EQ(settings.GetString("bootstrap.servers"), "k:9092");
}

TEST(SettingsTest, StateSettingsTakeTheirChoicesAndKsqlNames) {
  Settings settings;
  EXPECT_EQ(settings.GetString("state.store"), "memory");
  ASSERT_TRUE(settings.Set("state.store", "RocksDB", "--set").ok());
  EXPECT_EQ(settings.GetString("state.store"), "rocksdb");
  Status bad = settings.Set("state.store", "leveldb", "sidestream.yaml");
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("memory, rocksdb"), std::string::npos) << bad.message();
  EXPECT_NE(bad.message().find("sidestream.yaml"), std::string::npos) << bad.message();
  ASSERT_TRUE(settings.Set("ksql.streams.state.dir", "/data/state", "test").ok());
  EXPECT_EQ(settings.GetString("state.dir"), "/data/state");
  ASSERT_TRUE(settings.LoadEnvironment({"SIDESTREAM_STATE_CACHE_MAX_BYTES=1048576"}).ok());
  EXPECT_EQ(settings.GetInt("state.cache.max.bytes"), 1048576);
  EXPECT_FALSE(settings.Set("state.rocksdb.memory.bytes", "1024", "f").ok());  // under 8 MiB
}

TEST(SettingsTest, RejectionsNameTheSettingAndTheOrigin) {
  Settings settings;
  Status range = settings.Set("port", "70000", "--port");
  EXPECT_EQ(range.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(range.message().find("'port'"), std::string::npos) << range.message();
  EXPECT_NE(range.message().find("--port"), std::string::npos) << range.message();
  EXPECT_NE(range.message().find("out of range"), std::string::npos) << range.message();
  EXPECT_FALSE(settings.Set("port", "12x", "f").ok());
  EXPECT_FALSE(settings.Set("max.body.bytes", "1", "f").ok());
  Status unknown = settings.LoadEnvironment({"SIDESTREAM_NO_SUCH_THING=1"});
  EXPECT_NE(unknown.message().find("SIDESTREAM_NO_SUCH_THING"), std::string::npos);
  Status yaml = settings.Set("nope", "1", "a.yaml");
  EXPECT_NE(yaml.message().find("a.yaml"), std::string::npos);
  EXPECT_EQ(settings.GetInt("port"), 8088);  // nothing rejected took effect
}

TEST(SettingsTest, ProcessingGuarantee) {
  Settings settings;
  EXPECT_EQ(settings.GetString("processing.guarantee"), "at_least_once");
  EXPECT_FALSE(ExactlyOnce(settings));
  EXPECT_EQ(CommitIntervalMs(settings), 2000);
  // ksqlDB's name; the commit interval follows the guarantee unless it was given.
  ASSERT_TRUE(settings.Set("ksql.streams.processing.guarantee", "EXACTLY_ONCE_V2", "--set").ok());
  EXPECT_TRUE(ExactlyOnce(settings));
  EXPECT_EQ(CommitIntervalMs(settings), 100);
  EXPECT_TRUE(settings.TakeWarnings().empty());
  ASSERT_TRUE(settings.Set("commit.interval.ms", "2000", "sidestream.yaml").ok());
  EXPECT_EQ(CommitIntervalMs(settings), 2000);

  // The older names run as v2, with a warning naming the setting and its origin.
  Settings older;
  ASSERT_TRUE(older.Set("processing.guarantee", "exactly_once", "environment variable X").ok());
  EXPECT_TRUE(ExactlyOnce(older));
  auto warnings = older.TakeWarnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("deprecated"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("environment variable X"), std::string::npos) << warnings[0];
  EXPECT_TRUE(older.TakeWarnings().empty());

  Status bad = older.Set("processing.guarantee", "at_most_once", "--set");
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("not one of at_least_once, exactly_once_v2"), std::string::npos)
      << bad.message();
}

TEST(SettingsTest, BadFiles) {
  Settings settings;
  EXPECT_EQ(settings.LoadFile("/nonexistent/sidestream.yaml").code(), StatusCode::kIOError);
  std::string path = ::testing::TempDir() + "settings_bad.yaml";
  std::ofstream(path) << "port: [1, 2]\n";
  EXPECT_EQ(settings.LoadFile(path).code(), StatusCode::kInvalidArgument);
  std::ofstream(path) << "port: {{{\n";
  EXPECT_EQ(settings.LoadFile(path).code(), StatusCode::kInvalidArgument);
  std::remove(path.c_str());
}

TEST(SettingsTest, MarkdownListsEverySetting) {
  std::string markdown = SettingsMarkdown();
  for (const SettingSpec& spec : SettingTable()) {
    EXPECT_NE(markdown.find(std::string("`") + spec.name + "`"), std::string::npos) << spec.name;
  }
}

}  // namespace
}  // namespace sidestream::config
