#include "api/views.h"

#include <algorithm>

#include "api/masking.h"
#include "vigil/merkle.h"

namespace vigil::daemon {

std::string TaskView::status() const {
  if (state.decided()) return "decided";
  return stepStatus == StepStatus::kWaiting ? "open" : "closed";
}

bool taskIsFor(const ApprovalState& approval, const Principal& who) {
  for (const auto& r : approval.roles) {
    if (who.roles.count(r) != 0) return true;
  }
  return std::find(approval.users.begin(), approval.users.end(), who.user) != approval.users.end() || approval.votedBy(who.user);
}

nlohmann::json cancellationTaskJson(const RunState& run, const Principal& who) {
  const Json& c = run.cancellation;
  if (!c.is_object()) return nullptr;
  const std::string requester = c.value("by", "");
  bool confirms = false;
  for (const auto& r : c.value("roles", Json::array())) confirms = confirms || (r.is_string() && who.roles.count(r.get<std::string>()) != 0);
  const bool asked = !requester.empty() && requester == who.user;
  if (!confirms && !asked) return nullptr;
  const std::string state = c.value("status", "");
  nlohmann::json waitingOn = nlohmann::json::array();
  for (const auto& [key, step] : run.steps) {
    if (step.status == StepStatus::kWaiting) waitingOn.push_back(key);
  }
  nlohmann::json j = {{"id", run.id + "/" + kCancellationTask},
                      {"kind", "cancellation"},
                      {"run", run.id},
                      {"workflow", run.workflow},
                      {"version", run.version},
                      {"reference", run.reference},
                      {"run_status", runStatusName(run.status)},
                      {"started_by", run.startedBy},
                      {"started_at", formatTime(run.startedAt)},
                      {"waiting_on", std::move(waitingOn)},
                      {"requested_by", requester},
                      {"reason", c.value("reason", "")},
                      {"requested_at", c.value("at", "")},
                      {"confirm_by", c.value("roles", Json::array())},
                      // pending while the run goes on; closed when the run ended some other way
                      {"status", state == "pending" && isTerminal(run.status) ? "closed" : state},
                      {"asked_by_you", asked},
                      {"you_may_confirm", confirms && !asked}};
  if (c.contains("decided_by")) j["decided_by"] = c.value("decided_by", "");
  if (c.contains("decided_at")) j["decided_at"] = c.value("decided_at", "");
  return j;
}

namespace {

const Step* stepOf(const Workflow* wf, const std::string& id) {
  if (wf == nullptr) return nullptr;
  for (const auto& st : wf->steps) {
    if (st.id == id) return &st;
  }
  return nullptr;
}

// Every rule of each decide step the task shows ("steps.ID.output"), in definition order.
nlohmann::json rulesShown(const nlohmann::json& show, const Workflow* wf, const std::vector<Event>& events,
                          const std::vector<std::string>& sensitive, bool unmasked) {
  nlohmann::json out = nlohmann::json::object();
  if (!show.is_object()) return out;
  for (const auto& [path, value] : show.items()) {
    if (path.rfind("steps.", 0) != 0 || path.size() < 14 || path.compare(path.size() - 7, 7, ".output") != 0) continue;
    const std::string id = path.substr(6, path.size() - 13);
    const Step* st = stepOf(wf, id);
    if (st == nullptr || st->kind() != StepKind::kDecide) continue;
    const Event* recorded = nullptr;
    for (const auto& e : events) {
      if (e.type == EventType::kDecisionRecorded && e.step == id) recorded = &e;  // the last attempt's
    }
    nlohmann::json evaluated = recorded ? recorded->data.value("rules", nlohmann::json::array()) : nlohmann::json::array();
    nlohmann::json rules = nlohmann::json::array();
    for (const auto& rule : std::get<DecideStep>(st->body).rules) {
      // An expression score is only known from the run's record, so until its rule fires the
      // page shows the expression instead of a number.
      nlohmann::json r = {{"id", rule.id}, {"reason", rule.reason},
                          {"score", rule.scoreExpr ? nlohmann::json() : nlohmann::json(rule.score)},
                          {"when", rule.when.text()}, {"fired", nullptr}, {"read", nlohmann::json::object()}};
      if (rule.scoreExpr) r["score_expr"] = rule.scoreExpr->text();
      for (const auto& ev : evaluated) {
        if (!ev.is_object() || ev.value("id", "") != rule.id) continue;
        r["fired"] = ev.value("fired", nlohmann::json());
        if (ev.contains("score")) r["score"] = ev["score"];
        r["read"] = maskShown(ev.value("inputs", nlohmann::json::object()), sensitive, unmasked);
      }
      rules.push_back(std::move(r));
    }
    out[id] = std::move(rules);
  }
  return out;
}

// Every system the run asked before this task opened: each connector step with whether it
// answered, so a rating made without one of them says so. Statuses and error codes only.
nlohmann::json systemsAsked(const RunState& run, const Workflow* wf, TimePoint before) {
  std::vector<std::pair<TimePoint, nlohmann::json>> rows;
  for (const auto& [key, s] : run.steps) {
    const Step* st = stepOf(wf, key.substr(0, key.find('[')));
    if (st == nullptr || st->kind() != StepKind::kUses || s.startedAt == TimePoint{} || s.startedAt > before) continue;
    const auto& u = std::get<UsesStep>(st->body);
    const char* answered = s.status == StepStatus::kCompleted ? "answered"
                           : s.status == StepStatus::kFailed  ? "did not answer"
                           : s.status == StepStatus::kSkipped ? "not asked"
                                                              : "still asking";
    nlohmann::json row = {{"step", key}, {"action", u.connector + "." + u.action}, {"status", answered}, {"attempts", s.attempt}};
    if (s.status == StepStatus::kFailed && s.error.is_object()) row["error"] = s.error.value("code", "");
    rows.emplace_back(s.startedAt, std::move(row));
  }
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  nlohmann::json out = nlohmann::json::array();
  for (auto& r : rows) out.push_back(std::move(r.second));
  return out;
}

// The task's escalations so far, from its events: when, which level, to whom, and whether
// the level's reminder was sent.
nlohmann::json escalationsOf(const std::vector<Event>& events, const std::string& step) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : events) {
    if (e.step != step) continue;
    if (e.type == EventType::kApprovalEscalated) {
      out.push_back({{"level", e.attempt}, {"at", formatTime(e.time)}, {"to", e.data.value("to", nlohmann::json::array())}});
    } else if (e.type == EventType::kApprovalReminded) {
      for (auto& level : out) {
        if (level["level"] == e.attempt) level["reminder"] = e.data.value("ok", false) ? "sent" : "failed";
      }
    }
  }
  return out;
}

}  // namespace

nlohmann::json decisionFormJson(const Workflow* wf, const std::string& step, const ApprovalRequest& request) {
  const Step* st = stepOf(wf, step);
  if (st == nullptr || st->kind() != StepKind::kApproval) return nullptr;
  const auto& a = std::get<ApprovalStep>(st->body);
  nlohmann::json fields = nlohmann::json::array();
  for (const auto& [name, t] : a.form) {
    fields.push_back({{"name", name}, {"type", t.type}, {"description", t.description},
                      {"default", t.defaultValue ? *t.defaultValue : nlohmann::json()}, {"enum", t.enumValues}});
  }
  return {{"options", a.options},
          {"ratings", a.ratings},
          {"reason", {{"required", request.recorded.contains("reason_required") ? request.reasonRequired : a.reasonRequired},
                      {"min_length", request.recorded.contains("reason_min_length") ? request.reasonMinLength : a.reasonMinLength}}},
          {"fields", fields}};
}

TaskView taskView(const RunState& run, const std::string& step, const StepState& s, const Principal& who, const Workflow* wf,
                  const std::vector<Event>& events) {
  TaskView out;
  out.runId = run.id;
  out.step = step;
  const ApprovalRequest& request = *s.approval->request;
  std::vector<std::string> sensitive = wf ? wf->sensitive : std::vector<std::string>{"inputs", "steps"};
  const bool unmasked = mayReadSensitive(who, wf);
  // Exactly what this person is shown; its digest is the evidence of what they decided on.
  out.shown = {{"summary", request.summary},
               {"workflow", run.workflow},
               {"version", run.version},
               {"step", step},
               {"options", request.options},
               {"recommendation", request.recommendation},
               {"show", maskShown(request.show, sensitive, unmasked)},
               {"rules", rulesShown(request.show, wf, events, sensitive, unmasked)},
               {"systems", systemsAsked(run, wf, s.startedAt)}};
  out.digest = merkle::toHex(merkle::sha256(out.shown.dump()));
  out.state = *s.approval;
  out.stepStatus = s.status;
  out.escalations = escalationsOf(events, step);
  return out;
}

nlohmann::json taskRowJson(const ApprovalRow& r, TimePoint now) {
  auto opt = [](const std::optional<TimePoint>& t) { return t ? nlohmann::json(formatTime(*t)) : nlohmann::json(); };
  nlohmann::json j = {{"id", r.runId + "/" + r.step},
                      {"run", r.runId},
                      {"step", r.step},
                      {"workflow", r.workflow},
                      {"version", r.version},
                      {"status", r.status},
                      {"roles", r.roles},
                      {"users", r.users},
                      {"requested_at", formatTime(r.requestedAt)},
                      {"due", opt(r.due)},
                      {"overdue", r.status == "open" && r.due && *r.due < now},
                      {"escalations", r.escalations},
                      {"priority", r.priority},
                      {"summary", r.summary},
                      {"recommendation", r.recommendation.empty() ? nlohmann::json() : nlohmann::json(r.recommendation)}};
  if (!r.claimedBy.empty() && r.claimUntil && *r.claimUntil > now) {
    j["claimed_by"] = r.claimedBy;
    j["claim_until"] = formatTime(*r.claimUntil);
  }
  if (r.status == "decided") {
    j["decision"] = r.decision;
    j["decided_by"] = r.decidedBy;
    j["decided_at"] = opt(r.decidedAt);
    j["agreed"] = r.agreed ? nlohmann::json(*r.agreed) : nlohmann::json();
  }
  return j;
}

nlohmann::json workflowSummaryJson(const Workflow& wf) {
  return {{"name", wf.name},   {"version", wf.version}, {"sha256", wf.hash},
          {"owner", wf.owner}, {"description", wf.description}};
}

nlohmann::json runSummaryJson(const RunSummary& r) {
  return {{"id", r.id},
          {"workflow", r.workflow},
          {"version", r.version},
          {"status", runStatusName(r.status)},
          {"started_by", r.startedBy},
          {"started_at", formatTime(r.startedAt)},
          {"updated_at", formatTime(r.updatedAt)},
          {"reference", r.reference},
          {"band", r.band}};
}

}  // namespace vigil::daemon
