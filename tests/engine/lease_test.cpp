// Partition leases across nodes sharing one store (two stores or engines opened on one
// test directory are two nodes): a lease changes owner only by a compare-and-set on its
// epoch, a commit under a lease that moved on stores nothing of its family, the live nodes
// share the partitions, and a node that stops renewing loses them to the others, which
// redo its calls in flight (one committed result, under the new lease).
#include <catch2/catch.hpp>

#include "engine_fixture.h"
#include "run_write.h"
#include "vigil/machine.h"

using namespace vigil;
using namespace vigil::testing;

namespace {

const TimePoint kT0 = TimePoint(std::chrono::milliseconds(1'800'000'000'000LL));

Store& storeOf(const std::unique_ptr<Store>& s) { return *s; }

std::unique_ptr<Store> open(const DataDir& dir) {
  auto s = openTestStore(dir.path);
  INFO(s.status().message());
  REQUIRE(s.isOk());
  return std::move(s).value();
}

std::map<std::string, int> holders(Store& store) {
  auto rows = store.leases().leases();
  REQUIRE(rows.isOk());
  std::map<std::string, int> out;
  for (const auto& l : *rows) ++out[l.node];
  return out;
}

auto nodeNamed(const std::string& name, std::chrono::milliseconds ttl = std::chrono::seconds(15)) {
  return [name, ttl](EngineOptions& o) {
    o.node = name;
    o.leaseTtl = ttl;
  };
}

}  // namespace

TEST_CASE("a lease changes owner only from the epoch it was read at, and every change raises the epoch", "[store][leases]") {
  DataDir dir;
  auto one = open(dir), two = open(dir);
  auto rows = one->leases().leases();
  REQUIRE(rows.isOk());
  REQUIRE(rows->size() == static_cast<size_t>(kPartitions));
  const Lease& p3 = (*rows)[3];
  CHECK(p3.partition == 3);
  CHECK(p3.node.empty());

  auto a = one->leases().take(3, p3.epoch, "node-a", kT0 + std::chrono::seconds(15));
  REQUIRE(a.isOk());
  REQUIRE(a->has_value());
  CHECK((*a)->epoch == p3.epoch + 1);
  // Node b read the same row before a's take: its compare-and-set finds the epoch moved.
  auto b = two->leases().take(3, p3.epoch, "node-b", kT0 + std::chrono::seconds(15));
  REQUIRE(b.isOk());
  CHECK_FALSE(b->has_value());

  auto renewed = two->leases().renew("node-a", {**a}, kT0 + std::chrono::seconds(30));
  REQUIRE(renewed.isOk());
  REQUIRE(renewed->size() == 1);
  CHECK((*renewed)[0].partition == 3);
  CHECK((*renewed)[0].expiresAt == kT0 + std::chrono::seconds(30));
  // A renewal names the epochs it holds: a lease of the same name at another epoch (another
  // process that took it again) is not renewed.
  Lease older = **a;
  older.epoch -= 1;
  auto stale = two->leases().renew("node-a", {older}, kT0 + std::chrono::seconds(45));
  REQUIRE(stale.isOk());
  CHECK(stale->empty());
  // A release names the epoch: a node giving back a lease it no longer holds changes nothing.
  REQUIRE(two->leases().release(3, p3.epoch, "node-a").isOk());
  CHECK(holders(*one)["node-a"] == 1);
  REQUIRE(two->leases().release(3, (*a)->epoch, "node-a").isOk());
  CHECK(holders(*one).count("node-a") == 0);

  REQUIRE(one->leases().beat("node-a", "127.0.0.1:1", kT0).isOk());
  REQUIRE(two->leases().beat("node-b", "127.0.0.1:2", kT0 + std::chrono::seconds(1)).isOk());
  REQUIRE(one->leases().beat("node-a", "127.0.0.1:1", kT0 + std::chrono::seconds(2)).isOk());
  auto nodes = two->leases().nodes();
  REQUIRE(nodes.isOk());
  REQUIRE(nodes->size() == 2);
  CHECK((*nodes)[0].node == "node-a");
  CHECK((*nodes)[0].heartbeatAt == kT0 + std::chrono::seconds(2));
  CHECK((*nodes)[1].address == "127.0.0.1:2");
}

TEST_CASE("a commit under a lease that moved on stores nothing of that family and reports it fenced", "[store][leases][commit]") {
  DataDir dir;
  auto store = open(dir);
  const char* const yaml = R"yaml(workflow: one
version: 1
owner: o
steps:
  - { id: look, uses: test.echo, with: { x: 1 } }
)yaml";
  auto loaded = loadWorkflow(yaml, "one.yaml");
  REQUIRE(loaded.ok());
  const RunMachine machine(loaded.workflow);
  RunState st;
  Transition t = machine.start(st, "run-f", Json::object(), "officer-1", kT0);
  const int part = partitionOf("run-f");
  auto rows = store->leases().leases();
  REQUIRE(rows.isOk());
  auto held = store->leases().take(part, (*rows)[static_cast<size_t>(part)].epoch, "node-a", kT0 + std::chrono::seconds(15));
  REQUIRE(held.isOk());
  REQUIRE(held->has_value());

  auto write = [&](uint64_t epoch) {
    RunWrite w = transition(st, t.events, true);
    w.fence = RunWrite::Fence{part, "node-a", epoch};
    return w;
  };
  {
    Batch b;
    b.runs.push_back(write((*held)->epoch - 1));  // handed on under the lease before this one
    auto report = store->commit(b);
    REQUIRE(report.isOk());
    CHECK(report->fenced == std::vector<std::string>{"run-f"});
    CHECK(report->conflicted == std::vector<std::string>{"run-f"});
    auto exists = store->runs().exists("run-f");
    REQUIRE(exists.isOk());
    CHECK_FALSE(*exists);
  }
  {
    Batch b;
    b.runs.push_back(write((*held)->epoch));
    auto report = store->commit(b);
    REQUIRE(report.isOk());
    CHECK(report->fenced.empty());
    auto exists = store->runs().exists("run-f");
    REQUIRE(exists.isOk());
    CHECK(*exists);
  }
  CHECK(storeOf(store).integrityCheck().value() == "ok");
}

TEST_CASE("a commit that consumes a work row no longer stored leaves the family out as fenced", "[store][leases][commit]") {
  DataDir dir;
  auto store = open(dir);
  const char* const yaml = R"yaml(workflow: one
version: 1
owner: o
steps:
  - { id: look, uses: test.echo, with: { x: 1 } }
)yaml";
  auto loaded = loadWorkflow(yaml, "one.yaml");
  REQUIRE(loaded.ok());
  const RunMachine machine(loaded.workflow);
  RunState st;
  Transition t = machine.start(st, "run-w", Json::object(), "officer-1", kT0);
  REQUIRE(t.commands.size() == 1);
  {
    Batch b;
    b.runs.push_back(transition(st, t.events, true));
    b.runs.back().addWork.push_back(WorkItem{"run-w", "look", 1, Json::object()});
    REQUIRE(store->commit(b).isOk());
  }
  // The call's result applied once: its row goes with it.
  Transition done = machine.onCallResult(st, "look", 1, CallOutcome::success(Json::object()), kT0 + std::chrono::seconds(1));
  REQUIRE_FALSE(done.events.empty());
  {
    Batch b;
    b.runs.push_back(transition(st, done.events, false));
    b.runs.back().removeWork.push_back(WorkItem{"run-w", "look", 1, Json()});
    auto report = store->commit(b);
    REQUIRE(report.isOk());
    CHECK(report->fenced.empty());
  }
  // The same result again (a commit whose outcome was unknown, retried; or a second node's
  // copy of the call): its row is gone, so nothing of it is stored.
  RunState again = st;
  Transition twice = machine.onCallResult(again, "look", 1, CallOutcome::success(Json::object()), kT0 + std::chrono::seconds(2));
  RunWrite w = transition(again, twice.events, false);
  w.removeWork.push_back(WorkItem{"run-w", "look", 1, Json()});
  Batch b;
  b.runs.push_back(std::move(w));
  auto report = store->commit(b);
  REQUIRE(report.isOk());
  CHECK(report->fenced == std::vector<std::string>{"run-w"});
  auto events = store->runs().events("run-w");
  REQUIRE(events.isOk());
  CHECK(events->back().seq == st.lastSeq);
  CHECK(storeOf(store).integrityCheck().value() == "ok");
}

TEST_CASE("a second process under one node name takes the leases again, and the first finds it holds none", "[engine][leases]") {
  DataDir dir;
  Fixture first(dir.path, nullptr, nullptr, "2026-11-26T09:00:00Z", nodeNamed("node-a"));
  Fixture second(dir.path, nullptr, nullptr, "2026-11-26T09:00:00Z", nodeNamed("node-a"));
  REQUIRE(first.engine->start().isOk());
  CHECK(first.engine->health().partitionsHeld == static_cast<size_t>(kPartitions));
  REQUIRE(second.engine->start().isOk());  // a restart while the old process still ran
  CHECK(second.engine->health().partitionsHeld == static_cast<size_t>(kPartitions));
  REQUIRE(first.engine->renewLeases().isOk());
  CHECK(first.engine->health().partitionsHeld == 0);
  CHECK(first.engine->metrics().leasesLost == static_cast<uint64_t>(kPartitions));
  REQUIRE(second.engine->renewLeases().isOk());
  CHECK(second.engine->health().partitionsHeld == static_cast<size_t>(kPartitions));
  second.engine->stop();
  first.engine->stop();
}

TEST_CASE("live nodes share the partitions, and a node that stops renewing loses them to the others", "[engine][leases]") {
  DataDir dir;
  Fixture a(dir.path, nullptr, nullptr, "2026-11-26T09:00:00Z", nodeNamed("node-a"));
  Fixture b(dir.path, nullptr, nullptr, "2026-11-26T09:00:00Z", nodeNamed("node-b"));
  REQUIRE(a.engine->start().isOk());
  CHECK(holders(*a.store)["node-a"] == kPartitions);
  CHECK(a.engine->health().partitionsHeld == static_cast<size_t>(kPartitions));
  REQUIRE(b.engine->start().isOk());
  CHECK(b.engine->health().partitionsHeld == 0);  // all held, none expired

  // At its heartbeats a sees two live nodes and gives back half, a few at a time; b takes
  // them at its own.
  REQUIRE(a.engine->renewLeases().isOk());
  CHECK(holders(*a.store)["node-a"] == kPartitions - 4);
  for (int i = 0; i < 8 && holders(*a.store)["node-b"] < kPartitions / 2; ++i) {
    REQUIRE(b.engine->renewLeases().isOk());
    REQUIRE(a.engine->renewLeases().isOk());
  }
  auto h = holders(*a.store);
  CHECK(h["node-a"] == kPartitions / 2);
  CHECK(h["node-b"] == kPartitions / 2);
  REQUIRE(a.engine->renewLeases().isOk());  // stable: nothing moves
  CHECK(holders(*a.store)["node-a"] == kPartitions / 2);

  // a stops renewing (paused, cut off); past its lease, b takes everything.
  b.clock->advance(std::chrono::seconds(20));
  REQUIRE(b.engine->renewLeases().isOk());
  CHECK(holders(*b.store)["node-b"] == kPartitions);
  CHECK(b.engine->metrics().leasesTaken == static_cast<uint64_t>(kPartitions));

  // a comes back: its renewal finds it holds nothing, and it says so.
  a.clock->advance(std::chrono::seconds(20));
  REQUIRE(a.engine->renewLeases().isOk());
  CHECK(a.engine->metrics().leasesLost == static_cast<uint64_t>(kPartitions / 2));
  // b stops (SIGTERM): it gives its partitions back at once, and a takes them all.
  b.engine->stop();
  CHECK(holders(*a.store).count("node-b") == 0);
  REQUIRE(a.engine->renewLeases().isOk());
  CHECK(holders(*a.store)["node-a"] == kPartitions);
  a.engine->stop();
}

TEST_CASE("a call in flight on a node that lost its lease is redone by the new holder, and only its result commits",
          "[engine][leases]") {
  DataDir dir;
  const char* const yaml = R"yaml(workflow: slow
version: 1
owner: o
steps:
  - { id: wait, uses: test.sleep, with: { ms: 1500 } }
  - { id: tell, uses: test.count, with: { key: told } }
)yaml";
  Fixture a(dir.path, nullptr, nullptr, "2026-11-26T09:00:00Z", nodeNamed("node-a"));
  Fixture b(dir.path, nullptr, nullptr, "2026-11-26T09:00:00Z", nodeNamed("node-b"));
  a.publish(yaml);
  b.publish(yaml);
  REQUIRE(a.engine->start().isOk());
  REQUIRE(b.engine->start().isOk());
  auto id = a.engine->startRun("slow", Json::object(), "officer-1");
  REQUIRE(id.isOk());
  // While a's call sleeps, a's lease runs out (it is paused, say) and b takes the partition,
  // finding the call's work row and making the call again under its own epoch.
  b.clock->advance(std::chrono::seconds(20));
  REQUIRE(b.engine->renewLeases().isOk());
  CHECK(holders(*b.store)["node-b"] == kPartitions);
  REQUIRE(a.engine->waitIdle(10s));
  REQUIRE(b.engine->waitIdle(10s));

  CHECK(a.engine->metrics().fencedInputs == 1);  // a's result: dropped, not committed
  RunState st = b.runState(*id);
  CHECK(st.status == RunStatus::kCompleted);
  auto events = b.store->runs().events(*id);
  REQUIRE(events.isOk());
  int waitDone = 0, toldDone = 0;
  uint64_t seq = 0;
  for (const auto& e : *events) {
    CHECK(e.seq == ++seq);
    if (e.type == EventType::kStepCompleted && e.step == "wait") ++waitDone;
    if (e.type == EventType::kStepCompleted && e.step == "tell") ++toldDone;
  }
  CHECK(waitDone == 1);
  CHECK(toldDone == 1);
  auto work = b.store->work().pending();
  REQUIRE(work.isOk());
  CHECK(work->empty());
  a.engine->stop();
  b.engine->stop();
}
