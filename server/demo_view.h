#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>

namespace sidestream::server {

/// The screen of `sidestream demo`: what the example jobs found, grouped as a network
/// engineer or a fraud analyst would read it. The worst cells by drop rate in their latest
/// minute (with the anomaly flag and drop risk of that minute), the latest fraud alerts
/// (impossible travel, call bursts, night-time international calls; the latest of each kind
/// stays while the section has room for one of each), the latest threat SMS,
/// and the campaign uplift per campaign. Times are UTC clock times, never epoch ms.
class DemoView {
 public:
  /// One result record of a job's output topic (JSON value; windowed keys "key@start/end"),
  /// written at `timestamp` (epoch ms).
  void Add(std::string_view topic, std::string_view key, std::string_view value, int64_t timestamp);
  /// The screen, under a status line.
  std::string Render(const std::string& status) const;

  static constexpr size_t kRowsPerSection = 6;

 private:
  struct CellMinute {
    int64_t window_start = 0;
    int64_t calls = 0;
    double drop_rate = 0;
    double avg_setup_ms = 0;
    bool anomaly = false;
    double risk = -1;  // -1: no score yet
  };
  struct Alert {
    std::string time, kind, who, detail;
    std::string same;  // alerts of one kind and caller with the same `same` are one finding
  };
  CellMinute& Minute(const std::string& cell, int64_t window_start);
  void Push(std::deque<Alert>& alerts, Alert alert);

  std::map<std::string, CellMinute> cells_;  // by cell: its latest minute
  std::deque<Alert> fraud_, threats_;
  std::map<std::string, int64_t> counts_;                                // results per topic
  std::map<std::string, std::map<std::string, double>> campaign_rates_;  // campaign -> arm -> rate
};

}  // namespace sidestream::server
