#include "cdr_stream_generator.h"

#include <algorithm>
#include <random>

namespace sidestream::differential {

namespace {

using nlohmann::json;

class Draw {
 public:
  explicit Draw(uint64_t seed) : random_(seed) {}

  int64_t Uniform(int64_t low, int64_t high) {
    return std::uniform_int_distribution<int64_t>(low, high)(random_);
  }
  bool Chance(double probability) { return std::bernoulli_distribution(probability)(random_); }

  template <size_t N>
  json NullableName(const std::array<const char*, N>& names, double null_probability) {
    if (Chance(null_probability)) return nullptr;
    return names[Uniform(0, N - 1)];
  }
  json NullableInteger(int64_t low, int64_t high, double null_probability) {
    if (Chance(null_probability)) return nullptr;
    return Uniform(low, high);
  }

 private:
  std::mt19937_64 random_;
};

// One partition's producer: its clock runs ahead of or behind the others'.
struct Partition {
  int64_t clock = 0;
  int64_t weight = 1;
};

}  // namespace

std::vector<host::TestRecord> GenerateCdrStream(uint64_t seed, const StreamShape& shape) {
  Draw draw(seed * 7919 + 17);
  const int64_t size = shape.window_size_ms;
  const int64_t grace = shape.grace_ms;
  // Start far from the epoch, or right at it, where hopping windows are cut off at 0.
  const int64_t base =
      draw.Chance(0.7) ? 1'700'000'000'000 + draw.Uniform(0, 100'000) : draw.Uniform(0, 3000);
  std::vector<Partition> partitions(draw.Uniform(1, 4));
  for (Partition& partition : partitions) {
    partition.clock = base + draw.Uniform(0, size + 2 * grace);
    partition.weight = draw.Uniform(1, 4);
  }
  int64_t total_weight = 0;
  for (const Partition& partition : partitions) total_weight += partition.weight;
  // Mean gap between a partition's records: a few records per window and partition.
  const int64_t gap = std::max<int64_t>(1, size / draw.Uniform(1, 6));
  const int64_t count = draw.Uniform(10, 120);
  // Half the streams keep to a coarse grid, so that records land exactly on window bounds
  // and on end + grace.
  static constexpr std::array<int64_t, 4> kGrids = {250, 500, 1000, 1000};
  const int64_t grid = draw.Chance(0.5) ? kGrids[draw.Uniform(0, kGrids.size() - 1)] : 1;

  std::vector<host::TestRecord> records;
  for (int64_t i = 0; i < count; ++i) {
    if (!records.empty() && draw.Chance(0.04)) {
      records.push_back(records[draw.Uniform(0, records.size() - 1)]);  // a redelivery
      continue;
    }
    int64_t pick = draw.Uniform(1, total_weight);
    size_t p = 0;
    while (pick > partitions[p].weight) pick -= partitions[p++].weight;
    Partition& partition = partitions[p];
    // Drift: now and then a partition stalls or jumps ahead.
    int64_t step = draw.Uniform(0, 2 * gap);
    if (draw.Chance(0.05)) step += draw.Uniform(0, size + grace);
    partition.clock += step;
    int64_t timestamp = partition.clock;
    double lateness = draw.Uniform(0, 99);
    if (lateness < 15) {
      timestamp -= draw.Uniform(0, std::max<int64_t>(grace, 1));  // within the grace period
    } else if (lateness < 22) {
      timestamp -= grace + draw.Uniform(0, 2 * size);  // beyond it
    }
    if (!records.empty() && draw.Chance(0.05)) timestamp = *records.back().timestamp;
    timestamp = std::max<int64_t>(0, timestamp / grid * grid);

    host::TestRecord record;
    record.topic = "cdr";
    record.key = draw.NullableName(kCallers, 0.05);
    double charge_null = draw.Uniform(0, 99);
    json charge = nullptr;
    if (charge_null >= 15) {
      // Mostly quarters (exact in binary), some tenths (inexact: sums then round).
      charge = draw.Chance(0.7) ? static_cast<double>(draw.Uniform(0, 40)) / 4
                                : static_cast<double>(draw.Uniform(0, 100)) / 10;
    }
    record.value = {
        {"cell", draw.NullableName(kCells, 0.1)},
        {"callee", draw.NullableName(kCallees, 0.15)},
        {"record_type", draw.NullableName(kRecordTypes, 0.05)},
        {"duration", draw.NullableInteger(0, kMaxDuration, 0.15)},
        {"bytes", draw.NullableInteger(0, 5'000'000'000, 0.15)},
        {"charge", charge},
        {"cdr_id", i},
    };
    record.timestamp = timestamp;
    records.push_back(std::move(record));
  }

  // Far in the future: closes every window before it.
  int64_t last = 0;
  for (const host::TestRecord& record : records) last = std::max(last, *record.timestamp);
  host::TestRecord closer;
  closer.topic = "cdr";
  closer.key = draw.NullableName(kCallers, 0.05);
  closer.value = {{"cell", draw.NullableName(kCells, 0.1)},
                  {"callee", draw.NullableName(kCallees, 0.1)},
                  {"record_type", draw.NullableName(kRecordTypes, 0.1)},
                  {"duration", draw.NullableInteger(0, kMaxDuration, 0.1)},
                  {"bytes", nullptr},
                  {"charge", 1.0},
                  {"cdr_id", count}};
  closer.timestamp = (last + 3 * (size + grace) + 1) / grid * grid;
  records.push_back(std::move(closer));
  return records;
}

}  // namespace sidestream::differential
