#include "connectors/formats/field_matcher.h"

#include <utility>

namespace sidestream::formats {
namespace {

// Positions beyond this are looked up without caching, so hostile messages with many
// fields cannot grow the cache.
constexpr size_t kMaxCachedPositions = 256;

char LowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

}  // namespace

FieldMatcher::FieldMatcher(std::vector<std::string> names) : names_(std::move(names)) {}

int FieldMatcher::FindAndRemember(std::string_view key, size_t position, Match& match) {
  const int index = Lookup(key, match);
  if (position < kMaxCachedPositions) {
    if (position >= cache_.size()) cache_.resize(position + 1);
    cache_[position].key.assign(key);
    cache_[position].index = index;
    cache_[position].match = match;
  }
  return index;
}

int FieldMatcher::Lookup(std::string_view key, Match& match) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == key) {
      match = Match::kExact;
      return static_cast<int>(i);
    }
  }
  for (size_t i = 0; i < names_.size(); ++i) {
    if (EqualsIgnoreCase(names_[i], key)) {
      match = Match::kCaseInsensitive;
      return static_cast<int>(i);
    }
  }
  match = Match::kNone;
  return -1;
}

}  // namespace sidestream::formats
