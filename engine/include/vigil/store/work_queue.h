// WorkQueue: the connector calls that may be in flight and the timers that will fire.
// Written only through Store::commit, with the transitions that create and consume them.
#pragma once

#include <optional>
#include <vector>

#include "vigil/status.h"
#include "vigil/store/batch.h"

namespace vigil {

class WorkQueue {
 public:
  virtual ~WorkQueue() = default;
  virtual Result<std::vector<WorkItem>> pending() = 0;
  virtual Result<std::vector<TimerItem>> dueTimers(TimePoint now, size_t max) = 0;
  virtual Result<std::optional<TimePoint>> nextTimerDue() = 0;
};

}  // namespace vigil
