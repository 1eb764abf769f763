#include "vigil/clock.h"

#include <cstdio>

#include "vigil/calendar.h"

namespace vigil {
namespace {

class SystemClock final : public Clock {
 public:
  TimePoint now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  }
};

bool digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) {
    return false;
  }
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

unsigned daysInMonth(int y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

}  // namespace

std::shared_ptr<Clock> systemClock() { return std::make_shared<SystemClock>(); }

std::string formatTime(TimePoint t) {
  long long ms = t.time_since_epoch().count();
  long long day = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  long long rem = ms - day * 86400000;
  int y = 0;
  unsigned m = 0, d = 0;
  ymdFromCivilDay(day, &y, &m, &d);
  char buf[40];
  int h = static_cast<int>(rem / 3600000), mi = static_cast<int>(rem / 60000 % 60);
  int s = static_cast<int>(rem / 1000 % 60), frac = static_cast<int>(rem % 1000);
  if (frac != 0) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d, h, mi, s, frac);
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", y, m, d, h, mi, s);
  }
  return buf;
}

std::optional<TimePoint> parseTime(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  if (!digits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, &mo) || s[7] != '-' ||
      !digits(s, 8, 2, &d)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || static_cast<unsigned>(d) > daysInMonth(y, static_cast<unsigned>(mo))) {
    return std::nullopt;
  }
  size_t pos = 10;
  long long offsetMin = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != ' ') {
      return std::nullopt;
    }
    if (!digits(s, pos + 1, 2, &h) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, &mi)) {
      return std::nullopt;
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!digits(s, pos + 1, 2, &sec)) {
        return std::nullopt;
      }
      pos += 3;
      if (pos < s.size() && s[pos] == '.') {
        size_t start = ++pos;
        int scale = 100;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          if (pos - start < 3) {
            ms += (s[pos] - '0') * scale;
            scale /= 10;
          }
          ++pos;
        }
        if (pos == start) {
          return std::nullopt;
        }
      }
    }
    if (h > 23 || mi > 59 || sec > 59) {
      return std::nullopt;
    }
    if (pos == s.size()) {
      return std::nullopt;  // a time of day needs an explicit zone: UTC "Z" or an offset
    }
    if (s[pos] == 'Z' && pos + 1 == s.size()) {
      pos = s.size();
    } else if ((s[pos] == '+' || s[pos] == '-') && pos + 6 == s.size() && s[pos + 3] == ':') {
      int oh = 0, om = 0;
      if (!digits(s, pos + 1, 2, &oh) || !digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
        return std::nullopt;
      }
      offsetMin = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
      pos = s.size();
    } else {
      return std::nullopt;
    }
  }
  if (pos != s.size()) {
    return std::nullopt;
  }
  long long day = civilDayFromYmd(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  long long total = ((day * 24 + h) * 60 + mi - offsetMin) * 60000LL + sec * 1000LL + ms;
  return TimePoint(std::chrono::milliseconds(total));
}

}  // namespace vigil
