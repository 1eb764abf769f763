// Fuzzes API request bodies: the strict JSON body parser (parseJsonBody: depth, duplicate
// keys, numbers out of range, invalid UTF-8 and lone surrogates, each a 400 with a JSON
// pointer), then the route a body is sent to, through Api::handle with a real user store,
// catalogue and SQLite store, so each route's own checks of the parsed body run as in the
// daemon, and behind them the engine's: inputs against the workflow's types
// (validateInputs), cancellation and approval rules (RunMachine::cancel, onApproval).
//
// Input: a first line naming the route and, optionally, an Idempotency-Key after a space;
// the rest is the body. Routes: start, hook, validate, cancel, cancellation, decide,
// reassign; any other first line sends the body to parseJsonBody alone. In a `decide`
// body the text @digest@ stands for the task's shown_digest, which a client echoes from
// GET (a fuzzer cannot guess a SHA-256).
//
// The engine behind the API applies each input to a copy of the run's state with the pure
// RunMachine and commits nothing (see DryRunEngine), so every input meets the same state: the world (two runs,
// one waiting at an approval, one with a cancellation pending) is made once, by a real
// engine, in a per-process scratch directory removed at exit. Nothing touches the network.
//
// Besides the sanitizers: a body parseJsonBody accepts is valid JSON that serialises and
// parses back to the same value; a body it refuses gets a 400 with one of its four codes.
#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include "api/api.h"
#include "fuzz_support.h"
#include "auth/assignees.h"
#include "auth/user_store.h"
#include "catalog/workflow_catalog.h"
#include "vigil/engine.h"
#include "vigil/loader.h"
#include "vigil/machine.h"
#include "vigil/store.h"

namespace {

using namespace vigil;
using namespace vigil::daemon;

constexpr const char* kWorkflow = R"(workflow: fuzz-review
version: 1
owner: mash-supervisor
inputs:
  referral:
    type: object
    required: [id, child]
    properties:
      id: string
      source: { type: string, enum: [police, school, health] }
      child:
        type: object
        required: [name, dob]
        properties: { name: string, dob: string }
      concerns: { type: array, items: { type: string } }
      previous: { type: integer, default: 0 }
      score: number
      urgent: { type: boolean, default: false }
  note: { type: any, default: null }
sensitive: [inputs.referral.child]
triggers:
  - webhook: /fuzz/intake
steps:
  - id: rate
    decide:
      rules:
        - { when: "'violence' in inputs.referral.concerns", score: 4, reason: "Violence reported" }
        - { when: "inputs.referral.previous >= 2", score: 3, reason: "Repeat referral" }
      bands: { RED: 6, AMBER: 3, GREEN: 0 }
  - id: review
    approval:
      assign: { roles: [mash-supervisor], users: [dana] }
      distinct_from: [started_by]
      quorum: 2
      options: [agree, override_to_red, override_to_amber, override_to_green, reject]
      ratings: { override_to_red: RED, override_to_amber: AMBER, override_to_green: GREEN }
      reason: { required: true, min_length: 10 }
      recommendation: steps.rate.output.band
      show: [steps.rate.output, inputs.referral]
      form:
        notes: string
        follow_up: boolean
        risk: { type: string, enum: [low, high] }
        contacts: { type: array, items: { type: object, required: [name], properties: { name: string, age: integer } } }
      summary: "Referral ${{ inputs.referral.id }}"
outputs:
  decision: "${{ steps.review.decision }}"
)";

constexpr const char* kInputs =
    R"({"referral": {"id": "R-1", "source": "police", "child": {"name": "Test Child", "dob": "2015-04-01"},
        "concerns": ["violence", "neglect"], "previous": 2, "score": 0.5}})";

using vigil::fuzz::require;

// Applies each input to a copy of its run's state with the engine's pure core and keeps
// nothing: the rules the committer applies, without a commit. A refusal is the machine's;
// an accepted cancellation or approval action is answered as a write the store refused
// (the route then answers 503), because the route reads the run back after a success. A
// start needs no read back: an accepted one gives its run id.
class DryRunEngine final : public Engine {
 public:
  DryRunEngine(std::shared_ptr<Store> store, std::shared_ptr<Clock> clock) : store_(std::move(store)), clock_(std::move(clock)) {}

  Status publish(std::shared_ptr<const Workflow> wf, const std::string&) override {
    auto m = std::make_shared<const RunMachine>(wf);
    byName_[wf->name] = m;
    byHash_[wf->hash] = m;
    return Status::ok();
  }
  Status start() override { return Status::ok(); }
  void stop() override {}

  Result<std::string> startRun(const std::string& workflow, const Json& inputs, const std::string& startedBy,
                               const std::string& runId) override {
    auto m = byName_.find(workflow);
    if (m == byName_.end()) return Status::notFound("no published workflow named '" + workflow + "'");
    auto checked = validateInputs(m->second->workflow(), inputs);
    if (!checked) return checked.status();
    const std::string id = runId.empty() ? "r-new" : runId;
    RunState state;
    Transition t = m->second->start(state, id, *checked, startedBy, clock_->now());
    if (!t.refused) return t.refused;
    return id;
  }
  Status cancelRun(const std::string& runId, const RunMachine::CancelInput& cancel) override {
    return onCopy(runId, [&](const RunMachine& m, RunState& s, TimePoint now) { return m.cancel(s, cancel, now); });
  }
  Status actOnApproval(const std::string& runId, const std::string& step, const ApprovalAction& action) override {
    return onCopy(runId, [&](const RunMachine& m, RunState& s, TimePoint now) { return m.onApproval(s, step, action, now); });
  }
  Result<std::optional<RunState>> run(const std::string& runId) override { return store_->runs().load(runId); }
  Status appendAudit(std::vector<AuditEntry>) override { return Status::ok(); }
  Result<size_t> fireDueTimers() override { return size_t{0}; }
  bool waitIdle(std::chrono::milliseconds) override { return true; }
  Status renewLeases() override { return Status::ok(); }
  EngineMetrics metrics() override { return {}; }
  EngineHealth health() override { return {}; }

 private:
  template <class Apply>
  Status onCopy(const std::string& runId, Apply apply) {
    auto loaded = store_->runs().load(runId);
    if (!loaded) return loaded.status();
    if (!loaded->has_value()) return Status::notFound("no run " + runId);
    RunState state = **loaded;
    auto m = byHash_.find(state.workflowHash);
    if (m == byHash_.end()) return Status::notFound("no definition for run " + runId);
    const TimePoint now = std::max(clock_->now(), state.updatedAt);
    Transition t = apply(*m->second, state, now);
    if (!t.refused) return t.refused;
    // Accepted, but nothing is durable: answered as a store that refused the write, since
    // the route reads the run back expecting the effect (Engine's contract).
    return Status::ioError("dry run: the input was applied to a copy and not committed");
  }

  std::shared_ptr<Store> store_;
  std::shared_ptr<Clock> clock_;
  std::map<std::string, std::shared_ptr<const RunMachine>> byName_;
  std::map<std::string, std::shared_ptr<const RunMachine>> byHash_;
};

struct World {
  std::string dir;
  std::shared_ptr<ManualClock> clock;
  std::shared_ptr<Store> store;
  std::unique_ptr<UserStore> users;
  std::shared_ptr<ConnectorRegistry> connectors;
  std::unique_ptr<DryRunEngine> engine;
  std::unique_ptr<WorkflowCatalog> catalog;
  std::unique_ptr<Api> api;
  std::string token;       // sam: the roles every body route but reassign needs, and the team role
  std::string adminToken;  // ana, an admin (no admin may also read run data or decide): reassign
  std::string digest;  // of the approval task, as sam is shown it
};

template <class T>
T take(Result<T> r) {
  if (!r) {
    std::fprintf(stderr, "fuzz_api_body setup: %s\n", r.status().message().c_str());
    std::abort();
  }
  return std::move(r).value();
}

void check(const Status& s) {
  if (!s) {
    std::fprintf(stderr, "fuzz_api_body setup: %s\n", s.message().c_str());
    std::abort();
  }
}

std::function<std::optional<Assignees>()> peopleOf(UserStore* users) {
  return [users]() -> std::optional<Assignees> {
    auto p = Assignees::load(*users);
    if (!p) return std::nullopt;
    return std::move(p).value();
  };
}

World* makeWorld() {
  auto* w = new World;
  w->dir = vigil::fuzz::scratchDir() + "/api";
  std::filesystem::create_directory(w->dir);
  w->clock = std::make_shared<ManualClock>(*parseTime("2026-11-26T09:00:00Z"));
  w->store = std::shared_ptr<Store>(take(openSqliteStore(w->dir)));
  w->users = take(UserStore::open(w->dir));
  w->token = take(w->users->addUser("sam", {"author", "operator", "approver", "mash-supervisor"}));
  w->adminToken = take(w->users->addUser("ana", {"admin"}));
  (void)take(w->users->addUser("officer", {"operator"}));
  (void)take(w->users->addUser("dana", {"approver", "mash-supervisor"}));
  w->connectors = std::make_shared<ConnectorRegistry>();
  auto wf = loadWorkflow(kWorkflow, "fuzz-review.yaml");
  require(wf.ok(), "the fuzz workflow loads");

  {
    // The runs the bodies act on, made by the real engine.
    EngineOptions o;
    o.store = w->store;
    o.clock = w->clock;
    o.connectors = w->connectors;
    o.timerThread = false;
    auto real = take(Engine::create(o));
    WorkflowCatalog catalog(*real, w->connectors.get(), nullptr, peopleOf(w->users.get()));
    require(catalog.publish({{wf.workflow, kWorkflow}}, WorkflowCatalog::Origin::kFolder).front().ok(), "the fuzz workflow publishes");
    check(real->start());
    const Json inputs = Json::parse(kInputs);
    (void)take(real->startRun("fuzz-review", inputs, "officer", "r-approval"));
    (void)take(real->startRun("fuzz-review", inputs, "officer", "r-cancel"));
    RunMachine::CancelInput request;
    request.by = {"officer", {"operator"}};
    request.reason = "the referral was sent twice";
    check(real->cancelRun("r-cancel", request));
    require(real->waitIdle(std::chrono::seconds(10)), "the setup runs settle");
    real->stop();
  }

  w->engine = std::make_unique<DryRunEngine>(w->store, w->clock);
  w->catalog = std::make_unique<WorkflowCatalog>(*w->engine, w->connectors.get(), nullptr, peopleOf(w->users.get()));
  require(w->catalog->publish({{wf.workflow, kWorkflow}}, WorkflowCatalog::Origin::kFolder).front().ok(), "the fuzz workflow publishes");
  ApiContext c;
  c.engine = w->engine.get();
  c.catalog = w->catalog.get();
  c.store = w->store.get();
  c.users = w->users.get();
  c.clock = w->clock;
  c.log = std::make_shared<spdlog::logger>("fuzz");  // no sinks: silent
  c.requestsPerSecondPerToken = INT_MAX / 4;        // never the rate limit
  c.connectors = w->connectors.get();
  w->api = std::make_unique<Api>(c);

  // Opening the task (as a client does before deciding) records when and gives the digest.
  HttpRequest open;
  open.method = "GET";
  open.path = open.target = "/api/v1/approvals/r-approval/review";
  open.headers["authorization"] = "Bearer " + w->token;
  open.headers["x-vigil-purpose"] = "fuzzing the decision body";
  HttpResponse shown = w->api->handle(open);
  require(shown.status == 200, "the approval task opens");
  w->digest = Json::parse(shown.body).at("shown_digest").get<std::string>();
  return w;
}

World& world() {
  static World* w = makeWorld();
  return *w;
}

// parseJsonBody alone: what it accepts round-trips, what it refuses is a 400 of its own.
void parseAlone(const std::string& body) {
  Json parsed;
  if (auto refused = parseJsonBody(body, &parsed)) {
    require(refused->status == 400, "a refused body is a 400");
    const Json answer = Json::parse(refused->body);
    static const std::set<std::string> kCodes = {"invalid_json", "duplicate_key", "number_out_of_range", "json_too_deep"};
    require(kCodes.count(answer.at("error").at("code").get<std::string>()) == 1, "a refusal has a body parser code");
    return;
  }
  const std::string again = parsed.dump();
  Json reparsed;
  require(!parseJsonBody(again, &reparsed), "an accepted body serialises to an accepted body");
  require(reparsed == parsed, "an accepted body round-trips");
}

struct Route {
  const char* name;
  const char* path;
  bool admin = false;  // sent with the admin's token
};

constexpr Route kRoutes[] = {
    {"start", "/api/v1/runs"},
    {"hook", "/api/v1/hooks/fuzz/intake"},
    {"validate", "/api/v1/workflows/validate"},
    {"cancel", "/api/v1/runs/r-approval/cancel"},
    {"cancellation", "/api/v1/runs/r-cancel/cancellation"},
    {"decide", "/api/v1/approvals/r-approval/review/decide"},
    {"reassign", "/api/v1/approvals/r-approval/review/reassign", true},
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)world();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t eol = text.find('\n');
  std::string_view first = eol == std::string_view::npos ? std::string_view() : text.substr(0, eol);
  std::string body(eol == std::string_view::npos ? text : text.substr(eol + 1));
  const size_t space = first.find(' ');
  const std::string_view name = first.substr(0, space);
  const std::string key = space == std::string_view::npos ? "" : std::string(first.substr(space + 1));

  parseAlone(body);
  const Route* route = nullptr;
  for (const auto& r : kRoutes) {
    if (name == r.name) route = &r;
  }
  if (route == nullptr) return 0;

  World& w = world();
  if (name == "decide") {
    for (size_t at; (at = body.find("@digest@")) != std::string::npos;) body.replace(at, 8, w.digest);
  }
  HttpRequest req;
  req.method = "POST";
  req.path = req.target = route->path;
  req.headers["authorization"] = "Bearer " + (route->admin ? w.adminToken : w.token);
  req.headers["content-type"] = "application/json";
  if (!key.empty()) req.headers["idempotency-key"] = key;
  req.body = std::move(body);
  req.peer = "127.0.0.1";
  HttpResponse answer = w.api->handle(req);
  require(answer.status >= 200 && answer.status < 600 && answer.status != 500, "an answer, never an internal error");
  (void)Json::parse(answer.body);  // every answer of the API is JSON
  return 0;
}
