// RunMachine's entry points: each input becomes events, then the walk takes the run as
// far as it can go before it must wait again.
#include "vigil/machine.h"

#include "walk.h"

namespace vigil {

RunMachine::RunMachine(std::shared_ptr<const Workflow> workflow, std::shared_ptr<const Area> area)
    : wf_(std::move(workflow)), area_(std::move(area)) {}

Transition RunMachine::start(RunState& state, const std::string& runId, const Json& inputs,
                             const std::string& startedBy, TimePoint now, const std::string& parentRun) const {
  Transition out;
  state = RunState{};
  state.id = runId;
  Walk w(*this, state, now, out);
  Json data = {{"workflow", wf_->name}, {"version", wf_->version}, {"hash", wf_->hash},
               {"inputs", inputs.is_null() ? Json::object() : inputs}, {"started_by", startedBy}};
  if (!parentRun.empty()) data["parent"] = parentRun;
  if (wf_->reference) {
    // The business key, from the inputs alone (the loader allows nothing else). One that
    // cannot be computed leaves the run without one: it is still listed by workflow, date
    // and band, never lost for want of a search key.
    state.inputs = data["inputs"];
    state.startedBy = startedBy;
    state.workflow = wf_->name;
    state.version = wf_->version;
    state.startedAt = now;
    if (std::string ref = w.reference(); !ref.empty()) data["reference"] = std::move(ref);
  }
  // The area's timescales and calendars feed expressions: record which ones, so a replay
  // (and an auditor) uses exactly them.
  if (area_ && !area_->hash.empty()) data["area"] = area_->hash;
  w.emit(EventType::kRunStarted, "", 0, std::move(data));
  w.advance();
  return out;
}

Transition RunMachine::onCallResult(RunState& state, const std::string& step, int attempt, const CallOutcome& outcome,
                                    TimePoint now) const {
  Transition out;
  const StepState* s = state.step(step);
  if (attempt > Walk::kReminderAttempt && s != nullptr && !isTerminal(state.status)) {
    // An escalation's reminder came back: record it; the approval waits on as before.
    Walk w(*this, state, now, out);
    auto idx = w.indexOfKey(step);
    const int level = attempt - Walk::kReminderAttempt;
    if (!idx || !std::holds_alternative<ApprovalStep>(workflow().steps[*idx].body)) return out;
    const auto& a = std::get<ApprovalStep>(workflow().steps[*idx].body);
    if (level > static_cast<int>(a.escalate.size()) || !a.escalate[static_cast<size_t>(level - 1)].remind) return out;
    Json data = {{"connector", a.escalate[static_cast<size_t>(level - 1)].remind->connector}, {"ok", outcome.ok}};
    if (!outcome.ok) data["code"] = outcome.code;
    if (outcome.ok && !outcome.recipient.empty()) data["recipient"] = outcome.recipient;
    w.emit(EventType::kApprovalReminded, step, level, std::move(data));
    return out;
  }
  if (isTerminal(state.status) || s == nullptr || s->status != StepStatus::kRunning || s->attempt != attempt) {
    return out;  // stale: timed out, cancelled, or already recorded
  }
  Walk w(*this, state, now, out);
  auto idx = w.indexOfKey(step);
  if (!idx) return out;
  if (outcome.ok) {
    Json data = {{"output", outcome.output}};
    if (!outcome.recipient.empty()) data["recipient"] = outcome.recipient;
    w.emit(EventType::kStepCompleted, step, attempt, std::move(data));
  } else {
    w.handleCallFailure(*idx, step, attempt, outcome);
  }
  w.advance();
  return out;
}

Transition RunMachine::onTimer(RunState& state, const std::string& step, int attempt, Command::TimerKind kind,
                               TimePoint now) const {
  Transition out;
  const StepState* s = state.step(step);
  if (isTerminal(state.status) || s == nullptr) return out;
  Walk w(*this, state, now, out);
  auto idx = w.indexOfKey(step);
  if (!idx) return out;
  switch (kind) {
    case Command::TimerKind::kRetry:
      if (s->status != StepStatus::kWaiting || s->attempt != attempt - 1) return out;
      w.emit(EventType::kTimerFired, step, attempt, {{"timer", "retry"}});
      w.callConnector(*idx, step, attempt, w.scopeOfKey(step));
      break;
    case Command::TimerKind::kTimeout:
      if (s->status != StepStatus::kRunning || s->attempt != attempt) return out;
      w.emit(EventType::kTimerFired, step, attempt, {{"timer", "timeout"}});
      w.handleCallFailure(*idx, step, attempt,
                          CallOutcome::failure("timeout", "step did not finish within its timeout", true));
      break;
    case Command::TimerKind::kWait:
      if (s->status != StepStatus::kWaiting) return out;
      w.emit(EventType::kTimerFired, step, attempt, {{"timer", "wait"}});
      w.emit(EventType::kStepCompleted, step, 1, {{"output", {{"until", formatTime(now)}}}});
      break;
    case Command::TimerKind::kEscalation: {
      if (s->status != StepStatus::kWaiting || !s->approval || s->approval->decided()) return out;
      const auto& a = std::get<ApprovalStep>(workflow().steps[*idx].body);
      if (attempt < 1 || attempt > static_cast<int>(a.escalate.size())) return out;
      w.emit(EventType::kTimerFired, step, attempt, {{"timer", "escalation"}});
      w.emit(EventType::kApprovalEscalated, step, attempt, {{"to", a.escalate[attempt - 1].to}});
      w.remind(*idx, step, attempt);
      return out;  // still waiting for a person: nothing else can move
    }
    case Command::TimerKind::kApprovalTimeout: {
      if (s->status != StepStatus::kWaiting || !s->approval || s->approval->decided()) return out;
      const auto& a = std::get<ApprovalStep>(workflow().steps[*idx].body);
      w.emit(EventType::kTimerFired, step, attempt, {{"timer", "approval_timeout"}});
      if (a.onTimeout == "fail" || a.onTimeout == "escalate") {
        w.fail(*idx, step, "approval_timeout", "no decision within the approval's timeout");
      } else {
        Json decision = {{"decision", a.onTimeout}, {"reason", "approval timed out"}, {"decided_by", "system:timeout"}};
        w.emit(EventType::kApprovalDecided, step, 1, decision);
        // The same output shape as a person's decision: the option's rating if it stands for
        // one, else the recommendation; nobody approved.
        Json output = decision;
        auto r = a.ratings.find(a.onTimeout);
        output["rating"] = r != a.ratings.end() ? Json(r->second)
                                                : s->approval->request ? s->approval->request->recommendation : Json();
        output["approvers"] = Json::array();
        w.emit(EventType::kStepCompleted, step, 1, {{"output", std::move(output)}});
      }
      break;
    }
  }
  w.advance();
  return out;
}

Transition RunMachine::onChildEnded(RunState& state, const std::string& step, RunStatus childStatus,
                                    const Json& outputs, const Json& error, TimePoint now) const {
  Transition out;
  const StepState* s = state.step(step);
  if (isTerminal(state.status) || s == nullptr || s->status != StepStatus::kWaiting) return out;
  Walk w(*this, state, now, out);
  auto idx = w.indexOfKey(step);
  if (!idx) return out;
  if (childStatus == RunStatus::kCompleted) {
    w.emit(EventType::kStepCompleted, step, 1, {{"output", outputs}});
  } else {
    std::string msg = std::string("sub-workflow run ") + runStatusName(childStatus);
    if (error.is_object() && error.contains("message")) msg += ": " + error["message"].get<std::string>();
    w.fail(*idx, step, "child_run_failed", msg);
  }
  w.advance();
  return out;
}

Transition RunMachine::cancel(RunState& state, const CancelInput& in, TimePoint now) const {
  using K = CancelInput::Kind;
  Transition out;
  if (isTerminal(state.status)) {
    out.refused = Status::failedPrecondition("run " + state.id + " has already ended");
    return out;
  }
  if (in.by.user.empty()) {
    out.refused = Status::invalidArgument("a cancellation needs a person's name");
    return out;
  }
  Walk w(*this, state, now, out);
  const Json pending =
      state.cancellation.is_object() && state.cancellation.value("status", "") == "pending" ? state.cancellation : Json();
  const bool single = workflow().cancel == Workflow::CancelPolicy::kSingle;
  const std::string confirmer = workflow().owner;
  auto holdsRole = [&] { return std::find(in.by.roles.begin(), in.by.roles.end(), confirmer) != in.by.roles.end(); };
  Json cancelled = {{"by", in.by.user}, {"reason", in.reason}};
  if (in.kind == K::kRequest) {
    if (!pending.is_null()) {
      out.refused = Status::failedPrecondition("a cancellation of run " + state.id + " is already waiting for confirmation by '" +
                                               confirmer + "'");
      return out;
    }
    if (!single) {
      w.emit(EventType::kCancellationRequested, "", 0, {{"by", in.by.user}, {"reason", in.reason}, {"roles", {confirmer}}});
      return out;
    }
  } else {
    if (pending.is_null()) {
      out.refused = Status::failedPrecondition("no cancellation of run " + state.id + " is waiting for confirmation");
      return out;
    }
    const std::string requester = pending.value("by", "");
    const bool withdrawing = in.kind == K::kDecline && in.by.user == requester;
    if (!withdrawing && in.by.user == requester) {
      out.refused = Status::invalidArgument("four-eyes: '" + in.by.user +
                                            "' asked for this cancellation; another person must confirm it");
      return out;
    }
    if (!withdrawing && !holdsRole()) {
      out.refused = Status::invalidArgument("'" + in.by.user + "' does not hold the role '" + confirmer +
                                            "' that confirms cancellations of " + workflow().name + "; field: roles");
      return out;
    }
    if (in.kind == K::kDecline) {
      w.emit(EventType::kCancellationDeclined, "", 0, {{"by", in.by.user}, {"reason", in.reason}});
      return out;
    }
    cancelled["requested_by"] = requester;
    cancelled["request_reason"] = pending.value("reason", "");
  }
  w.emit(EventType::kRunCancelled, "", 0, std::move(cancelled));
  Command ended;
  ended.kind = Command::Kind::kRunEnded;
  ended.input = {{"status", "cancelled"}};
  out.commands.push_back(std::move(ended));
  return out;
}

}  // namespace vigil
