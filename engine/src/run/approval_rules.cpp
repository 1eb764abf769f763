// The rules of approval steps: who may claim, decide or reassign, and what a decision must
// carry. Pure functions of the run's state and the action, applied on the committer thread,
// so a refusal and an acceptance are as deterministic and replayable as everything else.
#include <algorithm>

#include "vigil/machine.h"
#include "walk.h"

namespace vigil {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

Status conflict(std::string msg) { return Status::failedPrecondition(std::move(msg)); }

// Four-eyes and assignment: may `actor` act on this open approval at all?
Status mayAct(const ApprovalState& approval, const ApprovalActor& actor, const std::string& step) {
  if (actor.user.empty()) return Status::invalidArgument("the approver has no name");
  if (!approval.assignedTo(actor.user, actor.roles)) {
    return Status::invalidArgument("'" + actor.user + "' is not assigned to approval '" + step +
                                   "' (by role or by name); field: roles");
  }
  if (contains(approval.request->distinctFrom, actor.user)) {
    return Status::invalidArgument("four-eyes: '" + actor.user + "' may not decide approval '" + step +
                                   "' (started the run or is excluded by distinct_from)");
  }
  if (approval.votedBy(actor.user)) {
    return Status::invalidArgument("four-eyes: '" + actor.user + "' has already decided approval '" + step +
                                   "'; a quorum needs distinct people");
  }
  return Status::ok();
}

Status claimedByOther(const ApprovalState& approval, const ApprovalActor& actor, TimePoint now) {
  if (!approval.claim || !approval.claim->heldAgainst(actor.user, now)) return Status::ok();
  return conflict("claimed by '" + approval.claim->by + "' until " + formatTime(*approval.claim->until));
}

// Did the person agree with the workflow's recommendation? A recommendation that is one of
// the options is agreed with by choosing it; any other (a band such as "AMBER") is agreed
// with unless the person gives a different rating.
std::optional<bool> agreement(const ApprovalRequest& request, const ApprovalAction& a) {
  const Json& rec = request.recommendation;
  if (rec.is_null()) return std::nullopt;
  if (rec.is_string() && contains(request.options, rec.get<std::string>())) {
    return a.decision == rec.get<std::string>();
  }
  return a.rating.is_null() || a.rating == rec;
}

}  // namespace

Transition RunMachine::onApproval(RunState& state, const std::string& step, const ApprovalAction& a,
                                  TimePoint now) const {
  Transition out;
  const StepState* s = state.step(step);
  Walk w(*this, state, now, out);
  auto idx = s == nullptr ? std::nullopt : w.indexOfKey(step);
  if (!idx || !std::holds_alternative<ApprovalStep>(workflow().steps[*idx].body)) {
    out.refused = Status::notFound("run " + state.id + " has no approval step '" + step + "'");
    return out;
  }
  if (isTerminal(state.status) || s->status != StepStatus::kWaiting || !s->approval || !s->approval->pending()) {
    out.refused = conflict("approval '" + step + "' is not open: it has been decided, or the run has moved on");
    return out;
  }
  const ApprovalStep& spec = std::get<ApprovalStep>(workflow().steps[*idx].body);
  const ApprovalState& approval = *s->approval;
  const ApprovalRequest& request = *approval.request;

  if (a.kind == ApprovalAction::Kind::kReassign) {
    if (a.reason.size() < 10) {
      out.refused = Status::invalidArgument("a reassignment needs a reason of at least 10 characters; field: reason");
      return out;
    }
    if (a.toRoles.empty() && a.toUsers.empty()) {
      out.refused = Status::invalidArgument("a reassignment names no role or user; field: users");
      return out;
    }
    w.emit(EventType::kApprovalReassigned, step, 1,
           {{"by", a.actor.user}, {"reason", a.reason}, {"roles", a.toRoles}, {"users", a.toUsers}});
    return out;
  }

  if (Status st = mayAct(approval, a.actor, step); !st) {
    out.refused = st;
    return out;
  }
  if (Status st = claimedByOther(approval, a.actor, now); !st) {
    out.refused = st;
    return out;
  }
  if (a.kind == ApprovalAction::Kind::kClaim) {
    w.emit(EventType::kApprovalClaimed, step, 1,
           {{"by", a.actor.user}, {"roles", a.actor.roles}, {"until", formatTime(now + a.claimFor)}});
    return out;
  }

  if (!contains(request.options, a.decision)) {
    std::string opts;
    for (const auto& o : request.options) opts += (opts.empty() ? "" : ", ") + o;
    out.refused = Status::invalidArgument("decision must be one of: " + opts + "; field: decision");
    return out;
  }
  // An option that stands for a rating (`ratings: { override_to_red: RED }`) records it,
  // so "override to RED" when RED was recommended counts as agreeing, and the other
  // overrides count as overrides without a separate --rating.
  ApprovalAction d = a;
  if (auto r = spec.ratings.find(d.decision); r != spec.ratings.end()) {
    if (!d.rating.is_null() && d.rating != Json(r->second)) {
      out.refused = Status::invalidArgument("option '" + d.decision + "' stands for the rating " + r->second +
                                            "; give no other rating; field: rating");
      return out;
    }
    d.rating = r->second;
  } else if (!spec.ratings.empty() && !d.rating.is_null() && d.rating != request.recommendation) {
    // The step says which options change the rating; any other option ("agree") keeps the
    // recommendation, so an "agree" can never be recorded as an override (nor a typo kept).
    std::string overrides;
    for (const auto& [option, rating] : spec.ratings) overrides += (overrides.empty() ? "" : ", ") + option;
    out.refused = Status::invalidArgument("option '" + d.decision + "' keeps the recommended rating; to change it choose " +
                                          overrides + "; field: rating");
    return out;
  }
  auto agreed = agreement(request, d);
  const bool overriding = agreed.has_value() && !*agreed;
  const size_t minLength = static_cast<size_t>(std::max(request.reasonMinLength, overriding ? 10 : 0));
  if ((request.reasonRequired || overriding) && d.reason.size() < minLength) {
    out.refused = Status::invalidArgument(
        std::string(overriding ? "overriding the recommendation needs" : "this decision needs") + " a reason of at least " +
        std::to_string(minLength) + " characters; field: reason");
    return out;
  }
  Json form = d.form.is_null() ? Json::object() : d.form;
  if (!form.is_object()) {
    out.refused = Status::invalidArgument("form must be a JSON object; field: form");
    return out;
  }
  for (auto it = form.begin(); it != form.end(); ++it) {
    if (spec.form.count(it.key()) == 0) {
      out.refused = Status::invalidArgument("form." + it.key() + ": approval '" + step + "' declares no such field; field: form." + it.key());
      return out;
    }
  }
  for (const auto& [name, t] : spec.form) {
    if (!form.contains(name)) {
      if (t.defaultValue) {
        form[name] = *t.defaultValue;
        continue;
      }
      out.refused = Status::invalidArgument("form." + name + ": required field is missing; field: form." + name);
      return out;
    }
    if (Status st = checkValue(t, form[name], "form." + name); !st) {
      out.refused = Status::invalidArgument(st.message() + "; field: form." + name);
      return out;
    }
  }

  if (!spec.require.empty()) {
    Scope scope = w.scopeOfKey(step);
    const Json rating = d.rating.is_null() ? request.recommendation : d.rating;
    scope.locals.emplace_back("decision", Json{{"decision", d.decision}, {"rating", rating}, {"form", form}, {"reason", d.reason}});
    for (const auto& r : spec.require) {
      std::string why;
      if (!w.holds(r.when, scope, &why)) {
        out.refused = Status::invalidArgument(r.message + (why.empty() ? "" : " (" + why + ")") + "; field: decision");
        return out;
      }
    }
  }
  Json vote = {{"decision", d.decision},     {"reason", d.reason},  {"decided_by", d.actor.user},
               {"roles", d.actor.roles},     {"form", form},        {"shown_digest", d.shownDigest},
               {"recommendation", request.recommendation}};
  if (agreed) vote["agreed"] = *agreed;
  if (!d.rating.is_null()) vote["rating"] = d.rating;
  if (d.confirmed != Confirmation::kUnstated) vote["confirmed"] = confirmationName(d.confirmed);
  if (d.openedAt) {
    vote["opened_at"] = formatTime(*d.openedAt);
    vote["seconds_to_decide"] = std::chrono::duration<double>(now - *d.openedAt).count();
  }
  w.emit(EventType::kApprovalDecided, step, 1, std::move(vote));
  const StepState* after = state.step(step);
  if (after->approval->decided()) {
    // The form's fields sit beside the decision, as `steps.ID.output.FIELD`; `rating` is
    // the approver's own rating, or the recommendation they agreed with.
    const ApprovalOutcome& o = *after->approval->outcome;
    Json output = form;
    output["decision"] = o.decision;
    output["reason"] = o.reason;
    output["decided_by"] = o.decidedBy;
    output["approvers"] = o.approvers;
    output["rating"] = d.rating.is_null() ? after->approval->request->recommendation : d.rating;
    w.emit(EventType::kStepCompleted, step, 1, {{"output", std::move(output)}});
    w.advance();
  }
  return out;
}

std::vector<ApprovalRow> approvalRowsOf(const RunState& state) {
  std::vector<ApprovalRow> rows;
  for (const auto& [key, s] : state.steps) {
    if (!s.approval || !s.approval->requested()) continue;
    const ApprovalState& a = *s.approval;
    const ApprovalRequest& request = *a.request;
    ApprovalRow r;
    r.runId = state.id;
    r.step = key;
    r.workflow = state.workflow;
    r.version = state.version;
    if (a.decided()) {
      r.status = "decided";
    } else if (s.status == StepStatus::kWaiting && !isTerminal(state.status)) {
      r.status = "open";
    } else {
      r.status = "closed";
    }
    r.roles = a.roles;
    r.users = a.users;
    r.excluded = request.distinctFrom;
    r.requestedAt = s.startedAt;
    r.due = request.due;
    if (a.claim) {
      r.claimedBy = a.claim->by;
      r.claimUntil = a.claim->until;
    }
    if (a.decided()) {
      r.decision = a.outcome->decision;
      r.decidedBy = a.outcome->decidedBy;
      r.decidedAt = s.finishedAt == TimePoint{} ? state.updatedAt : s.finishedAt;
      for (const auto& v : a.votes) {
        if (v.decision == r.decision && v.agreed) r.agreed = v.agreed;
      }
    }
    r.escalations = a.escalations;
    r.priority = request.priority;
    r.summary = request.summary;
    r.recommendation = request.recommendationText();
    for (size_t i = 0; i < a.votes.size(); ++i) {
      const ApprovalVoteRecord& v = a.votes[i];
      if (v.bySystem()) continue;  // a timeout's decision is nobody's
      ApprovalVote vote;
      vote.seq = static_cast<int>(i);
      vote.decidedBy = v.decidedBy;
      vote.decision = v.decision;
      vote.agreed = v.agreed;
      vote.openedAt = v.openedAt;
      vote.secondsFromOpening = v.secondsToDecide;
      vote.confirmed = parseConfirmation(v.confirmed).value_or(Confirmation::kUnstated);
      r.votes.push_back(std::move(vote));
    }
    rows.push_back(std::move(r));
  }
  // A cancellation waiting for a second person is a task like an approval, in the inbox of
  // the role that may confirm it, so it is seen rather than left pending unnoticed.
  if (const Json& c = state.cancellation; c.is_object()) {
    ApprovalRow r;
    r.runId = state.id;
    r.step = kCancellationTask;
    r.workflow = state.workflow;
    r.version = state.version;
    const std::string status = c.value("status", "");
    r.status = status == "pending" ? (isTerminal(state.status) ? "closed" : "open") : status == "confirmed" ? "decided" : "closed";
    for (const auto& v : c.value("roles", Json::array())) r.roles.push_back(v.get<std::string>());
    r.excluded.push_back(c.value("by", ""));
    r.requestedAt = parseTime(c.value("at", "")).value_or(state.updatedAt);
    r.priority = 2;
    r.summary = "cancellation asked by " + c.value("by", "") + ": confirm or decline";
    if (status != "pending") {
      r.decision = status == "confirmed" ? "confirm" : "decline";
      r.decidedBy = c.value("decided_by", "");
      r.decidedAt = parseTime(c.value("decided_at", ""));
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace vigil
