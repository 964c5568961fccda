// Clang only (grammar/CMakeLists.txt puts this folder before the ANTLR runtime's).
// Debian's ANTLR 4.9 runtime declares misc::InterpreterData with an inline default
// constructor that default-constructs a dfa::Vocabulary, whose defaulted constructor is
// deleted (it has const std::vector members). GCC accepts it until it is called; clang
// rejects the header. Nothing here uses InterpreterData: it is included first with its
// Vocabulary member given an initializer, and its #pragma once keeps the runtime's own
// include of it out. The layout of every type is unchanged.
#pragma once

#include "Vocabulary.h"
#include "atn/ATN.h"

// clang-format off
#define vocabulary vocabulary{std::vector<std::string>(), std::vector<std::string>()}
#include "misc/InterpreterDataReader.h"
#undef vocabulary
// clang-format on

#include_next "antlr4-runtime.h"
