#include "bench/measurement.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>

namespace sidestream::bench {

double CpuSeconds() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void ResetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

double PeakRssMb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

Stopwatch::Stopwatch() { ResetPeakRss(); }

void Stopwatch::Start() {
  cpu_start_ = CpuSeconds();
  wall_start_ = std::chrono::steady_clock::now();
}

void Stopwatch::Stop() {
  wall_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
  cpu_ += CpuSeconds() - cpu_start_;
}

Measurement Stopwatch::Result(int64_t count) const {
  const double wall = std::max(wall_, 1e-6), cpu = std::max(cpu_, 1e-6);
  return {static_cast<double>(count) / wall, static_cast<double>(count) / cpu, PeakRssMb()};
}

nlohmann::json Stats(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return {{"median", values[values.size() / 2]},
          {"min", values.front()},
          {"max", values.back()},
          {"runs", values}};
}

nlohmann::json Summarize(const std::vector<Measurement>& runs) {
  auto stats = [&](double Measurement::*field) {
    std::vector<double> values;
    for (const auto& run : runs) values.push_back(run.*field);
    return Stats(values);
  };
  return {{"records_per_s", stats(&Measurement::rate)},
          {"records_per_s_per_core", stats(&Measurement::rate_per_core)},
          {"peak_rss_mb", stats(&Measurement::peak_rss_mb)}};
}

double Percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(fraction * static_cast<double>(values.size()));
  return values[std::min(rank, values.size() - 1)];
}

}  // namespace sidestream::bench
