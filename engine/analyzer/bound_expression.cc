#include "analyzer/bound_expression.h"

namespace sidestream::analyzer {

std::unique_ptr<BoundExpression> BoundExpression::Clone() const {
  auto copy = std::make_unique<BoundExpression>();
  copy->kind = kind;
  copy->type = type;
  copy->sql = sql;
  copy->name = name;
  copy->column_index = column_index;
  copy->function = function;
  copy->literal = literal;
  copy->negated = negated;
  copy->has_else = has_else;
  copy->star = star;
  copy->implicit = implicit;
  copy->field_names = field_names;
  for (const auto& child : children) copy->children.push_back(child->Clone());
  return copy;
}

bool BoundExpression::ContainsAggregate() const {
  if (kind == BoundKind::kAggregate) return true;
  for (const auto& child : children) {
    if (child->ContainsAggregate()) return true;
  }
  return false;
}

}  // namespace sidestream::analyzer
