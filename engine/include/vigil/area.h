// Area: the timescales a MASH works to and the calendars they are counted in. Areas differ
// (one rates RED/AMBER/GREEN with 2/6/24-hour decision targets, another 4/24/72 working
// hours), so all of it is data read from an area file (daemon: `area:` in the
// configuration), and workflows reach it through expression functions: sla_deadline(),
// timescale(), next_opening(), working_time_add(), working_days_after().
// Immutable once built; safe to share across threads.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "vigil/calendar.h"
#include "vigil/status.h"

namespace vigil {

struct Timescale {
  struct Target {
    std::chrono::milliseconds within{0};
    bool working = false;  // counted in working hours (pauses outside them), else round the clock
  };
  std::string calendar;                  // "" for the area's default
  std::map<std::string, Target> targets;  // by band
  // A statutory ceiling: no deadline later than this many working days after the start.
  std::optional<int> maxWorkingDays;
  // Repeat referrals: `count` referrals about the same child within `within` escalate.
  std::optional<int> repeatCount;
  std::chrono::milliseconds repeatWithin{0};
};

class Area {
 public:
  std::string name = "default";
  std::string hash;  // SHA-256 (hex) of the area file it was read from; "" when built in code
  std::string defaultCalendar;  // "" when only the built-in Monday-to-Friday calendar exists
  std::map<std::string, Calendar> calendars;
  std::map<std::string, Timescale> timescales;

  // "" names the default calendar. Unknown names: nullptr.
  const Calendar* calendar(const std::string& name) const;
  // When a decision of `band` started at `start` is due under `timescale`. Errors name the
  // timescale or band that is missing (never a value of the run).
  Result<TimePoint> deadline(const std::string& timescale, const std::string& band, TimePoint start) const;
  // The timescale as data for expressions: {calendar, targets: {RED: {within, seconds,
  // clock}}, max_working_days, repeat_referrals: {count, within, seconds}}.
  Result<nlohmann::json> describe(const std::string& timescale) const;

 private:
  Calendar builtin_;
};

}  // namespace vigil
