#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "analyzer/analyzer.h"
#include "catalog/catalog.h"
#include "common/status.h"

namespace sidestream::runtime {

/// The message an INSERT ... VALUES writes: to the target's topic, in its formats.
struct InsertedMessage {
  std::string topic;
  std::optional<std::string> key;  // none when the row has no key value
  std::string value;
  int64_t timestamp_ms = 0;
};

/// Evaluates the values of `analyzed` (an INSERT ... VALUES on `target`) and encodes them
/// with the target's key and value formats. Columns left out are NULL; ROWTIME sets the
/// timestamp, else `now_ms`. InvalidArgument, naming the column, when a value does not fit
/// its column, and when a table's row has no primary key (as ksqlDB requires).
Result<InsertedMessage> EncodeInsertValues(const analyzer::AnalyzedStatement& analyzed,
                                           const catalog::SourceDescription& target,
                                           int64_t now_ms);

}  // namespace sidestream::runtime
