#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace sidestream {

/// The value of a hexadecimal digit, or -1 when `c` is not one.
int HexDigit(char c);

/// `text` with its %XX escapes decoded; `plus_is_space` as java.net.URLDecoder does (form
/// values), else '+' stays. InvalidArgument naming the text for a broken escape.
Result<std::string> PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace sidestream
