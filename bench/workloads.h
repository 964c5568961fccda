#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

/// The benchmark workloads: each a query over generated input, with what it is compared
/// with. workloads_bench runs them in process; kafka_e2e_bench runs W2 through Kafka.
namespace sidestream::bench {

enum class Input { kCdr, kNexmark };

struct Workload {
  std::string name{};
  std::string description{};
  Input input = Input::kCdr;
  /// The query: one CREATE ... AS SELECT, inline or in a file under the source tree.
  std::string sql{};
  std::string query_file{};
  /// The value fields the query reads, for the decode ceiling ("bid.price": nested).
  std::vector<std::string> fields{};
  int64_t default_messages = 1'000'000;
  int subscribers = 5000;  // CDR input: distinct callers
  /// CDR input: every subscriber calls once before any calls again (see CdrGeneratorOptions).
  bool distinct_callers_first = false;
  /// Statements between the input's DDL and the query: a table the query joins.
  std::string extra_sql{};
  /// A row per subscriber (plan, segment) is loaded into table `subscribers` before timing.
  bool subscriber_table = false;
  std::string peer_name{};  // whose published per-core figure peer_per_core is
  std::string peers{};      // the published per-core numbers that apply (PLATFORM.md)
  double peer_per_core = 0;
  std::string target{};  // the target, "" when none
  double target_per_core = 0;
  double target_ratio = 0;
};

std::vector<Workload> Workloads();

/// The workload called `name`; NotFound otherwise.
Result<Workload> FindWorkload(const std::string& name);

/// The topic the workload's generated input goes to.
std::string InputTopic(const Workload& workload);

/// The source DDL of the workload's input (and its extra statements), then its query.
Result<std::string> SourceSql(const Workload& workload);
Result<std::string> QuerySql(const Workload& workload);

}  // namespace sidestream::bench
