// Publication: every way to an active version goes through the catalog and its checks
// (people, area names, webhook paths, versions), and the active set is held there alone;
// beside it, what the latest folder load made of each file.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "area_file.h"
#include "catalog/folder_loads.h"
#include "catalog/workflow_catalog.h"
#include "vigil/loader.h"

using namespace vigil;
using namespace vigil::daemon;
namespace fs = std::filesystem;
using Kind = WorkflowCatalog::Outcome::Kind;
using Origin = WorkflowCatalog::Origin;

namespace {

struct World {
  World() : dir(fs::temp_directory_path() / ("vigil-catalog-test-" + std::to_string(getpid()) + "-" + std::to_string(++n))) {
    fs::remove_all(dir);
    store = std::shared_ptr<Store>(std::move(openSqliteStore(dir.string())).value());
    users = std::move(UserStore::open(dir.string())).value();
    REQUIRE(users->addUser("s.smith", {"approver"}).isOk());
    EngineOptions o;
    o.store = store;
    o.clock = systemClock();
    o.connectors = std::make_shared<ConnectorRegistry>();
    o.timerThread = false;
    connectors = o.connectors;
    engine = std::move(Engine::create(o)).value();
    auto area = loadAreaFile(std::string(VIGIL_SOURCE_DIR) + "/examples/areas/northshire.yaml");
    REQUIRE(area.isOk());
    catalog = std::make_unique<WorkflowCatalog>(*engine, connectors.get(), *area, [this]() -> std::optional<Assignees> {
      auto people = Assignees::load(*users);
      return people ? std::optional<Assignees>(std::move(people).value()) : std::nullopt;
    });
  }
  ~World() { fs::remove_all(dir); }

  WorkflowCatalog::Outcome publish(const std::string& yaml, Origin origin = Origin::kApi) {
    auto r = loadWorkflow(yaml, "w.yaml");
    INFO((r.diagnostics.empty() ? std::string() : r.diagnostics.front().format()));
    REQUIRE(r.ok());
    return catalog->publish({{r.workflow, yaml}}, origin).front();
  }
  static std::string messages(const WorkflowCatalog::Outcome& o) {
    std::string all;
    for (const auto& d : o.diagnostics) all += d.format() + "\n";
    return all;
  }

  static inline int n = 0;
  fs::path dir;
  std::shared_ptr<Store> store;
  std::unique_ptr<UserStore> users;
  std::shared_ptr<ConnectorRegistry> connectors;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<WorkflowCatalog> catalog;
};

std::string withApproval(const std::string& assign, const std::string& owner = "approver") {
  return "workflow: review\nversion: 1\nowner: " + owner + "\nsteps:\n  - id: review\n    approval:\n      assign: " + assign +
         "\n";
}

}  // namespace

TEST_CASE("publishing a workflow that assigns a user who does not exist is refused, with a did-you-mean", "[daemon][catalog]") {
  World w;
  auto o = w.publish(withApproval("{ users: [s.smyth] }"));
  CHECK(o.kind == Kind::kInvalid);
  CHECK(World::messages(o) == "w.yaml:5:5: error: approval step 'review' assigns user 's.smyth': no user is called 's.smyth' (did you mean 's.smith'?)\n");
  CHECK(w.catalog->latest("review") == nullptr);
  auto fine = w.publish(withApproval("{ users: [s.smith] }"));
  CHECK(fine.kind == Kind::kPublished);
}

TEST_CASE("publishing a workflow whose roles nobody holds is allowed with a warning for each", "[daemon][catalog]") {
  World w;
  auto o = w.publish(withApproval("[approver, ghost-team]", "mash-supervisor"));
  REQUIRE(o.kind == Kind::kPublished);
  // `approver` is held by s.smith; the owner role and ghost-team by nobody.
  REQUIRE(o.diagnostics.size() == 2);
  CHECK(o.diagnostics[0].severity == Severity::kWarning);
  CHECK(o.diagnostics[0].line == 3);
  CHECK(o.diagnostics[0].message.find("owner role") == 0);
  CHECK(o.diagnostics[1].message.find("approval step 'review' assigns role 'ghost-team'") == 0);
  CHECK(World::messages(o).find("warning: ") != std::string::npos);
}

TEST_CASE("publishing a workflow that names a calendar or timescale the area lacks is refused where it is named", "[daemon][catalog]") {
  World w;
  const std::string yaml =
      "workflow: sla\nversion: 1\nowner: approver\nsteps:\n"
      "  - id: due\n    set:\n"
      "      a: \"${{ sla_deadline('mash-decison', 'RED', now()) }}\"\n"
      "      b: \"${{ working_days_after(now(), 2, 'northshire-schols') }}\"\n"
      "      c: \"${{ sla_deadline('mash-decision', 'RED', now()) }}\"\n";
  auto o = w.publish(yaml);
  CHECK(o.kind == Kind::kInvalid);
  REQUIRE(o.diagnostics.size() == 2);
  CHECK(o.diagnostics[0].line == 7);
  CHECK(o.diagnostics[0].column == 28);
  CHECK(o.diagnostics[0].message.find("the expression names timescale 'mash-decison', which area 'northshire' does not have") == 0);
  CHECK(o.diagnostics[1].line == 8);
  CHECK(o.diagnostics[1].message.find("calendar 'northshire-schols'") != std::string::npos);
  // The same definition from the store at a restart meets the same checks.
  auto restored = w.publish(yaml, Origin::kStore);
  CHECK(restored.kind == Kind::kInvalid);
}

TEST_CASE("a version names one definition, whichever way it comes, an older one is refused through the API", "[daemon][catalog]") {
  World w;
  const std::string v2 = "workflow: intake\nversion: 2\nowner: approver\ntriggers:\n  - webhook: /referrals/new\nsteps:\n  - { id: s, set: { x: 2 } }\n";
  const std::string v1 = "workflow: intake\nversion: 1\nowner: approver\ntriggers:\n  - webhook: /referrals/old\nsteps:\n  - { id: s, set: { x: 1 } }\n";
  std::vector<size_t> told;
  w.catalog->onChange([&](const std::vector<std::shared_ptr<const Workflow>>& active) { told.push_back(active.size()); });
  REQUIRE(w.publish(v2, Origin::kFolder).kind == Kind::kPublished);
  CHECK(w.publish(v2, Origin::kFolder).kind == Kind::kUnchanged);
  std::string edited = v2;
  edited.replace(edited.find("x: 2"), 4, "x: 3");
  auto clash = w.publish(edited, Origin::kFolder);
  CHECK(clash.kind == Kind::kVersionExists);
  CHECK(clash.message == "version 2 of intake is already published with other content; publish version 3");
  CHECK(w.publish(v1, Origin::kApi).kind == Kind::kVersionTooOld);
  // A folder's older file is kept and listed; the newer version stays active, webhook paths too.
  CHECK(w.publish(v1, Origin::kFolder).kind == Kind::kPublished);
  CHECK(w.catalog->versions("intake").size() == 2);
  CHECK(w.catalog->latest("intake")->version == 2);
  REQUIRE(w.catalog->webhook("/referrals/new"));
  CHECK(w.catalog->webhook("/referrals/new")->workflow == "intake");
  CHECK_FALSE(w.catalog->webhook("/referrals/new")->wait);
  CHECK_FALSE(w.catalog->webhook("/referrals/old"));
  CHECK(told == std::vector<size_t>{0, 1, 1});
  // The engine starts the active version.
  REQUIRE(w.engine->start().isOk());
  auto id = w.engine->startRun("intake", Json::object(), "tester");
  REQUIRE(id.isOk());
  REQUIRE(w.engine->waitIdle(std::chrono::seconds(10)));
  CHECK((*w.engine->run(*id))->version == 2);
  w.engine->stop();
}

TEST_CASE("a webhook path another workflow listens on is refused, within a folder's batch too", "[daemon][catalog]") {
  World w;
  auto yaml = [](const std::string& name) {
    return "workflow: " + name + "\nversion: 1\nowner: approver\ntriggers:\n  - webhook: /referrals/intake\nsteps:\n  - { id: s, set: { x: 1 } }\n";
  };
  auto a = loadWorkflow(yaml("first"), "first.yaml");
  auto b = loadWorkflow(yaml("second"), "second.yaml");
  REQUIRE((a.ok() && b.ok()));
  auto both = w.catalog->publish({{a.workflow, yaml("first")}, {b.workflow, yaml("second")}}, Origin::kFolder);
  CHECK(both[0].kind == Kind::kInvalid);
  CHECK(both[1].kind == Kind::kInvalid);
  CHECK(World::messages(both[1]) == "second.yaml:5:5: error: webhook path '/referrals/intake' is already used by workflow 'first'\n");
  REQUIRE(w.publish(yaml("first")).kind == Kind::kPublished);
  CHECK(w.publish(yaml("second")).kind == Kind::kInvalid);
}

TEST_CASE("a folder load's record lists refused files with their problems, clears them on a clean load, drops deleted files",
          "[daemon][catalog]") {
  using Result = FolderLoads::Result;
  FolderLoads loads;
  CHECK(loads.files().empty());
  const TimePoint first = *parseTime("2026-03-02T09:00:00Z");
  const TimePoint second = *parseTime("2026-03-02T09:05:00Z");
  Diagnostic late{"flows/b.yaml", 9, 7, DiagnosticCategory::kSchema, "unknown key 'sett'"};
  Diagnostic early{"flows/b.yaml", 4, 3, DiagnosticCategory::kSemantic, "owner role is empty"};
  loads.record({{"flows/b.yaml", first, Result::kRefused, "intake", 2, {late, early}},
                {"flows/a.yaml", first, Result::kPublished, "quick", 1, {}},
                {"flows/c.yaml", first, Result::kRefused, "", 0, {Diagnostic{"flows/c.yaml", 1, 1, DiagnosticCategory::kYaml, "bad"}}}});
  auto all = loads.files();
  REQUIRE(all.size() == 3);
  CHECK(all[0].path == "flows/a.yaml");  // by path
  auto refused = loads.refused();
  REQUIRE(refused.size() == 2);
  CHECK(refused[0].workflow == "intake");
  CHECK(refused[0].loadedAt == first);
  REQUIRE(refused[0].problems.size() == 2);
  CHECK(refused[0].problems[0].line == 4);  // sorted by position
  CHECK(refused[0].problems[1].column == 7);
  CHECK(refused[1].workflow.empty());
  // b.yaml now loads (unchanged from the version already active); c.yaml was deleted.
  loads.record({{"flows/a.yaml", second, Result::kUnchanged, "quick", 1, {}},
                {"flows/b.yaml", second, Result::kUnchanged, "intake", 2, {}}});
  CHECK(loads.refused().empty());
  all = loads.files();
  REQUIRE(all.size() == 2);
  CHECK(all[1].path == "flows/b.yaml");
  CHECK(all[1].loadedAt == second);
  CHECK(all[1].problems.empty());
}

TEST_CASE("a refused file keeps its errors only, and a refusal of the whole file is shown at its version line", "[daemon][catalog]") {
  Diagnostic warning{"w.yaml", 3, 8, DiagnosticCategory::kSemantic, "owner role 'x' has no member", Severity::kWarning};
  Diagnostic error{"w.yaml", 6, 5, DiagnosticCategory::kSchema, "unknown key"};
  auto partial = loadWorkflow("workflow: w\nversion: 4\nowner: x\nsteps:\n  - id: a\n    sett: 1\n", "w.yaml").partial;
  REQUIRE(partial);  // what could be read of a file that did not load
  auto f = FolderLoads::refusedFile("w.yaml", TimePoint{}, partial.get(), {warning, error});
  CHECK(f.result == FolderLoads::Result::kRefused);
  CHECK((f.workflow == "w" && f.version == 4));
  REQUIRE(f.problems.size() == 1);
  CHECK(f.problems[0].line == 6);
  CHECK(FolderLoads::refusedFile("x.yaml", TimePoint{}, nullptr, {error}).workflow.empty());
  auto d = FolderLoads::wholeFileProblem("w.yaml", "# intake\nworkflow: w\nversion: 2\n", "version 2 of w is already published");
  CHECK(d.format() == "w.yaml:3:1: error: version 2 of w is already published");
  CHECK(FolderLoads::wholeFileProblem("w.yaml", "{workflow: w, version: 2}", "m").line == 1);
}
