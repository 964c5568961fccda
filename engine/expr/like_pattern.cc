#include "expr/like_pattern.h"

namespace sidestream::expr {

namespace {

// Length of the UTF-8 code point starting with `lead` (1 for stray bytes).
size_t CodePointLength(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

}  // namespace

Result<LikePattern> LikePattern::Compile(std::string_view pattern,
                                         std::optional<std::string_view> escape) {
  if (escape.has_value() && escape->size() != 1) {
    return Status::InvalidArgument("LIKE ESCAPE must be a single character but is '" +
                                   std::string(*escape) + "'");
  }
  LikePattern compiled;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (escape.has_value() && c == (*escape)[0]) {
      if (i + 1 >= pattern.size()) {
        return Status::InvalidArgument("LIKE pattern '" + std::string(pattern) +
                                       "' ends with its escape character");
      }
      compiled.elements_.push_back(Element::kLiteral);
      compiled.literals_ += pattern[++i];
    } else if (c == '%') {
      // Consecutive % behave as one.
      if (compiled.elements_.empty() || compiled.elements_.back() != Element::kAny) {
        compiled.elements_.push_back(Element::kAny);
        compiled.literals_ += '\0';
      }
    } else if (c == '_') {
      compiled.elements_.push_back(Element::kOne);
      compiled.literals_ += '\0';
    } else {
      compiled.elements_.push_back(Element::kLiteral);
      compiled.literals_ += c;
    }
  }
  return compiled;
}

bool LikePattern::Matches(std::string_view text) const {
  // Greedy matching with backtracking to the last %: linear for patterns with one %,
  // O(n*m) at worst.
  size_t t = 0;
  size_t p = 0;
  size_t star_p = std::string::npos;
  size_t star_t = 0;
  while (t < text.size()) {
    if (p < elements_.size() && elements_[p] == Element::kAny) {
      star_p = p++;
      star_t = t;
      continue;
    }
    if (p < elements_.size() && elements_[p] == Element::kOne) {
      t += CodePointLength(static_cast<unsigned char>(text[t]));
      ++p;
      continue;
    }
    if (p < elements_.size() && literals_[p] == text[t]) {
      ++t;
      ++p;
      continue;
    }
    if (star_p == std::string::npos) return false;
    p = star_p + 1;
    star_t += CodePointLength(static_cast<unsigned char>(text[star_t]));
    t = star_t;
  }
  while (p < elements_.size() && elements_[p] == Element::kAny) ++p;
  return p == elements_.size() && t == text.size();
}

}  // namespace sidestream::expr
