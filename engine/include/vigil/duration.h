// Durations as written in workflows: "30s", "1h30m", "500ms", "2d".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

// Parses one or more <digits><unit> groups, units ms, s, m, h, d, w, in descending order,
// each unit at most once. Returns nullopt for anything else (empty, negative, unknown unit,
// a total above 366 days).
std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);

// Shortest text that parseDuration reads back to the same value ("1h30m", "0s").
std::string formatDuration(std::chrono::milliseconds d);

}  // namespace vigil
