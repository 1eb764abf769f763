// Who can act on a task: reassignment refuses names nobody can act for (with a did-you-mean),
// and a task nobody can act on is escalated to its workflow's owner role and counted.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "api/api.h"
#include "approvals/approval_watch.h"
#include "auth/assignees.h"
#include "vigil/email_connector.h"
#include "vigil/loader.h"

using namespace vigil;
using namespace vigil::daemon;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const char* kReview = R"yaml(workflow: review
version: 1
owner: mash-supervisor
cancel: single
inputs:
  assign_to: { type: string }
steps:
  - id: review
    approval:
      assign: { roles: [ghost-team], users: [s.smyth] }
      distinct_from: [started_by]
)yaml";

struct World {
  explicit World(const char* yaml = kReview) : dir(fs::temp_directory_path() / ("vigil-assignees-test-" + std::to_string(getpid()) + "-" + std::to_string(++n))) {
    fs::remove_all(dir);
    store = std::shared_ptr<Store>(std::move(openSqliteStore(dir.string())).value());
    users = std::move(UserStore::open(dir.string())).value();
    EngineOptions o;
    o.store = store;
    o.clock = std::make_shared<ManualClock>(*parseTime("2026-11-26T09:00:00Z"));
    o.connectors = connectors;
    EmailConnectorOptions mail;
    mail.port = 9;  // never sent to: the templates are what these tests look at
    mail.tls = EmailConnectorOptions::Tls::kNone;
    mail.from = "mash@force.example";
    mail.templates["encompass"] = EmailTemplate{"Incident {{incident}}", "Before {{notify_by}}."};
    REQUIRE(registerEmailConnector(*connectors, mail).isOk());
    o.timerThread = false;
    engine = std::move(Engine::create(o)).value();
    auto wf = loadWorkflow(yaml, "review.yaml");
    REQUIRE(wf.ok());
    catalog = std::make_unique<WorkflowCatalog>(*engine, connectors.get(), nullptr, nullptr);
    REQUIRE(catalog->publish({{wf.workflow, yaml}}, WorkflowCatalog::Origin::kFolder).front().ok());
    REQUIRE(engine->start().isOk());
    ApiContext c;
    c.engine = engine.get();
    c.catalog = catalog.get();
    c.store = store.get();
    c.users = users.get();
    c.clock = o.clock;
    c.connectors = connectors.get();
    c.log = std::make_shared<spdlog::logger>("test");
    api = std::make_unique<Api>(c);
    watch = std::make_unique<ApprovalWatch>(*engine, *store, *users,
                                            [this](const std::string& w, int v) { return catalog->find(w, v)->owner; }, c.log);
  }
  ~World() {
    watch->stop();
    engine->stop();
    fs::remove_all(dir);
  }
  std::string start(const std::string& by = "officer") {
    auto id = engine->startRun("review", {{"assign_to", "Synthetic Child Zulu"}}, by);
    REQUIRE(id.isOk());
    REQUIRE(engine->waitIdle(10s));
    return *id;
  }
  HttpResponse get(const std::string& token, const std::string& path) {
    HttpRequest req;
    req.method = "GET";
    req.path = path;
    req.target = path;
    req.headers["authorization"] = "Bearer " + token;
    req.headers["x-vigil-purpose"] = "deciding the referral";
    return api->handle(req);
  }
  int reassign(const std::string& token, const std::string& run, const nlohmann::json& body, nlohmann::json* answer) {
    HttpRequest req;
    req.method = "POST";
    req.path = "/api/v1/approvals/" + run + "/review/reassign";
    req.target = req.path;
    req.headers["authorization"] = "Bearer " + token;
    req.body = body.dump();
    HttpResponse r = api->handle(req);
    *answer = nlohmann::json::parse(r.body, nullptr, false);
    return r.status;
  }
  static inline int n = 0;
  fs::path dir;
  std::shared_ptr<ConnectorRegistry> connectors = std::make_shared<ConnectorRegistry>();
  std::shared_ptr<Store> store;
  std::unique_ptr<UserStore> users;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<WorkflowCatalog> catalog;
  std::unique_ptr<Api> api;
  std::unique_ptr<ApprovalWatch> watch;
};

}  // namespace

TEST_CASE("reassigning to a misspelt, disabled, non-deciding or excluded user, or an empty role, is refused", "[daemon][approvals]") {
  World w;
  const std::string admin = *w.users->addUser("admin-1", {"admin"});
  REQUIRE(w.users->addUser("s.smith", {"approver", "mash-supervisor"}).isOk());
  REQUIRE(w.users->addUser("op-1", {"operator"}).isOk());
  REQUIRE(w.users->addUser("officer", {"approver"}).isOk());
  REQUIRE(w.users->addUser("gone", {"approver"}).isOk());
  auto listed = w.users->list();
  REQUIRE(listed.isOk());
  for (const auto& u : *listed) {
    if (u.name == "gone") REQUIRE(w.users->revokeToken(u.activeTokenIds.at(0)).isOk());
  }
  const std::string run = w.start();
  nlohmann::json a;
  const std::string why = "supervisor on leave this week";
  CHECK(w.reassign(admin, run, {{"users", {"s.smyht"}}, {"reason", why}}, &a) == 400);
  CHECK(a["error"]["message"] == "no user is called 's.smyht' (did you mean 's.smith'?)");
  CHECK(a["error"]["field"] == "users");
  CHECK(w.reassign(admin, run, {{"users", {"gone"}}, {"reason", why}}, &a) == 400);
  CHECK(a["error"]["message"] == "user 'gone' is disabled (no active token)");
  CHECK(w.reassign(admin, run, {{"users", {"op-1"}}, {"reason", why}}, &a) == 400);
  CHECK(a["error"]["message"] == "user 'op-1' holds no role that may decide approvals");
  CHECK(w.reassign(admin, run, {{"users", {"officer"}}, {"reason", why}}, &a) == 400);
  CHECK(a["error"]["message"] == "four-eyes: user 'officer' may not decide this task (started the run or is excluded)");
  CHECK(w.reassign(admin, run, {{"roles", {"mash-supervsor"}}, {"reason", why}}, &a) == 400);
  CHECK(a["error"]["message"] == "no user holds the role 'mash-supervsor' (did you mean 'mash-supervisor'?)");
  CHECK(a["error"]["field"] == "roles");
  // Nothing changed: the task is still assigned as the workflow said.
  auto row = w.store->approvals().find(run, "review");
  REQUIRE(row.isOk());
  CHECK((*row)->roles == std::vector<std::string>{"ghost-team"});
  CHECK(w.reassign(admin, run, {{"users", {"s.smith"}}, {"roles", {"mash-supervisor"}}, {"reason", why}}, &a) == 200);
  row = w.store->approvals().find(run, "review");
  CHECK((*row)->users == std::vector<std::string>{"s.smith"});
}

TEST_CASE("a task nobody can act on escalates to the workflow's owner role and is counted until someone can", "[daemon][approvals]") {
  World w;
  // ghost-team has no members and s.smyth does not exist: nobody can act on the task.
  const std::string run = w.start();
  auto swept = w.watch->sweep();
  REQUIRE(swept.isOk());
  CHECK(*swept == 1);  // escalated, but nobody holds mash-supervisor yet either
  auto row = w.store->approvals().find(run, "review");
  REQUIRE(row.isOk());
  CHECK((*row)->roles == std::vector<std::string>{"ghost-team", "mash-supervisor"});
  CHECK(w.watch->unactionable() == 1);
  REQUIRE(w.users->addUser("s.smith", {"approver", "mash-supervisor"}).isOk());
  swept = w.watch->sweep();
  CHECK(*swept == 0);
  CHECK(w.watch->unactionable() == 0);
  row = w.store->approvals().find(run, "review");
  CHECK((*row)->roles.size() == 2);  // escalated once, not again
}

TEST_CASE("nearestName suggests only close names", "[daemon][approvals]") {
  CHECK(nearestName("mash-supervsor", {"admin", "mash-supervisor"}) == "mash-supervisor");
  CHECK(nearestName("bob", {"alice", "mash-supervisor"}).empty());
  CHECK(nearestName("s.smyth", {"s.smith", "j.jones"}) == "s.smith");
}

TEST_CASE("the roles a workflow names in need_to_know see its sensitive fields unmasked, others see them masked", "[daemon][approvals]") {
  World w(R"yaml(workflow: review
version: 1
owner: mash-supervisor
need_to_know: [mash-supervisor]
inputs:
  assign_to: { type: string }
sensitive: [inputs.assign_to]
steps:
  - id: review
    approval:
      assign: [mash-supervisor, duty-dci]
      show: [inputs.assign_to]
)yaml");
  const std::string sup = *w.users->addUser("sup", {"approver", "mash-supervisor"});
  const std::string dci = *w.users->addUser("dci", {"approver", "duty-dci"});
  const std::string run = w.start();
  auto shown = [&](const std::string& token) {
    HttpResponse r = w.get(token, "/api/v1/approvals/" + run + "/review");
    REQUIRE(r.status == 200);
    return nlohmann::json::parse(r.body)["show"]["inputs.assign_to"];
  };
  CHECK(shown(sup) == "Synthetic Child Zulu");  // decides on the child: sees who it is
  CHECK(shown(dci) == "***");                   // assigned too, but no need to know
  HttpResponse r = w.get(sup, "/api/v1/runs/" + run);
  REQUIRE(r.status == 200);
  CHECK(nlohmann::json::parse(r.body)["inputs"]["assign_to"] == "Synthetic Child Zulu");
}

TEST_CASE("no account holds admin together with a role that reads run data or decides", "[daemon][approvals][auth]") {
  World w;
  for (const char* r : {"approver", "operator", "auditor"}) {
    auto made = w.users->addUser(std::string("both-") + r, {"admin", r});
    REQUIRE_FALSE(made.isOk());
    CHECK(made.status().message() == std::string("an admin account may not also hold '") + r +
                                         "' (reading run data or deciding): give that work its own account");
  }
  CHECK(w.users->addUser("ada", {"admin"}).isOk());
  CHECK(w.users->addUser("ada-author", {"admin", "author"}).isOk());  // publishing reads no run data
}

TEST_CASE("publishing a workflow whose webhook path another active workflow uses is refused, with where", "[daemon][api][webhook]") {
  World w;
  const std::string author = *w.users->addUser("author-1", {"author"});
  auto publish = [&](const std::string& yaml, nlohmann::json* answer) {
    HttpRequest req;
    req.method = "POST";
    req.path = "/api/v1/workflows";
    req.target = req.path;
    req.headers["authorization"] = "Bearer " + author;
    req.body = nlohmann::json{{"source", yaml}, {"file", "hook.yaml"}}.dump();
    HttpResponse r = w.api->handle(req);
    *answer = nlohmann::json::parse(r.body, nullptr, false);
    return r.status;
  };
  const std::string first = "workflow: intake\nversion: 1\nowner: o\ntriggers:\n  - webhook: /referrals/mash\nsteps:\n  - { id: s, set: { x: 1 } }\n";
  nlohmann::json a;
  REQUIRE(publish(first, &a) == 201);
  const std::string second = "workflow: other\nversion: 1\nowner: o\ntriggers:\n  - webhook: /referrals/mash\nsteps:\n  - { id: s, set: { x: 1 } }\n";
  CHECK(publish(second, &a) == 422);
  REQUIRE(a["diagnostics"].size() == 1);
  CHECK(a["diagnostics"][0]["line"] == 5);
  CHECK(a["diagnostics"][0]["message"] == "webhook path '/referrals/mash' is already used by workflow 'intake'");
  // The checks `vigil validate --config` makes run here too: a missing e-mail template is
  // found when the workflow is published, not when a run fails after a person decided.
  const std::string mail = "workflow: tell\nversion: 1\nowner: o\nsteps:\n  - id: notify\n    uses: email.send\n"
                           "    with: { to: dsl@school.example, template: encompas, vars: { incident: x } }\n"
                           "    purpose: Operation Encompass notification\n";
  CHECK(publish(mail, &a) == 422);
  REQUIRE(a["diagnostics"].size() == 1);
  CHECK(a["diagnostics"][0]["message"].get<std::string>().find("encompas") != std::string::npos);
  // A new version of the same workflow keeps its own path.
  CHECK(publish("workflow: intake\nversion: 2\nowner: o\ntriggers:\n  - webhook: /referrals/mash\nsteps:\n  - { id: s, set: { x: 2 } }\n", &a) == 201);
}
