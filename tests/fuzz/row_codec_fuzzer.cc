// libFuzzer target: the changelog row codec (types/value_codec.h) on arbitrary bytes, as a
// task restoring its stores reads a changelog topic. DecodeRow must return Corruption or a
// row; a row it returns must work with what the runtime does with restored values (hash,
// compare, SQL equality, debug text), and must re-encode to bytes that decode to the same
// row and encode to the same bytes again.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "types/value.h"
#include "types/value_codec.h"

namespace {

using sidestream::StatusCode;
using sidestream::types::Row;
using sidestream::types::Value;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "row codec: %s\n", what.c_str());
  std::abort();
}

// What operators do with values read back from a changelog: group keys are hashed and
// compared, MIN/MAX compare across numeric kinds, plans and errors print them.
size_t UseValue(const Value& value) {
  static const Value kProbes[] = {Value::Int(1),      Value::Bigint(-7),
                                  Value::Double(2.5), Value::DecimalValue(12345, 2),
                                  Value::String("a"), Value::Null()};
  size_t sum = value.Hash() + value.DebugString().size();
  if (Value::Compare(value, value) != 0) Fail("a value does not compare equal to itself");
  for (const Value& probe : kProbes) {
    const int order = Value::Compare(value, probe);
    if (order != -Value::Compare(probe, value)) Fail("Compare is not antisymmetric");
    sum += static_cast<size_t>(order + 1) + (value == probe);
  }
  for (const Value& child : value.children()) sum += UseValue(child);
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Row row;
  const auto status = sidestream::types::DecodeRow(bytes, row);
  if (!status.ok()) {
    if (status.code() != StatusCode::kCorruption) {
      Fail("DecodeRow failed with a status other than Corruption: " + status.ToString());
    }
    return 0;
  }
  volatile size_t sink = sidestream::types::RowHash()(row);
  if (!sidestream::types::RowEqual()(row, row)) Fail("a row does not equal itself");
  for (const Value& value : row) sink = sink + UseValue(value);

  std::string encoded;
  sidestream::types::EncodeRow(row, encoded);
  Row back;
  const auto again = sidestream::types::DecodeRow(encoded, back);
  if (!again.ok())
    Fail("a decoded row re-encodes to bytes that do not decode: " + again.ToString());
  std::string encoded_again;
  sidestream::types::EncodeRow(back, encoded_again);
  if (encoded_again != encoded) Fail("decode, encode, decode, encode changed the bytes");
  if (back.size() != row.size()) Fail("a re-decoded row has another number of values");
  for (size_t i = 0; i < row.size(); ++i) {
    if (Value::Compare(row[i], back[i]) != 0) Fail("a re-decoded value compares unequal");
  }
  return 0;
}
