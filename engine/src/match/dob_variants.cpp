// Date of birth variants and comparison (see person_match.h and dob.h).
#include <algorithm>
#include <cstdio>
#include <functional>
#include <numeric>

#include "dob.h"
#include "person_match.h"

namespace vigil::match {
namespace detail {
namespace {

// The years a date of birth may fall in. A wider range would send force systems searches
// for children born in 1015 or 9015, one digit away from 2015.
constexpr int kFirstYear = 1900;
constexpr int kLastYear = 2099;

bool isLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int daysIn(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && isLeap(year) ? 29 : kDays[month - 1];
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

std::string format(const Dob& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

}  // namespace

std::optional<Dob> parseDob(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') {
    return std::nullopt;
  }
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!isDigit(t[i])) {
      return std::nullopt;
    }
  }
  auto num = [&](size_t at, size_t len) {
    int v = 0;
    for (size_t i = at; i < at + len; ++i) {
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  Dob d{num(0, 4), num(5, 2), num(8, 2)};
  if (d.year < kFirstYear || d.year > kLastYear || d.month < 1 || d.month > 12 || d.day < 1 ||
      d.day > daysIn(d.year, d.month)) {
    return std::nullopt;
  }
  return d;
}

DobAgreement compareDobs(std::string_view a, std::string_view b) {
  auto da = parseDob(a);
  auto db = parseDob(b);
  if (!da || !db) {
    return DobAgreement::kAbsent;
  }
  if (a == b) {
    return DobAgreement::kEqual;
  }
  if (da->year == db->year && da->month == db->day && da->day == db->month) {
    return DobAgreement::kSwapped;
  }
  // Both are valid YYYY-MM-DD, so they differ only in digit positions.
  if (std::inner_product(a.begin(), a.end(), b.begin(), 0, std::plus<>(), std::not_equal_to<>()) == 1) {
    return DobAgreement::kOneDigit;
  }
  if (da->year == db->year && da->month == db->month) {
    return DobAgreement::kSameMonth;
  }
  return DobAgreement::kDifferent;
}

}  // namespace detail

std::vector<std::string> dobVariants(std::string_view dob) {
  std::vector<std::string> out;
  auto d = detail::parseDob(dob);
  if (!d) {
    return out;
  }
  if (d->day != d->month) {
    if (auto swapped = detail::parseDob(detail::format({d->year, d->day, d->month}))) {
      out.push_back(detail::format(*swapped));
    }
  }
  std::string text(dob);
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if (text[pos] == '-') {
      continue;
    }
    const char original = text[pos];
    for (char digit = '0'; digit <= '9'; ++digit) {
      if (digit == original) {
        continue;
      }
      text[pos] = digit;
      if (detail::parseDob(text) && std::find(out.begin(), out.end(), text) == out.end()) {
        out.push_back(text);
      }
    }
    text[pos] = original;
  }
  return out;
}

}  // namespace vigil::match
