#include "server/metrics/registry.h"

#include <charconv>
#include <cmath>

namespace sidestream::metrics {

namespace {

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// HELP text escapes backslash and newline only (the format's rule).
std::string EscapeHelp(const std::string& help) {
  std::string escaped;
  for (char c : help) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// `{a="x",b="y"}`, with `extra` (the `le` of a bucket) last; empty without labels.
std::string LabelText(const Labels& labels, const std::pair<std::string, std::string>* extra) {
  if (labels.empty() && extra == nullptr) return "";
  std::string text = "{";
  auto append = [&text](const std::string& name, const std::string& value) {
    if (text.size() > 1) text += ',';
    text += name + "=\"" + EscapeLabelValue(value) + "\"";
  };
  for (const auto& [name, value] : labels) append(name, value);
  if (extra != nullptr) append(extra->first, extra->second);
  return text + "}";
}

}  // namespace

std::string EscapeLabelValue(const std::string& value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // The shortest text that reads back as the same double.
  char buffer[32];
  // Fixed notation in the usual range, as other clients write bucket bounds ("0.0001").
  const double magnitude = std::fabs(value);
  const bool fixed = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e15);
  auto [end, error] =
      fixed ? std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed)
            : std::to_chars(buffer, buffer + sizeof(buffer), value);
  (void)error;  // 32 characters hold any double
  return std::string(buffer, end);
}

void Registry::Describe(const std::string& name, MetricType type, std::string help) {
  std::lock_guard lock(mutex_);
  auto [family, added] = families_.try_emplace(name);
  if (!added) return;
  family->second.type = type;
  family->second.help = std::move(help);
}

Registry::Sample* Registry::Find(const std::string& name, const Labels& labels, MetricType type) {
  auto family = families_.find(name);
  if (family == families_.end()) return nullptr;
  // A counter may be set like a gauge (from a total kept elsewhere), not the reverse.
  const MetricType declared = family->second.type;
  const bool fits =
      declared == type || (type == MetricType::kGauge && declared == MetricType::kCounter);
  return fits ? &family->second.samples[labels] : nullptr;
}

void Registry::Add(const std::string& name, const Labels& labels, double delta) {
  std::lock_guard lock(mutex_);
  if (Sample* sample = Find(name, labels, MetricType::kCounter)) sample->value += delta;
}

void Registry::Set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  if (Sample* sample = Find(name, labels, MetricType::kGauge)) sample->value = value;
}

void Registry::Observe(const std::string& name, const Labels& labels, double seconds) {
  std::lock_guard lock(mutex_);
  if (Sample* sample = Find(name, labels, MetricType::kHistogram)) {
    sample->histogram.Observe(seconds);
  }
}

void Registry::SetHistogram(const std::string& name, const Labels& labels,
                            const LatencyHistogram& histogram) {
  std::lock_guard lock(mutex_);
  if (Sample* sample = Find(name, labels, MetricType::kHistogram)) sample->histogram = histogram;
}

std::string Registry::Render() const {
  std::lock_guard lock(mutex_);
  std::string text;
  for (const auto& [name, family] : families_) {
    if (family.samples.empty()) continue;
    text += "# HELP " + name + " " + EscapeHelp(family.help) + "\n";
    text += "# TYPE " + name + " " + TypeName(family.type) + "\n";
    for (const auto& [labels, sample] : family.samples) {
      if (family.type != MetricType::kHistogram) {
        text += name + LabelText(labels, nullptr) + " " + FormatValue(sample.value) + "\n";
        continue;
      }
      // Buckets are cumulative in the format, the last one `le="+Inf"` equal to _count.
      const auto& counts = sample.histogram.counts();
      uint64_t cumulative = 0;
      for (size_t bucket = 0; bucket < counts.size(); ++bucket) {
        cumulative += counts[bucket];
        const std::pair<std::string, std::string> le = {
            "le", bucket < LatencyHistogram::kBounds.size()
                      ? FormatValue(LatencyHistogram::kBounds[bucket])
                      : "+Inf"};
        text += name + "_bucket" + LabelText(labels, &le) + " " +
                FormatValue(static_cast<double>(cumulative)) + "\n";
      }
      text += name + "_sum" + LabelText(labels, nullptr) + " " +
              FormatValue(sample.histogram.sum()) + "\n";
      text += name + "_count" + LabelText(labels, nullptr) + " " +
              FormatValue(static_cast<double>(cumulative)) + "\n";
    }
  }
  return text;
}

}  // namespace sidestream::metrics
