// Replay: rebuilding a run's decisions from its recorded history, calling nothing.
//
// The run's external inputs (connector results, timers, people's actions, a child run's end,
// a cancellation) are read back from its events and fed, at their recorded times, to a
// RunMachine for the workflow definition: the one the run pinned (is it `identical`?), or a
// new version (what-if: which decisions would change?). A call the history never answered
// ends the replay there: a what-if cannot know what a system would have said.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vigil/area.h"
#include "vigil/machine.h"
#include "vigil/run.h"
#include "vigil/workflow.h"

namespace vigil {

struct ReplayResult {
  bool identical = false;
  // The first event that differs: its position (1-based) and the two versions.
  uint64_t divergedAt = 0;
  std::string expected;  // "StepCompleted assess {...}" as recorded ("" if the replay produced more)
  std::string got;       // as replayed ("" if the replay stopped early)
  bool complete = true;  // false when the replay needed an answer the history does not have
  std::string note;
  // Each decide step's outcome, recorded and replayed: step -> {score, band}.
  std::map<std::string, Json> recordedDecisions;
  std::map<std::string, Json> replayedDecisions;
  std::vector<Event> replayed;
  // The connector calls the replay made, in order, with the inputs the definition computed
  // for them (what each call was sent; the history records only what came back).
  std::vector<Command> calls;
};

ReplayResult replayRun(const std::string& runId, const std::vector<Event>& history, std::shared_ptr<const Workflow> workflow,
                       std::shared_ptr<const Area> area = nullptr);

// One line for people: "StepCompleted assess attempt 1 {...}".
std::string describeEvent(const Event& e);

}  // namespace vigil
