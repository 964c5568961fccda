#pragma once

#include <absl/time/time.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

/// Java-style (java.time.format.DateTimeFormatter) patterns for formatting and parsing
/// TIMESTAMP, DATE and TIME values, and the calendar arithmetic behind them.
namespace sidestream::functions {

/// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int64_t year, int month, int day);
void CivilFromDays(int64_t days, int64_t& year, int& month, int& day);

/// Offset from UTC in milliseconds of a zone name: "UTC", "GMT", "Z", "+05:30", "-08",
/// "UTC+01:00", "GMT-3". InvalidArgument for region names (e.g. "America/Los_Angeles"),
/// whose offset depends on the instant: TimeZone reads those.
Result<int64_t> ZoneOffsetMs(std::string_view zone);

/// A time zone: a fixed offset (the forms ZoneOffsetMs reads) or a region of the system's
/// time-zone database ("America/New_York"), whose offset depends on the instant.
/// Thread-safety: immutable; safe from any thread.
class TimeZone {
 public:
  static TimeZone Fixed(int64_t offset_ms);
  /// A fixed offset or a region ID, as java.time's ZoneId.of reads them; InvalidArgument
  /// ("Unknown time zone 'x'") for anything else.
  static Result<TimeZone> Find(std::string_view name);

  /// Offset from UTC at an instant.
  int64_t OffsetAt(int64_t epoch_ms) const;
  /// The offset that makes `local_ms` (wall-clock time, counted as if in UTC) an instant:
  /// in a gap, the offset before it; in an overlap, the earlier one (as java.time does).
  int64_t OffsetForLocal(int64_t local_ms) const;
  /// The short name at an instant ("PDT", "UTC"), as the pattern letter z prints it.
  std::string Abbreviation(int64_t epoch_ms) const;

 private:
  std::optional<int64_t> fixed_ms_;
  absl::TimeZone region_;
};

/// Java's TimeUnit as milliseconds per unit, a fraction so that finer units divide (1500
/// MICROSECONDS is 1 ms, truncated as TimeUnit.toMillis does).
struct TimeUnit {
  int64_t multiply = 1;
  int64_t divide = 1;
  int64_t ToMillis(int64_t amount) const { return amount * multiply / divide; }
};

/// The unit named NANOSECONDS, MICROSECONDS, MILLISECONDS, SECONDS, MINUTES, HOURS or DAYS
/// (any case, singular too). InvalidArgument for another name.
Result<TimeUnit> ParseTimeUnit(std::string_view name);

/// A compiled pattern. Supported letters: y (yy, yyyy), M (M, MM, MMM, MMMM), d, D, H, h,
/// k, K, m, s, S (fraction of a second), a, E (EEE, EEEE), X, x, Z, z (a zone's short name:
/// PST, CET, UTC, or a region ID); 'quoted text' and '' for a quote; any other non-letter
/// is literal.
/// Thread-safety: immutable after Compile.
class TemporalPattern {
 public:
  /// InvalidArgument naming the pattern when a letter is not supported.
  static Result<TemporalPattern> Compile(std::string_view pattern);

  /// Appends `epoch_ms` shifted by `offset_ms`, formatted, to `out`.
  void Format(int64_t epoch_ms, int64_t offset_ms, std::string& out) const;
  /// Appends `epoch_ms` as wall-clock time in `zone`, formatted, to `out`.
  void Format(int64_t epoch_ms, const TimeZone& zone, std::string& out) const;
  /// Parses `text` to epoch milliseconds; fields missing from the pattern default to
  /// 1970-01-01T00:00:00.000; an offset in the text wins over `offset_ms`.
  /// InvalidArgument naming the text and the pattern when it does not match.
  Result<int64_t> Parse(std::string_view text, int64_t offset_ms) const;
  /// Parses `text` read as wall-clock time in `zone` (unless the text names its own).
  Result<int64_t> Parse(std::string_view text, const TimeZone& zone) const;

 private:
  struct Token {
    char letter = 0;  // 0: literal text
    int count = 0;
    std::string literal;
  };
  std::string pattern_;
  std::vector<Token> tokens_;
};

}  // namespace sidestream::functions
