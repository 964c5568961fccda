#pragma once

#include <string_view>

#include "common/status.h"

namespace sidestream {

/// Sets up the process's log (spdlog's default logger, to stderr): `level` is trace, debug,
/// info, warn, error or off; `format` is "text" (a time, the level and the message per line)
/// or "json" (one object per line: time, level, logger, message; for log collectors).
/// InvalidArgument names a bad level or format. Library code logs with spdlog::info(...) and
/// friends; librdkafka's own lines come through kafka::ClientConfig, prefixed "kafka".
Status ConfigureLogging(std::string_view level, std::string_view format);

}  // namespace sidestream
