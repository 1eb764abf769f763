#include "vigil/area.h"

#include "vigil/duration.h"

namespace vigil {

const Calendar* Area::calendar(const std::string& name) const {
  if (name.empty() && defaultCalendar.empty()) return &builtin_;
  auto it = calendars.find(name.empty() ? defaultCalendar : name);
  return it == calendars.end() ? nullptr : &it->second;
}

Result<TimePoint> Area::deadline(const std::string& timescale, const std::string& band, TimePoint start) const {
  auto ts = timescales.find(timescale);
  if (ts == timescales.end()) return Status::notFound("no timescale '" + timescale + "' in area '" + name + "'");
  auto target = ts->second.targets.find(band);
  if (target == ts->second.targets.end()) {
    return Status::notFound("timescale '" + timescale + "' has no target for band '" + band + "'");
  }
  const Calendar* cal = calendar(ts->second.calendar);
  if (cal == nullptr) return Status::notFound("no calendar '" + ts->second.calendar + "' in area '" + name + "'");
  std::optional<TimePoint> due = start + target->second.within;
  if (target->second.working) due = cal->addWorkingTime(start, target->second.within);
  if (!due) return Status::invalidArgument("calendar of timescale '" + timescale + "' has no working hours");
  if (ts->second.maxWorkingDays) {
    // The same local time of day, that many working days on; a start outside working
    // hours counts from the next opening.
    TimePoint from = start;
    CivilDay day = cal->localDay(start);
    TimePoint open = cal->at(day, cal->startMinute());
    TimePoint close = cal->at(day, cal->endMinute());
    if (!cal->isWorkingDay(day) || start >= close) {
      if (auto next = cal->nextOpening(start)) from = *next;
    } else if (start < open) {
      from = open;
    }
    CivilDay fromDay = cal->localDay(from);
    CivilDay last = cal->workingDaysAfter(fromDay, *ts->second.maxWorkingDays);
    auto minuteOfDay = static_cast<int>((from - cal->at(fromDay, 0)) / std::chrono::minutes(1));
    TimePoint ceiling = cal->at(last, minuteOfDay);
    if (ceiling < *due) due = ceiling;
  }
  return *due;
}

Result<nlohmann::json> Area::describe(const std::string& timescale) const {
  auto ts = timescales.find(timescale);
  if (ts == timescales.end()) return Status::notFound("no timescale '" + timescale + "' in area '" + name + "'");
  const Timescale& t = ts->second;
  nlohmann::json targets = nlohmann::json::object();
  for (const auto& [band, target] : t.targets) {
    targets[band] = {{"within", formatDuration(target.within)},
                     {"seconds", target.within.count() / 1000},
                     {"clock", target.working ? "working" : "continuous"}};
  }
  nlohmann::json out = {{"area", name},
                        {"calendar", t.calendar.empty() ? defaultCalendar : t.calendar},
                        {"targets", std::move(targets)},
                        {"max_working_days", t.maxWorkingDays ? nlohmann::json(*t.maxWorkingDays) : nlohmann::json()}};
  out["repeat_referrals"] = t.repeatCount ? nlohmann::json{{"count", *t.repeatCount},
                                                           {"within", formatDuration(t.repeatWithin)},
                                                           {"seconds", t.repeatWithin.count() / 1000}}
                                          : nlohmann::json();
  return out;
}

}  // namespace vigil
