#include <catch2/catch.hpp>

#include "vigil/calendar.h"
#include "vigil/clock.h"

using namespace vigil;

TEST_CASE("civil days round-trip and weekdays are right", "[calendar]") {
  CHECK(civilDayFromYmd(1970, 1, 1) == 0);
  CHECK(weekday(0) == 4);  // a Thursday
  CHECK(weekday(civilDayFromYmd(2026, 11, 26)) == 4);
  CHECK(weekday(civilDayFromYmd(1969, 12, 28)) == 0);
  for (CivilDay d = -800000; d < 800000; d += 997) {
    int y = 0;
    unsigned m = 0, dd = 0;
    ymdFromCivilDay(d, &y, &m, &dd);
    REQUIRE(civilDayFromYmd(y, m, dd) == d);
  }
}

TEST_CASE("working days skip weekends and holidays", "[calendar]") {
  auto cal = Calendar::fromDates({"2026-12-25", "2026-12-28"});
  REQUIRE(cal.isOk());
  CivilDay thu = civilDayFromYmd(2026, 12, 24);
  CHECK(cal->isWorkingDay(thu));
  CHECK_FALSE(cal->isWorkingDay(thu + 1));  // Christmas
  CHECK_FALSE(cal->isWorkingDay(thu + 2));  // Saturday
  CHECK(cal->workingDaysAfter(thu, 1) == civilDayFromYmd(2026, 12, 29));
  CHECK(cal->workingDaysAfter(thu, 2) == civilDayFromYmd(2026, 12, 30));
  CHECK(cal->workingDaysAfter(thu + 2, 0) == civilDayFromYmd(2026, 12, 29));
  CHECK(cal->workingDaysAfter(thu, 0) == thu);
}

TEST_CASE("a bad holiday date is an error naming it", "[calendar]") {
  auto cal = Calendar::fromDates({"2026-02-30"});
  REQUIRE_FALSE(cal.isOk());
  CHECK(cal.status().message() == "holiday '2026-02-30' is not a YYYY-MM-DD date");
}

TEST_CASE("times format and parse as ISO-8601 UTC", "[calendar][time]") {
  auto t = parseTime("2026-11-26T13:48:51Z");
  REQUIRE(t);
  CHECK(formatTime(*t) == "2026-11-26T13:48:51Z");
  CHECK(formatTime(*parseTime("2026-11-26T13:48:51.250Z")) == "2026-11-26T13:48:51.250Z");
  CHECK(formatTime(*parseTime("2026-11-26T14:48:51+01:00")) == "2026-11-26T13:48:51Z");
  CHECK(formatTime(*parseTime("2026-11-26")) == "2026-11-26T00:00:00Z");
  CHECK(formatTime(*parseTime("1969-12-31T23:59:59Z")) == "1969-12-31T23:59:59Z");
  for (const char* bad : {"", "2026-13-01", "2026-02-29", "2026-11-26T25:00:00Z", "2026-11-26T10:00:00",
                          "2026-11-26T10:00Zjunk", "26-11-2026", "2026-11-26T10:00:00+1:00"}) {
    INFO(bad);
    CHECK_FALSE(parseTime(bad).has_value());
  }
}

TEST_CASE("the manual clock only moves when told", "[clock]") {
  ManualClock clock(*parseTime("2026-11-26T09:00:00Z"));
  CHECK(formatTime(clock.now()) == "2026-11-26T09:00:00Z");
  clock.advance(std::chrono::minutes(90));
  CHECK(formatTime(clock.now()) == "2026-11-26T10:30:00Z");
}
