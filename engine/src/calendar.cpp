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

std::optional<CivilDay> parseDay(std::string_view text) {
  auto t = text.size() == 10 ? parseTime(text) : std::nullopt;
  if (!t) return std::nullopt;
  return t->time_since_epoch().count() / 86400000;
}

Result<Calendar> Calendar::fromDates(const std::set<std::string_view>& holidays) {
  Calendar cal;
  for (auto text : holidays) {
    auto day = parseDay(text);
    if (!day) {
      return Status::invalidArgument("holiday '" + std::string(text) + "' is not a YYYY-MM-DD date");
    }
    cal.addHoliday(*day);
  }
  return cal;
}

bool Calendar::isWorkingDay(CivilDay day) const { return weekdays_[weekday(day)] && holidays_.count(day) == 0; }

CivilDay Calendar::workingDaysAfter(CivilDay day, long long n) const {
  // Ten years without a working day means a calendar that has none: stop rather than spin.
  const CivilDay limit = day + 3660 + n * 7;
  if (n == 0) {
    while (!isWorkingDay(day) && day < limit) {
      ++day;
    }
    return day;
  }
  while (n > 0 && day < limit) {
    ++day;
    if (isWorkingDay(day)) {
      --n;
    }
  }
  return day;
}

namespace {
constexpr long long kMsPerDay = 86400000;
constexpr CivilDay kSearchDays = 3660;

long long floorDiv(long long a, long long b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

CivilDay Calendar::localDay(TimePoint t) const {
  auto local = t.time_since_epoch().count() + std::chrono::duration_cast<std::chrono::milliseconds>(zone_.offsetAt(t)).count();
  return floorDiv(local, kMsPerDay);
}

TimePoint Calendar::at(CivilDay day, int minute) const {
  // Local wall time to UTC: take the offset in force at the naive guess, then at the
  // corrected instant (right on both sides of a daylight-saving change but the skipped hour).
  TimePoint naive{std::chrono::milliseconds(day * kMsPerDay + minute * 60000LL)};
  TimePoint guess = naive - zone_.offsetAt(naive);
  return naive - zone_.offsetAt(guess);
}

std::optional<TimePoint> Calendar::nextOpening(TimePoint t) const {
  for (CivilDay day = localDay(t), end = day + kSearchDays; day <= end; ++day) {
    if (!isWorkingDay(day)) continue;
    TimePoint open = at(day, startMinute_);
    if (open > t) return open;
  }
  return std::nullopt;
}

std::optional<TimePoint> Calendar::addWorkingTime(TimePoint t, std::chrono::milliseconds d) const {
  for (CivilDay day = localDay(t), end = day + kSearchDays; day <= end; ++day) {
    if (!isWorkingDay(day)) continue;
    TimePoint open = std::max(t, at(day, startMinute_));
    TimePoint close = at(day, endMinute_);
    if (open >= close) continue;
    if (d <= close - open) return open + d;
    d -= std::chrono::duration_cast<std::chrono::milliseconds>(close - open);
  }
  return std::nullopt;
}

}  // namespace vigil
