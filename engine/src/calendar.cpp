#include "vigil/calendar.h"

#include "vigil/clock.h"

namespace vigil {

// Howard Hinnant's days-from-civil algorithm (public domain), proleptic Gregorian.
CivilDay civilDayFromYmd(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

void ymdFromCivilDay(CivilDay z, int* y, unsigned* m, unsigned* d) {
  z += 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int>(yoe + era * 400 + (*m <= 2));
}

int weekday(CivilDay day) { return static_cast<int>(day >= -4 ? (day + 4) % 7 : (day + 5) % 7 + 6); }

Result<HolidayCalendar> HolidayCalendar::fromDates(const std::set<std::string_view>& holidays) {
  HolidayCalendar cal;
  for (auto text : holidays) {
    auto t = text.size() == 10 ? parseTime(text) : std::nullopt;
    if (!t) {
      return Status::invalidArgument("holiday '" + std::string(text) + "' is not a YYYY-MM-DD date");
    }
    cal.addHoliday(t->time_since_epoch().count() / 86400000);
  }
  return cal;
}

bool HolidayCalendar::isWorkingDay(CivilDay day) const {
  int wd = weekday(day);
  return wd != 0 && wd != 6 && holidays_.count(day) == 0;
}

CivilDay HolidayCalendar::workingDaysAfter(CivilDay day, long long n) const {
  if (n == 0) {
    while (!isWorkingDay(day)) {
      ++day;
    }
    return day;
  }
  while (n > 0) {
    ++day;
    if (isWorkingDay(day)) {
      --n;
    }
  }
  return day;
}

}  // namespace vigil
