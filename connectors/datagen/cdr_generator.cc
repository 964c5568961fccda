#include "connectors/datagen/cdr_generator.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace sidestream::datagen {

namespace {
constexpr const char* kThreats[] = {"kill you at the station", "hostage at the station",
                                    "explosive!!", "help me!!", "ransom at the station"};
constexpr const char* kNearMisses[] = {"gunther says hi", "killer deal on phones",
                                       "helpful tips inside", "bombastic sale today"};
constexpr const char* kTexts[] = {"see you later", "on my way",      "call me back", "ok",
                                  "running late",  "happy birthday!"};
}  // namespace

std::vector<formats::FormatColumn> CdrValueColumns() {
  using types::SqlType;
  return {{"CDR_ID", SqlType::String()},      {"RECORD_TYPE", SqlType::String()},
          {"CALLER", SqlType::String()},      {"CALLEE", SqlType::String()},
          {"IMSI", SqlType::String()},        {"IMEI", SqlType::String()},
          {"START_TS", SqlType::Bigint()},    {"DURATION_S", SqlType::Int()},
          {"SETUP_MS", SqlType::Int()},       {"CELL_ID", SqlType::String()},
          {"LAT", SqlType::Double()},         {"LON", SqlType::Double()},
          {"TERMINATION", SqlType::String()}, {"BYTES_UP", SqlType::Bigint()},
          {"BYTES_DOWN", SqlType::Bigint()},  {"SMS_TEXT", SqlType::String()},
          {"ROAMING", SqlType::Boolean()},    {"CHARGE", SqlType::Double()}};
}

CdrGenerator::CdrGenerator(CdrGeneratorOptions options) : options_(options), random_(options.seed) {
  if (options_.distinct_callers_first) {
    caller_order_.resize(static_cast<size_t>(options_.subscribers));
    std::iota(caller_order_.begin(), caller_order_.end(), 0);
    std::shuffle(caller_order_.begin(), caller_order_.end(), random_);
  }
}

std::string CdrGenerator::Msisdn(int subscriber) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "+4917%08d", subscriber);
  return buffer;
}

void CdrGenerator::FormatRecord(const std::string& record_type, const std::string& caller,
                                const std::string& callee, int64_t event_time, int duration,
                                int setup_ms, int cell, const std::string& termination,
                                const std::string& sms_text, GeneratedCdr& out, int bytes_down) {
  // Cells sit on a grid over Germany (47-55 N, 6-15 E).
  double lat = 47.0 + 8.0 * static_cast<double>(cell % 20) / 20.0;
  double lon = 6.0 + 9.0 * static_cast<double>(cell / 20 % 20) / 20.0;
  bool data = record_type == "DATA";
  char buffer[640];
  std::snprintf(
      buffer, sizeof buffer,
      "{\"cdr_id\":\"%llu-%08lld\",\"record_type\":\"%s\",\"caller\":\"%s\",\"callee\":%s,"
      "\"imsi\":\"26201%s\",\"imei\":\"35%013lld\",\"start_ts\":%lld,\"duration_s\":%d,"
      "\"setup_ms\":%d,\"cell_id\":\"C%04d\",\"lat\":%.5f,\"lon\":%.5f,\"termination\":\"%s\","
      "\"bytes_up\":%d,\"bytes_down\":%d,\"sms_text\":%s,\"roaming\":%s,\"charge\":%.4f}",
      static_cast<unsigned long long>(options_.seed), static_cast<long long>(sequence_++),
      record_type.c_str(), caller.c_str(), data ? "null" : ("\"" + callee + "\"").c_str(),
      caller.c_str() + 5,
      static_cast<long long>(std::hash<std::string>()(caller) % 10000000000000LL),
      static_cast<long long>(event_time), duration, setup_ms, cell, lat, lon, termination.c_str(),
      data ? 1000 + static_cast<int>(random_() % 100000) : 0,
      bytes_down >= 0 ? bytes_down
      : data          ? 5000 + static_cast<int>(random_() % 1000000)
                      : 0,
      sms_text.empty() ? "null" : ("\"" + sms_text + "\"").c_str(),
      random_() % 50 == 0 ? "true" : "false",
      0.05 + static_cast<double>(random_() % 30000) / 10000.0);
  out.topic = "cdr";
  out.key = caller;
  out.value = buffer;
  out.event_time = event_time;
}

void CdrGenerator::MakeCampaignSend(int64_t event_time, GeneratedCdr& out) {
  --campaign_sends_left_;
  const int recipient = static_cast<int>(random_() % static_cast<uint64_t>(options_.subscribers));
  const bool treatment = campaign_sends_left_ % 2 == 0;
  const std::string msisdn = Msisdn(recipient);
  // The conversion goes first: FormatRecord writes into `out`.
  if (static_cast<int>(random_() % 100) < (treatment ? 40 : 10)) {
    Pending conversion;
    const int64_t at = event_time + 5'000 + static_cast<int64_t>(random_() % 55'000);
    FormatRecord("DATA", msisdn, "", at, 600, 0, ServingCell(recipient), "NORMAL", "",
                 conversion.record, 100'000'000 + static_cast<int>(random_() % 50'000'000));
    conversion.record.pattern = "campaign_conversion";
    conversion.arrival = at;
    delayed_.push_back(std::move(conversion));
  }
  char buffer[160];
  std::snprintf(buffer, sizeof buffer,
                "{\"msisdn\":\"%s\",\"campaign_id\":\"C-DEMO-%d\",\"arm\":\"%s\",\"sent_ts\":%lld}",
                msisdn.c_str(), campaigns_, treatment ? "treatment" : "control",
                static_cast<long long>(event_time));
  out.topic = "campaign_sends";
  out.key = msisdn;
  out.value = buffer;
  out.event_time = event_time;
  out.pattern = "campaign_send";
}

namespace {
constexpr int kGridSide = 20;  // cells per grid row and column (FormatRecord's lat/lon)

// The cell at (row, column) of `cell`'s grid block, or `cell` when that is past `cells`.
int GridCell(int cell, int row, int column, int cells) {
  const int block = cell / (kGridSide * kGridSide);
  const int moved = block * kGridSide * kGridSide + column * kGridSide + row;
  return moved < cells ? moved : cell;
}
}  // namespace

int CdrGenerator::ServingCell(int subscriber) {
  const int home = static_cast<int>((static_cast<uint64_t>(subscriber) * 2654435761u) %
                                    static_cast<uint64_t>(options_.cells));
  if (random_() % 10 != 0) return home;
  // A neighbour on the grid, clamped at its edges (wrapping would jump across the country).
  const int row = home % kGridSide, column = home / kGridSide % kGridSide;
  const int step = random_() % 2 == 0 ? -1 : 1;
  const bool vertical = random_() % 2 == 0;
  return GridCell(home, std::clamp(row + (vertical ? step : 0), 0, kGridSide - 1),
                  std::clamp(column + (vertical ? 0 : step), 0, kGridSide - 1), options_.cells);
}

void CdrGenerator::MakeRecord(int64_t event_time, GeneratedCdr& out) {
  out.pattern.clear();
  std::uniform_int_distribution<int> subscriber(0, options_.subscribers - 1);
  std::uniform_int_distribution<int> cell(0, options_.cells - 1);
  if (options_.plant_patterns) {
    if (options_.campaign_every_ms > 0) {
      if (next_campaign_ms_ == 0) next_campaign_ms_ = options_.start_ms + 10'000;
      if (event_time >= next_campaign_ms_) {
        ++campaigns_;
        campaign_sends_left_ = kCampaignRecipients;
        next_campaign_ms_ += options_.campaign_every_ms;
      }
      if (campaign_sends_left_ > 0) return MakeCampaignSend(event_time, out);
    }
    if (traveller_ >= 0) {
      // Ten grid rows and columns away (over 540 km), a moment after the caller's last record.
      const int home = ServingCell(traveller_);
      const int row = home % kGridSide, column = home / kGridSide % kGridSide;
      out.pattern = "impossible_travel";
      FormatRecord("VOICE", Msisdn(traveller_), Msisdn(subscriber(random_)), event_time, 60, 700,
                   GridCell(home, (row + kGridSide / 2) % kGridSide,
                            (column + kGridSide / 2) % kGridSide, options_.cells),
                   "NORMAL", "", out);
      traveller_ = -1;
      return;
    }
    if (random_() % 20000 == 0) {
      traveller_ = subscriber(random_);
      out.pattern = "impossible_travel";
      FormatRecord("VOICE", Msisdn(traveller_), Msisdn(subscriber(random_)), event_time, 60, 700,
                   ServingCell(traveller_), "NORMAL", "", out);
      return;
    }
    // Start a pattern now and then: every ~20,000 records, in turn.
    if (burst_remaining_ == 0 && random_() % 20000 == 0) {
      burst_remaining_ = 60;
      burst_caller_ = subscriber(random_);
    }
    if (outage_until_ < event_time && random_() % 40000 == 0) {
      outage_until_ = event_time + 10 * 60 * 1000;
      outage_cell_ = cell(random_);
    }
    if (burst_remaining_ > 0 && random_() % 4 == 0) {
      --burst_remaining_;
      out.pattern = "call_burst";
      FormatRecord(
          "VOICE", Msisdn(burst_caller_),
          Msisdn(options_.subscribers + burst_remaining_ + static_cast<int>(random_() % 100000)),
          event_time, 5 + static_cast<int>(random_() % 10), 900, ServingCell(burst_caller_),
          "NORMAL", "", out);
      return;
    }
    if (random_() % 3000 == 0) {
      bool threat = random_() % 2 == 0;
      out.pattern = threat ? "threat_sms" : "near_miss_sms";
      const char* text = threat ? kThreats[random_() % std::size(kThreats)]
                                : kNearMisses[random_() % std::size(kNearMisses)];
      const int sender = subscriber(random_);
      FormatRecord("SMS", Msisdn(sender), Msisdn(subscriber(random_)), event_time, 0, 400,
                   ServingCell(sender), "NORMAL", text, out);
      return;
    }
  }
  const int caller_index = caller_order_.empty()
                               ? subscriber(random_)
                               : caller_order_[next_caller_++ % caller_order_.size()];
  const int serving_cell = ServingCell(caller_index);
  bool in_outage = outage_until_ >= event_time && serving_cell == outage_cell_;
  if (in_outage) out.pattern = "cell_outage";
  int kind = static_cast<int>(random_() % 100);
  std::string caller = Msisdn(caller_index);
  std::string callee = Msisdn(subscriber(random_));
  if (kind < 60) {
    int roll = static_cast<int>(random_() % 100);
    int drop_percent = in_outage ? 40 : 2;
    std::string termination = roll < drop_percent       ? "DROPPED"
                              : roll < drop_percent + 3 ? "FAILED"
                              : roll < drop_percent + 8 ? "BUSY"
                                                        : "NORMAL";
    int setup = (in_outage ? 2500 : 600) + static_cast<int>(random_() % 800);
    FormatRecord("VOICE", caller, callee, event_time, 5 + static_cast<int>(random_() % 600), setup,
                 serving_cell, termination, "", out);
  } else if (kind < 85) {
    FormatRecord("SMS", caller, callee, event_time, 0, 300 + static_cast<int>(random_() % 300),
                 serving_cell, "NORMAL", kTexts[random_() % std::size(kTexts)], out);
  } else {
    FormatRecord("DATA", caller, "", event_time, 30 + static_cast<int>(random_() % 3000), 0,
                 serving_cell, "NORMAL", "", out);
  }
}

void CdrGenerator::Next(GeneratedCdr& out) {
  int64_t now = options_.start_ms + static_cast<int64_t>(static_cast<double>(generated_) * 1000.0 /
                                                         options_.records_per_second);
  ++generated_;
  // A held-back record whose arrival time has come goes first.
  auto due =
      std::min_element(delayed_.begin(), delayed_.end(),
                       [](const Pending& a, const Pending& b) { return a.arrival < b.arrival; });
  if (due != delayed_.end() && due->arrival <= now) {
    out = std::move(due->record);
    delayed_.erase(due);
    return;
  }
  MakeRecord(now, out);
  double roll = std::uniform_real_distribution<double>(0, 1)(random_);
  if (roll < options_.very_late_fraction || roll < options_.late_fraction) {
    int64_t delay = roll < options_.very_late_fraction
                        ? 180'000 + static_cast<int64_t>(random_() % 420'000)
                        : 1'000 + static_cast<int64_t>(random_() % 29'000);
    delayed_.push_back({now + delay, out});
    MakeRecord(now, out);  // something else arrives now
  }
}

}  // namespace sidestream::datagen
