// Approvals over the API: the inbox, one task as its approver sees it, claim, decide,
// reassign, and the override and SLA report. The rules themselves live in the engine
// (RunMachine::onApproval); this layer says who the caller is and what they were shown.
#include <cmath>
#include <map>

#include "api/resources.h"
#include "auth/assignees.h"

namespace vigil::daemon {
namespace {

// The engine's refusal as an HTTP answer. Its messages end in "; field: NAME" when one
// field is at fault.
HttpResponse refusal(const Status& s) {
  std::string message = s.message();
  std::string field;
  if (auto at = message.rfind("; field: "); at != std::string::npos) {
    field = message.substr(at + 9);
    message.resize(at);
  }
  switch (s.code()) {
    case Status::Code::kNotFound: return HttpResponse::error(404, "not_found", message);
    case Status::Code::kFailedPrecondition: return HttpResponse::error(409, "conflict", message);
    case Status::Code::kInvalidArgument:
      if (field == "roles" || message.rfind("four-eyes", 0) == 0) return HttpResponse::error(403, "not_allowed", message, field);
      return HttpResponse::error(400, "invalid_decision", message, field);
    default: return HttpResponse::error(503, "unavailable", "the approval could not be recorded now; nothing changed");
  }
}

ApprovalActor actorOf(const Principal& who) {
  return ApprovalActor{who.user, std::vector<std::string>(who.roles.begin(), who.roles.end())};
}

}  // namespace

std::vector<Route> ApprovalResource::routes() {
  using P = Permission;
  using R = ApprovalResource;
  return {
      {.method = "GET", .pattern = "/api/v1/approvals", .permission = P::kDecide, .handler = bind(&R::inbox)},
      {.method = "GET", .pattern = "/api/v1/approvals/report", .permission = P::kManageApprovals, .handler = bind(&R::report)},
      {.method = "GET", .pattern = "/api/v1/approvals/workload", .permission = P::kDecide, .handler = bind(&R::workload)},
      {.method = "GET", .pattern = "/api/v1/reports/late-decisions", .permission = P::kReadReports, .handler = bind(&R::lateDecisions)},
      // Opening a task is a consultation whose purpose is the decision itself.
      {.method = "GET", .pattern = "/api/v1/approvals/{run}/{step}", .permission = P::kDecide, .readsRunData = true,
       .purposeRequired = false, .handler = bind(&R::show)},
      {.method = "POST", .pattern = "/api/v1/approvals/{run}/{step}/claim", .permission = P::kDecide, .handler = bind(&R::claim)},
      {.method = "POST", .pattern = "/api/v1/approvals/{run}/{step}/decide", .permission = P::kDecide, .handler = bind(&R::decide)},
      {.method = "POST", .pattern = "/api/v1/approvals/{run}/{step}/reassign", .permission = P::kManageApprovals,
       .handler = bind(&R::reassign)},
  };
}

std::optional<HttpResponse> ApprovalResource::loadTask(HttpRequest& req, TaskView* out, const Principal& who) {
  const std::string runId = req.params["run"];
  const std::string step = req.params["step"];
  auto run = ctx_.store->runs().load(runId);
  if (!run) return HttpResponse::error(503, "store_unavailable", "the run cannot be read now");
  const StepState* s = run->has_value() ? (*run)->step(step) : nullptr;
  if (s == nullptr || !s->approval || !s->approval->requested()) {
    return HttpResponse::error(404, "not_found", "no approval task with that id");
  }
  if (!taskIsFor(*s->approval, who)) return HttpResponse::error(403, "forbidden", "this approval task is not assigned to you");
  auto events = ctx_.store->runs().events(runId);
  if (!events) return HttpResponse::error(503, "store_unavailable", "the run's history cannot be read now");
  auto wf = workflowOf(**run);
  *out = taskView(**run, step, *s, who, wf.get(), *events);
  out->form = decisionFormJson(wf.get(), step, *s->approval->request);
  return std::nullopt;
}

namespace {

// The inbox's paging cursor: the position of a page's last row, opaque to clients (hex of
// a JSON array, so any run id or step key survives a URL).
std::string encodeCursor(const ApprovalRow& r) {
  nlohmann::json j = {r.priority, r.due ? nlohmann::json(formatTime(*r.due)) : nlohmann::json(), formatTime(r.requestedAt), r.runId,
                      r.step};
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : j.dump()) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::optional<ApprovalFilter::Position> decodeCursor(const std::string& hex) {
  if (hex.empty() || hex.size() % 2 != 0 || hex.size() > 4096) return std::nullopt;
  std::string raw;
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto nib = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = nib(hex[i]), lo = nib(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    raw += static_cast<char>(hi * 16 + lo);
  }
  nlohmann::json j = nlohmann::json::parse(raw, nullptr, false);
  if (!j.is_array() || j.size() != 5 || !j[0].is_number() || !(j[1].is_null() || j[1].is_string()) || !j[2].is_string() ||
      !j[3].is_string() || !j[4].is_string()) {
    return std::nullopt;
  }
  ApprovalFilter::Position p;
  p.priority = j[0].get<double>();
  if (j[1].is_string()) {
    p.due = parseTime(j[1].get<std::string>());
    if (!p.due) return std::nullopt;
  }
  auto at = parseTime(j[2].get<std::string>());
  if (!at) return std::nullopt;
  p.requestedAt = *at;
  p.runId = j[3].get<std::string>();
  p.step = j[4].get<std::string>();
  return p;
}

}  // namespace

HttpResponse ApprovalResource::inbox(HttpRequest& req, Call& call) {
  const Principal& who = call.who;
  const TimePoint now = ctx_.clock->now();
  ApprovalFilter f;
  f.roles.assign(who.roles.begin(), who.roles.end());
  f.user = who.user;
  f.notExcluding = who.user;  // four-eyes: a task the caller may never decide is not theirs
  f.now = now;
  f.limit = 50;
  auto q = [&](const char* name) -> const std::string* {
    auto it = req.query.find(name);
    return it == req.query.end() ? nullptr : &it->second;
  };
  if (const auto* v = q("status")) {
    if (*v != "open" && *v != "decided" && *v != "closed" && *v != "any") {
      return HttpResponse::error(400, "invalid_request", "status must be open, decided, closed or any", "status");
    }
    f.status = *v == "any" ? "" : *v;
  }
  if (const auto* v = q("workflow")) f.workflow = *v;
  if (const auto* v = q("run")) f.runId = *v;
  if (const auto* v = q("band")) f.recommendation = *v;
  if (const auto* v = q("q")) {
    if (v->empty() || v->size() > 100) return HttpResponse::error(400, "invalid_request", "q must be 1 to 100 characters", "q");
    f.textContains = *v;
  }
  if (const auto* v = q("overdue")) {
    if (*v != "true" && *v != "false") return HttpResponse::error(400, "invalid_request", "overdue must be true or false", "overdue");
    if (*v == "true") f.overdueAsOf = now;
  }
  if (const auto* v = q("min_priority")) {
    char* end = nullptr;
    double p = std::strtod(v->c_str(), &end);
    if (v->empty() || *end != '\0' || !std::isfinite(p)) {
      return HttpResponse::error(400, "invalid_request", "min_priority must be a number", "min_priority");
    }
    f.minPriority = p;
  }
  if (const auto* v = q("assigned")) {
    using A = ApprovalFilter::Assigned;
    static const std::map<std::string, A> kAssigned = {{"any", A::kAny}, {"me", A::kMe}, {"my-roles", A::kMyRoles}, {"unclaimed", A::kUnclaimed}};
    auto it = kAssigned.find(*v);
    if (it == kAssigned.end()) {
      return HttpResponse::error(400, "invalid_request", "assigned must be any, me, my-roles or unclaimed", "assigned");
    }
    f.assigned = it->second;
  }
  if (const auto* v = q("limit")) {
    char* end = nullptr;
    long long n = std::strtoll(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || n < 1 || n > 500) {
      return HttpResponse::error(400, "invalid_request", "limit must be a whole number from 1 to 500", "limit");
    }
    f.limit = static_cast<size_t>(n);
  }
  if (const auto* v = q("cursor")) {
    f.after = decodeCursor(*v);
    if (!f.after) return HttpResponse::error(400, "invalid_request", "cursor is not one this server gave; list again from the start", "cursor");
  }
  auto page = ctx_.store->approvals().list(f);
  if (!page) return HttpResponse::error(503, "store_unavailable", "approvals cannot be read now");
  nlohmann::json items = nlohmann::json::array();
  for (const auto& r : page->rows) items.push_back(taskRowJson(r, now));
  // Every matching task is reachable: `total` says how many there are and `next_cursor`
  // continues after the last row shown, so nothing is ever cut off without saying so.
  nlohmann::json j = {{"items", items}, {"total", page->total}};
  if (page->more) j["next_cursor"] = encodeCursor(page->rows.back());
  return HttpResponse::json(200, j);
}

HttpResponse ApprovalResource::show(HttpRequest& req, Call& call) {
  const Principal& who = call.who;
  if (req.params["step"] == kCancellationTask) return showCancellation(req, call);
  TaskView t;
  if (auto bad = loadTask(req, &t, who)) return *bad;
  auto opened = ctx_.store->approvals().recordOpened(t.runId, t.step, who.user, ctx_.clock->now());
  if (!opened) return HttpResponse::error(503, "store_unavailable", "the task cannot be opened now");
  AccessRecord access;
  access.runId = t.runId;
  access.step = t.step;
  access.purpose = "deciding approval '" + t.step + "'";
  call.access = std::move(access);
  nlohmann::json j = t.shown;
  j["id"] = t.runId + "/" + t.step;
  j["run"] = t.runId;
  j["shown_digest"] = t.digest;
  j["opened_at"] = formatTime(*opened);
  j["status"] = t.status();
  j["assigned"] = {{"roles", t.state.roles}, {"users", t.state.users}};
  j["decision_form"] = t.form;
  j["due"] = t.state.request->due ? nlohmann::json(formatTime(*t.state.request->due)) : nlohmann::json();
  j["escalations"] = t.state.escalations;
  j["escalation_history"] = t.escalations;
  // Who holds it now (it changes while open: not part of what the digest covers).
  const TimePoint now = ctx_.clock->now();
  if (const auto& c = t.state.claim; c && c->until && *c->until > now) {
    j["claim"] = {{"by", c->by}, {"until", formatTime(*c->until)}, {"yours", c->by == who.user}};
  } else {
    j["claim"] = nullptr;
  }
  j["votes"] = nlohmann::json::array();
  for (const auto& v : t.state.votes) j["votes"].push_back({{"decision", v.decision}, {"decided_by", v.decidedBy}});
  return HttpResponse::json(200, j);
}

// The cancellation task: what a second person confirms or declines (POST
// /runs/{id}/cancellation), or what its requester may withdraw.
HttpResponse ApprovalResource::showCancellation(HttpRequest& req, Call& call) {
  const std::string runId = req.params["run"];
  auto run = ctx_.store->runs().load(runId);
  if (!run) return HttpResponse::error(503, "store_unavailable", "the run cannot be read now");
  nlohmann::json j = run->has_value() ? cancellationTaskJson(**run, call.who) : nlohmann::json();
  if (j.is_null()) {
    // Not told apart: a run nobody asked to cancel, and one the caller may not see.
    return HttpResponse::error(404, "not_found", "no cancellation task with that id for you");
  }
  AccessRecord access;
  access.runId = runId;
  access.step = kCancellationTask;
  access.purpose = "deciding the cancellation of the run";
  call.access = std::move(access);
  return HttpResponse::json(200, j);
}

// The open tasks of the caller's roles by who holds them (claimed, or nobody): how many,
// how many are due within the hour, how many are overdue. Counts and names only.
HttpResponse ApprovalResource::workload(HttpRequest&, Call& call) {
  const TimePoint now = ctx_.clock->now();
  ApprovalFilter f;
  f.roles.assign(call.who.roles.begin(), call.who.roles.end());
  f.user = call.who.user;
  f.assigned = ApprovalFilter::Assigned::kMyRoles;
  f.now = now;
  f.limit = 10000;
  auto page = ctx_.store->approvals().list(f);
  if (!page) return HttpResponse::error(503, "store_unavailable", "approvals cannot be read now");
  struct Load {
    long long open = 0, dueSoon = 0, overdue = 0;
  };
  std::map<std::string, Load> by;
  for (const auto& r : page->rows) {
    const bool held = !r.claimedBy.empty() && r.claimUntil && *r.claimUntil > now;
    Load& l = by[held ? r.claimedBy : ""];
    ++l.open;
    if (r.due && *r.due < now) {
      ++l.overdue;
    } else if (r.due && *r.due < now + std::chrono::hours(1)) {
      ++l.dueSoon;
    }
  }
  nlohmann::json people = nlohmann::json::array();
  for (const auto& [who, l] : by) {
    people.push_back({{"user", who.empty() ? nlohmann::json() : nlohmann::json(who)},
                      {"open", l.open},
                      {"due_within_hour", l.dueSoon},
                      {"overdue", l.overdue}});
  }
  return HttpResponse::json(200, {{"as_of", formatTime(now)},
                                  {"roles", f.roles},
                                  {"people", people},
                                  {"total", page->total},
                                  {"counted", page->rows.size()}});
}

HttpResponse ApprovalResource::claim(HttpRequest& req, Call& call) {
  const Principal& who = call.who;
  ApprovalAction a;
  a.kind = ApprovalAction::Kind::kClaim;
  a.actor = actorOf(who);
  a.claimFor = ctx_.claimDuration;
  Status s = ctx_.engine->actOnApproval(req.params["run"], req.params["step"], a);
  if (!s) return refusal(s);
  ctx_.log->info("user {} claimed approval {}/{}", who.user, req.params["run"], req.params["step"]);
  return HttpResponse::json(200, {{"id", req.params["run"] + "/" + req.params["step"]},
                                  {"claimed_by", who.user},
                                  {"claim_until", formatTime(ctx_.clock->now() + a.claimFor)}});
}

HttpResponse ApprovalResource::decide(HttpRequest& req, Call& call) {
  const Principal& who = call.who;
  nlohmann::json body;
  if (auto bad = parseJsonBody(req.body, &body)) return *bad;
  if (!body.is_object() || !body.contains("decision") || !body["decision"].is_string()) {
    return HttpResponse::error(400, "invalid_request",
                               "body must be {\"decision\", \"reason\", \"shown_digest\", \"rating\"?, \"form\"?, \"confirmed\"?}",
                               "decision");
  }
  if (body.contains("reason") && !body["reason"].is_string()) {
    return HttpResponse::error(400, "invalid_request", "reason must be a string", "reason");
  }
  if (body.contains("shown_digest") && !body["shown_digest"].is_string()) {
    return HttpResponse::error(400, "invalid_request", "shown_digest must be a string", "shown_digest");
  }
  // How the client had the person confirm (the vigil CLI: a prompt, or --yes); recorded in
  // the vote as the client states it, so scripted decisions can be told apart.
  std::optional<Confirmation> confirmed = Confirmation::kUnstated;
  if (body.contains("confirmed")) {
    confirmed = body["confirmed"].is_string() ? parseConfirmation(body["confirmed"].get<std::string>()) : std::nullopt;
    if (!confirmed || *confirmed == Confirmation::kUnstated) {
      return HttpResponse::error(400, "invalid_request", "confirmed must be \"interactive\" or \"yes_flag\"", "confirmed");
    }
  }
  TaskView t;
  if (auto bad = loadTask(req, &t, who)) return *bad;
  auto opened = ctx_.store->approvals().openedAt(t.runId, t.step, who.user);
  if (!opened) return HttpResponse::error(503, "store_unavailable", "the task cannot be read now");
  if (!opened->has_value()) {
    return HttpResponse::error(409, "not_opened", "open the task (GET it) before deciding, so what you saw is recorded");
  }
  if (body.value("shown_digest", "") != t.digest) {
    return HttpResponse::error(409, "stale_view",
                               "shown_digest does not match what this task shows now; open it again and decide on what you see",
                               "shown_digest");
  }
  ApprovalAction a;
  a.kind = ApprovalAction::Kind::kDecide;
  a.actor = actorOf(who);
  a.decision = body["decision"].get<std::string>();
  a.reason = body.value("reason", "");
  a.rating = body.value("rating", nlohmann::json());
  a.form = body.value("form", nlohmann::json::object());
  a.shownDigest = t.digest;
  a.openedAt = **opened;
  a.confirmed = *confirmed;
  Status s = ctx_.engine->actOnApproval(t.runId, t.step, a);
  if (!s) return refusal(s);
  ctx_.log->info("user {} decided approval {}/{}", who.user, t.runId, t.step);
  auto run = ctx_.store->runs().load(t.runId);
  nlohmann::json j = {{"id", t.runId + "/" + t.step}, {"decision", a.decision}, {"decided_by", who.user}};
  if (a.confirmed != Confirmation::kUnstated) j["confirmed"] = confirmationName(a.confirmed);
  if (run && run->has_value()) {
    const StepState* st = (*run)->step(t.step);
    j["status"] = st != nullptr && st->approval && st->approval->decided() ? "decided" : "waiting_for_quorum";
  }
  return HttpResponse::json(200, j);
}

HttpResponse ApprovalResource::reassign(HttpRequest& req, Call& call) {
  const Principal& who = call.who;
  nlohmann::json body;
  if (auto bad = parseJsonBody(req.body, &body)) return *bad;
  if (!body.is_object()) return HttpResponse::error(400, "invalid_request", "body must be {\"users\", \"roles\", \"reason\"}");
  ApprovalAction a;
  a.kind = ApprovalAction::Kind::kReassign;
  a.actor = actorOf(who);
  for (const char* key : {"users", "roles"}) {
    const auto v = body.value(key, nlohmann::json::array());
    if (!v.is_array()) return HttpResponse::error(400, "invalid_request", std::string(key) + " must be a list of names", key);
    for (const auto& n : v) {
      if (!n.is_string() || n.get<std::string>().empty() || n.get<std::string>().size() > 64) {
        return HttpResponse::error(400, "invalid_request", std::string(key) + " must be a list of names", key);
      }
      (std::string(key) == "users" ? a.toUsers : a.toRoles).push_back(n.get<std::string>());
    }
  }
  a.reason = body.value("reason", nlohmann::json("")).is_string() ? body.value("reason", "") : "";
  // A task given to a misspelt, disabled or excluded person, or to a role nobody can act
  // for, would vanish from every inbox that matters: refuse it, saying which name and why.
  auto row = ctx_.store->approvals().find(req.params["run"], req.params["step"]);
  if (!row) return HttpResponse::error(503, "store_unavailable", "the task cannot be read now");
  if (!row->has_value()) return HttpResponse::error(404, "not_found", "no approval task with that id");
  if (ctx_.users != nullptr) {
    auto people = Assignees::load(*ctx_.users);
    if (!people) return HttpResponse::error(503, "unavailable", "users cannot be read now; nothing was reassigned");
    for (const auto& u : a.toUsers) {
      if (auto why = people->whyNotUser(u, (*row)->excluded); !why.empty()) return HttpResponse::error(400, "invalid_assignee", why, "users");
    }
    for (const auto& r : a.toRoles) {
      if (auto why = people->whyNotRole(r, (*row)->excluded); !why.empty()) return HttpResponse::error(400, "invalid_assignee", why, "roles");
    }
  }
  Status s = ctx_.engine->actOnApproval(req.params["run"], req.params["step"], a);
  if (!s) return refusal(s);
  ctx_.log->info("user {} reassigned approval {}/{}", who.user, req.params["run"], req.params["step"]);
  return HttpResponse::json(200, {{"id", req.params["run"] + "/" + req.params["step"]}, {"users", a.toUsers}, {"roles", a.toRoles}});
}

namespace {

// One group of people's votes as the report gives it: override rate, and the share of
// timed votes taken within the quick threshold of opening (the rubber-stamp indicator).
nlohmann::json decisionJson(const DecisionStats& d) {
  auto rate = [](long long n, long long of) { return of == 0 ? 0.0 : double(n) / double(of); };
  return {{"decisions", d.decisions},
          {"with_recommendation", d.withRecommendation},
          {"overridden", d.overridden},
          {"override_rate", rate(d.overridden, d.withRecommendation)},
          {"timed", d.timed},
          {"quick", d.quick},
          {"quick_share", rate(d.quick, d.timed)},
          {"yes_flag", d.yesFlag},
          {"mean_seconds_from_opening", d.meanSecondsFromOpening}};
}

}  // namespace

HttpResponse ApprovalResource::report(HttpRequest&, Call&) {
  const TimePoint now = ctx_.clock->now();
  auto stats = ctx_.store->approvals().stats(now);
  if (!stats) return HttpResponse::error(503, "store_unavailable", "approvals cannot be read now");
  // Per person and per rule (step, then by recommended band), from the recorded votes.
  auto byApprover = ctx_.store->approvals().decisionStats(DecisionStats::By::kApprover, ctx_.quickDecision);
  auto byStep = ctx_.store->approvals().decisionStats(DecisionStats::By::kStep, ctx_.quickDecision);
  auto byBand = ctx_.store->approvals().decisionStats(DecisionStats::By::kBand, ctx_.quickDecision);
  if (!byApprover || !byStep || !byBand) return HttpResponse::error(503, "store_unavailable", "approvals cannot be read now");
  nlohmann::json approvers = nlohmann::json::array();
  for (const auto& d : *byApprover) {
    nlohmann::json j = decisionJson(d);
    j["user"] = d.decidedBy;
    approvers.push_back(std::move(j));
  }
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& d : *byStep) {
    nlohmann::json j = decisionJson(d);
    j["workflow"] = d.workflow;
    j["step"] = d.step;
    j["by_recommendation"] = nlohmann::json::array();
    for (const auto& b : *byBand) {
      if (b.workflow != d.workflow || b.step != d.step) continue;
      nlohmann::json bj = decisionJson(b);
      bj["recommendation"] = b.recommendation.empty() ? nlohmann::json() : nlohmann::json(b.recommendation);
      j["by_recommendation"].push_back(std::move(bj));
    }
    rules.push_back(std::move(j));
  }
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : *stats) {
    steps.push_back({{"workflow", s.workflow},
                     {"step", s.step},
                     {"decided", s.decided},
                     {"with_recommendation", s.withRecommendation},
                     {"overridden", s.overridden},
                     {"override_rate", s.withRecommendation == 0 ? 0.0 : double(s.overridden) / double(s.withRecommendation)},
                     {"open", s.open},
                     {"overdue", s.overdue},
                     {"mean_seconds_to_decision", s.meanSecondsToDecision},
                     {"max_seconds_to_decision", s.maxSecondsToDecision}});
  }
  ApprovalFilter open;
  open.limit = 1000;
  auto rows = ctx_.store->approvals().list(open);
  if (!rows) return HttpResponse::error(503, "store_unavailable", "approvals cannot be read now");
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& r : rows->rows) tasks.push_back(taskRowJson(r, now));
  return HttpResponse::json(200, {{"steps", steps},
                                  {"quick_decision_seconds", ctx_.quickDecision.count()},
                                  {"approvers", approvers},
                                  {"rules", rules},
                                  {"open", tasks},
                                  {"open_total", rows->total}});
}

// Decisions that missed their due time (the SLA), and open tasks already past it, oldest
// request first. Run ids, steps and times only: no personal data, so no purpose needed.
HttpResponse ApprovalResource::lateDecisions(HttpRequest& req, Call&) {
  const TimePoint now = ctx_.clock->now();
  ApprovalFilter f;
  f.status = "";
  f.lateAsOf = now;
  f.limit = 1000;
  if (auto it = req.query.find("workflow"); it != req.query.end()) f.workflow = it->second;
  if (auto it = req.query.find("since"); it != req.query.end()) {
    f.requestedSince = parseTime(it->second);
    if (!f.requestedSince) return HttpResponse::error(400, "invalid_request", "since must be an ISO-8601 date or time", "since");
  }
  if (auto it = req.query.find("limit"); it != req.query.end()) {
    char* end = nullptr;
    long long n = std::strtoll(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || n < 1 || n > 10000) {
      return HttpResponse::error(400, "invalid_request", "limit must be a whole number from 1 to 10000", "limit");
    }
    f.limit = static_cast<size_t>(n);
  }
  auto rows = ctx_.store->approvals().list(f);
  if (!rows) return HttpResponse::error(503, "store_unavailable", "approvals cannot be read now");
  nlohmann::json items = nlohmann::json::array();
  for (const auto& r : rows->rows) {
    nlohmann::json j = taskRowJson(r, now);
    const TimePoint until = r.status == "decided" && r.decidedAt ? *r.decidedAt : now;
    j["late_seconds"] = std::chrono::duration_cast<std::chrono::seconds>(until - *r.due).count();
    items.push_back(std::move(j));
  }
  return HttpResponse::json(200, {{"as_of", formatTime(now)}, {"items", std::move(items)}, {"total", rows->total}});
}

}  // namespace vigil::daemon
