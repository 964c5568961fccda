#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "connectors/formats/row_format.h"

/// Synthetic call detail records with the fields of shared/cdr/SCHEMA.md, for the demo
/// and benchmarks: a seeded, endless stream in arrival order, with late records and
/// planted patterns (call bursts, threat SMS, a cell outage, impossible travel, and with
/// `campaign_every_ms` campaign sends whose treatment arm converts more) so that queries have
/// something to find. Each subscriber calls from a home cell or one next to
/// it (cells sit on a grid over Germany, about 45 km apart), so only the planted travel
/// covers 500 km in minutes.
namespace sidestream::datagen {

struct CdrGeneratorOptions {
  uint64_t seed = 1;
  int64_t start_ms = 1'768'435'200'000;  // event time of the first record
  double records_per_second = 1000;      // event-time rate
  int subscribers = 5000;
  int cells = 400;
  double late_fraction = 0.01;        // arrive up to 30 s after their event time
  double very_late_fraction = 0.001;  // arrive 3 to 10 minutes late
  bool plant_patterns = true;
  // Callers walk a shuffled list of every subscriber instead of being drawn at random, so
  // the first `subscribers` records all have different callers (W3's 1M distinct callers).
  bool distinct_callers_first = false;
  // With plant_patterns: every this many ms of event time (the first 10 s in), a campaign is
  // sent to kCampaignRecipients subscribers on topic campaign_sends, half in each arm
  // (queries/sources/campaign_sends.sql). Within a minute, 40% of the treatment arm and 10%
  // of the control arm convert with a DATA session of at least 100 MB. 0: no campaigns.
  int64_t campaign_every_ms = 0;
};

constexpr int kCampaignRecipients = 100;

/// One generated record: its topic, the Kafka key (the caller), the JSON value and its event
/// time.
struct GeneratedCdr {
  std::string topic = "cdr";  // or "campaign_sends"
  std::string key;
  std::string value;
  int64_t event_time = 0;
  std::string pattern;  // "" or the planted pattern it belongs to: "call_burst", ...
};

/// The value columns of a generated CDR as a format sees them (queries/sources/cdr.sql,
/// in its order; the key is the caller).
std::vector<formats::FormatColumn> CdrValueColumns();

/// Thread: one caller at a time. Deterministic for a seed.
class CdrGenerator {
 public:
  explicit CdrGenerator(CdrGeneratorOptions options);

  /// Writes the next record in arrival order into `out` (reusing its buffers).
  void Next(GeneratedCdr& out);
  int64_t generated() const { return generated_; }

  /// The MSISDN of subscriber `subscriber` (0-based): the callers' Kafka key.
  static std::string Msisdn(int subscriber);

 private:
  struct Pending {
    int64_t arrival = 0;
    GeneratedCdr record;
  };
  void MakeRecord(int64_t event_time, GeneratedCdr& out);
  // The cell `subscriber` calls from: its home cell, or now and then a neighbour of it.
  int ServingCell(int subscriber);
  void FormatRecord(const std::string& record_type, const std::string& caller,
                    const std::string& callee, int64_t event_time, int duration, int setup_ms,
                    int cell, const std::string& termination, const std::string& sms_text,
                    GeneratedCdr& out, int bytes_down = -1);  // -1: a random size
  // The next campaign send, planting its recipient's conversion (or none) in delayed_.
  void MakeCampaignSend(int64_t event_time, GeneratedCdr& out);

  CdrGeneratorOptions options_;
  std::mt19937_64 random_;
  int64_t generated_ = 0;
  int64_t sequence_ = 0;
  // Records held back to arrive late, ordered by arrival time.
  std::vector<Pending> delayed_;
  // Planted patterns in progress.
  int burst_remaining_ = 0;
  int burst_caller_ = 0;
  int64_t outage_until_ = 0;
  int outage_cell_ = 0;
  int traveller_ = -1;  // impossible travel: the next record puts this caller far away
  int64_t next_campaign_ms_ = 0;
  int campaigns_ = 0;
  int campaign_sends_left_ = 0;
  // distinct_callers_first: the shuffled subscribers and the next one to call.
  std::vector<int> caller_order_;
  size_t next_caller_ = 0;
};

}  // namespace sidestream::datagen
