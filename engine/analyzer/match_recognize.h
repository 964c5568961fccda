#pragma once

#include "analyzer/expression_binder.h"
#include "analyzer/logical_plan.h"
#include "functions/function_registry.h"
#include "sql/ast.h"

namespace sidestream::analyzer {

/// Binds `FROM source MATCH_RECOGNIZE (...)` over `input` (the source's columns and pseudo
/// columns, qualified by `source_qualifier`). Returns the MatchRecognize node without its
/// child and sets `output` to the scope its result offers: the PARTITION BY columns (keys),
/// the measures, then the pseudo columns ROWTIME, ROWPARTITION and ROWOFFSET, qualified by
/// the clause's alias (else the source's name).
/// Errors (BindError, NotSupported, with line:column): ORDER BY other than ROWTIME, a
/// PARTITION BY that is not a column, an undefined pattern variable, a DEFINE of a variable
/// the PATTERN lacks, a pattern that can match no rows, an unbounded quantifier without
/// WITHIN, a non-BOOLEAN condition, navigation over two variables, NEXT (it reads the future).
Result<LogicalOperatorPtr> BindMatchRecognize(const sql::MatchRecognize& match, const Scope& input,
                                              const std::string& source_qualifier,
                                              const functions::FunctionRegistry& functions,
                                              Scope& output);

/// Compiles a pattern into Pike VM instructions (greedy quantifiers prefer one more row,
/// reluctant ones one fewer; alternatives prefer the leftmost). `variables` maps names to
/// indexes. InvalidArgument when the expansion of bounded quantifiers is too large.
Result<std::vector<PatternInstruction>> CompilePattern(const sql::PatternTerm& pattern,
                                                       const std::vector<std::string>& variables);

}  // namespace sidestream::analyzer
