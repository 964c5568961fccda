#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"
#include "sql/ast.h"

/// The SQL front door. Only parser.cc and the generated code see ANTLR types.
/// Thread-safety: every function is reentrant; calls share no state.
namespace sidestream::sql {

/// Parses a script of ';'-separated statements (the last ';' may be missing).
/// Comments (-- and /* */) are skipped. On error returns one SyntaxError (or
/// NotSupported for dialect that is recognised but not built) with the line:column of
/// the offending token, the token's text, and a hint where one exists. Never throws.
Result<std::vector<StatementPtr>> ParseScript(std::string_view sql);

/// Parses exactly one statement; an error when the text holds zero or several.
Result<StatementPtr> ParseStatement(std::string_view sql);

/// Parses one expression, e.g. "a + 1 > b". For tests and the REST API.
Result<ExpressionPtr> ParseExpression(std::string_view sql);

}  // namespace sidestream::sql
