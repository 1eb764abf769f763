// The engine end to end on a real SQLite data directory, with the test connector and a
// manual clock: timers fire when the test moves time, never by sleeping.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>

#include <SQLiteCpp/SQLiteCpp.h>

#include "engine_fixture.h"

using namespace vigil;
using namespace vigil::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const char* kFiveSteps = R"yaml(workflow: five
version: 1
owner: o
inputs: { n: integer }
steps:
  - { id: a, uses: test.echo, with: { n: "${{ inputs.n }}" } }
  - { id: b, uses: test.count, with: { key: b } }
  - { id: c, uses: test.echo, with: { prev: "${{ steps.b.output.count }}" } }
  - id: d
    decide:
      rules:
        - { when: "steps.a.output.n > 2", score: 5, reason: "big n" }
      bands: { HIGH: 5, LOW: 0 }
  - { id: e, set: { band: "${{ steps.d.output.band }}" } }
outputs: { band: "${{ steps.e.output.band }}" }
)yaml";

}  // namespace

TEST_CASE("a run is durable: events, snapshot and outputs are in the store", "[engine]") {
  DataDir dir;
  Fixture f(dir.path);
  f.publish(kFiveSteps);
  REQUIRE(f.engine->start().isOk());
  auto id = f.engine->startRun("five", {{"n", 3}}, "officer-1");
  REQUIRE(id.isOk());
  REQUIRE(f.engine->waitIdle(10s));
  RunState st = f.runState(*id);
  CHECK(st.status == RunStatus::kCompleted);
  CHECK(st.outputs == Json({{"band", "HIGH"}}));
  auto events = f.store->runs().events(*id);
  REQUIRE(events.isOk());
  RunState folded;
  folded.id = *id;
  for (const auto& e : *events) REQUIRE(folded.apply(e).isOk());
  CHECK(folded.toJson() == st.toJson());
  auto runs = f.store->runs().list(RunFilter{RunStatus::kCompleted, "five", 10, ""});
  REQUIRE(runs.isOk());
  CHECK(runs->size() == 1);
  f.engine->stop();
}

TEST_CASE("bad inputs are refused before a run starts, naming the input", "[engine][inputs]") {
  DataDir dir;
  Fixture f(dir.path);
  f.publish(R"yaml(workflow: w
version: 1
owner: o
inputs:
  referral: { type: object, required: [id], properties: { id: string, age: integer } }
steps: [{ id: s, set: { x: 1 } }]
)yaml");
  REQUIRE(f.engine->start().isOk());
  CHECK(f.engine->startRun("w", {{"referral", {{"age", 3}}}}, "u").status().message() ==
        "inputs.referral: missing required field 'id'");
  CHECK(f.engine->startRun("w", {{"referral", {{"id", "R1"}, {"age", "three"}}}}, "u").status().message() ==
        "inputs.referral.age: expected integer, got string");
  CHECK(f.engine->startRun("w", {{"other", 1}}, "u").status().message() ==
        "inputs.other: workflow 'w' declares no such input");
  CHECK(f.engine->startRun("nope", Json::object(), "u").status().message() == "no published workflow named 'nope'");
  CHECK(f.engine->startRun("w", {{"referral", {{"id", "R1"}}}}, "u").isOk());
  f.engine->stop();
}

TEST_CASE("retries wait on durable timers and the manual clock", "[engine][retry][timers]") {
  DataDir dir;
  Fixture f(dir.path);
  f.publish(R"yaml(workflow: r
version: 1
owner: o
steps:
  - id: flaky
    uses: test.fail
    with: { attempts: 2, retryable: true, code: http_503 }
    retry: { max: 5, initial: 10s, jitter: false }
)yaml");
  REQUIRE(f.engine->start().isOk());
  auto id = f.engine->startRun("r", Json::object(), "u");
  REQUIRE(id.isOk());
  REQUIRE(f.engine->waitIdle(10s));
  CHECK(f.runState(*id).status == RunStatus::kWaiting);
  f.advance(9s);
  CHECK(f.runState(*id).status == RunStatus::kWaiting);
  f.advance(1s);   // attempt 2 fails, next in 20s
  CHECK(f.runState(*id).step("flaky")->attempt == 2);
  f.advance(20s);  // attempt 3 succeeds
  RunState st = f.runState(*id);
  CHECK(st.status == RunStatus::kCompleted);
  CHECK(st.step("flaky")->output["attempt"] == 3);
  f.engine->stop();
}

TEST_CASE("a parked run survives a restart and resumes on its timer", "[engine][timers][restart]") {
  DataDir dir;
  std::string id;
  const char* wf = "workflow: p\nversion: 1\nowner: o\nsteps:\n  - { id: w, wait: 2h }\n  - { id: after, uses: test.echo, with: { ok: true } }\n";
  {
    Fixture f(dir.path);
    f.publish(wf);
    REQUIRE(f.engine->start().isOk());
    auto r = f.engine->startRun("p", Json::object(), "u");
    REQUIRE(r.isOk());
    id = *r;
    REQUIRE(f.engine->waitIdle(10s));
    CHECK(f.runState(id).status == RunStatus::kWaiting);
    f.engine->stop();
  }
  Fixture g(dir.path);
  g.publish(wf);
  REQUIRE(g.engine->start().isOk());
  g.advance(1h);
  CHECK(g.runState(id).status == RunStatus::kWaiting);
  g.advance(1h);
  CHECK(g.runState(id).status == RunStatus::kCompleted);
  g.engine->stop();
}

TEST_CASE("approvals, cancellation and sub-workflows through the engine", "[engine][approval][call][cancel]") {
  DataDir dir;
  Fixture f(dir.path);
  f.publish("workflow: child\nversion: 1\nowner: o\ninputs: { x: integer }\nsteps:\n  - { id: s, uses: test.echo, with: { y: \"${{ inputs.x * 2 }}\" } }\noutputs: { y: \"${{ steps.s.output.y }}\" }\n");
  f.publish(R"yaml(workflow: parent
version: 1
owner: o
steps:
  - { id: sub, call: child, with: { x: 21 } }
  - id: review
    approval: { assign: supervisor, options: [approve, reject] }
  - { id: out, set: { y: "${{ steps.sub.output.y }}", d: "${{ steps.review.decision }}" } }
)yaml");
  REQUIRE(f.engine->start().isOk());
  auto id = f.engine->startRun("parent", Json::object(), "officer-1");
  REQUIRE(id.isOk());
  REQUIRE(f.engine->waitIdle(10s));
  RunState child = f.runState(*id + ".sub");
  CHECK(child.status == RunStatus::kCompleted);
  CHECK(child.parentRun == *id);
  CHECK(child.startedBy == "officer-1");
  CHECK(f.runState(*id).status == RunStatus::kWaiting);
  ApprovalAction a;
  a.actor = {"sup", {"supervisor"}};
  a.decision = "approve";
  a.reason = "checked the research";
  CHECK(f.engine->actOnApproval(*id, "sub", a).message() == "run " + *id + " has no approval step 'sub'");
  REQUIRE(f.engine->actOnApproval(*id, "review", a).isOk());
  REQUIRE(f.engine->waitIdle(10s));
  RunState st = f.runState(*id);
  CHECK(st.status == RunStatus::kCompleted);
  CHECK(st.step("out")->output == Json({{"y", 42}, {"d", "approve"}}));

  auto id2 = f.engine->startRun("parent", Json::object(), "officer-1");
  REQUIRE(id2.isOk());
  REQUIRE(f.engine->waitIdle(10s));
  RunMachine::CancelInput ask;
  ask.by = {"op-1", {"operator"}};
  ask.reason = "duplicate referral";
  REQUIRE(f.engine->cancelRun(*id2, ask).isOk());
  CHECK(f.runState(*id2).status == RunStatus::kWaiting);  // a second person must confirm
  RunMachine::CancelInput confirm;
  confirm.kind = RunMachine::CancelInput::Kind::kConfirm;
  confirm.by = {"sup-1", {"o"}};
  confirm.reason = "confirmed: a duplicate";
  REQUIRE(f.engine->cancelRun(*id2, confirm).isOk());
  CHECK(f.runState(*id2).status == RunStatus::kCancelled);
  CHECK(f.engine->cancelRun(*id2, ask).message() == "run " + *id2 + " has already ended");
  f.engine->stop();
}

TEST_CASE("an older data directory is upgraded in place, a newer one is refused", "[store][migration]") {
  VIGIL_SQLITE_ONLY();  // it reaches into the SQLite file itself
  DataDir dir;
  {
    SQLite::Database db((dir.path / "vigil.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/tests/engine/fixtures/schema-v1.sql");
    std::stringstream sql;
    sql << in.rdbuf();
    db.exec(sql.str());
    db.exec("INSERT INTO runs(id, workflow, version, hash, status, started_by, started_at, updated_at, last_seq, snapshot) "
            "VALUES('old-run', 'w', 1, 'h', 'completed', 'u', 0, 0, 1, '{\"id\":\"old-run\",\"status\":\"completed\","
            "\"workflow\":\"w\",\"version\":1,\"hash\":\"h\",\"started_by\":\"u\",\"parent\":\"\",\"started_at\":0,"
            "\"updated_at\":0,\"inputs\":{},\"outputs\":null,\"error\":null,\"last_seq\":2,\"steps\":{}}')");
    // Its history: readers fold the events, the snapshot being only a cache.
    db.exec("UPDATE runs SET last_seq = 2 WHERE id = 'old-run'");
    db.exec("INSERT INTO events(run_id, seq, type, time, data) VALUES"
            "('old-run', 1, 'RunStarted', 0, '{\"workflow\":\"w\",\"version\":1,\"hash\":\"h\",\"started_by\":\"u\"}'),"
            "('old-run', 2, 'RunCompleted', 0, '{\"outputs\":null}')");
  }
  auto s = openSqliteStore(dir.path.string());
  REQUIRE(s.isOk());
  auto run = (*s)->runs().load("old-run");
  REQUIRE(run.isOk());
  REQUIRE(run->has_value());
  CHECK((*run)->status == RunStatus::kCompleted);
  s = openSqliteStore(dir.path.string());  // reopening an upgraded store is a no-op
  REQUIRE(s.isOk());
  {
    SQLite::Database db((dir.path / "vigil.db").string(), SQLite::OPEN_READWRITE);
    CHECK(db.execAndGet("SELECT value FROM meta WHERE key = 'schema_version'").getString() == std::to_string(sqliteSchemaVersion()));
    CHECK(db.execAndGet("SELECT count(*) FROM sqlite_master WHERE name = 'runs_workflow'").getInt() == 1);
    db.exec("UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  }
  auto newer = openSqliteStore(dir.path.string());
  REQUIRE_FALSE(newer.isOk());
  CHECK(newer.status().message() ==
        "the data directory has schema version 99, newer than this vigil understands (" +
            std::to_string(sqliteSchemaVersion()) + "); use a newer vigil or restore a backup");
}

namespace {

// Holds every call until released, and records the most calls it saw at once.
class GateConnector final : public Connector {
 public:
  CallOutcome call(const ConnectorCall&) override {
    std::unique_lock lock(mu_);
    ++inFlight_;
    maxSeen_ = std::max(maxSeen_, inFlight_);
    ++arrived_;
    arrivedCv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    --inFlight_;
    return CallOutcome::success(Json("ok"));
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool waitArrived(int n) {
    std::unique_lock lock(mu_);
    return arrivedCv_.wait_for(lock, 10s, [&] { return arrived_ >= n; });
  }
  int maxSeen() {
    std::lock_guard lock(mu_);
    return maxSeen_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_, arrivedCv_;
  bool open_ = false;
  int inFlight_ = 0, maxSeen_ = 0, arrived_ = 0;
};

}  // namespace

TEST_CASE("a connector's concurrency limit bounds its calls in flight", "[engine][limits]") {
  DataDir dir;
  Fixture f(dir.path);
  auto gate = std::make_shared<GateConnector>();
  REQUIRE(f.connectors->add("gate", gate, 2).isOk());
  CHECK(f.connectors->add("gate", gate, 2).message() == "connector 'gate' is already registered");
  f.publish("workflow: g\nversion: 1\nowner: o\nsteps:\n  - { id: s, uses: gate.pass }\n");
  REQUIRE(f.engine->start().isOk());
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    auto id = f.engine->startRun("g", Json::object(), "u");
    REQUIRE(id.isOk());
    ids.push_back(*id);
  }
  REQUIRE(gate->waitArrived(2));
  CHECK_FALSE(f.engine->waitIdle(200ms));  // four calls queue behind the limit
  gate->open();
  REQUIRE(f.engine->waitIdle(10s));
  CHECK(gate->maxSeen() == 2);
  for (const auto& id : ids) CHECK(f.runState(id).status == RunStatus::kCompleted);
  f.engine->stop();
}

TEST_CASE("an unknown connector fails the step with a clear error", "[engine][errors]") {
  DataDir dir;
  Fixture f(dir.path);
  f.publish("workflow: u\nversion: 1\nowner: o\nsteps:\n  - { id: s, uses: nosuch.call }\n");
  REQUIRE(f.engine->start().isOk());
  auto id = f.engine->startRun("u", Json::object(), "u");
  REQUIRE(id.isOk());
  REQUIRE(f.engine->waitIdle(10s));
  RunState st = f.runState(*id);
  CHECK(st.status == RunStatus::kFailed);
  CHECK(st.error["code"] == "unknown_connector");
  CHECK(st.error["message"] == "no connector named 'nosuch'");
  f.engine->stop();
}

TEST_CASE("a run keeps the definition it started with when a new version is published", "[engine][versions]") {
  DataDir dir;
  const char* v1 = "workflow: v\nversion: 1\nowner: o\nsteps:\n  - { id: w, wait: 1h }\n  - { id: s, set: { from: one } }\n";
  const char* v2 = "workflow: v\nversion: 2\nowner: o\nsteps:\n  - { id: w, wait: 1h }\n  - { id: s, set: { from: two } }\n";
  std::string oldRun;
  {
    Fixture f(dir.path);
    f.publish(v1);
    REQUIRE(f.engine->start().isOk());
    auto id = f.engine->startRun("v", Json::object(), "u");
    REQUIRE(id.isOk());
    oldRun = *id;
    REQUIRE(f.engine->waitIdle(10s));
    f.engine->stop();
  }
  Fixture g(dir.path);  // a new process that only knows version 2
  g.publish(v2);
  REQUIRE(g.engine->start().isOk());
  auto newRun = g.engine->startRun("v", Json::object(), "u");
  REQUIRE(newRun.isOk());
  REQUIRE(g.engine->waitIdle(10s));
  g.advance(1h);
  CHECK(g.runState(oldRun).step("s")->output["from"] == "one");
  CHECK(g.runState(oldRun).version == 1);
  CHECK(g.runState(*newRun).step("s")->output["from"] == "two");
  g.engine->stop();
}
