// libFuzzer target: the JSON decoder (also what JSON_SR and AVRO without a registry read) on
// arbitrary bytes, as a value with the CDR columns (all of them, and projected), with a column of
// every SQL type including nested ARRAY, MAP and STRUCT, and with none; as an unwrapped single
// value (WRAP_SINGLE_VALUE=false); and as a key of each type. Every decoder runs the checks of
// format_fuzzing.h: decode, decode again into the same row, encode, decode the encoding back to the
// same values.
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
using sidestream::types::SqlType;

FormatOptions Options(const char* format, bool is_key, bool wrap_single_value = true) {
  FormatOptions options;
  options.format = format;
  options.is_key = is_key;
  options.wrap_single_value = wrap_single_value;
  return options;
}

std::vector<FormatCase> MakeCases() {
  namespace fuzz = sidestream::fuzz;
  std::vector<FormatCase> cases;
  cases.push_back(
      MakeCase("JSON value, CDR columns", Options("JSON", false), fuzz::CdrValueColumns()));
  cases.push_back(MakeCase("JSON value, CDR columns projected", Options("JSON", false),
                           fuzz::ProjectedCdrValueColumns()));
  cases.push_back(
      MakeCase("JSON value, every type", Options("JSON", false), fuzz::AllTypeColumns()));
  cases.push_back(MakeCase("JSON value, no columns", Options("JSON", false), {}));
  // Quoted names that differ only in case: the exact match wins.
  cases.push_back(MakeCase("JSON value, names differing in case", Options("JSON", false),
                           {{"A", SqlType::Int()}, {"a", SqlType::String()}}));
  for (const FormatColumn& column : fuzz::AllTypeColumns()) {
    cases.push_back(
        MakeCase("JSON key " + column.type.ToString(), Options("JSON", true), {column}));
  }
  for (const FormatColumn& column : fuzz::NestedColumns()) {
    cases.push_back(MakeCase("JSON value WRAP_SINGLE_VALUE=false " + column.type.ToString(),
                             Options("JSON", false, false), {column}));
  }
  return cases;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::vector<FormatCase> cases = MakeCases();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (FormatCase& format_case : cases) sidestream::fuzz::CheckDecode(format_case, bytes);
  return 0;
}
