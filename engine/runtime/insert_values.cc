#include "runtime/insert_values.h"

#include <algorithm>

#include "expr/cast.h"
#include "expr/evaluator.h"
#include "runtime/stream_task.h"

namespace sidestream::runtime {

using catalog::ColumnRole;

Result<InsertedMessage> EncodeInsertValues(const analyzer::AnalyzedStatement& analyzed,
                                           const catalog::SourceDescription& target,
                                           int64_t now_ms) {
  InsertedMessage message;
  message.topic = target.topic;
  message.timestamp_ms = now_ms;
  // Key columns first, then value columns: the formats' column order.
  std::vector<const catalog::Column*> keys, values;
  for (const catalog::Column& column : target.columns) {
    if (column.role == ColumnRole::kKey) keys.push_back(&column);
    if (column.role == ColumnRole::kValue) values.push_back(&column);
  }
  types::Row row(keys.size() + values.size());
  std::vector<bool> given(row.size(), false);
  const types::Row no_input;
  for (const auto& [name, expression] : analyzed.insert_values) {
    ASSIGN_OR_RAISE(auto evaluator, expr::Evaluator::Compile(*expression));
    types::Value value;
    Status evaluated = evaluator->Evaluate(no_input, value);
    if (!evaluated.ok()) {
      return Status::InvalidArgument("Failed to insert values into '" + target.name + "': column " +
                                     name + ": " + evaluated.message());
    }
    if (name == "ROWTIME") {
      if (!value.is_null()) message.timestamp_ms = value.integer();
      continue;
    }
    size_t index = 0;
    const catalog::Column* column = nullptr;
    for (size_t i = 0; i < keys.size() + values.size() && column == nullptr; ++i) {
      const catalog::Column* candidate = i < keys.size() ? keys[i] : values[i - keys.size()];
      if (candidate->name == name) {
        column = candidate;
        index = i;
      }
    }
    if (column == nullptr) continue;  // a header column: not written
    if (value.is_null() || expression->type == column->type) {
      row[index] = std::move(value);
    } else {
      Status cast = expr::CastValue(value, column->type, row[index], &expression->type);
      if (!cast.ok() || row[index].is_null()) {
        return Status::InvalidArgument("Failed to insert values into '" + target.name +
                                       "': column " + name + ": cannot convert " + expression->sql +
                                       " to " + column->type.ToString());
      }
    }
    given[index] = true;
  }
  if (target.type == catalog::SourceType::kTable) {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (given[i] && !row[i].is_null()) continue;
      return Status::InvalidArgument("Failed to insert values into '" + target.name +
                                     "'. Value for primary key column(s) " + keys[i]->name +
                                     " is required for tables");
    }
  }
  // A row with no key value has a null key, not an encoded NULL.
  const bool keyed = std::any_of(row.begin(), row.begin() + static_cast<ptrdiff_t>(keys.size()),
                                 [](const types::Value& value) { return !value.is_null(); });
  if (keyed) {
    ASSIGN_OR_RAISE(auto key_encoder,
                    formats::MakeEncoder(FormatOptionsOf(target, true),
                                         FormatColumns(target, ColumnRole::kKey)));
    std::string key;
    RETURN_NOT_OK(key_encoder->Encode(row, 0, key));
    message.key = std::move(key);
  }
  ASSIGN_OR_RAISE(auto value_encoder,
                  formats::MakeEncoder(FormatOptionsOf(target, false),
                                       FormatColumns(target, ColumnRole::kValue)));
  RETURN_NOT_OK(value_encoder->Encode(row, keys.size(), message.value));
  return message;
}

}  // namespace sidestream::runtime
