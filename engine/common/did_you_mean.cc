#include "common/did_you_mean.h"

#include <algorithm>
#include <cctype>

namespace sidestream {

int EditDistance(std::string_view left, std::string_view right) {
  const size_t rows = left.size() + 1;
  const size_t columns = right.size() + 1;
  std::vector<int> distance(rows * columns, 0);
  auto at = [&](size_t i, size_t j) -> int& { return distance[i * columns + j]; };
  for (size_t i = 0; i < rows; ++i) at(i, 0) = static_cast<int>(i);
  for (size_t j = 0; j < columns; ++j) at(0, j) = static_cast<int>(j);
  for (size_t i = 1; i < rows; ++i) {
    for (size_t j = 1; j < columns; ++j) {
      const int cost = left[i - 1] == right[j - 1] ? 0 : 1;
      int best = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
      if (i > 1 && j > 1 && left[i - 1] == right[j - 2] && left[i - 2] == right[j - 1]) {
        best = std::min(best, at(i - 2, j - 2) + 1);
      }
      at(i, j) = best;
    }
  }
  return at(rows - 1, columns - 1);
}

std::string NearestName(std::string_view word, const std::vector<std::string>& candidates) {
  if (word.size() < 3) return {};
  std::string upper(word);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const int allowed = upper.size() <= 4 ? 1 : 2;
  std::string best;
  int best_distance = allowed + 1;
  for (const std::string& candidate : candidates) {
    std::string upper_candidate = candidate;
    for (char& c : upper_candidate) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (upper_candidate == upper) continue;  // the word itself: look for a different one
    const int distance = EditDistance(upper, upper_candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

}  // namespace sidestream
