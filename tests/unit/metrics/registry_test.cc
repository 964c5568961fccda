#include "server/metrics/registry.h"

#include <gtest/gtest.h>

namespace sidestream::metrics {
namespace {

TEST(RegistryTest, CounterAndGaugeWithHelpAndType) {
  Registry registry;
  registry.Describe("sidestream_records_total", MetricType::kCounter, "Records read.");
  registry.Describe("sidestream_threads", MetricType::kGauge, "Stream threads.");
  registry.Add("sidestream_records_total", {{"query_id", "CSAS_1"}}, 2);
  registry.Add("sidestream_records_total", {{"query_id", "CSAS_1"}});
  registry.Set("sidestream_threads", {}, 4);
  EXPECT_EQ(registry.Render(),
            "# HELP sidestream_records_total Records read.\n"
            "# TYPE sidestream_records_total counter\n"
            "sidestream_records_total{query_id=\"CSAS_1\"} 3\n"
            "# HELP sidestream_threads Stream threads.\n"
            "# TYPE sidestream_threads gauge\n"
            "sidestream_threads 4\n");
}

TEST(RegistryTest, EscapesLabelValuesAndHelp) {
  Registry registry;
  registry.Describe("m", MetricType::kGauge, "a \\ b\nc \"q\"");
  registry.Set("m", {{"path", "a\\b\"c\"\nd"}, {"x", "y"}}, 1.5);
  EXPECT_EQ(registry.Render(),
            "# HELP m a \\\\ b\\nc \"q\"\n"
            "# TYPE m gauge\n"
            "m{path=\"a\\\\b\\\"c\\\"\\nd\",x=\"y\"} 1.5\n");
}

TEST(RegistryTest, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry registry;
  registry.Describe("lat_seconds", MetricType::kHistogram, "Latency.");
  registry.Observe("lat_seconds", {{"q", "a"}}, 0.00005);  // first bucket
  registry.Observe("lat_seconds", {{"q", "a"}}, 0.003);    // le 0.005
  registry.Observe("lat_seconds", {{"q", "a"}}, 60);       // +Inf only
  const std::string text = registry.Render();
  EXPECT_NE(text.find("# TYPE lat_seconds histogram\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{q=\"a\",le=\"0.0001\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{q=\"a\",le=\"0.0025\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{q=\"a\",le=\"0.005\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{q=\"a\",le=\"10\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{q=\"a\",le=\"+Inf\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_sum{q=\"a\"} 60.00305\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_count{q=\"a\"} 3\n"), std::string::npos) << text;
  // Every bound, then +Inf, _sum and _count.
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  EXPECT_EQ(lines, 2 + LatencyHistogram::kBounds.size() + 1 + 2);
}

TEST(RegistryTest, SetHistogramReplacesTheSample) {
  Registry registry;
  registry.Describe("h_seconds", MetricType::kHistogram, "H.");
  LatencyHistogram histogram;
  histogram.Observe(0.5);
  LatencyHistogram more;
  more.Observe(0.5);
  histogram += more;
  registry.SetHistogram("h_seconds", {}, histogram);
  const std::string text = registry.Render();
  EXPECT_NE(text.find("h_seconds_bucket{le=\"0.25\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_bucket{le=\"0.5\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_sum 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_count 2\n"), std::string::npos) << text;
}

TEST(RegistryTest, UndeclaredOrMistypedSamplesAreDroppedAndEmptyFamiliesHidden) {
  Registry registry;
  registry.Describe("g", MetricType::kGauge, "G.");
  registry.Describe("c_total", MetricType::kCounter, "C.");
  registry.Add("nope_total", {});
  registry.Add("g", {});  // a gauge is not a counter
  registry.Observe("c_total", {}, 1);
  EXPECT_EQ(registry.Render(), "");
  registry.Set("c_total", {}, 7);  // a counter set from a total kept elsewhere
  EXPECT_EQ(registry.Render(), "# HELP c_total C.\n# TYPE c_total counter\nc_total 7\n");
}

TEST(RegistryTest, FormatsSpecialValues) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(123456789), "123456789");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(0.0001), "0.0001");
  EXPECT_EQ(FormatValue(1e-9), "1e-09");
  EXPECT_EQ(FormatValue(1e20), "1e+20");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatValue(0.0 / 0.0), "NaN");
}

}  // namespace
}  // namespace sidestream::metrics
