#pragma once

#include <array>
#include <cstdint>

namespace sidestream {

/// Durations counted in fixed buckets, for latency metrics (a Prometheus histogram's data).
/// A value type: each thread fills its own and publishes copies, which add up. Not
/// thread-safe.
class LatencyHistogram {
 public:
  /// Upper bounds of the buckets in seconds; a last, unbounded bucket takes the rest.
  static constexpr std::array<double, 16> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                     0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                     1,      2.5,     5,      10};

  void Observe(double seconds) {
    size_t bucket = 0;
    while (bucket < kBounds.size() && seconds > kBounds[bucket]) ++bucket;
    ++counts_[bucket];
    sum_ += seconds;
  }
  LatencyHistogram& operator+=(const LatencyHistogram& other) {
    for (size_t bucket = 0; bucket < counts_.size(); ++bucket)
      counts_[bucket] += other.counts_[bucket];
    sum_ += other.sum_;
    return *this;
  }

  /// Per bucket (not cumulative): kBounds' buckets, then the unbounded one.
  const std::array<uint64_t, kBounds.size() + 1>& counts() const { return counts_; }
  uint64_t count() const {
    uint64_t total = 0;
    for (uint64_t count : counts_) total += count;
    return total;
  }
  double sum() const { return sum_; }

 private:
  std::array<uint64_t, kBounds.size() + 1> counts_{};
  double sum_ = 0;
};

}  // namespace sidestream
