#include "session/error_rendering.h"

namespace sidestream::session {

std::string RenderError(const Status& status, std::string_view sql, std::string_view origin) {
  const SourceLocation& where = status.location();
  std::string text(origin);
  if (where.known()) {
    text += ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
  }
  text += ": error: " + status.message() + "\n";
  if (where.known()) {
    size_t start = 0;
    for (int line = 1; line < where.line && start != std::string_view::npos; ++line) {
      start = sql.find('\n', start);
      if (start != std::string_view::npos) ++start;
    }
    if (start != std::string_view::npos && start <= sql.size()) {
      size_t end = sql.find('\n', start);
      std::string_view line =
          sql.substr(start, end == std::string_view::npos ? sql.npos : end - start);
      text += "  " + std::string(line) + "\n";
      std::string caret(static_cast<size_t>(std::max(where.column - 1, 0)), ' ');
      // Keep tabs so the caret lines up under the offending text.
      for (size_t i = 0; i < caret.size() && i < line.size(); ++i) {
        if (line[i] == '\t') caret[i] = '\t';
      }
      text += "  " + caret + "^\n";
    }
  }
  if (!status.hint().empty()) text += "hint: " + status.hint() + "\n";
  return text;
}

}  // namespace sidestream::session
