#include "server/demo_view.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <vector>

namespace sidestream::server {

using nlohmann::json;

namespace {

std::string ClockTime(int64_t epoch_ms) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[16];
  std::strftime(text, sizeof text, "%H:%M:%S", &utc);
  return text;
}

// "C0018@1796524380000/1796524440000" -> {"C0018", 1796524380000}; a key without a window
// gives a start of 0.
std::pair<std::string, int64_t> SplitWindowedKey(std::string_view key) {
  const size_t at = key.rfind('@');
  if (at == std::string_view::npos) return {std::string(key), 0};
  return {std::string(key.substr(0, at)), std::atoll(std::string(key.substr(at + 1)).c_str())};
}

// The field `key` of a result row as T, or `fallback` when it is absent, NULL or of another
// type: a NULL aggregate (AVG over no values) must not stop the demo, and nlohmann's value()
// throws on a type mismatch.
template <typename T>
T Field(const json& row, const char* key, T fallback) {
  auto found = row.find(key);
  if (found == row.end()) return fallback;
  if constexpr (std::is_same_v<T, std::string>) {
    return found->is_string() ? found->get<std::string>() : fallback;
  } else if constexpr (std::is_same_v<T, bool>) {
    return found->is_boolean() ? found->get<bool>() : fallback;
  } else {
    return found->is_number() ? found->get<T>() : fallback;
  }
}

std::string Number(double value, const char* format) {
  char text[32];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

}  // namespace

DemoView::CellMinute& DemoView::Minute(const std::string& cell, int64_t window_start) {
  CellMinute& minute = cells_[cell];
  if (window_start > minute.window_start) minute = CellMinute{.window_start = window_start};
  return minute;
}

void DemoView::Push(std::deque<Alert>& alerts, Alert alert) {
  // A trip or a burst found again from another of its records is the same alert.
  for (const Alert& shown : alerts) {
    if (shown.kind == alert.kind && shown.who == alert.who && shown.same == alert.same) return;
  }
  alerts.push_front(std::move(alert));
  if (alerts.size() <= kRowsPerSection) return;
  // The oldest alert of the kind shown most goes: a burst of one kind (SIM-box bursts come
  // several at once) never hides the latest alert of another.
  std::map<std::string_view, size_t> per_kind;
  for (const Alert& shown : alerts) ++per_kind[shown.kind];
  const std::string_view most =
      std::max_element(per_kind.begin(), per_kind.end(), [](const auto& a, const auto& b) {
        return a.second < b.second;
      })->first;
  for (auto oldest = alerts.end(); oldest != alerts.begin();) {
    --oldest;
    if (oldest->kind == most) {
      alerts.erase(oldest);
      return;
    }
  }
}

void DemoView::Add(std::string_view topic, std::string_view key, std::string_view value,
                   int64_t timestamp) {
  ++counts_[std::string(topic)];
  const json row = json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!row.is_object()) return;
  const auto [name, window_start] = SplitWindowedKey(key);
  if (topic == "CELL_HEALTH") {
    CellMinute& minute = Minute(name, window_start);
    if (minute.window_start != window_start) return;  // an older minute
    minute.calls = Field(row, "CALLS", int64_t{0});
    minute.drop_rate = Field(row, "DROP_RATE", 0.0);
    minute.avg_setup_ms = Field(row, "AVG_SETUP_MS", 0.0);
  } else if (topic == "CELL_ANOMALIES" || topic == "CELL_DROP_RISK") {
    CellMinute& minute = Minute(name, window_start);
    if (minute.window_start != window_start) return;
    if (topic == "CELL_ANOMALIES") minute.anomaly = Field(row, "ANOMALY", false);
    if (topic == "CELL_DROP_RISK") minute.risk = Field(row, "RISK", -1.0);
  } else if (topic == "IMPOSSIBLE_TRAVEL") {
    // Each pair of records is a result; a trip is one finding, whichever records showed it.
    const std::string route =
        Field(row, "FROM_CELL", std::string()) + " -> " + Field(row, "TO_CELL", std::string());
    Push(fraud_, {ClockTime(timestamp), "impossible travel", name,
                  route + ", " + Number(Field(row, "DISTANCE_KM", 0.0), "%.0f km in ") +
                      Number(Field(row, "MINUTES", 0.0), "%.1f min"),
                  route});
  } else if (topic == "CALL_BURSTS") {
    // Hopping windows find one burst in several windows: one finding per caller.
    Push(fraud_,
         {ClockTime(window_start ? window_start : timestamp), "SIM-box call burst", name,
          std::to_string(Field(row, "CALLS", int64_t{0})) + " short calls to " +
              std::to_string(Field(row, "DISTINCT_CALLEES", int64_t{0})) + " numbers in 5 min",
          ""});
  } else if (topic == "NIGHT_INTERNATIONAL") {
    Push(fraud_,
         {ClockTime(window_start ? window_start : timestamp), "night international calls", name,
          std::to_string(Field(row, "CALLS_ABROAD", int64_t{0})) + " calls abroad to " +
              std::to_string(Field(row, "DISTINCT_CALLEES", int64_t{0})) + " numbers",
          ""});
  } else if (topic == "THREAT_SMS") {
    Push(threats_, {ClockTime(Field(row, "START_TS", int64_t{0})),
                    Field(row, "PHRASE", std::string()), Field(row, "CALLER", name),
                    Field(row, "SMS_TEXT", std::string()), Field(row, "CDR_ID", std::string())});
  } else if (topic == "CAMPAIGN_EFFECT") {
    // Grouped by two columns: the key is a JSON object holding both.
    const json group = json::parse(key, nullptr, /*allow_exceptions=*/false);
    if (!group.is_object()) return;
    campaign_rates_[Field(group, "CAMPAIGN_ID", std::string())]
                   [Field(group, "ARM", std::string())] = Field(row, "RATE", 0.0);
  }
}

std::string DemoView::Render(const std::string& status) const {
  std::string screen = status + "\n\nWorst cells by drop rate (latest minute, UTC)\n";
  std::vector<std::pair<std::string, CellMinute>> worst(cells_.begin(), cells_.end());
  std::erase_if(worst, [](const auto& cell) { return cell.second.calls < 3; });
  std::sort(worst.begin(), worst.end(),
            [](const auto& a, const auto& b) { return a.second.drop_rate > b.second.drop_rate; });
  if (worst.empty()) screen += "  (none yet: a cell's minute shows once it closes)\n";
  for (size_t i = 0; i < worst.size() && i < kRowsPerSection; ++i) {
    const auto& [cell, minute] = worst[i];
    screen += "  " + cell + "  " + ClockTime(minute.window_start) + "  calls " +
              Number(static_cast<double>(minute.calls), "%4.0f") + "  drops " +
              Number(100 * minute.drop_rate, "%5.1f%%") + "  setup " +
              Number(minute.avg_setup_ms, "%5.0f ms") +
              (minute.risk >= 0 ? "  risk " + Number(minute.risk, "%.2f") : "") +
              (minute.anomaly ? "  ANOMALY" : "") + "\n";
  }
  auto section = [&](const char* title, const std::deque<Alert>& alerts) {
    screen += std::string("\n") + title + "\n";
    if (alerts.empty()) screen += "  (none yet)\n";
    for (const Alert& alert : alerts) {
      screen +=
          "  " + alert.time + "  " + alert.kind + "  " + alert.who + "  " + alert.detail + "\n";
    }
  };
  section("Fraud alerts (latest first)", fraud_);
  section("Threat SMS (latest first)", threats_);
  screen += "\nCampaign uplift (treatment rate minus control rate)\n";
  if (campaign_rates_.empty()) screen += "  (no conversions yet)\n";
  for (const auto& [campaign, arms] : campaign_rates_) {
    auto rate = [&](const char* arm) {
      auto found = arms.find(arm);
      return found == arms.end() ? 0.0 : found->second;
    };
    screen += "  " + campaign + "  " +
              Number(100 * (rate("treatment") - rate("control")), "%+.1f points") + "\n";
  }
  screen += "\nResults so far:";
  for (const auto& [topic, count] : counts_) screen += " " + topic + " " + std::to_string(count);
  return screen + "\n";
}

}  // namespace sidestream::server
