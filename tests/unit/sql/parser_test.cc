#include "sql/parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "common/did_you_mean.h"

namespace sidestream::sql {
namespace {

using ::testing::HasSubstr;

StatementPtr MustParse(const std::string& sql) {
  auto result = ParseStatement(sql);
  EXPECT_TRUE(result.ok()) << sql << "\n" << result.status().ToString();
  if (!result.ok()) return std::make_unique<Statement>();
  return std::move(result).value();
}

ExpressionPtr MustParseExpression(const std::string& sql) {
  auto result = ParseExpression(sql);
  EXPECT_TRUE(result.ok()) << sql << "\n" << result.status().ToString();
  if (!result.ok()) return std::make_unique<Expression>();
  return std::move(result).value();
}

std::string ExpressionSql(const std::string& sql) { return MustParseExpression(sql)->ToSql(); }

// ---------------------------------------------------------------- statements

TEST(ParserTest, CreateStreamWithColumnsAndProperties) {
  auto s = MustParse(
      "CREATE STREAM cdr (caller STRING KEY, callee varchar, duration INT, cost DECIMAL(10, 2), "
      "tags ARRAY<STRING>, attrs MAP<STRING, BIGINT>, loc STRUCT<lat DOUBLE, `Lon` DOUBLE>, "
      "ts TIMESTAMP, d DATE, t TIME, raw BYTES, ok BOOLEAN) "
      "WITH (kafka_topic='cdr', value_format='JSON', partitions=4, 'timestamp'='ts');");
  EXPECT_EQ(s->kind, StatementKind::kCreateSource);
  EXPECT_EQ(s->source_kind, SourceKind::kStream);
  EXPECT_EQ(s->name, "CDR");
  EXPECT_EQ(s->name_location.line, 1);
  EXPECT_EQ(s->name_location.column, 15);
  ASSERT_EQ(s->columns.size(), 12u);
  EXPECT_EQ(s->columns[0].name, "CALLER");
  EXPECT_EQ(s->columns[0].type, types::SqlType::String());
  EXPECT_EQ(s->columns[0].constraint, ColumnConstraint::kKey);
  EXPECT_EQ(s->columns[1].type, types::SqlType::String());
  EXPECT_EQ(s->columns[2].type, types::SqlType::Int());
  EXPECT_EQ(s->columns[3].type, types::SqlType::Decimal(10, 2));
  EXPECT_EQ(s->columns[4].type, types::SqlType::Array(types::SqlType::String()));
  EXPECT_EQ(s->columns[5].type.ToString(), "MAP<STRING, BIGINT>");
  EXPECT_EQ(s->columns[6].type.ToString(), "STRUCT<`LAT` DOUBLE, `Lon` DOUBLE>");
  EXPECT_EQ(s->columns[7].type, types::SqlType::Timestamp());
  EXPECT_EQ(s->columns[8].type, types::SqlType::Date());
  EXPECT_EQ(s->columns[9].type, types::SqlType::Time());
  EXPECT_EQ(s->columns[10].type, types::SqlType::Bytes());
  EXPECT_EQ(s->columns[11].type, types::SqlType::Boolean());
  ASSERT_EQ(s->properties.size(), 4u);
  ASSERT_NE(s->FindProperty("KAFKA_TOPIC"), nullptr);
  EXPECT_EQ(s->FindProperty("KAFKA_TOPIC")->value.text, "cdr");
  EXPECT_EQ(s->FindProperty("PARTITIONS")->value.kind, LiteralKind::kInteger);
  EXPECT_EQ(s->FindProperty("PARTITIONS")->value.integer_value, 4);
  EXPECT_EQ(s->FindProperty("TIMESTAMP")->value.text, "ts");
  EXPECT_EQ(s->FindProperty("kafka_topic"), nullptr);
  EXPECT_EQ(
      s->text,
      std::string("CREATE STREAM cdr (caller STRING KEY, callee varchar, duration INT, cost "
                  "DECIMAL(10, 2), tags ARRAY<STRING>, attrs MAP<STRING, BIGINT>, loc "
                  "STRUCT<lat DOUBLE, `Lon` DOUBLE>, ts TIMESTAMP, d DATE, t TIME, raw BYTES, "
                  "ok BOOLEAN) WITH (kafka_topic='cdr', value_format='JSON', partitions=4, "
                  "'timestamp'='ts')"));
}

TEST(ParserTest, CreateTableOptionsAndConstraints) {
  auto s = MustParse(
      "create or replace table if not exists t (id BIGINT PRIMARY KEY, h BYTES HEADER('trace'), "
      "hs ARRAY<STRUCT<key STRING, value BYTES>> HEADERS, c my_type) with (kafka_topic='t')");
  EXPECT_EQ(s->kind, StatementKind::kCreateSource);
  EXPECT_EQ(s->source_kind, SourceKind::kTable);
  EXPECT_TRUE(s->or_replace);
  EXPECT_TRUE(s->if_not_exists);
  EXPECT_FALSE(s->source_only);
  ASSERT_EQ(s->columns.size(), 4u);
  EXPECT_EQ(s->columns[0].constraint, ColumnConstraint::kPrimaryKey);
  EXPECT_EQ(s->columns[1].constraint, ColumnConstraint::kHeaders);
  EXPECT_EQ(s->columns[1].header_key, "trace");
  EXPECT_EQ(s->columns[2].constraint, ColumnConstraint::kHeaders);
  EXPECT_EQ(s->columns[2].header_key, "");
  EXPECT_EQ(s->columns[3].custom_type, "MY_TYPE");

  auto source = MustParse("CREATE SOURCE TABLE t (id INT PRIMARY KEY) WITH (kafka_topic='t')");
  EXPECT_TRUE(source->source_only);
  auto bare = MustParse("CREATE STREAM s WITH (kafka_topic='s', value_format='AVRO')");
  EXPECT_TRUE(bare->columns.empty());
  EXPECT_EQ(bare->properties.size(), 2u);
}

TEST(ParserTest, Watermark) {
  auto s = MustParse(
      "CREATE STREAM s (a INT, ts TIMESTAMP, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) "
      "WITH (kafka_topic='s')");
  ASSERT_TRUE(s->watermark.has_value());
  EXPECT_EQ(s->watermark->column, "TS");
  EXPECT_EQ(s->watermark->delay_ms, 5000);
  EXPECT_EQ(s->columns.size(), 2u);

  auto minutes = MustParse(
      "CREATE STREAM s (ts BIGINT, WATERMARK FOR ts AS ts - 2 MINUTES) WITH (kafka_topic='s')");
  EXPECT_EQ(minutes->watermark->delay_ms, 120000);
  auto none =
      MustParse("CREATE STREAM s (ts BIGINT, WATERMARK FOR ts AS ts) WITH (kafka_topic='s')");
  EXPECT_EQ(none->watermark->delay_ms, 0);
  auto interval = MustParse(
      "CREATE STREAM s (ts BIGINT, WATERMARK FOR ts AS ts - INTERVAL 250 MILLISECONDS) "
      "WITH (kafka_topic='s')");
  EXPECT_EQ(interval->watermark->delay_ms, 250);
}

TEST(ParserTest, CreateAsSelectAndInsert) {
  auto s = MustParse(
      "CREATE TABLE totals WITH (kafka_topic='totals', partitions=2) AS SELECT caller, "
      "COUNT(*) AS n FROM cdr GROUP BY caller EMIT CHANGES;");
  EXPECT_EQ(s->kind, StatementKind::kCreateAsSelect);
  EXPECT_EQ(s->source_kind, SourceKind::kTable);
  EXPECT_EQ(s->name, "TOTALS");
  ASSERT_NE(s->query, nullptr);
  EXPECT_EQ(s->query->select.size(), 2u);
  EXPECT_EQ(s->query->select[1].alias, "N");
  EXPECT_TRUE(s->query->select[1].expression->star);
  EXPECT_EQ(s->query->group_by.size(), 1u);
  EXPECT_EQ(s->query->emit, EmitMode::kChanges);

  auto insert = MustParse("INSERT INTO out SELECT * FROM in1;");
  EXPECT_EQ(insert->kind, StatementKind::kInsertInto);
  EXPECT_EQ(insert->name, "OUT");
  EXPECT_TRUE(insert->query->select[0].star);

  auto values = MustParse("INSERT INTO s (id, name, v) VALUES (1, 'a''b', -2.5);");
  EXPECT_EQ(values->kind, StatementKind::kInsertValues);
  ASSERT_EQ(values->columns.size(), 3u);
  EXPECT_EQ(values->columns[1].name, "NAME");
  ASSERT_EQ(values->values.size(), 3u);
  EXPECT_EQ(values->values[1]->literal.text, "a'b");
  EXPECT_EQ(values->values[2]->literal.kind, LiteralKind::kDecimal);
  EXPECT_EQ(values->values[2]->literal.text, "-2.5");
  auto no_columns = MustParse("INSERT INTO s VALUES (1, 'x')");
  EXPECT_TRUE(no_columns->columns.empty());
  EXPECT_EQ(no_columns->values.size(), 2u);
}

TEST(ParserTest, TypesDropShowDescribe) {
  auto type = MustParse("CREATE TYPE address AS STRUCT<street STRING, zip INT>;");
  EXPECT_EQ(type->kind, StatementKind::kCreateType);
  EXPECT_EQ(type->name, "ADDRESS");
  EXPECT_EQ(type->type.ToString(), "STRUCT<`STREET` STRING, `ZIP` INTEGER>");

  auto drop = MustParse("DROP TABLE IF EXISTS t DELETE TOPIC");
  EXPECT_EQ(drop->kind, StatementKind::kDrop);
  EXPECT_EQ(drop->drop_target, DropTarget::kTable);
  EXPECT_TRUE(drop->if_exists);
  EXPECT_TRUE(drop->delete_topic);
  EXPECT_EQ(MustParse("DROP STREAM s")->drop_target, DropTarget::kStream);
  auto drop_type = MustParse("DROP TYPE IF EXISTS address");
  EXPECT_EQ(drop_type->drop_target, DropTarget::kType);
  EXPECT_EQ(drop_type->name, "ADDRESS");

  const std::pair<const char*, ShowTarget> shows[] = {
      {"SHOW STREAMS", ShowTarget::kStreams},       {"LIST TABLES", ShowTarget::kTables},
      {"SHOW QUERIES", ShowTarget::kQueries},       {"show topics", ShowTarget::kTopics},
      {"SHOW PROPERTIES", ShowTarget::kProperties}, {"LIST FUNCTIONS", ShowTarget::kFunctions},
      {"SHOW TYPES", ShowTarget::kTypes},           {"SHOW ALL TOPICS", ShowTarget::kTopics}};
  for (const auto& [sql, target] : shows) {
    auto show = MustParse(sql);
    EXPECT_EQ(show->kind, StatementKind::kShow) << sql;
    EXPECT_EQ(show->show_target, target) << sql;
    EXPECT_FALSE(show->extended);
  }
  EXPECT_TRUE(MustParse("SHOW STREAMS EXTENDED")->extended);
  EXPECT_TRUE(MustParse("SHOW QUERIES EXTENDED")->extended);

  auto describe = MustParse("DESCRIBE EXTENDED cdr");
  EXPECT_EQ(describe->kind, StatementKind::kDescribe);
  EXPECT_EQ(describe->name, "CDR");
  EXPECT_TRUE(describe->extended);
  EXPECT_TRUE(MustParse("DESCRIBE cdr EXTENDED")->extended);
  auto function = MustParse("DESCRIBE FUNCTION geo_distance");
  EXPECT_TRUE(function->describe_function);
  EXPECT_EQ(function->name, "GEO_DISTANCE");
  auto sources = MustParse("DESCRIBE TABLES EXTENDED");
  EXPECT_TRUE(sources->describe_sources);
  EXPECT_EQ(sources->show_target, ShowTarget::kTables);
  EXPECT_TRUE(sources->extended);
}

TEST(ParserTest, PauseAndResume) {
  auto pause = MustParse("PAUSE csas_out_0");
  EXPECT_EQ(pause->kind, StatementKind::kPause);
  EXPECT_EQ(pause->query_id, "CSAS_OUT_0");
  EXPECT_FALSE(pause->all_queries);
  auto pause_all = MustParse("pause all");
  EXPECT_EQ(pause_all->kind, StatementKind::kPause);
  EXPECT_TRUE(pause_all->all_queries);
  EXPECT_EQ(pause_all->query_id, "");
  auto resume = MustParse("RESUME `CsasQ`");
  EXPECT_EQ(resume->kind, StatementKind::kResume);
  EXPECT_EQ(resume->query_id, "CsasQ");
  EXPECT_TRUE(MustParse("RESUME ALL")->all_queries);
  EXPECT_EQ(MustParse("RESUME ALL")->kind, StatementKind::kResume);
  // Not reserved: they still name columns.
  EXPECT_EQ(MustParse("SELECT pause, resume FROM s EMIT CHANGES")->kind, StatementKind::kSelect);
}

TEST(ParserTest, MalformedPauseAndResumeAreSyntaxErrors) {
  for (const char* sql : {"PAUSE;", "PAUSE", "RESUME;", "PAUSE ALL q", "RESUME q1 q2",
                          "PAUSE QUERY q1", "PAUSE 'q1'"}) {
    auto parsed = ParseScript(sql);
    ASSERT_FALSE(parsed.ok()) << sql;
    EXPECT_EQ(parsed.status().code(), StatusCode::kSyntaxError) << parsed.status().ToString();
    EXPECT_EQ(parsed.status().location().line, 1) << sql;
  }
  auto empty = ParseScript("PAUSE;");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().location().column, 6) << empty.status().ToString();
}

TEST(ParserTest, ExplainTerminateSetUnset) {
  auto explain = MustParse("EXPLAIN SELECT * FROM s EMIT CHANGES");
  EXPECT_EQ(explain->kind, StatementKind::kExplain);
  ASSERT_NE(explain->explained, nullptr);
  EXPECT_EQ(explain->explained->kind, StatementKind::kSelect);
  EXPECT_EQ(explain->explained->text, "SELECT * FROM s EMIT CHANGES");
  EXPECT_EQ(MustParse("EXPLAIN CSAS_OUT_0")->query_id, "CSAS_OUT_0");

  auto terminate = MustParse("TERMINATE ctas_totals_3");
  EXPECT_EQ(terminate->kind, StatementKind::kTerminate);
  EXPECT_EQ(terminate->query_id, "CTAS_TOTALS_3");
  EXPECT_FALSE(terminate->all_queries);
  EXPECT_TRUE(MustParse("TERMINATE ALL")->all_queries);

  auto set = MustParse("SET 'auto.offset.reset' = 'earliest'");
  EXPECT_EQ(set->kind, StatementKind::kSet);
  EXPECT_EQ(set->property_name, "auto.offset.reset");
  EXPECT_EQ(set->property_value, "earliest");
  auto unset = MustParse("UNSET 'auto.offset.reset'");
  EXPECT_EQ(unset->kind, StatementKind::kUnset);
  EXPECT_EQ(unset->property_name, "auto.offset.reset");
}

// ---------------------------------------------------------------- queries

TEST(ParserTest, SelectClauses) {
  auto s = MustParse(
      "SELECT c.caller AS who, cell, COUNT(*) cnt, c.* FROM cdr c "
      "WINDOW TUMBLING (SIZE 1 MINUTE, RETENTION 2 DAYS, GRACE PERIOD 10 SECONDS) "
      "WHERE duration > 0 GROUP BY c.caller, cell HAVING COUNT(*) > 2 EMIT FINAL LIMIT 10;");
  EXPECT_EQ(s->kind, StatementKind::kSelect);
  const Query& q = *s->query;
  ASSERT_EQ(q.select.size(), 4u);
  EXPECT_EQ(q.select[0].alias, "WHO");
  EXPECT_EQ(q.select[0].expression->qualifier, "C");
  EXPECT_EQ(q.select[0].expression->name, "CALLER");
  EXPECT_EQ(q.select[2].alias, "CNT");
  EXPECT_TRUE(q.select[3].star);
  EXPECT_EQ(q.select[3].star_qualifier, "C");
  EXPECT_EQ(q.from.name, "CDR");
  EXPECT_EQ(q.from.alias, "C");
  ASSERT_TRUE(q.window.has_value());
  EXPECT_EQ(q.window->kind, WindowKind::kTumbling);
  EXPECT_EQ(q.window->size_ms, 60000);
  EXPECT_EQ(q.window->retention_ms, 2 * 86400000LL);
  EXPECT_EQ(q.window->grace_ms, 10000);
  EXPECT_FALSE(q.window->advance_ms.has_value());
  ASSERT_NE(q.where, nullptr);
  EXPECT_EQ(q.where->ToSql(), "(DURATION > 0)");
  EXPECT_EQ(q.group_by.size(), 2u);
  ASSERT_NE(q.having, nullptr);
  EXPECT_EQ(q.emit, EmitMode::kFinal);
  EXPECT_EQ(q.limit, 10);
  EXPECT_TRUE(q.partition_by.empty());
}

// A negative LIMIT parses (as in ksqlDB's grammar): a pull query refuses it later with
// ksqlDB's message, which needs the value.
TEST(ParserTest, NegativeLimitParses) {
  auto s = MustParse("SELECT * FROM cdr LIMIT -1;");
  EXPECT_EQ(s->query->limit, -1);
}

TEST(ParserTest, Windows) {
  auto hopping = MustParse(
      "SELECT k, COUNT(*) FROM s WINDOW HOPPING (SIZE 30 SECONDS, ADVANCE BY 10 SECONDS) GROUP BY "
      "k");
  EXPECT_EQ(hopping->query->window->kind, WindowKind::kHopping);
  EXPECT_EQ(hopping->query->window->size_ms, 30000);
  EXPECT_EQ(hopping->query->window->advance_ms, 10000);
  auto session = MustParse(
      "SELECT k, COUNT(*) FROM s WINDOW SESSION (5 MINUTES, GRACE PERIOD 1 HOUR) GROUP BY k");
  EXPECT_EQ(session->query->window->kind, WindowKind::kSession);
  EXPECT_EQ(session->query->window->size_ms, 300000);
  EXPECT_EQ(session->query->window->grace_ms, 3600000);
  auto named = MustParse("SELECT k FROM s WINDOW w TUMBLING (SIZE 1 MILLISECOND) GROUP BY k");
  EXPECT_EQ(named->query->window->size_ms, 1);
  // Sidestream also accepts WINDOW after WHERE.
  auto late = MustParse("SELECT k FROM s WHERE k > 1 WINDOW TUMBLING (SIZE 1 DAY) GROUP BY k");
  EXPECT_EQ(late->query->window->size_ms, 86400000);
  const std::pair<const char*, int64_t> units[] = {
      {"1 MILLISECOND", 1}, {"2 MILLISECONDS", 2}, {"1 SECOND", 1000},  {"3 seconds", 3000},
      {"1 MINUTE", 60000},  {"2 MINUTES", 120000}, {"1 HOUR", 3600000}, {"2 HOURS", 7200000},
      {"1 DAY", 86400000},  {"2 DAYS", 172800000}, {"0 SECONDS", 0}};
  for (const auto& [text, ms] : units) {
    auto s = MustParse(std::string("SELECT * FROM a JOIN b WITHIN ") + text + " ON a.k = b.k");
    EXPECT_EQ(s->query->joins[0].within_before_ms, ms) << text;
  }
}

TEST(ParserTest, Joins) {
  auto s = MustParse(
      "SELECT * FROM a "
      "JOIN b WITHIN 10 SECONDS ON a.id = b.id "
      "LEFT JOIN c AS cc WITHIN (1 MINUTE, 2 MINUTES) GRACE PERIOD 30 SECONDS ON a.id = cc.id "
      "LEFT OUTER JOIN d ON a.x = d.x AND a.y > d.y "
      "RIGHT JOIN e ON a.id = e.id "
      "FULL OUTER JOIN f ON a.id = f.id "
      "INNER JOIN g ON a.id = g.id "
      "FULL JOIN h ON a.id = h.id "
      "RIGHT OUTER JOIN i ON a.id = i.id");
  const auto& joins = s->query->joins;
  ASSERT_EQ(joins.size(), 8u);
  EXPECT_EQ(joins[0].type, JoinType::kInner);
  EXPECT_EQ(joins[0].within_before_ms, 10000);
  EXPECT_EQ(joins[0].within_after_ms, 10000);
  EXPECT_FALSE(joins[0].grace_ms.has_value());
  EXPECT_EQ(joins[1].type, JoinType::kLeft);
  EXPECT_EQ(joins[1].right.name, "C");
  EXPECT_EQ(joins[1].right.alias, "CC");
  EXPECT_EQ(joins[1].within_before_ms, 60000);
  EXPECT_EQ(joins[1].within_after_ms, 120000);
  EXPECT_EQ(joins[1].grace_ms, 30000);
  EXPECT_EQ(joins[2].type, JoinType::kLeft);
  EXPECT_FALSE(joins[2].within_before_ms.has_value());
  EXPECT_EQ(joins[2].condition->ToSql(), "((A.X = D.X) AND (A.Y > D.Y))");
  EXPECT_EQ(joins[3].type, JoinType::kRight);
  EXPECT_EQ(joins[4].type, JoinType::kFull);
  EXPECT_EQ(joins[5].type, JoinType::kInner);
  EXPECT_EQ(joins[6].type, JoinType::kFull);
  EXPECT_EQ(joins[7].type, JoinType::kRight);
}

TEST(ParserTest, PartitionByAndGroupByForms) {
  auto s = MustParse("SELECT * FROM s PARTITION BY a, b->c");
  EXPECT_EQ(s->query->partition_by.size(), 2u);
  auto grouped = MustParse("SELECT a, b, COUNT(*) FROM s GROUP BY (a, b)");
  EXPECT_EQ(grouped->query->group_by.size(), 2u);
  auto single = MustParse("SELECT a FROM s GROUP BY (a)");
  EXPECT_EQ(single->query->group_by.size(), 1u);
}

// ---------------------------------------------------------------- expressions

TEST(ParserTest, Precedence) {
  EXPECT_EQ(ExpressionSql("a OR b AND c"), "(A OR (B AND C))");
  EXPECT_EQ(ExpressionSql("a AND b OR c"), "((A AND B) OR C)");
  EXPECT_EQ(ExpressionSql("NOT a AND b"), "((NOT A) AND B)");
  EXPECT_EQ(ExpressionSql("NOT a = b"), "(NOT (A = B))");
  EXPECT_EQ(ExpressionSql("a = 1 OR NOT b IS NULL"), "((A = 1) OR (NOT (B IS NULL)))");
  EXPECT_EQ(ExpressionSql("a + b * c"), "(A + (B * C))");
  EXPECT_EQ(ExpressionSql("(a + b) * c"), "((A + B) * C)");
  EXPECT_EQ(ExpressionSql("a - b - c"), "((A - B) - C)");
  EXPECT_EQ(ExpressionSql("a / b % c"), "((A / B) % C)");
  EXPECT_EQ(ExpressionSql("a || b + c"), "((A || B) + C)");
  EXPECT_EQ(ExpressionSql("-a * b"), "(-A * B)");
  EXPECT_EQ(ExpressionSql("-a[1]"), "-A[1]");
  EXPECT_EQ(ExpressionSql("a + b > c * 2"), "((A + B) > (C * 2))");
  EXPECT_EQ(ExpressionSql("a->b->c[0]"), "A->B->C[0]");
  EXPECT_EQ(ExpressionSql("a BETWEEN 1 AND 2 AND b"), "((A BETWEEN 1 AND 2) AND B)");
  EXPECT_EQ(ExpressionSql("a != b"), "(A <> B)");
  EXPECT_EQ(ExpressionSql("a <> b"), "(A <> B)");
  EXPECT_EQ(ExpressionSql("a <= b"), "(A <= B)");
  EXPECT_EQ(ExpressionSql("a >= b"), "(A >= B)");
  EXPECT_EQ(ExpressionSql("- -a"), "-(-A)");
}

TEST(ParserTest, Predicates) {
  auto like = MustParseExpression("name NOT LIKE 'a%' ESCAPE '\\'");
  EXPECT_EQ(like->kind, ExpressionKind::kLike);
  EXPECT_TRUE(like->negated);
  EXPECT_EQ(like->children.size(), 3u);
  auto between = MustParseExpression("x NOT BETWEEN 1 AND 10");
  EXPECT_EQ(between->kind, ExpressionKind::kBetween);
  EXPECT_TRUE(between->negated);
  auto in = MustParseExpression("x IN (1, 2, 3)");
  EXPECT_EQ(in->kind, ExpressionKind::kInList);
  EXPECT_FALSE(in->negated);
  EXPECT_EQ(in->children.size(), 4u);
  auto is_null = MustParseExpression("x IS NOT NULL");
  EXPECT_EQ(is_null->kind, ExpressionKind::kIsNull);
  EXPECT_TRUE(is_null->negated);
  auto distinct = MustParseExpression("x IS NOT DISTINCT FROM y");
  EXPECT_EQ(distinct->kind, ExpressionKind::kIsDistinctFrom);
  EXPECT_TRUE(distinct->negated);
  EXPECT_EQ(ExpressionSql("x IS DISTINCT FROM y"), "(X IS DISTINCT FROM Y)");
  EXPECT_EQ(ExpressionSql("x NOT IN (1, 2)"), "(X NOT IN (1, 2))");
}

TEST(ParserTest, PrimaryExpressions) {
  auto call = MustParseExpression("substring(name, 1, 3)");
  EXPECT_EQ(call->kind, ExpressionKind::kFunctionCall);
  EXPECT_EQ(call->name, "SUBSTRING");
  EXPECT_EQ(call->children.size(), 3u);
  auto star = MustParseExpression("count(*)");
  EXPECT_TRUE(star->star);
  EXPECT_TRUE(star->children.empty());
  auto empty = MustParseExpression("COUNT()");
  EXPECT_FALSE(empty->star);
  EXPECT_TRUE(empty->children.empty());

  auto searched = MustParseExpression("CASE WHEN a > 1 THEN 'x' WHEN a > 0 THEN 'y' ELSE 'z' END");
  EXPECT_EQ(searched->kind, ExpressionKind::kCase);
  EXPECT_FALSE(searched->has_operand);
  EXPECT_EQ(searched->children.size(), 5u);
  auto simple = MustParseExpression("CASE a WHEN 1 THEN 'one' END");
  EXPECT_TRUE(simple->has_operand);
  EXPECT_EQ(simple->children.size(), 3u);

  auto cast = MustParseExpression("CAST(a AS DECIMAL(5, 2))");
  EXPECT_EQ(cast->kind, ExpressionKind::kCast);
  EXPECT_EQ(cast->cast_type, types::SqlType::Decimal(5, 2));
  auto custom = MustParseExpression("CAST(a AS address)");
  EXPECT_EQ(custom->cast_custom_type, "ADDRESS");

  auto array = MustParseExpression("ARRAY[1, 2, 3]");
  EXPECT_EQ(array->kind, ExpressionKind::kArray);
  EXPECT_EQ(array->children.size(), 3u);
  auto map = MustParseExpression("MAP('a' := 1, 'b' := 2)");
  EXPECT_EQ(map->kind, ExpressionKind::kMap);
  EXPECT_EQ(map->children.size(), 4u);
  auto structure = MustParseExpression("STRUCT(f1 := 1, `f2` := 'x')");
  EXPECT_EQ(structure->kind, ExpressionKind::kStruct);
  EXPECT_EQ(structure->field_names, (std::vector<std::string>{"F1", "f2"}));

  auto lambda = MustParseExpression("TRANSFORM(arr, x => x + 1)");
  ASSERT_EQ(lambda->children.size(), 2u);
  EXPECT_EQ(lambda->children[1]->kind, ExpressionKind::kLambda);
  EXPECT_EQ(lambda->children[1]->field_names, std::vector<std::string>{"X"});
  auto lambda2 = MustParseExpression("REDUCE(arr, 0, (s, x) => s + x)");
  EXPECT_EQ(lambda2->children[2]->field_names, (std::vector<std::string>{"S", "X"}));
  EXPECT_EQ(lambda2->ToSql(), "REDUCE(ARR, 0, (S, X) => (S + X))");

  auto subscript = MustParseExpression("arr[1]");
  EXPECT_EQ(subscript->kind, ExpressionKind::kSubscript);
  auto deref = MustParseExpression("s.address->city");
  EXPECT_EQ(deref->kind, ExpressionKind::kDereference);
  EXPECT_EQ(deref->name, "CITY");
  EXPECT_EQ(deref->children[0]->qualifier, "S");

  auto interval = MustParseExpression("INTERVAL '5' SECOND");
  EXPECT_EQ(interval->kind, ExpressionKind::kInterval);
  EXPECT_EQ(interval->literal.integer_value, 5000);
}

TEST(ParserTest, IdentifiersQuotingAndCase) {
  auto e = MustParseExpression("abc + `MiXed` + \"Dq\"\"x\" + `b``q` + _u1");
  EXPECT_EQ(e->ToSql(), "((((ABC + `MiXed`) + `Dq\"x`) + `b``q`) + _U1)");
  EXPECT_EQ(e->children[0]->children[0]->children[0]->children[1]->name, "MiXed");
  // Non-reserved keywords are identifiers too.
  auto s = MustParse(
      "SELECT value, key, source, data, name, id, size, type, timestamp, date, time, "
      "window_start, interval, map, array, struct, topic, emit, set, show, partition, grace "
      "FROM `key` k WHERE key > 1");
  EXPECT_EQ(s->query->select.size(), 22u);
  EXPECT_EQ(s->query->select[0].expression->name, "VALUE");
  EXPECT_EQ(s->query->from.name, "key");
  EXPECT_EQ(s->query->from.alias, "K");
  auto columns = MustParse(
      "CREATE STREAM s (value STRING, key INT KEY, size INT, type STRING, data STRING, "
      "timestamp BIGINT, `select` INT) WITH (kafka_topic='s')");
  EXPECT_EQ(columns->columns[1].name, "KEY");
  EXPECT_EQ(columns->columns[1].constraint, ColumnConstraint::kKey);
  EXPECT_EQ(columns->columns[6].name, "select");
  // A column named like a reserved word round-trips through backquotes.
  EXPECT_EQ(ExpressionSql("`FROM` + 1"), "(`FROM` + 1)");
  auto digits = MustParse("SELECT ROUND(v, -1) AS 1R FROM s");
  EXPECT_EQ(digits->query->select[0].alias, "1R");
}

TEST(ParserTest, Literals) {
  auto integer = MustParseExpression("42");
  EXPECT_EQ(integer->literal.kind, LiteralKind::kInteger);
  EXPECT_EQ(integer->literal.integer_value, 42);
  auto big = MustParseExpression("9223372036854775807");
  EXPECT_EQ(big->literal.kind, LiteralKind::kInteger);
  EXPECT_EQ(big->literal.integer_value, INT64_MAX);
  auto min = MustParseExpression("-9223372036854775808");
  EXPECT_EQ(min->literal.integer_value, INT64_MIN);
  EXPECT_EQ(min->literal.text, "-9223372036854775808");
  auto decimal = MustParseExpression("1.50");
  EXPECT_EQ(decimal->literal.kind, LiteralKind::kDecimal);
  EXPECT_EQ(decimal->literal.text, "1.50");
  EXPECT_EQ(MustParseExpression(".5")->literal.kind, LiteralKind::kDecimal);
  auto exponent = MustParseExpression("1e3");
  EXPECT_EQ(exponent->literal.kind, LiteralKind::kDouble);
  EXPECT_DOUBLE_EQ(exponent->literal.double_value, 1000.0);
  auto negative_exponent = MustParseExpression("-1.5E-3");
  EXPECT_EQ(negative_exponent->literal.kind, LiteralKind::kDouble);
  EXPECT_DOUBLE_EQ(negative_exponent->literal.double_value, -0.0015);
  auto text = MustParseExpression("'it''s'");
  EXPECT_EQ(text->literal.kind, LiteralKind::kString);
  EXPECT_EQ(text->literal.text, "it's");
  EXPECT_EQ(text->ToSql(), "'it''s'");
  EXPECT_EQ(MustParseExpression("''")->literal.text, "");
  EXPECT_EQ(MustParseExpression("TRUE")->literal.boolean_value, true);
  EXPECT_EQ(MustParseExpression("false")->literal.kind, LiteralKind::kBoolean);
  EXPECT_EQ(MustParseExpression("null")->literal.kind, LiteralKind::kNull);
  auto multi_line = MustParseExpression("'a\nb'");
  EXPECT_EQ(multi_line->literal.text, "a\nb");
}

TEST(ParserTest, CommentsAndScripts) {
  auto script = ParseScript(
      "-- a leading comment\n"
      "CREATE STREAM s (a INT) WITH (kafka_topic='s'); /* block\n comment */\n"
      ";;\n"
      "SELECT a -- trailing\n FROM s;\n"
      "  SHOW STREAMS");
  ASSERT_TRUE(script.ok()) << script.status().ToString();
  ASSERT_EQ(script->size(), 3u);
  EXPECT_EQ((*script)[0]->kind, StatementKind::kCreateSource);
  EXPECT_EQ((*script)[1]->kind, StatementKind::kSelect);
  EXPECT_EQ((*script)[1]->location.line, 5);
  EXPECT_EQ((*script)[1]->location.column, 1);
  EXPECT_EQ((*script)[1]->text, "SELECT a -- trailing\n FROM s");
  EXPECT_EQ((*script)[2]->location.line, 7);
  EXPECT_EQ((*script)[2]->location.column, 3);
  EXPECT_EQ((*script)[2]->text, "SHOW STREAMS");

  auto empty = ParseScript("  -- nothing\n");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_EQ(ParseStatement("").status().code(), StatusCode::kSyntaxError);
  auto two = ParseStatement("SHOW STREAMS; SHOW TABLES");
  EXPECT_EQ(two.status().code(), StatusCode::kSyntaxError);
  EXPECT_EQ(two.status().location().column, 15);
}

TEST(ParserTest, ExpressionLocationsAndText) {
  auto s = MustParse("SELECT\n  a + 1 AS x,\n  UPPER(name)\nFROM s");
  const auto& first = s->query->select[0].expression;
  EXPECT_EQ(first->location.line, 2);
  EXPECT_EQ(first->location.column, 3);
  EXPECT_EQ(first->text, "a + 1");
  EXPECT_EQ(s->query->select[1].expression->text, "UPPER(name)");
  EXPECT_EQ(s->query->select[1].location.line, 3);
}

TEST(ParserTest, NonAsciiText) {
  auto s = MustParse(
      "SELECT 'h\u00e9llo \u4e16\u754c' AS greeting, `caf\u00e9` FROM s WHERE x = '\u00fc'");
  EXPECT_EQ(s->query->select[0].expression->literal.text, "h\u00e9llo \u4e16\u754c");
  EXPECT_EQ(s->query->select[0].expression->text, "'h\u00e9llo \u4e16\u754c'");
  EXPECT_EQ(s->query->select[1].expression->name, "caf\u00e9");
  EXPECT_EQ(s->query->select[1].expression->location.column, 32);  // counted in characters
  EXPECT_EQ(s->query->where->text, "x = '\u00fc'");
  EXPECT_EQ(s->text,
            "SELECT 'h\u00e9llo \u4e16\u754c' AS greeting, `caf\u00e9` FROM s WHERE x = '\u00fc'");
}

TEST(ParserTest, ToSqlRoundTrips) {
  const char* expressions[] = {
      "a + 1",
      "NOT (a = 1 OR b <> 2) AND c",
      "CASE WHEN x > 1 THEN 'big' ELSE 'small' END",
      "CASE x WHEN 1 THEN 'one' WHEN 2 THEN 'two' END",
      "CAST(a AS ARRAY<MAP<STRING, DECIMAL(4, 2)>>)",
      "CAST(a AS STRUCT<`x` INT, y STRING>)",
      "ARRAY[1, 2.5, 1e3, -4]",
      "MAP('k' := ARRAY['v'])",
      "STRUCT(a := 1, `b c` := 'x')",
      "TRANSFORM(m, (k, v) => UCASE(k), (k, v) => v + 1)",
      "FILTER(arr, x => x IS NOT NULL)",
      "a->b[1]->c",
      "s.col LIKE 'x%' ESCAPE '!'",
      "x NOT BETWEEN -1 AND 1",
      "y IN ('a', 'b''c')",
      "COUNT(*) + COUNT() + MAX(x)",
      "'multi''quote' || `Quoted Col` || \"select\"",
      "- (a - -1)",
      "-(-a)",
      "x IS NOT DISTINCT FROM NULL",
  };
  for (const char* sql : expressions) {
    auto first = MustParseExpression(sql);
    const std::string canonical = first->ToSql();
    auto second = ParseExpression(canonical);
    ASSERT_TRUE(second.ok()) << sql << " -> " << canonical << "\n" << second.status().ToString();
    EXPECT_EQ((*second)->ToSql(), canonical) << sql;
  }
}

TEST(ParserTest, Clone) {
  auto original = MustParseExpression("CASE WHEN a->b[1] > 2 THEN CAST(x AS DECIMAL(3, 1)) END");
  auto copy = original->Clone();
  EXPECT_EQ(copy->ToSql(), original->ToSql());
  EXPECT_EQ(copy->text, original->text);
  EXPECT_EQ(copy->location.column, original->location.column);
  ASSERT_EQ(copy->children.size(), original->children.size());
  EXPECT_NE(copy->children[0].get(), original->children[0].get());
  copy->children[0]->name = "changed";
  EXPECT_NE(copy->ToSql(), original->ToSql());
  EXPECT_EQ(copy->children[1]->cast_type, types::SqlType::Decimal(3, 1));
}

// ---------------------------------------------------------------- errors

struct ErrorCase {
  const char* sql;
  StatusCode code;
  int line;
  int column;
  const char* message;  // a substring of the message, e.g. the offending text
  const char* hint;     // a substring of the hint; "" when none is expected
};

class ParserErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParserErrorTest, ReportsOneLocatedError) {
  const ErrorCase& c = GetParam();
  auto result = ParseScript(c.sql);
  ASSERT_FALSE(result.ok()) << c.sql;
  const Status& status = result.status();
  EXPECT_EQ(status.code(), c.code) << status.ToString();
  EXPECT_EQ(status.location().line, c.line) << status.ToString();
  EXPECT_EQ(status.location().column, c.column) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(c.message));
  if (std::string(c.hint).empty()) {
    EXPECT_EQ(status.hint(), "") << status.ToString();
  } else {
    EXPECT_THAT(status.hint(), HasSubstr(c.hint));
  }
}

constexpr StatusCode kSyntax = StatusCode::kSyntaxError;

INSTANTIATE_TEST_SUITE_P(
    Errors, ParserErrorTest,
    ::testing::Values(
        ErrorCase{"SELECT * FORM s", kSyntax, 1, 10, "at or near 'FORM'", "did you mean FROM?"},
        ErrorCase{"SELECT id, name FORM s", kSyntax, 1, 17, "at or near 'FORM'",
                  "did you mean FROM?"},
        ErrorCase{"SELECT * FROM s WHRE x = 1", kSyntax, 1, 17, "'WHRE'", "did you mean WHERE?"},
        ErrorCase{"SELEC * FROM s", kSyntax, 1, 1, "'SELEC'", "did you mean SELECT?"},
        ErrorCase{"CREATE STREM s (a INT)", kSyntax, 1, 8, "'STREM'", "did you mean STREAM?"},
        ErrorCase{"SELECT * FROM s GRUP BY a", kSyntax, 1, 17, "'GRUP'", "did you mean GROUP?"},
        ErrorCase{"SELECT * FROM s LIMT 5", kSyntax, 1, 17, "'LIMT'", "did you mean LIMIT?"},
        ErrorCase{"SELECT * FROM s EMIT CHANGS", kSyntax, 1, 22, "'CHANGS'",
                  "did you mean CHANGES?"},
        ErrorCase{"SHOW STREAM", kSyntax, 1, 6, "'STREAM'", "did you mean STREAMS?"},
        ErrorCase{"SELECT * FROM s WHERE name = 'abc", kSyntax, 1, 30,
                  "Unterminated string literal", "close the string"},
        ErrorCase{"SELECT `abc FROM s", kSyntax, 1, 8, "Unterminated quoted identifier", "quote"},
        ErrorCase{"SELECT * FROM s /* open", kSyntax, 1, 17, "Unterminated comment", "*/"},
        ErrorCase{"SELECT COUNT(a FROM s", kSyntax, 1, 16, "at or near 'FROM'", "')'"},
        ErrorCase{"SELECT * FROM s WHERE (a = 1", kSyntax, 1, 29, "at end of input",
                  "expected ')'"},
        ErrorCase{"CREATE STREAM s (a INT WITH (kafka_topic='t')", kSyntax, 1, 24, "'WITH'", "')'"},
        ErrorCase{"INSERT INTO s VALUES (1, 2;", kSyntax, 1, 27, "';'", "')'"},
        ErrorCase{"SELECT ARRAY[1, 2 FROM s", kSyntax, 1, 19, "'FROM'", "']'"},
        ErrorCase{"SELECT * FROM s GROUP a", kSyntax, 1, 23, "'a'", "expected BY"},
        ErrorCase{"SELECT * FROM", kSyntax, 1, 14, "at end of input", "identifier"},
        ErrorCase{"SELECT a + FROM s", kSyntax, 1, 12, "'FROM'", "expression after '+'"},
        ErrorCase{"SELECT a FROM s;\n\n  SELECT b FORM t;", kSyntax, 3, 12, "'FORM'",
                  "did you mean FROM?"},
        ErrorCase{"SELECT * FROM s WHERE a = #", kSyntax, 1, 27, "'#'", "unexpected character"},
        ErrorCase{"SELECT * FROM a JOIN b WITHIN 10 SECONDS a.id = b.id", kSyntax, 1, 42, "'a'",
                  "expected ON"},
        ErrorCase{"SET 'a' 'b'", kSyntax, 1, 9, "''b''", "expected '='"},
        ErrorCase{"PAUSE;", kSyntax, 1, 6, "at or near ';'", "expected ALL or an identifier"},
        ErrorCase{"RESUME", kSyntax, 1, 7, "at end of input", "expected ALL or an identifier"},
        ErrorCase{"SELECT CASE WHEN a THEN 1 FROM s", kSyntax, 1, 27, "'FROM'", "END"},
        ErrorCase{"SELECT * FROM s WINDOW TUMBLING (SIZE 30 bobs) GROUP BY a", kSyntax, 1, 42,
                  "Unknown time unit 'bobs'", "SECONDS"},
        ErrorCase{"SELECT * FROM s WINDOW TUMBLING (SIZE 30 SECOND) GROUP BY a LIMIT 1;\n"
                  "SELECT * FROM s WINDOW TUMBLING (SIZE 3 SECONDZ) GROUP BY a",
                  kSyntax, 2, 41, "Unknown time unit 'SECONDZ'", "did you mean SECONDS?"},
        ErrorCase{"SELECT * FROM s WINDOW HOPPING (SIZE 30 SECONDS) GROUP BY a", kSyntax, 1, 48,
                  "HOPPING window needs ADVANCE BY", "ADVANCE BY"},
        ErrorCase{"SELECT * FROM s WINDOW TUMBLNG (SIZE 30 SECONDS) GROUP BY a", kSyntax, 1, 24,
                  "Unknown window type 'TUMBLNG'", "did you mean TUMBLING?"},
        ErrorCase{"SELECT * FROM s WINDOW TUMBLING (SIZE 1 SECOND, ADVANCE BY 1 SECOND)", kSyntax,
                  1, 49, "ADVANCE BY is not an option of a TUMBLING window", "TUMBLING (SIZE"},
        ErrorCase{"SELECT * FROM s WINDOW SESSION (SIZE 1 SECOND)", kSyntax, 1, 33,
                  "SIZE is not an option of a SESSION window", "SESSION ("},
        ErrorCase{"SELECT * FROM s WINDOW TUMBLING (SIZE 1 SECOND, SIZE 2 SECONDS)", kSyntax, 1, 49,
                  "SIZE is given twice", ""},
        ErrorCase{"CREATE STREAM s (a INT) WITH (kafka_topic='t', KAFKA_TOPIC='u')",
                  StatusCode::kInvalidArgument, 1, 48, "Duplicate property 'KAFKA_TOPIC'", "once"},
        ErrorCase{"CREATE TABLE t (k INT PRIMARY KEY) WITH (kafka_topic='t', "
                  "window_type='Hopping', window_size='30 bobs')",
                  StatusCode::kInvalidArgument, 1, 82, "Invalid duration '30 bobs'", "bobs"},
        ErrorCase{"CREATE STREAM s (a INT, a STRING)", kSyntax, 1, 25, "Duplicate column 'A'", ""},
        ErrorCase{"SELECT * FROM s MATCH_RECOGNIZE (PATTERN (A B))", kSyntax, 1, 47,
                  "Syntax error at or near ')'", "expected WITHIN or DEFINE"},
        ErrorCase{"SELECT * FROM s MATCH_RECOGNIZE (ORDER BY ROWTIME ALL ROWS PER MATCH "
                  "PATTERN (A B) DEFINE A AS x > 1)",
                  StatusCode::kNotSupported, 1, 51, "ALL ROWS PER MATCH is not supported", "ONE"},
        ErrorCase{"SELECT * FROM s MATCH_RECOGNIZE (ORDER BY ROWTIME PATTERN (A{2,1}) "
                  "DEFINE A AS x > 1)",
                  kSyntax, 1, 61, "Quantifier {2,1} matches no rows", "upper bound"},
        ErrorCase{"SELECT 99999999999999999999 FROM s", kSyntax, 1, 8,
                  "Integer literal out of range", "DECIMAL"},
        ErrorCase{"SELECT 1.8E308 FROM s", kSyntax, 1, 8, "overflows DOUBLE", ""},
        ErrorCase{"CREATE STREAM s (ts BIGINT, WATERMARK FOR ts AS a - INTERVAL '5' SECOND)",
                  kSyntax, 1, 49, "must be computed from TS", "WATERMARK FOR TS AS TS"},
        ErrorCase{"CREATE STREAM s (a INT, WATERMARK FOR ts AS ts)", kSyntax, 1, 25,
                  "WATERMARK column 'TS' is not defined", ""},
        ErrorCase{"SELECT CAST(a AS ARRAY<my_type>) FROM s", StatusCode::kNotSupported, 1, 24,
                  "CAST to custom type MY_TYPE is not supported yet", ""},
        ErrorCase{"SELECT CAST(a AS DECIMAL) FROM s", kSyntax, 1, 18, "DECIMAL needs a precision",
                  "DECIMAL(10, 2)"},
        ErrorCase{"SELECT * FROM s PARTITION BY ()", kSyntax, 1, 30,
                  "PARTITION BY requires at least one expression", ""},
        ErrorCase{"INSERT INTO s (a, b) VALUES (1)", kSyntax, 1, 29,
                  "Failed to prepare statement: Expected number columns and values to match: 2, 1",
                  ""},
        ErrorCase{"SELECT * FROM s WINDOW TUMBLING (SIZE 1 SECOND) WHERE a WINDOW TUMBLING "
                  "(SIZE 1 SECOND)",
                  kSyntax, 1, 64, "WINDOW is given twice", ""}));

TEST(ParserTest, ErrorToStringFormat) {
  auto result = ParseStatement("SELECT id, name FORM s");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().ToString(),
            "line 1:17: Syntax error at or near 'FORM' (hint: did you mean FROM?)");
}

TEST(ParserTest, NoCrashOnHostileInput) {
  EXPECT_FALSE(ParseStatement(std::string(5000, '(')).ok());
  EXPECT_FALSE(
      ParseStatement("SELECT " + std::string(5000, '(') + "1" + std::string(5000, ')') + " FROM s")
          .ok());
  EXPECT_FALSE(ParseStatement("\xff\xfe SELECT").ok());
  EXPECT_FALSE(ParseStatement(std::string("SELECT \0 FROM s", 15)).ok());
  EXPECT_FALSE(ParseExpression("a +").ok());
  EXPECT_FALSE(ParseExpression("a b").ok());
  // A long AND chain is fine.
  std::string chain = "a = 0";
  for (int i = 1; i < 500; ++i) chain += " AND a = " + std::to_string(i);
  EXPECT_TRUE(ParseExpression(chain).ok());
}

TEST(SpellingTest, EditDistance) {
  EXPECT_EQ(EditDistance("FROM", "FROM"), 0);
  EXPECT_EQ(EditDistance("FORM", "FROM"), 1);  // a swap counts once
  EXPECT_EQ(EditDistance("WHRE", "WHERE"), 1);
  EXPECT_EQ(EditDistance("", "ABC"), 3);
  EXPECT_EQ(NearestName("form", {"SELECT", "FROM"}), "FROM");
  EXPECT_EQ(NearestName("zzzz", {"SELECT", "FROM"}), "");
  EXPECT_EQ(NearestName("ON", {"OR"}), "");  // too short to guess
}

// ---------------------------------------------------------------- speed

std::string TwoKilobyteSelect() {
  std::string sql = "SELECT c.caller AS caller_id, c.callee, ";
  int i = 0;
  while (sql.size() < 1700) {
    sql += "CASE WHEN c.duration_" + std::to_string(i) + " > " + std::to_string(i * 10) +
           " THEN UPPER(c.cell_" + std::to_string(i) + ") ELSE 'x' END AS f" + std::to_string(i) +
           ", ";
    ++i;
  }
  sql +=
      "COUNT(*) AS n FROM cdr c LEFT JOIN cells l ON c.cell = l.id "
      "WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 10 SECONDS) "
      "WHERE c.duration > 0 AND c.caller LIKE '33%' AND c.cost BETWEEN 1.5 AND 100 "
      "GROUP BY c.caller, c.callee HAVING COUNT(*) > 3 EMIT CHANGES;";
  return sql;
}

// Its speed is measured in bench/front_end_bench (timing does not belong in pass/fail tests
// on a shared machine); here, that a warm parser keeps parsing it.
TEST(ParserTest, TwoKilobyteSelectParsesRepeatedly) {
  const std::string sql = TwoKilobyteSelect();
  ASSERT_GE(sql.size(), 2000u);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(ParseStatement(sql).ok());
}

}  // namespace
}  // namespace sidestream::sql
