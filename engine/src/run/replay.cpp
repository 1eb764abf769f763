// Replay (see replay.h). Inputs are derived generously: every event that could have been
// caused by an input becomes that input again. One that was really a consequence of an
// earlier input is then stale, and the machine ignores stale inputs, as it does live.
#include "vigil/replay.h"

#include "vigil/machine.h"

namespace vigil {
namespace {

// An event's data as an object (erased or empty data reads as {}).
const Json& obj(const Event& e) {
  static const Json kEmpty = Json::object();
  return e.data.is_object() ? e.data : kEmpty;
}

bool sameEvent(const Event& a, const Event& b) {
  return a.type == b.type && a.step == b.step && a.attempt == b.attempt && a.time == b.time && a.data == b.data;
}

std::optional<Command::TimerKind> timerKind(const std::string& k) {
  if (k == "retry") return Command::TimerKind::kRetry;
  if (k == "timeout") return Command::TimerKind::kTimeout;
  if (k == "wait") return Command::TimerKind::kWait;
  if (k == "approval_timeout") return Command::TimerKind::kApprovalTimeout;
  if (k == "escalation") return Command::TimerKind::kEscalation;
  return std::nullopt;
}

std::vector<std::string> strings(const Json& j) {
  std::vector<std::string> out;
  if (j.is_array()) {
    for (const auto& v : j) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
  }
  return out;
}

}  // namespace

std::string describeEvent(const Event& e) {
  std::string s = std::string(eventTypeName(e.type));
  if (!e.step.empty()) s += " " + e.step;
  if (e.attempt != 0) s += " attempt " + std::to_string(e.attempt);
  if (!e.data.is_null()) s += " " + e.data.dump(-1, ' ', false, Json::error_handler_t::replace);
  return s;
}

ReplayResult replayRun(const std::string& runId, const std::vector<Event>& history, std::shared_ptr<const Workflow> workflow,
                       std::shared_ptr<const Area> area) {
  ReplayResult out;
  if (history.empty() || history.front().type != EventType::kRunStarted) {
    out.complete = false;
    out.note = "the history does not begin with RunStarted";
    return out;
  }
  if (!history.front().data.is_object()) {
    // Retention erased the run's inputs and recorded results: the decisions cannot be
    // recomputed, and saying so is the honest answer (the audit chain still verifies).
    out.complete = false;
    out.note = "the run's data was erased at the end of its retention period; there is nothing to replay";
    return out;
  }
  for (const auto& e : history) {
    if (e.type == EventType::kDecisionRecorded) out.recordedDecisions[e.step] = {{"score", obj(e).value("score", Json())}, {"band", obj(e).value("band", Json())}};
  }
  RunMachine m(workflow, std::move(area));
  RunState st;
  const Event& first = history.front();
  Transition t = m.start(st, runId, obj(first).value("inputs", Json::object()), obj(first).value("started_by", ""), first.time,
                         obj(first).value("parent", ""));
  auto take = [&](Transition&& tr) {
    for (auto& e : tr.events) out.replayed.push_back(std::move(e));
    for (auto& c : tr.commands) {
      if (c.kind == Command::Kind::kCallConnector) out.calls.push_back(std::move(c));
    }
  };
  take(std::move(t));

  for (size_t i = 1; i < history.size(); ++i) {
    const Event& e = history[i];
    auto idx = workflow->findStep(e.step.substr(0, e.step.find('[')));
    const Step* step = idx ? &workflow->steps[*idx] : nullptr;
    const StepKind kind = step ? step->kind() : StepKind::kSet;
    Transition tr;
    switch (e.type) {
      case EventType::kStepCompleted:
        if (step && kind == StepKind::kUses) {
          CallOutcome o = CallOutcome::success(obj(e).value("output", Json()));
          o.recipient = obj(e).value("recipient", "");
          tr = m.onCallResult(st, e.step, e.attempt, o, e.time);
        } else if (step && kind == StepKind::kCall) {
          tr = m.onChildEnded(st, e.step, RunStatus::kCompleted, obj(e).value("output", Json()), Json(), e.time);
        }
        break;
      case EventType::kStepFailed:
        if (step && kind == StepKind::kUses) {
          const Json err = obj(e).value("error", Json::object());
          tr = m.onCallResult(st, e.step, e.attempt,
                              CallOutcome::failure(err.value("code", ""), err.value("message", ""), false), e.time);
        } else if (step && kind == StepKind::kCall) {
          tr = m.onChildEnded(st, e.step, RunStatus::kFailed, Json(), obj(e).value("error", Json()), e.time);
        }
        break;
      case EventType::kRetryScheduled:
        if (step && kind == StepKind::kUses) {
          const Json err = obj(e).value("error", Json::object());
          CallOutcome o = CallOutcome::failure(err.value("code", ""), err.value("message", ""), true);
          // The due time recorded says how long the other system asked us to wait.
          if (auto due = parseTime(obj(e).value("due", ""))) {
            o.retryAfter = std::chrono::duration_cast<std::chrono::milliseconds>(*due - e.time);
          }
          tr = m.onCallResult(st, e.step, e.attempt - 1, o, e.time);
        }
        break;
      case EventType::kTimerFired:
        if (auto k = timerKind(obj(e).value("timer", ""))) tr = m.onTimer(st, e.step, e.attempt, *k, e.time);
        break;
      case EventType::kApprovalDecided: {
        if (obj(e).value("decided_by", "") == "system:timeout") break;  // the timer's consequence
        ApprovalAction a;
        a.kind = ApprovalAction::Kind::kDecide;
        a.actor = {obj(e).value("decided_by", ""), strings(obj(e).value("roles", Json::array()))};
        a.decision = obj(e).value("decision", "");
        a.reason = obj(e).value("reason", "");
        a.rating = obj(e).value("rating", Json());
        a.form = obj(e).value("form", Json::object());
        a.shownDigest = obj(e).value("shown_digest", "");
        if (e.data.contains("opened_at")) a.openedAt = parseTime(e.data["opened_at"].get<std::string>());
        a.confirmed = parseConfirmation(obj(e).value("confirmed", "")).value_or(Confirmation::kUnstated);
        tr = m.onApproval(st, e.step, a, e.time);
        break;
      }
      case EventType::kApprovalClaimed: {
        ApprovalAction a;
        a.kind = ApprovalAction::Kind::kClaim;
        a.actor = {obj(e).value("by", ""), strings(obj(e).value("roles", Json::array()))};
        if (auto until = parseTime(obj(e).value("until", ""))) {
          a.claimFor = std::chrono::duration_cast<std::chrono::milliseconds>(*until - e.time);
        }
        tr = m.onApproval(st, e.step, a, e.time);
        break;
      }
      case EventType::kApprovalReassigned: {
        ApprovalAction a;
        a.kind = ApprovalAction::Kind::kReassign;
        a.actor = {obj(e).value("by", ""), {}};
        a.reason = obj(e).value("reason", "");
        a.toRoles = strings(obj(e).value("roles", Json::array()));
        a.toUsers = strings(obj(e).value("users", Json::array()));
        tr = m.onApproval(st, e.step, a, e.time);
        break;
      }
      case EventType::kApprovalReminded: {
        const int attempt = 1000 + e.attempt;  // Walk::kReminderAttempt + level
        CallOutcome o = obj(e).value("ok", false) ? CallOutcome::success(Json())
                                                  : CallOutcome::failure(obj(e).value("code", ""), "", false);
        o.recipient = obj(e).value("recipient", "");
        tr = m.onCallResult(st, e.step, attempt, o, e.time);
        break;
      }
      case EventType::kCancellationRequested:
      case EventType::kCancellationDeclined:
      case EventType::kRunCancelled: {
        // The roles a person held are not recorded; the decision that they held them was
        // made live and is recorded by the event itself, so replay grants the owner role.
        using K = RunMachine::CancelInput::Kind;
        RunMachine::CancelInput in;
        in.by = {obj(e).value("by", ""), {workflow->owner}};
        in.reason = obj(e).value("reason", "");
        in.kind = e.type == EventType::kCancellationRequested ? K::kRequest
                  : e.type == EventType::kCancellationDeclined ? K::kDecline
                  : obj(e).contains("requested_by")            ? K::kConfirm
                                                               : K::kRequest;
        tr = m.cancel(st, in, e.time);
        break;
      }
      default:
        break;  // a consequence: the machine makes it again
    }
    take(std::move(tr));
  }

  for (const auto& e : out.replayed) {
    if (e.type == EventType::kDecisionRecorded) out.replayedDecisions[e.step] = {{"score", obj(e).value("score", Json())}, {"band", obj(e).value("band", Json())}};
  }
  size_t n = std::min(history.size(), out.replayed.size());
  // Against another definition (what-if) RunStarted names another hash and version; the
  // question is what follows from it.
  const bool otherDefinition = obj(first).value("hash", "") != workflow->hash;
  if (otherDefinition) out.note = "replayed against another definition (sha256 " + workflow->hash.substr(0, 12) + ")";
  for (size_t i = otherDefinition ? 1 : 0; i < n; ++i) {
    if (!sameEvent(history[i], out.replayed[i])) {
      out.divergedAt = i + 1;
      out.expected = describeEvent(history[i]);
      out.got = describeEvent(out.replayed[i]);
      return out;
    }
  }
  if (history.size() != out.replayed.size()) {
    out.divergedAt = n + 1;
    if (history.size() > n) {
      out.expected = describeEvent(history[n]);
      out.complete = false;
      out.note = "the replay stopped before the recorded history ended";
    } else {
      out.got = describeEvent(out.replayed[n]);
    }
    return out;
  }
  out.identical = true;
  return out;
}

}  // namespace vigil
