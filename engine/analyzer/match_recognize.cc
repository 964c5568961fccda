#include "analyzer/match_recognize.h"

#include <algorithm>
#include <set>

#include "common/did_you_mean.h"

namespace sidestream::analyzer {

namespace {

using types::SqlType;
using types::TypeId;

// Bounded quantifiers are expanded into copies of their body: this caps the program.
constexpr size_t kMaxInstructions = 4096;

class PatternCompiler {
 public:
  explicit PatternCompiler(const std::vector<std::string>& variables) : variables_(variables) {}

  Result<std::vector<PatternInstruction>> Compile(const sql::PatternTerm& pattern) {
    RETURN_NOT_OK(Emit(pattern));
    Add(PatternInstruction::Op::kMatch);
    return std::move(program_);
  }

 private:
  int Add(PatternInstruction::Op op) {
    PatternInstruction instruction;
    instruction.op = op;
    program_.push_back(instruction);
    return static_cast<int>(program_.size()) - 1;
  }

  Status CheckSize(const sql::PatternTerm& term) const {
    if (program_.size() <= kMaxInstructions) return Status::OK();
    return Status::InvalidArgument(
        "PATTERN is too large once its quantifiers are expanded (more than " +
            std::to_string(kMaxInstructions) + " steps)",
        term.location, "use smaller bounds in {n,m}, or + and * with WITHIN");
  }

  // The term with its quantifier.
  Status Emit(const sql::PatternTerm& term) {
    for (int64_t i = 0; i < term.minimum; ++i) {
      RETURN_NOT_OK(EmitOnce(term));
      RETURN_NOT_OK(CheckSize(term));
    }
    if (term.maximum == -1) {
      const int loop = Add(PatternInstruction::Op::kSplit);
      RETURN_NOT_OK(EmitOnce(term));
      const int jump = Add(PatternInstruction::Op::kJump);
      program_[jump].next = loop;
      Prefer(loop, loop + 1, static_cast<int>(program_.size()), term.reluctant);
      return CheckSize(term);
    }
    std::vector<int> splits;
    for (int64_t i = term.minimum; i < term.maximum; ++i) {
      splits.push_back(Add(PatternInstruction::Op::kSplit));
      RETURN_NOT_OK(EmitOnce(term));
      RETURN_NOT_OK(CheckSize(term));
    }
    const int exit = static_cast<int>(program_.size());
    for (int split : splits) Prefer(split, split + 1, exit, term.reluctant);
    return Status::OK();
  }

  // Greedy: one more repetition first; reluctant: leaving first.
  void Prefer(int split, int body, int exit, bool reluctant) {
    program_[split].next = reluctant ? exit : body;
    program_[split].alternative = reluctant ? body : exit;
  }

  // The term once, without its quantifier.
  Status EmitOnce(const sql::PatternTerm& term) {
    switch (term.kind) {
      case sql::PatternKind::kVariable: {
        const int row = Add(PatternInstruction::Op::kRow);
        program_[row].variable = static_cast<int>(
            std::find(variables_.begin(), variables_.end(), term.variable) - variables_.begin());
        program_[row].next = row + 1;
        return Status::OK();
      }
      case sql::PatternKind::kConcatenation:
        for (const auto& child : term.children) RETURN_NOT_OK(Emit(*child));
        return Status::OK();
      case sql::PatternKind::kAlternation: {
        std::vector<int> jumps;
        for (size_t i = 0; i < term.children.size(); ++i) {
          int split = -1;
          if (i + 1 < term.children.size()) split = Add(PatternInstruction::Op::kSplit);
          RETURN_NOT_OK(Emit(*term.children[i]));
          if (split >= 0) {
            jumps.push_back(Add(PatternInstruction::Op::kJump));
            program_[split].next = split + 1;
            program_[split].alternative = static_cast<int>(program_.size());
          }
        }
        for (int jump : jumps) program_[jump].next = static_cast<int>(program_.size());
        return Status::OK();
      }
    }
    return Status::OK();
  }

  const std::vector<std::string>& variables_;
  std::vector<PatternInstruction> program_;
};

// Whether the pattern can match no rows at all.
bool Nullable(const sql::PatternTerm& term) {
  if (term.minimum == 0) return true;
  switch (term.kind) {
    case sql::PatternKind::kVariable:
      return false;
    case sql::PatternKind::kConcatenation:
      return std::all_of(term.children.begin(), term.children.end(),
                         [](const auto& child) { return Nullable(*child); });
    case sql::PatternKind::kAlternation:
      return std::any_of(term.children.begin(), term.children.end(),
                         [](const auto& child) { return Nullable(*child); });
  }
  return false;
}

// Whether the pattern can match any number of rows: its state needs WITHIN to stay bounded.
const sql::PatternTerm* Unbounded(const sql::PatternTerm& term) {
  if (term.maximum == -1) return &term;
  for (const auto& child : term.children) {
    if (const sql::PatternTerm* found = Unbounded(*child)) return found;
  }
  return nullptr;
}

void CollectVariables(const sql::PatternTerm& term, std::vector<std::string>& variables) {
  if (term.kind == sql::PatternKind::kVariable &&
      std::find(variables.begin(), variables.end(), term.variable) == variables.end()) {
    variables.push_back(term.variable);
  }
  for (const auto& child : term.children) CollectVariables(*child, variables);
}

// Binds DEFINE conditions and measures: navigation (X.col, FIRST, LAST, PREV) and
// aggregates over pattern variables become references, computed per (partial) match; the
// rest of the expression reads them as columns.
class MatchExpressionBinder {
 public:
  MatchExpressionBinder(const Scope& input, const std::string& source_qualifier,
                        const std::vector<std::string>& variables,
                        const functions::FunctionRegistry& functions)
      : input_(input),
        source_qualifier_(source_qualifier),
        variables_(variables),
        functions_(functions) {}

  Result<MatchExpression> Bind(const sql::Expression& expression, const std::string& clause) {
    clause_ = clause;
    names_.clear();
    MatchExpression bound;
    auto rewritten = expression.Clone();
    RETURN_NOT_OK(Rewrite(*rewritten, bound));
    Scope references;
    for (size_t i = 0; i < bound.references.size(); ++i) {
      references.columns.push_back(
          {"", names_[i], bound.references[i].value->type, static_cast<int>(i), false});
    }
    ExpressionBinder binder(references, functions_, clause_, AggregateRule::kForbiddenElsewhere);
    ASSIGN_OR_RAISE(bound.expression, binder.Bind(*rewritten));
    return bound;
  }

  int64_t rows_before() const { return rows_before_; }

 private:
  int VariableIndex(const std::string& name) const {
    auto found = std::find(variables_.begin(), variables_.end(), name);
    return found == variables_.end() ? -1 : static_cast<int>(found - variables_.begin());
  }

  // The one pattern variable `expression` reads (-1 for none); strips the qualifiers.
  Result<int> TakeVariable(sql::Expression& expression, int variable,
                           const sql::Expression& whole) {
    if (expression.kind == sql::ExpressionKind::kLambda) {
      return Status::NotSupported(clause_ + " of MATCH_RECOGNIZE does not take lambdas",
                                  expression.location);
    }
    const bool qualified_star = expression.kind == sql::ExpressionKind::kFunctionCall &&
                                expression.star && !expression.qualifier.empty();
    if ((expression.kind == sql::ExpressionKind::kColumnRef || qualified_star) &&
        !expression.qualifier.empty()) {
      const int named = VariableIndex(expression.qualifier);
      if (named < 0 && expression.qualifier != source_qualifier_) {
        std::string nearest = NearestName(expression.qualifier, variables_);
        return Status::BindError(
            "'" + expression.qualifier + "' is not a pattern variable of MATCH_RECOGNIZE",
            expression.location,
            nearest.empty() ? "pattern variables are those named in PATTERN"
                            : "did you mean " + nearest + "?");
      }
      if (named >= 0 && variable >= 0 && named != variable) {
        return Status::BindError(whole.ToSql() + " reads two pattern variables, " +
                                     variables_[variable] + " and " + variables_[named],
                                 whole.location, "navigate over one variable at a time");
      }
      if (named >= 0) variable = named;
      expression.qualifier.clear();
    }
    for (auto& child : expression.children) {
      ASSIGN_OR_RAISE(variable, TakeVariable(*child, variable, whole));
    }
    return variable;
  }

  Result<int64_t> Offset(const sql::Expression& call) {
    if (call.children.size() < 2) return 0;
    const sql::Expression& offset = *call.children[1];
    if (offset.kind != sql::ExpressionKind::kLiteral ||
        offset.literal.kind != sql::LiteralKind::kInteger || offset.literal.integer_value < 0) {
      return Status::BindError("The offset of " + call.name + " must be a non-negative integer",
                               offset.location, "e.g. " + call.name + "(A.price, 1)");
    }
    return offset.literal.integer_value;
  }

  // Replaces `expression` by a reference named after its SQL, adding the reference once.
  void Replace(sql::Expression& expression, MatchReference reference) {
    const std::string name = expression.ToSql();
    auto found = std::find(names_.begin(), names_.end(), name);
    if (found == names_.end()) {
      names_.push_back(name);
      // `current` is filled in by the caller.
      pending_.push_back(std::move(reference));
    }
    sql::Expression placeholder;
    placeholder.kind = sql::ExpressionKind::kColumnRef;
    placeholder.location = expression.location;
    placeholder.text = expression.text;
    placeholder.name = name;
    expression = std::move(placeholder);
  }

  Status Rewrite(sql::Expression& expression, MatchExpression& bound) {
    pending_.clear();
    RETURN_NOT_OK(RewriteNode(expression));
    for (auto& reference : pending_) bound.references.push_back(std::move(reference));
    pending_.clear();
    return Status::OK();
  }

  Status RewriteNode(sql::Expression& expression) {
    if (expression.kind == sql::ExpressionKind::kLambda) {
      return Status::NotSupported(clause_ + " of MATCH_RECOGNIZE does not take lambdas",
                                  expression.location);
    }
    if (expression.kind == sql::ExpressionKind::kColumnRef) {
      auto value = expression.Clone();
      ASSIGN_OR_RAISE(int variable, TakeVariable(*value, -1, expression));
      ExpressionBinder binder(input_, functions_, clause_, AggregateRule::kForbiddenElsewhere);
      ASSIGN_OR_RAISE(auto bound, binder.Bind(*value));
      Replace(expression, {MatchReferenceKind::kLast, variable, 0, std::move(bound)});
      return Status::OK();
    }
    if (expression.kind == sql::ExpressionKind::kFunctionCall) {
      const std::string& name = expression.name;
      if (name == "NEXT") {
        return Status::NotSupported(
            "NEXT reads rows after the current one, which a stream does not have yet",
            expression.location, "use PREV, or move the condition to a later variable");
      }
      if (name == "FIRST" || name == "LAST" || name == "PREV") {
        if (expression.star || expression.children.empty() || expression.children.size() > 2) {
          return Status::BindError(name + " takes an expression and an optional offset",
                                   expression.location, "e.g. " + name + "(A.price, 1)");
        }
        ASSIGN_OR_RAISE(int64_t offset, Offset(expression));
        auto value = expression.children[0]->Clone();
        ASSIGN_OR_RAISE(int variable, TakeVariable(*value, -1, expression));
        ExpressionBinder binder(input_, functions_, clause_, AggregateRule::kForbiddenElsewhere);
        ASSIGN_OR_RAISE(auto bound, binder.Bind(*value));
        MatchReferenceKind kind = name == "FIRST"  ? MatchReferenceKind::kFirst
                                  : name == "LAST" ? MatchReferenceKind::kLast
                                                   : MatchReferenceKind::kPrevious;
        if (kind == MatchReferenceKind::kPrevious) {
          if (offset == 0) offset = 1;  // PREV(x) is PREV(x, 1)
          rows_before_ = std::max(rows_before_, offset);
        }
        Replace(expression, {kind, variable, offset, std::move(bound)});
        return Status::OK();
      }
      const functions::FunctionDefinition* function = functions_.Find(name);
      if (function != nullptr && function->kind == functions::FunctionKind::kAggregate) {
        auto call = expression.Clone();
        ASSIGN_OR_RAISE(int variable, TakeVariable(*call, -1, expression));
        ExpressionBinder binder(input_, functions_, clause_, AggregateRule::kAllowed);
        ASSIGN_OR_RAISE(auto bound, binder.Bind(*call));
        Replace(expression, {MatchReferenceKind::kAggregate, variable, 0, std::move(bound)});
        return Status::OK();
      }
    }
    for (auto& child : expression.children) RETURN_NOT_OK(RewriteNode(*child));
    return Status::OK();
  }

  const Scope& input_;
  const std::string& source_qualifier_;
  const std::vector<std::string>& variables_;
  const functions::FunctionRegistry& functions_;
  std::string clause_;
  std::vector<std::string> names_;       // per reference of the expression being bound
  std::vector<MatchReference> pending_;  // references found by the rewrite
  int64_t rows_before_ = 0;
};

}  // namespace

Result<std::vector<PatternInstruction>> CompilePattern(const sql::PatternTerm& pattern,
                                                       const std::vector<std::string>& variables) {
  return PatternCompiler(variables).Compile(pattern);
}

Result<LogicalOperatorPtr> BindMatchRecognize(const sql::MatchRecognize& match, const Scope& input,
                                              const std::string& source_qualifier,
                                              const functions::FunctionRegistry& functions,
                                              Scope& output) {
  auto node = std::make_unique<LogicalOperator>();
  node->kind = LogicalOperatorKind::kMatchRecognize;
  node->match = std::make_unique<MatchRecognizeSpec>();
  MatchRecognizeSpec& spec = *node->match;

  // ORDER BY: event time only, the order the operator restores per partition.
  const bool rowtime_order =
      match.order_by.size() == 1 && match.order_by[0]->kind == sql::ExpressionKind::kColumnRef &&
      match.order_by[0]->name == "ROWTIME" &&
      (match.order_by[0]->qualifier.empty() || match.order_by[0]->qualifier == source_qualifier);
  if (!rowtime_order) {
    return Status::NotSupported(
        match.order_by.empty() ? std::string("MATCH_RECOGNIZE needs ORDER BY ROWTIME")
                               : "MATCH_RECOGNIZE orders rows by event time only, not by " +
                                     match.order_by.back()->ToSql(),
        match.order_by.empty() ? match.location : match.order_by.back()->location,
        "write ORDER BY ROWTIME (set the event time with TIMESTAMP in the source's WITH)");
  }

  ExpressionBinder partition_binder(input, functions, "PARTITION BY",
                                    AggregateRule::kForbiddenElsewhere);
  for (const auto& expression : match.partition_by) {
    ASSIGN_OR_RAISE(auto bound, partition_binder.Bind(*expression));
    if (bound->kind != BoundKind::kColumn) {
      return Status::NotSupported("MATCH_RECOGNIZE PARTITION BY takes columns, not " + bound->sql,
                                  expression->location,
                                  "compute the value in an earlier query and partition by it");
    }
    for (const auto& existing : node->expressions) {
      if (existing->name == bound->name) {
        return Status::BindError("Duplicate PARTITION BY column " + bound->name,
                                 expression->location);
      }
    }
    node->output.columns.push_back({bound->name, bound->type, catalog::ColumnRole::kKey});
    node->expressions.push_back(std::move(bound));
  }

  // The pattern and its variables.
  const sql::PatternTerm& pattern = *match.pattern;
  CollectVariables(pattern, spec.variables);
  if (spec.variables.size() > 250) {
    return Status::InvalidArgument("PATTERN has more than 250 variables", match.pattern_location);
  }
  spec.pattern_sql = pattern.ToSql();
  if (Nullable(pattern)) {
    return Status::BindError("PATTERN " + spec.pattern_sql + " can match no rows at all",
                             match.pattern_location,
                             "every match needs a row: use + instead of *, or drop ?");
  }
  if (const sql::PatternTerm* unbounded = Unbounded(pattern); unbounded && !match.within_ms) {
    return Status::BindError(
        "PATTERN " + spec.pattern_sql + " has an unbounded quantifier (" + unbounded->ToSql() +
            ") but no WITHIN: its partial matches would be kept forever",
        unbounded->location, "add WITHIN INTERVAL '10' MINUTE after the PATTERN");
  }
  ASSIGN_OR_RAISE(spec.program, CompilePattern(pattern, spec.variables));
  spec.within_ms = match.within_ms;
  spec.skip_to_next_row = match.after_match == sql::AfterMatchSkip::kToNextRow;

  MatchExpressionBinder binder(input, source_qualifier, spec.variables, functions);
  spec.definitions.resize(spec.variables.size());
  for (const sql::NamedExpression& definition : match.definitions) {
    auto found = std::find(spec.variables.begin(), spec.variables.end(), definition.name);
    if (found == spec.variables.end()) {
      std::string nearest = NearestName(definition.name, spec.variables);
      return Status::BindError("DEFINE names '" + definition.name +
                                   "', which is not a variable of PATTERN " + spec.pattern_sql,
                               definition.location,
                               nearest.empty() ? "" : "did you mean " + nearest + "?");
    }
    ASSIGN_OR_RAISE(auto bound, binder.Bind(*definition.expression, "DEFINE"));
    const TypeId type = bound.expression->type.id();
    if (type != TypeId::kBoolean && type != TypeId::kNull) {
      return Status::BindError("DEFINE " + definition.name + " must be BOOLEAN but " +
                                   bound.expression->sql + " is " +
                                   bound.expression->type.ToString(),
                               definition.expression->location);
    }
    spec.definitions[found - spec.variables.begin()] =
        std::make_unique<MatchExpression>(std::move(bound));
  }
  for (const sql::NamedExpression& measure : match.measures) {
    ASSIGN_OR_RAISE(auto bound, binder.Bind(*measure.expression, "MEASURES"));
    for (const auto& column : node->output.columns) {
      if (column.name == measure.name) {
        return Status::BindError(
            "Measure '" + measure.name + "' has the name of a PARTITION BY column",
            measure.location, "give it another name with AS");
      }
    }
    node->output.columns.push_back(
        {measure.name, bound.expression->type, catalog::ColumnRole::kValue});
    spec.measures.push_back(std::move(bound));
  }
  spec.rows_before = binder.rows_before();

  const std::string qualifier = match.alias.empty() ? source_qualifier : match.alias;
  output = Scope{};
  for (size_t i = 0; i < node->output.columns.size(); ++i) {
    const LogicalColumn& column = node->output.columns[i];
    output.columns.push_back({qualifier, column.name, column.type, static_cast<int>(i), false});
  }
  const int width = static_cast<int>(node->output.columns.size());
  output.columns.push_back({qualifier, "ROWTIME", SqlType::Bigint(), width, true});
  output.columns.push_back({qualifier, "ROWPARTITION", SqlType::Int(), width + 1, true});
  output.columns.push_back({qualifier, "ROWOFFSET", SqlType::Bigint(), width + 2, true});
  return node;
}

}  // namespace sidestream::analyzer
