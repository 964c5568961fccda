#pragma once

#include <cstdint>
#include <vector>

#include "host/kafka_engine.h"
#include "server/metrics/registry.h"

/// The metrics `GET /metrics` serves (server/README.md lists them).
namespace sidestream::rest {

/// Declares the engine's families: per query (label query_id) and per process.
void DescribeEngineMetrics(metrics::Registry& registry);
/// Declares the REST API's families (requests by route and status, push queries open).
void DescribeRestMetrics(metrics::Registry& registry);

/// Fills `registry` (described by DescribeEngineMetrics) from one snapshot of the engine:
/// `queries` gives each query's state, `wall_ms` the wall clock the watermark lag is taken
/// against.
void CollectEngineMetrics(const host::EngineMetrics& engine,
                          const std::vector<host::QueryStatus>& queries, int64_t wall_ms,
                          metrics::Registry& registry);

}  // namespace sidestream::rest
