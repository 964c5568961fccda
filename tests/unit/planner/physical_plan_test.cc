#include "planner/physical_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analyzer/analyzer.h"
#include "session/script_runner.h"
#include "sql/parser.h"

namespace sidestream::planner {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;

class PhysicalPlanTest : public testing::Test {
 protected:
  void SetUp() override {
    catalog_ = std::move(catalog::Catalog::Open(":memory:").value());
    session::ScriptRunner runner(*catalog_);
    auto created = runner.Run(
        "CREATE STREAM cdr (caller STRING KEY, cell_id STRING, duration_s INT, note STRING, "
        "start_ts BIGINT) WITH (KAFKA_TOPIC='cdr', VALUE_FORMAT='JSON', TIMESTAMP='start_ts');"
        "CREATE TABLE plans (msisdn STRING PRIMARY KEY, plan STRING) "
        "WITH (KAFKA_TOPIC='plans', VALUE_FORMAT='JSON');"
        "CREATE TABLE subscribers (id STRING PRIMARY KEY, plan STRING) "
        "WITH (KAFKA_TOPIC='subscribers', VALUE_FORMAT='JSON');");
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  // The plan of a CREATE ... AS SELECT, with every topic having `partitions`.
  Result<PhysicalPlan> Plan(const std::string& sql, int partitions = 1) {
    ASSIGN_OR_RAISE(auto statement, sql::ParseStatement(sql));
    analyzer::Analyzer analyzer(*catalog_);
    ASSIGN_OR_RAISE(auto analyzed, analyzer.Analyze(*statement));
    PlannerOptions options;
    options.application_id = "app";
    options.partition_count = [partitions](const std::string&) { return partitions; };
    return PlanQuery("Q1", std::move(analyzed.plan), options);
  }

  std::unique_ptr<catalog::Catalog> catalog_;
};

TEST_F(PhysicalPlanTest, AFilterIsOneStageDecodingOnlyWhatItReads) {
  auto plan =
      Plan("CREATE STREAM long_calls AS SELECT caller, cell_id FROM cdr WHERE duration_s > 60;");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->stages.size(), 1u);
  const Stage& stage = plan->stages[0];
  EXPECT_EQ(stage.id, "Q1");
  ASSERT_EQ(stage.sources.size(), 1u);
  EXPECT_EQ(stage.sources[0].topic, "cdr");
  // caller (key), cell_id, duration_s, note, start_ts (the event time): note is skipped.
  EXPECT_THAT(stage.sources[0].decoded, ElementsAre(true, true, true, false, true));
  EXPECT_THAT(stage.stores, ElementsAre("stream-time"));
  EXPECT_THAT(plan->ToString(), HasSubstr("decodes CALLER, CELL_ID, DURATION_S, START_TS\n"));
}

TEST_F(PhysicalPlanTest, AGroupByOnAValueColumnSplitsAtTheRepartitionTopic) {
  auto plan = Plan(
      "CREATE TABLE per_cell AS SELECT cell_id, COUNT(*) AS calls FROM cdr "
      "WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY cell_id;");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->stages.size(), 2u);
  EXPECT_EQ(plan->stages[0].id, "Q1-repartition");
  EXPECT_TRUE(plan->stages[0].writes_repartition);
  EXPECT_EQ(plan->stages[0].plan->source.topic, "app_Q1-repartition");
  EXPECT_EQ(plan->stages[1].sources[0].topic, "app_Q1-repartition");
  EXPECT_TRUE(plan->stages[1].reads_changes);
  EXPECT_THAT(plan->stages[1].stores, ElementsAre("aggregate-0", "stream-time"));
  std::vector<std::string> topics;
  for (const InternalTopic& topic : plan->internal_topics) topics.push_back(topic.name);
  EXPECT_THAT(topics, ElementsAre("app_Q1-repartition", "app_Q1-repartition-stream-time-changelog",
                                  "app_Q1-aggregate-0-changelog", "app_Q1-stream-time-changelog"));
}

TEST_F(PhysicalPlanTest, ATableReGroupedKeepsItsRowsToRetract) {
  auto plan = Plan(
      "CREATE TABLE plan_counts AS SELECT plan, COUNT(*) AS n FROM subscribers "
      "GROUP BY plan;");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->stages.size(), 2u);
  EXPECT_THAT(plan->stages[0].stores, ElementsAre("table-changes-0", "stream-time"));
  EXPECT_THAT(plan->stages[1].stores, ElementsAre("aggregate-0", "stream-time"));
}

TEST_F(PhysicalPlanTest, JoinStoresAndTheCoPartitioningCheck) {
  const std::string on_key =
      "CREATE STREAM with_plan AS SELECT c.caller, p.plan FROM cdr c "
      "LEFT JOIN plans p ON c.caller = p.msisdn;";
  auto plan = Plan(on_key, 4);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_THAT(plan->stages[0].stores, ElementsAre("join-0-left", "join-0-right", "stream-time"));

  auto on_value = Plan(
      "CREATE STREAM by_cell AS SELECT c.cell_id, c.caller, p.plan FROM cdr c "
      "LEFT JOIN plans p ON c.cell_id = p.msisdn;",
      4);
  ASSERT_FALSE(on_value.ok());
  EXPECT_EQ(on_value.status().code(), StatusCode::kNotSupported);
  EXPECT_THAT(on_value.status().message(), HasSubstr("co-partitioned"));
  // On one partition every task sees every record: nothing to pair up.
  EXPECT_TRUE(Plan("CREATE STREAM by_cell AS SELECT c.cell_id, c.caller, p.plan FROM cdr c "
                   "LEFT JOIN plans p ON c.cell_id = p.msisdn;")
                  .ok());
}

}  // namespace
}  // namespace sidestream::planner
