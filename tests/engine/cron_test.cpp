#include <catch2/catch.hpp>

#include "vigil/cron.h"

using namespace vigil;

namespace {

CronSchedule mustParse(const char* text) {
  std::string err;
  size_t off = 0;
  auto c = CronSchedule::parse(text, &err, &off);
  INFO(text << ": " << err);
  REQUIRE(c.has_value());
  return *c;
}

std::string nextAfter(const char* cron, const char* after) {
  auto n = mustParse(cron).next(*parseTime(after));
  return n ? formatTime(*n) : "none";
}

}  // namespace

TEST_CASE("cron schedules find the next matching minute", "[cron]") {
  CHECK(nextAfter("* * * * *", "2026-11-26T09:00:30Z") == "2026-11-26T09:01:00Z");
  CHECK(nextAfter("0 7 * * 1-5", "2026-11-27T08:00:00Z") == "2026-11-30T07:00:00Z");  // Fri -> Mon
  CHECK(nextAfter("*/15 * * * *", "2026-11-26T09:14:00Z") == "2026-11-26T09:15:00Z");
  CHECK(nextAfter("30 8 1 jan *", "2026-11-26T00:00:00Z") == "2027-01-01T08:30:00Z");
  CHECK(nextAfter("0 0 * * sun", "2026-11-26T00:00:00Z") == "2026-11-29T00:00:00Z");
  CHECK(nextAfter("0 0 * * 7", "2026-11-26T00:00:00Z") == "2026-11-29T00:00:00Z");
  CHECK(nextAfter("0 12 29 2 *", "2026-03-01T00:00:00Z") == "2028-02-29T12:00:00Z");
  CHECK(nextAfter("0 0 31 2 *", "2026-01-01T00:00:00Z") == "none");
  // Both day fields restricted: either matches (classic cron).
  CHECK(nextAfter("0 0 1 * mon", "2026-11-26T00:00:00Z") == "2026-11-30T00:00:00Z");
}

TEST_CASE("bad cron expressions say what and where", "[cron]") {
  struct Case {
    const char* text;
    const char* error;
    size_t offset;
  };
  const Case cases[] = {
      {"* * * *", "cron expression needs 5 fields (minute hour day-of-month month day-of-week), found 4", 0},
      {"61 * * * *", "minute must be between 0 and 59", 0},
      {"0 24 * * *", "hour must be between 0 and 23", 2},
      {"0 0 0 * *", "day of month must be between 1 and 31", 4},
      {"0 0 * 13 *", "month must be between 1 and 12", 6},
      {"0 0 * * 8", "day of week must be between 0 and 7", 8},
      {"*/0 * * * *", "bad step '0' in the minute field", 0},
      {"5-1 * * * *", "range 5-1 in the minute field runs backwards", 0},
      {"0 0 * foo *", "'foo' is not a valid month", 6},
      {"1,,2 * * * *", "empty item in the minute field", 0},
      {"* * * * * *", "cron expression needs 5 fields (minute hour day-of-month month day-of-week), found 6", 0},
  };
  for (const auto& c : cases) {
    std::string err;
    size_t off = 99;
    INFO(c.text);
    CHECK_FALSE(CronSchedule::parse(c.text, &err, &off).has_value());
    CHECK(err == c.error);
    CHECK(off == c.offset);
  }
}

TEST_CASE("time zones come from the system's TZif files", "[cron][timezone]") {
  auto london = TimeZone::load("Europe/London");
  REQUIRE(london.isOk());
  CHECK(london->offsetAt(*parseTime("2026-07-01T12:00:00Z")) == std::chrono::hours(1));
  CHECK(london->offsetAt(*parseTime("2026-12-01T12:00:00Z")) == std::chrono::hours(0));
  CHECK(TimeZone::utc().offsetAt(*parseTime("2026-07-01T12:00:00Z")) == std::chrono::seconds(0));
  CHECK(TimeZone::load("../../etc/passwd").status().message() == "'../../etc/passwd' is not a time zone name such as Europe/London");
  CHECK(TimeZone::load("Nowhere/Atlantis").status().message() == "unknown time zone 'Nowhere/Atlantis'");
  auto kolkata = TimeZone::load("Asia/Kolkata");
  REQUIRE(kolkata.isOk());
  CHECK(kolkata->offsetAt(*parseTime("2026-07-01T12:00:00Z")) == std::chrono::minutes(330));
}

TEST_CASE("cron schedules read in a time zone follow daylight saving", "[cron][timezone]") {
  auto london = TimeZone::load("Europe/London");
  REQUIRE(london.isOk());
  auto next = [&](const char* cron, const char* after) {
    std::string err;
    size_t off = 0;
    auto c = CronSchedule::parse(cron, &err, &off);
    REQUIRE(c);
    auto n = c->next(*parseTime(after), &*london);
    return n ? formatTime(*n) : std::string("none");
  };
  CHECK(next("0 7 * * *", "2026-07-01T00:00:00Z") == "2026-07-01T06:00:00Z");  // 07:00 BST
  CHECK(next("0 7 * * *", "2026-12-01T00:00:00Z") == "2026-12-01T07:00:00Z");  // 07:00 GMT
  // 01:30 does not exist in London on 2027-03-28 (clocks go from 01:00 to 02:00).
  CHECK(next("30 1 * * *", "2027-03-27T02:00:00Z") == "2027-03-29T00:30:00Z");
  auto kolkata = TimeZone::load("Asia/Kolkata");
  std::string err;
  size_t off = 0;
  auto c = CronSchedule::parse("0 9 * * *", &err, &off);
  CHECK(formatTime(*c->next(*parseTime("2026-07-01T00:00:00Z"), &*kolkata)) == "2026-07-01T03:30:00Z");
}
