#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace sidestream::session {

/// Renders an error for a terminal, compiler-style, with the offending line and a caret:
///
///   queries/bursts.sql:3:15: error: SELECT column 'CALLE' cannot be resolved.
///     SELECT caller, calle FROM cdr
///                    ^
///   hint: did you mean CALLEE?
///
/// `sql` is the text the status's location refers to; `origin` names it (a file name).
std::string RenderError(const Status& status, std::string_view sql, std::string_view origin);

}  // namespace sidestream::session
