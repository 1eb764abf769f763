// Loggers for the vigil binary: text or one JSON object per line, always to stderr so
// command output on stdout stays machine-readable.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace vigil::daemon {

enum class LogFormat { kText, kJson };

// Parses "text" or "json"; false otherwise.
bool parseLogFormat(const std::string& text, LogFormat* out);

// A logger named `name` writing to stderr in `format` at `level` ("info", "debug", ...).
std::shared_ptr<spdlog::logger> makeLogger(const std::string& name, LogFormat format, const std::string& level);

}  // namespace vigil::daemon
