#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/latency_histogram.h"

/// Metrics in Prometheus's text exposition format 0.0.4, without a client library.
namespace sidestream::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

/// Label names and values, in the order they are rendered.
using Labels = std::vector<std::pair<std::string, std::string>>;

/// The Content-Type of Render's output.
inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

/// Named families of samples, each sample keyed by its labels. A family is declared once
/// (Describe) with its type and help; samples of undeclared families are dropped, so a typo
/// cannot invent a metric. Histograms use LatencyHistogram's buckets.
/// Thread: every method from any thread (one mutex).
class Registry {
 public:
  /// Declares a family. Names follow Prometheus's conventions: units in the name, `_total`
  /// at the end of counters. Declaring it again keeps the first declaration.
  void Describe(const std::string& name, MetricType type, std::string help);

  /// Counter: adds `delta`.
  void Add(const std::string& name, const Labels& labels, double delta = 1);
  /// Counter or gauge: sets the value (a counter set from a total kept elsewhere).
  void Set(const std::string& name, const Labels& labels, double value);
  /// Histogram: counts one observation, in seconds.
  void Observe(const std::string& name, const Labels& labels, double seconds);
  /// Histogram: replaces the sample with `histogram` (a total kept elsewhere).
  void SetHistogram(const std::string& name, const Labels& labels,
                    const LatencyHistogram& histogram);

  /// Every family with at least one sample, in name order; samples in label order.
  std::string Render() const;

 private:
  struct Sample {
    double value = 0;
    LatencyHistogram histogram;
  };
  struct Family {
    MetricType type = MetricType::kCounter;
    std::string help;
    std::map<Labels, Sample> samples;
  };
  /// The sample, or null when the family is undeclared or of another type. Under mutex_.
  Sample* Find(const std::string& name, const Labels& labels, MetricType type);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;  // under mutex_
};

/// A label value as the text format writes it: backslash, double quote and newline escaped.
std::string EscapeLabelValue(const std::string& value);
/// A sample value: the shortest text that reads back the same; +Inf, -Inf and NaN by name.
std::string FormatValue(double value);

}  // namespace sidestream::metrics
