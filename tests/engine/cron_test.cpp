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
