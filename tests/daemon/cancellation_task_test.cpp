// The cancellation task RUN/!cancel over the API: what its confirmers and its asker are
// shown, that nobody else can see it, and how it reads once confirmed, declined, or
// overtaken by the run ending some other way.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "api/api.h"
#include "vigil/loader.h"

using namespace vigil;
using namespace vigil::daemon;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const char* kReview = R"yaml(workflow: review
version: 1
owner: mash-supervisor
inputs:
  child: { type: string }
steps:
  - id: review
    approval:
      assign: { roles: [mash-supervisor] }
)yaml";

struct World {
  World() : dir(fs::temp_directory_path() / ("vigil-cancel-task-test-" + std::to_string(getpid()) + "-" + std::to_string(++n))) {
    fs::remove_all(dir);
    store = std::shared_ptr<Store>(std::move(openSqliteStore(dir.string())).value());
    users = std::move(UserStore::open(dir.string())).value();
    EngineOptions o;
    o.store = store;
    o.clock = std::make_shared<ManualClock>(*parseTime("2026-12-07T09:00:00Z"));
    o.connectors = connectors;
    o.timerThread = false;
    engine = std::move(Engine::create(o)).value();
    auto wf = loadWorkflow(kReview, "review.yaml");
    REQUIRE(wf.ok());
    catalog = std::make_unique<WorkflowCatalog>(*engine, connectors.get(), nullptr, nullptr);
    REQUIRE(catalog->publish({{wf.workflow, kReview}}, WorkflowCatalog::Origin::kFolder).front().ok());
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
    asker = *users->addUser("priya", {"operator", "approver", "mash-supervisor"});
    confirmer = *users->addUser("mo", {"approver", "mash-supervisor"});
    outsider = *users->addUser("sam", {"approver", "duty-desk"});
  }
  ~World() {
    engine->stop();
    fs::remove_all(dir);
  }
  std::string start() {
    auto id = engine->startRun("review", {{"child", "Synthetic Child Zulu"}}, "officer");
    REQUIRE(id.isOk());
    REQUIRE(engine->waitIdle(10s));
    return *id;
  }
  HttpResponse call(const std::string& method, const std::string& token, const std::string& path, const nlohmann::json& body = nullptr) {
    HttpRequest req;
    req.method = method;
    req.path = path;
    req.target = path;
    req.headers["authorization"] = "Bearer " + token;
    if (!body.is_null()) req.body = body.dump();
    HttpResponse r = api->handle(req);
    REQUIRE(engine->waitIdle(10s));
    return r;
  }
  nlohmann::json task(const std::string& token, const std::string& run, int* status) {
    HttpResponse r = call("GET", token, "/api/v1/approvals/" + run + "/!cancel");
    *status = r.status;
    return nlohmann::json::parse(r.body, nullptr, false);
  }
  static inline int n = 0;
  fs::path dir;
  std::shared_ptr<ConnectorRegistry> connectors = std::make_shared<ConnectorRegistry>();
  std::shared_ptr<Store> store;
  std::unique_ptr<UserStore> users;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<WorkflowCatalog> catalog;
  std::unique_ptr<Api> api;
  std::string asker, confirmer, outsider;
};

}  // namespace

TEST_CASE("a cancellation waiting for a second person is a task its confirmers and its asker can open, nobody else",
          "[daemon][cancellation]") {
  World w;
  const std::string run = w.start();
  int status = 0;
  w.task(w.confirmer, run, &status);
  CHECK(status == 404);  // nobody asked yet

  HttpResponse asked = w.call("POST", w.asker, "/api/v1/runs/" + run + "/cancel", {{"reason", "referral sent to the wrong force"}});
  REQUIRE(asked.status == 202);
  CHECK(nlohmann::json::parse(asked.body)["task"] == run + "/!cancel");

  nlohmann::json t = w.task(w.confirmer, run, &status);
  REQUIRE(status == 200);
  CHECK(t["kind"] == "cancellation");
  CHECK(t["id"] == run + "/!cancel");
  CHECK(t["workflow"] == "review");
  CHECK(t["run_status"] == "waiting");
  CHECK(t["waiting_on"] == nlohmann::json::array({"review"}));
  CHECK(t["started_by"] == "officer");
  CHECK(t["requested_by"] == "priya");
  CHECK(t["reason"] == "referral sent to the wrong force");
  CHECK(t["requested_at"] == "2026-12-07T09:00:00Z");
  CHECK(t["confirm_by"] == nlohmann::json::array({"mash-supervisor"}));
  CHECK(t["status"] == "pending");
  CHECK(t["asked_by_you"] == false);
  CHECK(t["you_may_confirm"] == true);

  // The asker sees it as theirs: they may withdraw it, not confirm it.
  t = w.task(w.asker, run, &status);
  REQUIRE(status == 200);
  CHECK(t["asked_by_you"] == true);
  CHECK(t["you_may_confirm"] == false);
  HttpResponse own = w.call("POST", w.asker, "/api/v1/runs/" + run + "/cancellation", {{"decision", "confirm"}, {"reason", "confirming my own"}});
  CHECK(own.status == 403);

  // An approver without the confirming role is told nothing, not even that it exists.
  nlohmann::json hidden = w.task(w.outsider, run, &status);
  CHECK(status == 404);
  CHECK(hidden.dump().find("wrong force") == std::string::npos);

  HttpResponse confirmed = w.call("POST", w.confirmer, "/api/v1/runs/" + run + "/cancellation",
                                  {{"decision", "confirm"}, {"reason", "checked with the referrer"}});
  REQUIRE(confirmed.status == 200);
  t = w.task(w.confirmer, run, &status);
  REQUIRE(status == 200);
  CHECK(t["status"] == "confirmed");
  CHECK(t["decided_by"] == "mo");
  CHECK(t["run_status"] == "cancelled");
  CHECK(t["you_may_confirm"] == true);  // the role, not the moment: the page shows the status and no form
}

TEST_CASE("a declined cancellation, and one overtaken by the run's own end, read as such", "[daemon][cancellation]") {
  World w;
  int status = 0;
  const std::string declined = w.start();
  REQUIRE(w.call("POST", w.asker, "/api/v1/runs/" + declined + "/cancel", {{"reason", "duplicate of another referral"}}).status == 202);
  REQUIRE(w.call("POST", w.confirmer, "/api/v1/runs/" + declined + "/cancellation",
                 {{"decision", "decline"}, {"reason", "not a duplicate: another child"}})
              .status == 200);
  nlohmann::json t = w.task(w.asker, declined, &status);
  REQUIRE(status == 200);
  CHECK(t["status"] == "declined");
  CHECK(t["decided_by"] == "mo");
  CHECK(t["run_status"] == "waiting");

  const std::string ended = w.start();
  REQUIRE(w.call("POST", w.asker, "/api/v1/runs/" + ended + "/cancel", {{"reason", "duplicate of another referral"}}).status == 202);
  ApprovalAction decide;
  decide.actor = {"mo", {"approver", "mash-supervisor"}};
  decide.decision = "approve";
  decide.reason = "reviewed and agreed";
  REQUIRE(w.engine->actOnApproval(ended, "review", decide).isOk());
  REQUIRE(w.engine->waitIdle(10s));
  t = w.task(w.confirmer, ended, &status);
  REQUIRE(status == 200);
  CHECK(t["run_status"] == "completed");
  CHECK(t["status"] == "closed");
}
