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
  int Find(std::string_view key, size_t position, Match& match);

 private:
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
