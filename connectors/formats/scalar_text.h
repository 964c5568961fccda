#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "types/sql_type.h"
#include "types/value.h"

/// The text forms of scalar SQL values that the message formats share: strict parsers for
/// numeric strings, ISO dates and times and base64, and Java's Double.toString.
/// All functions are pure and thread-safe.
namespace sidestream::formats {

/// Parses a Java-style integer ("42", "-7", "+3"): digits only, no spaces, no fraction.
/// Returns false when the text is not one or does not fit 64 bits.
bool ParseInteger(std::string_view text, int64_t& out);

/// Parses what Java's Double.valueOf accepts in practice: a decimal or scientific number,
/// optionally signed and surrounded by spaces, or NaN / Infinity / -Infinity.
bool ParseDouble(std::string_view text, double& out);

/// Parses decimal text ("12.50", "-.5", "1e3") exactly and fits it to DECIMAL(precision,
/// scale), rounding half up when it has more fraction digits. Returns InvalidArgument
/// saying the problem (not the column) when the text is not a number or overflows.
Status ParseDecimal(std::string_view text, int precision, int scale, types::Decimal& out);

/// Parses an ISO-8601 timestamp ("2024-01-15T10:00:00.123Z", offsets and a space
/// separator accepted; no zone means UTC) into ms since the epoch.
bool ParseTimestamp(std::string_view text, int64_t& out);
/// Parses "yyyy-MM-dd" into days since the epoch.
bool ParseDate(std::string_view text, int32_t& out);
/// Parses "HH:mm[:ss[.SSS]]" into ms since midnight.
bool ParseTime(std::string_view text, int32_t& out);

/// Appends `value` as Java's Double.toString writes it: 1.0, 0.001, 1.2E7, 4.9E-324, NaN.
void AppendJavaDouble(double value, std::string& out);
/// The same from the scientific digits, for every magnitude: AppendJavaDouble's fallback,
/// and what tests check its fast plain-notation path against.
void AppendJavaDoubleGeneral(double value, std::string& out);
/// Convenience form of AppendJavaDouble.
std::string JavaDoubleString(double value);

/// Appends standard base64 (with padding) of `bytes`.
void AppendBase64(std::string_view bytes, std::string& out);
/// Decodes standard base64 (padding optional). Returns false on any other character.
bool DecodeBase64(std::string_view text, std::string& out);

/// Appends the plain text of a scalar value as DELIMITED and JSON map keys write it
/// (NULL writes nothing). Nested values write their debug form.
void AppendScalarText(const types::Value& value, std::string& out);

/// Parses `text` as a scalar of `type` with the rules above (numeric strings, ISO forms,
/// base64 for BYTES, true/false for BOOLEAN). Returns InvalidArgument naming the type and
/// the text ("expected INTEGER but got 'abc'"), without the column.
Status ParseScalarText(std::string_view text, const types::SqlType& type, types::Value& out);

/// "'text'" cut to a readable length, for error messages.
std::string QuoteForError(std::string_view text);

/// InvalidArgument naming `format` when `text` is not valid UTF-8: a
/// STRING column holds text, and every output format (JSON first) must be able to carry it.
Status CheckUtf8(std::string_view text, std::string_view format);
/// Whether `text` is valid UTF-8 (simdjson's validator: gigabytes a second).
bool IsUtf8(std::string_view text);

}  // namespace sidestream::formats
