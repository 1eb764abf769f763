// Clock faults: the wall clock stepping backwards and forwards (an NTP correction, a VM
// restored from a snapshot) neither fires a timer twice nor loses one, and the times a
// run's history records never go backwards. A timer is delivered once even when the
// committer is slow to take it (here: held up by another connection's write lock).
#include <catch2/catch.hpp>
#include <SQLiteCpp/SQLiteCpp.h>

#include <map>
#include <tuple>

#include "engine_fixture.h"

using namespace vigil;
using namespace vigil::testing;
using namespace std::chrono_literals;

namespace {

const char* kClocked = R"yaml(workflow: clocked
version: 1
owner: o
inputs: { ref: string }
steps:
  - id: pause
    wait: 1h
  - id: review
    approval:
      assign: mash-supervisor
      timeout: 10h
      escalate:
        - after: 1h
          to: duty-inspector
        - after: 3h
          to: superintendent
  - id: note
    uses: test.echo
    with: { decision: "${{ steps.review.output.decision }}" }
)yaml";

using TimerKey = std::tuple<std::string, int, std::string>;

std::map<TimerKey, int> firedTimers(const std::vector<Event>& events) {
  std::map<TimerKey, int> fired;
  for (const auto& e : events) {
    if (e.type == EventType::kTimerFired) ++fired[{e.step, e.attempt, e.data.value("timer", "")}];
  }
  return fired;
}

// Every event's time is at or after the one before it.
bool monotonic(const std::vector<Event>& events) {
  for (size_t i = 1; i < events.size(); ++i) {
    if (events[i].time < events[i - 1].time) return false;
  }
  return true;
}

int count(const std::vector<Event>& events, EventType t) {
  int n = 0;
  for (const auto& e : events) n += e.type == t ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("a clock stepped back and forward fires each timer once and keeps the history in time order", "[engine][timers][clock]") {
  DataDir dir;
  Fixture f(dir.path);
  f.publish(kClocked);
  REQUIRE(f.engine->start().isOk());
  auto id = f.engine->startRun("clocked", {{"ref", "REF-7"}}, "officer-1");
  REQUIRE(id.isOk());
  REQUIRE(f.engine->waitIdle(10s));

  f.advance(30min);
  CHECK(f.runState(*id).step("pause")->status == StepStatus::kWaiting);

  // Two hours back: nothing was due at the earlier reading, nothing fires; the wait is
  // neither lost nor brought forward.
  f.clock->advance(-2h);
  REQUIRE(f.engine->fireDueTimers().isOk());
  REQUIRE(f.engine->waitIdle(10s));
  CHECK(f.runState(*id).step("pause")->status == StepStatus::kWaiting);

  // The clock comes back to where the wait is due (1 h after start, by the wall clock).
  f.advance(2h + 31min);
  RunState st = f.runState(*id);
  CHECK(st.step("pause")->status == StepStatus::kCompleted);
  CHECK(st.step("review")->status == StepStatus::kWaiting);

  // Back a day while the approval waits: a decision taken now is recorded at a time no
  // earlier than the history before it.
  f.clock->advance(-24h);
  REQUIRE(f.engine->fireDueTimers().isOk());
  REQUIRE(f.engine->waitIdle(10s));
  CHECK(f.runState(*id).step("review")->approval->escalations == 0);

  // A step forward past every deadline at once: each escalation level fires once, the
  // approval's timeout once, and nothing fires again at a second poll.
  f.advance(24h + 12h);
  f.advance(1min);
  auto events = f.store->runs().events(*id);
  REQUIRE(events.isOk());
  auto fired = firedTimers(*events);
  for (const auto& [key, n] : fired) {
    INFO(std::get<0>(key) << " attempt " << std::get<1>(key) << " " << std::get<2>(key));
    CHECK(n == 1);
  }
  CHECK(fired.count({"pause", 1, "wait"}) == 1);
  CHECK(count(*events, EventType::kApprovalEscalated) == 2);
  CHECK(monotonic(*events));
  CHECK(f.runState(*id).status == RunStatus::kFailed);  // on_timeout: fail, once
}

TEST_CASE("a decision taken after the clock stepped back is recorded no earlier than the history before it", "[engine][clock]") {
  DataDir dir;
  Fixture f(dir.path);
  f.publish(kClocked);
  REQUIRE(f.engine->start().isOk());
  auto id = f.engine->startRun("clocked", {{"ref", "REF-8"}}, "officer-1");
  REQUIRE(id.isOk());
  REQUIRE(f.engine->waitIdle(10s));
  f.advance(1h);
  REQUIRE(f.runState(*id).step("review")->status == StepStatus::kWaiting);
  const TimePoint before = f.runState(*id).updatedAt;

  f.clock->advance(-6h);
  ApprovalAction act;
  act.kind = ApprovalAction::Kind::kDecide;
  act.actor = {"sup-1", {"mash-supervisor"}};
  act.decision = "approve";
  act.reason = "seen the referral and the checks";
  Status decided = f.engine->actOnApproval(*id, "review", act);
  INFO(decided.message());
  REQUIRE(decided.isOk());
  REQUIRE(f.engine->waitIdle(10s));
  RunState st = f.runState(*id);
  CHECK(st.status == RunStatus::kCompleted);
  CHECK(st.updatedAt >= before);
  auto events = f.store->runs().events(*id);
  REQUIRE(events.isOk());
  CHECK(monotonic(*events));
  // The escalation timers it cancelled by deciding do not fire when the clock catches up.
  f.advance(12h);
  auto after = f.store->runs().events(*id);
  REQUIRE(after.isOk());
  CHECK(after->size() == events->size());
}

TEST_CASE("a timer polled again while its commit is held up is delivered once", "[engine][timers][locked]") {
  VIGIL_SQLITE_ONLY();  // it reaches into the SQLite file itself
  DataDir dir;
  Fixture f(dir.path);
  f.publish(kClocked);
  REQUIRE(f.engine->start().isOk());
  auto id = f.engine->startRun("clocked", {{"ref", "REF-9"}}, "officer-1");
  REQUIRE(id.isOk());
  REQUIRE(f.engine->waitIdle(10s));
  f.advance(1h);
  REQUIRE(f.runState(*id).step("review")->status == StepStatus::kWaiting);

  // Another connection holds the write lock: the committer cannot commit the fired
  // escalation, so the timer row stays due while the poll runs again.
  SQLite::Database other((dir.path / "vigil.db").string(), SQLite::OPEN_READWRITE);
  other.exec("BEGIN IMMEDIATE");
  f.clock->advance(1h);
  REQUIRE(f.engine->fireDueTimers().isOk());
  REQUIRE(f.engine->fireDueTimers().isOk());
  REQUIRE(f.engine->fireDueTimers().isOk());
  other.exec("COMMIT");
  REQUIRE(f.engine->waitIdle(20s));
  for (int i = 0; i < 100 && f.runState(*id).step("review")->approval->escalations == 0; ++i) {
    REQUIRE(f.engine->fireDueTimers().isOk());  // after a refused commit the poll delivers it again
    REQUIRE(f.engine->waitIdle(10s));
  }
  auto events = f.store->runs().events(*id);
  REQUIRE(events.isOk());
  CHECK(count(*events, EventType::kApprovalEscalated) == 1);
  CHECK(firedTimers(*events)[{"review", 1, "escalation"}] == 1);
}

TEST_CASE("a store locked by another writer past the busy timeout loses no acknowledged input", "[engine][store][locked]") {
  VIGIL_SQLITE_ONLY();  // it reaches into the SQLite file itself
  DataDir dir;
  Fixture f(dir.path);
  f.publish(R"yaml(workflow: pauses
version: 1
owner: o
inputs: { n: integer }
steps:
  - id: pause
    wait: 10m
  - id: echo
    uses: test.echo
    with: { n: "${{ inputs.n }}" }
)yaml");
  REQUIRE(f.engine->start().isOk());
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    auto id = f.engine->startRun("pauses", {{"n", i}}, "officer-1");
    REQUIRE(id.isOk());
    ids.push_back(*id);
  }
  REQUIRE(f.engine->waitIdle(10s));

  {
    SQLite::Database other((dir.path / "vigil.db").string(), SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");
    f.clock->advance(10min);
    REQUIRE(f.engine->fireDueTimers().isOk());
    // The commit waits out the busy timeout and fails "database is locked"; the engine
    // says so on its health and keeps what it was given.
    bool failing = false;
    for (int i = 0; i < 300 && !failing; ++i) {
      failing = f.engine->health().storeFailing;
      if (!failing) f.engine->waitIdle(100ms);
    }
    REQUIRE(failing);
    CHECK(f.engine->health().storeError.find("locked") != std::string::npos);
    other.exec("ROLLBACK");
  }
  // The lock is gone: the poll delivers the timers again at the retry, the echo calls are
  // made and every run completes, once.
  size_t completed = 0;
  for (int i = 0; i < 200 && completed < ids.size(); ++i) {
    REQUIRE(f.engine->fireDueTimers().isOk());
    f.engine->waitIdle(100ms);
    completed = 0;
    for (const auto& id : ids) completed += f.runState(id).status == RunStatus::kCompleted ? 1 : 0;
  }
  CHECK(completed == ids.size());
  CHECK_FALSE(f.engine->health().storeFailing);
  for (const auto& id : ids) {
    auto events = f.store->runs().events(id);
    REQUIRE(events.isOk());
    CHECK(count(*events, EventType::kStepCompleted) == 2);
    CHECK(firedTimers(*events)[{"pause", 1, "wait"}] == 1);
  }
}
