#include "vigil/duration.h"

namespace vigil {
namespace {

struct Unit {
  std::string_view name;
  long long ms;
};
// Longest names first so "ms" is not read as "m".
constexpr Unit kUnits[] = {{"w", 604800000LL}, {"d", 86400000LL}, {"h", 3600000LL},
                           {"m", 60000LL},     {"s", 1000LL},     {"ms", 1LL}};
constexpr long long kMaxMs = 366LL * 86400000LL;

}  // namespace

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  long long total = 0;
  size_t pos = 0;
  int lastUnit = -1;
  while (pos < text.size()) {
    size_t start = pos;
    long long n = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      n = n * 10 + (text[pos] - '0');
      if (n > kMaxMs) {
        return std::nullopt;
      }
      ++pos;
    }
    if (pos == start) {
      return std::nullopt;
    }
    int unit = -1;
    if (text.substr(pos, 2) == "ms") {
      unit = 5;
    } else if (pos < text.size()) {
      for (int i = 0; i < 5; ++i) {
        if (text[pos] == kUnits[i].name[0]) {
          unit = i;
        }
      }
    }
    if (unit < 0 || unit <= lastUnit) {
      return std::nullopt;
    }
    pos += kUnits[unit].name.size();
    lastUnit = unit;
    total += n * kUnits[unit].ms;
    if (total > kMaxMs) {
      return std::nullopt;
    }
  }
  return std::chrono::milliseconds(total);
}

std::string formatDuration(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms == 0) {
    return "0s";
  }
  std::string out;
  for (const auto& u : kUnits) {
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms) + std::string(u.name);
      ms %= u.ms;
    }
  }
  return out;
}

}  // namespace vigil
