#include "vigil/cron.h"

#include <array>
#include <charconv>
#include <vector>

#include "vigil/calendar.h"

namespace vigil {
namespace {

struct FieldSpec {
  const char* name;
  int lo;
  int hi;
  const char* const* names;  // optional, index 0 = lo
};

const char* const kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", nullptr};
const char* const kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", nullptr};

constexpr FieldSpec kFields[] = {
    {"minute", 0, 59, nullptr}, {"hour", 0, 23, nullptr}, {"day of month", 1, 31, nullptr},
    {"month", 1, 12, kMonthNames}, {"day of week", 0, 7, kDayNames},
};

bool parseValue(std::string_view s, const FieldSpec& f, int* out) {
  if (s.empty()) {
    return false;
  }
  if (f.names != nullptr && s.size() == 3) {
    for (int i = 0; f.names[i] != nullptr; ++i) {
      std::string lower(s);
      for (char& c : lower) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      if (lower == f.names[i]) {
        *out = f.lo + i;
        return true;
      }
    }
  }
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Parses one field into `bits` (indexed by value); returns an error text or "".
std::string parseField(std::string_view text, const FieldSpec& f, std::vector<bool>& bits) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) {
      return std::string("empty item in the ") + f.name + " field";
    }
    int step = 1;
    size_t slash = item.find('/');
    std::string_view range = item.substr(0, slash);
    if (slash != std::string_view::npos) {
      std::string_view st = item.substr(slash + 1);
      auto r = std::from_chars(st.data(), st.data() + st.size(), step);
      if (st.empty() || r.ec != std::errc() || r.ptr != st.data() + st.size() || step < 1 || step > f.hi) {
        return "bad step '" + std::string(st) + "' in the " + f.name + " field";
      }
    }
    int lo = f.lo, hi = f.hi;
    if (range != "*") {
      size_t dash = range.find('-');
      if (!parseValue(range.substr(0, dash), f, &lo)) {
        return "'" + std::string(range.substr(0, dash)) + "' is not a valid " + f.name;
      }
      hi = lo;
      if (dash != std::string_view::npos) {
        if (!parseValue(range.substr(dash + 1), f, &hi)) {
          return "'" + std::string(range.substr(dash + 1)) + "' is not a valid " + f.name;
        }
      } else if (slash != std::string_view::npos) {
        hi = f.hi;
      }
      if (lo < f.lo || lo > f.hi || hi < f.lo || hi > f.hi) {
        return std::string(f.name) + " must be between " + std::to_string(f.lo) + " and " + std::to_string(f.hi);
      }
      if (lo > hi) {
        return "range " + std::string(range) + " in the " + f.name + " field runs backwards";
      }
    }
    for (int v = lo; v <= hi; v += step) {
      bits[static_cast<size_t>(v)] = true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  return "";
}

}  // namespace

std::optional<CronSchedule> CronSchedule::parse(std::string_view text, std::string* error, size_t* errorOffset) {
  std::vector<std::pair<std::string_view, size_t>> fields;
  size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ') {
      ++pos;
    }
    size_t start = pos;
    while (pos < text.size() && text[pos] != ' ') {
      ++pos;
    }
    if (pos > start) {
      fields.emplace_back(text.substr(start, pos - start), start);
    }
  }
  if (fields.size() != 5) {
    *error = "cron expression needs 5 fields (minute hour day-of-month month day-of-week), found " +
             std::to_string(fields.size());
    *errorOffset = 0;
    return std::nullopt;
  }
  CronSchedule c;
  for (size_t i = 0; i < 5; ++i) {
    std::vector<bool> bits(static_cast<size_t>(kFields[i].hi + 1), false);
    std::string err = parseField(fields[i].first, kFields[i], bits);
    if (!err.empty()) {
      *error = err;
      *errorOffset = fields[i].second;
      return std::nullopt;
    }
    for (size_t v = 0; v < bits.size(); ++v) {
      if (!bits[v]) {
        continue;
      }
      switch (i) {
        case 0: c.minutes_.set(v); break;
        case 1: c.hours_.set(v); break;
        case 2: c.daysOfMonth_.set(v); break;
        case 3: c.months_.set(v); break;
        default: c.daysOfWeek_.set(v % 7); break;  // 7 is Sunday too
      }
    }
  }
  c.domRestricted_ = fields[2].first != "*";
  c.dowRestricted_ = fields[4].first != "*";
  return c;
}

std::optional<TimePoint> CronSchedule::next(TimePoint after, const TimeZone* zone) const {
  // Walk UTC minutes, reading each in the zone; skip ahead by the local day or hour when
  // that field cannot match, so even a schedule that never fires costs few steps.
  long long minute = after.time_since_epoch().count() / 60000 + 1;
  if (after.time_since_epoch().count() < 0 && after.time_since_epoch().count() % 60000 != 0) --minute;
  const long long limit = minute + 5LL * 366 * 24 * 60;
  while (minute < limit) {
    long long offsetMin = zone == nullptr ? 0 : zone->offsetAt(TimePoint(std::chrono::minutes(minute))).count() / 60;
    long long local = minute + offsetMin;
    CivilDay day = local >= 0 ? local / 1440 : -((-local + 1439) / 1440);
    long long inDay = local - day * 1440;
    int y = 0;
    unsigned m = 0, d = 0;
    ymdFromCivilDay(day, &y, &m, &d);
    bool domOk = daysOfMonth_.test(d);
    bool dowOk = daysOfWeek_.test(static_cast<size_t>(weekday(day)));
    // Classic cron: when both day fields are restricted, either may match.
    bool dayOk = domRestricted_ && dowRestricted_ ? (domOk || dowOk) : (domOk && dowOk);
    if (!months_.test(m) || !dayOk || !hours_.test(static_cast<size_t>(inDay / 60))) {
      minute += 60 - inDay % 60;  // to the next local hour: offsets change on hour boundaries
      continue;
    }
    if (!minutes_.test(static_cast<size_t>(inDay % 60))) {
      ++minute;
      continue;
    }
    return TimePoint(std::chrono::milliseconds(minute * 60000));
  }
  return std::nullopt;
}

}  // namespace vigil
