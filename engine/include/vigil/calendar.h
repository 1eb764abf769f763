// HolidayCalendar: which days are working days. Weekends and holidays are data (areas and
// school calendars differ), so the calendar is built from configuration, never hard-coded.
// Immutable after construction; safe to share across threads.
#pragma once

#include <set>
#include <string_view>

#include "vigil/status.h"

namespace vigil {

// A civil date as days since 1970-01-01.
using CivilDay = long long;

CivilDay civilDayFromYmd(int y, unsigned m, unsigned d);
void ymdFromCivilDay(CivilDay day, int* y, unsigned* m, unsigned* d);
// 0 = Sunday .. 6 = Saturday
int weekday(CivilDay day);

class HolidayCalendar {
 public:
  // Saturdays and Sundays off, no holidays.
  HolidayCalendar() = default;

  // `holidays` are "YYYY-MM-DD" dates; an invalid date is an error naming it.
  static Result<HolidayCalendar> fromDates(const std::set<std::string_view>& holidays);

  void addHoliday(CivilDay day) { holidays_.insert(day); }
  bool isWorkingDay(CivilDay day) const;
  // The n-th working day strictly after `day` (n >= 0; n == 0 returns `day` itself when it
  // is a working day, otherwise the next working day).
  CivilDay workingDaysAfter(CivilDay day, long long n) const;

 private:
  std::set<CivilDay> holidays_;
};

}  // namespace vigil
