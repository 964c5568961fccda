#include "query_generator.h"

#include <algorithm>

#include "cdr_stream_generator.h"

namespace sidestream::differential {

namespace {

int64_t Uniform(std::mt19937_64& random, int64_t low, int64_t high) {
  return std::uniform_int_distribution<int64_t>(low, high)(random);
}

bool Chance(std::mt19937_64& random, double probability) {
  return std::bernoulli_distribution(probability)(random);
}

template <typename T>
const T& Pick(std::mt19937_64& random, const std::vector<T>& choices) {
  return choices[Uniform(random, 0, static_cast<int64_t>(choices.size()) - 1)];
}

template <size_t N>
std::string PickName(std::mt19937_64& random, const std::array<const char*, N>& choices) {
  return choices[Uniform(random, 0, N - 1)];
}

std::string Literal(std::mt19937_64& random, const StreamColumn& column) {
  if (column.name == "caller") return "'" + PickName(random, kCallers) + "'";
  if (column.name == "cell") return "'" + PickName(random, kCells) + "'";
  if (column.name == "callee") return "'" + PickName(random, kCallees) + "'";
  if (column.name == "record_type") return "'" + PickName(random, kRecordTypes) + "'";
  if (column.name == "duration") return std::to_string(Uniform(random, 0, kMaxDuration));
  if (column.name == "bytes") return std::to_string(Uniform(random, 0, 5'000'000'000));
  if (column.name == "charge") {
    // Multiples of 0.25 sit on generated values; others fall between them.
    int64_t quarters = Uniform(random, 0, 40);
    return std::to_string(quarters / 4) + "." + std::to_string(quarters % 4 * 25);
  }
  return std::to_string(Uniform(random, 0, 200));  // cdr_id
}

const StreamColumn& AnyColumn(std::mt19937_64& random) { return Pick(random, CdrColumns()); }

// A predicate as each engine reads it.
struct Filter {
  std::string engine;
  std::string sqlite;
};

// In ksqlDB a comparison with a NULL side is false, where SQL's is NULL.
Filter Compared(const std::string& text) { return {text, "COALESCE(" + text + ", 0)"}; }

Filter Comparison(std::mt19937_64& random) {
  static const std::vector<std::string> kOperators = {"=", "<>", "!=", "<", "<=", ">", ">="};
  const StreamColumn& column = AnyColumn(random);
  std::string op = Pick(random, kOperators);
  if (Chance(random, 0.15)) {
    // Column against column of the same kind.
    std::vector<const StreamColumn*> peers;
    for (const StreamColumn& other : CdrColumns()) {
      bool numeric = other.kind != ValueKind::kString && column.kind != ValueKind::kString;
      if (&other != &column && (numeric || other.kind == column.kind)) peers.push_back(&other);
    }
    return Compared(column.name + " " + op + " " + Pick(random, peers)->name);
  }
  return Compared(column.name + " " + op + " " + Literal(random, column));
}

Filter Join(const std::string& op, const Filter& left, const Filter& right) {
  return {"(" + left.engine + ") " + op + " (" + right.engine + ")",
          "(" + left.sqlite + ") " + op + " (" + right.sqlite + ")"};
}

Filter Predicate(std::mt19937_64& random, int depth) {
  int64_t choice = Uniform(random, 0, depth > 0 ? 5 : 2);
  switch (choice) {
    case 0: {
      std::string text =
          AnyColumn(random).name + (Chance(random, 0.5) ? " IS NULL" : " IS NOT NULL");
      return {text, text};
    }
    case 1:
    case 2:
      return Comparison(random);
    case 3:
    case 4: {
      Filter left = Predicate(random, depth - 1);
      Filter right = Predicate(random, depth - 1);
      return Join(choice == 3 ? "AND" : "OR", left, right);
    }
    default: {
      Filter inner = Predicate(random, depth - 1);
      return {"NOT (" + inner.engine + ")", "NOT (" + inner.sqlite + ")"};
    }
  }
}

std::string DurationText(int64_t milliseconds) {
  if (milliseconds % 1000 == 0) return std::to_string(milliseconds / 1000) + " SECONDS";
  return std::to_string(milliseconds) + " MILLISECONDS";
}

}  // namespace

const std::vector<StreamColumn>& CdrColumns() {
  static const std::vector<StreamColumn> kColumns = {
      {"caller", ValueKind::kString, true}, {"cell", ValueKind::kString},
      {"callee", ValueKind::kString},       {"record_type", ValueKind::kString},
      {"duration", ValueKind::kInteger},    {"bytes", ValueKind::kInteger},
      {"charge", ValueKind::kDouble},       {"cdr_id", ValueKind::kInteger},
  };
  return kColumns;
}

std::string CdrStreamDdl() {
  return "CREATE STREAM cdr (caller STRING KEY, cell STRING, callee STRING, record_type STRING, "
         "duration INT, bytes BIGINT, charge DOUBLE, cdr_id BIGINT) "
         "WITH (KAFKA_TOPIC='cdr', KEY_FORMAT='JSON', VALUE_FORMAT='JSON');";
}

std::string WindowedQuery::EngineSql() const {
  std::string select;
  for (int item : projection) {
    if (!select.empty()) select += ", ";
    if (item >= 0) {
      select += group_by[item];
    } else {
      const AggregateTerm& term = aggregates[-1 - item];
      select +=
          term.function + "(" + (term.column.empty() ? "*" : term.column) + ") AS " + term.alias;
    }
  }
  std::string window_text =
      window == WindowKind::kTumbling
          ? "TUMBLING (SIZE " + DurationText(size_ms)
          : "HOPPING (SIZE " + DurationText(size_ms) + ", ADVANCE BY " + DurationText(advance_ms);
  window_text += ", GRACE PERIOD " + DurationText(grace_ms) + ")";
  std::string group_text;
  for (const std::string& column : group_by) {
    group_text += (group_text.empty() ? "" : ", ") + column;
  }
  return std::string("CREATE TABLE ") + kSinkTopic + " WITH (LATE_TOPIC='" + kLateTopic +
         "') AS\n  SELECT " + select + "\n  FROM cdr\n  WINDOW " + window_text +
         (filter.empty() ? "" : "\n  WHERE " + filter) + "\n  GROUP BY " + group_text +
         "\n  EMIT FINAL;";
}

std::string WindowedQuery::SqliteAggregate(const AggregateTerm& term) const {
  if (term.column.empty()) return "COUNT(*)";
  std::string call = term.function + "(" + term.column + ")";
  if (term.function == "SUM") {
    return "COALESCE(" + call + (term.result_kind == ValueKind::kDouble ? ", 0.0)" : ", 0)");
  }
  if (term.function == "AVG") return "COALESCE(" + call + ", 0.0)";
  return call;
}

WindowedQuery GenerateQuery(std::mt19937_64& random) {
  WindowedQuery query;
  static const std::vector<int64_t> kSizes = {1000, 2000, 5000, 10'000, 30'000};
  static const std::vector<int64_t> kGraces = {0, 500, 1000, 2000, 5000, 10'000};
  query.size_ms = Pick(random, kSizes);
  query.grace_ms = Pick(random, kGraces);
  if (Chance(random, 0.5)) {
    query.window = WindowKind::kHopping;
    if (query.size_ms == 1000) query.size_ms = Pick(random, std::vector<int64_t>{2000, 3000});
    // Whole seconds up to the size; the size need not be a multiple of the advance.
    query.advance_ms = 1000 * Uniform(random, 1, std::min<int64_t>(query.size_ms / 1000, 6));
  } else {
    query.advance_ms = query.size_ms;
  }
  if (Chance(random, 0.75)) {
    Filter filter = Predicate(random, 2);
    query.filter = filter.engine;
    query.sqlite_filter = filter.sqlite;
  }

  static const std::vector<std::string> kGroupable = {"caller", "cell", "callee", "record_type"};
  query.group_by.push_back(Pick(random, kGroupable));
  if (Chance(random, 0.4)) {
    std::string second;
    do {
      second = Pick(random, kGroupable);
    } while (second == query.group_by[0]);
    query.group_by.push_back(second);
  }

  int64_t count = Uniform(random, 1, 5);
  for (int64_t i = 0; i < count; ++i) {
    AggregateTerm term;
    term.alias = "A" + std::to_string(i);
    const StreamColumn& column = AnyColumn(random);
    bool numeric = column.kind != ValueKind::kString;
    switch (Uniform(random, 0, 5)) {
      case 0:
        term.function = "COUNT";
        term.result_kind = ValueKind::kInteger;
        break;
      case 1:
        term.function = "COUNT";
        term.column = column.name;
        term.result_kind = ValueKind::kInteger;
        break;
      case 2:
        term.function = numeric ? "SUM" : "COUNT";
        term.column = column.name;
        term.result_kind = numeric ? column.kind : ValueKind::kInteger;
        break;
      case 3:
      case 4:
        term.function = Chance(random, 0.5) ? "MIN" : "MAX";
        term.column = column.name;
        term.result_kind = column.kind;
        break;
      default:
        term.function = numeric ? "AVG" : "MAX";
        term.column = column.name;
        term.result_kind = numeric ? ValueKind::kDouble : column.kind;
        break;
    }
    query.aggregates.push_back(term);
  }
  for (size_t i = 0; i < query.group_by.size(); ++i)
    query.projection.push_back(static_cast<int>(i));
  for (size_t i = 0; i < query.aggregates.size(); ++i) {
    query.projection.push_back(-1 - static_cast<int>(i));
  }
  std::shuffle(query.projection.begin(), query.projection.end(), random);
  return query;
}

}  // namespace sidestream::differential
