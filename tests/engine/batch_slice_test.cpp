// The committer's time slice: a batch that has spent its slice commits what it applied and
// leaves the rest for the next batch, so one run's heavy transitions hold back nobody's
// acknowledgement for longer than a slice and one transition. With a slice of zero every
// batch takes exactly one of its inputs, which makes the hand-over visible.
#include <catch2/catch.hpp>
#include <SQLiteCpp/SQLiteCpp.h>

#include <future>

#include "engine_fixture.h"

using namespace vigil;
using namespace vigil::testing;
using namespace std::chrono_literals;

namespace {

uint64_t firstAuditSeq(Fixture& f, const std::string& runId) {
  auto records = f.store->audit().records(runId, TimePoint{}, 1u << 30);
  REQUIRE(records.isOk());
  REQUIRE_FALSE(records->empty());
  return records->front().seq;
}

}  // namespace

TEST_CASE("a batch past its time slice commits what it applied and queues the rest in order", "[engine][committer]") {
  VIGIL_SQLITE_ONLY();  // it reaches into the SQLite file itself
  DataDir dir;
  Fixture f(dir.path, nullptr, nullptr, "2026-11-26T09:00:00Z", [](EngineOptions& o) { o.batchSlice = 0ms; });
  f.publish(R"yaml(workflow: wide
version: 1
owner: o
inputs: { s: string }
steps:
  - id: each
    foreach: "${{ split(inputs.s, ',') }}"
    as: x
    steps:
      - id: leaf
        set: { v: "${{ x }}" }
)yaml");
  REQUIRE(f.engine->start().isOk());
  std::string items;
  for (int i = 0; i < 2000; ++i) items += (i ? "," : "") + std::to_string(i);

  // The first start's commit waits on another writer's lock, so the next three queue up
  // behind it and reach the committer as one batch.
  auto other = std::make_unique<SQLite::Database>((dir.path / "vigil.db").string(), SQLite::OPEN_READWRITE);
  other->exec("BEGIN IMMEDIATE");
  auto first = std::async(std::launch::async, [&] { return f.engine->startRun("wide", {{"s", items}}, "o", "run-1"); });
  for (int i = 0; i < 200 && f.engine->health().busyFor == 0ms; ++i) std::this_thread::sleep_for(5ms);
  REQUIRE(f.engine->health().busyFor > 0ms);
  std::vector<std::future<Result<std::string>>> queued;
  for (const char* id : {"run-2", "run-3", "run-4"}) {
    queued.push_back(std::async(std::launch::async, [&f, &items, id] { return f.engine->startRun("wide", {{"s", items}}, "o", id); }));
    for (int i = 0; i < 200 && f.engine->health().queued < queued.size(); ++i) std::this_thread::sleep_for(5ms);
    REQUIRE(f.engine->health().queued == queued.size());
  }
  const uint64_t commitsBefore = f.engine->metrics().commits;
  other->exec("COMMIT");
  other.reset();

  REQUIRE(first.get().isOk());
  for (auto& q : queued) REQUIRE(q.get().isOk());
  REQUIRE(f.engine->waitIdle(30s));
  EngineMetrics m = f.engine->metrics();
  CHECK(m.commits - commitsBefore == 4);  // the held one, then one input per batch
  CHECK(m.deferredInputs == 3);           // two left by the first batch of three, one by the next
  CHECK(m.committedInputs == 4);
  CHECK(firstAuditSeq(f, "run-2") < firstAuditSeq(f, "run-3"));
  CHECK(firstAuditSeq(f, "run-3") < firstAuditSeq(f, "run-4"));
  for (const char* id : {"run-1", "run-2", "run-3", "run-4"}) {
    RunState st = f.runState(id);
    CHECK(st.status == RunStatus::kCompleted);
    CHECK(st.step("leaf[1999]") != nullptr);
  }
}

TEST_CASE("timers a sliced batch deferred are not fired again by the polls meanwhile", "[engine][committer][timers]") {
  VIGIL_SQLITE_ONLY();  // it reaches into the SQLite file itself
  DataDir dir;
  Fixture f(dir.path, nullptr, nullptr, "2026-11-26T09:00:00Z", [](EngineOptions& o) { o.batchSlice = 0ms; });
  f.publish(R"yaml(workflow: escalating
version: 1
owner: o
inputs: { ref: string }
steps:
  - id: review
    approval:
      assign: mash-supervisor
      escalate:
        - { after: 1h, to: duty-inspector }
)yaml");
  REQUIRE(f.engine->start().isOk());
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto id = f.engine->startRun("escalating", {{"ref", "REF-" + std::to_string(i)}}, "officer-1");
    REQUIRE(id.isOk());
    ids.push_back(*id);
  }
  REQUIRE(f.engine->waitIdle(10s));

  // The five escalations reach the committer as one batch while another writer holds the
  // lock; with a slice of zero it then commits one and defers four, one per batch, while
  // the timer rows of the deferred ones are still due and the poll keeps running.
  auto other = std::make_unique<SQLite::Database>((dir.path / "vigil.db").string(), SQLite::OPEN_READWRITE);
  other->exec("BEGIN IMMEDIATE");
  f.clock->advance(1h);
  REQUIRE(f.engine->fireDueTimers().isOk());
  for (int i = 0; i < 200 && f.engine->health().busyFor == 0ms; ++i) std::this_thread::sleep_for(5ms);
  other->exec("COMMIT");
  other.reset();
  for (int i = 0; i < 200; ++i) {
    REQUIRE(f.engine->fireDueTimers().isOk());
    std::this_thread::sleep_for(1ms);
  }
  REQUIRE(f.engine->waitIdle(20s));
  REQUIRE(f.engine->fireDueTimers().isOk());
  REQUIRE(f.engine->waitIdle(20s));
  CHECK(f.engine->metrics().deferredInputs >= 1);
  for (const auto& id : ids) {
    auto events = f.store->runs().events(id);
    REQUIRE(events.isOk());
    long escalated = std::count_if(events->begin(), events->end(), [](const Event& e) { return e.type == EventType::kApprovalEscalated; });
    CHECK(escalated == 1);
  }
}
