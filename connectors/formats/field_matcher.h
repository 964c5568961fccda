#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

/// Matching JSON field names to column or STRUCT field names.
namespace sidestream::formats {

/// Finds which of a fixed list of names a JSON field name is, case-insensitively, with an
/// exact match preferred. Remembers the name seen at each field position, so messages
/// that repeat their field order (the usual case) cost one comparison per field.
/// Thread: one task at a time (the position cache is mutable state).
class FieldMatcher {
 public:
  /// How a field matched: kExact beats kCaseInsensitive beats kNone.
  enum class Match { kNone = 0, kCaseInsensitive = 1, kExact = 2 };

  explicit FieldMatcher(std::vector<std::string> names);

  /// The index of the name `key` matches, or -1 (with `match` kNone). `position` is the
  /// field's position in its object, used only as a cache hint.
  /// Inline: it runs for every field of every message, and nearly always hits the cache.
  int Find(std::string_view key, size_t position, Match& match) {
    if (position < cache_.size() && SameKey(cache_[position].key, key)) {
      match = cache_[position].match;
      return cache_[position].index;
    }
    return FindAndRemember(key, position, match);
  }

 private:
  // Field names are short: a byte loop beats a call to memcmp.
  static bool SameKey(const std::string& cached, std::string_view key) {
    if (cached.size() != key.size()) return false;
    for (size_t i = 0; i < key.size(); ++i) {
      if (cached[i] != key[i]) return false;
    }
    return true;
  }
  int FindAndRemember(std::string_view key, size_t position, Match& match);

  struct CacheEntry {
    std::string key;
    int index = -1;
    Match match = Match::kNone;
  };

  int Lookup(std::string_view key, Match& match) const;

  std::vector<std::string> names_;
  std::vector<CacheEntry> cache_;  // by field position
};

}  // namespace sidestream::formats
