// libFuzzer target: the DELIMITED decoder (ksqlDB's Commons CSV rules) on arbitrary bytes,
// with a column of every scalar type (DELIMITED holds no ARRAY, MAP or STRUCT) under the
// comma, TAB, space and '|' delimiters, and with each type alone. Every decoder runs the
// checks of format_fuzzing.h: decode, decode again into the same row, encode, decode the
// encoding back to the same values.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "format_fuzzing.h"
#include "fuzz_columns.h"

namespace {

using sidestream::formats::FormatColumn;
using sidestream::formats::FormatOptions;
using sidestream::fuzz::FormatCase;
using sidestream::fuzz::MakeCase;

FormatOptions Delimited(char delimiter) {
  FormatOptions options;
  options.format = "DELIMITED";
  options.delimiter = delimiter;
  return options;
}

std::vector<FormatCase> MakeCases() {
  std::vector<FormatCase> cases;
  for (char delimiter : {',', '\t', ' ', '|'}) {
    cases.push_back(MakeCase(std::string("DELIMITED '") + delimiter + "', every scalar type",
                             Delimited(delimiter), sidestream::fuzz::ScalarColumns()));
  }
  for (const FormatColumn& column : sidestream::fuzz::ScalarColumns()) {
    cases.push_back(MakeCase("DELIMITED key " + column.type.ToString(), Delimited(','), {column}));
  }
  for (FormatCase& format_case : cases) format_case.empty_is_null = true;
  return cases;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::vector<FormatCase> cases = MakeCases();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (FormatCase& format_case : cases) sidestream::fuzz::CheckDecode(format_case, bytes);
  return 0;
}
