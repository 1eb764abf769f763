// Internal to engine/src/match: dates of birth as written in referrals and records.
#pragma once

#include <optional>
#include <string_view>

namespace vigil::match::detail {

struct Dob {
  int year = 0;
  int month = 0;
  int day = 0;
};

// A YYYY-MM-DD Gregorian date in 1900-2099, or nullopt.
std::optional<Dob> parseDob(std::string_view text);

enum class DobAgreement { kEqual, kSwapped, kOneDigit, kSameMonth, kDifferent, kAbsent };

// How two dates of birth agree; kAbsent when either is empty or not a valid date.
DobAgreement compareDobs(std::string_view a, std::string_view b);

}  // namespace vigil::match::detail
