// The approvals inbox as the store lists it: most urgent first (priority, then due, then
// age), complete through keyset paging with a total, four-eyes exclusions and filters in the
// query itself, on a real SQLite data directory with a manual clock.
#include <catch2/catch.hpp>

#include <set>

#include "engine_fixture.h"

using namespace vigil;
using namespace vigil::testing;

namespace {

const char* kTriage = R"yaml(workflow: triage
version: 1
owner: supervisor
inputs:
  band: { type: string }
  ref: { type: string }
  due: { type: string }
steps:
  - id: review
    approval:
      assign: supervisor
      distinct_from: [started_by]
      recommendation: inputs.band
      due: inputs.due
      priority: "inputs.band == 'RED' ? 3 : (inputs.band == 'AMBER' ? 2 : 1)"
      summary: "${{ inputs.ref }} ${{ inputs.band }} due ${{ inputs.due }}"
)yaml";

std::string start(Fixture& f, const std::string& band, const std::string& ref, const std::string& due,
                  const std::string& by = "officer") {
  auto id = f.engine->startRun("triage", {{"band", band}, {"ref", ref}, {"due", due}}, by);
  REQUIRE(id.isOk());
  return *id;
}

ApprovalPage page(Fixture& f, ApprovalFilter q) {
  auto p = f.store->approvals().list(q);
  INFO(p.status().message());
  REQUIRE(p.isOk());
  return *p;
}

}  // namespace

TEST_CASE("the inbox lists a new RED above older AMBER and GREEN tasks, then by due time", "[approval][inbox]") {
  DataDir dir;
  Fixture f(dir.path);
  f.publish(kTriage);
  REQUIRE(f.engine->start().isOk());
  start(f, "GREEN", "REF-1", "2026-11-28T09:00:00Z");
  start(f, "AMBER", "REF-2", "2026-11-26T15:00:00Z");
  f.clock->advance(std::chrono::minutes(5));
  start(f, "AMBER", "REF-3", "2026-11-26T13:00:00Z");
  f.clock->advance(std::chrono::minutes(5));
  start(f, "RED", "REF-4", "2026-11-26T11:00:00Z");
  REQUIRE(f.engine->waitIdle(10s));
  ApprovalFilter q;
  q.roles = {"supervisor"};
  auto p = page(f, q);
  REQUIRE(p.rows.size() == 4);
  CHECK(p.total == 4);
  std::vector<std::string> summaries;
  for (const auto& r : p.rows) summaries.push_back(r.summary);
  CHECK(summaries == std::vector<std::string>{"REF-4 RED due 2026-11-26T11:00:00Z", "REF-3 AMBER due 2026-11-26T13:00:00Z",
                                              "REF-2 AMBER due 2026-11-26T15:00:00Z", "REF-1 GREEN due 2026-11-28T09:00:00Z"});
  CHECK(p.rows[0].priority == 3);
  CHECK(p.rows[0].recommendation == "RED");
}

TEST_CASE("the inbox pages through 300 tasks completely, without repeats, and reports the total", "[approval][inbox]") {
  DataDir dir;
  Fixture f(dir.path);
  f.publish(kTriage);
  REQUIRE(f.engine->start().isOk());
  const char* bands[] = {"GREEN", "AMBER", "RED"};
  for (int i = 0; i < 300; ++i) {
    // Many share a priority and a due time: ties are broken by age, then by run id.
    start(f, bands[i % 3], "REF-" + std::to_string(i), i % 2 ? "2026-11-27T09:00:00Z" : "2026-11-26T17:00:00Z");
    if (i % 7 == 0) f.clock->advance(std::chrono::seconds(1));
  }
  REQUIRE(f.engine->waitIdle(30s));
  ApprovalFilter q;
  q.roles = {"supervisor"};
  q.limit = 40;
  std::set<std::string> seen;
  std::vector<double> priorities;
  for (int pages = 0; pages < 20; ++pages) {
    auto p = page(f, q);
    CHECK(p.total == 300);
    for (const auto& r : p.rows) {
      CHECK(seen.insert(r.runId).second);
      priorities.push_back(r.priority);
    }
    // The last page (300 = 7 x 40 + 20) says no more follow; every other page says more do.
    CHECK(p.more == (seen.size() < 300));
    if (!p.more) break;
    const auto& last = p.rows.back();
    q.after = ApprovalFilter::Position{last.priority, last.due, last.requestedAt, last.runId, last.step};
  }
  CHECK(seen.size() == 300);
  CHECK(std::is_sorted(priorities.begin(), priorities.end(), std::greater<>()));
  CHECK(priorities.front() == 3);
}

TEST_CASE("the inbox leaves out tasks the caller may never decide, and filters by band and overdue", "[approval][inbox]") {
  DataDir dir;
  Fixture f(dir.path);
  f.publish(kTriage);
  REQUIRE(f.engine->start().isOk());
  start(f, "RED", "REF-A", "2026-11-26T08:00:00Z", "sup-a");  // sup-a started it: four-eyes
  start(f, "RED", "REF-B", "2026-11-26T12:00:00Z");
  start(f, "AMBER", "REF-C", "2026-11-26T08:30:00Z");
  REQUIRE(f.engine->waitIdle(10s));
  ApprovalFilter q;
  q.roles = {"supervisor"};
  q.user = "sup-a";
  q.notExcluding = "sup-a";
  CHECK(page(f, q).total == 2);
  q.recommendation = "RED";
  auto reds = page(f, q);
  REQUIRE(reds.rows.size() == 1);
  CHECK(reds.rows[0].summary.rfind("REF-B", 0) == 0);
  q.recommendation.clear();
  q.overdueAsOf = f.clock->now();
  auto overdue = page(f, q);
  REQUIRE(overdue.rows.size() == 1);
  CHECK(overdue.rows[0].summary.rfind("REF-C", 0) == 0);
}

TEST_CASE("a priority that cannot be computed lists the task first and says why", "[approval][inbox]") {
  DataDir dir;
  Fixture f(dir.path);
  f.publish(R"yaml(workflow: t
version: 1
owner: o
inputs:
  p: { type: string }
steps:
  - id: review
    approval:
      assign: supervisor
      priority: inputs.p
)yaml");
  REQUIRE(f.engine->start().isOk());
  auto id = f.engine->startRun("t", {{"p", "not a number"}}, "officer");
  REQUIRE(id.isOk());
  REQUIRE(f.engine->waitIdle(10s));
  auto st = f.runState(*id);
  CHECK(st.status == RunStatus::kWaiting);
  const Json& request = st.step("review")->approval->request->recorded;
  CHECK(request["priority"].get<double>() >= 1e9);
  CHECK(request["priority_error"] == "priority must be a number, got string");
}

TEST_CASE("the inbox finds a referral by text in the task's summary or in the run's reference", "[approval][inbox]") {
  // The summary line says nothing of the referral; the workflow's reference names it.
  const char* kQuiet = R"yaml(workflow: quiet
version: 1
owner: supervisor
reference: "${{ inputs.ref }}"
inputs:
  ref: { type: string }
steps:
  - id: review
    approval:
      assign: supervisor
      summary: "a referral to review"
)yaml";
  DataDir dir;
  Fixture f(dir.path);
  f.publish(kTriage);
  f.publish(kQuiet);
  REQUIRE(f.engine->start().isOk());
  start(f, "RED", "SYN-REF-0100", "2026-11-26T12:00:00Z");
  REQUIRE(f.engine->startRun("quiet", {{"ref", "SYN-REF-0200"}}, "officer").isOk());
  REQUIRE(f.engine->waitIdle(10s));
  ApprovalFilter q;
  q.roles = {"supervisor"};
  q.textContains = "syn-ref-0100";  // in the summary, any case
  auto bySummary = page(f, q);
  REQUIRE(bySummary.total == 1);
  CHECK(bySummary.rows[0].workflow == "triage");
  q.textContains = "SYN-REF-0200";  // only in the run's reference
  auto byReference = page(f, q);
  REQUIRE(byReference.total == 1);
  CHECK(byReference.rows[0].workflow == "quiet");
  q.textContains = "SYN-REF-0300";
  CHECK(page(f, q).total == 0);
}
