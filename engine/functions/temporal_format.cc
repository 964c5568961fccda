#include "functions/temporal_format.h"

#include <array>
#include <cctype>
#include <cstdlib>

namespace sidestream::functions {

namespace {

constexpr int64_t kMsPerDay = 86400000;
constexpr std::array<const char*, 12> kMonths = {"January",   "February", "March",    "April",
                                                 "May",       "June",     "July",     "August",
                                                 "September", "October",  "November", "December"};
constexpr std::array<const char*, 7> kWeekdays = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                  "Friday", "Saturday", "Sunday"};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

void AppendPadded(int64_t value, int width, std::string& out) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  if (value < 0) out += '-';
  for (int i = static_cast<int>(digits.size()); i < width; ++i) out += '0';
  out += digits;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

void AppendOffset(int64_t offset_ms, char letter, int count, std::string& out) {
  int64_t minutes = offset_ms / 60000;
  if (minutes == 0 && letter == 'X') {
    out += 'Z';
    return;
  }
  out += minutes < 0 ? '-' : '+';
  if (minutes < 0) minutes = -minutes;
  AppendPadded(minutes / 60, 2, out);
  bool colon = (letter == 'X' || letter == 'x') ? count >= 3 : count >= 4;
  if (count == 1 && letter != 'Z' && minutes % 60 == 0) return;
  if (colon) out += ':';
  AppendPadded(minutes % 60, 2, out);
}

}  // namespace

namespace {

// The zone a parsed short name stands for, as java.time's text parser reads "PST" (the
// region, so that daylight saving applies); region IDs and offsets as TimeZone::Find.
Result<TimeZone> ZoneForName(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kShortNames[] = {
      {"PST", "America/Los_Angeles"}, {"PDT", "America/Los_Angeles"}, {"MST", "America/Denver"},
      {"MDT", "America/Denver"},      {"CST", "America/Chicago"},     {"CDT", "America/Chicago"},
      {"EST", "America/New_York"},    {"EDT", "America/New_York"},    {"GMT", "Etc/GMT"},
      {"BST", "Europe/London"},       {"CET", "Europe/Paris"},        {"CEST", "Europe/Paris"},
      {"EET", "Europe/Athens"},       {"EEST", "Europe/Athens"},      {"IST", "Asia/Kolkata"},
      {"JST", "Asia/Tokyo"},
  };
  for (const auto& [short_name, region] : kShortNames) {
    if (name == short_name) return TimeZone::Find(region);
  }
  return TimeZone::Find(name);
}

}  // namespace

int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2;
  int64_t era = FloorDiv(year, 400);
  int64_t year_of_era = year - era * 400;
  int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

void CivilFromDays(int64_t days, int64_t& year, int& month, int& day) {
  days += 719468;
  int64_t era = FloorDiv(days, 146097);
  int64_t day_of_era = days - era * 146097;
  int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t mp = (5 * day_of_year + 2) / 153;
  day = static_cast<int>(day_of_year - (153 * mp + 2) / 5 + 1);
  month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  year = year_of_era + era * 400 + (month <= 2);
}

Result<int64_t> ZoneOffsetMs(std::string_view zone) {
  std::string_view rest = zone;
  for (std::string_view prefix : {"UTC", "GMT", "UT"}) {
    if (rest.size() >= prefix.size() && EqualsIgnoreCase(rest.substr(0, prefix.size()), prefix)) {
      rest.remove_prefix(prefix.size());
      break;
    }
  }
  if (rest.empty() || rest == "Z" || rest == "z") return int64_t{0};
  auto invalid = [&] {
    return Status::InvalidArgument("Unknown time zone '" + std::string(zone) +
                                   "': only UTC and fixed offsets such as +05:30 are supported");
  };
  if (rest[0] != '+' && rest[0] != '-') return invalid();
  int sign = rest[0] == '-' ? -1 : 1;
  std::string digits;
  for (char c : rest.substr(1)) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits += c;
    } else if (c != ':') {
      return invalid();
    }
  }
  int hours = 0;
  int minutes = 0;
  if (digits.size() == 1 || digits.size() == 2) {
    hours = std::atoi(digits.c_str());
  } else if (digits.size() == 4) {
    hours = std::atoi(digits.substr(0, 2).c_str());
    minutes = std::atoi(digits.substr(2).c_str());
  } else {
    return invalid();
  }
  if (hours > 18 || minutes > 59) return invalid();
  return int64_t{sign * (hours * 3600000LL + minutes * 60000LL)};
}

TimeZone TimeZone::Fixed(int64_t offset_ms) {
  TimeZone zone;
  zone.fixed_ms_ = offset_ms;
  return zone;
}

Result<TimeZone> TimeZone::Find(std::string_view name) {
  auto fixed = ZoneOffsetMs(name);
  if (fixed.ok()) return Fixed(*fixed);
  TimeZone zone;
  // A region ID has a '/' ("Europe/Paris"); Abseil would also read "PST8PDT"-style rules,
  // which ZoneId.of does not.
  if (name.find('/') == std::string_view::npos ||
      !absl::LoadTimeZone(std::string(name), &zone.region_)) {
    return Status::InvalidArgument("Unknown time zone '" + std::string(name) + "'");
  }
  return zone;
}

int64_t TimeZone::OffsetAt(int64_t epoch_ms) const {
  if (fixed_ms_) return *fixed_ms_;
  return int64_t{region_.At(absl::FromUnixMillis(epoch_ms)).offset} * 1000;
}

int64_t TimeZone::OffsetForLocal(int64_t local_ms) const {
  if (fixed_ms_) return *fixed_ms_;
  int64_t seconds = FloorDiv(local_ms, 1000);
  absl::CivilSecond civil =
      absl::ToCivilSecond(absl::FromUnixSeconds(seconds), absl::UTCTimeZone());
  // `pre` keeps the offset from before a transition: the earlier instant of an overlap, and
  // a gap's time moved forward by the gap, as java.time's ZonedDateTime.ofLocal does.
  absl::Time instant = region_.At(civil).pre;
  return (seconds - absl::ToUnixSeconds(instant)) * 1000;
}

std::string TimeZone::Abbreviation(int64_t epoch_ms) const {
  if (!fixed_ms_) return region_.At(absl::FromUnixMillis(epoch_ms)).zone_abbr;
  if (*fixed_ms_ == 0) return "UTC";
  std::string text;
  AppendOffset(*fixed_ms_, 'X', 3, text);
  return text;
}

Result<TimeUnit> ParseTimeUnit(std::string_view name) {
  std::string upper;
  for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!upper.empty() && upper.back() != 'S') upper += 'S';  // SECOND as SECONDS
  if (upper == "NANOSECONDS") return TimeUnit{1, 1'000'000};
  if (upper == "MICROSECONDS") return TimeUnit{1, 1'000};
  if (upper == "MILLISECONDS") return TimeUnit{1, 1};
  if (upper == "SECONDS") return TimeUnit{1'000, 1};
  if (upper == "MINUTES") return TimeUnit{60'000, 1};
  if (upper == "HOURS") return TimeUnit{3'600'000, 1};
  if (upper == "DAYS") return TimeUnit{86'400'000, 1};
  return Status::InvalidArgument("Unknown time unit '" + std::string(name) +
                                 "': use NANOSECONDS, MICROSECONDS, MILLISECONDS, SECONDS, "
                                 "MINUTES, HOURS or DAYS");
}

Result<TemporalPattern> TemporalPattern::Compile(std::string_view pattern) {
  TemporalPattern compiled;
  compiled.pattern_ = std::string(pattern);
  auto add_literal = [&](std::string_view text) {
    if (compiled.tokens_.empty() || compiled.tokens_.back().letter != 0) {
      compiled.tokens_.push_back(Token{});
    }
    compiled.tokens_.back().literal += text;
  };
  for (size_t i = 0; i < pattern.size();) {
    char c = pattern[i];
    if (c == '\'') {
      size_t close = i + 1;
      std::string text;
      while (true) {
        if (close >= pattern.size()) {
          return Status::InvalidArgument("Unterminated quote in format pattern '" +
                                         std::string(pattern) + "'");
        }
        if (pattern[close] == '\'') {
          if (close + 1 < pattern.size() && pattern[close + 1] == '\'') {
            text += '\'';
            close += 2;
            continue;
          }
          break;
        }
        text += pattern[close++];
      }
      add_literal(close == i + 1 ? "'" : text);
      i = close + 1;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c))) {
      static constexpr std::string_view kSupported = "yuMdDHhkKmsSaEXxZz";
      if (kSupported.find(c) == std::string_view::npos) {
        return Status::InvalidArgument("Unsupported letter '" + std::string(1, c) +
                                       "' in format pattern '" + std::string(pattern) + "'");
      }
      size_t end = i;
      while (end < pattern.size() && pattern[end] == c) ++end;
      compiled.tokens_.push_back(
          Token{c == 'u' ? 'y' : c, static_cast<int>(end - i), std::string()});
      i = end;
      continue;
    }
    add_literal(std::string_view(&pattern[i], 1));
    ++i;
  }
  return compiled;
}

void TemporalPattern::Format(int64_t epoch_ms, int64_t offset_ms, std::string& out) const {
  Format(epoch_ms, TimeZone::Fixed(offset_ms), out);
}

void TemporalPattern::Format(int64_t epoch_ms, const TimeZone& zone, std::string& out) const {
  int64_t offset_ms = zone.OffsetAt(epoch_ms);
  int64_t local = epoch_ms + offset_ms;
  int64_t days = FloorDiv(local, kMsPerDay);
  int64_t of_day = local - days * kMsPerDay;
  int64_t year = 0;
  int month = 0;
  int day = 0;
  CivilFromDays(days, year, month, day);
  int hour = static_cast<int>(of_day / 3600000);
  int minute = static_cast<int>(of_day / 60000 % 60);
  int second = static_cast<int>(of_day / 1000 % 60);
  int millis = static_cast<int>(of_day % 1000);
  for (const Token& token : tokens_) {
    switch (token.letter) {
      case 0:
        out += token.literal;
        break;
      case 'y':
        if (token.count == 2) {
          AppendPadded(((year % 100) + 100) % 100, 2, out);
        } else {
          AppendPadded(year, token.count, out);
        }
        break;
      case 'M':
        if (token.count >= 4) {
          out += kMonths[static_cast<size_t>(month - 1)];
        } else if (token.count == 3) {
          out += std::string_view(kMonths[static_cast<size_t>(month - 1)]).substr(0, 3);
        } else {
          AppendPadded(month, token.count, out);
        }
        break;
      case 'd':
        AppendPadded(day, token.count, out);
        break;
      case 'D':
        AppendPadded(days - DaysFromCivil(year, 1, 1) + 1, token.count, out);
        break;
      case 'H':
        AppendPadded(hour, token.count, out);
        break;
      case 'k':
        AppendPadded(hour == 0 ? 24 : hour, token.count, out);
        break;
      case 'K':
        AppendPadded(hour % 12, token.count, out);
        break;
      case 'h':
        AppendPadded(hour % 12 == 0 ? 12 : hour % 12, token.count, out);
        break;
      case 'm':
        AppendPadded(minute, token.count, out);
        break;
      case 's':
        AppendPadded(second, token.count, out);
        break;
      case 'S': {
        std::string fraction = std::to_string(1000 + millis).substr(1);  // three digits
        fraction.resize(static_cast<size_t>(std::max(token.count, 3)), '0');
        out += fraction.substr(0, static_cast<size_t>(token.count));
        break;
      }
      case 'a':
        out += hour < 12 ? "AM" : "PM";
        break;
      case 'E': {
        // 1970-01-01 was a Thursday (index 3 from Monday).
        std::string_view name = kWeekdays[static_cast<size_t>(((days % 7) + 7 + 3) % 7)];
        out += token.count >= 4 ? name : name.substr(0, 3);
        break;
      }
      case 'z':
        out += zone.Abbreviation(epoch_ms);
        break;
      default:
        AppendOffset(offset_ms, token.letter, token.count, out);
        break;
    }
  }
}

Result<int64_t> TemporalPattern::Parse(std::string_view text, int64_t offset_ms) const {
  return Parse(text, TimeZone::Fixed(offset_ms));
}

Result<int64_t> TemporalPattern::Parse(std::string_view text, const TimeZone& zone) const {
  std::optional<TimeZone> text_zone;  // a zone the text names wins over `zone`
  auto mismatch = [&] {
    return Status::InvalidArgument("Text '" + std::string(text) +
                                   "' could not be parsed with pattern '" + pattern_ + "'");
  };
  int64_t year = 1970;
  int month = 1;
  int day = 1;
  int day_of_year = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int millis = 0;
  bool pm = false;
  bool has_ampm = false;
  size_t at = 0;
  for (size_t t = 0; t < tokens_.size(); ++t) {
    const Token& token = tokens_[t];
    if (token.letter == 0) {
      if (text.substr(at, token.literal.size()) != token.literal) return mismatch();
      at += token.literal.size();
      continue;
    }
    if (token.letter == 'a') {
      std::string_view marker = text.substr(at, 2);
      if (EqualsIgnoreCase(marker, "AM") || EqualsIgnoreCase(marker, "PM")) {
        has_ampm = true;
        pm = EqualsIgnoreCase(marker, "PM");
        at += 2;
        continue;
      }
      return mismatch();
    }
    if (token.letter == 'E' || (token.letter == 'M' && token.count >= 3)) {
      bool found = false;
      if (token.letter == 'M') {
        for (size_t m = 0; m < kMonths.size() && !found; ++m) {
          std::string_view name = kMonths[m];
          if (token.count == 3) name = name.substr(0, 3);
          if (EqualsIgnoreCase(text.substr(at, name.size()), name)) {
            month = static_cast<int>(m) + 1;
            at += name.size();
            found = true;
          }
        }
      } else {
        for (std::string_view name : kWeekdays) {
          if (token.count < 4) name = name.substr(0, 3);
          if (EqualsIgnoreCase(text.substr(at, name.size()), name)) {
            at += name.size();
            found = true;
            break;
          }
        }
      }
      if (!found) return mismatch();
      continue;
    }
    if (token.letter == 'X' || token.letter == 'x' || token.letter == 'Z') {
      if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
        text_zone = TimeZone::Fixed(0);
        ++at;
        continue;
      }
      size_t end = at;
      if (end < text.size() && (text[end] == '+' || text[end] == '-')) ++end;
      while (end < text.size() &&
             (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == ':')) {
        ++end;
      }
      auto parsed = ZoneOffsetMs(text.substr(at, end - at));
      if (!parsed.ok()) return mismatch();
      text_zone = TimeZone::Fixed(*parsed);
      at = end;
      continue;
    }
    if (token.letter == 'z') {
      size_t end = at;
      while (end < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '/' ||
              text[end] == '_' || text[end] == '+' || text[end] == '-' || text[end] == ':')) {
        ++end;
      }
      auto named = ZoneForName(text.substr(at, end - at));
      if (!named.ok()) return mismatch();
      text_zone = *named;
      at = end;
      continue;
    }
    // A numeric field: fixed width when the next token is also numeric (adjacent value
    // parsing), otherwise as many digits as there are.
    bool adjacent =
        t + 1 < tokens_.size() && tokens_[t + 1].letter != 0 && tokens_[t + 1].letter != 'a';
    bool negative = false;
    if (token.letter == 'y' && at < text.size() && text[at] == '-') {
      negative = true;
      ++at;
    }
    size_t limit = adjacent ? static_cast<size_t>(token.count) : text.size();
    size_t begin = at;
    int64_t value = 0;
    while (at < text.size() && at - begin < limit &&
           std::isdigit(static_cast<unsigned char>(text[at]))) {
      value = value * 10 + (text[at++] - '0');
      if (value > 1000000000LL) return mismatch();
    }
    if (at == begin) return mismatch();
    size_t width = at - begin;
    switch (token.letter) {
      case 'y':
        year = (token.count == 2 && width == 2) ? 2000 + value : value;
        if (negative) year = -year;
        break;
      case 'M':
        month = static_cast<int>(value);
        break;
      case 'd':
        day = static_cast<int>(value);
        break;
      case 'D':
        day_of_year = static_cast<int>(value);
        break;
      case 'H':
      case 'k':
      case 'K':
      case 'h':
        hour = static_cast<int>(token.letter == 'k' && value == 24 ? 0 : value);
        break;
      case 'm':
        minute = static_cast<int>(value);
        break;
      case 's':
        second = static_cast<int>(value);
        break;
      case 'S': {
        double scaled = static_cast<double>(value);
        for (size_t i = 0; i < width; ++i) scaled /= 10;
        millis = static_cast<int>(scaled * 1000 + 1e-9);
        break;
      }
      default:
        break;
    }
  }
  if (at != text.size()) return mismatch();
  if (has_ampm) {
    if (hour == 12) hour = 0;
    if (pm) hour += 12;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return mismatch();
  }
  int64_t days = day_of_year > 0 ? DaysFromCivil(year, 1, 1) + day_of_year - 1
                                 : DaysFromCivil(year, month, day);
  int64_t local = days * kMsPerDay + hour * 3600000LL + minute * 60000LL + second * 1000LL + millis;
  return local - (text_zone ? *text_zone : zone).OffsetForLocal(local);
}

}  // namespace sidestream::functions
