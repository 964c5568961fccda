// libFuzzer target: the KAFKA decoder (Kafka's big-endian primitive serdes) on arbitrary
// bytes, for each type it holds (INT, BIGINT, DOUBLE, STRING, BYTES) and for no column.
// Every decoder runs the checks of format_fuzzing.h: decode, decode again into the same
// row, encode, decode the encoding back to the same values.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "format_fuzzing.h"

namespace {

using sidestream::formats::FormatOptions;
using sidestream::fuzz::FormatCase;
using sidestream::fuzz::MakeCase;
using sidestream::types::SqlType;

std::vector<FormatCase> MakeCases() {
  FormatOptions options;
  options.format = "KAFKA";
  options.is_key = true;
  std::vector<FormatCase> cases;
  for (const SqlType& type : {SqlType::Int(), SqlType::Bigint(), SqlType::Double(),
                              SqlType::String(), SqlType::Bytes()}) {
    cases.push_back(MakeCase("KAFKA " + type.ToString(), options, {{"K", type}}));
  }
  cases.push_back(MakeCase("KAFKA, no column", options, {}));
  return cases;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::vector<FormatCase> cases = MakeCases();
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (FormatCase& format_case : cases) sidestream::fuzz::CheckDecode(format_case, bytes);
  return 0;
}
