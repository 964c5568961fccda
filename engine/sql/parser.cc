#include "sql/parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "SidestreamSqlLexer.h"
#include "SidestreamSqlParser.h"
#include "antlr4-runtime.h"
#include "common/did_you_mean.h"

namespace sidestream::sql {
namespace {

using grammar::SidestreamSqlLexer;
using grammar::SidestreamSqlParser;
using P = SidestreamSqlParser;

// Deeper nesting than this is refused before parsing: the recursive-descent parser and
// the AST builder would otherwise risk the stack on hostile input.
constexpr int kMaxNestingDepth = 200;

SourceLocation LocationOf(const antlr4::Token* token) {
  return SourceLocation{static_cast<int>(token->getLine()),
                        static_cast<int>(token->getCharPositionInLine()) + 1};
}

SourceLocation LocationOf(antlr4::ParserRuleContext* context) {
  return LocationOf(context->getStart());
}

std::string UpperCase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// Strips the quotes of a quoted token and undoubles the escaped quote character.
std::string Unquote(const std::string& text, char quote) {
  std::string out;
  if (text.size() < 2) return out;
  out.reserve(text.size() - 2);
  for (size_t i = 1; i + 1 < text.size(); ++i) {
    out.push_back(text[i]);
    if (text[i] == quote && i + 2 < text.size() && text[i + 1] == quote) ++i;
  }
  return out;
}

/// Builds the AST from a successful parse tree. Every method returns a Status for the
/// checks the grammar leaves to code (time units, window options, literal ranges).
class AstBuilder {
 public:
  /// `sql` is the parsed text; ANTLR counts code points, so for non-ASCII text the
  /// builder maps code point indexes to byte offsets once.
  explicit AstBuilder(std::string_view sql) : sql_(sql) {
    const bool ascii = std::all_of(sql.begin(), sql.end(),
                                   [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (ascii) return;
    for (size_t i = 0; i < sql.size(); ++i) {
      // Every byte that does not continue a UTF-8 sequence starts a code point.
      if ((static_cast<unsigned char>(sql[i]) & 0xC0) != 0x80) code_point_offsets_.push_back(i);
    }
    code_point_offsets_.push_back(sql.size());
  }

  Result<std::vector<StatementPtr>> BuildScript(P::ScriptContext* context) {
    std::vector<StatementPtr> statements;
    for (auto* statement : context->statement()) {
      ASSIGN_OR_RAISE(auto built, BuildStatement(statement));
      statements.push_back(std::move(built));
    }
    return statements;
  }

  Result<ExpressionPtr> BuildExpression(P::ExpressionContext* context) {
    return BuildBoolean(context->booleanExpression());
  }

 private:
  std::string TextOf(antlr4::ParserRuleContext* context) const {
    antlr4::Token* start = context->getStart();
    antlr4::Token* stop = context->getStop();
    if (start == nullptr || stop == nullptr || stop->getStopIndex() < start->getStartIndex()) {
      return {};
    }
    size_t begin = start->getStartIndex();
    size_t end = stop->getStopIndex() + 1;
    if (!code_point_offsets_.empty()) {
      const size_t last = code_point_offsets_.size() - 1;
      begin = code_point_offsets_[std::min(begin, last)];
      end = code_point_offsets_[std::min(end, last)];
    }
    if (end > sql_.size() || begin > end) return {};
    return std::string(sql_.substr(begin, end - begin));
  }

  // ------------------------------------------------------------ identifiers

  static std::string Identifier(P::IdentifierContext* context) {
    const std::string text = context->getText();
    if (dynamic_cast<P::QuotedIdentifierContext*>(context) != nullptr) return Unquote(text, '"');
    if (dynamic_cast<P::BackQuotedIdentifierContext*>(context) != nullptr) {
      return Unquote(text, '`');
    }
    return UpperCase(text);
  }

  static bool IsQuoted(P::IdentifierContext* context) {
    return dynamic_cast<P::QuotedIdentifierContext*>(context) != nullptr ||
           dynamic_cast<P::BackQuotedIdentifierContext*>(context) != nullptr;
  }

  // ------------------------------------------------------------ numbers and durations

  static Result<int64_t> ParseInteger(antlr4::Token* token, bool negative = false) {
    std::string text = token->getText();
    if (negative) text.insert(text.begin(), '-');
    int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
      return Status::SyntaxError("Integer literal out of range: " + text, LocationOf(token),
                                 "BIGINT holds -9223372036854775808 to 9223372036854775807; "
                                 "write a DECIMAL (" +
                                     text + ".0) or DOUBLE (" + text + "E0) literal instead");
    }
    return value;
  }

  // Milliseconds in one `unit` (upper case, singular or plural); 0 when unknown.
  static int64_t UnitFactor(const std::string& name) {
    if (name == "MILLISECOND" || name == "MILLISECONDS") return 1;
    if (name == "SECOND" || name == "SECONDS") return 1000;
    if (name == "MINUTE" || name == "MINUTES") return 60 * 1000;
    if (name == "HOUR" || name == "HOURS") return 60 * 60 * 1000;
    if (name == "DAY" || name == "DAYS") return 24 * 60 * 60 * 1000;
    return 0;
  }

  static Result<int64_t> UnitMilliseconds(P::IdentifierContext* unit) {
    const std::string name = UpperCase(unit->getText());
    if (int64_t factor = UnitFactor(name); factor != 0) return factor;
    std::string hint = NearestName(name, {"MILLISECONDS", "SECONDS", "MINUTES", "HOURS", "DAYS",
                                          "MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY"});
    hint = hint.empty() ? "use MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS"
                        : "did you mean " + hint + "?";
    return Status::SyntaxError("Unknown time unit '" + unit->getText() + "'", LocationOf(unit),
                               hint);
  }

  static Result<int64_t> ScaleDuration(int64_t amount, P::IdentifierContext* unit,
                                       SourceLocation location) {
    ASSIGN_OR_RAISE(int64_t factor, UnitMilliseconds(unit));
    int64_t millis = 0;
    if (__builtin_mul_overflow(amount, factor, &millis)) {
      return Status::SyntaxError("Duration too large", location);
    }
    return millis;
  }

  static Result<int64_t> Duration(P::DurationContext* context) {
    ASSIGN_OR_RAISE(int64_t amount, ParseInteger(context->INTEGER_VALUE()->getSymbol()));
    return ScaleDuration(amount, context->unit, LocationOf(context));
  }

  // ------------------------------------------------------------ literals

  Result<Literal> NumberLiteral(P::NumberContext* context, bool negative) {
    Literal literal;
    antlr4::Token* token = context->getStart();
    literal.text = (negative ? "-" : "") + token->getText();
    if (context->INTEGER_VALUE() != nullptr) {
      literal.kind = LiteralKind::kInteger;
      ASSIGN_OR_RAISE(literal.integer_value, ParseInteger(token, negative));
    } else if (context->DECIMAL_VALUE() != nullptr) {
      literal.kind = LiteralKind::kDecimal;
    } else {
      literal.kind = LiteralKind::kDouble;
      literal.double_value = std::strtod(literal.text.c_str(), nullptr);
      if (std::isinf(literal.double_value)) {
        return Status::SyntaxError("Number overflows DOUBLE: " + literal.text, LocationOf(context));
      }
    }
    return literal;
  }

  Result<Literal> BuildLiteral(P::LiteralContext* context) {
    Literal literal;
    if (dynamic_cast<P::NullLiteralContext*>(context) != nullptr) {
      literal.kind = LiteralKind::kNull;
      literal.text = "NULL";
    } else if (auto* boolean = dynamic_cast<P::BooleanLiteralContext*>(context)) {
      literal.kind = LiteralKind::kBoolean;
      literal.boolean_value = boolean->TRUE() != nullptr;
      literal.text = literal.boolean_value ? "TRUE" : "FALSE";
    } else if (auto* string = dynamic_cast<P::StringLiteralContext*>(context)) {
      literal.kind = LiteralKind::kString;
      literal.text = Unquote(string->getText(), '\'');
    } else {
      auto* numeric = dynamic_cast<P::NumericLiteralContext*>(context);
      return NumberLiteral(numeric->number(), false);
    }
    return literal;
  }

  // ------------------------------------------------------------ types

  struct BuiltType {
    types::SqlType type;
    std::string custom;  // the whole type is this CREATE TYPE name
    SourceLocation custom_location;
    std::vector<NamedTypeUse> nested;  // CREATE TYPE names within it
    // Every CREATE TYPE name, the whole type's included (with an empty path).
    std::vector<NamedTypeUse> AllNames() const {
      std::vector<NamedTypeUse> names = nested;
      if (!custom.empty()) names.push_back({{}, custom, custom_location});
      return names;
    }
  };

  // `child` becomes part `index` of `parent`: its type names move below that step.
  static void Adopt(BuiltType& parent, const BuiltType& child, size_t index) {
    for (NamedTypeUse use : child.AllNames()) {
      use.path.insert(use.path.begin(), index);
      parent.nested.push_back(std::move(use));
    }
  }

  Result<BuiltType> BuildType(P::TypeContext* context) {
    BuiltType built;
    if (auto* array = dynamic_cast<P::ArrayTypeContext*>(context)) {
      ASSIGN_OR_RAISE(auto element, BuildType(array->type()));
      built.type = types::SqlType::Array(element.type);
      Adopt(built, element, 0);
    } else if (auto* map = dynamic_cast<P::MapTypeContext*>(context)) {
      ASSIGN_OR_RAISE(auto key, BuildType(map->type(0)));
      ASSIGN_OR_RAISE(auto value, BuildType(map->type(1)));
      built.type = types::SqlType::Map(key.type, value.type);
      Adopt(built, key, 0);
      Adopt(built, value, 1);
    } else if (auto* structure = dynamic_cast<P::StructTypeContext*>(context)) {
      std::vector<types::StructField> fields;
      for (auto* field : structure->structField()) {
        ASSIGN_OR_RAISE(auto type, BuildType(field->type()));
        Adopt(built, type, fields.size());
        std::string name = Identifier(field->identifier());
        for (const auto& existing : fields) {
          if (existing.name == name) {
            return Status::SyntaxError("Duplicate STRUCT field '" + name + "'", LocationOf(field));
          }
        }
        fields.push_back(types::StructField{std::move(name), type.type});
      }
      built.type = types::SqlType::Struct(std::move(fields));
    } else if (dynamic_cast<P::EmptyStructTypeContext*>(context) != nullptr) {
      built.type = types::SqlType::Struct({});
    } else {
      auto* named = dynamic_cast<P::NamedTypeContext*>(context);
      const std::string name = Identifier(named->identifier());
      const auto parameters = named->INTEGER_VALUE();
      const bool quoted = IsQuoted(named->identifier());
      if (!quoted && name == "DECIMAL") {
        if (parameters.size() != 2) {
          return Status::SyntaxError("DECIMAL needs a precision and a scale", LocationOf(named),
                                     "write DECIMAL(precision, scale), e.g. DECIMAL(10, 2)");
        }
        ASSIGN_OR_RAISE(int64_t precision, ParseInteger(parameters[0]->getSymbol()));
        ASSIGN_OR_RAISE(int64_t scale, ParseInteger(parameters[1]->getSymbol()));
        if (precision < 1 || precision > types::kMaxDecimalPrecision) {
          return Status::InvalidArgument(
              "DECIMAL precision must be at least 1, got " + std::to_string(precision),
              LocationOf(parameters[0]->getSymbol()));
        }
        if (scale > precision) {
          return Status::InvalidArgument("DECIMAL scale " + std::to_string(scale) +
                                             " is larger than its precision " +
                                             std::to_string(precision),
                                         LocationOf(parameters[1]->getSymbol()));
        }
        built.type = types::SqlType::Decimal(static_cast<int>(precision), static_cast<int>(scale));
        return built;
      }
      if (!parameters.empty()) {
        return Status::SyntaxError("Type " + name + " takes no parameters",
                                   LocationOf(parameters[0]->getSymbol()));
      }
      auto scalar =
          quoted ? Result<types::SqlType>(Status::NotFound(name)) : types::ScalarTypeFromName(name);
      if (scalar.ok()) {
        built.type = *scalar;
      } else {
        built.type = types::SqlType::Null();  // until the analyzer resolves the name
        built.custom = name;
        built.custom_location = LocationOf(named);
      }
    }
    return built;
  }

  // ------------------------------------------------------------ expressions

  ExpressionPtr NewExpression(ExpressionKind kind, antlr4::ParserRuleContext* context) {
    auto expression = std::make_unique<Expression>();
    expression->kind = kind;
    expression->location = LocationOf(context);
    expression->text = TextOf(context);
    return expression;
  }

  Result<ExpressionPtr> BuildBoolean(P::BooleanExpressionContext* context) {
    if (auto* negation = dynamic_cast<P::LogicalNotContext*>(context)) {
      auto expression = NewExpression(ExpressionKind::kUnary, context);
      expression->name = "NOT";
      ASSIGN_OR_RAISE(auto operand, BuildBoolean(negation->booleanExpression()));
      expression->children.push_back(std::move(operand));
      return expression;
    }
    if (auto* binary = dynamic_cast<P::LogicalBinaryContext*>(context)) {
      auto expression = NewExpression(ExpressionKind::kBinary, context);
      expression->name = binary->op->getType() == P::AND ? "AND" : "OR";
      ASSIGN_OR_RAISE(auto left, BuildBoolean(binary->left));
      ASSIGN_OR_RAISE(auto right, BuildBoolean(binary->right));
      expression->children.push_back(std::move(left));
      expression->children.push_back(std::move(right));
      return expression;
    }
    auto* predicated = dynamic_cast<P::BooleanDefaultContext*>(context)->predicated();
    return BuildPredicated(predicated);
  }

  Result<ExpressionPtr> BuildPredicated(P::PredicatedContext* context) {
    ASSIGN_OR_RAISE(auto value, BuildValue(context->valueExpression()));
    P::PredicateContext* predicate = context->predicate();
    if (predicate == nullptr) return value;

    if (auto* comparison = dynamic_cast<P::ComparisonContext*>(predicate)) {
      auto expression = NewExpression(ExpressionKind::kBinary, context);
      std::string op = comparison->comparisonOperator()->getText();
      expression->name = op == "!=" ? "<>" : op;
      ASSIGN_OR_RAISE(auto right, BuildValue(comparison->right));
      expression->children.push_back(std::move(value));
      expression->children.push_back(std::move(right));
      return expression;
    }
    if (auto* between = dynamic_cast<P::BetweenContext*>(predicate)) {
      auto expression = NewExpression(ExpressionKind::kBetween, context);
      expression->negated = between->NOT() != nullptr;
      ASSIGN_OR_RAISE(auto lower, BuildValue(between->lower));
      ASSIGN_OR_RAISE(auto upper, BuildValue(between->upper));
      expression->children.push_back(std::move(value));
      expression->children.push_back(std::move(lower));
      expression->children.push_back(std::move(upper));
      return expression;
    }
    if (auto* in_list = dynamic_cast<P::InListContext*>(predicate)) {
      auto expression = NewExpression(ExpressionKind::kInList, context);
      expression->negated = in_list->NOT() != nullptr;
      expression->children.push_back(std::move(value));
      for (auto* item : in_list->expression()) {
        ASSIGN_OR_RAISE(auto built, BuildExpression(item));
        expression->children.push_back(std::move(built));
      }
      return expression;
    }
    if (auto* like = dynamic_cast<P::LikeContext*>(predicate)) {
      auto expression = NewExpression(ExpressionKind::kLike, context);
      expression->negated = like->NOT() != nullptr;
      ASSIGN_OR_RAISE(auto pattern, BuildValue(like->pattern));
      expression->children.push_back(std::move(value));
      expression->children.push_back(std::move(pattern));
      if (like->escape != nullptr) {
        ASSIGN_OR_RAISE(auto escape, BuildValue(like->escape));
        expression->children.push_back(std::move(escape));
      }
      return expression;
    }
    if (auto* null_predicate = dynamic_cast<P::NullPredicateContext*>(predicate)) {
      auto expression = NewExpression(ExpressionKind::kIsNull, context);
      expression->negated = null_predicate->NOT() != nullptr;
      expression->children.push_back(std::move(value));
      return expression;
    }
    auto* distinct = dynamic_cast<P::DistinctFromContext*>(predicate);
    auto expression = NewExpression(ExpressionKind::kIsDistinctFrom, context);
    expression->negated = distinct->NOT() != nullptr;
    ASSIGN_OR_RAISE(auto right, BuildValue(distinct->right));
    expression->children.push_back(std::move(value));
    expression->children.push_back(std::move(right));
    return expression;
  }

  // The numeric literal directly under a unary minus, if any: `-5` is folded into one
  // literal so that -9223372036854775808 is in range and ToSql stays simple.
  static P::NumberContext* NumberUnder(P::ValueExpressionContext* context) {
    auto* value = dynamic_cast<P::ValueDefaultContext*>(context);
    if (value == nullptr) return nullptr;
    auto* literal = dynamic_cast<P::LiteralExpressionContext*>(value->primaryExpression());
    if (literal == nullptr) return nullptr;
    auto* numeric = dynamic_cast<P::NumericLiteralContext*>(literal->literal());
    return numeric == nullptr ? nullptr : numeric->number();
  }

  Result<ExpressionPtr> BuildValue(P::ValueExpressionContext* context) {
    if (auto* value = dynamic_cast<P::ValueDefaultContext*>(context)) {
      return BuildPrimary(value->primaryExpression());
    }
    if (auto* unary = dynamic_cast<P::ArithmeticUnaryContext*>(context)) {
      const bool minus = unary->op->getType() == P::MINUS;
      if (minus) {
        if (P::NumberContext* number = NumberUnder(unary->valueExpression())) {
          auto expression = NewExpression(ExpressionKind::kLiteral, context);
          ASSIGN_OR_RAISE(expression->literal, NumberLiteral(number, true));
          return expression;
        }
      }
      auto expression = NewExpression(ExpressionKind::kUnary, context);
      expression->name = minus ? "-" : "+";
      ASSIGN_OR_RAISE(auto operand, BuildValue(unary->valueExpression()));
      expression->children.push_back(std::move(operand));
      return expression;
    }
    auto* binary = dynamic_cast<P::ArithmeticBinaryContext*>(context);
    auto expression = NewExpression(ExpressionKind::kBinary, context);
    expression->name = binary->op->getText();
    ASSIGN_OR_RAISE(auto left, BuildValue(binary->left));
    ASSIGN_OR_RAISE(auto right, BuildValue(binary->right));
    expression->children.push_back(std::move(left));
    expression->children.push_back(std::move(right));
    return expression;
  }

  Status AddWhenClauses(Expression* expression, const std::vector<P::WhenClauseContext*>& whens,
                        P::ExpressionContext* otherwise) {
    for (auto* when : whens) {
      ASSIGN_OR_RAISE(auto condition, BuildExpression(when->condition));
      ASSIGN_OR_RAISE(auto result, BuildExpression(when->result));
      expression->children.push_back(std::move(condition));
      expression->children.push_back(std::move(result));
    }
    if (otherwise != nullptr) {
      ASSIGN_OR_RAISE(auto built, BuildExpression(otherwise));
      expression->children.push_back(std::move(built));
    }
    return Status::OK();
  }

  Result<ExpressionPtr> BuildLambda(P::LambdaFunctionContext* context) {
    auto expression = NewExpression(ExpressionKind::kLambda, context);
    for (auto* parameter : context->identifier()) {
      expression->field_names.push_back(Identifier(parameter));
    }
    ASSIGN_OR_RAISE(auto body, BuildExpression(context->expression()));
    expression->children.push_back(std::move(body));
    return expression;
  }

  Result<ExpressionPtr> BuildPrimary(P::PrimaryExpressionContext* context) {
    if (auto* literal = dynamic_cast<P::LiteralExpressionContext*>(context)) {
      auto expression = NewExpression(ExpressionKind::kLiteral, context);
      ASSIGN_OR_RAISE(expression->literal, BuildLiteral(literal->literal()));
      return expression;
    }
    if (auto* column = dynamic_cast<P::ColumnReferenceContext*>(context)) {
      auto expression = NewExpression(ExpressionKind::kColumnRef, context);
      expression->name = Identifier(column->identifier());
      return expression;
    }
    if (auto* qualified = dynamic_cast<P::QualifiedColumnReferenceContext*>(context)) {
      auto expression = NewExpression(ExpressionKind::kColumnRef, context);
      expression->qualifier = Identifier(qualified->qualifier);
      expression->name = Identifier(qualified->column);
      return expression;
    }
    if (auto* call = dynamic_cast<P::FunctionCallContext*>(context)) {
      auto expression = NewExpression(ExpressionKind::kFunctionCall, context);
      expression->name = Identifier(call->identifier());
      const auto arguments = call->functionArgument();
      for (auto* argument : arguments) {
        if (argument->qualifier != nullptr) {
          // COUNT(A.*) in MATCH_RECOGNIZE: the rows of pattern variable A.
          if (arguments.size() != 1) {
            return Status::SyntaxError(argument->getText() + " must be the only argument",
                                       LocationOf(argument), "write COUNT(A.*)");
          }
          expression->qualifier = Identifier(argument->qualifier);
          expression->star = true;
          break;
        }
        if (argument->lambdaFunction() != nullptr) {
          ASSIGN_OR_RAISE(auto lambda, BuildLambda(argument->lambdaFunction()));
          expression->children.push_back(std::move(lambda));
        } else {
          ASSIGN_OR_RAISE(auto built, BuildExpression(argument->expression()));
          expression->children.push_back(std::move(built));
        }
      }
      return expression;
    }
    if (auto* call = dynamic_cast<P::FunctionCallStarContext*>(context)) {
      auto expression = NewExpression(ExpressionKind::kFunctionCall, context);
      expression->name = Identifier(call->identifier());
      expression->star = true;
      return expression;
    }
    if (auto* parenthesized = dynamic_cast<P::ParenthesizedExpressionContext*>(context)) {
      return BuildExpression(parenthesized->expression());
    }
    if (auto* subscript = dynamic_cast<P::SubscriptContext*>(context)) {
      auto expression = NewExpression(ExpressionKind::kSubscript, context);
      ASSIGN_OR_RAISE(auto base, BuildPrimary(subscript->base));
      ASSIGN_OR_RAISE(auto index, BuildValue(subscript->index));
      expression->children.push_back(std::move(base));
      expression->children.push_back(std::move(index));
      return expression;
    }
    if (auto* dereference = dynamic_cast<P::DereferenceContext*>(context)) {
      auto expression = NewExpression(ExpressionKind::kDereference, context);
      ASSIGN_OR_RAISE(auto base, BuildPrimary(dereference->base));
      expression->name = Identifier(dereference->field);
      expression->children.push_back(std::move(base));
      return expression;
    }
    if (auto* cast = dynamic_cast<P::CastContext*>(context)) {
      auto expression = NewExpression(ExpressionKind::kCast, context);
      ASSIGN_OR_RAISE(auto operand, BuildExpression(cast->expression()));
      ASSIGN_OR_RAISE(auto type, BuildType(cast->type()));
      if (!type.nested.empty()) {
        return Status::NotSupported(
            "CAST to custom type " + type.nested[0].name + " is not supported yet",
            type.nested[0].location);
      }
      expression->cast_type = type.type;
      expression->cast_custom_type = type.custom;
      expression->children.push_back(std::move(operand));
      return expression;
    }
    if (auto* searched = dynamic_cast<P::SearchedCaseContext*>(context)) {
      auto expression = NewExpression(ExpressionKind::kCase, context);
      RETURN_NOT_OK(
          AddWhenClauses(expression.get(), searched->whenClause(), searched->elseExpression));
      return expression;
    }
    if (auto* simple = dynamic_cast<P::SimpleCaseContext*>(context)) {
      auto expression = NewExpression(ExpressionKind::kCase, context);
      expression->has_operand = true;
      ASSIGN_OR_RAISE(auto operand, BuildValue(simple->operand));
      expression->children.push_back(std::move(operand));
      RETURN_NOT_OK(AddWhenClauses(expression.get(), simple->whenClause(), simple->elseExpression));
      return expression;
    }
    if (auto* array = dynamic_cast<P::ArrayConstructorContext*>(context)) {
      auto expression = NewExpression(ExpressionKind::kArray, context);
      for (auto* element : array->expression()) {
        ASSIGN_OR_RAISE(auto built, BuildExpression(element));
        expression->children.push_back(std::move(built));
      }
      return expression;
    }
    if (auto* map = dynamic_cast<P::MapConstructorContext*>(context)) {
      auto expression = NewExpression(ExpressionKind::kMap, context);
      for (auto* entry : map->mapEntry()) {
        ASSIGN_OR_RAISE(auto key, BuildExpression(entry->key));
        ASSIGN_OR_RAISE(auto value, BuildExpression(entry->value));
        expression->children.push_back(std::move(key));
        expression->children.push_back(std::move(value));
      }
      return expression;
    }
    if (auto* structure = dynamic_cast<P::StructConstructorContext*>(context)) {
      auto expression = NewExpression(ExpressionKind::kStruct, context);
      for (auto* entry : structure->structEntry()) {
        std::string name = Identifier(entry->identifier());
        if (std::find(expression->field_names.begin(), expression->field_names.end(), name) !=
            expression->field_names.end()) {
          return Status::SyntaxError("Duplicate STRUCT field '" + name + "'", LocationOf(entry));
        }
        ASSIGN_OR_RAISE(auto value, BuildExpression(entry->expression()));
        expression->field_names.push_back(std::move(name));
        expression->children.push_back(std::move(value));
      }
      return expression;
    }
    auto* interval = dynamic_cast<P::IntervalExpressionContext*>(context);
    auto expression = NewExpression(ExpressionKind::kInterval, context);
    int64_t amount = 0;
    if (interval->INTEGER_VALUE() != nullptr) {
      ASSIGN_OR_RAISE(amount, ParseInteger(interval->INTEGER_VALUE()->getSymbol()));
    } else {
      antlr4::Token* token = interval->STRING_LITERAL()->getSymbol();
      const std::string text = Unquote(token->getText(), '\'');
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), amount);
      if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
        return Status::SyntaxError("Invalid INTERVAL amount '" + text + "'", LocationOf(token),
                                   "write a whole number, e.g. INTERVAL '5' SECOND");
      }
    }
    expression->literal.kind = LiteralKind::kInteger;
    ASSIGN_OR_RAISE(expression->literal.integer_value,
                    ScaleDuration(amount, interval->unit, LocationOf(context)));
    expression->literal.text = std::to_string(expression->literal.integer_value);
    return expression;
  }

  Status BuildExpressionList(P::ExpressionListContext* context, std::vector<ExpressionPtr>* out) {
    for (auto* value : context->valueExpression()) {
      ASSIGN_OR_RAISE(auto built, BuildValue(value));
      out->push_back(std::move(built));
    }
    return Status::OK();
  }

  // ------------------------------------------------------------ queries

  static Relation BuildRelation(P::AliasedRelationContext* context) {
    Relation relation;
    relation.location = LocationOf(context);
    relation.name = Identifier(context->sourceName()->identifier());
    if (context->identifier() != nullptr) relation.alias = Identifier(context->identifier());
    return relation;
  }

  Result<Join> BuildJoin(P::JoinedSourceContext* context) {
    Join join;
    join.location = LocationOf(context->JOIN()->getSymbol());
    P::JoinTypeContext* type = context->joinType();
    if (type->LEFT() != nullptr) {
      join.type = JoinType::kLeft;
    } else if (type->RIGHT() != nullptr) {
      join.type = JoinType::kRight;
    } else if (type->FULL() != nullptr) {
      join.type = JoinType::kFull;
    }
    join.right = BuildRelation(context->aliasedRelation());
    if (P::JoinWindowContext* window = context->joinWindow()) {
      if (window->before != nullptr) {
        ASSIGN_OR_RAISE(join.within_before_ms, Duration(window->before));
        ASSIGN_OR_RAISE(join.within_after_ms, Duration(window->after));
      } else {
        ASSIGN_OR_RAISE(int64_t within, Duration(window->duration(0)));
        join.within_before_ms = within;
        join.within_after_ms = within;
      }
      if (window->grace != nullptr) {
        ASSIGN_OR_RAISE(join.grace_ms, Duration(window->grace));
      }
    }
    ASSIGN_OR_RAISE(join.condition, BuildExpression(context->expression()));
    return join;
  }

  Result<WindowSpec> BuildWindow(P::WindowExpressionContext* context) {
    WindowSpec window;
    window.location = LocationOf(context);
    const std::string kind = UpperCase(context->windowKind->getText());
    if (kind == "TUMBLING") {
      window.kind = WindowKind::kTumbling;
    } else if (kind == "HOPPING") {
      window.kind = WindowKind::kHopping;
    } else if (kind == "SESSION") {
      window.kind = WindowKind::kSession;
    } else {
      std::string nearest = NearestName(kind, {"TUMBLING", "HOPPING", "SESSION"});
      return Status::SyntaxError(
          "Unknown window type '" + context->windowKind->getText() + "'",
          LocationOf(context->windowKind),
          nearest.empty() ? "use TUMBLING, HOPPING or SESSION" : "did you mean " + nearest + "?");
    }
    std::optional<int64_t> size;
    std::optional<int64_t> gap;
    for (auto* option : context->windowOption()) {
      std::optional<int64_t>* slot = nullptr;
      std::string what;
      P::DurationContext* duration = nullptr;
      if (auto* o = dynamic_cast<P::WindowSizeContext*>(option)) {
        slot = &size, what = "SIZE", duration = o->duration();
      } else if (auto* o = dynamic_cast<P::WindowAdvanceContext*>(option)) {
        slot = &window.advance_ms, what = "ADVANCE BY", duration = o->duration();
      } else if (auto* o = dynamic_cast<P::WindowRetentionContext*>(option)) {
        slot = &window.retention_ms, what = "RETENTION", duration = o->duration();
      } else if (auto* o = dynamic_cast<P::WindowGraceContext*>(option)) {
        slot = &window.grace_ms, what = "GRACE PERIOD", duration = o->duration();
      } else {
        auto* g = dynamic_cast<P::WindowGapContext*>(option);
        slot = &gap, what = "the session gap", duration = g->duration();
      }
      if (slot->has_value()) {
        return Status::SyntaxError(what + " is given twice", LocationOf(option));
      }
      ASSIGN_OR_RAISE(*slot, Duration(duration));
      const bool allowed =
          window.kind == WindowKind::kSession
              ? slot != &size && slot != &window.advance_ms
              : slot != &gap && (window.kind == WindowKind::kHopping || slot != &window.advance_ms);
      if (!allowed) {
        std::string hint = window.kind == WindowKind::kTumbling
                               ? "write TUMBLING (SIZE n UNIT [, RETENTION ..] [, GRACE PERIOD ..])"
                           : window.kind == WindowKind::kHopping
                               ? "write HOPPING (SIZE n UNIT, ADVANCE BY n UNIT [, ...])"
                               : "write SESSION (n UNIT [, RETENTION ..] [, GRACE PERIOD ..])";
        return Status::SyntaxError(
            (what == "the session gap" ? std::string("A bare duration") : what) +
                " is not an option of a " + kind + " window",
            LocationOf(option), hint);
      }
    }
    const SourceLocation end = LocationOf(context->RPAREN()->getSymbol());
    if (window.kind == WindowKind::kSession) {
      if (!gap.has_value()) {
        return Status::SyntaxError("A SESSION window needs a gap", end,
                                   "write SESSION (30 SECONDS)");
      }
      window.size_ms = *gap;
    } else {
      if (!size.has_value()) {
        return Status::SyntaxError(
            "A " + kind + " window needs a SIZE", end,
            "write " + kind + " (SIZE 1 MINUTE" +
                (window.kind == WindowKind::kHopping ? ", ADVANCE BY 10 SECONDS)" : ")"));
      }
      window.size_ms = *size;
      if (window.kind == WindowKind::kHopping && !window.advance_ms.has_value()) {
        return Status::SyntaxError("A HOPPING window needs ADVANCE BY", end,
                                   "write HOPPING (SIZE n UNIT, ADVANCE BY n UNIT)");
      }
    }
    if (window.size_ms <= 0) {
      return Status::InvalidArgument("Window size must be positive", window.location);
    }
    if (window.advance_ms.has_value() &&
        (*window.advance_ms <= 0 || *window.advance_ms > window.size_ms)) {
      return Status::InvalidArgument(
          "ADVANCE BY must be positive and not larger than the window SIZE", window.location);
    }
    return window;
  }

  Result<std::unique_ptr<Query>> BuildQuery(P::QueryContext* context) {
    auto query = std::make_unique<Query>();
    query->location = LocationOf(context);
    for (auto* item_context : context->selectItem()) {
      SelectItem item;
      item.location = LocationOf(item_context);
      if (dynamic_cast<P::SelectAllContext*>(item_context) != nullptr) {
        item.star = true;
      } else if (auto* all_of = dynamic_cast<P::SelectAllOfContext*>(item_context)) {
        item.star = true;
        item.star_qualifier = Identifier(all_of->identifier());
      } else {
        // `s->*` (every field of a struct) is folded into this alternative rather than being
        // its own: a separate alternative made ANTLR's error hints worse for every SELECT.
        auto* single = dynamic_cast<P::SelectSingleContext*>(item_context);
        ASSIGN_OR_RAISE(item.expression, BuildExpression(single->expression()));
        item.struct_all = single->ARROW() != nullptr;
        if (single->identifier() != nullptr) item.alias = Identifier(single->identifier());
      }
      query->select.push_back(std::move(item));
    }
    P::RelationContext* relation = context->relation();
    if (relation->matchRecognize() != nullptr) {
      query->from.location = LocationOf(relation->sourceName());
      query->from.name = Identifier(relation->sourceName()->identifier());
      ASSIGN_OR_RAISE(query->match_recognize, BuildMatchRecognize(relation->matchRecognize()));
      if (relation->alias != nullptr) query->match_recognize->alias = Identifier(relation->alias);
      return FinishQuery(context, std::move(query));
    }
    query->from = BuildRelation(relation->aliasedRelation());
    for (auto* joined : relation->joinedSource()) {
      ASSIGN_OR_RAISE(auto join, BuildJoin(joined));
      query->joins.push_back(std::move(join));
    }
    return FinishQuery(context, std::move(query));
  }

  // The clauses after FROM.
  Result<std::unique_ptr<Query>> FinishQuery(P::QueryContext* context,
                                             std::unique_ptr<Query> query) {
    if (context->window != nullptr && context->lateWindow != nullptr) {
      return Status::SyntaxError("WINDOW is given twice", LocationOf(context->lateWindow));
    }
    if (auto* window = context->window != nullptr ? context->window : context->lateWindow) {
      ASSIGN_OR_RAISE(query->window, BuildWindow(window));
    }
    if (context->where != nullptr) {
      ASSIGN_OR_RAISE(query->where, BuildExpression(context->where));
    }
    if (context->groupBy != nullptr) {
      RETURN_NOT_OK(BuildExpressionList(context->groupBy, &query->group_by));
    }
    if (context->partitionBy != nullptr) {
      RETURN_NOT_OK(BuildExpressionList(context->partitionBy, &query->partition_by));
      if (query->partition_by.empty()) {
        return Status::SyntaxError("PARTITION BY requires at least one expression",
                                   LocationOf(context->partitionBy));
      }
    }
    if (context->having != nullptr) {
      ASSIGN_OR_RAISE(query->having, BuildExpression(context->having));
    }
    if (context->emitMode() != nullptr) {
      query->emit = context->emitMode()->FINAL() != nullptr ? EmitMode::kFinal : EmitMode::kChanges;
    }
    if (context->limit != nullptr) {
      // ksqlDB's AstBuilder message, with the prefix its parser gives errors of that stage.
      if (context->limit->getType() != P::INTEGER_VALUE) {
        return Status::SyntaxError(
            "Failed to prepare statement: Value must be integer for command: LIMIT",
            LocationOf(context->limit));
      }
      ASSIGN_OR_RAISE(query->limit, ParseInteger(context->limit, context->limitSign != nullptr));
    }
    return query;
  }

  // ------------------------------------------------------------ MATCH_RECOGNIZE

  Result<std::unique_ptr<PatternTerm>> BuildPatternAlternation(
      P::PatternAlternationContext* context) {
    auto concatenations = context->patternConcatenation();
    if (concatenations.size() == 1) return BuildPatternConcatenation(concatenations[0]);
    auto term = std::make_unique<PatternTerm>();
    term->kind = PatternKind::kAlternation;
    term->location = LocationOf(context);
    for (auto* concatenation : concatenations) {
      ASSIGN_OR_RAISE(auto child, BuildPatternConcatenation(concatenation));
      term->children.push_back(std::move(child));
    }
    return term;
  }

  Result<std::unique_ptr<PatternTerm>> BuildPatternConcatenation(
      P::PatternConcatenationContext* context) {
    auto items = context->patternQuantified();
    if (items.size() == 1) return BuildPatternQuantified(items[0]);
    auto term = std::make_unique<PatternTerm>();
    term->kind = PatternKind::kConcatenation;
    term->location = LocationOf(context);
    for (auto* item : items) {
      ASSIGN_OR_RAISE(auto child, BuildPatternQuantified(item));
      term->children.push_back(std::move(child));
    }
    return term;
  }

  Result<std::unique_ptr<PatternTerm>> BuildPatternQuantified(
      P::PatternQuantifiedContext* context) {
    std::unique_ptr<PatternTerm> term;
    P::PatternPrimaryContext* primary = context->patternPrimary();
    if (primary->identifier() != nullptr) {
      term = std::make_unique<PatternTerm>();
      term->kind = PatternKind::kVariable;
      term->location = LocationOf(primary);
      term->variable = Identifier(primary->identifier());
    } else {
      ASSIGN_OR_RAISE(auto inner, BuildPatternAlternation(primary->patternAlternation()));
      if (context->patternQuantifier() == nullptr) return inner;
      if (inner->minimum != 1 || inner->maximum != 1) {
        // ((A B)+)* : wrap, so each quantifier applies to its own group.
        term = std::make_unique<PatternTerm>();
        term->kind = PatternKind::kConcatenation;
        term->location = LocationOf(primary);
        term->children.push_back(std::move(inner));
      } else {
        term = std::move(inner);
      }
    }
    P::PatternQuantifierContext* quantifier = context->patternQuantifier();
    if (quantifier == nullptr) return term;
    const SourceLocation where = LocationOf(quantifier);
    if (quantifier->ASTERISK() != nullptr) {
      term->minimum = 0, term->maximum = -1;
    } else if (quantifier->PLUS() != nullptr) {
      term->minimum = 1, term->maximum = -1;
    } else if (quantifier->LBRACE() == nullptr) {
      term->minimum = 0, term->maximum = 1;  // `?`
    } else {
      term->minimum = 0;
      if (quantifier->minimum != nullptr) {
        ASSIGN_OR_RAISE(term->minimum, ParseInteger(quantifier->minimum));
      }
      if (quantifier->comma == nullptr) {
        if (quantifier->minimum == nullptr) {
          return Status::SyntaxError("A quantifier {} needs a count", where,
                                     "write {n}, {n,}, {,m} or {n,m}");
        }
        term->maximum = term->minimum;
      } else if (quantifier->maximum != nullptr) {
        ASSIGN_OR_RAISE(term->maximum, ParseInteger(quantifier->maximum));
      } else {
        term->maximum = -1;
      }
      if (term->maximum == 0 || (term->maximum >= 0 && term->maximum < term->minimum)) {
        return Status::SyntaxError("Quantifier {" + std::to_string(term->minimum) + "," +
                                       std::to_string(term->maximum) + "} matches no rows",
                                   where,
                                   "the upper bound must be positive and at least the lower");
      }
    }
    // `A??` is an optional variable that prefers to be absent.
    term->reluctant = quantifier->reluctant != nullptr;
    return term;
  }

  Result<NamedExpression> BuildNamed(antlr4::ParserRuleContext* context, P::IdentifierContext* name,
                                     P::ExpressionContext* expression) {
    NamedExpression named;
    named.location = LocationOf(context);
    named.name = Identifier(name);
    ASSIGN_OR_RAISE(named.expression, BuildExpression(expression));
    return named;
  }

  Result<std::unique_ptr<MatchRecognize>> BuildMatchRecognize(P::MatchRecognizeContext* context) {
    auto match = std::make_unique<MatchRecognize>();
    match->location = LocationOf(context);
    for (auto* expression : context->partitionBy) {
      ASSIGN_OR_RAISE(auto built, BuildValue(expression));
      match->partition_by.push_back(std::move(built));
    }
    for (auto* item : context->orderBy) {
      if (item->DESC() != nullptr) {
        return Status::NotSupported("MATCH_RECOGNIZE orders rows by ROWTIME ascending only",
                                    LocationOf(item->DESC()->getSymbol()),
                                    "write ORDER BY ROWTIME");
      }
      ASSIGN_OR_RAISE(auto built, BuildValue(item->valueExpression()));
      match->order_by.push_back(std::move(built));
    }
    for (auto* measure : context->measure()) {
      ASSIGN_OR_RAISE(auto named,
                      BuildNamed(measure, measure->identifier(), measure->expression()));
      for (const auto& existing : match->measures) {
        if (existing.name == named.name) {
          return Status::SyntaxError("Measure '" + named.name + "' is defined twice",
                                     named.location);
        }
      }
      match->measures.push_back(std::move(named));
    }
    if (P::RowsPerMatchContext* rows = context->rowsPerMatch()) {
      if (rows->ALL() != nullptr) {
        return Status::NotSupported("ALL ROWS PER MATCH is not supported", LocationOf(rows),
                                    "use ONE ROW PER MATCH: one result row per match");
      }
    }
    if (P::AfterMatchSkipContext* skip = context->afterMatchSkip()) {
      if (skip->PAST() != nullptr) {
        match->after_match = AfterMatchSkip::kPastLastRow;
      } else if (skip->NEXT() != nullptr) {
        match->after_match = AfterMatchSkip::kToNextRow;
      } else {
        return Status::NotSupported(
            "AFTER MATCH SKIP TO a pattern variable is not supported", LocationOf(skip),
            "use AFTER MATCH SKIP PAST LAST ROW or AFTER MATCH SKIP TO NEXT ROW");
      }
    }
    match->pattern_location = LocationOf(context->patternAlternation());
    ASSIGN_OR_RAISE(match->pattern, BuildPatternAlternation(context->patternAlternation()));
    if (context->withinDuration != nullptr) {
      ASSIGN_OR_RAISE(match->within_ms, Duration(context->withinDuration));
    } else if (context->withinInterval != nullptr) {
      ASSIGN_OR_RAISE(auto within, BuildPrimary(context->withinInterval));
      if (within->kind != ExpressionKind::kInterval) {
        return Status::SyntaxError("WITHIN needs a time interval", within->location,
                                   "write WITHIN INTERVAL '10' MINUTE");
      }
      match->within_ms = within->literal.integer_value;
    }
    if (match->within_ms.has_value() && *match->within_ms <= 0) {
      return Status::InvalidArgument("WITHIN must be positive",
                                     LocationOf(context->WITHIN()->getSymbol()));
    }
    for (auto* definition : context->patternDefinition()) {
      ASSIGN_OR_RAISE(auto named,
                      BuildNamed(definition, definition->identifier(), definition->expression()));
      for (const auto& existing : match->definitions) {
        if (existing.name == named.name) {
          return Status::SyntaxError("Pattern variable '" + named.name + "' is defined twice",
                                     named.location);
        }
      }
      match->definitions.push_back(std::move(named));
    }
    return match;
  }

  // ------------------------------------------------------------ statements

  Status BuildProperties(P::TablePropertiesContext* context, std::vector<Property>* out) {
    if (context == nullptr) return Status::OK();
    for (auto* property_context : context->tableProperty()) {
      Property property;
      property.location = LocationOf(property_context);
      property.key = property_context->identifier() != nullptr
                         ? UpperCase(Identifier(property_context->identifier()))
                         : UpperCase(Unquote(property_context->STRING_LITERAL()->getText(), '\''));
      for (const auto& existing : *out) {
        if (existing.key == property.key) {
          return Status::InvalidArgument("Duplicate property '" + property.key + "'",
                                         property.location, "give each WITH property once");
        }
      }
      P::PropertyValueContext* value = property_context->propertyValue();
      if (value->number() != nullptr) {
        ASSIGN_OR_RAISE(property.value, NumberLiteral(value->number(), value->MINUS() != nullptr));
      } else {
        ASSIGN_OR_RAISE(property.value, BuildLiteral(value->literal()));
      }
      out->push_back(std::move(property));
    }
    return CheckWindowProperties(*out);
  }

  // WINDOW_TYPE and WINDOW_SIZE describe the windowed key of a source created over a
  // windowed topic; their mistakes are as much the user's syntax as a bad WINDOW clause.
  static Status CheckWindowProperties(const std::vector<Property>& properties) {
    const Property* type = nullptr;
    const Property* size = nullptr;
    for (const Property& property : properties) {
      if (property.key == "WINDOW_TYPE") type = &property;
      if (property.key == "WINDOW_SIZE") size = &property;
    }
    if (size != nullptr) {
      RETURN_NOT_OK(ParseDurationText(size->value.text, size->location).status());
    }
    if (type == nullptr) return Status::OK();
    const std::string kind = UpperCase(type->value.text);
    if (kind != "TUMBLING" && kind != "HOPPING" && kind != "SESSION") {
      return Status::InvalidArgument("Invalid WINDOW_TYPE '" + type->value.text + "'",
                                     type->location, "use TUMBLING, HOPPING or SESSION");
    }
    if (kind == "SESSION" && size != nullptr) {
      return Status::InvalidArgument("'WINDOW_SIZE' should not be set for SESSION windows",
                                     size->location);
    }
    if (kind != "SESSION" && size == nullptr) {
      return Status::InvalidArgument("'WINDOW_SIZE' should be set for " + kind + " windows",
                                     type->location, "add WINDOW_SIZE='1 MINUTE'");
    }
    return Status::OK();
  }

  // A duration written in a string property, e.g. '30 SECONDS'.
  static Result<int64_t> ParseDurationText(const std::string& text, SourceLocation location) {
    const size_t space = text.find(' ');
    int64_t amount = 0;
    std::string unit = space == std::string::npos ? std::string() : text.substr(space + 1);
    while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
    auto [end, error] =
        std::from_chars(text.data(), text.data() + std::min(space, text.size()), amount);
    const int64_t factor = UnitFactor(UpperCase(unit));
    if (space == std::string::npos || error != std::errc() || end != text.data() + space ||
        factor == 0) {
      return Status::InvalidArgument(
          "Invalid duration '" + text + "'", location,
          factor == 0 && !unit.empty() ? "unknown time unit '" + unit +
                                             "'; use MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS"
                                       : "write a number and a unit, e.g. '30 SECONDS'");
    }
    int64_t millis = 0;
    if (__builtin_mul_overflow(amount, factor, &millis)) {
      return Status::InvalidArgument("Duration too large: '" + text + "'", location);
    }
    return millis;
  }

  Status BuildTableElements(P::TableElementsContext* context, Statement* statement) {
    if (context == nullptr) return Status::OK();
    for (auto* element : context->tableElement()) {
      if (auto* column_context = dynamic_cast<P::ColumnElementContext*>(element)) {
        ColumnDefinition column;
        column.location = LocationOf(column_context);
        column.name = Identifier(column_context->identifier());
        for (const auto& existing : statement->columns) {
          if (existing.name == column.name) {
            return Status::SyntaxError("Duplicate column '" + column.name + "'", column.location);
          }
        }
        ASSIGN_OR_RAISE(auto type, BuildType(column_context->type()));
        column.type = type.type;
        column.custom_type = type.custom;
        column.nested_custom_types = type.nested;
        if (P::ColumnConstraintContext* constraint = column_context->columnConstraint()) {
          if (constraint->PRIMARY() != nullptr) {
            column.constraint = ColumnConstraint::kPrimaryKey;
          } else if (constraint->KEY() != nullptr) {
            column.constraint = ColumnConstraint::kKey;
          } else {
            column.constraint = ColumnConstraint::kHeaders;
            if (constraint->STRING_LITERAL() != nullptr) {
              column.header_key = Unquote(constraint->STRING_LITERAL()->getText(), '\'');
            }
          }
        }
        statement->columns.push_back(std::move(column));
        continue;
      }
      auto* watermark_context = dynamic_cast<P::WatermarkElementContext*>(element);
      if (statement->watermark.has_value()) {
        return Status::SyntaxError("WATERMARK is given twice", LocationOf(watermark_context));
      }
      RETURN_NOT_OK(BuildWatermark(watermark_context, statement));
    }
    if (statement->watermark.has_value()) {
      const std::string& column = statement->watermark->column;
      const bool defined = std::any_of(statement->columns.begin(), statement->columns.end(),
                                       [&](const auto& c) { return c.name == column; });
      if (!defined) {
        return Status::SyntaxError("WATERMARK column '" + column + "' is not defined",
                                   statement->watermark->location);
      }
    }
    return Status::OK();
  }

  Status BuildWatermark(P::WatermarkElementContext* context, Statement* statement) {
    WatermarkSpec watermark;
    watermark.location = LocationOf(context);
    watermark.column = Identifier(context->column);
    const std::string expected_form = "write WATERMARK FOR " + watermark.column + " AS " +
                                      watermark.column + " - INTERVAL '5' SECOND";
    std::string source;
    SourceLocation source_location;
    if (context->source != nullptr) {
      source = Identifier(context->source);
      source_location = LocationOf(context->source);
      ASSIGN_OR_RAISE(watermark.delay_ms, Duration(context->delay));
    } else {
      ASSIGN_OR_RAISE(auto expression, BuildExpression(context->expression()));
      const Expression* column = expression.get();
      if (expression->kind == ExpressionKind::kBinary && expression->name == "-" &&
          expression->children[1]->kind == ExpressionKind::kInterval) {
        column = expression->children[0].get();
        watermark.delay_ms = expression->children[1]->literal.integer_value;
      }
      if (column->kind != ExpressionKind::kColumnRef || !column->qualifier.empty()) {
        return Status::NotSupported("WATERMARK supports only `column - INTERVAL 'n' UNIT`",
                                    expression->location, expected_form);
      }
      source = column->name;
      source_location = column->location;
    }
    if (source != watermark.column) {
      return Status::SyntaxError("WATERMARK for " + watermark.column + " must be computed from " +
                                     watermark.column + ", not " + source,
                                 source_location, expected_form);
    }
    if (watermark.delay_ms < 0) {
      return Status::InvalidArgument("WATERMARK delay must not be negative", watermark.location);
    }
    statement->watermark = std::move(watermark);
    return Status::OK();
  }

  static void SetSourceKind(P::SourceKindContext* context, Statement* statement) {
    statement->source_kind = context->TABLE() != nullptr ? SourceKind::kTable : SourceKind::kStream;
    statement->drop_target = context->TABLE() != nullptr ? DropTarget::kTable : DropTarget::kStream;
  }

  static void SetName(P::IdentifierContext* context, Statement* statement) {
    statement->name = Identifier(context);
    statement->name_location = LocationOf(context);
  }

  Result<StatementPtr> BuildStatement(P::StatementContext* context) {
    auto statement = std::make_unique<Statement>();
    statement->location = LocationOf(context);
    statement->text = TextOf(context);
    Statement* s = statement.get();

    if (auto* query = dynamic_cast<P::QueryStatementContext*>(context)) {
      s->kind = StatementKind::kSelect;
      ASSIGN_OR_RAISE(s->query, BuildQuery(query->query()));
    } else if (auto* create = dynamic_cast<P::CreateSourceContext*>(context)) {
      s->kind = StatementKind::kCreateSource;
      s->or_replace = create->REPLACE() != nullptr;
      s->source_only = create->SOURCE() != nullptr;
      s->if_not_exists = create->EXISTS() != nullptr;
      SetSourceKind(create->sourceKind(), s);
      SetName(create->sourceName()->identifier(), s);
      RETURN_NOT_OK(BuildTableElements(create->tableElements(), s));
      RETURN_NOT_OK(BuildProperties(create->tableProperties(), &s->properties));
    } else if (auto* create_as = dynamic_cast<P::CreateAsSelectContext*>(context)) {
      s->kind = StatementKind::kCreateAsSelect;
      s->or_replace = create_as->REPLACE() != nullptr;
      s->if_not_exists = create_as->EXISTS() != nullptr;
      SetSourceKind(create_as->sourceKind(), s);
      SetName(create_as->sourceName()->identifier(), s);
      RETURN_NOT_OK(BuildProperties(create_as->tableProperties(), &s->properties));
      ASSIGN_OR_RAISE(s->query, BuildQuery(create_as->query()));
      if (s->query->limit) {
        // ksqlDB's AstBuilder.disallowLimitClause, with its parser's prefix.
        return Status::SyntaxError(std::string("Failed to prepare statement: CREATE ") +
                                       (s->source_kind == SourceKind::kTable ? "TABLE" : "STREAM") +
                                       " AS SELECT statements don't support LIMIT clause.",
                                   LocationOf(create_as->query()->limit));
      }
    } else if (auto* insert = dynamic_cast<P::InsertIntoContext*>(context)) {
      s->kind = StatementKind::kInsertInto;
      SetName(insert->sourceName()->identifier(), s);
      RETURN_NOT_OK(BuildProperties(insert->tableProperties(), &s->properties));
      ASSIGN_OR_RAISE(s->query, BuildQuery(insert->query()));
    } else if (auto* insert_values = dynamic_cast<P::InsertValuesContext*>(context)) {
      s->kind = StatementKind::kInsertValues;
      SetName(insert_values->sourceName()->identifier(), s);
      if (P::ColumnsContext* columns = insert_values->columns()) {
        for (auto* identifier : columns->identifier()) {
          ColumnDefinition column;
          column.location = LocationOf(identifier);
          column.name = Identifier(identifier);
          s->columns.push_back(std::move(column));
        }
      }
      for (auto* value : insert_values->values()->valueExpression()) {
        ASSIGN_OR_RAISE(auto built, BuildValue(value));
        s->values.push_back(std::move(built));
      }
      if (!s->columns.empty() && s->columns.size() != s->values.size()) {
        // ksqlDB's AstBuilder message, with the prefix its parser gives errors of that stage.
        return Status::SyntaxError(
            "Failed to prepare statement: Expected number columns and values to match: " +
                std::to_string(s->columns.size()) + ", " + std::to_string(s->values.size()),
            LocationOf(insert_values->values()));
      }
    } else if (auto* create_type = dynamic_cast<P::CreateTypeContext*>(context)) {
      s->kind = StatementKind::kCreateType;
      s->if_not_exists = create_type->EXISTS() != nullptr;
      SetName(create_type->identifier(), s);
      ASSIGN_OR_RAISE(auto type, BuildType(create_type->type()));
      s->type = type.type;
      s->type_names = type.AllNames();
    } else if (auto* drop = dynamic_cast<P::DropSourceContext*>(context)) {
      s->kind = StatementKind::kDrop;
      SetSourceKind(drop->sourceKind(), s);
      SetName(drop->sourceName()->identifier(), s);
      s->if_exists = drop->EXISTS() != nullptr;
      s->delete_topic = drop->DELETE() != nullptr;
    } else if (auto* drop_type = dynamic_cast<P::DropTypeContext*>(context)) {
      s->kind = StatementKind::kDrop;
      s->drop_target = DropTarget::kType;
      SetName(drop_type->identifier(), s);
      s->if_exists = drop_type->EXISTS() != nullptr;
    } else if (auto* show_topics = dynamic_cast<P::ShowTopicsContext*>(context)) {
      s->kind = StatementKind::kShow;
      s->show_target = ShowTarget::kTopics;
      s->extended = show_topics->EXTENDED() != nullptr;
    } else if (auto* show = dynamic_cast<P::ShowStatementContext*>(context)) {
      s->kind = StatementKind::kShow;
      s->extended = show->EXTENDED() != nullptr;
      P::ShowTargetContext* target = show->showTarget();
      switch (target->getStart()->getType()) {
        case P::STREAMS:
          s->show_target = ShowTarget::kStreams;
          break;
        case P::TABLES:
          s->show_target = ShowTarget::kTables;
          break;
        case P::QUERIES:
          s->show_target = ShowTarget::kQueries;
          break;
        case P::PROPERTIES:
          s->show_target = ShowTarget::kProperties;
          break;
        case P::FUNCTIONS:
          s->show_target = ShowTarget::kFunctions;
          break;
        case P::CONNECTORS:
          s->show_target = ShowTarget::kConnectors;
          break;
        default:
          s->show_target = ShowTarget::kTypes;
          break;
      }
    } else if (auto* describe_sources = dynamic_cast<P::DescribeSourcesContext*>(context)) {
      s->kind = StatementKind::kDescribe;
      s->describe_sources = true;
      s->show_target =
          describe_sources->TABLES() != nullptr ? ShowTarget::kTables : ShowTarget::kStreams;
      s->extended = describe_sources->EXTENDED() != nullptr;
    } else if (auto* describe_function = dynamic_cast<P::DescribeFunctionContext*>(context)) {
      s->kind = StatementKind::kDescribe;
      s->describe_function = true;
      SetName(describe_function->identifier(), s);
    } else if (auto* describe_connector = dynamic_cast<P::DescribeConnectorContext*>(context)) {
      s->kind = StatementKind::kDescribe;
      s->describe_connector = true;
      SetName(describe_connector->identifier(), s);
    } else if (auto* create_connector = dynamic_cast<P::CreateConnectorContext*>(context)) {
      s->kind = StatementKind::kCreateConnector;
      s->source_connector = create_connector->SOURCE() != nullptr;
      s->if_not_exists = create_connector->EXISTS() != nullptr;
      SetName(create_connector->identifier(), s);
      RETURN_NOT_OK(BuildProperties(create_connector->tableProperties(), &s->properties));
    } else if (auto* drop_connector = dynamic_cast<P::DropConnectorContext*>(context)) {
      s->kind = StatementKind::kDrop;
      s->drop_target = DropTarget::kConnector;
      SetName(drop_connector->identifier(), s);
      s->if_exists = drop_connector->EXISTS() != nullptr;
    } else if (auto* describe = dynamic_cast<P::DescribeSourceContext*>(context)) {
      s->kind = StatementKind::kDescribe;
      SetName(describe->sourceName()->identifier(), s);
      s->extended = !describe->EXTENDED().empty();
    } else if (auto* explain = dynamic_cast<P::ExplainContext*>(context)) {
      s->kind = StatementKind::kExplain;
      if (explain->statement() != nullptr) {
        ASSIGN_OR_RAISE(s->explained, BuildStatement(explain->statement()));
      } else {
        s->query_id = Identifier(explain->identifier());
      }
    } else if (dynamic_cast<P::TerminateAllContext*>(context) != nullptr) {
      s->kind = StatementKind::kTerminate;
      s->all_queries = true;
    } else if (auto* terminate = dynamic_cast<P::TerminateQueryContext*>(context)) {
      s->kind = StatementKind::kTerminate;
      s->query_id = Identifier(terminate->identifier());
    } else if (auto* pause = dynamic_cast<P::PauseQueryContext*>(context)) {
      s->kind = StatementKind::kPause;
      s->all_queries = pause->ALL() != nullptr;
      if (!s->all_queries) s->query_id = Identifier(pause->identifier());
    } else if (auto* resume = dynamic_cast<P::ResumeQueryContext*>(context)) {
      s->kind = StatementKind::kResume;
      s->all_queries = resume->ALL() != nullptr;
      if (!s->all_queries) s->query_id = Identifier(resume->identifier());
    } else if (auto* set = dynamic_cast<P::SetPropertyContext*>(context)) {
      s->kind = StatementKind::kSet;
      s->property_name = Unquote(set->STRING_LITERAL(0)->getText(), '\'');
      s->property_value = Unquote(set->STRING_LITERAL(1)->getText(), '\'');
    } else {
      auto* unset = dynamic_cast<P::UnsetPropertyContext*>(context);
      s->kind = StatementKind::kUnset;
      s->property_name = Unquote(unset->STRING_LITERAL()->getText(), '\'');
    }
    return statement;
  }

  std::string_view sql_;
  std::vector<size_t> code_point_offsets_;  // empty for ASCII text
};

// ---------------------------------------------------------------- syntax errors

/// What the LL stage knew at its first error.
struct SyntaxErrorDetails {
  size_t token_index = 0;
  bool expected_known = false;
  std::vector<size_t> expected;  // token types the parser could accept there
};

bool IsKeyword(size_t type) { return type >= P::ALL && type <= P::WATERMARK; }
bool IsNonReservedKeyword(size_t type) { return type >= P::ADVANCE && type <= P::WATERMARK; }

// How a token type reads in a hint: keywords as themselves, symbols quoted.
std::string DisplayToken(size_t type, const antlr4::dfa::Vocabulary& vocabulary) {
  switch (type) {
    case antlr4::Token::EOF:
      return "end of input";
    case P::IDENTIFIER:
      return "an identifier";
    case P::STRING_LITERAL:
      return "a string";
    case P::INTEGER_VALUE:
      return "an integer";
    case P::DECIMAL_VALUE:
    case P::FLOATING_POINT_VALUE:
      return "a number";
    case P::NEQ:
      return "'<>'";
    case P::SEMICOLON:
      return "';'";
    default:
      break;
  }
  if (IsKeyword(type)) return vocabulary.getSymbolicName(type);
  std::string literal = vocabulary.getLiteralName(type);
  return literal.empty() ? vocabulary.getSymbolicName(type) : literal;
}

std::string JoinAlternatives(const std::vector<std::string>& words) {
  std::string text;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) text += i + 1 == words.size() ? " or " : ", ";
    text += words[i];
  }
  return text;
}

// The hint for an unexpected token, from what the parser could have accepted there.
std::string ExpectedHint(const SyntaxErrorDetails& details, int open_parentheses,
                         const antlr4::dfa::Vocabulary& vocabulary) {
  if (!details.expected_known) return open_parentheses > 0 ? "missing ')'" : std::string();
  const auto& expected = details.expected;
  auto expects = [&](size_t type) {
    return std::find(expected.begin(), expected.end(), type) != expected.end();
  };
  if (expects(P::RPAREN) || expects(P::RBRACKET)) {
    std::vector<std::string> symbols;
    for (size_t type : expected) {
      if (type == P::COMMA || type == P::RPAREN || type == P::RBRACKET) {
        symbols.push_back(DisplayToken(type, vocabulary));
      }
    }
    return "expected " + JoinAlternatives(symbols);
  }
  const bool identifier = expects(P::IDENTIFIER);
  std::vector<std::string> words;
  for (size_t type : expected) {
    if (identifier && (IsNonReservedKeyword(type) || type == P::QUOTED_IDENTIFIER ||
                       type == P::BACKQUOTED_IDENTIFIER || type == P::DIGIT_IDENTIFIER)) {
      continue;
    }
    std::string word = DisplayToken(type, vocabulary);
    if (std::find(words.begin(), words.end(), word) == words.end()) words.push_back(word);
  }
  if (words.empty() || words.size() > 4) return {};
  return "expected " + JoinAlternatives(words);
}

/// Turns the first error of the LL stage into one Status with a location and a hint.
Status DescribeSyntaxError(const SyntaxErrorDetails& details,
                           const std::vector<antlr4::Token*>& tokens,
                           const antlr4::dfa::Vocabulary& vocabulary) {
  antlr4::Token* offending = tokens.at(details.token_index);
  const size_t type = offending->getType();
  const SourceLocation location = LocationOf(offending);

  switch (type) {
    case P::UNTERMINATED_STRING_LITERAL:
      return Status::SyntaxError("Unterminated string literal", location,
                                 "close the string with '; write '' for a quote inside it");
    case P::UNTERMINATED_QUOTED_IDENTIFIER:
      return Status::SyntaxError("Unterminated quoted identifier", location,
                                 "close it with the quote it starts with");
    case P::UNTERMINATED_BLOCK_COMMENT:
      return Status::SyntaxError("Unterminated comment", location, "close it with */");
    default:
      break;
  }
  const std::string message = type == antlr4::Token::EOF
                                  ? std::string("Syntax error at end of input")
                                  : "Syntax error at or near '" + offending->getText() + "'";
  if (type == P::UNRECOGNIZED) {
    return Status::SyntaxError(message, location, "unexpected character");
  }

  // Keywords worth suggesting: the expected ones first, then (for a word the parser could
  // not place at all) every keyword.
  std::vector<std::string> expected_keywords;
  std::vector<std::string> all_keywords;
  std::vector<std::string> reserved_keywords;
  for (size_t keyword = P::ALL; keyword <= P::WATERMARK; ++keyword) {
    std::string name = vocabulary.getSymbolicName(keyword);
    if (!name.empty() && name.back() == '_') name.pop_back();  // NULL_
    if (std::find(details.expected.begin(), details.expected.end(), keyword) !=
        details.expected.end()) {
      expected_keywords.push_back(name);
    }
    if (!IsNonReservedKeyword(keyword)) reserved_keywords.push_back(name);
    all_keywords.push_back(std::move(name));
  }
  auto did_you_mean = [](const std::string& word) { return "did you mean " + word + "?"; };
  // A misspelt keyword where one was expected: SELECT * FORM t.
  if (type == P::IDENTIFIER || IsKeyword(type)) {
    std::string nearest = NearestName(offending->getText(), expected_keywords);
    if (nearest.empty() && (type == P::IDENTIFIER || !details.expected_known)) {
      nearest = NearestName(offending->getText(), all_keywords);
    }
    if (!nearest.empty()) return Status::SyntaxError(message, location, did_you_mean(nearest));
  }
  // A misspelt keyword taken as an alias just before: SELECT a FORM t, FROM s WHRE x.
  antlr4::Token* previous = nullptr;
  bool previous_starts_statement = true;  // a statement's first word is never an alias
  for (size_t i = details.token_index; i-- > 0;) {
    if (tokens[i]->getChannel() != antlr4::Token::DEFAULT_CHANNEL) continue;
    if (previous != nullptr) {
      previous_starts_statement = tokens[i]->getType() == P::SEMICOLON;
      break;
    }
    previous = tokens[i];
  }
  if (previous != nullptr && !previous_starts_statement &&
      (previous->getType() == P::IDENTIFIER || IsNonReservedKeyword(previous->getType()))) {
    // Only clause words (FROM, WHERE, GROUP, LIMIT, ...): short ones like IN or AS are
    // one edit away from too many ordinary names (INT, AT).
    std::vector<std::string> candidates;
    for (const auto* list : {&expected_keywords, &reserved_keywords}) {
      for (const std::string& keyword : *list) {
        if (keyword.size() >= 4) candidates.push_back(keyword);
      }
    }
    std::string nearest =
        previous->getText().size() >= 4 ? NearestName(previous->getText(), candidates) : "";
    if (!nearest.empty()) {
      return Status::SyntaxError("Syntax error at or near '" + previous->getText() + "'",
                                 LocationOf(previous), did_you_mean(nearest));
    }
  }
  int open_parentheses = 0;
  for (size_t i = 0; i < details.token_index; ++i) {
    if (tokens[i]->getType() == P::LPAREN) ++open_parentheses;
    if (tokens[i]->getType() == P::RPAREN) --open_parentheses;
  }
  std::string hint = ExpectedHint(details, open_parentheses, vocabulary);
  if (hint.empty() && previous != nullptr) {
    switch (previous->getType()) {
      case P::PLUS:
      case P::MINUS:
      case P::ASTERISK:
      case P::SLASH:
      case P::PERCENT:
      case P::CONCAT:
      case P::EQ:
      case P::NEQ:
      case P::LT:
      case P::LTE:
      case P::GT:
      case P::GTE:
      case P::AND:
      case P::OR:
      case P::NOT:
      case P::COMMA:
      case P::WHERE:
      case P::HAVING:
      case P::WHEN:
      case P::THEN:
      case P::ELSE:
      case P::SELECT:
        hint = "expected an expression after '" + previous->getText() + "'";
        break;
      default:
        break;
    }
  }
  return Status::SyntaxError(message, location, hint);
}

// ---------------------------------------------------------------- the parse driver

/// Stops the second (LL) stage at the first error, so one mistake gives one report and
/// no recovery work is wasted.
class StopAtFirstErrorStrategy : public antlr4::DefaultErrorStrategy {
 public:
  void recover(antlr4::Parser* /*recognizer*/, std::exception_ptr /*e*/) override {
    throw antlr4::ParseCancellationException("stopped at the first syntax error");
  }
};

/// Keeps the first syntax error only, with what the parser expected at that point.
class FirstErrorListener : public antlr4::BaseErrorListener {
 public:
  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t /*line*/,
                   size_t /*column*/, const std::string& /*message*/,
                   std::exception_ptr /*e*/) override {
    if (error_.has_value() || offending == nullptr) return;
    SyntaxErrorDetails details;
    details.token_index = offending->getTokenIndex();
    auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
    // The expected set is the parser's current one; it only describes the offending
    // token when the parser stands on it (not after a long failed prediction).
    if (parser != nullptr && parser->getCurrentToken() == offending) {
      try {
        antlr4::misc::IntervalSet expected = parser->getExpectedTokens();
        for (const auto& interval : expected.getIntervals()) {
          for (ssize_t type = interval.a; type <= interval.b; ++type) {
            details.expected.push_back(static_cast<size_t>(type));
          }
        }
        details.expected_known = true;
      } catch (const std::exception&) {
        details.expected_known = false;
      }
    }
    error_ = std::move(details);
  }

  const std::optional<SyntaxErrorDetails>& error() const { return error_; }

 private:
  std::optional<SyntaxErrorDetails> error_;
};

// The scan of the token list done before parsing: nesting depth.
Status CheckNesting(const std::vector<antlr4::Token*>& tokens) {
  int depth = 0;
  for (antlr4::Token* token : tokens) {
    const size_t type = token->getType();
    if (type == P::LPAREN || type == P::LBRACKET) {
      if (++depth > kMaxNestingDepth) {
        return Status::SyntaxError(
            "Expression nested too deeply", LocationOf(token),
            "at most " + std::to_string(kMaxNestingDepth) + " levels of parentheses are allowed");
      }
    } else if (type == P::RPAREN || type == P::RBRACKET) {
      depth = std::max(0, depth - 1);
    }
  }
  return Status::OK();
}

enum class Entry { kScript, kExpression };

/// One parse: lexing, the SLL stage, the LL stage when SLL fails, then the AST.
template <typename T>
Result<T> Parse(std::string_view sql, Entry entry) {
  antlr4::ANTLRInputStream input(sql.data(), sql.size());
  SidestreamSqlLexer lexer(&input);
  lexer.removeErrorListeners();
  antlr4::CommonTokenStream tokens(&lexer);
  tokens.fill();
  RETURN_NOT_OK(CheckNesting(tokens.getTokens()));

  SidestreamSqlParser parser(&tokens);
  parser.removeErrorListeners();
  antlr4::ParserRuleContext* tree = nullptr;
  auto run = [&]() -> antlr4::ParserRuleContext* {
    if (entry == Entry::kScript) return parser.script();
    return parser.singleExpression();
  };

  // Stage 1: SLL prediction, bail out on any error. Almost every valid input ends here.
  parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
      antlr4::atn::PredictionMode::SLL);
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  try {
    tree = run();
  } catch (const antlr4::ParseCancellationException&) {
    tree = nullptr;
  } catch (const antlr4::RecognitionException&) {
    tree = nullptr;
  }

  // Stage 2: full LL, which is exact; the first error is reported.
  FirstErrorListener listener;
  if (tree == nullptr) {
    tokens.seek(0);
    parser.reset();
    parser.addErrorListener(&listener);
    parser.setErrorHandler(std::make_shared<StopAtFirstErrorStrategy>());
    parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(
        antlr4::atn::PredictionMode::LL);
    try {
      tree = run();
    } catch (const antlr4::ParseCancellationException&) {
      tree = nullptr;
    } catch (const antlr4::RecognitionException&) {
      tree = nullptr;
    }
    if (listener.error().has_value() || tree == nullptr) {
      parser.removeErrorListeners();
      if (!listener.error().has_value()) {
        return Status::Internal("The SQL parser stopped without reporting an error");
      }
      return DescribeSyntaxError(*listener.error(), tokens.getTokens(), parser.getVocabulary());
    }
    parser.removeErrorListeners();
  }

  AstBuilder builder(sql);
  if constexpr (std::is_same_v<T, ExpressionPtr>) {
    return builder.BuildExpression(dynamic_cast<P::SingleExpressionContext*>(tree)->expression());
  } else {
    return builder.BuildScript(dynamic_cast<P::ScriptContext*>(tree));
  }
}

template <typename T>
Result<T> ParseGuarded(std::string_view sql, Entry entry) {
  // ANTLR reports through exceptions (also for bad UTF-8 input); none may leave here.
  try {
    return Parse<T>(sql, entry);
  } catch (const std::exception& e) {
    return Status::SyntaxError(std::string("Cannot parse the SQL text: ") + e.what());
  }
}

}  // namespace

Result<std::vector<StatementPtr>> ParseScript(std::string_view sql) {
  return ParseGuarded<std::vector<StatementPtr>>(sql, Entry::kScript);
}

Result<StatementPtr> ParseStatement(std::string_view sql) {
  ASSIGN_OR_RAISE(auto statements, ParseScript(sql));
  if (statements.empty()) {
    return Status::SyntaxError("Expected a statement, found none", SourceLocation{1, 1});
  }
  if (statements.size() > 1) {
    return Status::SyntaxError("Expected one statement, found " + std::to_string(statements.size()),
                               statements[1]->location, "run several statements as a script");
  }
  return std::move(statements[0]);
}

Result<ExpressionPtr> ParseExpression(std::string_view sql) {
  return ParseGuarded<ExpressionPtr>(sql, Entry::kExpression);
}

}  // namespace sidestream::sql
