// The rules of approval steps: who may claim, decide or reassign, and what a decision must
// carry. Pure functions of the run's state and the action, applied on the committer thread,
// so a refusal and an acceptance are as deterministic and replayable as everything else.
#include <algorithm>

#include "vigil/machine.h"
#include "walk.h"

namespace vigil {
namespace {

bool contains(const Json& list, const std::string& v) {
  if (!list.is_array()) return false;
  return std::any_of(list.begin(), list.end(), [&](const Json& x) { return x.is_string() && x.get<std::string>() == v; });
}

// Whether the actor is one of the step's current assignees (by name or by role).
bool assigned(const Json& approval, const ApprovalActor& actor) {
  const Json& a = approval["assigned"];
  if (contains(a.value("users", Json::array()), actor.user)) return true;
  const Json roles = a.value("roles", Json::array());
  return std::any_of(actor.roles.begin(), actor.roles.end(), [&](const std::string& r) { return contains(roles, r); });
}

Status conflict(std::string msg) { return Status::failedPrecondition(std::move(msg)); }

// Four-eyes and assignment: may `actor` act on this open approval at all?
Status mayAct(const Json& approval, const ApprovalActor& actor, const std::string& step) {
  if (actor.user.empty()) return Status::invalidArgument("the approver has no name");
  if (!assigned(approval, actor)) {
    return Status::invalidArgument("'" + actor.user + "' is not assigned to approval '" + step +
                                   "' (by role or by name); field: roles");
  }
  const Json& request = approval["request"];
  if (contains(request.value("distinct_from", Json::array()), actor.user)) {
    return Status::invalidArgument("four-eyes: '" + actor.user + "' may not decide approval '" + step +
                                   "' (started the run or is excluded by distinct_from)");
  }
  for (const auto& v : approval["votes"]) {
    if (v.value("decided_by", "") == actor.user) {
      return Status::invalidArgument("four-eyes: '" + actor.user + "' has already decided approval '" + step +
                                     "'; a quorum needs distinct people");
    }
  }
  return Status::ok();
}

Status claimedByOther(const Json& approval, const ApprovalActor& actor, TimePoint now) {
  if (!approval.contains("claim")) return Status::ok();
  const Json& c = approval["claim"];
  auto until = parseTime(c.value("until", ""));
  if (until && *until > now && c.value("by", "") != actor.user) {
    return conflict("claimed by '" + c.value("by", "") + "' until " + c.value("until", ""));
  }
  return Status::ok();
}

// Did the person agree with the workflow's recommendation? A recommendation that is one of
// the options is agreed with by choosing it; any other (a band such as "AMBER") is agreed
// with unless the person gives a different rating.
std::optional<bool> agreement(const Json& request, const ApprovalAction& a) {
  const Json rec = request.value("recommendation", Json());
  if (rec.is_null()) return std::nullopt;
  if (rec.is_string() && contains(request.value("options", Json::array()), rec.get<std::string>())) {
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
  if (isTerminal(state.status) || s->status != StepStatus::kWaiting || !s->approval.is_object() ||
      !s->approval.contains("request") || s->approval.contains("decision")) {
    out.refused = conflict("approval '" + step + "' is not open: it has been decided, or the run has moved on");
    return out;
  }
  const ApprovalStep& spec = std::get<ApprovalStep>(workflow().steps[*idx].body);
  const Json& approval = s->approval;
  const Json& request = approval["request"];

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

  if (!contains(request.value("options", Json::array()), a.decision)) {
    std::string opts;
    for (const auto& o : request.value("options", Json::array())) opts += (opts.empty() ? "" : ", ") + o.get<std::string>();
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
  } else if (!spec.ratings.empty() && !d.rating.is_null() && d.rating != request.value("recommendation", Json())) {
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
  const size_t minLength = static_cast<size_t>(std::max(request.value("reason_min_length", 10), overriding ? 10 : 0));
  if ((request.value("reason_required", true) || overriding) && d.reason.size() < minLength) {
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
    const Json rating = d.rating.is_null() ? request.value("recommendation", Json()) : d.rating;
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
               {"recommendation", request.value("recommendation", Json())}};
  if (agreed) vote["agreed"] = *agreed;
  if (!d.rating.is_null()) vote["rating"] = d.rating;
  if (d.confirmed != Confirmation::kUnstated) vote["confirmed"] = confirmationName(d.confirmed);
  if (d.openedAt) {
    vote["opened_at"] = formatTime(*d.openedAt);
    vote["seconds_to_decide"] = std::chrono::duration<double>(now - *d.openedAt).count();
  }
  w.emit(EventType::kApprovalDecided, step, 1, std::move(vote));
  const StepState* after = state.step(step);
  if (after->approval.contains("decision")) {
    // The form's fields sit beside the decision, as `steps.ID.output.FIELD`; `rating` is
    // the approver's own rating, or the recommendation they agreed with.
    Json output = form;
    output["decision"] = after->approval["decision"];
    output["reason"] = after->approval["reason"];
    output["decided_by"] = after->approval["decided_by"];
    output["approvers"] = after->approval["approvers"];
    output["rating"] = d.rating.is_null() ? request.value("recommendation", Json()) : d.rating;
    w.emit(EventType::kStepCompleted, step, 1, {{"output", std::move(output)}});
    w.advance();
  }
  return out;
}

std::vector<ApprovalRow> approvalRowsOf(const RunState& state) {
  std::vector<ApprovalRow> rows;
  for (const auto& [key, s] : state.steps) {
    if (!s.approval.is_object() || !s.approval.contains("request")) continue;
    const Json& a = s.approval;
    const Json& request = a["request"];
    ApprovalRow r;
    r.runId = state.id;
    r.step = key;
    r.workflow = state.workflow;
    r.version = state.version;
    if (a.contains("decision")) {
      r.status = "decided";
    } else if (s.status == StepStatus::kWaiting && !isTerminal(state.status)) {
      r.status = "open";
    } else {
      r.status = "closed";
    }
    for (const auto& v : a["assigned"].value("roles", Json::array())) r.roles.push_back(v.get<std::string>());
    for (const auto& v : a["assigned"].value("users", Json::array())) r.users.push_back(v.get<std::string>());
    for (const auto& v : request.value("distinct_from", Json::array())) {
      if (v.is_string()) r.excluded.push_back(v.get<std::string>());
    }
    r.requestedAt = s.startedAt;
    if (request.contains("due")) r.due = parseTime(request["due"].get<std::string>());
    if (a.contains("claim")) {
      r.claimedBy = a["claim"].value("by", "");
      r.claimUntil = parseTime(a["claim"].value("until", ""));
    }
    if (r.status == "decided") {
      r.decision = a.value("decision", "");
      r.decidedBy = a.value("decided_by", "");
      r.decidedAt = s.finishedAt == TimePoint{} ? state.updatedAt : s.finishedAt;
      const Json& votes = a["votes"];
      for (const auto& v : votes) {
        if (v.value("decision", "") == r.decision && v.contains("agreed")) r.agreed = v["agreed"].get<bool>();
      }
    }
    r.escalations = a.value("escalations", 0);
    if (request.contains("priority") && request["priority"].is_number()) r.priority = request["priority"].get<double>();
    r.summary = request.value("summary", "");
    if (request.contains("recommendation") && request["recommendation"].is_string()) {
      r.recommendation = request["recommendation"].get<std::string>();
    }
    const Json votes = a.value("votes", Json::array());
    for (size_t i = 0; i < votes.size(); ++i) {
      const Json& v = votes[i];
      ApprovalVote vote;
      vote.seq = static_cast<int>(i);
      vote.decidedBy = v.value("decided_by", "");
      if (vote.decidedBy.rfind("system:", 0) == 0) continue;  // a timeout's decision is nobody's
      vote.decision = v.value("decision", "");
      if (v.contains("agreed") && v["agreed"].is_boolean()) vote.agreed = v["agreed"].get<bool>();
      vote.openedAt = parseTime(v.value("opened_at", ""));
      if (v.contains("seconds_to_decide") && v["seconds_to_decide"].is_number()) {
        vote.secondsFromOpening = v["seconds_to_decide"].get<double>();
      }
      vote.confirmed = parseConfirmation(v.value("confirmed", "")).value_or(Confirmation::kUnstated);
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
