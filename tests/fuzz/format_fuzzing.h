#pragma once

// What the format fuzzers check on every input, for each of their decoders (a format, its
// options and a column set):
// - Decode returns OK or InvalidArgument, and leaves the row's other columns alone;
// - decoding the same bytes again into the row it filled (decoders refill reused rows)
//   gives the same status and the same values;
// - a decoded row encodes without error, and (where the format keeps every value exactly)
//   the encoding decodes back to the same values.
// A broken check prints what it saw and aborts, which libFuzzer reports as a crash.

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/formats/row_format.h"
#include "types/value.h"
#include "types/value_codec.h"

namespace sidestream::fuzz {

/// One decoder and its encoder.
struct FormatCase {
  std::string label;
  formats::FormatOptions options;
  std::vector<formats::FormatColumn> columns;
  bool round_trip = true;  // encode, decode again, expect the same values
  // DELIMITED reads an empty field as NULL, so an empty STRING or BYTES (BYTES from "=")
  // comes back NULL: the comparison treats them as NULL.
  bool empty_is_null = false;
  std::unique_ptr<formats::RowDecoder> decoder;
  std::unique_ptr<formats::RowEncoder> encoder;
};

[[noreturn]] inline void Fail(const FormatCase& format_case, const std::string& what,
                              std::string_view bytes) {
  std::fprintf(stderr, "%s: %s\ninput (%zu bytes): %.*s\n", format_case.label.c_str(), what.c_str(),
               bytes.size(), static_cast<int>(bytes.size() > 2000 ? 2000 : bytes.size()),
               bytes.data());
  std::abort();
}

/// Makes a case's decoder and encoder; aborts when the format rejects the columns (a
/// mistake in the fuzzer, not a finding).
inline FormatCase MakeCase(std::string label, formats::FormatOptions options,
                           std::vector<formats::FormatColumn> columns, bool round_trip = true) {
  FormatCase format_case{
      std::move(label), std::move(options), std::move(columns), round_trip, false, nullptr,
      nullptr};
  auto decoder = formats::MakeDecoder(format_case.options, format_case.columns);
  auto encoder = formats::MakeEncoder(format_case.options, format_case.columns);
  if (!decoder.ok() || !encoder.ok()) {
    Fail(format_case,
         "cannot make the decoder or encoder: " +
             (decoder.ok() ? encoder.status() : decoder.status()).ToString(),
         "");
  }
  format_case.decoder = std::move(decoder).value();
  format_case.encoder = std::move(encoder).value();
  return format_case;
}

/// The decoded columns in the changelog codec's bytes: an exact comparison (kinds, bits of
/// doubles, decimal scales), unlike Value's SQL equality. Skipped columns are left out.
inline std::string Canonical(const FormatCase& format_case, const types::Row& row,
                             size_t first_column) {
  types::Row slice;
  for (size_t i = 0; i < format_case.columns.size(); ++i) {
    if (format_case.columns[i].skip) continue;
    const types::Value& value = row[first_column + i];
    const bool text =
        value.kind() == types::TypeId::kString || value.kind() == types::TypeId::kBytes;
    slice.push_back(
        format_case.empty_is_null && text && value.string().empty() ? types::Value::Null() : value);
  }
  std::string bytes;
  types::EncodeRow(slice, bytes);
  return bytes;
}

inline std::string Describe(const FormatCase& format_case, const types::Row& row,
                            size_t first_column) {
  std::string text;
  for (size_t i = 0; i < format_case.columns.size(); ++i) {
    if (format_case.columns[i].skip) continue;
    text += format_case.columns[i].name + "=" + row[first_column + i].DebugString() + " ";
  }
  return text;
}

/// Runs every check of this file's comment on `bytes`.
inline void CheckDecode(FormatCase& format_case, std::string_view bytes) {
  // Column 0 belongs to someone else (the key, when this decodes the value).
  const types::Value other = types::Value::String("not this decoder's column");
  constexpr size_t kFirst = 1;
  types::Row row{other};
  const Status status = format_case.decoder->Decode(bytes, row, kFirst);
  if (row.size() < kFirst + format_case.columns.size() || !(row[0] == other) ||
      row[0].kind() != other.kind()) {
    Fail(format_case, "Decode resized the row wrongly or wrote outside its columns", bytes);
  }
  if (!status.ok() && status.code() != StatusCode::kInvalidArgument) {
    Fail(format_case,
         "Decode failed with a status other than InvalidArgument: " + status.ToString(), bytes);
  }
  if (!status.ok() && status.message().empty()) {
    Fail(format_case, "Decode failed without a message", bytes);
  }
  const std::string first = status.ok() ? Canonical(format_case, row, kFirst) : std::string();

  // Again, into the row it just filled (or half filled, when it failed).
  const Status again = format_case.decoder->Decode(bytes, row, kFirst);
  if (again.ok() != status.ok() || again.message() != status.message()) {
    Fail(format_case,
         "a second Decode of the same bytes gave another status: '" + status.ToString() +
             "', then '" + again.ToString() + "'",
         bytes);
  }
  if (!status.ok()) return;
  if (Canonical(format_case, row, kFirst) != first) {
    Fail(format_case,
         "a second Decode of the same bytes into the reused row gave " +
             Describe(format_case, row, kFirst),
         bytes);
  }

  std::string encoded;
  const Status encode = format_case.encoder->Encode(row, kFirst, encoded);
  if (!encode.ok()) {
    Fail(format_case,
         "a decoded row does not encode: " + encode.ToString() + "; row " +
             Describe(format_case, row, kFirst),
         bytes);
  }
  if (!format_case.round_trip) return;
  types::Row back{other};
  const Status decode_back = format_case.decoder->Decode(encoded, back, kFirst);
  if (!decode_back.ok()) {
    Fail(format_case,
         "the encoding of a decoded row does not decode: " + decode_back.ToString() + "; row " +
             Describe(format_case, row, kFirst) + "; encoded '" + encoded + "'",
         bytes);
  }
  if (Canonical(format_case, back, kFirst) != first) {
    Fail(format_case,
         "decode, encode, decode changed the values: " + Describe(format_case, row, kFirst) +
             "became " + Describe(format_case, back, kFirst) + "; encoded '" + encoded + "'",
         bytes);
  }
}

}  // namespace sidestream::fuzz
