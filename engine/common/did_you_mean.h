#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sidestream {

/// Levenshtein distance between two strings, compared case-insensitively.
int EditDistance(std::string_view a, std::string_view b);

/// The candidate closest to `name` (case-insensitive), or "" when none is close enough
/// to be a plausible typo (distance at most max(1, len/3)). Used for "did you mean X?".
std::string NearestName(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace sidestream
