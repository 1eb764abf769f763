// Clock: the only source of time in the engine.
//
// Everything that reads time (expressions' now(), timers, SLAs) takes a Clock so tests
// drive time explicitly and replay reads recorded time. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace vigil {

using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time (UTC), millisecond resolution.
  virtual TimePoint now() const = 0;
};

// The real clock.
std::shared_ptr<Clock> systemClock();

// A clock that only moves when told to; for tests and replay. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint(std::chrono::milliseconds(now_.load())); }
  void set(TimePoint t) { now_.store(t.time_since_epoch().count()); }
  void advance(std::chrono::milliseconds d) { now_.fetch_add(d.count()); }

 private:
  std::atomic<long long> now_;
};

// ISO-8601 UTC text ("2026-11-26T13:48:51Z", with ".123" when milliseconds are set) and back.
std::string formatTime(TimePoint t);
// Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]" with "Z" or "+HH:MM"/"-HH:MM" offsets.
std::optional<TimePoint> parseTime(std::string_view text);

}  // namespace vigil
