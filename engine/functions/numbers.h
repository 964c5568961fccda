#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "types/value.h"

/// Exact decimal arithmetic and ksqlDB's text for numbers, shared by the evaluator's
/// CAST and arithmetic, the scalar functions and the aggregates.
namespace sidestream::functions {

/// 10^exponent as a 128-bit integer. Precondition: 0 <= exponent <= 38.
__int128 PowerOfTen(int exponent);

/// Changes the scale of `unscaled` (at `from_scale`) to `to_scale`, rounding HALF_UP
/// (away from zero on a tie), as Java's BigDecimal.setScale(scale, HALF_UP).
__int128 RescaleHalfUp(__int128 unscaled, int from_scale, int to_scale);

/// Divides a by b (both unscaled integers) rounding HALF_UP. Precondition: b != 0.
__int128 DivideHalfUp(__int128 a, __int128 b);

/// The number of decimal digits in |unscaled| (1 for zero).
int DigitCount(__int128 unscaled);

/// Parses a decimal number ("-12.50", "1e3", " 7 ") as Java's BigDecimal(String) does,
/// keeping the written scale. InvalidArgument when the text is not a number.
Result<types::Decimal> ParseDecimal(std::string_view text);

/// Java's Double.toString: "1.0", "100.0", "1.2E7", "4.9E-324", "NaN", "Infinity".
std::string JavaDoubleString(double value);

/// Java's BigDecimal.valueOf(double): the decimal whose digits are the shortest text that
/// reads back as `value`. InvalidArgument for NaN and infinities.
Result<types::Decimal> DecimalFromDouble(double value);

/// A value of any numeric kind as a double, and as an exact decimal (INT and BIGINT get
/// scale 0; DOUBLE goes through DecimalFromDouble).
double NumberAsDouble(const types::Value& value);
Result<types::Decimal> NumberAsDecimal(const types::Value& value);

}  // namespace sidestream::functions
