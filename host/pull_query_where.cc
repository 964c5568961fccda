// CheckPullQueryWhere: ksqlDB's rules for the WHERE of a pull query on a table, ported from
// its QueryFilterNode (the Validator, KeyValueExtractor and WindowBoundsExtractor over the
// rewritten predicate's disjuncts) and PullPhysicalPlanBuilder.getPlanType (a key lookup, a
// range scan or a table scan). The checks only refuse queries: which entries are read is
// decided by the engine (`KafkaEngine::PullQuery`), and the WHERE runs over them either way.

#include "host/pull_query_where.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "expr/evaluator.h"

namespace sidestream::host {

namespace {

using analyzer::BoundExpression;
using analyzer::BoundKind;
using analyzer::LogicalOperator;
using analyzer::LogicalOperatorKind;
using types::TypeId;

// More disjuncts than this in the WHERE's normal form are not checked one by one: the query
// is taken as a table scan.
constexpr size_t kMaxDisjuncts = 4096;

// The pseudo columns follow the source's columns in a pull query's scope, in this order.
constexpr const char* kPseudoColumns[] = {"ROWTIME", "ROWPARTITION", "ROWOFFSET", "WINDOWSTART",
                                          "WINDOWEND"};

enum class AtomKind { kComparison, kLike, kOther };

// One term of a disjunct once the WHERE is in disjunctive normal form.
struct Atom {
  AtomKind kind = AtomKind::kOther;
  std::string type;  // a comparison's ksqlDB type: EQUAL, NOT_EQUAL, LESS_THAN, ...
  const BoundExpression* left = nullptr;
  const BoundExpression* right = nullptr;
  const BoundExpression* node = nullptr;  // kLike and kOther
  bool negated = false;  // a comparison or other term under a NOT that ksqlDB keeps
  std::string sql;       // as ksqlDB prints it
};

using Conjunct = std::vector<Atom>;

// An expression's text as ksqlDB prints it ("null" for the NULL literal).
std::string Text(const BoundExpression& node) {
  if (node.kind == BoundKind::kLiteral && node.literal.kind == sql::LiteralKind::kNull) {
    return "null";
  }
  return node.sql;
}

// ksqlDB's ComparisonExpression.Type for one of our operators, and the operator as it prints.
std::optional<std::pair<std::string, std::string>> ComparisonType(const std::string& op) {
  if (op == "=") return std::pair<std::string, std::string>{"EQUAL", "="};
  if (op == "<>" || op == "!=") return std::pair<std::string, std::string>{"NOT_EQUAL", "<>"};
  if (op == "<") return std::pair<std::string, std::string>{"LESS_THAN", "<"};
  if (op == "<=") return std::pair<std::string, std::string>{"LESS_THAN_OR_EQUAL", "<="};
  if (op == ">") return std::pair<std::string, std::string>{"GREATER_THAN", ">"};
  if (op == ">=") return std::pair<std::string, std::string>{"GREATER_THAN_OR_EQUAL", ">="};
  return std::nullopt;
}

Atom Comparison(const std::string& type, const std::string& symbol, const BoundExpression& left,
                const BoundExpression& right, bool negated) {
  Atom atom;
  atom.kind = AtomKind::kComparison;
  atom.type = type;
  atom.left = &left;
  atom.right = &right;
  atom.negated = negated;
  atom.sql = "(" + Text(left) + " " + symbol + " " + Text(right) + ")";
  if (negated) atom.sql = "(NOT " + atom.sql + ")";
  return atom;
}

std::vector<Conjunct> Dnf(const BoundExpression& node, bool negated);

// Every conjunction of one disjunct of `a` with one of `b`; nullopt past kMaxDisjuncts.
std::optional<std::vector<Conjunct>> Cross(const std::vector<Conjunct>& a,
                                           const std::vector<Conjunct>& b) {
  if (a.size() * b.size() > kMaxDisjuncts) return std::nullopt;
  std::vector<Conjunct> out;
  for (const Conjunct& left : a) {
    for (const Conjunct& right : b) {
      Conjunct both = left;
      both.insert(both.end(), right.begin(), right.end());
      out.push_back(std::move(both));
    }
  }
  return out;
}

// `terms` joined by AND (or OR): each term a disjunctive normal form.
std::vector<Conjunct> Combine(std::vector<std::vector<Conjunct>> terms, bool conjunction) {
  std::vector<Conjunct> out = std::move(terms.front());
  for (size_t i = 1; i < terms.size(); ++i) {
    if (conjunction) {
      auto crossed = Cross(out, terms[i]);
      if (!crossed) return {};
      out = std::move(*crossed);
    } else {
      for (Conjunct& conjunct : terms[i]) out.push_back(std::move(conjunct));
      if (out.size() > kMaxDisjuncts) return {};
    }
  }
  return out;
}

// ksqlDB's PullQueryRewriter: BETWEEN becomes `>= AND <=`, IN becomes `=` per value joined by
// OR, NOT is pushed down to the comparisons (a NOT it keeps is an unsupported term; over a
// LIKE or another predicate its NotPropagator drops it), and AND is distributed over OR.
// Empty when the normal form grows past kMaxDisjuncts.
std::vector<Conjunct> Dnf(const BoundExpression& node, bool negated) {
  if (node.kind == BoundKind::kBinary && (node.name == "AND" || node.name == "OR") &&
      node.children.size() == 2) {
    const bool conjunction = (node.name == "AND") != negated;
    std::vector<std::vector<Conjunct>> terms;
    for (const auto& child : node.children) {
      terms.push_back(Dnf(*child, negated));
      if (terms.back().empty()) return {};
    }
    return Combine(std::move(terms), conjunction);
  }
  if (node.kind == BoundKind::kUnary && node.name == "NOT" && node.children.size() == 1) {
    return Dnf(*node.children[0], !negated);
  }
  if (node.kind == BoundKind::kBinary && node.children.size() == 2) {
    if (auto type = ComparisonType(node.name)) {
      return {
          {Comparison(type->first, type->second, *node.children[0], *node.children[1], negated)}};
    }
  }
  if (node.kind == BoundKind::kIsDistinctFrom && node.children.size() == 2) {
    return {{Comparison(node.negated ? "IS_NOT_DISTINCT_FROM" : "IS_DISTINCT_FROM",
                        node.negated ? "IS NOT DISTINCT FROM" : "IS DISTINCT FROM",
                        *node.children[0], *node.children[1], negated)}};
  }
  if (node.kind == BoundKind::kBetween && node.children.size() == 3) {
    const bool inverted = node.negated != negated;
    std::vector<std::vector<Conjunct>> terms = {
        {{Comparison("GREATER_THAN_OR_EQUAL", ">=", *node.children[0], *node.children[1],
                     inverted)}},
        {{Comparison("LESS_THAN_OR_EQUAL", "<=", *node.children[0], *node.children[2], inverted)}}};
    return Combine(std::move(terms), !inverted);
  }
  if (node.kind == BoundKind::kInList && node.children.size() >= 2) {
    const bool inverted = node.negated != negated;
    std::vector<std::vector<Conjunct>> terms;
    for (size_t i = 1; i < node.children.size(); ++i) {
      terms.push_back({{Comparison("EQUAL", "=", *node.children[0], *node.children[i], inverted)}});
    }
    return Combine(std::move(terms), inverted);
  }
  Atom atom;
  atom.kind = node.kind == BoundKind::kLike ? AtomKind::kLike : AtomKind::kOther;
  atom.node = &node;
  atom.sql = Text(node);
  return {{atom}};
}

std::string ConjunctSql(const Conjunct& conjunct) {
  std::string sql = conjunct.front().sql;
  for (size_t i = 1; i < conjunct.size(); ++i) sql = "(" + sql + " AND " + conjunct[i].sql + ")";
  return sql;
}

bool HasColumnRef(const BoundExpression& node) {
  if (node.kind == BoundKind::kColumn) return true;
  for (const auto& child : node.children) {
    if (HasColumnRef(*child)) return true;
  }
  return false;
}

// ksqlDB's QueryFilterNode.invalidWhereClauseException: the message and its help.
Status InvalidWhereClause(const std::string& message, bool windowed) {
  std::string text = message +
                     ". See https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you "
                     "intended to issue a push query.\nPull queries require a WHERE clause that:\n"
                     " - includes a key equality expression, e.g. `SELECT * FROM X WHERE "
                     "<key-column> = Y;`.\n - in the case of a multi-column key, is a conjunction "
                     "of equality expressions that cover all key columns.\n - to support range "
                     "expressions, e.g.,  SELECT * FROM X WHERE <key-column> < Y;`, range scans "
                     "need to be enabled by setting ksql.query.pull.range.scan.enabled=true";
  if (windowed) {
    text +=
        "\n - (optionally) limits the time bounds of the windowed table.\n\t Bounds on "
        "[`WINDOWSTART`, `WINDOWEND`] are supported\n\t Supported operators are [EQUAL, "
        "GREATER_THAN, GREATER_THAN_OR_EQUAL, LESS_THAN, LESS_THAN_OR_EQUAL]";
  }
  text +=
      "\nIf more flexible queries are needed, , table scans can be enabled by setting "
      "ksql.query.pull.table.scan.enabled=true.";
  return Status::InvalidArgument(text);
}

// What a pull query's WHERE reads: its Scan's columns and whether the table is windowed.
struct Source {
  const LogicalOperator* scan = nullptr;
  std::vector<size_t> keys;  // indexes of the key columns among the scan's columns
  bool windowed = false;

  // The column a bound column reference names: a source column or a pseudo column.
  std::string Name(const BoundExpression& column) const {
    const size_t index = static_cast<size_t>(column.column_index);
    const auto& columns = scan->output.columns;
    if (index < columns.size()) return columns[index].name;
    const size_t pseudo = index - columns.size();
    return pseudo < std::size(kPseudoColumns) ? kPseudoColumns[pseudo] : column.sql;
  }
  // The position of the key column `column` reads among the key columns, or -1.
  int KeyIndex(const BoundExpression& column) const {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == static_cast<size_t>(column.column_index)) return static_cast<int>(i);
    }
    return -1;
  }
  // The key columns as ksqlDB's LogicalSchema.key() prints: [`ID` STRING KEY, ...].
  std::string KeySchema(bool escaped) const {
    std::string out = "[";
    for (size_t i = 0; i < keys.size(); ++i) {
      const auto& column = scan->output.columns[keys[i]];
      if (i > 0) out += ", ";
      out +=
          (escaped ? "`" + column.name + "`" : column.name) + " " + column.type.ToString() + " KEY";
    }
    return out + "]";
  }
};

// The side of a comparison that is a column reference (the right one first, as ksqlDB
// looks), or null.
const BoundExpression* ColumnSide(const Atom& atom) {
  if (atom.right->kind == BoundKind::kColumn) return atom.right;
  if (atom.left->kind == BoundKind::kColumn) return atom.left;
  return nullptr;
}

const BoundExpression* OtherSide(const Atom& atom) {
  return atom.right->kind == BoundKind::kColumn ? atom.left : atom.right;
}

bool IsWindowBound(const std::string& name) { return name == "WINDOWSTART" || name == "WINDOWEND"; }

// QueryFilterNode.Validator over one disjunct. Sets `table_scan` where table scans are on and
// ksqlDB would fall back to one; returns its refusals otherwise.
Status ValidateDisjunct(const Conjunct& conjunct, const Source& source,
                        const PullQueryPlanOptions& options, bool& table_scan) {
  std::vector<bool> seen(source.keys.size(), false);
  bool keyed = false;
  bool scan = false;
  auto scan_or_refuse = [&](const std::string& message, bool windowed) -> Status {
    if (options.table_scans_enabled) {
      scan = true;
      return Status::OK();
    }
    return InvalidWhereClause(message, windowed);
  };
  for (const Atom& atom : conjunct) {
    if (atom.kind == AtomKind::kOther || atom.negated) {
      return InvalidWhereClause("Unsupported expression in WHERE clause: " + atom.sql, false);
    }
    if (atom.kind == AtomKind::kLike) {
      const BoundExpression& value = *atom.node->children[0];
      if (value.kind != BoundKind::kColumn) {
        RETURN_NOT_OK(scan_or_refuse("Like condition must be between strings", source.windowed));
        continue;
      }
      if (value.type.id() != TypeId::kString) {
        return InvalidWhereClause(
            "The column type for Like condition must be VARCHAR. The "
            "column type is " +
                value.type.ToString(),
            source.windowed);
      }
      continue;
    }
    const BoundExpression* column = ColumnSide(atom);
    if (column == nullptr) {
      RETURN_NOT_OK(
          scan_or_refuse("A comparison must directly reference a key column", source.windowed));
      continue;
    }
    if (HasColumnRef(*OtherSide(atom))) {
      RETURN_NOT_OK(
          scan_or_refuse("A comparison must be between a key column and a resolvable expression",
                         source.windowed));
      continue;
    }
    const std::string name = source.Name(*column);
    if (IsWindowBound(name)) {
      if (atom.type == "NOT_EQUAL" || atom.type == "IS_DISTINCT_FROM" ||
          atom.type == "IS_NOT_DISTINCT_FROM") {
        return InvalidWhereClause("Unsupported " + name + " bounds: " + atom.type, true);
      }
      if (!source.windowed) {
        return InvalidWhereClause("Cannot use WINDOWSTART/WINDOWEND on non-windowed source", false);
      }
      continue;
    }
    const int key = source.KeyIndex(*column);
    if (key < 0) continue;
    if (atom.type == "NOT_EQUAL" || atom.type == "IS_DISTINCT_FROM" ||
        atom.type == "IS_NOT_DISTINCT_FROM") {
      RETURN_NOT_OK(scan_or_refuse(
          "Bound on key columns '" + source.KeySchema(true) + "' must currently be '='",
          source.windowed));
    }
    if (seen[static_cast<size_t>(key)] && !options.table_scans_enabled) {
      return InvalidWhereClause(
          "A comparison condition on the key column cannot be combined with other comparisons "
          "such as an IN predicate",
          source.windowed);
    }
    seen[static_cast<size_t>(key)] = true;
    keyed = true;
  }
  if (scan) {
    table_scan = true;
    return Status::OK();
  }
  if (!keyed) {
    if (options.table_scans_enabled) {
      table_scan = true;
      return Status::OK();
    }
    return InvalidWhereClause(
        "WHERE clause missing key column for disjunct: " + ConjunctSql(conjunct), source.windowed);
  }
  size_t seen_count = 0;
  std::string specified = "[";
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) continue;
    specified += std::string(seen_count++ > 0 ? ", " : "") + "`" +
                 source.scan->output.columns[source.keys[i]].name + "`";
  }
  specified += "]";
  if (seen_count != source.keys.size()) {
    if (options.table_scans_enabled) {
      table_scan = true;
      return Status::OK();
    }
    return InvalidWhereClause(
        "Multi-column sources must specify every key in the WHERE clause. "
        "Specified: " +
            specified + " Expected: " + source.KeySchema(true),
        source.windowed);
  }
  return Status::OK();
}

// A Java value's toString, as ksqlDB's messages print the values they could not convert.
std::string JavaText(const types::Value& value) {
  switch (value.kind()) {
    case TypeId::kBoolean:
      return value.boolean() ? "true" : "false";
    case TypeId::kInt:
    case TypeId::kBigint:
      return std::to_string(value.integer());
    case TypeId::kDouble: {
      const double number = value.float64();
      char buffer[64];
      if (std::isfinite(number) && std::fabs(number) >= 1e-3 && std::fabs(number) < 1e7) {
        std::snprintf(buffer, sizeof(buffer), "%.17g", number);
        std::string text = buffer;
        if (text.find('.') == std::string::npos) text += ".0";
        return text;
      }
      std::snprintf(buffer, sizeof(buffer), "%.17g", number);
      return buffer;
    }
    case TypeId::kString:
      return value.string();
    default:
      return value.DebugString();
  }
}

// Whether ksqlDB's STRICT coercer (DefaultSqlValueCoercer.STRICT) takes a value of type `from`
// to the key's type `to`.
bool StrictlyCoercible(TypeId from, TypeId to) {
  if (from == to) return true;
  switch (from) {
    case TypeId::kInt:
      return to == TypeId::kBigint || to == TypeId::kDecimal || to == TypeId::kDouble;
    case TypeId::kBigint:
      return to == TypeId::kDecimal || to == TypeId::kDouble;
    case TypeId::kDecimal:
      return to == TypeId::kDouble;
    case TypeId::kString:
      return to == TypeId::kTimestamp || to == TypeId::kTime || to == TypeId::kDate ||
             to == TypeId::kBytes;
    default:
      return false;
  }
}

// QueryFilterNode.KeyValueExtractor.resolveKey: the key value a comparison gives must be
// non-NULL and convert to the key column's type.
Status ResolveKey(const Atom& atom, const BoundExpression& written,
                  const analyzer::LogicalColumn& key) {
  const std::string column = key.name + " " + key.type.ToString() + " KEY";
  // The literal as written: ksqlDB resolves keys before it coerces an IN list's literals.
  const BoundExpression& other =
      written.kind == BoundKind::kCast && written.implicit && !written.children.empty()
          ? *written.children.front()
          : written;
  if (other.kind == BoundKind::kLiteral) {
    if (other.literal.kind == sql::LiteralKind::kNull) {
      return Status::InvalidArgument("Primary key columns can not be NULL: " + atom.sql);
    }
    if (!StrictlyCoercible(other.type.id(), key.type.id())) {
      const std::string text = other.literal.kind == sql::LiteralKind::kDouble
                                   ? JavaText(types::Value::Double(other.literal.double_value))
                               : other.literal.kind == sql::LiteralKind::kBoolean
                                   ? (other.literal.boolean_value ? "true" : "false")
                                   : other.literal.text;
      return Status::InvalidArgument(
          "'" + text + "' can not be converted to the type of the key column: " + column);
    }
    return Status::OK();
  }
  auto evaluator = expr::Evaluator::Compile(other);
  if (!evaluator.ok()) return Status::OK();  // the query's own evaluation reports it
  types::Value value;
  if (!(*evaluator)->Evaluate(types::Row(), value).ok()) return Status::OK();
  if (value.is_null()) {
    return Status::InvalidArgument("Primary key columns can not be NULL: " + atom.sql);
  }
  if (!StrictlyCoercible(other.type.id(), key.type.id())) {
    return Status::InvalidArgument("Expected type " + key.type.ToString() + " for field " +
                                   key.name + " but got " + other.type.ToString() + "(" +
                                   JavaText(value) + ")");
  }
  return Status::OK();
}

// One disjunct's window bounds, as QueryFilterNode.WindowBoundsExtractor collects them.
struct WindowRange {
  bool equal = false;
  bool upper = false;
  bool lower = false;
};

Status ExtractWindowBounds(const Conjunct& conjunct, const Source& source) {
  WindowRange start, end;
  for (const Atom& atom : conjunct) {
    if (atom.kind != AtomKind::kComparison) continue;
    const BoundExpression* column = ColumnSide(atom);
    if (column == nullptr) continue;
    const std::string name = source.Name(*column);
    if (!IsWindowBound(name)) continue;
    WindowRange& range = name == "WINDOWSTART" ? start : end;
    bool result = false;
    if (atom.type == "EQUAL") {
      result = !range.equal;
      range.equal = true;
    }
    // Flipped when the column is on the right: `5 < WINDOWSTART` is a lower bound.
    const bool inverted = atom.right->kind == BoundKind::kColumn;
    std::string type = atom.type;
    if (type == "LESS_THAN" || type == "LESS_THAN_OR_EQUAL") {
      type = inverted ? "GREATER_THAN" : "LESS_THAN";
    } else if (type == "GREATER_THAN" || type == "GREATER_THAN_OR_EQUAL") {
      type = inverted ? "LESS_THAN" : "GREATER_THAN";
    }
    if (type == "LESS_THAN") {
      result = !range.upper;
      range.upper = true;
    } else if (type == "GREATER_THAN") {
      result = !range.lower;
      range.lower = true;
    }
    if (range.equal && (range.upper || range.lower)) {
      return InvalidWhereClause(
          "`" + atom.sql + "` cannot be combined with other " + name + " bounds", true);
    }
    if (!result) return InvalidWhereClause("Duplicate " + name + " bounds on: " + type, true);
  }
  return Status::OK();
}

enum class Lookup { kNone, kEqual, kRange };

// QueryFilterNode.KeyValueExtractor over one disjunct that passed the Validator: each key's
// value checked, and the lookup it allows (getLookupConstraint).
Result<Lookup> ExtractLookup(const Conjunct& conjunct, const Source& source) {
  std::map<int, std::string> operators;  // by key column: the most selective comparison
  for (const Atom& atom : conjunct) {
    if (atom.kind != AtomKind::kComparison) continue;
    const BoundExpression* column = ColumnSide(atom);
    if (column == nullptr) continue;
    const int key = source.KeyIndex(*column);
    if (key < 0) continue;
    RETURN_NOT_OK(ResolveKey(atom, *OtherSide(atom),
                             source.scan->output.columns[source.keys[static_cast<size_t>(key)]]));
    auto found = operators.find(key);
    if (found != operators.end() && found->second == "EQUAL") continue;
    if (atom.type == "EQUAL" || found == operators.end()) operators[key] = atom.type;
  }
  if (source.windowed) RETURN_NOT_OK(ExtractWindowBounds(conjunct, source));
  if (operators.empty()) return Lookup::kNone;
  if (operators.size() > 1) {
    for (const auto& [key, type] : operators) {
      if (type != "EQUAL") return Lookup::kNone;
    }
    return Lookup::kEqual;
  }
  auto first = operators.find(0);
  if (first == operators.end()) return Lookup::kNone;
  if (first->second == "EQUAL") return Lookup::kEqual;
  const TypeId key_type = source.scan->output.columns[source.keys.front()].type.id();
  const bool ordered_key = key_type == TypeId::kString || key_type == TypeId::kBytes;
  if (ordered_key &&
      (first->second == "LESS_THAN" || first->second == "LESS_THAN_OR_EQUAL" ||
       first->second == "GREATER_THAN" || first->second == "GREATER_THAN_OR_EQUAL")) {
    return Lookup::kRange;
  }
  return Lookup::kNone;
}

Status RequireTableScans(const PullQueryPlanOptions& options) {
  if (options.table_scans_enabled) return Status::OK();
  return Status::InvalidArgument(
      "Query requires table scan to be enabled. Table scans can be enabled by setting "
      "ksql.query.pull.table.scan.enabled=true");
}

}  // namespace

Status CheckPullQueryWhere(const LogicalOperator& plan, const PullQueryPlanOptions& options) {
  // The Filter right above the Scan, if any.
  const LogicalOperator* filter = nullptr;
  const LogicalOperator* node = &plan;
  while (node->kind != LogicalOperatorKind::kScan) {
    if (node->children.size() != 1) return Status::OK();
    if (node->kind == LogicalOperatorKind::kFilter &&
        node->children.front()->kind == LogicalOperatorKind::kScan) {
      filter = node;
    }
    node = node->children.front().get();
  }
  Source source;
  source.scan = node;
  source.windowed = node->output.window_type != catalog::WindowType::kNone;
  for (size_t i = 0; i < node->output.columns.size(); ++i) {
    if (node->output.columns[i].role == catalog::ColumnRole::kKey) source.keys.push_back(i);
  }
  if (filter == nullptr || !filter->predicate) {
    if (!options.table_scans_enabled) {
      return InvalidWhereClause("Missing WHERE clause", source.windowed);
    }
    return Status::OK();
  }
  const std::vector<Conjunct> disjuncts = Dnf(*filter->predicate, false);
  if (disjuncts.empty()) return RequireTableScans(options);
  // QueryFilterNode.validateWhereClauseAndCheckTableScan: the first disjunct that needs a
  // table scan ends the checks.
  bool table_scan = false;
  for (const Conjunct& conjunct : disjuncts) {
    RETURN_NOT_OK(ValidateDisjunct(conjunct, source, options, table_scan));
    if (table_scan) return Status::OK();
  }
  // PullPhysicalPlanBuilder.getPlanType over the lookups of the disjuncts.
  std::vector<Lookup> lookups;
  for (const Conjunct& conjunct : disjuncts) {
    ASSIGN_OR_RAISE(Lookup lookup, ExtractLookup(conjunct, source));
    lookups.push_back(lookup);
  }
  bool all_equal = true;
  for (Lookup lookup : lookups) {
    if (lookup == Lookup::kNone) return RequireTableScans(options);
    all_equal = all_equal && lookup == Lookup::kEqual;
  }
  if (all_equal) return Status::OK();
  const bool range_scan = lookups.size() == 1 && lookups.front() == Lookup::kRange;
  if (range_scan && options.range_scans_enabled && !source.windowed) return Status::OK();
  return RequireTableScans(options);
}

}  // namespace sidestream::host
