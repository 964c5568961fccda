#pragma once

#include "analyzer/logical_plan.h"
#include "common/status.h"

namespace sidestream::host {

/// The request settings that decide how a pull query on a table may read it (ksqlDB's
/// QueryPlannerOptions): `ksql.query.pull.table.scan.enabled` and
/// `ksql.query.pull.range.scan.enabled`, both true unless set to false.
struct PullQueryPlanOptions {
  bool table_scans_enabled = true;
  bool range_scans_enabled = true;
};

/// ksqlDB's checks of a pull query's WHERE on a table (QueryFilterNode and the choice of
/// PullPhysicalPlanBuilder between a key lookup, a range scan and a table scan), with its
/// messages. The WHERE (the Filter right above the plan's Scan) is rewritten as ksqlDB does:
/// BETWEEN into two bounds, IN into `=` per value, NOT pushed down, and then put in disjunctive
/// normal form; each disjunct must be a conjunction of comparisons and LIKEs. A disjunct that
/// pins every key column with `=` (or one STRING key with a range) is a lookup, and its key
/// values must be non-NULL values of the key's type (converted as ksqlDB's STRICT coercer);
/// anything else needs a table scan, refused when table scans are disabled. Returns OK for a
/// plan without a Scan (nothing to check). Evaluates constant key expressions; reads nothing
/// else. Thread: any.
Status CheckPullQueryWhere(const analyzer::LogicalOperator& plan,
                           const PullQueryPlanOptions& options);

}  // namespace sidestream::host
