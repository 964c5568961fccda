#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sidestream::expr {

/// A compiled SQL LIKE pattern: % matches any sequence, _ one character (a UTF-8 code
/// point), everything else itself, case-sensitively. With an escape character, escape
/// followed by %, _ or itself matches that character literally.
/// Thread-safety: immutable after Compile.
class LikePattern {
 public:
  /// InvalidArgument when `escape` is not a single character or the pattern ends in it.
  static Result<LikePattern> Compile(std::string_view pattern,
                                     std::optional<std::string_view> escape);

  bool Matches(std::string_view text) const;

 private:
  enum class Element : char { kLiteral, kOne, kAny };
  std::vector<Element> elements_;
  std::string literals_;  // the byte for each kLiteral element, by position
};

}  // namespace sidestream::expr
