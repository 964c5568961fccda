#include "analyzer/analyzer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/registry/schema_registry.h"
#include "session/script_runner.h"
#include "sql/parser.h"

namespace sidestream::analyzer {
namespace {

using testing::HasSubstr;

class AnalyzerTest : public testing::Test {
 protected:
  void SetUp() override {
    catalog_ = std::move(catalog::Catalog::Open(":memory:").value());
    Run("CREATE STREAM cdr (caller_key STRING KEY, caller STRING, callee STRING, "
        "cell_id STRING, start_ts BIGINT, duration_s INT, setup_ms INT, termination STRING, "
        "charge DOUBLE, price DECIMAL(6, 2)) "
        "WITH (KAFKA_TOPIC='cdr', VALUE_FORMAT='JSON', PARTITIONS=4);");
    Run("CREATE TABLE cells (cell_id STRING PRIMARY KEY, region STRING) "
        "WITH (KAFKA_TOPIC='cells', VALUE_FORMAT='JSON');");
  }

  void Run(const std::string& sql) {
    session::ScriptRunner runner(*catalog_);
    auto result = runner.Run(sql);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
  }

  Result<AnalyzedStatement> Analyze(const std::string& sql) {
    auto statement = sql::ParseStatement(sql);
    if (!statement.ok()) return statement.status();
    Analyzer analyzer(*catalog_);
    return analyzer.Analyze(**statement);
  }

  // The Project operator under the sink (or the root of a SELECT).
  static const LogicalOperator& Projection(const AnalyzedStatement& statement) {
    const LogicalOperator* node = statement.plan.get();
    while (node->kind != LogicalOperatorKind::kProject) node = node->children.at(0).get();
    return *node;
  }

  static const LogicalOperator* FindOperator(const LogicalOperator& root,
                                             LogicalOperatorKind kind) {
    if (root.kind == kind) return &root;
    for (const auto& child : root.children) {
      if (const LogicalOperator* found = FindOperator(*child, kind)) return found;
    }
    return nullptr;
  }

  std::unique_ptr<catalog::Catalog> catalog_;
};

TEST_F(AnalyzerTest, UnnamedExpressionsAreNumberedSkippingTakenNames) {
  auto result = Analyze(
      "CREATE STREAM out AS SELECT caller_key, duration_s + 1, setup_ms AS KSQL_COL_0, "
      "charge * 2 FROM cdr;");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const Schema& schema = Projection(*result).output;
  ASSERT_EQ(schema.columns.size(), 4u);
  EXPECT_EQ(schema.columns[0].name, "CALLER_KEY");
  EXPECT_EQ(schema.columns[1].name, "KSQL_COL_1");
  EXPECT_EQ(schema.columns[2].name, "KSQL_COL_0");
  EXPECT_EQ(schema.columns[3].name, "KSQL_COL_2");
}

TEST_F(AnalyzerTest, GroupByKeysComeFirstInGroupByOrder) {
  auto result = Analyze(
      "CREATE TABLE t WITH (KEY_FORMAT='JSON') AS SELECT COUNT(*) AS n, termination, cell_id "
      "FROM cdr "
      "GROUP BY cell_id, termination;");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const Schema& schema = result->plan->output;
  ASSERT_EQ(schema.columns.size(), 3u);
  EXPECT_EQ(schema.columns[0].name, "CELL_ID");
  EXPECT_EQ(schema.columns[0].role, catalog::ColumnRole::kKey);
  EXPECT_EQ(schema.columns[1].name, "TERMINATION");
  EXPECT_EQ(schema.columns[1].role, catalog::ColumnRole::kKey);
  EXPECT_EQ(schema.columns[2].name, "N");
  EXPECT_EQ(schema.columns[2].type, types::SqlType::Bigint());
  // Two key columns cannot be KAFKA-encoded: the sink's key format becomes JSON.
  EXPECT_EQ(result->new_source->key_format, "JSON");
}

TEST_F(AnalyzerTest, GroupingByNonKeyColumnRepartitions) {
  auto by_cell =
      Analyze("CREATE TABLE t AS SELECT cell_id, COUNT(*) AS n FROM cdr GROUP BY cell_id;");
  ASSERT_TRUE(by_cell.ok()) << by_cell.status().ToString();
  EXPECT_NE(FindOperator(*by_cell->plan, LogicalOperatorKind::kRepartition), nullptr);

  auto by_key =
      Analyze("CREATE TABLE t AS SELECT caller_key, COUNT(*) AS n FROM cdr GROUP BY caller_key;");
  ASSERT_TRUE(by_key.ok()) << by_key.status().ToString();
  EXPECT_EQ(FindOperator(*by_key->plan, LogicalOperatorKind::kRepartition), nullptr);
}

TEST_F(AnalyzerTest, DefaultGraceFollowsKsqlDb) {
  auto changes = Analyze(
      "CREATE TABLE t AS SELECT cell_id, COUNT(*) AS n FROM cdr "
      "WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY cell_id;");
  ASSERT_TRUE(changes.ok()) << changes.status().ToString();
  const LogicalOperator* aggregate = FindOperator(*changes->plan, LogicalOperatorKind::kAggregate);
  ASSERT_NE(aggregate, nullptr);
  EXPECT_EQ(*aggregate->window->grace_ms, 24LL * 3600 * 1000 - 60'000);

  auto final_emit = Analyze(
      "CREATE TABLE t AS SELECT cell_id, COUNT(*) AS n FROM cdr "
      "WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY cell_id EMIT FINAL;");
  ASSERT_TRUE(final_emit.ok()) << final_emit.status().ToString();
  aggregate = FindOperator(*final_emit->plan, LogicalOperatorKind::kAggregate);
  EXPECT_EQ(*aggregate->window->grace_ms, 0);
  EXPECT_EQ(aggregate->emit, sql::EmitMode::kFinal);
  EXPECT_EQ(final_emit->new_source->window_type, catalog::WindowType::kTumbling);
}

TEST_F(AnalyzerTest, RepeatedAggregatesAreComputedOnce) {
  auto result = Analyze(
      "CREATE TABLE t AS SELECT cell_id, COUNT(*) AS n, COUNT(*) * 2 AS twice FROM cdr "
      "GROUP BY cell_id HAVING COUNT(*) > 1;");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const LogicalOperator* aggregate = FindOperator(*result->plan, LogicalOperatorKind::kAggregate);
  ASSERT_NE(aggregate, nullptr);
  ASSERT_EQ(aggregate->aggregates.size(), 1u);
  EXPECT_EQ(aggregate->aggregates[0].call->sql, "COUNT(*)");
}

TEST_F(AnalyzerTest, ExpressionTypes) {
  auto result = Analyze(
      "SELECT duration_s + 1 AS a, duration_s + 10000000000 AS b, charge + 1 AS c, "
      "price * 2 AS d, price + 1.5 AS e, caller + '!' AS f, duration_s > 3 AS g "
      "FROM cdr EMIT CHANGES;");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const Schema& schema = Projection(*result).output;
  EXPECT_EQ(schema.columns[0].type.ToString(), "INTEGER");
  EXPECT_EQ(schema.columns[1].type.ToString(), "BIGINT");
  EXPECT_EQ(schema.columns[2].type.ToString(), "DOUBLE");
  EXPECT_EQ(schema.columns[3].type.ToString(), "DECIMAL(17, 2)");
  EXPECT_EQ(schema.columns[4].type.ToString(),
            "DECIMAL(7, 2)");  // ksqlDB: max integer digits + scale + 1
  EXPECT_EQ(schema.columns[5].type.ToString(), "STRING");
  EXPECT_EQ(schema.columns[6].type.ToString(), "BOOLEAN");
}

TEST_F(AnalyzerTest, ErrorsCarryLocationAndHint) {
  auto result = Analyze("SELECT caller, calee\nFROM cdr EMIT CHANGES;");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kBindError);
  EXPECT_EQ(result.status().location().line, 1);
  EXPECT_EQ(result.status().location().column, 16);
  EXPECT_EQ(result.status().hint(), "did you mean CALLEE?");
}

TEST_F(AnalyzerTest, UnknownSourceSuggestsNearestName) {
  auto result = Analyze("SELECT * FROM cdrs EMIT CHANGES;");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("`CDRS` does not exist"));
  EXPECT_EQ(result.status().hint(), "did you mean CDR?");
}

TEST_F(AnalyzerTest, ApplyToCatalogRegistersSinkAndQuery) {
  auto result = Analyze("CREATE STREAM long_calls AS SELECT * FROM cdr WHERE duration_s > 600;");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  auto message = ApplyToCatalog(*result, *catalog_);
  ASSERT_TRUE(message.ok()) << message.status().ToString();
  EXPECT_EQ(*message, "Created query CSAS_LONG_CALLS_0");
  auto sink = catalog_->GetSource("LONG_CALLS");
  ASSERT_TRUE(sink.ok());
  EXPECT_EQ(sink->writer_query_id, "CSAS_LONG_CALLS_0");
  EXPECT_EQ(sink->partitions, 4);
  auto query = catalog_->GetQuery("CSAS_LONG_CALLS_0");
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->source_names, std::vector<std::string>{"CDR"});

  // A source that a query reads cannot be dropped until the query is terminated.
  auto drop = Analyze("DROP STREAM cdr;");
  ASSERT_FALSE(drop.ok());
  EXPECT_EQ(drop.status().hint(), "TERMINATE CSAS_LONG_CALLS_0 first");
}

TEST_F(AnalyzerTest, WatermarkSetsEventTime) {
  auto result = Analyze(
      "CREATE STREAM w (k STRING KEY, ts BIGINT, v INT, "
      "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) "
      "WITH (KAFKA_TOPIC='w', VALUE_FORMAT='JSON');");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(*result->new_source->timestamp_column, "TS");
  EXPECT_EQ(*result->new_source->watermark_delay_ms, 5000);
}

// The hidden query a REST push query runs as may leave out the key (ksqlDB's push queries
// may): it is projected under a hidden name. A persistent query must project it.
TEST_F(AnalyzerTest, TransientQueryProjectsAMissingKeyUnderAHiddenName) {
  auto persistent = Analyze("CREATE TABLE t AS SELECT COUNT(*) AS n FROM cdr GROUP BY cell_id;");
  ASSERT_FALSE(persistent.ok());
  EXPECT_THAT(persistent.status().message(), HasSubstr("must include the grouping expression"));

  auto grouped = Analyze(
      "CREATE TABLE SIDESTREAM_TRANSIENT_1 AS SELECT COUNT(*) AS n FROM cdr GROUP BY cell_id;");
  ASSERT_TRUE(grouped.ok()) << grouped.status().ToString();
  const Schema& schema = Projection(*grouped).output;
  ASSERT_EQ(schema.columns.size(), 2u);
  EXPECT_EQ(schema.columns[0].name, "SIDESTREAM_TRANSIENT_KEY_0");
  EXPECT_EQ(schema.columns[0].role, catalog::ColumnRole::kKey);
  EXPECT_EQ(schema.columns[1].name, "N");

  auto table = Analyze("CREATE TABLE SIDESTREAM_TRANSIENT_2 AS SELECT region FROM cells;");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  const Schema& table_schema = Projection(*table).output;
  ASSERT_EQ(table_schema.columns.size(), 2u);
  EXPECT_EQ(table_schema.columns[0].role, catalog::ColumnRole::kKey);
  EXPECT_EQ(table_schema.columns[1].name, "REGION");

  // Only the key: no value column is needed either.
  auto key_only = Analyze(
      "CREATE TABLE SIDESTREAM_TRANSIENT_3 AS SELECT cell_id FROM cdr GROUP BY cell_id "
      "HAVING COUNT(*) > 1;");
  ASSERT_TRUE(key_only.ok()) << key_only.status().ToString();
  EXPECT_EQ(Projection(*key_only).output.columns.size(), 1u);
}

// A push query's aggregate without GROUP BY groups every row into one group (ksqlDB groups by
// a constant); a persistent query must GROUP BY.
TEST_F(AnalyzerTest, PushQueryAggregatesWithoutGroupByIntoOneGroup) {
  auto push = Analyze("SELECT COUNT(*) AS n FROM cdr EMIT CHANGES;");
  ASSERT_TRUE(push.ok()) << push.status().ToString();
  EXPECT_NE(FindOperator(*push->plan, LogicalOperatorKind::kAggregate), nullptr);
  auto persistent = Analyze("CREATE TABLE t AS SELECT COUNT(*) AS n FROM cdr;");
  ASSERT_FALSE(persistent.ok());
  EXPECT_THAT(persistent.status().message(), HasSubstr("without a GROUP BY clause"));
}

// INSERT VALUES coerces a STRUCT field by field by name (ksqlDB's DefaultSqlValueCoercer).
TEST_F(AnalyzerTest, InsertValuesCoercesStructsFieldByField) {
  Run("CREATE STREAM s (k STRING KEY, val STRUCT<foo BIGINT, bar ARRAY<BIGINT>, baz DOUBLE>) "
      "WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON');");
  EXPECT_TRUE(
      Analyze("INSERT INTO s (val) VALUES (STRUCT(FOO := 2, BAR := ARRAY[2], BAZ := 2));").ok());
  EXPECT_TRUE(Analyze("INSERT INTO s (val) VALUES (STRUCT());").ok());
  auto unknown_field = Analyze("INSERT INTO s (val) VALUES (STRUCT(QUX := 1));");
  ASSERT_FALSE(unknown_field.ok());
  EXPECT_THAT(unknown_field.status().message(), HasSubstr("Expected type"));
  auto qualified = Analyze("INSERT INTO s (k) VALUES (FOO.bar);");
  ASSERT_FALSE(qualified.ok());
  EXPECT_THAT(qualified.status().message(),
              HasSubstr("'FOO' is not a valid stream/table name or alias."));
}

// `*` over a join of windowed sources has each side's window bounds after its key, prefixed
// by the side's name (ksqlDB's join schema).
TEST_F(AnalyzerTest, WindowedJoinStarHasEachSidesWindowBounds) {
  for (const char* name : {"s1", "s2"}) {
    Run(std::string("CREATE STREAM ") + name + " (k INT KEY, id BIGINT) WITH (KAFKA_TOPIC='" +
        name + "', VALUE_FORMAT='JSON', WINDOW_TYPE='TUMBLING', WINDOW_SIZE='2 SECONDS');");
  }
  auto result =
      Analyze("CREATE STREAM out AS SELECT * FROM s1 JOIN s2 WITHIN 1 MINUTE ON s1.k = s2.k;");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::vector<std::string> names;
  for (const auto& column : Projection(*result).output.columns) names.push_back(column.name);
  EXPECT_EQ(names, (std::vector<std::string>{"S1_K", "S1_WINDOWSTART", "S1_WINDOWEND", "S1_ID",
                                             "S2_K", "S2_WINDOWSTART", "S2_WINDOWEND", "S2_ID"}));
}

// `*` after a join and PARTITION BY: the new key, then each side's values, pseudo columns and
// old key (ksqlDB's LogicalSchema.withPseudoAndKeyColsInValue).
TEST_F(AnalyzerTest, JoinStarAfterPartitionByHasEachSidesPseudoColumns) {
  Run("CREATE STREAM l (a INT KEY, b INT, c INT) WITH (KAFKA_TOPIC='l', VALUE_FORMAT='JSON');");
  Run("CREATE STREAM r (x INT KEY, y INT, z INT) WITH (KAFKA_TOPIC='r', VALUE_FORMAT='JSON');");
  auto result = Analyze(
      "CREATE STREAM out AS SELECT * FROM l JOIN r WITHIN 10 SECONDS ON l.a = r.x "
      "PARTITION BY l.b;");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  std::vector<std::string> names;
  for (const auto& column : Projection(*result).output.columns) names.push_back(column.name);
  EXPECT_EQ(names, (std::vector<std::string>{"L_B", "L_C", "L_ROWTIME", "L_ROWPARTITION",
                                             "L_ROWOFFSET", "L_A", "R_Y", "R_Z", "R_ROWTIME",
                                             "R_ROWPARTITION", "R_ROWOFFSET", "R_X"}));
}

TEST_F(AnalyzerTest, SchemaIdsAndFormatPropertiesFollowKsqlRules) {
  auto both =
      Analyze("CREATE STREAM s (c1 INT) WITH (KAFKA_TOPIC='t', FORMAT='AVRO', VALUE_SCHEMA_ID=1);");
  ASSERT_FALSE(both.ok());
  EXPECT_THAT(both.status().message(),
              HasSubstr("Table elements and VALUE_SCHEMA_ID cannot both exist"));
  auto kafka = Analyze(
      "CREATE STREAM s WITH (KAFKA_TOPIC='t', KEY_FORMAT='KAFKA', VALUE_FORMAT='AVRO', "
      "KEY_SCHEMA_ID=1);");
  ASSERT_FALSE(kafka.ok());
  EXPECT_THAT(kafka.status().message(),
              HasSubstr("KEY_FORMAT should support schema inference when KEY_SCHEMA_ID is "
                        "provided. Current format is KAFKA."));
  auto avro_name =
      Analyze("CREATE STREAM s (`1a` DOUBLE) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='AVRO');");
  ASSERT_FALSE(avro_name.ok());
  EXPECT_THAT(avro_name.status().message(), HasSubstr("Illegal initial character: 1a"));
  auto blank = Analyze(
      "CREATE STREAM s (a INT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='AVRO', "
      "VALUE_AVRO_SCHEMA_FULL_NAME=' ');");
  ASSERT_FALSE(blank.ok());
  EXPECT_THAT(blank.status().message(), HasSubstr("fullSchemaName cannot be empty"));
  auto json = Analyze(
      "CREATE STREAM s (a INT) WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON', "
      "VALUE_SCHEMA_FULL_NAME='x.Y');");
  ASSERT_FALSE(json.ok());
  EXPECT_THAT(json.status().message(),
              HasSubstr("JSON does not support the following configs: [fullSchemaName]"));
}

// Schema inference against an in-memory registry, as ksqlDB's DefaultSchemaInjector does it.
class InferenceTest : public AnalyzerTest {
 protected:
  void SetUp() override {
    AnalyzerTest::SetUp();
    registry::SetDefaultSchemaRegistryUrl("mock://analyzer-inference");
    registry_ = registry::SharedSchemaRegistry("mock://analyzer-inference").value();
  }
  void TearDown() override { registry::SetDefaultSchemaRegistryUrl(""); }

  int32_t RegisterAvro(const std::string& subject, const std::string& schema) {
    auto id = registry_->Register(subject, registry::SchemaType::kAvro, schema);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : -1;
  }

  std::shared_ptr<registry::SchemaRegistry> registry_;
};

TEST_F(InferenceTest, NamesAreUpperCasedUnlessASchemaIdIsGivenAndKeysAreUnwrapped) {
  const std::string value = R"({"type":"record","name":"V","fields":[{"name":"c1","type":"int"},
      {"name":"c2","type":"double"}]})";
  RegisterAvro("inferred-key", R"({"type":"record","name":"K","fields":[{"name":"f1",
      "type":"string"}]})");
  const int32_t id = RegisterAvro("inferred-value", value);
  auto inferred = Analyze("CREATE STREAM s WITH (KAFKA_TOPIC='inferred', FORMAT='AVRO');");
  ASSERT_TRUE(inferred.ok()) << inferred.status().ToString();
  const auto& columns = inferred->new_source->columns;
  ASSERT_EQ(columns.size(), 3u);
  EXPECT_EQ(columns[0].name, "ROWKEY");
  EXPECT_EQ(columns[0].role, catalog::ColumnRole::kKey);
  EXPECT_EQ(columns[0].type, types::SqlType::Struct({{"F1", types::SqlType::String()}}));
  EXPECT_EQ(columns[1].name, "C1");
  EXPECT_EQ(columns[2].name, "C2");
  auto by_id = Analyze(
      "CREATE STREAM s WITH (KAFKA_TOPIC='inferred', KEY_FORMAT='KAFKA', "
      "VALUE_FORMAT='AVRO', VALUE_SCHEMA_ID=" +
      std::to_string(id) + ");");
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  ASSERT_EQ(by_id->new_source->columns.size(), 2u);
  EXPECT_EQ(by_id->new_source->columns[0].name, "c1");
}

TEST_F(InferenceTest, ACreateAsSelectMustLeadTheSchemaItsIdNames) {
  Run("CREATE STREAM src (`id` INT KEY, `c1` INT) WITH (KAFKA_TOPIC='src', VALUE_FORMAT='JSON');");
  const int32_t fits = RegisterAvro("a-value", R"({"type":"record","name":"A","fields":[
      {"name":"c1","type":"int"},{"name":"c2","type":["null","int"],"default":null}]})");
  const int32_t reordered = RegisterAvro("b-value", R"({"type":"record","name":"B","fields":[
      {"name":"c2","type":"double"},{"name":"c1","type":"int"}]})");
  auto ok =
      Analyze("CREATE STREAM a WITH (VALUE_FORMAT='AVRO', VALUE_SCHEMA_ID=" + std::to_string(fits) +
              ") AS SELECT * FROM src;");
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  auto bad = Analyze("CREATE STREAM b WITH (VALUE_FORMAT='AVRO', VALUE_SCHEMA_ID=" +
                     std::to_string(reordered) + ") AS SELECT * FROM src;");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("The following value columns are changed, missing or reordered: "
                        "[`c1` INTEGER]. Schema from schema registry is [`c2` DOUBLE, `c1` "
                        "INTEGER]"));
}

}  // namespace
}  // namespace sidestream::analyzer
