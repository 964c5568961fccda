#pragma once

#include <cstdint>
#include <string>

/// Nexmark's online-auction events (shared/NEXMARK.md), generated as the reference
/// generator (Beam's and Flink's nexmark) does: out of every 50 events 1 person, 3 auctions
/// and 46 bids; ids from 1000; bids mostly on recent ("hot") auctions by recent bidders;
/// `extra` padding so that events average the spec's 200, 500 and 100 B.
namespace sidestream::datagen {

struct NexmarkGeneratorOptions {
  uint64_t seed = 1;
  int64_t start_ms = 1'436'918'400'000;  // 2015-07-15 00:00:00 UTC, Nexmark's base time
  double events_per_second = 10'000;     // event-time rate (the reference's default)
};

enum class NexmarkEventType { kPerson = 0, kAuction = 1, kBid = 2 };

/// One event as a Kafka message value (JSON, no key), in the layout Flink and RisingWave
/// read Nexmark from Kafka: {"event_type":N,"person"|"auction"|"bid":{...}} with the
/// reference's field names; dateTime and expires are epoch milliseconds.
struct GeneratedNexmarkEvent {
  int64_t event_id = 0;  // 0, 1, 2, ... in order
  NexmarkEventType type = NexmarkEventType::kBid;
  std::string value;
  int64_t event_time = 0;  // dateTime
};

/// Thread: one caller at a time. Each event is a pure function of (seed, event id), so a
/// seed gives the same stream on every run.
class NexmarkGenerator {
 public:
  explicit NexmarkGenerator(NexmarkGeneratorOptions options) : options_(options) {}

  /// Writes the next event into `out` (reusing its buffers).
  void Next(GeneratedNexmarkEvent& out);
  int64_t generated() const { return next_event_id_; }

 private:
  NexmarkGeneratorOptions options_;
  int64_t next_event_id_ = 0;
};

}  // namespace sidestream::datagen
