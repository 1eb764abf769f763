// A group commit against a store another writer also commits to: the run families whose
// stored history moved on are left out whole and reported, the rest is stored, and the
// audit trail both writers extended is one chain that verifies. Two stores opened on one
// data directory are the two writers (as two nodes on one database would be).
#include <catch2/catch.hpp>

#include <algorithm>

#include "engine_fixture.h"
#include "run_write.h"
#include "vigil/audit.h"
#include "vigil/loader.h"
#include "vigil/machine.h"
#include "vigil/signing.h"

using namespace vigil;
using namespace vigil::testing;

namespace {

const char* const kReview = R"yaml(workflow: review
version: 1
owner: o
inputs: { child: object }
steps:
  - id: review
    approval: { assign: supervisor, reason: { required: false } }
)yaml";

struct Writer {
  std::unique_ptr<Store> store;
  explicit Writer(const DataDir& dir) {
    auto s = openTestStore(dir.path);
    INFO(s.status().message());
    REQUIRE(s.isOk());
    store = std::move(s).value();
  }
};

ApprovalAction decide(const std::string& who, const std::string& decision) {
  ApprovalAction a;
  a.actor = {who, {"supervisor"}};
  a.decision = decision;
  return a;
}

}  // namespace

TEST_CASE("a commit leaves out the run families another writer moved on and stores the rest", "[store][commit]") {
  DataDir dir;
  Writer one(dir), two(dir);
  auto loaded = loadWorkflow(kReview, "review.yaml");
  REQUIRE(loaded.ok());
  const RunMachine machine(loaded.workflow);
  const TimePoint t0 = *parseTime("2026-12-07T09:00:00Z");
  const Json inputs = {{"child", {{"name", "Synthetic Child"}}}};

  // Writer one starts two runs; both park at their review.
  RunState a, b;
  Transition ta = machine.start(a, "run-a", inputs, "officer-1", t0);
  Transition tb = machine.start(b, "run-b", inputs, "officer-1", t0);
  {
    Batch batch;
    batch.runs.push_back(transition(a, ta.events, true));
    batch.runs.push_back(transition(b, tb.events, true));
    auto report = one.store->commit(batch);
    REQUIRE(report.isOk());
    CHECK(report->conflicted.empty());
  }
  REQUIRE(a.status == RunStatus::kWaiting);

  // Writer two decides run-a from what is stored.
  auto stored = two.store->runs().load("run-a");
  REQUIRE(stored.isOk());
  REQUIRE(stored->has_value());
  RunState a2 = **stored;
  Transition approved = machine.onApproval(a2, "review", decide("sup-2", "approve"), t0 + std::chrono::minutes(5));
  REQUIRE(approved.refused.isOk());
  {
    Batch batch;
    batch.runs.push_back(transition(a2, approved.events, false));
    auto report = two.store->commit(batch);
    REQUIRE(report.isOk());
    CHECK(report->conflicted.empty());
  }

  // Writer one, from its own (now stale) copy of run-a, rejects it; in the same batch it
  // decides run-b, starts a sub-workflow run of run-a (same family: left out with it), and
  // starts a run whose id writer two took first. Its batch also carries an access record.
  Transition rejected = machine.onApproval(a, "review", decide("sup-1", "reject"), t0 + std::chrono::minutes(6));
  REQUIRE(rejected.refused.isOk());
  Transition bDone = machine.onApproval(b, "review", decide("sup-1", "approve"), t0 + std::chrono::minutes(6));
  REQUIRE(bDone.refused.isOk());
  RunState child, takenByTwo, takenByOne, fresh;
  Transition tc = machine.start(child, "run-a.more", inputs, "officer-1", t0 + std::chrono::minutes(6), "run-a");
  Transition tt2 = machine.start(takenByTwo, "run-taken", inputs, "officer-2", t0 + std::chrono::minutes(6));
  {
    Batch batch;
    batch.runs.push_back(transition(takenByTwo, tt2.events, true));
    auto report = two.store->commit(batch);
    REQUIRE(report.isOk());
  }
  Transition tt1 = machine.start(takenByOne, "run-taken", inputs, "officer-1", t0 + std::chrono::minutes(6));
  Transition tf = machine.start(fresh, "run-fresh", inputs, "officer-1", t0 + std::chrono::minutes(6));
  Batch batch;
  batch.runs.push_back(transition(a, rejected.events, false));
  batch.runs.push_back(transition(b, bDone.events, false));
  batch.runs.push_back(transition(child, tc.events, true));
  batch.runs.push_back(transition(takenByOne, tt1.events, true));
  batch.runs.push_back(transition(fresh, tf.events, true));
  AuditEntry read;
  read.time = t0 + std::chrono::minutes(6);
  read.kind = "access";
  read.actor = "sup-1";
  read.runId = "run-b";
  read.system = "vigil";
  read.purpose = "opened the review";
  read.payload = {{"route", "GET /api/v1/approvals/run-b/review"}};
  batch.audit.push_back(read);
  auto report = one.store->commit(batch);
  REQUIRE(report.isOk());
  CHECK(report->conflicted == std::vector<std::string>{"run-a", "run-a.more", "run-taken"});

  SECTION("what was left out is as the other writer stored it") {
    auto runA = one.store->runs().load("run-a");
    REQUIRE(runA.isOk());
    REQUIRE(runA->has_value());
    CHECK((*runA)->lastSeq == a2.lastSeq);
    CHECK((*runA)->status == RunStatus::kCompleted);
    auto row = one.store->approvals().find("run-a", "review");
    REQUIRE(row.isOk());
    REQUIRE(row->has_value());
    CHECK((*row)->decision == "approve");
    CHECK((*row)->decidedBy == "sup-2");
    auto noChild = one.store->runs().exists("run-a.more");
    REQUIRE(noChild.isOk());
    CHECK_FALSE(*noChild);
    auto taken = one.store->runs().load("run-taken");
    REQUIRE(taken.isOk());
    REQUIRE(taken->has_value());
    CHECK((*taken)->startedBy == "officer-2");
  }
  SECTION("the rest was stored") {
    auto runB = two.store->runs().load("run-b");
    REQUIRE(runB.isOk());
    REQUIRE(runB->has_value());
    CHECK((*runB)->lastSeq == b.lastSeq);
    CHECK((*runB)->status == RunStatus::kCompleted);
    auto runFresh = two.store->runs().exists("run-fresh");
    REQUIRE(runFresh.isOk());
    CHECK(*runFresh);
    auto records = two.store->audit().records("run-b", TimePoint{}, 1u << 30);
    REQUIRE(records.isOk());
    CHECK(std::any_of(records->begin(), records->end(), [](const AuditRecord& r) { return r.entry.kind == "access"; }));
  }
  SECTION("both writers extended one chain, and it verifies") {
    auto key = SigningKey::generate();
    REQUIRE(key.isOk());
    auto cp = two.store->audit().checkpoint(*key, t0 + std::chrono::minutes(7), "vigil.test/audit");
    REQUIRE(cp.isOk());
    REQUIRE(cp->has_value());
    AuditVerdict v = testing::verifyTestStore(dir.path, *two.store, key->publicKeyPem());
    INFO(v.problem << ": " << v.detail);
    CHECK(v.ok);
  }
}

TEST_CASE("a commit that the store cannot take stores nothing of any run", "[store][commit]") {
  DataDir dir;
  Writer one(dir);
  auto loaded = loadWorkflow(kReview, "review.yaml");
  REQUIRE(loaded.ok());
  const RunMachine machine(loaded.workflow);
  const TimePoint t0 = *parseTime("2026-12-07T09:00:00Z");
  RunState a, b;
  Transition ta = machine.start(a, "run-a", {{"child", Json::object()}}, "officer-1", t0);
  Transition tb = machine.start(b, "run-b", {{"child", Json::object()}}, "officer-1", t0);
  Batch batch;
  batch.runs.push_back(transition(a, ta.events, true));
  batch.runs.push_back(transition(b, tb.events, true));
  batch.runs.back().audit.clear();  // run-b's events in no chained record: history would be lost
  auto report = one.store->commit(batch);
  REQUIRE_FALSE(report.isOk());
  CHECK(report.status().message().find("run-b") != std::string::npos);
  auto exists = one.store->runs().exists("run-a");
  REQUIRE(exists.isOk());
  CHECK_FALSE(*exists);
}

TEST_CASE("an engine whose running run another writer moved on applies its input again to what is stored",
          "[store][commit][engine]") {
  DataDir dir;
  const char* const yaml = R"yaml(workflow: slow
version: 1
owner: o
steps:
  - { id: wait, uses: test.sleep, with: { ms: 1500 } }
  - { id: after, uses: test.echo, with: { x: 1 } }
)yaml";
  Fixture one(dir.path), two(dir.path);
  one.publish(yaml);
  two.publish(yaml);
  REQUIRE(two.engine->start().isOk());  // before the run exists: nothing of it to recover
  REQUIRE(one.engine->start().isOk());
  auto id = one.engine->startRun("slow", Json::object(), "officer-1");
  REQUIRE(id.isOk());
  // While engine one's call is in flight (the run in its memory), engine two writes to the
  // run: a cancellation asked, which lets the run carry on until a second person confirms.
  RunMachine::CancelInput ask;
  ask.by = {"op-2", {"operator"}};
  ask.reason = "possible duplicate";
  REQUIRE(two.engine->cancelRun(*id, ask).isOk());
  REQUIRE(one.engine->waitIdle(10s));
  REQUIRE(two.engine->waitIdle(10s));

  // The call's result was refused as a conflict once, then applied to the stored run: the
  // run finished, and its one history holds both writers' transitions.
  CHECK(one.engine->metrics().conflictedInputs == 1);
  auto events = one.store->runs().events(*id);
  REQUIRE(events.isOk());
  int asked = 0, waitDone = 0;
  uint64_t seq = 0;
  for (const auto& e : *events) {
    CHECK(e.seq == ++seq);  // no gap, no fork
    if (e.type == EventType::kCancellationRequested) ++asked;
    if (e.type == EventType::kStepCompleted && e.step == "wait") ++waitDone;
  }
  CHECK(asked == 1);
  CHECK(waitDone == 1);
  CHECK(one.runState(*id).status == RunStatus::kCompleted);
  auto work = one.store->work().pending();
  REQUIRE(work.isOk());
  CHECK(work->empty());
  one.engine->stop();
  two.engine->stop();
}
