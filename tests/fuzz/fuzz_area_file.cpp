// Fuzzes area files (loadAreaText, the loader `vigil serve`, `vigil validate` and replay
// from a bundle use: the hardened YAML check, calendars with their zones, working days,
// hours, holidays, date ranges and includes, and timescales), then uses what it loaded as
// runs do: working days and hours in each calendar, and every timescale's deadlines and
// description, from a few fixed instants (a weekday, a weekend night, a bank holiday, the
// end of British Summer Time). Zones are read from /usr/share/zoneinfo.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "area_file.h"
#include "fuzz_support.h"
#include "vigil/clock.h"

namespace {

const std::vector<vigil::TimePoint>& instants() {
  static const std::vector<vigil::TimePoint> kAt = {
      *vigil::parseTime("2026-11-26T09:30:00Z"), *vigil::parseTime("2026-11-28T23:59:00Z"),
      *vigil::parseTime("2026-12-25T12:00:00Z"), *vigil::parseTime("2026-10-25T00:30:00Z")};
  return kAt;
}

void useCalendar(const vigil::Calendar& c) {
  using namespace std::chrono_literals;
  // The most working_days_after() allows, once; small counts from every instant.
  (void)c.workingDaysAfter(c.localDay(instants().front()), 3660);
  for (const auto t : instants()) {
    const vigil::CivilDay day = c.localDay(t);
    (void)c.isWorkingDay(day);
    for (long long n : {0LL, 1LL, 20LL}) (void)c.workingDaysAfter(day, n);
    (void)c.at(day, c.startMinute());
    (void)c.nextOpening(t);
    for (auto d : {std::chrono::milliseconds(1h), std::chrono::milliseconds(7h + 30min), std::chrono::milliseconds(100h)}) {
      (void)c.addWorkingTime(t, d);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto loaded = vigil::daemon::loadAreaText(text, "fuzz-area.yaml");
  if (!loaded) {
    vigil::fuzz::require(loaded.status().message().rfind("fuzz-area.yaml:", 0) == 0, "a problem names the file");
    return 0;
  }
  const vigil::Area& area = **loaded;
  vigil::fuzz::require(area.hash.size() == 64, "an area read from text has its hash");
  for (const auto& [name, calendar] : area.calendars) useCalendar(calendar);
  if (const vigil::Calendar* c = area.calendar("")) useCalendar(*c);
  for (const auto& [name, timescale] : area.timescales) {
    (void)area.describe(name);
    vigil::fuzz::require(area.calendar(timescale.calendar) != nullptr, "a timescale's calendar exists");
    for (const auto& [band, target] : timescale.targets) {
      for (const auto t : instants()) (void)area.deadline(name, band, t);
    }
    (void)area.deadline(name, "NO-SUCH-BAND", instants().front());
  }
  return 0;
}
