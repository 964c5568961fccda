#include "sql/ast.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <initializer_list>
#include <string_view>

namespace sidestream::sql {
namespace {

// Words the grammar reserves (grammar/SidestreamSql.g4): an identifier spelt like one
// must be quoted to parse again.
constexpr std::array<std::string_view, 42> kReservedWords = {
    "ALL",    "AND",   "AS",     "BETWEEN", "BY",    "CASE",  "CAST",   "CREATE", "DISTINCT",
    "DROP",   "ELSE",  "END",    "EXISTS",  "FALSE", "FROM",  "FULL",   "GROUP",  "HAVING",
    "IN",     "INNER", "INSERT", "INTO",    "IS",    "JOIN",  "LEFT",   "LIKE",   "LIMIT",
    "NOT",    "NULL",  "ON",     "OR",      "OUTER", "RIGHT", "SELECT", "THEN",   "TRUE",
    "VALUES", "WHEN",  "WHERE",  "WINDOW",  "WITH",  "WITHIN"};

// An identifier as it must be written to parse back to `name`: bare when it is an
// upper-case word that is not reserved, else in backquotes.
std::string QuoteIdentifier(const std::string& name) {
  bool plain =
      !name.empty() && (std::isupper(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (!(std::isupper(u) || std::isdigit(u) || c == '_' || c == '@')) plain = false;
  }
  if (plain &&
      std::find(kReservedWords.begin(), kReservedWords.end(), name) == kReservedWords.end()) {
    return name;
  }
  std::string quoted = "`";
  for (char c : name) {
    quoted.push_back(c);
    if (c == '`') quoted.push_back('`');
  }
  return quoted + "`";
}

std::string QuoteString(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    quoted.push_back(c);
    if (c == '\'') quoted.push_back('\'');
  }
  return quoted + "'";
}

std::string LiteralSql(const Literal& literal) {
  switch (literal.kind) {
    case LiteralKind::kNull:
      return "NULL";
    case LiteralKind::kBoolean:
      return literal.boolean_value ? "TRUE" : "FALSE";
    case LiteralKind::kInteger:
      return literal.text.empty() ? std::to_string(literal.integer_value) : literal.text;
    case LiteralKind::kDecimal:
    case LiteralKind::kDouble:
      return literal.text;
    case LiteralKind::kString:
      return QuoteString(literal.text);
    case LiteralKind::kBytes:
      return QuoteString(literal.text);
  }
  return literal.text;
}

// Concatenates pieces with one allocation. Also sidesteps a GCC 12 -Wrestrict false
// positive on `"literal" + std::string` chains at -O3.
std::string Concat(std::initializer_list<std::string_view> pieces) {
  size_t size = 0;
  for (std::string_view piece : pieces) size += piece.size();
  std::string text;
  text.reserve(size);
  for (std::string_view piece : pieces) text.append(piece);
  return text;
}

std::string JoinChildren(const std::vector<ExpressionPtr>& children, size_t from) {
  std::string text;
  for (size_t i = from; i < children.size(); ++i) {
    if (i > from) text += ", ";
    text += children[i]->ToSql();
  }
  return text;
}

std::string CaseSql(const Expression& expression) {
  std::string text = "(CASE";
  size_t i = 0;
  if (expression.has_operand) text += Concat({" ", expression.children[i++]->ToSql()});
  const size_t count = expression.children.size();
  for (; i + 1 < count; i += 2) {
    text += Concat(
        {" WHEN ", expression.children[i]->ToSql(), " THEN ", expression.children[i + 1]->ToSql()});
  }
  if (i < count) text += Concat({" ELSE ", expression.children[i]->ToSql()});
  return text + " END)";
}

}  // namespace

std::string Expression::ToSql() const {
  auto child = [this](size_t i) { return children.at(i)->ToSql(); };
  const std::string not_word = negated ? "NOT " : "";
  switch (kind) {
    case ExpressionKind::kLiteral:
      return LiteralSql(literal);
    case ExpressionKind::kColumnRef:
      return qualifier.empty() ? QuoteIdentifier(name)
                               : QuoteIdentifier(qualifier) + "." + QuoteIdentifier(name);
    case ExpressionKind::kUnary: {
      if (name == "NOT") return Concat({"(NOT ", child(0), ")"});
      const std::string operand = child(0);
      // "--x" would start a comment.
      if (!operand.empty() && (operand[0] == '-' || operand[0] == '+')) {
        return name + "(" + operand + ")";
      }
      return name + operand;
    }
    case ExpressionKind::kBinary:
      return Concat({"(", child(0), " ", name, " ", child(1), ")"});
    case ExpressionKind::kFunctionCall:
      if (star && !qualifier.empty()) {
        return QuoteIdentifier(name) + "(" + QuoteIdentifier(qualifier) + ".*)";
      }
      return QuoteIdentifier(name) + "(" + (star ? std::string("*") : JoinChildren(children, 0)) +
             ")";
    case ExpressionKind::kCase:
      return CaseSql(*this);
    case ExpressionKind::kCast:
      return Concat(
          {"CAST(", child(0), " AS ",
           cast_custom_type.empty() ? cast_type.ToString() : QuoteIdentifier(cast_custom_type),
           ")"});
    case ExpressionKind::kLike:
      return Concat({"(", child(0), " ", not_word, "LIKE ", child(1),
                     children.size() > 2 ? " ESCAPE " : "",
                     children.size() > 2 ? child(2) : std::string(), ")"});
    case ExpressionKind::kBetween:
      return Concat({"(", child(0), " ", not_word, "BETWEEN ", child(1), " AND ", child(2), ")"});
    case ExpressionKind::kInList:
      return Concat({"(", child(0), " ", not_word, "IN (", JoinChildren(children, 1), "))"});
    case ExpressionKind::kIsNull:
      return Concat({"(", child(0), " IS ", not_word, "NULL)"});
    case ExpressionKind::kIsDistinctFrom:
      return Concat({"(", child(0), " IS ", not_word, "DISTINCT FROM ", child(1), ")"});
    case ExpressionKind::kSubscript:
      return child(0) + "[" + child(1) + "]";
    case ExpressionKind::kDereference:
      return child(0) + "->" + QuoteIdentifier(name);
    case ExpressionKind::kArray:
      return Concat({"ARRAY[", JoinChildren(children, 0), "]"});
    case ExpressionKind::kMap: {
      std::string text = "MAP(";
      for (size_t i = 0; i + 1 < children.size(); i += 2) {
        if (i > 0) text += ", ";
        text += child(i) + ":=" + child(i + 1);
      }
      return text + ")";
    }
    case ExpressionKind::kStruct: {
      std::string text = "STRUCT(";
      for (size_t i = 0; i < children.size() && i < field_names.size(); ++i) {
        if (i > 0) text += ", ";
        text += QuoteIdentifier(field_names[i]) + ":=" + child(i);
      }
      return text + ")";
    }
    case ExpressionKind::kLambda: {
      std::string parameters;
      for (size_t i = 0; i < field_names.size(); ++i) {
        if (i > 0) parameters += ", ";
        parameters += QuoteIdentifier(field_names[i]);
      }
      if (field_names.size() != 1) parameters = "(" + parameters + ")";
      return parameters + " => " + child(0);
    }
    case ExpressionKind::kInterval:
      return "INTERVAL " + std::to_string(literal.integer_value) + " MILLISECONDS";
  }
  return text;
}

std::unique_ptr<Expression> Expression::Clone() const {
  auto copy = std::make_unique<Expression>();
  copy->kind = kind;
  copy->location = location;
  copy->text = text;
  copy->name = name;
  copy->qualifier = qualifier;
  copy->literal = literal;
  copy->cast_type = cast_type;
  copy->cast_custom_type = cast_custom_type;
  copy->negated = negated;
  copy->star = star;
  copy->has_operand = has_operand;
  copy->field_names = field_names;
  copy->children.reserve(children.size());
  for (const auto& child : children) copy->children.push_back(child->Clone());
  return copy;
}

std::string PatternTerm::ToSql() const {
  std::string text;
  if (kind == PatternKind::kVariable) {
    text = QuoteIdentifier(variable);
  } else {
    text = "(";
    for (size_t i = 0; i < children.size(); ++i) {
      if (i > 0) text += kind == PatternKind::kAlternation ? " | " : " ";
      text += children[i]->ToSql();
    }
    text += ")";
  }
  if (minimum == 0 && maximum == -1) {
    text += "*";
  } else if (minimum == 1 && maximum == -1) {
    text += "+";
  } else if (minimum == 0 && maximum == 1) {
    text += "?";
  } else if (maximum == -1) {
    text += "{" + std::to_string(minimum) + ",}";
  } else if (minimum == maximum && minimum != 1) {
    text += "{" + std::to_string(minimum) + "}";
  } else if (minimum != maximum) {
    text += "{" + std::to_string(minimum) + "," + std::to_string(maximum) + "}";
  }
  if (reluctant) text += "?";
  return text;
}

const Property* Statement::FindProperty(const std::string& key) const {
  for (const Property& property : properties) {
    if (property.key == key) return &property;
  }
  return nullptr;
}

}  // namespace sidestream::sql
