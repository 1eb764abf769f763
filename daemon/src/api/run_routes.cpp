// Runs over the API: start (and start once per Idempotency-Key, as webhooks do), list,
// show, cancel with a second person's confirmation.
#include <algorithm>

#include "api/change_hub.h"
#include "api/masking.h"
#include "api/middleware.h"
#include "api/query_params.h"
#include "api/resources.h"
#include "area_file.h"
#include "vigil/loader.h"
#include "vigil/merkle.h"

namespace vigil::daemon {

std::vector<Route> RunResource::routes() {
  using P = Permission;
  using R = RunResource;
  return {
      {.method = "POST", .pattern = "/api/v1/runs", .permission = P::kStartRuns, .handler = bind(&R::start)},
      {.method = "GET", .pattern = "/api/v1/runs", .permission = P::kReadRuns, .readsRunData = true, .handler = bind(&R::list)},
      {.method = "GET", .pattern = "/api/v1/runs/{id}", .permission = P::kReadRuns, .readsRunData = true, .handler = bind(&R::show)},
      {.method = "POST", .pattern = "/api/v1/runs/{id}/cancel", .permission = P::kCancelRuns, .handler = bind(&R::cancel)},
      {.method = "POST", .pattern = "/api/v1/runs/{id}/cancellation", .permission = P::kDecide, .handler = bind(&R::decideCancellation)},
      {.method = "POST", .pattern = "/api/v1/hooks/{path*}", .permission = P::kStartRuns, .signedDelivery = true,
       .handler = bind(&R::webhook)},
  };
}

namespace {

// The Idempotency-Key header into *key: 8 to 200 printable ASCII characters (the key is part
// of a signed delivery's signed text, so its bytes must be unambiguous). Absent: "" when
// optional, else the 400 to send.
std::optional<HttpResponse> readIdempotencyKey(const HttpRequest& req, bool required, std::string* key) {
  *key = req.header("idempotency-key");
  if (key->empty() && !required) return std::nullopt;
  if (key->empty()) {
    return HttpResponse::error(400, "idempotency_key_required",
                               "send an Idempotency-Key header (8 to 200 characters) so a retried delivery starts one run",
                               "Idempotency-Key");
  }
  const bool printable = std::all_of(key->begin(), key->end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
  if (key->size() < 8 || key->size() > 200 || !printable) {
    return HttpResponse::error(400, "idempotency_key_invalid", "Idempotency-Key must be 8 to 200 printable ASCII characters",
                               "Idempotency-Key");
  }
  return std::nullopt;
}

// The run id a caller's key names: the same caller and key give the same id on every
// delivery and after any restart, so the engine's "run already exists" finds the first run;
// another caller's same key gives another id, so nobody is handed someone else's run.
std::string keyedRunId(const std::string& caller, const std::string& key) {
  // Neither a user name nor a header value holds a newline, so the text is unambiguous.
  const std::string hex = merkle::toHex(merkle::sha256("vigil idempotency v2\n" + caller + "\n" + key));
  return "k-" + hex.substr(0, 24);
}

}  // namespace

HttpResponse RunResource::start(HttpRequest& req, Call& call) {
  const Principal& who = call.who;
  std::optional<std::chrono::seconds> wait;
  if (auto it = req.query.find("wait"); it != req.query.end()) {
    wait = parseWait(it->second);
    if (!wait) return HttpResponse::error(400, "invalid_request", "wait must be a number of seconds from 1 to 120 (\"30s\" or \"30\")", "wait");
    if (ctx_.changes == nullptr) return HttpResponse::error(400, "invalid_request", "this server does not offer waiting starts", "wait");
  }
  HttpResponse started = startNow(req, who);
  return wait ? awaitSettled(std::move(started), who, *wait) : started;
}

std::optional<std::chrono::seconds> RunResource::parseWait(const std::string& text) {
  std::string digits = text;
  if (!digits.empty() && digits.back() == 's') digits.pop_back();
  if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const int n = std::stoi(digits);
  if (n < 1 || n > 120) return std::nullopt;
  return std::chrono::seconds(n);
}

HttpResponse RunResource::awaitSettled(HttpResponse started, const Principal& who, std::chrono::seconds wait) {
  if (started.status != 200 && started.status != 201) return started;
  const nlohmann::json first = nlohmann::json::parse(started.body, nullptr, false);
  if (!first.is_object() || !first.contains("id")) return started;
  const std::string id = first["id"].get<std::string>();
  const int code = started.status;
  HttpResponse later;
  later.later = [this, id, who, wait, code](std::function<void(HttpResponse)> reply) {
    ctx_.changes->awaitRun(id, std::chrono::steady_clock::now() + wait,
                           [this, id, who, wait, code, reply](std::optional<RunCommitted>) { reply(settledAnswer(id, who, wait, code)); });
    // It may have ended or parked before the wait began: then answer at once.
    auto run = ctx_.store->runs().load(id);
    if (run && run->has_value() && (*run)->status != RunStatus::kRunning) {
      ctx_.changes->publish({{id, (*run)->status, (*run)->lastSeq, false}});
    }
  };
  return later;
}

HttpResponse RunResource::settledAnswer(const std::string& id, const Principal& who, std::chrono::seconds wait, int code) {
  auto run = ctx_.store->runs().load(id);
  if (!run || !run->has_value()) {
    return HttpResponse::error(503, "unavailable", "the run " + id + " was started but cannot be read now; follow it at GET /api/v1/runs/" + id);
  }
  const RunState& st = **run;
  nlohmann::json j = {{"id", id}, {"workflow", st.workflow}, {"status", runStatusName(st.status)}, {"duplicate", code == 200}};
  if (st.status == RunStatus::kRunning) {
    j["message"] = "still running after " + std::to_string(wait.count()) + " s; follow it at GET /api/v1/runs/" + id +
                   " or GET /api/v1/events?run=" + id;
    return HttpResponse::json(202, j);
  }
  nlohmann::json waitingOn = nlohmann::json::array();
  for (const auto& [key, step] : st.steps) {
    if (step.status == StepStatus::kWaiting) waitingOn.push_back(key);
  }
  if (!waitingOn.empty()) j["waiting_on"] = waitingOn;
  if (!st.error.is_null()) j["error"] = st.error;
  if (!st.outputs.is_null() && !st.outputs.empty()) {
    // The result handed back is a read of run data like any other: masked and recorded.
    auto wf = workflowOf(st);
    j["outputs"] = mayReadSensitive(who, wf.get())
                       ? st.outputs
                       : maskAt(st.outputs, "outputs", wf ? wf->sensitive : std::vector<std::string>{"outputs"});
    AccessRecord access;
    access.runId = id;
    if (!recordAccess(ctx_, who, access, "the result of a run this caller started and waited for")) {
      return HttpResponse::error(503, "unavailable",
                                 "the run " + id + " is " + runStatusName(st.status) +
                                     " but reading its outputs could not be recorded in the audit trail; they were not returned");
    }
  }
  return HttpResponse::json(code, j);
}

HttpResponse RunResource::startNow(HttpRequest& req, const Principal& who) {
  nlohmann::json body;
  if (auto bad = parseJsonBody(req.body, &body)) return *bad;
  if (!body.is_object() || !body.contains("workflow") || !body["workflow"].is_string()) {
    return HttpResponse::error(400, "invalid_request", "body must be {\"workflow\": NAME, \"inputs\": {...}}", "workflow");
  }
  nlohmann::json inputs = body.value("inputs", nlohmann::json::object());
  std::string key;
  if (auto bad = readIdempotencyKey(req, false, &key)) return *bad;
  if (!key.empty()) return startOnce(body["workflow"].get<std::string>(), inputs, who, key, "POST /api/v1/runs");
  auto id = ctx_.engine->startRun(body["workflow"].get<std::string>(), inputs, who.user);
  if (!id) {
    const Status& s = id.status();
    if (s.code() == Status::Code::kNotFound) return HttpResponse::error(404, "unknown_workflow", s.message(), "workflow");
    if (s.code() == Status::Code::kInvalidArgument) return HttpResponse::error(400, "invalid_inputs", s.message(), "inputs");
    return HttpResponse::error(503, "unavailable", "the run could not be started; nothing was recorded");
  }
  ctx_.log->info("user {} started run {}", who.user, *id);
  return HttpResponse::json(201, {{"id", *id}, {"workflow", body["workflow"]}, {"status", "started"}});
}

HttpResponse RunResource::webhook(HttpRequest& req, Call& call) {
  const Principal& who = call.who;
  const auto hook = ctx_.catalog->webhook("/" + req.params["path"]);
  if (!hook) return HttpResponse::error(404, "not_found", "no workflow listens on this webhook");
  std::string key;
  if (auto bad = readIdempotencyKey(req, true, &key)) return *bad;
  nlohmann::json inputs;
  if (auto bad = parseJsonBody(req.body, &inputs)) return *bad;
  HttpResponse started = startOnce(hook->workflow, inputs, who, key, "webhook /" + req.params["path"]);
  // The trigger's `wait:` opts its deliveries in to "answer when done"; a repeated delivery
  // waits the same way, so a retry after a dropped answer still gets the outcome.
  if (!hook->wait || ctx_.changes == nullptr) return started;
  return awaitSettled(std::move(started), who, std::chrono::duration_cast<std::chrono::seconds>(*hook->wait));
}

HttpResponse RunResource::startOnce(const std::string& workflow, const nlohmann::json& inputs, const Principal& who,
                            const std::string& key, const std::string& via) {
  const std::string id = keyedRunId(who.user, key);
  const char* kRetry = "the run could not be started; deliver again with the same key";
  // Looked up first, so a repeat is answered the same way whether or not its inputs would
  // still be valid; the engine's refusal of an existing id covers two deliveries at once.
  auto existing = ctx_.store->runs().load(id);
  if (!existing) return HttpResponse::error(503, "unavailable", kRetry);
  if (existing->has_value()) return repeatedKey(**existing, workflow, inputs, who, via);
  auto started = ctx_.engine->startRun(workflow, inputs, who.user, id);
  if (!started) {
    const Status& s = started.status();
    if (s.code() == Status::Code::kAlreadyExists) {
      auto first = ctx_.store->runs().load(id);
      // Not readable yet: the other delivery is still being committed; a retry will find it.
      if (!first || !first->has_value()) return HttpResponse::error(503, "unavailable", kRetry);
      return repeatedKey(**first, workflow, inputs, who, via);
    }
    if (s.code() == Status::Code::kNotFound) return HttpResponse::error(404, "unknown_workflow", s.message(), "workflow");
    if (s.code() == Status::Code::kInvalidArgument) return HttpResponse::error(400, "invalid_inputs", s.message(), "inputs");
    return HttpResponse::error(503, "unavailable", kRetry);
  }
  ctx_.log->info("{} from user {} started run {}", via, who.user, id);
  return HttpResponse::json(201, {{"id", id}, {"workflow", workflow}, {"status", "started"}, {"duplicate", false}});
}

HttpResponse RunResource::repeatedKey(const RunState& first, const std::string& workflow, const nlohmann::json& inputs,
                              const Principal& who, const std::string& via) {
  // This request, read as the first run's definition read its inputs (defaults filled in),
  // against what the first run was started with: the key is bound to the request.
  bool same = first.workflow == workflow && first.startedBy == who.user;
  if (same) {
    auto wf = workflowOf(first);
    if (!wf) return HttpResponse::error(503, "unavailable", "the first run with this key cannot be read now; deliver again");
    auto read = validateInputs(*wf, inputs);
    same = read.isOk() && *read == first.inputs;
  }
  if (!same) {
    // Neither body goes in the log: they hold the referral.
    ctx_.log->warn("{} from user {}: Idempotency-Key reused with another request; refused, run {} kept as it was", via,
                   who.user, first.id);
    return HttpResponse::error(422, "idempotency_key_reused",
                               "this Idempotency-Key was already used for another request; nothing was started. Send a "
                               "new key for a new request, or the same request again to find its run",
                               "Idempotency-Key");
  }
  return HttpResponse::json(
      200, {{"id", first.id}, {"workflow", workflow}, {"status", runStatusName(first.status)}, {"duplicate", true}});
}

HttpResponse RunResource::list(HttpRequest& req, Call& call) {
  const Principal& who = call.who;
  RunFilter f;
  if (auto it = req.query.find("status"); it != req.query.end()) {
    f.status = parseRunStatus(it->second);
    if (!f.status) return HttpResponse::error(400, "invalid_request", "status must be running, waiting, completed, failed or cancelled", "status");
  }
  if (auto it = req.query.find("workflow"); it != req.query.end()) f.workflow = it->second;
  if (auto it = req.query.find("started_by"); it != req.query.end()) f.startedBy = it->second;
  if (auto it = req.query.find("band"); it != req.query.end()) {
    if (it->second.empty() || it->second.size() > 40) return HttpResponse::error(400, "invalid_request", "band must be 1 to 40 characters", "band");
    f.band = it->second;
  }
  if (auto it = req.query.find("q"); it != req.query.end()) {
    if (it->second.empty() || it->second.size() > 100) return HttpResponse::error(400, "invalid_request", "q must be 1 to 100 characters", "q");
    f.search = it->second;
  }
  // from= and to=: a date (the whole day, UTC) or a UTC time; to= is exclusive for a time and
  // takes in its whole day for a date.
  for (const char* key : {"from", "to"}) {
    auto it = req.query.find(key);
    if (it == req.query.end()) continue;
    auto t = parseDateOrTime(it->second);
    if (!t) return HttpResponse::error(400, "invalid_request", std::string(key) + " must be a date (2026-12-01) or a UTC time", key);
    if (std::string(key) == "from") {
      f.startedFrom = t->start;
    } else {
      f.startedTo = t->end();
    }
  }
  if (auto it = req.query.find("after"); it != req.query.end()) f.after = it->second;
  if (auto it = req.query.find("limit"); it != req.query.end()) {
    auto n = parseCount(it->second, 1, 1000);
    if (!n) return HttpResponse::error(400, "invalid_request", "limit must be between 1 and 1000", "limit");
    f.limit = static_cast<size_t>(*n);
  }
  auto runs = ctx_.store->runs().list(f);
  if (!runs) return HttpResponse::error(503, "store_unavailable", "runs cannot be read now");
  nlohmann::json items = nlohmann::json::array();
  for (const auto& r : *runs) items.push_back(runSummaryJson(r));
  nlohmann::json listed = nlohmann::json::array();
  for (const auto& r : *runs) listed.push_back(r.id);
  AccessRecord access;
  access.what = {{"listed_runs", listed}, {"token", who.tokenId}};
  call.access = std::move(access);
  nlohmann::json j = {{"items", items}};
  if (items.size() == f.limit) j["next"] = items.back()["id"];
  return HttpResponse::json(200, j);
}

HttpResponse RunResource::show(HttpRequest& req, Call& call) {
  const Principal& who = call.who;
  const std::string& id = req.params["id"];
  auto run = ctx_.store->runs().load(id);
  if (!run) return HttpResponse::error(503, "store_unavailable", "the run cannot be read now");
  if (!run->has_value()) return HttpResponse::error(404, "not_found", "no run with that id");
  RunViewContext view;
  for (const char* flag : {"calls", "events"}) {
    auto it = req.query.find(flag);
    if (it != req.query.end() && it->second != "1" && it->second != "0") {
      return HttpResponse::error(400, "invalid_request", std::string(flag) + " must be 1 or 0", flag);
    }
  }
  if (auto it = req.query.find("calls"); it != req.query.end()) view.replay = it->second == "1";
  if (auto it = req.query.find("events"); it != req.query.end()) view.events = it->second == "1";
  // The replay reads the history even when the answer leaves it out.
  std::vector<Event> history;
  if (view.events || view.replay) {
    auto events = ctx_.store->runs().events(id);
    if (!events) return HttpResponse::error(503, "store_unavailable", "the run's history cannot be read now");
    history = std::move(*events);
  }
  view.workflow = workflowOf(**run);
  view.unmasked = mayReadSensitive(who, view.workflow.get());
  view.connectors = ctx_.connectors;
  if (view.replay && !(*run)->areaHash.empty()) {
    // The calendars and timescales it started under, as kept: a replay uses exactly them.
    auto area = keptArea(ctx_.dataDir, (*run)->areaHash);
    if (area) {
      view.area = *area;
    } else {
      view.areaProblem = "the area it started under cannot be read";
    }
  }
  nlohmann::json j = runViewJson(**run, history, view);  // the fold of the chained history (Store::loadRun)
  AccessRecord access;
  access.runId = id;
  call.access = std::move(access);
  return HttpResponse::json(200, j);
}

namespace {

// The engine's refusal of a cancellation as an HTTP answer.
HttpResponse cancelRefusal(const Status& s) {
  switch (s.code()) {
    case Status::Code::kNotFound: return HttpResponse::error(404, "not_found", "no run with that id");
    case Status::Code::kFailedPrecondition: return HttpResponse::error(409, "conflict", s.message());
    case Status::Code::kInvalidArgument: {
      std::string m = s.message();
      if (auto at = m.rfind("; field: "); at != std::string::npos) m.resize(at);
      return HttpResponse::error(403, "not_allowed", m);
    }
    default: return HttpResponse::error(503, "unavailable", "the cancellation could not be recorded now; nothing changed");
  }
}

}  // namespace

// The first person's request. Unless the workflow allows one person (`cancel: single`), the
// run carries on and the request waits, as an inbox task, for someone holding the
// workflow's owner role to confirm or decline it.
HttpResponse RunResource::cancel(HttpRequest& req, Call& call) {
  const Principal& who = call.who;
  nlohmann::json body = nlohmann::json::object();
  if (!req.body.empty()) {
    if (auto bad = parseJsonBody(req.body, &body)) return *bad;
  }
  std::string reason = body.is_object() && body.value("reason", nlohmann::json()).is_string() ? body.value("reason", "") : "";
  if (reason.size() < 10) return HttpResponse::error(400, "reason_required", "say why the run is to be cancelled (at least 10 characters)", "reason");
  RunMachine::CancelInput in;
  in.by = {who.user, std::vector<std::string>(who.roles.begin(), who.roles.end())};
  in.reason = reason;
  const std::string& id = req.params["id"];
  Status s = ctx_.engine->cancelRun(id, in);
  if (!s) return cancelRefusal(s);
  auto run = ctx_.store->runs().load(id);
  const bool cancelled = run && run->has_value() && (*run)->status == RunStatus::kCancelled;
  ctx_.log->info("user {} {} run {}", who.user, cancelled ? "cancelled" : "asked to cancel", id);
  if (cancelled) return HttpResponse::json(200, {{"id", id}, {"status", "cancelled"}});
  nlohmann::json roles = run && run->has_value() ? (*run)->cancellation.value("roles", nlohmann::json::array()) : nlohmann::json::array();
  return HttpResponse::json(202, {{"id", id}, {"status", "cancellation_requested"}, {"confirm_by", roles},
                                  {"task", id + "/" + kCancellationTask}});
}

// A second person confirms (the run is cancelled) or declines (it carries on). A refusal is
// itself recorded in the audit trail: who tried to confirm what, and why it was refused.
HttpResponse RunResource::decideCancellation(HttpRequest& req, Call& call) {
  const Principal& who = call.who;
  nlohmann::json body;
  if (auto bad = parseJsonBody(req.body, &body)) return *bad;
  const std::string decision = body.is_object() && body.value("decision", nlohmann::json()).is_string() ? body.value("decision", "") : "";
  if (decision != "confirm" && decision != "decline") {
    return HttpResponse::error(400, "invalid_request", "decision must be confirm or decline", "decision");
  }
  std::string reason = body.value("reason", nlohmann::json()).is_string() ? body.value("reason", "") : "";
  if (reason.size() < 10) return HttpResponse::error(400, "reason_required", "say why (at least 10 characters)", "reason");
  RunMachine::CancelInput in;
  in.kind = decision == "confirm" ? RunMachine::CancelInput::Kind::kConfirm : RunMachine::CancelInput::Kind::kDecline;
  in.by = {who.user, std::vector<std::string>(who.roles.begin(), who.roles.end())};
  in.reason = reason;
  const std::string& id = req.params["id"];
  Status s = ctx_.engine->cancelRun(id, in);
  if (!s) {
    if (s.code() == Status::Code::kInvalidArgument || s.code() == Status::Code::kFailedPrecondition) {
      recordAdmin(who, "cancellation refused",
                  {{"event", "cancellation_refused"}, {"run", id}, {"decision", decision}, {"why", s.message()}});
    }
    return cancelRefusal(s);
  }
  ctx_.log->info("user {} {}ed the cancellation of run {}", who.user, decision == "confirm" ? "confirm" : "declin", id);
  return HttpResponse::json(200, {{"id", id}, {"status", decision == "confirm" ? "cancelled" : "cancellation_declined"}});
}

}  // namespace vigil::daemon
