#include "server/cli/statement_buffer.h"

#include <cctype>

namespace sidestream::cli {

namespace {

std::string Trim(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

// The offset just past the first `;` outside quotes and comments, or npos.
size_t StatementEnd(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\'' || c == '"' || c == '`') {
      // A doubled quote inside a quoted text is the quote itself: scanning on handles it.
      const size_t close = text.find(c, i + 1);
      if (close == std::string_view::npos) return std::string_view::npos;
      i = close;
    } else if (c == '-' && i + 1 < text.size() && text[i + 1] == '-') {
      const size_t newline = text.find('\n', i);
      if (newline == std::string_view::npos) return std::string_view::npos;
      i = newline;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      const size_t close = text.find("*/", i + 2);
      if (close == std::string_view::npos) return std::string_view::npos;
      i = close + 1;
    } else if (c == ';') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace

void StatementBuffer::AppendLine(std::string_view line) {
  pending_ += line;
  pending_ += '\n';
}

std::optional<std::string> StatementBuffer::TakeStatement() {
  const size_t end = StatementEnd(pending_);
  if (end == std::string::npos) return std::nullopt;
  std::string statement = Trim(std::string_view(pending_).substr(0, end));
  pending_.erase(0, end);
  if (Trim(pending_).empty()) pending_.clear();
  return statement;
}

bool StatementBuffer::empty() const { return Trim(pending_).empty(); }

}  // namespace sidestream::cli
