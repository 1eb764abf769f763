// The plugin protocol's messages (plugins/PROTOCOL.md): building vigil's lines and
// checking the plugin's. Pure functions, no I/O; error messages describe what is wrong
// with a line without ever quoting it (a plugin's output may hold personal data).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/connector.h"
#include "vigil/status.h"

namespace vigil::plugin {

constexpr int kProtocolVersion = 1;
constexpr int kMaxConcurrency = 64;  // a higher declaration is capped, not refused

struct Hello {
  std::string name;
  std::vector<ActionSpec> actions;
  int maxConcurrency = 1;
};

// vigil's hello line, newline included.
std::string helloLine();

// The plugin's hello. invalidArgument saying what is missing or wrong, including a
// protocol version other than kProtocolVersion.
Result<Hello> parseHello(std::string_view line);

// One call line, newline included. `budget` is the time the plugin has left (deadline_ms).
// Input that is not valid UTF-8 is replaced, not refused: the line must always be JSON.
std::string callLine(std::uint64_t id, const ConnectorCall& call, std::chrono::milliseconds budget);

// The plugin's answer to call `id`: the outcome it reports (success, or its own failure),
// or invalidArgument when the line breaks the protocol (not JSON, wrong type or id, ...).
Result<CallOutcome> parseResult(std::string_view line, std::uint64_t id);

}  // namespace vigil::plugin
