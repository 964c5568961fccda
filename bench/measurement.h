#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

/// Measuring benchmark runs the same way in every benchmark: wall and CPU time from
/// getrusage, peak RSS from /proc, and median [min-max] over runs.
/// Thread: any; CPU time and RSS are the whole process's.
namespace sidestream::bench {

/// Process CPU time (user + system, every thread) in seconds.
double CpuSeconds();
/// Resets the process's peak RSS (Linux: writing 5 to clear_refs resets VmHWM).
void ResetPeakRss();
/// Peak resident set since the last reset, in MB.
double PeakRssMb();

/// One timed pass.
struct Measurement {
  double rate = 0;           // records per wall second
  double rate_per_core = 0;  // records per CPU second
  double peak_rss_mb = 0;
};

/// Times `body` (which handles `count` records): wall, CPU and peak RSS.
template <typename Body>
Measurement Measure(int64_t count, Body&& body);

/// Times a pass in pieces (between the pieces, work the pass must not count, such as
/// generating the next chunk of input): wall and CPU time summed over Start/Stop, peak RSS
/// since construction (so the untimed work counts there, and should be small).
class Stopwatch {
 public:
  Stopwatch();
  void Start();
  void Stop();
  /// The pass's measurement, for `count` records.
  Measurement Result(int64_t count) const;

 private:
  double wall_ = 0, cpu_ = 0;
  double cpu_start_ = 0;
  std::chrono::steady_clock::time_point wall_start_;
};

/// {"median", "min", "max", "runs"} of `values` (not empty).
nlohmann::json Stats(std::vector<double> values);
/// Stats of each quantity: records_per_s, records_per_s_per_core, peak_rss_mb.
nlohmann::json Summarize(const std::vector<Measurement>& runs);
/// The `fraction` quantile (0..1, nearest rank) of `values` (not empty).
double Percentile(std::vector<double> values, double fraction);

// Implementation.

template <typename Body>
Measurement Measure(int64_t count, Body&& body) {
  ResetPeakRss();
  const double cpu_start = CpuSeconds();
  const auto wall_start = std::chrono::steady_clock::now();
  body();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const double cpu = std::max(CpuSeconds() - cpu_start, 1e-6);
  return {static_cast<double>(count) / wall, static_cast<double>(count) / cpu, PeakRssMb()};
}

}  // namespace sidestream::bench
