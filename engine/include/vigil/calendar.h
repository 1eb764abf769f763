// Calendar: which days are working days and which hours of them are working hours, in a
// named time zone. Weekends, bank holidays, school terms and office hours are data (areas
// and school calendars differ), so a calendar is built from configuration (area.h), never
// hard-coded. Immutable once built; safe to share across threads.
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <set>
#include <string_view>

#include "vigil/clock.h"
#include "vigil/status.h"
#include "vigil/timezone.h"

namespace vigil {

// A civil date as days since 1970-01-01.
using CivilDay = long long;

CivilDay civilDayFromYmd(int y, unsigned m, unsigned d);
void ymdFromCivilDay(CivilDay day, int* y, unsigned* m, unsigned* d);
// 0 = Sunday .. 6 = Saturday
int weekday(CivilDay day);
// "YYYY-MM-DD" to a day; nothing for anything else (including 2026-02-30).
std::optional<CivilDay> parseDay(std::string_view text);

class Calendar {
 public:
  // Monday to Friday, no holidays, working hours all day, UTC.
  Calendar() = default;

  // `holidays` are "YYYY-MM-DD" dates; an invalid date is an error naming it.
  static Result<Calendar> fromDates(const std::set<std::string_view>& holidays);

  void addHoliday(CivilDay day) { holidays_.insert(day); }
  // Which weekdays (0 = Sunday .. 6 = Saturday) are working days.
  void setWorkingWeekdays(const std::array<bool, 7>& days) { weekdays_ = days; }
  // Working hours of a working day, in minutes after local midnight; start < end <= 1440.
  void setHours(int startMinute, int endMinute) {
    startMinute_ = startMinute;
    endMinute_ = endMinute;
  }
  void setTimeZone(TimeZone zone) { zone_ = std::move(zone); }
  const std::set<CivilDay>& holidays() const { return holidays_; }
  const TimeZone& zone() const { return zone_; }
  int startMinute() const { return startMinute_; }
  int endMinute() const { return endMinute_; }

  bool isWorkingDay(CivilDay day) const;
  // The n-th working day strictly after `day` (n >= 0; n == 0 returns `day` itself when it
  // is a working day, otherwise the next working day).
  CivilDay workingDaysAfter(CivilDay day, long long n) const;

  // The local day `t` falls on in this calendar's zone.
  CivilDay localDay(TimePoint t) const;
  // The instant `minute` minutes after local midnight of `day`.
  TimePoint at(CivilDay day, int minute) const;
  // When working hours next begin strictly after `t` (08:30 on the next school day).
  // Nothing when no working day falls within ten years (a calendar with no working days).
  std::optional<TimePoint> nextOpening(TimePoint t) const;
  // `t` moved on by `d` counting only working hours of working days (4 working hours
  // from Friday 15:00 with 09:00-17:00 hours is Monday 11:00). Nothing past ten years.
  std::optional<TimePoint> addWorkingTime(TimePoint t, std::chrono::milliseconds d) const;

 private:
  std::set<CivilDay> holidays_;
  std::array<bool, 7> weekdays_ = {false, true, true, true, true, true, false};
  int startMinute_ = 0;
  int endMinute_ = 24 * 60;
  TimeZone zone_ = TimeZone::utc();
};

}  // namespace vigil
