// Differential test of scalar expressions: random expressions over random rows, evaluated by
// the offline engine (a CSAS projection) and by SQLite, must agree. The generator only draws
// what both languages define alike, and the places where ksqlDB's documented rules differ
// from SQLite's are listed below and written into the SQLite side, so a mismatch is a bug.
//
// Rules where ksqlDB differs from SQLite, and how the SQLite side follows ksqlDB:
// 1. A comparison with a NULL side is false in ksqlDB, NULL in SQLite: SQLite's comparisons
//    are wrapped as COALESCE(a op b, 0).
// 2. INT arithmetic wraps at 32 bits in ksqlDB (Java ints), SQLite widens to 64 bits then
//    REAL: values and depth are kept small enough that nothing overflows.
// 3. Division by zero: only non-zero literals divide (ksqlDB raises an evaluation error and
//    the column becomes NULL; SQLite returns NULL; Java doubles give Infinity).
// 4. ksqlDB's LEN counts UTF-16 units, SQLite's LENGTH characters: strings are ASCII.
// 5. CONCAT in ksqlDB skips NULL arguments, SQLite's || yields NULL: CONCAT maps to
//    COALESCE(a, '') || COALESCE(b, '').
// 6. SUBSTRING(s, pos, len) with pos 0 or negative differs in corner cases between the two:
//    only positive positions are drawn, where both agree.
// 7. Booleans come out of SQLite as 0 and 1: compared as such.
// 8. A literal with a point (1.5) is a DECIMAL in ksqlDB, with its own scale rules for
//    division; SQLite has only doubles: DOUBLE literals are written with an exponent (1.5E0).
// 9. REPLACE(s, '', r) inserts r between every character in ksqlDB (Java's String.replace)
//    and returns s unchanged in SQLite: the search string is never empty.
//
// SIDESTREAM_EXPRESSION_SEEDS=N runs seeds 1..N (default 300); each seed draws 12
// expressions over 40 rows.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "host/offline_engine.h"

namespace sidestream::differential {
namespace {

using nlohmann::json;

constexpr int kDefaultSeeds = 300;
constexpr int kExpressionsPerSeed = 12;
constexpr int kRowsPerSeed = 40;

enum class Kind { kInteger, kDouble, kString, kBoolean };

/// One expression, spelt for each engine.
struct Expression {
  std::string engine, sqlite;
};

class ExpressionGenerator {
 public:
  explicit ExpressionGenerator(uint64_t seed) : random_(seed) {}

  Expression Draw(Kind kind, int depth) {
    switch (kind) {
      case Kind::kInteger:
        return Integer(depth);
      case Kind::kDouble:
        return Double(depth);
      case Kind::kString:
        return String(depth);
      case Kind::kBoolean:
        return Boolean(depth);
    }
    return {};
  }
  Kind AnyKind() { return static_cast<Kind>(Pick(4)); }

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }

  static Expression Binary(const Expression& a, const char* op, const Expression& b) {
    return {"(" + a.engine + " " + op + " " + b.engine + ")",
            "(" + a.sqlite + " " + op + " " + b.sqlite + ")"};
  }
  static Expression Call(const std::string& engine_name, const std::string& sqlite_name,
                         const std::vector<Expression>& arguments) {
    Expression call{engine_name + "(", sqlite_name + "("};
    for (size_t i = 0; i < arguments.size(); ++i) {
      call.engine += (i ? ", " : "") + arguments[i].engine;
      call.sqlite += (i ? ", " : "") + arguments[i].sqlite;
    }
    call.engine += ")";
    call.sqlite += ")";
    return call;
  }
  Expression Case(Kind kind, int depth) {
    Expression when = Boolean(depth - 1), then = Draw(kind, depth - 1),
               otherwise = Draw(kind, depth - 1);
    return {
        "CASE WHEN " + when.engine + " THEN " + then.engine + " ELSE " + otherwise.engine + " END",
        "CASE WHEN " + when.sqlite + " THEN " + then.sqlite + " ELSE " + otherwise.sqlite + " END"};
  }

  // Integers stay within +-100 per leaf and multiply only by literals within +-9, so three
  // levels stay far below 2^31 (rule 2).
  Expression Integer(int depth) {
    const int choice = depth <= 0 ? Pick(2) : Pick(11);
    switch (choice) {
      case 9:  // rule 4
        return Call("LEN", "LENGTH", {String(depth - 1)});
      case 10:
        return Call("COALESCE", "COALESCE", {Integer(depth - 1), Integer(depth - 1)});
      case 0: {
        const std::string literal = std::to_string(Pick(201) - 100);
        return {literal, literal};
      }
      case 1:
        return {"I", "I"};
      case 2:
        return Binary(Integer(depth - 1), "+", Integer(depth - 1));
      case 3:
        return Binary(Integer(depth - 1), "-", Integer(depth - 1));
      case 4: {  // one factor a small literal: nothing reaches 2^31 (rule 2)
        const std::string factor = std::to_string(Pick(19) - 9);
        return Binary(Integer(depth - 1), "*", {factor, factor});
      }
      case 5: {  // rule 3: a non-zero literal divisor; Java and SQLite truncate toward zero
        const std::string divisor = std::to_string((Pick(2) ? 1 : -1) * (1 + Pick(9)));
        const Expression dividend = Integer(depth - 1);
        return {"(" + dividend.engine + " / " + divisor + ")",
                "(" + dividend.sqlite + " / " + divisor + ")"};
      }
      case 6: {
        const std::string divisor = std::to_string(1 + Pick(9));
        const Expression dividend = Integer(depth - 1);
        return {"(" + dividend.engine + " % " + divisor + ")",
                "(" + dividend.sqlite + " % " + divisor + ")"};
      }
      case 7:
        return Call("ABS", "ABS", {Integer(depth - 1)});
      default:
        return Case(Kind::kInteger, depth);
    }
  }

  Expression Double(int depth) {
    const int choice = depth <= 0 ? Pick(2) : Pick(7);
    switch (choice) {
      case 0: {
        std::ostringstream literal;
        literal << (Pick(2001) - 1000) / 8.0;  // exact in binary, printed in full
        // rule 8: the exponent makes it a DOUBLE in ksqlDB (1.5 alone is a DECIMAL)
        const std::string text = literal.str() + "E0";
        return {text, text};
      }
      case 1:
        return {"D", "D"};
      case 2:
        return Binary(Double(depth - 1), "+", Double(depth - 1));
      case 3:
        return Binary(Double(depth - 1), "*", Integer(depth - 1));
      case 4: {
        const std::string divisor = std::to_string(1 + Pick(9)) + ".5E0";
        const Expression dividend = Double(depth - 1);
        return {"(" + dividend.engine + " / " + divisor + ")",
                "(" + dividend.sqlite + " / " + divisor + ")"};
      }
      case 5: {
        const Expression integer = Integer(depth - 1);
        return {"CAST(" + integer.engine + " AS DOUBLE)", "CAST(" + integer.sqlite + " AS REAL)"};
      }
      default:
        return Case(Kind::kDouble, depth);
    }
  }

  Expression String(int depth) {
    const int choice = depth <= 0 ? Pick(2) : Pick(9);
    switch (choice) {
      case 8: {  // rule 9: a non-empty search string
        static const char* kSearches[] = {"'a'", "'_'", "' '", "'Cell'", "'x'"};
        const std::string search = kSearches[Pick(5)];
        return Call("REPLACE", "REPLACE", {String(depth - 1), {search, search}, String(0)});
      }
      case 0: {
        static const char* kWords[] = {"", "a", "Cell", " x ", "MiXeD", "b_c"};
        const std::string literal = std::string("'") + kWords[Pick(6)] + "'";
        return {literal, literal};
      }
      case 1:
        return {"S", "S"};
      case 2:
        return Call("UCASE", "UPPER", {String(depth - 1)});
      case 3:
        return Call("LCASE", "LOWER", {String(depth - 1)});
      case 4:
        return Call("TRIM", "TRIM", {String(depth - 1)});
      case 5: {  // rule 6: positive positions only
        const Expression text = String(depth - 1);
        const std::string position = std::to_string(1 + Pick(4));
        const std::string length = std::to_string(Pick(5));
        return {"SUBSTRING(" + text.engine + ", " + position + ", " + length + ")",
                "SUBSTR(" + text.sqlite + ", " + position + ", " + length + ")"};
      }
      case 6: {  // rule 5
        const Expression a = String(depth - 1), b = String(depth - 1);
        return {"CONCAT(" + a.engine + ", " + b.engine + ")",
                "(COALESCE(" + a.sqlite + ", '') || COALESCE(" + b.sqlite + ", ''))"};
      }
      default:
        return Case(Kind::kString, depth);
    }
  }

  Expression Boolean(int depth) {
    const int choice = depth <= 0 ? 0 : Pick(6);
    switch (choice) {
      case 0:
      case 1: {  // rule 1
        static const char* kOperators[] = {"=", "<>", "<", "<=", ">", ">="};
        const char* op = kOperators[Pick(6)];
        const Kind kind = static_cast<Kind>(Pick(3));
        const Expression a = Draw(kind, depth - 1), b = Draw(kind, depth - 1);
        return {"(" + a.engine + " " + op + " " + b.engine + ")",
                "COALESCE(" + a.sqlite + " " + op + " " + b.sqlite + ", 0)"};
      }
      case 2:
        return Binary(Boolean(depth - 1), "AND", Boolean(depth - 1));
      case 3:
        return Binary(Boolean(depth - 1), "OR", Boolean(depth - 1));
      case 4: {
        const Expression inner = Boolean(depth - 1);
        return {"(NOT " + inner.engine + ")", "(NOT " + inner.sqlite + ")"};
      }
      default: {
        const Expression inner = Draw(static_cast<Kind>(Pick(3)), depth - 1);
        const char* test = Pick(2) ? " IS NULL" : " IS NOT NULL";
        return {"(" + inner.engine + test + ")", "(" + inner.sqlite + test + ")"};
      }
    }
  }

  std::mt19937_64 random_;
};

struct Row {
  json i, d, s;  // INT, DOUBLE, STRING; null when NULL
};

std::vector<Row> DrawRows(uint64_t seed) {
  std::mt19937_64 random(seed * 7919);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(random); };
  static const char* kTexts[] = {"", "alpha", "Beta", "  padded  ", "x_y", "ZZ", "mIxEd cAsE"};
  std::vector<Row> rows;
  for (int r = 0; r < kRowsPerSeed; ++r) {
    Row row;
    row.i = pick(6) == 0 ? json() : json(pick(201) - 100);
    row.d = pick(6) == 0 ? json() : json((pick(2001) - 1000) / 4.0);
    row.s = pick(6) == 0 ? json() : json(kTexts[pick(7)]);
    rows.push_back(row);
  }
  return rows;
}

std::string SqlLiteral(const json& value) {
  if (value.is_null()) return "NULL";
  if (value.is_string()) return "'" + value.get<std::string>() + "'";
  return value.dump();
}

/// Runs `expressions` over `rows` in SQLite; one json array per row (null for NULL).
std::vector<std::vector<json>> RunSqlite(const std::vector<Row>& rows,
                                         const std::vector<Expression>& expressions) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, sqlite3_close);
  std::string setup = "CREATE TABLE t (id INTEGER, I INTEGER, D REAL, S TEXT);";
  for (size_t r = 0; r < rows.size(); ++r) {
    setup += "INSERT INTO t VALUES (" + std::to_string(r) + ", " + SqlLiteral(rows[r].i) + ", " +
             SqlLiteral(rows[r].d) + ", " + SqlLiteral(rows[r].s) + ");";
  }
  EXPECT_EQ(sqlite3_exec(db.get(), setup.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  std::string select = "SELECT id";
  for (const Expression& expression : expressions) select += ", " + expression.sqlite;
  select += " FROM t ORDER BY id";
  sqlite3_stmt* statement = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db.get(), select.c_str(), -1, &statement, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db.get()) << "\n"
      << select;
  std::vector<std::vector<json>> results;
  while (statement != nullptr && sqlite3_step(statement) == SQLITE_ROW) {
    std::vector<json> values;
    for (size_t c = 1; c <= expressions.size(); ++c) {
      const int column = static_cast<int>(c);
      switch (sqlite3_column_type(statement, column)) {
        case SQLITE_INTEGER:
          values.emplace_back(sqlite3_column_int64(statement, column));
          break;
        case SQLITE_FLOAT:
          values.emplace_back(sqlite3_column_double(statement, column));
          break;
        case SQLITE_TEXT:
          values.emplace_back(
              reinterpret_cast<const char*>(sqlite3_column_text(statement, column)));
          break;
        default:
          values.emplace_back(nullptr);
      }
    }
    results.push_back(std::move(values));
  }
  sqlite3_finalize(statement);
  return results;
}

bool Agree(const json& engine, const json& sqlite) {
  if (engine.is_null() || sqlite.is_null()) return engine.is_null() && sqlite.is_null();
  if (engine.is_boolean()) return sqlite.is_number() && sqlite.get<double>() == (engine ? 1 : 0);
  if (engine.is_number() && sqlite.is_number()) {
    const double a = engine.get<double>(), b = sqlite.get<double>();
    return a == b || std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
  }
  return engine == sqlite;
}

int SeedCount() {
  const char* seeds = std::getenv("SIDESTREAM_EXPRESSION_SEEDS");
  return seeds != nullptr ? std::atoi(seeds) : kDefaultSeeds;
}

TEST(ExpressionDifferentialTest, ScalarExpressionsMatchSqlite) {
  int compared = 0;
  for (int seed = 1; seed <= SeedCount(); ++seed) {
    ExpressionGenerator generator(static_cast<uint64_t>(seed));
    std::vector<Expression> expressions;
    for (int e = 0; e < kExpressionsPerSeed; ++e) {
      expressions.push_back(generator.Draw(generator.AnyKind(), 1 + e % 3));
    }
    const std::vector<Row> rows = DrawRows(static_cast<uint64_t>(seed));

    auto engine = host::OfflineEngine::Create(1);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    std::string sql =
        "CREATE STREAM t (id INT KEY, I INT, D DOUBLE, S STRING) "
        "WITH (KAFKA_TOPIC='t', VALUE_FORMAT='JSON');\n"
        "CREATE STREAM out WITH (KAFKA_TOPIC='out') AS SELECT id";
    for (size_t e = 0; e < expressions.size(); ++e) {
      sql += ", " + expressions[e].engine + " AS E" + std::to_string(e);
    }
    sql += " FROM t;";
    auto executed = (*engine)->Execute(sql);
    ASSERT_TRUE(executed.ok()) << "seed " << seed << ": " << executed.status().ToString() << "\n"
                               << sql;
    for (size_t r = 0; r < rows.size(); ++r) {
      host::TestRecord record;
      record.topic = "t";
      record.key = static_cast<int>(r);
      record.value = {{"I", rows[r].i}, {"D", rows[r].d}, {"S", rows[r].s}};
      record.timestamp = static_cast<int64_t>(r);
      ASSERT_TRUE((*engine)->Produce(record).ok());
    }
    const std::vector<host::TestRecord> output = (*engine)->Output("out");
    const std::vector<std::vector<json>> expected = RunSqlite(rows, expressions);
    ASSERT_EQ(output.size(), expected.size()) << "seed " << seed;
    for (size_t r = 0; r < output.size(); ++r) {
      const size_t id = output[r].key.get<size_t>();
      ASSERT_LT(id, expected.size());
      for (size_t e = 0; e < expressions.size(); ++e) {
        const std::string column = "E" + std::to_string(e);
        const json actual = output[r].value.value(column, json());
        ASSERT_TRUE(Agree(actual, expected[id][e]))
            << "seed " << seed << ", row " << id << " (I=" << rows[id].i << ", D=" << rows[id].d
            << ", S=" << rows[id].s << ")\n  ksqlDB: " << expressions[e].engine
            << "\n  SQLite: " << expressions[e].sqlite << "\n  engine " << actual.dump()
            << ", SQLite " << expected[id][e].dump();
        ++compared;
      }
    }
  }
  std::cout << "[expressions] " << compared << " values compared over " << SeedCount()
            << " seeds\n";
}

}  // namespace
}  // namespace sidestream::differential
