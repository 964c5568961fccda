#include "analyzer/expression_binder.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>

#include "common/did_you_mean.h"
#include "functions/numbers.h"
#include "functions/temporal_format.h"

namespace sidestream::analyzer {

using types::SqlType;
using types::TypeId;

namespace {

std::unique_ptr<BoundExpression> MakeNode(BoundKind kind, SqlType type, std::string sql) {
  auto node = std::make_unique<BoundExpression>();
  node->kind = kind;
  node->type = std::move(type);
  node->sql = std::move(sql);
  return node;
}

std::string JoinSql(const std::vector<BoundExpressionPtr>& children, size_t begin = 0) {
  std::string text;
  for (size_t i = begin; i < children.size(); ++i) {
    if (i > begin) text += ", ";
    text += children[i]->sql;
  }
  return text;
}

bool IsComparison(const std::string& op) {
  return op == "=" || op == "<>" || op == "!=" || op == "<" || op == "<=" || op == ">" ||
         op == ">=";
}

// ksqlDB's name of a comparison operator (ComparisonExpression.Type), as its messages say it.
std::string ComparisonTypeName(const std::string& op) {
  if (op == "=") return "EQUAL";
  if (op == "<>" || op == "!=") return "NOT_EQUAL";
  if (op == "<") return "LESS_THAN";
  if (op == "<=") return "LESS_THAN_OR_EQUAL";
  if (op == ">") return "GREATER_THAN";
  if (op == ">=") return "GREATER_THAN_OR_EQUAL";
  return op;
}

// An operand's text as ksqlDB's messages print it: the NULL literal as "null".
std::string MessageSql(const BoundExpression& node) {
  if (node.kind == BoundKind::kLiteral && node.literal.kind == sql::LiteralKind::kNull) {
    return "null";
  }
  return node.sql;
}

// A type's base type as ksqlDB names it (SqlBaseType): DECIMAL(4, 2) is DECIMAL.
std::string BaseTypeName(const SqlType& type) {
  if (type.id() == TypeId::kNull) return "NULL";
  const std::string text = type.ToString();
  return text.substr(0, text.find_first_of("(<"));
}

// Comparable pairs: numbers with numbers, equal types, strings with temporal literals.
bool Comparable(const SqlType& a, const SqlType& b) {
  if (a.id() == TypeId::kNull || b.id() == TypeId::kNull) return true;
  if (a.is_numeric() && b.is_numeric()) return true;
  if (a.id() == b.id()) return true;
  if ((a.is_temporal() && b.id() == TypeId::kString) ||
      (b.is_temporal() && a.id() == TypeId::kString)) {
    return true;
  }
  return false;
}

// ksqlDB's decimal arithmetic (DecimalUtil): the result's precision and scale.
SqlType DecimalArithmetic(const std::string& op, const SqlType& left, const SqlType& right) {
  auto as_decimal = [](const SqlType& type) {
    if (type.id() == TypeId::kInt) return SqlType::Decimal(10, 0);
    if (type.id() == TypeId::kBigint) return SqlType::Decimal(19, 0);
    return type;
  };
  SqlType a = as_decimal(left);
  SqlType b = as_decimal(right);
  int p1 = a.precision(), s1 = a.scale(), p2 = b.precision(), s2 = b.scale();
  if (op == "+" || op == "-") {
    int scale = std::max(s1, s2);
    return SqlType::Decimal(std::max(p1 - s1, p2 - s2) + scale + 1, scale);
  }
  if (op == "*") return SqlType::Decimal(p1 + p2 + 1, s1 + s2);
  if (op == "/") {
    int scale = std::max(6, s1 + p2 + 1);
    return SqlType::Decimal(p1 - s1 + s2 + scale, scale);
  }
  int scale = std::max(s1, s2);  // %
  return SqlType::Decimal(std::min(p1 - s1, p2 - s2) + scale, scale);
}

std::string AggregateError(AggregateRule rule, const std::string& name) {
  switch (rule) {
    case AggregateRule::kForbiddenInGroupBy:
      return "GROUP BY does not support aggregate functions: " + name +
             " is an aggregate function.";
    case AggregateRule::kForbiddenInWhere:
      return "WHERE does not support aggregate functions: " + name + " is an aggregate function.";
    default:
      return "Aggregate function " + name + " is not allowed here.";
  }
}

}  // namespace

SqlType LiteralType(const sql::Literal& literal) {
  switch (literal.kind) {
    case sql::LiteralKind::kNull:
      return SqlType::Null();
    case sql::LiteralKind::kBoolean:
      return SqlType::Boolean();
    case sql::LiteralKind::kInteger:
      return literal.integer_value >= std::numeric_limits<int32_t>::min() &&
                     literal.integer_value <= std::numeric_limits<int32_t>::max()
                 ? SqlType::Int()
                 : SqlType::Bigint();
    case sql::LiteralKind::kDecimal: {
      const std::string& text = literal.text;
      size_t point = text.find('.');
      int digits = 0;
      int scale = 0;
      bool leading = true;
      for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c < '0' || c > '9') continue;
        if (point != std::string::npos && i > point) ++scale;
        if (leading && c == '0' && (point == std::string::npos || i < point)) continue;
        leading = false;
        ++digits;
      }
      return SqlType::Decimal(std::max(digits, std::max(scale, 1)), scale);
    }
    case sql::LiteralKind::kDouble:
      return SqlType::Double();
    case sql::LiteralKind::kString:
      return SqlType::String();
    case sql::LiteralKind::kBytes:
      return SqlType::Bytes();
  }
  return SqlType::Null();
}

std::string LiteralSql(const sql::Literal& literal) {
  switch (literal.kind) {
    case sql::LiteralKind::kNull:
      return "NULL";
    case sql::LiteralKind::kBoolean:
      return literal.boolean_value ? "true" : "false";
    case sql::LiteralKind::kString:
    case sql::LiteralKind::kBytes: {
      std::string text = "'";
      for (char c : literal.text) {
        text += c;
        if (c == '\'') text += '\'';
      }
      return text + "'";
    }
    case sql::LiteralKind::kInteger:
      return literal.text.empty() ? std::to_string(literal.integer_value) : literal.text;
    default:
      return literal.text;
  }
}

namespace {

bool IsLiteral(const BoundExpression& node, sql::LiteralKind kind) {
  return node.kind == BoundKind::kLiteral && node.literal.kind == kind;
}

// The type both constructor elements fit: numbers widen, STRUCTs merge their fields by name,
// ARRAYs and MAPs by their parts. An error (with no message) when they do not fit.
Result<SqlType> MergeTypes(const SqlType& target, const SqlType& source) {
  if (target == source) return target;
  if (target.is_numeric() && source.is_numeric()) return types::CommonNumericType(target, source);
  if (target.id() == TypeId::kStruct && source.id() == TypeId::kStruct) {
    std::vector<types::StructField> fields = target.fields();
    for (const types::StructField& field : source.fields()) {
      auto same = std::find_if(fields.begin(), fields.end(),
                               [&](const types::StructField& f) { return f.name == field.name; });
      if (same == fields.end()) {
        fields.push_back(field);
      } else {
        ASSIGN_OR_RAISE(same->type, MergeTypes(same->type, field.type));
      }
    }
    return SqlType::Struct(std::move(fields));
  }
  if (target.id() == TypeId::kArray && source.id() == TypeId::kArray) {
    ASSIGN_OR_RAISE(SqlType element, MergeTypes(target.element(), source.element()));
    return SqlType::Array(std::move(element));
  }
  if (target.id() == TypeId::kMap && source.id() == TypeId::kMap) {
    ASSIGN_OR_RAISE(SqlType key, MergeTypes(target.key(), source.key()));
    ASSIGN_OR_RAISE(SqlType value, MergeTypes(target.value(), source.value()));
    return SqlType::Map(std::move(key), std::move(value));
  }
  return Status::BindError("");
}

// ksqlDB's coercion of constructor elements (ARRAY elements, MAP keys or MAP values) to one
// type: typed elements merge (MergeTypes); a STRING literal takes the others' type; a
// literal of another type joins STRING elements as its text. NULL when all are NULL.
Result<SqlType> CommonElementType(const std::vector<BoundExpression*>& elements,
                                  const std::string& what, const sql::Expression& expression) {
  SqlType target = SqlType::Null();
  bool only_string_literals = false;
  for (const BoundExpression* element : elements) {
    const SqlType& type = element->type;
    if (type.id() == TypeId::kNull) continue;
    bool string_literal = IsLiteral(*element, sql::LiteralKind::kString);
    if (target.id() == TypeId::kNull || (only_string_literals && !string_literal)) {
      target = type;
      only_string_literals = string_literal;
      continue;
    }
    if (string_literal ||
        (target.id() == TypeId::kString && element->kind == BoundKind::kLiteral)) {
      continue;
    }
    auto merged = MergeTypes(target, type);
    if (!merged.ok()) {
      return Status::BindError(what + " must share one type: " + element->sql + " is " +
                                   type.ToString() + ", expected " + target.ToString(),
                               expression.location);
    }
    target = *merged;
  }
  return target;
}

// A STRING literal read as `target` (a number or BOOLEAN), as ksqlDB converts it.
Result<sql::Literal> ParseLiteralAs(const std::string& text, const SqlType& target) {
  sql::Literal literal;
  if (target.id() == TypeId::kBoolean) {
    std::string lower;
    for (char c : text) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* yes : {"true", "yes", "t", "y"}) {
      if (lower == yes) literal.boolean_value = true;
    }
    bool no = lower == "false" || lower == "no" || lower == "f" || lower == "n";
    if (literal.boolean_value || no) {
      literal.kind = sql::LiteralKind::kBoolean;
      return literal;
    }
  } else {
    auto number = functions::ParseDecimal(text);
    if (number.ok() && target.id() == TypeId::kDouble) {
      literal.kind = sql::LiteralKind::kDouble;
      literal.double_value = std::strtod(text.c_str(), nullptr);
      literal.text = text;
      return literal;
    }
    if (number.ok() && target.is_integral()) {
      __int128 value = number->unscaled;
      int scale = number->scale;
      for (; scale < 0; ++scale) value *= 10;
      bool whole = scale == 0 || value % functions::PowerOfTen(std::min(scale, 38)) == 0;
      if (scale > 0) value /= functions::PowerOfTen(std::min(scale, 38));
      if (whole && value >= std::numeric_limits<int64_t>::min() &&
          value <= std::numeric_limits<int64_t>::max()) {
        literal.kind = sql::LiteralKind::kInteger;
        literal.integer_value = static_cast<int64_t>(value);
        literal.text = std::to_string(literal.integer_value);
        return literal;
      }
    }
    if (number.ok() && target.id() == TypeId::kDecimal) {
      literal.kind = sql::LiteralKind::kDecimal;
      literal.text = text;
      return literal;
    }
  }
  return Status::BindError("invalid input syntax for type " + target.ToString() + ": \"" + text +
                           "\"");
}

// Makes `element` of type `target` (from CommonElementType): literals are converted here,
// other elements are wrapped in a CAST.
Status CoerceElement(BoundExpressionPtr& element, const SqlType& target,
                     const sql::Expression& expression) {
  if (element->type == target || element->type.id() == TypeId::kNull) return Status::OK();
  if (element->kind == BoundKind::kLiteral) {
    sql::Literal literal;
    if (target.id() == TypeId::kString) {
      literal.kind = sql::LiteralKind::kString;
      literal.text = LiteralSql(element->literal);
    } else if (IsLiteral(*element, sql::LiteralKind::kString) &&
               (target.is_numeric() || target.id() == TypeId::kBoolean)) {
      auto parsed = ParseLiteralAs(element->literal.text, target);
      if (!parsed.ok()) return parsed.status().WithLocation(expression.location);
      literal = *parsed;
    } else {
      literal = element->literal;
    }
    element = MakeNode(BoundKind::kLiteral, LiteralType(literal), LiteralSql(literal));
    element->literal = literal;
    if (element->type == target) return Status::OK();
  }
  std::string sql = "CAST(" + element->sql + " AS " + target.ToString() + ")";
  auto cast = MakeNode(BoundKind::kCast, target, sql);
  cast->children.push_back(std::move(element));
  element = std::move(cast);
  return Status::OK();
}

// Coerces `elements` to their common type, which it returns.
Result<SqlType> CoerceElements(const std::vector<BoundExpressionPtr*>& elements,
                               const std::string& what, const sql::Expression& expression) {
  std::vector<BoundExpression*> nodes;
  for (BoundExpressionPtr* element : elements) nodes.push_back(element->get());
  ASSIGN_OR_RAISE(SqlType target, CommonElementType(nodes, what, expression));
  if (target.id() == TypeId::kNull) return target;
  for (BoundExpressionPtr* element : elements) {
    RETURN_NOT_OK(CoerceElement(*element, target, expression));
  }
  return target;
}

}  // namespace

ExpressionBinder::ExpressionBinder(const Scope& scope, const functions::FunctionRegistry& functions,
                                   std::string clause, AggregateRule aggregates)
    : scope_(scope), functions_(functions), clause_(std::move(clause)), aggregates_(aggregates) {}

Result<BoundExpressionPtr> ExpressionBinder::Bind(const sql::Expression& expression) const {
  auto bound = BindNode(expression, false);
  if (!bound.ok()) return bound.status().WithLocation(expression.location);
  return bound;
}

Result<BoundExpressionPtr> ExpressionBinder::BindColumn(const sql::Expression& expression) const {
  if (expression.qualifier.empty()) {
    const auto& parameters = scope_.lambda_parameters;
    for (auto parameter = parameters.rbegin(); parameter != parameters.rend(); ++parameter) {
      if (parameter->first != expression.name) continue;
      auto node = MakeNode(BoundKind::kLambdaVariable, parameter->second, expression.name);
      node->name = expression.name;
      return node;
    }
  }
  const ScopeColumn* found = nullptr;
  for (const ScopeColumn& column : scope_.columns) {
    if (column.name != expression.name) continue;
    if (!expression.qualifier.empty() && column.qualifier != expression.qualifier) continue;
    if (found != nullptr) {
      return Status::BindError("Column '" + expression.name + "' is ambiguous: it is in both " +
                                   found->qualifier + " and " + column.qualifier,
                               expression.location,
                               "qualify it, e.g. " + found->qualifier + "." + expression.name);
    }
    found = &column;
  }
  if (found == nullptr) {
    std::string written = expression.qualifier.empty()
                              ? expression.name
                              : expression.qualifier + "." + expression.name;
    std::vector<std::string> names;
    for (const ScopeColumn& column : scope_.columns) names.push_back(column.name);
    std::string nearest = NearestName(expression.name, names);
    bool qualifier_known = expression.qualifier.empty();
    for (const ScopeColumn& column : scope_.columns) {
      if (column.qualifier == expression.qualifier) qualifier_known = true;
    }
    std::string hint = !nearest.empty() ? "did you mean " + nearest + "?"
                       : !qualifier_known
                           ? "'" + expression.qualifier + "' is not a source or alias in FROM"
                           : "";
    return Status::BindError(clause_ + " column '" + written + "' cannot be resolved.",
                             expression.location, hint);
  }
  std::string sql =
      scope_.qualify_names && !found->pseudo ? found->qualifier + "." + found->name : found->name;
  auto node = MakeNode(BoundKind::kColumn, found->type, sql);
  node->column_index = found->index;
  node->name = found->name;
  return node;
}

Result<BoundExpressionPtr> ExpressionBinder::BindFunction(const sql::Expression& expression,
                                                          bool inside_aggregate) const {
  const functions::FunctionDefinition* function = functions_.Find(expression.name);
  if (function == nullptr) {
    std::string nearest = functions_.Suggest(expression.name);
    return Status::BindError("Can't find any functions with the name '" + expression.name + "'",
                             expression.location,
                             nearest.empty() ? "" : "did you mean " + nearest + "?");
  }
  bool aggregate = function->kind == functions::FunctionKind::kAggregate;
  if (function->kind == functions::FunctionKind::kTable && clause_ != "SELECT" &&
      clause_ != "GROUP BY") {
    return Status::BindError("Table functions can only be used in the SELECT list, not in " +
                                 clause_ + ": " + expression.ToSql(),
                             expression.location);
  }
  if (aggregate && inside_aggregate) {
    return Status::BindError("Aggregate functions can not be nested: " + expression.ToSql(),
                             expression.location);
  }
  if (aggregate && aggregates_ != AggregateRule::kAllowed) {
    return Status::BindError(AggregateError(aggregates_, function->name), expression.location,
                             aggregates_ == AggregateRule::kForbiddenInWhere
                                 ? "use HAVING to filter on aggregates"
                                 : "");
  }
  if (expression.star && !expression.qualifier.empty()) {
    return Status::BindError(expression.ToSql() +
                                 " counts the rows of a MATCH_RECOGNIZE pattern "
                                 "variable, and there is none here",
                             expression.location, "use COUNT(*)");
  }
  if (expression.star && !function->accepts_star) {
    return Status::BindError("Function " + function->name + " does not accept *",
                             expression.location);
  }
  int count = static_cast<int>(expression.children.size());
  bool arity_ok = count >= function->min_arguments &&
                  (function->max_arguments < 0 || count <= function->max_arguments);
  if (!expression.star && !arity_ok && !(function->accepts_star && count == 0)) {
    return Status::BindError(
        "Function " + function->name + " takes " +
            (function->max_arguments < 0 ? "at least " + std::to_string(function->min_arguments)
             : function->min_arguments == function->max_arguments
                 ? std::to_string(function->min_arguments)
                 : std::to_string(function->min_arguments) + " to " +
                       std::to_string(function->max_arguments)) +
            (function->max_arguments == 1 && function->min_arguments == 1 ? " argument"
                                                                          : " arguments") +
            " but got " + std::to_string(count),
        expression.location, "signature: " + function->signature);
  }
  std::vector<BoundExpressionPtr> children;
  std::vector<SqlType> argument_types;
  for (size_t i = 0; i < expression.children.size(); ++i) {
    const sql::Expression& argument = *expression.children[i];
    bool must_be_literal = functions::IsLiteralArgument(*function, i, expression.children.size());
    if (must_be_literal && argument.kind != sql::ExpressionKind::kLiteral) {
      return Status::BindError(
          "Argument " + std::to_string(i + 1) + " of " + function->name + " must be a literal",
          argument.location, "signature: " + function->signature);
    }
    bool unit = std::find(function->unit_arguments.begin(), function->unit_arguments.end(),
                          static_cast<int>(i)) != function->unit_arguments.end();
    if (unit && argument.kind == sql::ExpressionKind::kColumnRef && argument.qualifier.empty() &&
        functions::ParseTimeUnit(argument.name).ok()) {
      // A bare time unit (TIMESTAMPADD(SECONDS, ...)) is passed as its name.
      auto node = MakeNode(BoundKind::kLiteral, SqlType::String(), argument.name);
      node->literal.kind = sql::LiteralKind::kString;
      node->literal.text = argument.name;
      argument_types.push_back(node->type);
      children.push_back(std::move(node));
      continue;
    }
    if (argument.kind == sql::ExpressionKind::kLambda) {
      ASSIGN_OR_RAISE(auto lambda, BindLambda(*function, argument, argument_types,
                                              inside_aggregate || aggregate));
      argument_types.push_back(lambda->type);
      children.push_back(std::move(lambda));
      continue;
    }
    ASSIGN_OR_RAISE(auto child, BindNode(argument, inside_aggregate || aggregate));
    argument_types.push_back(child->type);
    children.push_back(std::move(child));
  }
  auto result_type = function->resolve(argument_types);
  if (!result_type.ok()) return result_type.status().WithLocation(expression.location);
  std::string sql = function->name + "(" + (expression.star ? "*" : JoinSql(children)) + ")";
  auto node = MakeNode(aggregate ? BoundKind::kAggregate : BoundKind::kFunction, *result_type, sql);
  node->function = function;
  node->name = function->name;
  node->star = expression.star;
  node->children = std::move(children);
  return node;
}

Result<BoundExpressionPtr> ExpressionBinder::BindLambda(
    const functions::FunctionDefinition& function, const sql::Expression& lambda,
    const std::vector<SqlType>& earlier_types, bool inside_aggregate) const {
  if (!function.takes_lambdas) {
    return Status::BindError("Function " + function.name + " does not take a lambda",
                             lambda.location);
  }
  std::vector<SqlType> parameter_types;
  if (function.lambda_state >= 0 &&
      static_cast<size_t>(function.lambda_state) < earlier_types.size()) {
    parameter_types.push_back(earlier_types[function.lambda_state]);
  }
  const SqlType collection = earlier_types.empty() ? SqlType::Null() : earlier_types[0];
  if (collection.id() == TypeId::kArray) {
    parameter_types.push_back(collection.element());
  } else if (collection.id() == TypeId::kMap) {
    parameter_types.push_back(collection.key());
    parameter_types.push_back(collection.value());
  } else {
    return Status::BindError("Function " + function.name +
                                 " applies a lambda to an ARRAY or a MAP but got " +
                                 collection.ToString(),
                             lambda.location);
  }
  const std::vector<std::string>& names = lambda.field_names;
  if (names.size() != parameter_types.size()) {
    return Status::BindError("The lambda of " + function.name + " over " + collection.ToString() +
                                 " takes " + std::to_string(parameter_types.size()) +
                                 " parameters but has " + std::to_string(names.size()),
                             lambda.location);
  }
  Scope inner = scope_;
  std::string sql = "(";
  for (size_t i = 0; i < names.size(); ++i) {
    inner.lambda_parameters.emplace_back(names[i], parameter_types[i]);
    sql += (i > 0 ? ", " : "") + names[i];
  }
  ExpressionBinder body_binder(inner, functions_, clause_, aggregates_);
  ASSIGN_OR_RAISE(auto body, body_binder.BindNode(*lambda.children.at(0), inside_aggregate));
  auto node = MakeNode(BoundKind::kLambda, body->type, sql + ") => " + body->sql);
  node->field_names = names;
  node->children.push_back(std::move(body));
  return node;
}

Result<BoundExpressionPtr> ExpressionBinder::BindBinary(
    const sql::Expression& expression, std::vector<BoundExpressionPtr> children) const {
  const std::string& op = expression.name;
  const SqlType& left = children[0]->type;
  const SqlType& right = children[1]->type;
  std::string sql = "(" + children[0]->sql + " " + op + " " + children[1]->sql + ")";
  SqlType type;
  if (op == "AND" || op == "OR") {
    for (const auto& child : children) {
      if (child->type.id() != TypeId::kBoolean && child->type.id() != TypeId::kNull) {
        return Status::BindError(
            op + " expects BOOLEAN operands but " + child->sql + " is " + child->type.ToString(),
            expression.location);
      }
    }
    type = SqlType::Boolean();
  } else if (IsComparison(op)) {
    // ksqlDB's ExpressionTypeManager and ComparisonUtil, and in a WHERE or HAVING its
    // FilterTypeValidator, which names the clause and the expression.
    const std::string comparison = "(" + MessageSql(*children[0]) + " " +
                                   (op == "!=" ? std::string("<>") : op) + " " +
                                   MessageSql(*children[1]) + ")";
    const bool filter = clause_ == "WHERE" || clause_ == "HAVING";
    const std::string prefix = filter ? "Error in " + clause_ + " expression: " : "";
    const std::string statement = filter ? "\nStatement: " + comparison : "";
    if (left.id() == TypeId::kNull || right.id() == TypeId::kNull) {
      return Status::BindError(prefix +
                                   "Comparison with NULL not supported: " + BaseTypeName(left) +
                                   " " + (op == "!=" ? "<>" : op) + " " + BaseTypeName(right) +
                                   "\nUse 'IS NULL' or 'IS NOT NULL' instead." + statement,
                               expression.location);
    }
    if (!Comparable(left, right)) {
      return Status::BindError(prefix + "Cannot compare " + children[0]->sql + " (" +
                                   left.ToString() + ") to " + children[1]->sql + " (" +
                                   right.ToString() + ") with " + ComparisonTypeName(op) + "." +
                                   statement,
                               expression.location, "CAST one side to the other's type");
    }
    type = SqlType::Boolean();
  } else if (op == "||" ||
             (op == "+" && left.id() == TypeId::kString && right.id() == TypeId::kString)) {
    if ((left.id() != TypeId::kString && left.id() != TypeId::kNull) ||
        (right.id() != TypeId::kString && right.id() != TypeId::kNull)) {
      return Status::BindError("Operator " + op + " concatenates STRING values but got " +
                                   left.ToString() + " and " + right.ToString(),
                               expression.location);
    }
    type = SqlType::String();
  } else {
    if (left.id() == TypeId::kNull || right.id() == TypeId::kNull) {
      // ksqlDB's Operator.resultType: arithmetic needs typed operands (a bare NULL has none;
      // CAST(NULL AS INT) does). Its message prints the expression and a NULL as `null`.
      auto text = [](const BoundExpression& operand) {
        return IsLiteral(operand, sql::LiteralKind::kNull) ? std::string("null") : operand.sql;
      };
      auto type_name = [](const SqlType& type) {
        return type.id() == TypeId::kNull ? std::string("null") : type.ToString();
      };
      return Status::BindError("Error processing expression: (" + text(*children[0]) + " " + op +
                                   " " + text(*children[1]) + "). Arithmetic on types " +
                                   type_name(left) + " and " + type_name(right) +
                                   " are not supported.",
                               expression.location, "CAST the NULL to a type");
    }
    if ((!left.is_numeric() && left.id() != TypeId::kNull) ||
        (!right.is_numeric() && right.id() != TypeId::kNull)) {
      return Status::BindError(
          "Operator " + op + " does not apply to " + left.ToString() + " and " + right.ToString(),
          expression.location,
          left.id() == TypeId::kString || right.id() == TypeId::kString
              ? "CAST the STRING to a number first"
              : "");
    }
    bool decimal = (left.id() == TypeId::kDecimal || right.id() == TypeId::kDecimal) &&
                   left.id() != TypeId::kDouble && right.id() != TypeId::kDouble;
    if (decimal) {
      type = DecimalArithmetic(op, left, right);
    } else {
      ASSIGN_OR_RAISE(type, types::CommonNumericType(left, right));
    }
  }
  auto node = MakeNode(BoundKind::kBinary, type, sql);
  node->name = op == "!=" ? "<>" : op;
  node->children = std::move(children);
  return node;
}

Result<BoundExpressionPtr> ExpressionBinder::BindNode(const sql::Expression& expression,
                                                      bool inside_aggregate) const {
  using sql::ExpressionKind;
  if (expression.kind == ExpressionKind::kColumnRef) return BindColumn(expression);
  if (expression.kind == ExpressionKind::kFunctionCall) {
    return BindFunction(expression, inside_aggregate);
  }
  if (expression.kind == ExpressionKind::kLambda) {
    return Status::BindError(
        "A lambda is only allowed as an argument of TRANSFORM, FILTER or REDUCE",
        expression.location);
  }
  if (expression.kind == ExpressionKind::kInterval) {
    return Status::BindError("INTERVAL is only allowed in a WATERMARK clause", expression.location);
  }
  if (expression.kind == ExpressionKind::kLiteral) {
    auto node = MakeNode(BoundKind::kLiteral, LiteralType(expression.literal),
                         LiteralSql(expression.literal));
    node->literal = expression.literal;
    return node;
  }

  std::vector<BoundExpressionPtr> children;
  for (const auto& child : expression.children) {
    ASSIGN_OR_RAISE(auto bound, BindNode(*child, inside_aggregate));
    children.push_back(std::move(bound));
  }

  switch (expression.kind) {
    case ExpressionKind::kUnary: {
      const SqlType& type = children[0]->type;
      if (expression.name == "NOT") {
        if (type.id() != TypeId::kBoolean && type.id() != TypeId::kNull) {
          return Status::BindError(
              "NOT expects a BOOLEAN but " + children[0]->sql + " is " + type.ToString(),
              expression.location);
        }
        auto node =
            MakeNode(BoundKind::kUnary, SqlType::Boolean(), "(NOT " + children[0]->sql + ")");
        node->name = "NOT";
        node->children = std::move(children);
        return node;
      }
      if (!type.is_numeric() && type.id() != TypeId::kNull) {
        return Status::BindError("Unary " + expression.name + " expects a number but " +
                                     children[0]->sql + " is " + type.ToString(),
                                 expression.location);
      }
      if (expression.name == "+") return std::move(children[0]);
      auto node = MakeNode(BoundKind::kUnary, type, "-" + children[0]->sql);
      node->name = "-";
      node->children = std::move(children);
      return node;
    }
    case ExpressionKind::kBinary:
      return BindBinary(expression, std::move(children));
    case ExpressionKind::kCase: {
      std::vector<BoundExpressionPtr> searched;
      size_t start = 0;
      BoundExpressionPtr operand;
      if (expression.has_operand) {
        operand = std::move(children[0]);
        start = 1;
      }
      size_t pairs_end = start + ((children.size() - start) / 2) * 2;
      bool has_else = (children.size() - start) % 2 == 1;
      SqlType result = SqlType::Null();
      std::string sql = "(CASE";
      for (size_t i = start; i < pairs_end; i += 2) {
        BoundExpressionPtr condition = std::move(children[i]);
        if (operand) {
          if (!Comparable(operand->type, condition->type)) {
            return Status::BindError("CASE operand " + operand->sql + " (" +
                                         operand->type.ToString() + ") cannot be compared to " +
                                         condition->sql + " (" + condition->type.ToString() + ")",
                                     expression.location);
          }
          auto equals = MakeNode(BoundKind::kBinary, SqlType::Boolean(),
                                 "(" + operand->sql + " = " + condition->sql + ")");
          equals->name = "=";
          equals->children.push_back(operand->Clone());
          equals->children.push_back(std::move(condition));
          condition = std::move(equals);
        } else if (condition->type.id() != TypeId::kBoolean &&
                   condition->type.id() != TypeId::kNull) {
          return Status::BindError("WHEN condition " + condition->sql + " must be BOOLEAN but is " +
                                       condition->type.ToString(),
                                   expression.location);
        }
        sql += " WHEN " + condition->sql + " THEN " + children[i + 1]->sql;
        searched.push_back(std::move(condition));
        searched.push_back(std::move(children[i + 1]));
      }
      if (has_else) {
        sql += " ELSE " + children.back()->sql;
        searched.push_back(std::move(children.back()));
      }
      // Results sit at odd positions (after each WHEN), plus the ELSE at the end.
      std::vector<const BoundExpression*> results;
      for (size_t i = 1; i < searched.size(); i += 2) results.push_back(searched[i].get());
      if (has_else) results.push_back(searched.back().get());
      for (const BoundExpression* branch_result : results) {
        const SqlType& branch = branch_result->type;
        if (branch.id() == TypeId::kNull) continue;
        if (result.id() == TypeId::kNull) {
          result = branch;
        } else if (result.is_numeric() && branch.is_numeric()) {
          ASSIGN_OR_RAISE(result, types::CommonNumericType(result, branch));
        } else if (!(result == branch)) {
          return Status::BindError(
              "Invalid Case expression. Type for all 'THEN' clauses should "
              "be the same. Result expression '" +
                  branch_result->sql + "' is of type " + branch.ToString() + " but expected " +
                  result.ToString(),
              expression.location);
        }
      }
      if (result.id() == TypeId::kNull) {
        return Status::BindError("Invalid Case expression. All case branches have NULL type",
                                 expression.location, "CAST one branch to the intended type");
      }
      auto node = MakeNode(BoundKind::kCase, result, sql + " END)");
      node->has_else = has_else;
      node->children = std::move(searched);
      return node;
    }
    case ExpressionKind::kCast: {
      if (!expression.cast_custom_type.empty()) {
        return Status::NotSupported(
            "CAST to custom type " + expression.cast_custom_type + " is not supported yet",
            expression.location);
      }
      const SqlType& from = children[0]->type;
      if (!types::Castable(from, expression.cast_type)) {
        return Status::BindError("Cast of " + from.ToString() + " to " +
                                     expression.cast_type.ToString() + " is not supported",
                                 expression.location);
      }
      auto node =
          MakeNode(BoundKind::kCast, expression.cast_type,
                   "CAST(" + children[0]->sql + " AS " + expression.cast_type.ToString() + ")");
      node->children = std::move(children);
      return node;
    }
    case ExpressionKind::kLike: {
      for (const auto& child : children) {
        if (child->type.id() != TypeId::kString && child->type.id() != TypeId::kNull) {
          return Status::BindError(
              "LIKE expects STRING operands but " + child->sql + " is " + child->type.ToString(),
              expression.location);
        }
      }
      std::string sql = "(" + children[0]->sql + (expression.negated ? " NOT" : "") + " LIKE " +
                        children[1]->sql +
                        (children.size() > 2 ? " ESCAPE " + children[2]->sql : "") + ")";
      auto node = MakeNode(BoundKind::kLike, SqlType::Boolean(), sql);
      node->negated = expression.negated;
      node->children = std::move(children);
      return node;
    }
    case ExpressionKind::kBetween:
    case ExpressionKind::kInList: {
      for (size_t i = 1; i < children.size(); ++i) {
        // ksqlDB coerces the literals of an IN list (CoercionUtil.coerceUserList): a string
        // that reads as a value of a number or BOOLEAN it is compared with is one.
        const SqlType& value_type = children[0]->type;
        if (IsLiteral(*children[i], sql::LiteralKind::kString) &&
            (value_type.is_numeric() || value_type.id() == TypeId::kBoolean) &&
            ParseLiteralAs(children[i]->literal.text, value_type).ok()) {
          auto cast = MakeNode(BoundKind::kCast, value_type, children[i]->sql);
          cast->implicit = true;
          cast->children.push_back(std::move(children[i]));
          children[i] = std::move(cast);
        }
        if (!Comparable(children[0]->type, children[i]->type)) {
          return Status::BindError("Cannot compare " + children[0]->sql + " (" +
                                       children[0]->type.ToString() + ") to " + children[i]->sql +
                                       " (" + children[i]->type.ToString() + ")",
                                   expression.location);
        }
      }
      bool between = expression.kind == ExpressionKind::kBetween;
      std::string sql = "(" + children[0]->sql + (expression.negated ? " NOT" : "") +
                        (between ? " BETWEEN " + children[1]->sql + " AND " + children[2]->sql
                                 : " IN (" + JoinSql(children, 1) + ")") +
                        ")";
      auto node =
          MakeNode(between ? BoundKind::kBetween : BoundKind::kInList, SqlType::Boolean(), sql);
      node->negated = expression.negated;
      node->children = std::move(children);
      return node;
    }
    case ExpressionKind::kIsNull: {
      auto node =
          MakeNode(BoundKind::kIsNull, SqlType::Boolean(),
                   "(" + children[0]->sql + (expression.negated ? " IS NOT NULL)" : " IS NULL)"));
      node->negated = expression.negated;
      node->children = std::move(children);
      return node;
    }
    case ExpressionKind::kIsDistinctFrom: {
      if (!Comparable(children[0]->type, children[1]->type)) {
        return Status::BindError("Cannot compare " + children[0]->sql + " (" +
                                     children[0]->type.ToString() + ") to " + children[1]->sql +
                                     " (" + children[1]->type.ToString() + ")",
                                 expression.location);
      }
      auto node =
          MakeNode(BoundKind::kIsDistinctFrom, SqlType::Boolean(),
                   "(" + children[0]->sql +
                       (expression.negated ? " IS NOT DISTINCT FROM " : " IS DISTINCT FROM ") +
                       children[1]->sql + ")");
      node->negated = expression.negated;
      node->children = std::move(children);
      return node;
    }
    case ExpressionKind::kSubscript: {
      const SqlType& container = children[0]->type;
      SqlType result;
      if (container.id() == TypeId::kArray) {
        if (!children[1]->type.is_integral()) {
          return Status::BindError("Array index " + children[1]->sql + " must be INT but is " +
                                       children[1]->type.ToString(),
                                   expression.location);
        }
        result = container.element();
      } else if (container.id() == TypeId::kMap) {
        if (!types::ImplicitlyConvertible(children[1]->type, container.key())) {
          return Status::BindError("Map key " + children[1]->sql + " must be " +
                                       container.key().ToString() + " but is " +
                                       children[1]->type.ToString(),
                                   expression.location);
        }
        result = container.value();
      } else {
        return Status::BindError("Subscript [ ] applies to ARRAY and MAP values but " +
                                     children[0]->sql + " is " + container.ToString(),
                                 expression.location);
      }
      auto node =
          MakeNode(BoundKind::kSubscript, result, children[0]->sql + "[" + children[1]->sql + "]");
      node->children = std::move(children);
      return node;
    }
    case ExpressionKind::kDereference: {
      const SqlType& container = children[0]->type;
      if (container.id() != TypeId::kStruct) {
        return Status::BindError(
            "-> applies to STRUCT values but " + children[0]->sql + " is " + container.ToString(),
            expression.location);
      }
      const types::StructField* field = nullptr;
      std::vector<std::string> names;
      for (const auto& candidate : container.fields()) {
        names.push_back(candidate.name);
        if (candidate.name == expression.name) field = &candidate;
      }
      if (field == nullptr) {
        std::string nearest = NearestName(expression.name, names);
        return Status::BindError("STRUCT " + children[0]->sql + " has no field " + expression.name,
                                 expression.location,
                                 nearest.empty() ? "" : "did you mean " + nearest + "?");
      }
      auto node =
          MakeNode(BoundKind::kDereference, field->type, children[0]->sql + "->" + expression.name);
      node->name = expression.name;
      node->children = std::move(children);
      return node;
    }
    case ExpressionKind::kArray: {
      if (children.empty()) {
        return Status::BindError(
            "Array constructor cannot be empty. Please supply at least one element (see "
            "https://github.com/confluentinc/ksql/issues/4239).",
            expression.location);
      }
      std::vector<BoundExpressionPtr*> elements;
      for (auto& child : children) elements.push_back(&child);
      ASSIGN_OR_RAISE(SqlType element, CoerceElements(elements, "ARRAY elements", expression));
      if (element.id() == TypeId::kNull) {
        return Status::BindError(
            "Cannot construct an array with all NULL elements (see "
            "https://github.com/confluentinc/ksql/issues/4239). As a workaround, you may cast a "
            "NULL value to the desired type.",
            expression.location);
      }
      auto node =
          MakeNode(BoundKind::kArray, SqlType::Array(element), "ARRAY[" + JoinSql(children) + "]");
      node->children = std::move(children);
      return node;
    }
    case ExpressionKind::kMap: {
      if (children.empty()) {
        return Status::BindError(
            "Map constructor cannot be empty. Please supply at least one key value pair (see "
            "https://github.com/confluentinc/ksql/issues/4239).",
            expression.location);
      }
      std::vector<BoundExpressionPtr*> keys;
      std::vector<BoundExpressionPtr*> values;
      for (size_t i = 0; i + 1 < children.size(); i += 2) {
        keys.push_back(&children[i]);
        values.push_back(&children[i + 1]);
      }
      ASSIGN_OR_RAISE(SqlType key, CoerceElements(keys, "MAP keys", expression));
      ASSIGN_OR_RAISE(SqlType value, CoerceElements(values, "MAP values", expression));
      if (key.id() == TypeId::kNull) {
        return Status::BindError("Cannot construct a map with all NULL keys", expression.location);
      }
      if (value.id() == TypeId::kNull) {
        return Status::BindError("Cannot construct a map with all NULL values",
                                 expression.location);
      }
      std::string sql = "MAP(";
      for (size_t i = 0; i + 1 < children.size(); i += 2) {
        sql += (i > 0 ? ", " : "") + children[i]->sql + ":=" + children[i + 1]->sql;
      }
      auto node = MakeNode(BoundKind::kMap, SqlType::Map(key, value), sql + ")");
      node->children = std::move(children);
      return node;
    }
    case ExpressionKind::kStruct: {
      std::vector<types::StructField> fields;
      std::string sql = "STRUCT(";
      for (size_t i = 0; i < children.size(); ++i) {
        fields.push_back({expression.field_names[i], children[i]->type});
        sql += (i > 0 ? ", " : "") + expression.field_names[i] + ":=" + children[i]->sql;
      }
      auto node = MakeNode(BoundKind::kStruct, SqlType::Struct(std::move(fields)), sql + ")");
      node->field_names = expression.field_names;
      node->children = std::move(children);
      return node;
    }
    default:
      break;
  }
  return Status::Internal("Unhandled expression kind in analyzer");
}

}  // namespace sidestream::analyzer
