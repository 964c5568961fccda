#include "expr/evaluator.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "expr/cast.h"
#include "expr/like_pattern.h"
#include "functions/numbers.h"
#include "functions/scalar_functions.h"

namespace sidestream::expr {

using analyzer::BoundExpression;
using analyzer::BoundKind;
using types::Decimal;
using types::SqlType;
using types::TypeId;
using types::Value;

namespace {

// One node of a compiled expression tree. Children are evaluated into scratch Values
// that the node owns (mutable), so evaluation does not allocate for scalars; this is why
// one Evaluator serves one thread at a time.
class Node {
 public:
  explicit Node(SqlType type) : type_(std::move(type)) {}
  virtual ~Node() = default;
  virtual Status Eval(const types::Row& row, Value& out) const = 0;
  const SqlType& type() const { return type_; }
  // The value when the node is a literal, else null.
  virtual const Value* constant() const { return nullptr; }
  // The value in place when it lives in `row` (a column, a field of one), else null:
  // lets a dereference read a field without copying, and so sharing, the whole struct.
  virtual const Value* Peek(const types::Row&) const { return nullptr; }

 private:
  SqlType type_;
};

using NodePtr = std::unique_ptr<Node>;

bool IsTrue(const Value& value) { return value.kind() == TypeId::kBoolean && value.boolean(); }

class ConstantNode final : public Node {
 public:
  ConstantNode(SqlType type, Value value) : Node(std::move(type)), value_(std::move(value)) {}
  Status Eval(const types::Row&, Value& out) const override {
    if (value_.kind() == TypeId::kString) {
      out.AssignString(value_.string());
    } else {
      out = value_;
    }
    return Status::OK();
  }
  const Value* constant() const override { return &value_; }

 private:
  Value value_;
};

class ColumnNode final : public Node {
 public:
  ColumnNode(SqlType type, size_t index) : Node(std::move(type)), index_(index) {}
  Status Eval(const types::Row& row, Value& out) const override {
    if (index_ >= row.size()) {
      return Status::Internal("Column index " + std::to_string(index_) + " is outside a row of " +
                              std::to_string(row.size()) + " values");
    }
    const Value& value = row[index_];
    if (value.kind() == TypeId::kString) {
      out.AssignString(value.string());
    } else {
      out = value;
    }
    return Status::OK();
  }
  const Value* Peek(const types::Row& row) const override {
    return index_ < row.size() ? &row[index_] : nullptr;
  }

 private:
  size_t index_;
};

class NegateNode final : public Node {
 public:
  NegateNode(SqlType type, NodePtr child) : Node(std::move(type)), child_(std::move(child)) {}
  Status Eval(const types::Row& row, Value& out) const override {
    RETURN_NOT_OK(child_->Eval(row, out));
    switch (out.kind()) {
      case TypeId::kInt:
        out = Value::Int(static_cast<int32_t>(0u - static_cast<uint32_t>(out.integer())));
        break;
      case TypeId::kBigint:
        out = Value::Bigint(static_cast<int64_t>(0ull - static_cast<uint64_t>(out.integer())));
        break;
      case TypeId::kDouble:
        out = Value::Double(-out.float64());
        break;
      case TypeId::kDecimal:
        out = Value::DecimalValue(-out.decimal().unscaled, out.decimal().scale);
        break;
      default:
        break;
    }
    return Status::OK();
  }

 private:
  NodePtr child_;
};

class NotNode final : public Node {
 public:
  explicit NotNode(NodePtr child) : Node(SqlType::Boolean()), child_(std::move(child)) {}
  Status Eval(const types::Row& row, Value& out) const override {
    RETURN_NOT_OK(child_->Eval(row, out));
    if (!out.is_null()) out = Value::Boolean(!out.boolean());
    return Status::OK();
  }

 private:
  NodePtr child_;
};

// A node with two children evaluated into scratch values.
class BinaryNode : public Node {
 public:
  BinaryNode(SqlType type, NodePtr left, NodePtr right)
      : Node(std::move(type)), left_(std::move(left)), right_(std::move(right)) {}

 protected:
  Status EvalChildren(const types::Row& row) const {
    RETURN_NOT_OK(left_->Eval(row, left_value_));
    return right_->Eval(row, right_value_);
  }
  NodePtr left_;
  NodePtr right_;
  mutable Value left_value_;
  mutable Value right_value_;
};

enum class ArithmeticOp { kAdd, kSubtract, kMultiply, kDivide, kModulo };

class ArithmeticNode final : public BinaryNode {
 public:
  ArithmeticNode(SqlType type, ArithmeticOp op, NodePtr left, NodePtr right)
      : BinaryNode(std::move(type), std::move(left), std::move(right)), op_(op) {}

  Status Eval(const types::Row& row, Value& out) const override {
    RETURN_NOT_OK(EvalChildren(row));
    const Value& a = left_value_;
    const Value& b = right_value_;
    if (a.is_null() || b.is_null()) {
      out = Value::Null();
      return Status::OK();
    }
    switch (type().id()) {
      case TypeId::kInt: {
        uint32_t x = static_cast<uint32_t>(a.integer());
        uint32_t y = static_cast<uint32_t>(b.integer());
        int32_t divisor = static_cast<int32_t>(y);
        switch (op_) {
          case ArithmeticOp::kAdd:
            out = Value::Int(static_cast<int32_t>(x + y));
            break;
          case ArithmeticOp::kSubtract:
            out = Value::Int(static_cast<int32_t>(x - y));
            break;
          case ArithmeticOp::kMultiply:
            out = Value::Int(static_cast<int32_t>(x * y));
            break;
          case ArithmeticOp::kDivide:
            if (divisor == 0) {
              out = Value::Null();
            } else if (divisor == -1) {  // Java: MIN_VALUE / -1 wraps to MIN_VALUE
              out = Value::Int(static_cast<int32_t>(0u - x));
            } else {
              out = Value::Int(static_cast<int32_t>(x) / divisor);
            }
            break;
          case ArithmeticOp::kModulo:
            if (divisor == 0) {
              out = Value::Null();
            } else if (divisor == -1) {
              out = Value::Int(0);
            } else {
              out = Value::Int(static_cast<int32_t>(x) % divisor);
            }
            break;
        }
        return Status::OK();
      }
      case TypeId::kBigint: {
        uint64_t x = static_cast<uint64_t>(a.integer());
        uint64_t y = static_cast<uint64_t>(b.integer());
        int64_t divisor = static_cast<int64_t>(y);
        switch (op_) {
          case ArithmeticOp::kAdd:
            out = Value::Bigint(static_cast<int64_t>(x + y));
            break;
          case ArithmeticOp::kSubtract:
            out = Value::Bigint(static_cast<int64_t>(x - y));
            break;
          case ArithmeticOp::kMultiply:
            out = Value::Bigint(static_cast<int64_t>(x * y));
            break;
          case ArithmeticOp::kDivide:
            if (divisor == 0) {
              out = Value::Null();
            } else if (divisor == -1) {
              out = Value::Bigint(static_cast<int64_t>(0ull - x));
            } else {
              out = Value::Bigint(static_cast<int64_t>(x) / divisor);
            }
            break;
          case ArithmeticOp::kModulo:
            if (divisor == 0) {
              out = Value::Null();
            } else if (divisor == -1) {
              out = Value::Bigint(0);
            } else {
              out = Value::Bigint(static_cast<int64_t>(x) % divisor);
            }
            break;
        }
        return Status::OK();
      }
      case TypeId::kDouble: {
        double x = functions::NumberAsDouble(a);
        double y = functions::NumberAsDouble(b);
        switch (op_) {
          case ArithmeticOp::kAdd:
            out = Value::Double(x + y);
            break;
          case ArithmeticOp::kSubtract:
            out = Value::Double(x - y);
            break;
          case ArithmeticOp::kMultiply:
            out = Value::Double(x * y);
            break;
          case ArithmeticOp::kDivide:
            out = Value::Double(x / y);
            break;
          case ArithmeticOp::kModulo:
            out = Value::Double(std::fmod(x, y));
            break;
        }
        return Status::OK();
      }
      case TypeId::kDecimal:
        return EvalDecimal(a, b, out);
      default:
        return Status::Internal("Arithmetic with result type " + type().ToString());
    }
  }

 private:
  Status EvalDecimal(const Value& a, const Value& b, Value& out) const {
    ASSIGN_OR_RAISE(Decimal x, functions::NumberAsDecimal(a));
    ASSIGN_OR_RAISE(Decimal y, functions::NumberAsDecimal(b));
    int scale = type().scale();
    int common = std::max(x.scale, y.scale);
    __int128 xs = x.unscaled * functions::PowerOfTen(common - x.scale);
    __int128 ys = y.unscaled * functions::PowerOfTen(common - y.scale);
    __int128 result = 0;
    switch (op_) {
      case ArithmeticOp::kAdd:
        result = functions::RescaleHalfUp(xs + ys, common, scale);
        break;
      case ArithmeticOp::kSubtract:
        result = functions::RescaleHalfUp(xs - ys, common, scale);
        break;
      case ArithmeticOp::kMultiply:
        result = functions::RescaleHalfUp(x.unscaled * y.unscaled, x.scale + y.scale, scale);
        break;
      case ArithmeticOp::kDivide: {
        if (y.unscaled == 0) {
          out = Value::Null();
          return Status::OK();
        }
        // x / y at `scale`: x.u * 10^(scale - x.s + y.s) / y.u, rounded HALF_UP.
        int shift = scale - x.scale + y.scale;
        __int128 numerator = x.unscaled;
        __int128 denominator = y.unscaled;
        if (shift >= 0) {
          numerator *= functions::PowerOfTen(shift);
        } else {
          denominator *= functions::PowerOfTen(-shift);
        }
        result = functions::DivideHalfUp(numerator, denominator);
        break;
      }
      case ArithmeticOp::kModulo:
        if (ys == 0) {
          out = Value::Null();
          return Status::OK();
        }
        result = functions::RescaleHalfUp(xs % ys, common, scale);
        break;
    }
    out = Value::DecimalValue(result, scale);
    return Status::OK();
  }

  ArithmeticOp op_;
};

class ConcatNode final : public BinaryNode {
 public:
  ConcatNode(NodePtr left, NodePtr right)
      : BinaryNode(SqlType::String(), std::move(left), std::move(right)) {}
  Status Eval(const types::Row& row, Value& out) const override {
    RETURN_NOT_OK(EvalChildren(row));
    if (left_value_.is_null() || right_value_.is_null()) {
      out = Value::Null();
      return Status::OK();
    }
    // Joined in a scratch buffer whose capacity is kept between records.
    buffer_.assign(left_value_.string());
    buffer_ += right_value_.string();
    out.AssignString(buffer_);
    return Status::OK();
  }

 private:
  mutable std::string buffer_;
};

enum class CompareOp { kEqual, kNotEqual, kLess, kLessEqual, kGreater, kGreaterEqual };

bool ApplyCompare(CompareOp op, int order) {
  switch (op) {
    case CompareOp::kEqual:
      return order == 0;
    case CompareOp::kNotEqual:
      return order != 0;
    case CompareOp::kLess:
      return order < 0;
    case CompareOp::kLessEqual:
      return order <= 0;
    case CompareOp::kGreater:
      return order > 0;
    case CompareOp::kGreaterEqual:
      return order >= 0;
  }
  return false;
}

// Orders two non-NULL values; NaN compares as Java's Double.compare would not, but as
// IEEE (every comparison with NaN is false except <>), which is what ksqlDB's generated
// code does for primitive doubles.
int CompareValues(const Value& a, const Value& b, bool& unordered) {
  unordered = false;
  if (a.kind() == TypeId::kDouble || b.kind() == TypeId::kDouble) {
    double x = functions::NumberAsDouble(a);
    double y = functions::NumberAsDouble(b);
    if (std::isnan(x) || std::isnan(y)) {
      unordered = true;
      return 1;
    }
  }
  return Value::Compare(a, b);
}

class CompareNode final : public BinaryNode {
 public:
  CompareNode(CompareOp op, NodePtr left, NodePtr right)
      : BinaryNode(SqlType::Boolean(), std::move(left), std::move(right)), op_(op) {}
  Status Eval(const types::Row& row, Value& out) const override {
    RETURN_NOT_OK(EvalChildren(row));
    // ksqlDB's generated code answers false, not NULL, when either side is NULL.
    if (left_value_.is_null() || right_value_.is_null()) {
      out = Value::Boolean(false);
      return Status::OK();
    }
    bool unordered = false;
    int order = CompareValues(left_value_, right_value_, unordered);
    out = Value::Boolean(unordered ? op_ == CompareOp::kNotEqual : ApplyCompare(op_, order));
    return Status::OK();
  }

 private:
  CompareOp op_;
};

class LogicalNode final : public BinaryNode {
 public:
  LogicalNode(bool is_and, NodePtr left, NodePtr right)
      : BinaryNode(SqlType::Boolean(), std::move(left), std::move(right)), and_(is_and) {}
  Status Eval(const types::Row& row, Value& out) const override {
    // Three-valued logic; the right side is skipped when the left decides.
    RETURN_NOT_OK(left_->Eval(row, left_value_));
    bool decisive = !left_value_.is_null() && left_value_.boolean() != and_;
    if (decisive) {
      out = Value::Boolean(!and_);
      return Status::OK();
    }
    RETURN_NOT_OK(right_->Eval(row, right_value_));
    if (!right_value_.is_null() && right_value_.boolean() != and_) {
      out = Value::Boolean(!and_);
    } else if (left_value_.is_null() || right_value_.is_null()) {
      out = Value::Null();
    } else {
      out = Value::Boolean(and_);
    }
    return Status::OK();
  }

 private:
  bool and_;
};

class CaseNode final : public Node {
 public:
  CaseNode(SqlType type, std::vector<NodePtr> children, bool has_else)
      : Node(std::move(type)), children_(std::move(children)), has_else_(has_else) {}
  Status Eval(const types::Row& row, Value& out) const override {
    size_t pairs = (children_.size() - (has_else_ ? 1 : 0)) / 2;
    for (size_t i = 0; i < pairs; ++i) {
      RETURN_NOT_OK(children_[2 * i]->Eval(row, condition_));
      if (IsTrue(condition_)) {
        RETURN_NOT_OK(children_[2 * i + 1]->Eval(row, out));
        return Conform(out, type());
      }
    }
    if (has_else_) {
      RETURN_NOT_OK(children_.back()->Eval(row, out));
      return Conform(out, type());
    }
    out = Value::Null();
    return Status::OK();
  }

 private:
  std::vector<NodePtr> children_;
  bool has_else_;
  mutable Value condition_;
};

class CastNode final : public Node {
 public:
  CastNode(SqlType type, NodePtr child) : Node(std::move(type)), child_(std::move(child)) {}
  Status Eval(const types::Row& row, Value& out) const override {
    RETURN_NOT_OK(child_->Eval(row, input_));
    return CastValue(input_, type(), out, &child_->type());
  }

 private:
  NodePtr child_;
  mutable Value input_;
};

class LikeNode final : public Node {
 public:
  LikeNode(bool negated, NodePtr text, NodePtr pattern, NodePtr escape,
           std::optional<LikePattern> compiled)
      : Node(SqlType::Boolean()),
        negated_(negated),
        text_(std::move(text)),
        pattern_(std::move(pattern)),
        escape_(std::move(escape)),
        compiled_(std::move(compiled)) {}
  Status Eval(const types::Row& row, Value& out) const override {
    RETURN_NOT_OK(text_->Eval(row, text_value_));
    if (text_value_.is_null()) {
      out = Value::Null();
      return Status::OK();
    }
    bool matches = false;
    if (compiled_.has_value()) {
      matches = compiled_->Matches(text_value_.string());
    } else {
      RETURN_NOT_OK(pattern_->Eval(row, pattern_value_));
      std::optional<std::string_view> escape;
      if (escape_) {
        RETURN_NOT_OK(escape_->Eval(row, escape_value_));
        if (escape_value_.is_null()) {
          out = Value::Null();
          return Status::OK();
        }
        escape = escape_value_.string();
      }
      if (pattern_value_.is_null()) {
        out = Value::Null();
        return Status::OK();
      }
      ASSIGN_OR_RAISE(LikePattern pattern, LikePattern::Compile(pattern_value_.string(), escape));
      matches = pattern.Matches(text_value_.string());
    }
    out = Value::Boolean(matches != negated_);
    return Status::OK();
  }

 private:
  bool negated_;
  NodePtr text_;
  NodePtr pattern_;
  NodePtr escape_;
  std::optional<LikePattern> compiled_;
  mutable Value text_value_;
  mutable Value pattern_value_;
  mutable Value escape_value_;
};

class BetweenNode final : public Node {
 public:
  BetweenNode(bool negated, NodePtr value, NodePtr low, NodePtr high)
      : Node(SqlType::Boolean()),
        negated_(negated),
        value_(std::move(value)),
        low_(std::move(low)),
        high_(std::move(high)) {}
  Status Eval(const types::Row& row, Value& out) const override {
    RETURN_NOT_OK(value_->Eval(row, x_));
    RETURN_NOT_OK(low_->Eval(row, low_value_));
    RETURN_NOT_OK(high_->Eval(row, high_value_));
    // x >= low AND x <= high, each part three-valued.
    auto part = [&](const Value& bound, bool lower) -> int {  // 1 true, 0 false, -1 unknown
      if (x_.is_null() || bound.is_null()) return -1;
      bool unordered = false;
      int order = CompareValues(x_, bound, unordered);
      if (unordered) return 0;
      return (lower ? order >= 0 : order <= 0) ? 1 : 0;
    };
    int low = part(low_value_, true);
    int high = part(high_value_, false);
    if (low == 0 || high == 0) {
      out = Value::Boolean(negated_);
    } else if (low == -1 || high == -1) {
      out = Value::Null();
    } else {
      out = Value::Boolean(!negated_);
    }
    return Status::OK();
  }

 private:
  bool negated_;
  NodePtr value_;
  NodePtr low_;
  NodePtr high_;
  mutable Value x_;
  mutable Value low_value_;
  mutable Value high_value_;
};

class InListNode final : public Node {
 public:
  InListNode(bool negated, NodePtr value, std::vector<NodePtr> list)
      : Node(SqlType::Boolean()),
        negated_(negated),
        value_(std::move(value)),
        list_(std::move(list)) {}
  Status Eval(const types::Row& row, Value& out) const override {
    RETURN_NOT_OK(value_->Eval(row, x_));
    if (x_.is_null()) {
      out = Value::Null();
      return Status::OK();
    }
    bool saw_null = false;
    for (const NodePtr& candidate : list_) {
      RETURN_NOT_OK(candidate->Eval(row, item_));
      if (item_.is_null()) {
        saw_null = true;
        continue;
      }
      bool unordered = false;
      if (CompareValues(x_, item_, unordered) == 0 && !unordered) {
        out = Value::Boolean(!negated_);
        return Status::OK();
      }
    }
    out = saw_null ? Value::Null() : Value::Boolean(negated_);
    return Status::OK();
  }

 private:
  bool negated_;
  NodePtr value_;
  std::vector<NodePtr> list_;
  mutable Value x_;
  mutable Value item_;
};

class IsNullNode final : public Node {
 public:
  IsNullNode(bool negated, NodePtr child)
      : Node(SqlType::Boolean()), negated_(negated), child_(std::move(child)) {}
  Status Eval(const types::Row& row, Value& out) const override {
    RETURN_NOT_OK(child_->Eval(row, out));
    out = Value::Boolean(out.is_null() != negated_);
    return Status::OK();
  }

 private:
  bool negated_;
  NodePtr child_;
};

class DistinctNode final : public BinaryNode {
 public:
  DistinctNode(bool negated, NodePtr left, NodePtr right)
      : BinaryNode(SqlType::Boolean(), std::move(left), std::move(right)), negated_(negated) {}
  Status Eval(const types::Row& row, Value& out) const override {
    RETURN_NOT_OK(EvalChildren(row));
    bool distinct = left_value_ != right_value_;
    out = Value::Boolean(distinct != negated_);
    return Status::OK();
  }

 private:
  bool negated_;
};

class SubscriptNode final : public BinaryNode {
 public:
  using BinaryNode::BinaryNode;
  Status Eval(const types::Row& row, Value& out) const override {
    RETURN_NOT_OK(EvalChildren(row));
    const Value& container = left_value_;
    const Value& key = right_value_;
    if (container.is_null() || key.is_null()) {
      out = Value::Null();
      return Status::OK();
    }
    const std::vector<Value>& children = container.children();
    if (container.kind() == TypeId::kArray) {
      // 1-based; negative indexes count from the end (-1 is the last element).
      int64_t index = key.integer();
      int64_t size = static_cast<int64_t>(children.size());
      int64_t position = index > 0 ? index - 1 : size + index;
      if (index == 0 || position < 0 || position >= size) {
        out = Value::Null();
      } else {
        out = children[static_cast<size_t>(position)];
      }
      return Status::OK();
    }
    for (size_t i = 0; i + 1 < children.size(); i += 2) {
      if (children[i] == key) {
        out = children[i + 1];
        return Status::OK();
      }
    }
    out = Value::Null();
    return Status::OK();
  }
};

class DereferenceNode final : public Node {
 public:
  DereferenceNode(SqlType type, NodePtr child, size_t field)
      : Node(std::move(type)), child_(std::move(child)), field_(field) {}
  Status Eval(const types::Row& row, Value& out) const override {
    const Value* container = child_->Peek(row);
    if (container == nullptr) {
      RETURN_NOT_OK(child_->Eval(row, container_));
      container = &container_;
    }
    const Value* field = Field(*container);
    if (field == nullptr) {
      out.SetNull();
    } else if (field->kind() == TypeId::kString) {
      out.AssignString(field->string());
    } else {
      out = *field;
    }
    container_.SetNull();  // holds no reference to the row's struct between records
    return Status::OK();
  }
  const Value* Peek(const types::Row& row) const override {
    const Value* container = child_->Peek(row);
    if (container == nullptr) return nullptr;
    static const Value kNull{};
    const Value* field = Field(*container);
    return field != nullptr ? field : &kNull;
  }

 private:
  const Value* Field(const Value& container) const {
    if (container.is_null() || field_ >= container.children().size()) return nullptr;
    return &container.children()[field_];
  }

  NodePtr child_;
  size_t field_;
  mutable Value container_;
};

// ARRAY[...], MAP(...) and STRUCT(...): a new nested value per record.
class ConstructorNode final : public Node {
 public:
  ConstructorNode(SqlType type, std::vector<NodePtr> children, std::vector<SqlType> child_types)
      : Node(std::move(type)),
        children_(std::move(children)),
        child_types_(std::move(child_types)) {}
  Status Eval(const types::Row& row, Value& out) const override {
    std::vector<Value> values(children_.size());
    for (size_t i = 0; i < children_.size(); ++i) {
      RETURN_NOT_OK(children_[i]->Eval(row, values[i]));
      RETURN_NOT_OK(Conform(values[i], child_types_[i]));
    }
    switch (type().id()) {
      case TypeId::kArray:
        out = Value::Array(std::move(values));
        break;
      case TypeId::kMap:
        out = Value::Map(std::move(values));
        break;
      default:
        out = Value::Struct(std::move(values));
        break;
    }
    return Status::OK();
  }

 private:
  std::vector<NodePtr> children_;
  std::vector<SqlType> child_types_;
};

// ksqlDB's nested error handling: a CAST, a function call or field access given to a
// function, and the parts of ARRAY[...], MAP(...) and STRUCT(...) give NULL when they fail,
// so that the enclosing expression (IFNULL, COALESCE, ...) can still produce a value.
// The failures are counted in `*errors` (ksqlDB logs them).
class NullOnErrorNode final : public Node {
 public:
  NullOnErrorNode(NodePtr child, int64_t* errors)
      : Node(child->type()), child_(std::move(child)), errors_(errors) {}
  Status Eval(const types::Row& row, Value& out) const override {
    if (!child_->Eval(row, out).ok()) {
      out = Value::Null();
      ++*errors_;
    }
    return Status::OK();
  }

 private:
  NodePtr child_;
  int64_t* errors_;
};

class FunctionNode final : public Node {
 public:
  FunctionNode(SqlType type, std::unique_ptr<functions::ScalarFunction> function,
               std::vector<NodePtr> children)
      : Node(std::move(type)),
        function_(std::move(function)),
        children_(std::move(children)),
        arguments_(children_.size()) {}
  Status Eval(const types::Row& row, Value& out) const override {
    for (size_t i = 0; i < children_.size(); ++i) {
      RETURN_NOT_OK(children_[i]->Eval(row, arguments_[i]));
    }
    RETURN_NOT_OK(function_->Call(arguments_, out));
    return Conform(out, type());
  }

 private:
  std::unique_ptr<functions::ScalarFunction> function_;
  std::vector<NodePtr> children_;
  mutable std::vector<Value> arguments_;
};

// What compiling one expression tree shares: the counter of failures that nested error
// handling turns into NULL, and the slots of the lambda parameters in scope (innermost last).
struct Compilation {
  int64_t* errors = nullptr;
  std::vector<std::pair<std::string, const Value*>> variables;
};

// A lambda parameter: reads the slot its lambda fills before each run of the body.
class VariableNode final : public Node {
 public:
  VariableNode(SqlType type, const Value* slot) : Node(std::move(type)), slot_(slot) {}
  Status Eval(const types::Row&, Value& out) const override {
    out = *slot_;
    return Status::OK();
  }

 private:
  const Value* slot_;
};

// Arithmetic inside a lambda: ksqlDB's generated Java throws on a NULL operand or a
// division by zero there, so the higher-order function gives NULL rather than a NULL element.
class NullIsErrorNode final : public Node {
 public:
  explicit NullIsErrorNode(NodePtr child) : Node(child->type()), child_(std::move(child)) {}
  Status Eval(const types::Row& row, Value& out) const override {
    RETURN_NOT_OK(child_->Eval(row, out));
    if (out.is_null()) return Status::InvalidArgument("Arithmetic on NULL inside a lambda");
    return Status::OK();
  }

 private:
  NodePtr child_;
};

// A compiled lambda: its body, and the slots of its parameters (at fixed addresses, which
// the body's VariableNodes hold).
struct Lambda {
  NodePtr body;
  std::unique_ptr<std::vector<Value>> parameters;

  Status Run(const types::Row& row, std::initializer_list<const Value*> arguments,
             Value& out) const {
    size_t i = 0;
    for (const Value* argument : arguments) (*parameters)[i++] = *argument;
    return body->Eval(row, out);
  }
};

// TRANSFORM, FILTER and REDUCE over an ARRAY or a MAP, as ksqlDB runs them: a NULL
// collection gives NULL (REDUCE: the initial state); a transformed MAP must not get a NULL
// or repeated key, nor a NULL value (an error, as Java's Collectors.toMap throws).
class HigherOrderNode final : public Node {
 public:
  enum class Kind { kTransform, kFilter, kReduce };

  HigherOrderNode(SqlType type, Kind kind, NodePtr collection, NodePtr state,
                  std::vector<Lambda> lambdas)
      : Node(std::move(type)),
        kind_(kind),
        collection_(std::move(collection)),
        state_(std::move(state)),
        lambdas_(std::move(lambdas)) {}

  Status Eval(const types::Row& row, Value& out) const override {
    Value collection;
    RETURN_NOT_OK(collection_->Eval(row, collection));
    if (kind_ == Kind::kReduce) {
      RETURN_NOT_OK(state_->Eval(row, out));
      if (collection.is_null()) return Status::OK();
      RETURN_NOT_OK(Conform(out, type()));
      const std::vector<Value>& items = collection.children();
      bool map = collection.kind() == TypeId::kMap;
      for (size_t i = 0; i < items.size(); i += map ? 2 : 1) {
        Value next;
        if (map) {
          RETURN_NOT_OK(lambdas_[0].Run(row, {&out, &items[i], &items[i + 1]}, next));
        } else {
          RETURN_NOT_OK(lambdas_[0].Run(row, {&out, &items[i]}, next));
        }
        RETURN_NOT_OK(Conform(next, type()));
        out = std::move(next);
      }
      return Status::OK();
    }
    if (collection.is_null()) {
      out = Value::Null();
      return Status::OK();
    }
    const std::vector<Value>& items = collection.children();
    std::vector<Value> result;
    Value value;
    if (collection.kind() == TypeId::kArray) {
      for (const Value& item : items) {
        RETURN_NOT_OK(lambdas_[0].Run(row, {&item}, value));
        if (kind_ == Kind::kTransform) {
          RETURN_NOT_OK(Conform(value, type().element()));
          result.push_back(value);
        } else if (IsTrue(value)) {
          result.push_back(item);
        }
      }
      out = Value::Array(std::move(result));
      return Status::OK();
    }
    for (size_t i = 0; i + 1 < items.size(); i += 2) {
      const Value* entry[] = {&items[i], &items[i + 1]};
      if (kind_ == Kind::kFilter) {
        RETURN_NOT_OK(lambdas_[0].Run(row, {entry[0], entry[1]}, value));
        if (IsTrue(value)) result.insert(result.end(), {items[i], items[i + 1]});
        continue;
      }
      Value key;
      RETURN_NOT_OK(lambdas_[0].Run(row, {entry[0], entry[1]}, key));
      RETURN_NOT_OK(lambdas_[1].Run(row, {entry[0], entry[1]}, value));
      if (key.is_null() || value.is_null()) {
        return Status::InvalidArgument("TRANSFORM gave a map entry a NULL key or value");
      }
      for (size_t k = 0; k < result.size(); k += 2) {
        if (result[k] == key) {
          return Status::InvalidArgument("TRANSFORM gave two map entries the key " +
                                         key.DebugString());
        }
      }
      RETURN_NOT_OK(Conform(key, type().key()));
      RETURN_NOT_OK(Conform(value, type().value()));
      result.push_back(std::move(key));
      result.push_back(value);
    }
    out = Value::Map(std::move(result));
    return Status::OK();
  }

 private:
  Kind kind_;
  NodePtr collection_;
  NodePtr state_;  // REDUCE's initial state
  std::vector<Lambda> lambdas_;
};

Result<NodePtr> CompileNode(const BoundExpression& expression, Compilation& compilation);

// Compiles TRANSFORM, FILTER or REDUCE: each lambda's body sees its parameters through slots.
Result<NodePtr> CompileHigherOrder(const BoundExpression& expression, Compilation& compilation) {
  const std::string& name = expression.function->name;
  HigherOrderNode::Kind kind = name == "TRANSFORM" ? HigherOrderNode::Kind::kTransform
                               : name == "FILTER"  ? HigherOrderNode::Kind::kFilter
                                                   : HigherOrderNode::Kind::kReduce;
  NodePtr collection;
  NodePtr state;
  std::vector<Lambda> lambdas;
  for (const auto& child : expression.children) {
    if (child->kind != BoundKind::kLambda) {
      ASSIGN_OR_RAISE(NodePtr node, CompileNode(*child, compilation));
      (collection ? state : collection) = std::move(node);
      continue;
    }
    Lambda lambda;
    lambda.parameters = std::make_unique<std::vector<Value>>(child->field_names.size());
    size_t scope_size = compilation.variables.size();
    for (size_t i = 0; i < child->field_names.size(); ++i) {
      compilation.variables.emplace_back(child->field_names[i], &(*lambda.parameters)[i]);
    }
    auto body = CompileNode(*child->children.at(0), compilation);
    compilation.variables.resize(scope_size);
    if (!body.ok()) return body.status();
    lambda.body = std::move(*body);
    lambdas.push_back(std::move(lambda));
  }
  size_t wanted =
      kind == HigherOrderNode::Kind::kTransform && collection->type().id() == TypeId::kMap ? 2 : 1;
  if (lambdas.size() != wanted || (kind == HigherOrderNode::Kind::kReduce && !state)) {
    return Status::Internal(name + " has the wrong arguments: " + expression.sql);
  }
  return NodePtr(std::make_unique<HigherOrderNode>(expression.type, kind, std::move(collection),
                                                   std::move(state), std::move(lambdas)));
}

Result<Value> LiteralValue(const BoundExpression& expression) {
  const sql::Literal& literal = expression.literal;
  switch (literal.kind) {
    case sql::LiteralKind::kNull:
      return Value::Null();
    case sql::LiteralKind::kBoolean:
      return Value::Boolean(literal.boolean_value);
    case sql::LiteralKind::kInteger:
      if (expression.type.id() == TypeId::kInt) {
        return Value::Int(static_cast<int32_t>(literal.integer_value));
      }
      return Value::Bigint(literal.integer_value);
    case sql::LiteralKind::kDecimal: {
      ASSIGN_OR_RAISE(Decimal decimal, functions::ParseDecimal(literal.text));
      return Value::DecimalValue(decimal.unscaled, decimal.scale);
    }
    case sql::LiteralKind::kDouble:
      return Value::Double(literal.double_value);
    case sql::LiteralKind::kString:
      return Value::String(literal.text);
    case sql::LiteralKind::kBytes:
      return Value::Bytes(literal.text);
  }
  return Status::Internal("Unknown literal kind");
}

Result<NodePtr> CompileNode(const BoundExpression& expression, Compilation& compilation);

NodePtr NullOnError(NodePtr node, int64_t* errors) {
  return std::make_unique<NullOnErrorNode>(std::move(node), errors);
}

// A string operand compared with a temporal one is read as that temporal type.
NodePtr CoerceForComparison(NodePtr node, const SqlType& other) {
  if (node->type().id() == TypeId::kString && other.is_temporal()) {
    return std::make_unique<CastNode>(other, std::move(node));
  }
  return node;
}

Result<std::vector<NodePtr>> CompileChildren(const BoundExpression& expression,
                                             Compilation& compilation) {
  std::vector<NodePtr> children;
  for (const auto& child : expression.children) {
    ASSIGN_OR_RAISE(NodePtr node, CompileNode(*child, compilation));
    children.push_back(std::move(node));
  }
  return children;
}

Result<NodePtr> CompileBinary(const BoundExpression& expression, std::vector<NodePtr> children) {
  const std::string& op = expression.name;
  NodePtr left = std::move(children.at(0));
  NodePtr right = std::move(children.at(1));
  if (op == "AND" || op == "OR") {
    return NodePtr(std::make_unique<LogicalNode>(op == "AND", std::move(left), std::move(right)));
  }
  if (op == "||" || (op == "+" && expression.type.id() == TypeId::kString)) {
    return NodePtr(std::make_unique<ConcatNode>(std::move(left), std::move(right)));
  }
  static const std::pair<const char*, CompareOp> kComparisons[] = {
      {"=", CompareOp::kEqual},        {"<>", CompareOp::kNotEqual},  {"!=", CompareOp::kNotEqual},
      {"<", CompareOp::kLess},         {"<=", CompareOp::kLessEqual}, {">", CompareOp::kGreater},
      {">=", CompareOp::kGreaterEqual}};
  for (const auto& [name, compare] : kComparisons) {
    if (op == name) {
      SqlType left_type = left->type();
      left = CoerceForComparison(std::move(left), right->type());
      right = CoerceForComparison(std::move(right), left_type);
      return NodePtr(std::make_unique<CompareNode>(compare, std::move(left), std::move(right)));
    }
  }
  static const std::pair<const char*, ArithmeticOp> kArithmetic[] = {{"+", ArithmeticOp::kAdd},
                                                                     {"-", ArithmeticOp::kSubtract},
                                                                     {"*", ArithmeticOp::kMultiply},
                                                                     {"/", ArithmeticOp::kDivide},
                                                                     {"%", ArithmeticOp::kModulo}};
  for (const auto& [name, arithmetic] : kArithmetic) {
    if (op == name) {
      if (expression.type.id() == TypeId::kNull) {
        return NodePtr(std::make_unique<ConstantNode>(SqlType::Null(), Value::Null()));
      }
      return NodePtr(std::make_unique<ArithmeticNode>(expression.type, arithmetic, std::move(left),
                                                      std::move(right)));
    }
  }
  return Status::NotSupported("Operator " + op + " is not supported in " + expression.sql);
}

Result<NodePtr> CompileNode(const BoundExpression& expression, Compilation& compilation) {
  int64_t* errors = compilation.errors;
  if (expression.kind == BoundKind::kLiteral) {
    ASSIGN_OR_RAISE(Value value, LiteralValue(expression));
    return NodePtr(std::make_unique<ConstantNode>(expression.type, std::move(value)));
  }
  if (expression.kind == BoundKind::kColumn) {
    if (expression.column_index < 0) {
      return Status::Internal("Column " + expression.sql + " has no input index");
    }
    return NodePtr(std::make_unique<ColumnNode>(expression.type,
                                                static_cast<size_t>(expression.column_index)));
  }
  if (expression.kind == BoundKind::kAggregate) {
    return Status::NotSupported("Aggregate " + expression.sql +
                                " is computed by the Aggregate operator, not the evaluator");
  }
  if (expression.kind == BoundKind::kLambdaVariable) {
    for (auto it = compilation.variables.rbegin(); it != compilation.variables.rend(); ++it) {
      if (it->first == expression.name) {
        return NodePtr(std::make_unique<VariableNode>(expression.type, it->second));
      }
    }
    return Status::Internal("Lambda parameter " + expression.name + " is not in scope");
  }
  if (expression.kind == BoundKind::kFunction && expression.function != nullptr &&
      expression.function->takes_lambdas) {
    return CompileHigherOrder(expression, compilation);
  }
  ASSIGN_OR_RAISE(std::vector<NodePtr> children, CompileChildren(expression, compilation));
  const SqlType& type = expression.type;
  switch (expression.kind) {
    case BoundKind::kUnary:
      if (expression.name == "NOT")
        return NodePtr(std::make_unique<NotNode>(std::move(children[0])));
      return NodePtr(std::make_unique<NegateNode>(type, std::move(children[0])));
    case BoundKind::kBinary: {
      ASSIGN_OR_RAISE(NodePtr node, CompileBinary(expression, std::move(children)));
      const std::string& op = expression.name;
      bool arithmetic = op == "+" || op == "-" || op == "*" || op == "/" || op == "%";
      if (!compilation.variables.empty() && arithmetic && type.is_numeric()) {
        return NodePtr(std::make_unique<NullIsErrorNode>(std::move(node)));
      }
      return node;
    }
    case BoundKind::kFunction: {
      if (expression.function == nullptr) {
        return Status::Internal("Function call " + expression.sql + " is not resolved");
      }
      std::vector<SqlType> argument_types;
      std::vector<const Value*> constants;
      for (const NodePtr& child : children) {
        argument_types.push_back(child->type());
        constants.push_back(child->constant());
      }
      ASSIGN_OR_RAISE(auto function,
                      functions::MakeScalarFunction(expression.function->name, argument_types,
                                                    constants, type));
      for (size_t i = 0; i < children.size(); ++i) {
        BoundKind argument = expression.children[i]->kind;
        if (argument == BoundKind::kFunction || argument == BoundKind::kDereference) {
          children[i] = NullOnError(std::move(children[i]), errors);
        }
      }
      return NodePtr(
          std::make_unique<FunctionNode>(type, std::move(function), std::move(children)));
    }
    case BoundKind::kCase:
      return NodePtr(std::make_unique<CaseNode>(type, std::move(children), expression.has_else));
    case BoundKind::kCast:
      return NullOnError(std::make_unique<CastNode>(type, std::move(children[0])), errors);
    case BoundKind::kLike: {
      std::optional<LikePattern> compiled;
      bool constant_escape = children.size() < 3 || children[2]->constant() != nullptr;
      const Value* pattern = children[1]->constant();
      if (pattern != nullptr && constant_escape) {
        const Value* escape = children.size() > 2 ? children[2]->constant() : nullptr;
        if (pattern->is_null() || (escape != nullptr && escape->is_null())) {
          return NodePtr(std::make_unique<ConstantNode>(SqlType::Boolean(), Value::Null()));
        }
        std::optional<std::string_view> escape_text;
        if (escape != nullptr) escape_text = escape->string();
        ASSIGN_OR_RAISE(LikePattern like, LikePattern::Compile(pattern->string(), escape_text));
        compiled = std::move(like);
      }
      NodePtr escape = children.size() > 2 ? std::move(children[2]) : nullptr;
      return NodePtr(std::make_unique<LikeNode>(expression.negated, std::move(children[0]),
                                                std::move(children[1]), std::move(escape),
                                                std::move(compiled)));
    }
    case BoundKind::kBetween: {
      SqlType value_type = children[0]->type();
      for (size_t i = 1; i < 3; ++i)
        children[i] = CoerceForComparison(std::move(children[i]), value_type);
      children[0] = CoerceForComparison(std::move(children[0]), children[1]->type());
      return NodePtr(std::make_unique<BetweenNode>(expression.negated, std::move(children[0]),
                                                   std::move(children[1]), std::move(children[2])));
    }
    case BoundKind::kInList: {
      NodePtr value = std::move(children[0]);
      std::vector<NodePtr> list;
      for (size_t i = 1; i < children.size(); ++i) {
        list.push_back(CoerceForComparison(std::move(children[i]), value->type()));
      }
      if (!list.empty()) value = CoerceForComparison(std::move(value), list[0]->type());
      return NodePtr(
          std::make_unique<InListNode>(expression.negated, std::move(value), std::move(list)));
    }
    case BoundKind::kIsNull:
      return NodePtr(std::make_unique<IsNullNode>(expression.negated, std::move(children[0])));
    case BoundKind::kIsDistinctFrom: {
      SqlType left_type = children[0]->type();
      NodePtr left = CoerceForComparison(std::move(children[0]), children[1]->type());
      NodePtr right = CoerceForComparison(std::move(children[1]), left_type);
      return NodePtr(
          std::make_unique<DistinctNode>(expression.negated, std::move(left), std::move(right)));
    }
    case BoundKind::kSubscript:
      return NodePtr(
          std::make_unique<SubscriptNode>(type, std::move(children[0]), std::move(children[1])));
    case BoundKind::kDereference: {
      const SqlType& container = expression.children[0]->type;
      for (size_t i = 0; i < container.fields().size(); ++i) {
        if (container.fields()[i].name == expression.name) {
          return NodePtr(std::make_unique<DereferenceNode>(type, std::move(children[0]), i));
        }
      }
      return Status::Internal("STRUCT field " + expression.name + " not found in " +
                              container.ToString());
    }
    case BoundKind::kArray:
    case BoundKind::kMap:
    case BoundKind::kStruct: {
      std::vector<SqlType> child_types;
      for (size_t i = 0; i < children.size(); ++i) {
        children[i] = NullOnError(std::move(children[i]), errors);
        if (expression.kind == BoundKind::kArray) {
          child_types.push_back(type.element());
        } else if (expression.kind == BoundKind::kMap) {
          child_types.push_back(i % 2 == 0 ? type.key() : type.value());
        } else {
          child_types.push_back(type.fields()[i].type);
        }
      }
      return NodePtr(
          std::make_unique<ConstructorNode>(type, std::move(children), std::move(child_types)));
    }
    default:
      break;
  }
  return Status::NotSupported("Expression " + expression.sql + " is not supported yet");
}

class TreeEvaluator final : public Evaluator {
 public:
  Status Evaluate(const types::Row& row, Value& out) const override {
    return root_->Eval(row, out);
  }
  int64_t nested_errors() const override { return nested_errors_; }

 private:
  friend class Evaluator;
  NodePtr root_;
  int64_t nested_errors_ = 0;  // written by the tree's NullOnErrorNodes
};

}  // namespace

Result<std::unique_ptr<Evaluator>> Evaluator::Compile(const BoundExpression& expression) {
  auto evaluator = std::make_unique<TreeEvaluator>();
  Compilation compilation;
  compilation.errors = &evaluator->nested_errors_;
  ASSIGN_OR_RAISE(evaluator->root_, CompileNode(expression, compilation));
  return std::unique_ptr<Evaluator>(std::move(evaluator));
}

}  // namespace sidestream::expr
