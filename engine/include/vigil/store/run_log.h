// RunLog: reading runs. A run's state is the fold of its chained events; the runs row is a
// cache of it for listings. Written only through Store::commit and Store::erase.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vigil/run.h"
#include "vigil/status.h"

namespace vigil {

struct RunSummary {
  std::string id;
  std::string workflow;
  int version = 0;
  RunStatus status = RunStatus::kRunning;
  std::string startedBy;
  TimePoint startedAt{};
  TimePoint updatedAt{};
  std::string reference;  // RunState::reference
  std::string band;       // RunState::band(), as of the run's latest commit
};

struct RunFilter {
  RunFilter() = default;
  RunFilter(std::optional<RunStatus> s, std::string w, size_t l, std::string a)
      : status(s), workflow(std::move(w)), limit(l), after(std::move(a)) {}
  std::optional<RunStatus> status;
  std::string workflow;
  size_t limit = 100;
  std::string after;  // paging: runs with id greater than this
  std::string startedBy;
  std::optional<TimePoint> startedFrom;  // started at or after
  std::optional<TimePoint> startedTo;    // started before
  std::string band;                      // exactly, as RunSummary::band
  std::string search;                    // case-insensitive text in the reference, or a run id's start
};

class RunLog {
 public:
  virtual ~RunLog() = default;
  virtual Result<std::optional<RunState>> load(const std::string& id) = 0;
  virtual Result<bool> exists(const std::string& id) = 0;  // committed, erased ones included
  virtual Result<std::vector<Event>> events(const std::string& runId) = 0;
  virtual Result<std::vector<RunSummary>> list(const RunFilter& filter) = 0;
  // Runs per status, for /metrics.
  virtual Result<std::map<RunStatus, long long>> countByStatus() = 0;
  // Retention's candidates: up to `max` top-level runs of `workflow` that ended (completed,
  // failed, cancelled) before `endedBefore` and are not erased, the longest ended first.
  virtual Result<std::vector<std::string>> endedBefore(const std::string& workflow, TimePoint endedBefore, size_t max) = 0;
  // The run and its sub-workflow runs, in id order.
  virtual Result<std::vector<std::string>> family(const std::string& runId) = 0;
};

}  // namespace vigil
