// TimeZone: UTC offsets of a named zone (Europe/London) from the system's TZif files, so
// schedules can say "07:00 local time" and follow daylight saving. Immutable after load;
// safe to share between threads.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "vigil/clock.h"
#include "vigil/status.h"

namespace vigil {

class TimeZone {
 public:
  // Reads `zoneinfoDir/name` (TZif v1 or v2). Names are like "Europe/London" or "UTC";
  // anything with "..", a leading '/', or other characters is refused.
  static Result<TimeZone> load(const std::string& name, const std::string& zoneinfoDir = "/usr/share/zoneinfo");
  static TimeZone utc();
  // Whether `name` has the form of a zone name ("Europe/London"), without looking it up.
  static bool validName(const std::string& name);

  const std::string& name() const { return name_; }
  // Offset from UTC in force at `t` (for example +1h in British Summer Time). After the
  // last transition in the file the last offset stays in force.
  std::chrono::seconds offsetAt(TimePoint t) const;

 private:
  std::string name_;
  std::vector<long long> transitions_;  // UTC seconds, ascending
  std::vector<int> offsetAfter_;        // offset (s) in force from each transition
  int initialOffset_ = 0;               // before the first transition
};

}  // namespace vigil
