// RunMachine: the pure core of execution.
//
// Given a workflow, a run's state and one input (start, a connector result, a timer, an
// approval decision, a child run's end, a cancellation), it appends the events that follow
// to the state and returns them with the commands the executor must carry out (call a
// connector, set a timer, start a child run). No threads, I/O or clock reads: time comes
// in with each input, so replaying a history gives the same events. Thread-compatible:
// a RunMachine is immutable and may be shared; each RunState is used by one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vigil/approval.h"
#include "vigil/area.h"
#include "vigil/connector.h"
#include "vigil/run.h"
#include "vigil/workflow.h"

namespace vigil {

struct Command {
  enum class Kind { kCallConnector, kSetTimer, kStartChild, kRunEnded };
  enum class TimerKind { kRetry, kTimeout, kWait, kApprovalTimeout, kEscalation };

  Kind kind = Kind::kCallConnector;
  std::string step;  // step key
  int attempt = 0;
  // kCallConnector
  std::string connector;
  std::string action;
  Json input;
  std::string idempotencyKey;  // "<run>/<step key>/<attempt>": stable across crashes
  std::string purpose;
  std::optional<TimePoint> deadline;
  // kSetTimer
  TimerKind timer = TimerKind::kRetry;
  TimePoint due{};
  // kStartChild
  std::string childRun;
  std::string workflow;
  // kRunEnded: the run's final status in `input` ({status, outputs, error})
};

struct Transition {
  std::vector<Event> events;
  std::vector<Command> commands;
  Status refused;  // why an input was not applied (no events then); ok otherwise
};

class RunMachine {
 public:
  RunMachine(std::shared_ptr<const Workflow> workflow, std::shared_ptr<const Area> area = nullptr);

  const Workflow& workflow() const { return *wf_; }
  const std::shared_ptr<const Workflow>& workflowPtr() const { return wf_; }

  // A new run: RunStarted, then everything that can happen before it must wait.
  Transition start(RunState& state, const std::string& runId, const Json& inputs, const std::string& startedBy,
                   TimePoint now, const std::string& parentRun = "") const;
  // A connector call finished. Stale results (wrong attempt, step no longer running) are ignored.
  Transition onCallResult(RunState& state, const std::string& step, int attempt, const CallOutcome& outcome,
                          TimePoint now) const;
  Transition onTimer(RunState& state, const std::string& step, int attempt, Command::TimerKind kind,
                     TimePoint now) const;
  // A person claims, decides or reassigns an approval step. Every rule is checked here;
  // a refused action leaves the state untouched and says why in Transition::refused
  // (kFailedPrecondition: not open or claimed by someone else, i.e. a conflict;
  // kInvalidArgument: a bad decision, reason or form field, message names the field;
  // kNotFound: no such approval step; kResourceExhausted is never used).
  Transition onApproval(RunState& state, const std::string& step, const ApprovalAction& action, TimePoint now) const;
  Transition onChildEnded(RunState& state, const std::string& step, RunStatus childStatus, const Json& outputs,
                          const Json& error, TimePoint now) const;
  // Cancelling a run that has not ended takes two people unless the workflow says
  // `cancel: single`: a first kRequest records who and why (CancellationRequested) and the
  // run carries on; a kConfirm by someone else holding the workflow's owner role cancels
  // it; a kDecline by such a person, or by the requester (withdrawing), drops the request.
  // Refusals (kFailedPrecondition: ended, nothing pending, already pending; kInvalidArgument:
  // the same person, or not holding the role) leave the state untouched.
  struct CancelInput {
    enum class Kind { kRequest, kConfirm, kDecline };
    Kind kind = Kind::kRequest;
    ApprovalActor by;
    std::string reason;
  };
  Transition cancel(RunState& state, const CancelInput& input, TimePoint now) const;

 private:
  class Walk;
  std::shared_ptr<const Workflow> wf_;
  std::shared_ptr<const Area> area_;
};

}  // namespace vigil
