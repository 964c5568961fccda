#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "analyzer/analyzer.h"
#include "analyzer/logical_plan.h"
#include "catalog/catalog.h"
#include "common/status.h"
#include "connectors/formats/row_format.h"
#include "runtime/record.h"

namespace sidestream::offline {

/// Where a pipeline's records go. Values are null for tombstones.
struct PipelineCallbacks {
  /// A result record: encoded key (null when every key column is NULL or there are
  /// none) and value, event time, window of a windowed key.
  std::function<Status(const std::string* key, const std::string* value, int64_t timestamp,
                       const std::optional<runtime::WindowBounds>& window)>
      on_result;
  /// A record for a side topic: a late record (to the query's LATE_TOPIC) or one that
  /// failed to decode (to the dead-letter topic). The value is JSON naming the reason.
  std::function<Status(const std::string& topic, const std::string* key, const std::string& value,
                       int64_t timestamp)>
      on_side_output;
};

/// Counters of what did not flow through normally.
struct PipelineCounters {
  int64_t records = 0;
  int64_t late_records = 0;   // applied to no window
  int64_t decode_errors = 0;  // did not fit the source schema
  int64_t evaluation_errors = 0;

  PipelineCounters& operator+=(const PipelineCounters& other) {
    records += other.records;
    late_records += other.late_records;
    decode_errors += other.decode_errors;
    evaluation_errors += other.evaluation_errors;
    return *this;
  }
};

/// The columns of a source with `role` (key or value), as a format sees them.
std::vector<formats::FormatColumn> FormatColumns(const catalog::SourceDescription& source,
                                                 catalog::ColumnRole role);

/// One persistent query for one input partition: decodes message bytes with the source's
/// formats, runs the query's operators, and encodes results with the sink's formats.
/// The same pipeline runs offline (in-memory topics) and on Kafka (one per task).
/// Thread: one task thread. Ownership: owns its decoders, operators and encoders.
class QueryPipeline {
 public:
  /// `query_properties` are the WITH properties of the query (LATE_TOPIC, ...).
  static Result<std::unique_ptr<QueryPipeline>> Create(
      const std::string& query_id, const analyzer::LogicalOperator& plan,
      const std::map<std::string, std::string>& query_properties, PipelineCallbacks callbacks);
  ~QueryPipeline();

  /// Processes one message of the source topic. Null `key`/`value` mean absent (a null
  /// value is a tombstone for tables and is skipped for streams). A message that does not
  /// decode goes to the dead-letter topic and is counted; it is not an error.
  Status Process(const std::string* key, const std::string* value, int64_t timestamp,
                 const std::optional<runtime::WindowBounds>& window, int32_t partition,
                 int64_t offset);
  /// Moves stream time (an idle partition's wall-clock close).
  Status AdvanceStreamTime(int64_t stream_time);

  const std::string& query_id() const;
  const catalog::SourceDescription& source() const;
  const catalog::SourceDescription& sink() const;
  PipelineCounters counters() const;

 private:
  struct State;
  explicit QueryPipeline(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

/// A persistent query that a statement created.
struct NewQuery {
  std::string id;
  analyzer::LogicalOperatorPtr plan;              // ends in a Sink
  std::map<std::string, std::string> properties;  // the statement's WITH properties
};

/// Applies an analyzed statement to the catalog (analyzer::ApplyToCatalog), sets
/// `message`, and returns the query it created, if any (CREATE ... AS SELECT, INSERT INTO).
/// Takes the plan out of `analyzed`.
Result<std::optional<NewQuery>> ApplyStatement(const sql::Statement& statement,
                                               analyzer::AnalyzedStatement& analyzed,
                                               catalog::Catalog& catalog, std::string& message);

/// The dead-letter topic used when a source sets no DEAD_LETTER_TOPIC.
inline constexpr const char* kDefaultDeadLetterTopic = "sidestream_dead_letters";

}  // namespace sidestream::offline
