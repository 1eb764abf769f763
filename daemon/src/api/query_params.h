// Query parameters as the API's handlers read them, so that every route that takes a date
// or a count takes it the same way. Each returns nullopt for text it does not accept; the
// handler answers 400 naming the parameter.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vigil/clock.h"

namespace vigil::daemon {

// A bound given as a date ("2026-12-01": the whole of that UTC day) or as a UTC time
// ("2026-12-01T09:30:00Z", or with an offset).
struct DateOrTime {
  TimePoint start;        // the time, or the day's first instant
  bool wholeDay = false;  // given as a date
  // The exclusive end of what it names: the next day's first instant for a date (a `to=`
  // date takes in its whole day), the time itself for a time.
  TimePoint end() const { return wholeDay ? start + std::chrono::hours(24) : start; }
};

inline std::optional<DateOrTime> parseDateOrTime(std::string_view text) {
  const bool date = text.size() == 10;
  auto t = parseTime(date ? std::string(text) + "T00:00:00Z" : std::string(text));
  if (!t) return std::nullopt;
  return DateOrTime{*t, date};
}

// A whole number written in decimal digits only (no sign, spaces or suffix), from `min` to
// `max`.
inline std::optional<uint64_t> parseCount(std::string_view text, uint64_t min, uint64_t max) {
  uint64_t n = 0;
  if (text.empty() || text.size() > 20) return std::nullopt;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (error != std::errc() || end != text.data() + text.size() || n < min || n > max) return std::nullopt;
  return n;
}

}  // namespace vigil::daemon
