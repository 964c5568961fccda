#include "planner/physical_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>

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
    return Plan(sql, std::map<std::string, int>{}, partitions);
  }

  // The same, with the topics of `counts` having as many partitions as it says.
  Result<PhysicalPlan> Plan(const std::string& sql, std::map<std::string, int> counts,
                            int partitions = 1) {
    ASSIGN_OR_RAISE(auto statement, sql::ParseStatement(sql));
    analyzer::Analyzer analyzer(*catalog_);
    ASSIGN_OR_RAISE(auto analyzed, analyzer.Analyze(*statement));
    PlannerOptions options;
    options.application_id = "app";
    options.partition_count = [counts, partitions](const std::string& topic) -> Result<int> {
      auto found = counts.find(topic);
      return found == counts.end() ? partitions : found->second;
    };
    return PlanQuery("Q1", std::move(analyzed.plan), options);
  }

  // Each internal topic's name and partition count.
  static std::map<std::string, int> TopicPartitions(const PhysicalPlan& plan) {
    std::map<std::string, int> topics;
    for (const InternalTopic& topic : plan.internal_topics) topics[topic.name] = topic.partitions;
    return topics;
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

// How many calls of the scalar function `name` the operators of `node`'s subtree make.
int CountCalls(const analyzer::LogicalOperator& node, const std::string& name) {
  std::function<int(const analyzer::BoundExpression&)> count =
      [&](const analyzer::BoundExpression& expression) {
        int calls = expression.kind == analyzer::BoundKind::kFunction &&
                            expression.function != nullptr && expression.function->name == name
                        ? 1
                        : 0;
        for (const auto& child : expression.children) calls += count(*child);
        return calls;
      };
  int calls = node.predicate ? count(*node.predicate) : 0;
  for (const auto& expression : node.expressions) calls += count(*expression);
  for (const auto& aggregate : node.aggregates) calls += count(*aggregate.call);
  // A Repartition's expressions say how rows are keyed; the Project above it evaluates them.
  if (node.kind == analyzer::LogicalOperatorKind::kRepartition) calls = 0;
  for (const auto& child : node.children) calls += CountCalls(*child, name);
  return calls;
}

TEST_F(PhysicalPlanTest, AGroupingExpressionIsEvaluatedOnceBeforeTheRepartitionTopic) {
  // As in ksqlDB, the aggregation reads the grouping values the re-keying stage computed:
  // a function that fails, or returns something else on each call, is called once per row.
  for (const std::string source : {"cdr", "subscribers"}) {
    SCOPED_TRACE(source);
    const std::string column = source == "cdr" ? "cell_id" : "plan";
    auto plan = Plan("CREATE TABLE per_key AS SELECT UCASE(" + column +
                     ") AS k, COUNT(*) AS n FROM " + source + " GROUP BY UCASE(" + column + ");");
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    ASSERT_EQ(plan->stages.size(), 2u);
    EXPECT_EQ(CountCalls(*plan->stages[0].plan, "UCASE"), 1);
    EXPECT_EQ(CountCalls(*plan->stages[1].plan, "UCASE"), 0);
    const analyzer::LogicalOperator* aggregate = plan->stages[1].plan.get();
    while (aggregate->kind != analyzer::LogicalOperatorKind::kAggregate) {
      ASSERT_FALSE(aggregate->children.empty());
      aggregate = aggregate->children[0].get();
    }
    ASSERT_EQ(aggregate->expressions.size(), 1u);
    EXPECT_EQ(aggregate->expressions[0]->kind, analyzer::BoundKind::kColumn);
    EXPECT_EQ(aggregate->expressions[0]->name, "SIDESTREAM_GROUPED_0");
    // The grouped column is the last column the second stage decodes.
    ASSERT_EQ(plan->stages[1].sources.size(), 1u);
    ASSERT_FALSE(plan->stages[1].sources[0].decoded.empty());
    EXPECT_TRUE(plan->stages[1].sources[0].decoded.back());
  }
}

TEST_F(PhysicalPlanTest, AJoinOnTheKeysOfCoPartitionedInputsIsOneStage) {
  auto plan = Plan(
      "CREATE STREAM with_plan AS SELECT c.caller, p.plan FROM cdr c "
      "LEFT JOIN plans p ON c.caller = p.msisdn;",
      4);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->stages.size(), 1u);
  EXPECT_THAT(plan->stages[0].stores, ElementsAre("join-0-left", "join-0-right", "stream-time"));
  EXPECT_EQ(plan->stages[0].partitions, 4);
}

TEST_F(PhysicalPlanTest, AStreamJoinedOnAValueColumnIsReKeyedThroughItsOwnTopic) {
  const std::string sql =
      "CREATE STREAM by_cell AS SELECT c.cell_id, c.caller, p.plan FROM cdr c "
      "LEFT JOIN plans p ON c.cell_id = p.msisdn;";
  auto plan = Plan(sql, {{"cdr", 2}, {"plans", 3}});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->stages.size(), 2u);
  const Stage& rekey = plan->stages[0];
  EXPECT_EQ(rekey.id, "Q1-Join-left-repartition");
  EXPECT_TRUE(rekey.writes_repartition);
  EXPECT_EQ(rekey.partitions, 2);  // a task per partition of cdr
  ASSERT_EQ(rekey.sources.size(), 1u);
  EXPECT_EQ(rekey.sources[0].topic, "cdr");
  // Keyed like the table (KAFKA), so that a cell's rows land where its plan row is.
  EXPECT_EQ(rekey.plan->source.topic, "app_Q1-Join-left-repartition");
  EXPECT_EQ(rekey.plan->source.key_format, "KAFKA");
  const Stage& join = plan->stages[1];
  ASSERT_EQ(join.sources.size(), 2u);
  EXPECT_EQ(join.sources[0].topic, "app_Q1-Join-left-repartition");
  EXPECT_EQ(join.sources[1].topic, "plans");
  EXPECT_EQ(join.partitions, 3);
  EXPECT_THAT(plan->ToString(), HasSubstr("reads plans, decodes"));
  EXPECT_TRUE(join.reads_changes);
  // The repartition topic has the table's partition count; so do the join's changelogs.
  const auto topics = TopicPartitions(*plan);
  EXPECT_EQ(topics.at("app_Q1-Join-left-repartition"), 3);
  EXPECT_EQ(topics.at("app_Q1-Join-left-repartition-stream-time-changelog"), 2);
  EXPECT_EQ(topics.at("app_Q1-join-0-right-changelog"), 3);
  EXPECT_THAT(plan->ToString(), HasSubstr("app_Q1-Join-left-repartition (repartition, stage 1, 3 "
                                          "partitions, retention.ms=-1)"));
  // On one partition every task sees every record: nothing to pair up.
  auto single = Plan(sql);
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  EXPECT_EQ(single->stages.size(), 1u);
}

TEST_F(PhysicalPlanTest, StreamsJoinedOnValueColumnsAreBothReKeyedToTheLargerCount) {
  ASSERT_TRUE(session::ScriptRunner(*catalog_)
                  .Run("CREATE STREAM sms (sender STRING KEY, receiver STRING) "
                       "WITH (KAFKA_TOPIC='sms', VALUE_FORMAT='JSON');")
                  .ok());
  auto plan = Plan(
      "CREATE STREAM pairs AS SELECT c.cell_id, s.sender FROM cdr c "
      "JOIN sms s WITHIN 1 MINUTE ON c.cell_id = s.receiver;",
      {{"cdr", 2}, {"sms", 5}});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->stages.size(), 3u);
  EXPECT_EQ(plan->stages[0].id, "Q1-Join-left-repartition");
  EXPECT_EQ(plan->stages[1].id, "Q1-Join-right-repartition");
  EXPECT_EQ(plan->stages[0].plan->source.key_format, "JSON");
  EXPECT_EQ(plan->stages[2].partitions, 5);
  const auto topics = TopicPartitions(*plan);
  EXPECT_EQ(topics.at("app_Q1-Join-left-repartition"), 5);
  EXPECT_EQ(topics.at("app_Q1-Join-right-repartition"), 5);
}

TEST_F(PhysicalPlanTest, KeysWithOtherPartitionCountsOrFormatsReKeyTheStream) {
  ASSERT_TRUE(session::ScriptRunner(*catalog_)
                  .Run("CREATE TABLE json_plans (msisdn STRING PRIMARY KEY, plan STRING) "
                       "WITH (KAFKA_TOPIC='json_plans', KEY_FORMAT='JSON', VALUE_FORMAT='JSON');")
                  .ok());
  auto counts = Plan(
      "CREATE STREAM with_plan AS SELECT c.caller, p.plan FROM cdr c "
      "JOIN plans p ON c.caller = p.msisdn;",
      {{"cdr", 8}, {"plans", 2}});
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  ASSERT_EQ(counts->stages.size(), 2u);
  EXPECT_EQ(TopicPartitions(*counts).at("app_Q1-Join-left-repartition"), 2);

  auto formats = Plan(
      "CREATE STREAM with_plan AS SELECT c.caller, p.plan FROM cdr c "
      "JOIN json_plans p ON c.caller = p.msisdn;",
      4);
  ASSERT_TRUE(formats.ok()) << formats.status().ToString();
  ASSERT_EQ(formats->stages.size(), 2u);
  EXPECT_EQ(formats->stages[0].plan->source.key_format, "JSON");

  // Tables cannot be re-keyed: ksqlDB's message.
  auto tables = Plan(
      "CREATE TABLE joined AS SELECT p.msisdn, p.plan, s.plan AS other FROM plans p "
      "JOIN subscribers s ON p.msisdn = s.id;",
      {{"plans", 2}, {"subscribers", 4}});
  ASSERT_FALSE(tables.ok());
  EXPECT_EQ(tables.status().code(), StatusCode::kNotSupported);
  EXPECT_EQ(tables.status().message(),
            "Can't join `PLANS` with `SUBSCRIBERS` since the number of partitions don't match. "
            "`PLANS` partitions = 2; `SUBSCRIBERS` partitions = 4. Please repartition either one "
            "so that the number of partitions match.");
}

TEST_F(PhysicalPlanTest, AJoinResultJoinedOnAnotherColumnIsReKeyedBeforeTheNextJoin) {
  auto plan = Plan(
      "CREATE STREAM enriched AS SELECT c.cell_id, p.plan, s.plan AS cell_plan FROM cdr c "
      "JOIN plans p ON c.caller = p.msisdn JOIN subscribers s ON c.cell_id = s.id;",
      4);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->stages.size(), 2u);
  // Stage 1 joins cdr with plans and writes the result keyed by cell_id.
  EXPECT_EQ(plan->stages[0].id, "Q1-Join-2-left-repartition");
  ASSERT_EQ(plan->stages[0].sources.size(), 2u);
  EXPECT_EQ(plan->stages[0].sources[0].topic, "cdr");
  EXPECT_EQ(plan->stages[0].sources[1].topic, "plans");
  EXPECT_THAT(plan->stages[0].stores, ElementsAre("join-0-left", "join-0-right", "stream-time"));
  ASSERT_EQ(plan->stages[1].sources.size(), 2u);
  EXPECT_EQ(plan->stages[1].sources[0].topic, "app_Q1-Join-2-left-repartition");
  EXPECT_EQ(plan->stages[1].sources[1].topic, "subscribers");
}

TEST_F(PhysicalPlanTest, TablesWhoseKeyFormatsDifferReKeyTheRightTable) {
  ASSERT_TRUE(session::ScriptRunner(*catalog_)
                  .Run("CREATE TABLE json_plans (msisdn STRING PRIMARY KEY, plan STRING) "
                       "WITH (KAFKA_TOPIC='json_plans', KEY_FORMAT='JSON', VALUE_FORMAT='JSON');")
                  .ok());
  auto plan = Plan(
      "CREATE TABLE joined AS SELECT s.id, s.plan, p.plan AS other FROM subscribers s "
      "JOIN json_plans p ON s.id = p.msisdn;",
      4);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->stages.size(), 2u);
  // Stage 1 writes json_plans keyed in the left table's format, deletes included.
  EXPECT_EQ(plan->stages[0].id, "Q1-Join-right-repartition");
  EXPECT_EQ(plan->stages[0].sources[0].topic, "json_plans");
  EXPECT_EQ(plan->stages[0].plan->source.key_format, "KAFKA");
  EXPECT_EQ(TopicPartitions(*plan).at("app_Q1-Join-right-repartition"), 4);
  // Stage 2 reads it back as a table whose key is in the message key.
  const auto scans = Scans(*plan->stages[1].plan);
  ASSERT_EQ(scans.size(), 2u);
  EXPECT_EQ(scans[1]->source.topic, "app_Q1-Join-right-repartition");
  EXPECT_EQ(scans[1]->source.type, catalog::SourceType::kTable);
  EXPECT_EQ(scans[1]->source.key_format, "KAFKA");
  EXPECT_EQ(scans[1]->source.columns[0].role, catalog::ColumnRole::kKey);
}

TEST_F(PhysicalPlanTest, AForeignKeyJoinOverPartitionsSubscribesAndResponds) {
  const std::string sql =
      "CREATE TABLE joined AS SELECT s.id, p.plan AS other FROM subscribers s "
      "JOIN plans p ON s.plan = p.msisdn;";
  auto single = Plan(sql, 1);
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  EXPECT_EQ(single->stages.size(), 1u);
  auto several = Plan(sql, {{"plans", 2}}, 4);
  ASSERT_TRUE(several.ok()) << several.status().ToString();
  // Kafka Streams' three processors: the left table's stage subscribes, the right table's
  // answers, the query's stage resolves the answers.
  ASSERT_EQ(several->stages.size(), 3u);
  const std::string registration = "app_Q1-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-topic";
  const std::string response = "app_Q1-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-topic";
  EXPECT_EQ(several->stages[0].id, "Q1-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION");
  EXPECT_EQ(several->stages[0].plan->source.topic, registration);
  EXPECT_TRUE(several->stages[0].plan->null_keys_travel);
  EXPECT_EQ(several->stages[0].partitions, 4);
  EXPECT_EQ(several->stages[1].id, "Q1-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE");
  EXPECT_EQ(several->stages[1].plan->source.topic, response);
  EXPECT_EQ(several->stages[1].partitions, 2);
  ASSERT_EQ(several->stages[1].sources.size(), 2u);
  EXPECT_EQ(several->stages[1].sources[0].topic, registration);
  EXPECT_EQ(several->stages[1].sources[1].topic, "plans");
  EXPECT_EQ(several->stages[2].id, "Q1");
  ASSERT_EQ(several->stages[2].sources.size(), 1u);
  EXPECT_EQ(several->stages[2].sources[0].topic, response);
  EXPECT_EQ(several->stages[2].partitions, 4);
  // The subscription topic has the right table's partitions, the response topic the left's.
  EXPECT_EQ(TopicPartitions(*several).at(registration), 2);
  EXPECT_EQ(TopicPartitions(*several).at(response), 4);
  EXPECT_EQ(several->stages[0].stores, (std::vector<std::string>{"join-0-left", "stream-time"}));
  EXPECT_EQ(several->stages[1].stores,
            (std::vector<std::string>{"join-0-left", "join-0-right", "stream-time"}));
}

}  // namespace
}  // namespace sidestream::planner
