#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "analyzer/analyzer.h"
#include "analyzer/connector_properties.h"
#include "session/script_runner.h"
#include "sql/parser.h"

namespace sidestream::analyzer {
namespace {

using testing::HasSubstr;

class ConnectorTest : public testing::Test {
 protected:
  void SetUp() override { catalog_ = std::move(catalog::Catalog::Open(":memory:").value()); }

  Result<std::vector<session::StatementOutcome>> Run(const std::string& sql) {
    session::ScriptRunner runner(*catalog_);
    return runner.Run(sql);
  }

  std::unique_ptr<catalog::Catalog> catalog_;
};

TEST_F(ConnectorTest, CreateShowDescribeDrop) {
  auto created =
      Run("CREATE SINK CONNECTOR cells WITH ('connector.class'='redis', 'topics'='CELL_HEALTH', "
          "'redis.url'='redis://h:7000', 'redis.key.template'='cell:{KEY}');");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->back().message, "Created connector CELLS");
  auto connector = catalog_->GetConnector("CELLS");
  ASSERT_TRUE(connector.ok());
  EXPECT_EQ(connector->connector_class, "redis");
  EXPECT_EQ(connector->properties.at("topics"), "CELL_HEALTH");
  EXPECT_EQ(connector->properties.at("redis.url"), "redis://h:7000");
  EXPECT_EQ(connector->properties.at("redis.mode"), "hash");  // default filled in
  EXPECT_EQ(connector->properties.count("couchdb.url"), 0u);  // not for redis

  EXPECT_TRUE(Run("SHOW CONNECTORS; LIST CONNECTORS; DESCRIBE CONNECTOR cells;").ok());
  auto again = Run("CREATE SINK CONNECTOR cells WITH ('connector.class'='redis', 'topics'='T');");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(Run("CREATE SINK CONNECTOR IF NOT EXISTS cells WITH ('connector.class'='redis', "
                  "'topics'='T');")
                  .ok());
  EXPECT_EQ(catalog_->GetConnector("CELLS")->properties.at("topics"), "CELL_HEALTH");

  auto dropped = Run("DROP CONNECTOR cells;");
  ASSERT_TRUE(dropped.ok()) << dropped.status().ToString();
  EXPECT_EQ(dropped->back().message, "Dropped connector CELLS");
  EXPECT_TRUE(catalog_->ListConnectors().empty());
  EXPECT_EQ(Run("DROP CONNECTOR cells;").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Run("DROP CONNECTOR IF EXISTS cells;").ok());
  EXPECT_EQ(Run("DESCRIBE CONNECTOR cells;").status().code(), StatusCode::kNotFound);
}

TEST_F(ConnectorTest, ClearErrorsNameTheProperty) {
  auto unknown =
      Run("CREATE SINK CONNECTOR c WITH ('connector.class'='couchdb', 'topics'='T', "
          "'couchdb.databse'='x');");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("'couchdb.databse'"));
  EXPECT_THAT(unknown.status().hint(), HasSubstr("couchdb.database"));
  EXPECT_EQ(unknown.status().location().line, 1);

  auto missing = Run("CREATE SINK CONNECTOR c WITH ('connector.class'='couchdb');");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("'topics', 'couchdb.database'"));

  auto no_class = Run("CREATE SINK CONNECTOR c WITH ('topics'='T');");
  EXPECT_THAT(no_class.status().message(), HasSubstr("'connector.class'"));
  auto bad_class =
      Run("CREATE SINK CONNECTOR c WITH ('connector.class'='io.confluent.Jdbc', 'topics'='T');");
  EXPECT_THAT(bad_class.status().message(), HasSubstr("io.confluent.Jdbc"));
  auto wrong_store =
      Run("CREATE SINK CONNECTOR c WITH ('connector.class'='redis', 'topics'='T', "
          "'couchdb.database'='x');");
  EXPECT_THAT(wrong_store.status().message(), HasSubstr("does not apply"));
  auto bad_mode =
      Run("CREATE SINK CONNECTOR c WITH ('connector.class'='redis', 'topics'='T', "
          "'redis.mode'='list');");
  EXPECT_THAT(bad_mode.status().message(), HasSubstr("redis.mode"));
  auto source = Run("CREATE SOURCE CONNECTOR c WITH ('connector.class'='redis', 'topics'='T');");
  EXPECT_EQ(source.status().code(), StatusCode::kNotSupported);
  EXPECT_TRUE(catalog_->ListConnectors().empty());
}

TEST_F(ConnectorTest, ClassAliasesAndKeywordsStayUsableAsNames) {
  ASSERT_TRUE(Run("CREATE SINK CONNECTOR docs WITH ('connector.class'='io.sidestream.CouchDbSink', "
                  "'topics'='T', 'couchdb.database'='cells');")
                  .ok());
  EXPECT_EQ(catalog_->GetConnector("DOCS")->connector_class, "couchdb");
  // CONNECTOR, CONNECTORS and SINK are not reserved.
  EXPECT_TRUE(Run("CREATE STREAM sink (connector STRING, connectors INT) "
                  "WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);")
                  .ok());
}

TEST_F(ConnectorTest, ConnectorsSurviveReopeningTheCatalog) {
  const std::string path = testing::TempDir() + "/connectors_catalog.db";
  std::filesystem::remove(path);
  {
    auto catalog = catalog::Catalog::Open(path);
    ASSERT_TRUE(catalog.ok());
    session::ScriptRunner runner(**catalog);
    ASSERT_TRUE(runner
                    .Run("CREATE SINK CONNECTOR c WITH ('connector.class'='redis', "
                         "'topics'='T');")
                    .ok());
  }
  auto reopened = catalog::Catalog::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto connector = (*reopened)->GetConnector("C");
  ASSERT_TRUE(connector.ok());
  EXPECT_EQ(connector->properties.at("redis.url"), "redis://127.0.0.1:6379");
  std::filesystem::remove(path);
}

TEST_F(ConnectorTest, CellHealthExampleSendsToBothStores) {
  std::string sql;
  for (const char* file : {"queries/sources/cdr.sql", "queries/cell_health.sql",
                           "queries/sinks/cell_health_sinks.sql"}) {
    std::ifstream input(std::string(SIDESTREAM_SOURCE_DIR) + "/" + file);
    ASSERT_TRUE(input) << file;
    std::stringstream text;
    text << input.rdbuf();
    sql += text.str() + "\n";
  }
  auto ran = Run(sql);
  ASSERT_TRUE(ran.ok()) << ran.status().ToString();
  auto connectors = catalog_->ListConnectors();
  ASSERT_EQ(connectors.size(), 2u);
  std::set<std::string> classes;
  for (const auto& connector : connectors) {
    EXPECT_EQ(connector.properties.at("topics"), catalog_->GetSource("CELL_HEALTH")->topic);
    classes.insert(connector.connector_class);
  }
  EXPECT_EQ(classes, (std::set<std::string>{"couchdb", "redis"}));
}

TEST(ConnectorPropertiesTest, MarkdownListsEveryProperty) {
  const std::string markdown = ConnectorPropertiesMarkdown();
  for (const auto& property : ConnectorProperties()) {
    EXPECT_THAT(markdown, HasSubstr(property.name));
  }
}

}  // namespace
}  // namespace sidestream::analyzer
