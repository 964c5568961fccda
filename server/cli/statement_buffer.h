#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sidestream::cli {

/// Collects the lines a user types until they hold a whole statement: one that ends with a
/// `;` outside quotes ('...', "...", `...`) and comments (-- and /* */), as ksqlDB's CLI
/// does. Several statements on one line come out one by one.
class StatementBuffer {
 public:
  void AppendLine(std::string_view line);
  /// The next whole statement, with its `;`, trimmed; nullopt while none is complete.
  std::optional<std::string> TakeStatement();
  /// True when nothing but whitespace is pending (the prompt is the first line's).
  bool empty() const;
  void Clear() { pending_.clear(); }

 private:
  std::string pending_;
};

}  // namespace sidestream::cli
