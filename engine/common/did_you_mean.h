#pragma once

#include <string>
#include <string_view>
#include <vector>

/// Spelling suggestions for error hints ("did you mean FROM?").
/// Thread-safety: pure functions.
namespace sidestream {

/// Edit distance between two words (optimal string alignment: insertions, deletions,
/// substitutions and swaps of neighbours each count 1). Case-sensitive.
int EditDistance(std::string_view left, std::string_view right);

/// The candidate closest to `word` when it is close enough to be a likely misspelling
/// (distance 1 for words up to 4 letters, 2 for longer ones); empty when none is, or
/// when `word` is shorter than 3 letters. A candidate equal to `word` is skipped, so a
/// misplaced keyword gets its neighbour (STREAM -> STREAMS). Compares case-insensitively;
/// returns the candidate as given. Ties go to the earlier candidate.
std::string NearestName(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace sidestream
