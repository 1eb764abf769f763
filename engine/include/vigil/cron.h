// Cron schedules for workflow triggers: five fields, minute hour day-of-month month
// day-of-week, in UTC. Each field takes `*`, numbers, ranges `a-b`, steps `*/n` and
// `a-b/n`, comma lists, and month (jan..dec) and weekday (sun..sat) names.
#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <string_view>

#include "vigil/clock.h"
#include "vigil/timezone.h"

namespace vigil {

class CronSchedule {
 public:
  // Parses `text`; on failure returns nullopt and sets `error` to what is wrong and
  // `errorOffset` to the 0-based character offset of the bad field.
  static std::optional<CronSchedule> parse(std::string_view text, std::string* error,
                                           size_t* errorOffset);

  // The first time strictly after `after` that matches, read in `zone` (UTC by default),
  // or nullopt when none exists within the next five years (for example "0 0 31 2 *").
  // In a zone with daylight saving, a local time that does not exist that day is skipped
  // and one that happens twice matches twice, as in classic cron.
  std::optional<TimePoint> next(TimePoint after, const TimeZone* zone = nullptr) const;

 private:
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> daysOfMonth_;  // 1..31
  std::bitset<13> months_;       // 1..12
  std::bitset<7> daysOfWeek_;    // 0 = Sunday
  bool domRestricted_ = false;
  bool dowRestricted_ = false;
};

}  // namespace vigil
