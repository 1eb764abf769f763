// Approval steps: who may decide, quorums, claims, deadlines, escalation, reassignment and
// overrides, through the pure machine with a manual clock (nothing sleeps).
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "engine_fixture.h"
#include "machine_harness.h"

using namespace vigil;
using namespace vigil::testing;
using namespace std::chrono_literals;

namespace {

ApprovalAction decide(std::string user, std::vector<std::string> roles, std::string decision,
                      std::string reason = "checked the research in full") {
  ApprovalAction a;
  a.actor = {std::move(user), std::move(roles)};
  a.decision = std::move(decision);
  a.reason = std::move(reason);
  return a;
}

ApprovalAction claim(std::string user, std::vector<std::string> roles, std::chrono::milliseconds forHowLong = 15min) {
  ApprovalAction a;
  a.kind = ApprovalAction::Kind::kClaim;
  a.actor = {std::move(user), std::move(roles)};
  a.claimFor = forHowLong;
  return a;
}

// Feeds an action and returns why it was refused ("" when it was applied).
std::string act(Harness& h, const std::string& step, const ApprovalAction& a) {
  Transition t = h.m.onApproval(h.st, step, a, h.now);
  std::string why = t.refused ? "" : t.refused.message();
  if (!t.refused) CHECK(t.events.empty());
  h.feed(std::move(t));
  h.drain();
  return why;
}

const std::string kQuorum = std::string(kHeader) + R"yaml(steps:
  - id: review
    approval:
      assign: { roles: [supervisor], users: [duty-dci] }
      quorum: 2
      distinct_from: [started_by]
  - { id: out, set: { d: "${{ steps.review.decision }}" } }
)yaml";

}  // namespace

TEST_CASE("a decision that does not meet the step's require is refused with its message", "[approval]") {
  Harness h(std::string(kHeader) + R"yaml(inputs:
  verified: { type: boolean }
steps:
  - id: review
    approval:
      assign: supervisor
      options: [agree, override_to_green]
      ratings: { override_to_green: GREEN }
      recommendation: "'AMBER'"
      form:
        identity_confirmed: { type: boolean, default: false }
      require:
        - when: "decision.rating != 'GREEN' || inputs.verified || decision.form.identity_confirmed"
          message: "confirm the identity before rating GREEN"
)yaml");
  h.start({{"verified", false}});
  CHECK(act(h, "review", decide("sup", {"supervisor"}, "override_to_green", "the research shows no concern at all")) ==
        "confirm the identity before rating GREEN; field: decision");
  CHECK(h.st.status == RunStatus::kWaiting);
  ApprovalAction confirmed = decide("sup", {"supervisor"}, "override_to_green", "identity checked with the school by phone");
  confirmed.form = {{"identity_confirmed", true}};
  CHECK(act(h, "review", confirmed).empty());
  CHECK(h.st.status == RunStatus::kCompleted);
}

TEST_CASE("a require that names an unknown root is a load error, and decision is bound only there", "[approval][loader]") {
  auto r = loadWorkflow(std::string(kHeader) + R"yaml(steps:
  - id: review
    approval:
      assign: supervisor
      require:
        - { when: "decison.rating != 'GREEN'", message: "m" }
  - { id: after, set: { x: "${{ decision.rating }}" } }
)yaml", "wf.yaml");
  std::vector<std::string> messages;
  for (const auto& d : r.diagnostics) messages.push_back(d.message);
  CHECK(std::count_if(messages.begin(), messages.end(), [](const std::string& m) { return m.find("unknown name 'decison'") != std::string::npos; }) == 1);
  CHECK(std::count_if(messages.begin(), messages.end(), [](const std::string& m) { return m.find("unknown name 'decision'") != std::string::npos; }) == 1);
}

TEST_CASE("a quorum of 2 needs two distinct people who agree", "[approval]") {
  Harness h(kQuorum);
  h.start(Json::object(), "officer-1");
  CHECK(act(h, "review", decide("sup-a", {"supervisor"}, "approve")).empty());
  CHECK(h.st.status == RunStatus::kWaiting);
  CHECK(act(h, "review", decide("sup-a", {"supervisor"}, "approve")) ==
        "four-eyes: 'sup-a' has already decided approval 'review'; a quorum needs distinct people");
  CHECK(act(h, "review", decide("sup-b", {"supervisor"}, "reject")).empty());
  CHECK(h.st.status == RunStatus::kWaiting);  // 1 approve, 1 reject: no option has 2 yet
  CHECK(act(h, "review", decide("duty-dci", {"operator"}, "approve")).empty());  // assigned by name
  CHECK(h.st.status == RunStatus::kCompleted);
  const ApprovalState& ap = *h.st.step("review")->approval;
  CHECK(ap.outcome->decision == "approve");
  CHECK(ap.outcome->approvers == std::vector<std::string>{"sup-a", "duty-dci"});
  CHECK(ap.votes.size() == 3);
  CHECK(h.st.step("out")->output["d"] == "approve");
  CHECK(act(h, "review", decide("sup-c", {"supervisor"}, "approve")) ==
        "approval 'review' is not open: it has been decided, or the run has moved on");
}

TEST_CASE("four-eyes refuses the run's starter, and roles are enforced", "[approval]") {
  Harness h(kQuorum);
  h.start(Json::object(), "sup-a");
  CHECK(act(h, "review", decide("sup-a", {"supervisor"}, "approve")) ==
        "four-eyes: 'sup-a' may not decide approval 'review' (started the run or is excluded by distinct_from)");
  CHECK(act(h, "review", decide("op-1", {"operator", "auditor"}, "approve")) ==
        "'op-1' is not assigned to approval 'review' (by role or by name); field: roles");
  CHECK(act(h, "review", decide("sup-b", {"supervisor"}, "maybe")) == "decision must be one of: approve, reject; field: decision");
  CHECK(act(h, "review", decide("sup-b", {"supervisor"}, "approve", "ok")) ==
        "this decision needs a reason of at least 10 characters; field: reason");
  CHECK(h.st.step("review")->approval->votes.empty());
  CHECK(act(h, "nope", decide("sup-b", {"supervisor"}, "approve")) == "run run-1 has no approval step 'nope'");
}

TEST_CASE("two people deciding at once: exactly one decision counts", "[approval]") {
  Harness h(std::string(kHeader) + "steps:\n  - id: review\n    approval: { assign: supervisor }\n");
  h.start();
  // The committer applies inputs one after the other; the second sees the first's result.
  CHECK(act(h, "review", decide("sup-a", {"supervisor"}, "approve")).empty());
  CHECK(act(h, "review", decide("sup-b", {"supervisor"}, "reject")) ==
        "approval 'review' is not open: it has been decided, or the run has moved on");
  CHECK(h.st.step("review")->approval->outcome->decidedBy == "sup-a");
}

TEST_CASE("a claim keeps others out until it expires", "[approval]") {
  Harness h(std::string(kHeader) + "steps:\n  - id: review\n    approval: { assign: supervisor }\n");
  h.start();
  CHECK(act(h, "review", claim("sup-a", {"supervisor"}, 10min)).empty());
  CHECK(act(h, "review", claim("sup-b", {"supervisor"})) == "claimed by 'sup-a' until 2026-11-26T09:10:00Z");
  CHECK(act(h, "review", decide("sup-b", {"supervisor"}, "approve")) == "claimed by 'sup-a' until 2026-11-26T09:10:00Z");
  CHECK(act(h, "review", claim("sup-a", {"supervisor"}, 10min)).empty());  // the holder may renew
  h.advance(11min);
  CHECK(act(h, "review", claim("sup-b", {"supervisor"})).empty());  // expired: free to take
  CHECK(act(h, "review", decide("sup-b", {"supervisor"}, "approve")).empty());
  CHECK(h.st.status == RunStatus::kCompleted);
  auto rows = approvalRowsOf(h.st);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].status == "decided");
  CHECK(rows[0].claimedBy.empty());
}

TEST_CASE("approval timeouts fail the run, take a default or follow the escalation chain", "[approval]") {
  SECTION("fail") {
    Harness h(std::string(kHeader) + "steps:\n  - id: review\n    approval: { assign: supervisor, timeout: 4h }\n");
    h.start();
    h.advance(4h);
    CHECK(h.st.status == RunStatus::kFailed);
    CHECK(h.st.step("review")->error["code"] == "approval_timeout");
    CHECK(approvalRowsOf(h.st)[0].status == "closed");
  }
  SECTION("default branch") {
    Harness h(std::string(kHeader) + R"yaml(steps:
  - id: review
    approval: { assign: supervisor, options: [approve, refer], timeout: 2h, on_timeout: refer }
  - id: route
    switch:
      cases:
        - { when: "steps.review.decision == 'refer'", steps: [ { id: referred, set: { r: 1 } } ] }
      default: [ { id: approved, set: { a: 1 } } ]
)yaml");
    h.start();
    h.advance(2h);
    INFO(Json(h.trace()).dump());
    CHECK(h.st.status == RunStatus::kCompleted);
    REQUIRE(h.st.step("referred") != nullptr);
    CHECK(h.st.step("review")->approval->outcome->decidedBy == "system:timeout");
    CHECK(h.st.step("referred")->status == StepStatus::kCompleted);
    CHECK(h.st.step("approved") == nullptr);  // the default branch was not taken
    CHECK(h.st.step("review")->output["approvers"] == Json::array());  // same shape as a person's decision
  }
  SECTION("a timeout that picks an option records the rating it stands for") {
    Harness h(std::string(kHeader) + R"yaml(steps:
  - id: review
    approval:
      assign: supervisor
      options: [agree, escalate_to_red]
      ratings: { escalate_to_red: RED }
      recommendation: "'AMBER'"
      timeout: 2h
      on_timeout: escalate_to_red
)yaml");
    h.start();
    h.advance(2h);
    CHECK(h.st.status == RunStatus::kCompleted);
    CHECK(h.st.step("review")->output["rating"] == "RED");
    CHECK(h.st.step("review")->output["decided_by"] == "system:timeout");
  }
  SECTION("a two-level escalation chain widens who may decide, then the deadline fails it") {
    Harness h(std::string(kHeader) + R"yaml(steps:
  - id: review
    approval:
      assign: mash-supervisor
      timeout: 4h
      on_timeout: escalate
      escalate:
        - { after: 1h, to: duty-inspector }
        - { after: 3h, to: [superintendent] }
)yaml");
    h.start();
    CHECK(act(h, "review", decide("insp-1", {"duty-inspector"}, "approve")) ==
          "'insp-1' is not assigned to approval 'review' (by role or by name); field: roles");
    h.advance(1h);
    CHECK(h.st.step("review")->approval->roles == std::vector<std::string>{"mash-supervisor", "duty-inspector"});
    CHECK(h.st.step("review")->approval->escalations == 1);
    h.advance(2h);
    CHECK(h.st.step("review")->approval->roles ==
          std::vector<std::string>{"mash-supervisor", "duty-inspector", "superintendent"});
    auto rows = approvalRowsOf(h.st);
    CHECK(rows[0].escalations == 2);
    CHECK(rows[0].status == "open");
    int escalated = 0;
    for (const auto& e : h.history) escalated += e.type == EventType::kApprovalEscalated;
    CHECK(escalated == 2);
    h.advance(1h);
    CHECK(h.st.status == RunStatus::kFailed);
  }
  SECTION("escalation stops once decided") {
    Harness h(std::string(kHeader) + "steps:\n  - id: review\n    approval: { assign: a, escalate: { after: 1h, to: b } }\n");
    h.start();
    CHECK(act(h, "review", decide("p", {"a"}, "approve")).empty());
    h.advance(2h);
    for (const auto& e : h.history) CHECK(e.type != EventType::kApprovalEscalated);
  }
}

TEST_CASE("an admin reassigns a task with a recorded reason", "[approval]") {
  Harness h(std::string(kHeader) + "steps:\n  - id: review\n    approval: { assign: { users: [absent-sup] } }\n");
  h.start();
  CHECK(act(h, "review", claim("absent-sup", {})).empty());
  ApprovalAction r;
  r.kind = ApprovalAction::Kind::kReassign;
  r.actor = {"admin-1", {"admin"}};
  r.toUsers = {"cover-sup"};
  r.reason = "short";
  CHECK(act(h, "review", r) == "a reassignment needs a reason of at least 10 characters; field: reason");
  r.reason = "absent on leave until Monday";
  CHECK(act(h, "review", r).empty());
  const Event& e = h.history.back();
  CHECK(e.type == EventType::kApprovalReassigned);
  CHECK(e.data["by"] == "admin-1");
  CHECK(e.data["reason"] == "absent on leave until Monday");
  CHECK(act(h, "review", decide("absent-sup", {}, "approve")) ==
        "'absent-sup' is not assigned to approval 'review' (by role or by name); field: roles");
  CHECK(act(h, "review", decide("cover-sup", {}, "approve")).empty());  // the old claim went with the assignment
  CHECK(h.st.status == RunStatus::kCompleted);
}

TEST_CASE("decisions record agreement with the recommendation, overriding needs a reason", "[approval]") {
  const std::string wf = std::string(kHeader) + R"yaml(steps:
  - { id: assess, set: { band: AMBER } }
  - id: review
    approval:
      assign: supervisor
      recommendation: steps.assess.output.band
      reason: { required: false }
      form: { notes: string, visits: { type: integer, default: 0 } }
  - { id: out, set: { rating: "${{ steps.review.output.rating }}" } }
)yaml";
  SECTION("agreeing needs no reason when the step does not require one") {
    Harness h(wf);
    h.start();
    ApprovalAction a = decide("sup", {"supervisor"}, "approve", "");
    a.form = {{"notes", "seen"}};
    CHECK(act(h, "review", a).empty());
    const Json& vote = h.st.step("review")->approval->votes[0].recorded;
    CHECK(vote["agreed"] == true);
    CHECK(vote["recommendation"] == "AMBER");
    CHECK(vote["form"] == Json({{"notes", "seen"}, {"visits", 0}}));
    CHECK(approvalRowsOf(h.st)[0].agreed == std::optional<bool>(true));
  }
  SECTION("changing AMBER to RED always needs a written reason") {
    Harness h(wf);
    h.start();
    ApprovalAction a = decide("sup", {"supervisor"}, "approve", "");
    a.form = {{"notes", "seen"}};
    a.rating = "RED";
    CHECK(act(h, "review", a) == "overriding the recommendation needs a reason of at least 10 characters; field: reason");
    a.reason = "school reports a new injury today";
    CHECK(act(h, "review", a).empty());
    CHECK(h.st.step("review")->approval->votes[0].agreed == std::optional<bool>(false));
    CHECK(h.st.step("out")->output["rating"] == "RED");
    CHECK(approvalRowsOf(h.st)[0].agreed == std::optional<bool>(false));
  }
  SECTION("form fields are checked against their declared types") {
    Harness h(wf);
    h.start();
    ApprovalAction a = decide("sup", {"supervisor"}, "approve", "");
    a.form = {{"notes", 5}};
    CHECK(act(h, "review", a) == "form.notes: expected string, got number; field: form.notes");
    a.form = {{"notes", "x"}, {"extra", 1}};
    CHECK(act(h, "review", a) == "form.extra: approval 'review' declares no such field; field: form.extra");
    a.form = Json::object();
    CHECK(act(h, "review", a) == "form.notes: required field is missing; field: form.notes");
  }
}

TEST_CASE("two people deciding the same task at the same instant: one decision, one conflict", "[approval][engine]") {
  DataDir dir;
  Fixture f(dir.path);
  f.publish("workflow: race\nversion: 1\nowner: o\nsteps:\n  - id: review\n    approval: { assign: supervisor }\n"
            "  - { id: after, set: { d: \"${{ steps.review.decision }}\" } }\n");
  REQUIRE(f.engine->start().isOk());
  for (int round = 0; round < 20; ++round) {
    auto id = f.engine->startRun("race", Json::object(), "officer-1");
    REQUIRE(id.isOk());
    REQUIRE(f.engine->waitIdle(10s));
    std::atomic<bool> go{false};
    Status results[2];
    std::thread people[2];
    for (int p = 0; p < 2; ++p) {
      people[p] = std::thread([&, p] {
        ApprovalAction a = decide(p == 0 ? "sup-a" : "sup-b", {"supervisor"}, p == 0 ? "approve" : "reject");
        while (!go) std::this_thread::yield();
        results[p] = f.engine->actOnApproval(*id, "review", a);
      });
    }
    go = true;
    for (auto& t : people) t.join();
    const int accepted = results[0].isOk() + results[1].isOk();
    CHECK(accepted == 1);
    const Status& refused = results[0].isOk() ? results[1] : results[0];
    CHECK(refused.code() == Status::Code::kFailedPrecondition);
    RunState st = f.runState(*id);
    CHECK(st.status == RunStatus::kCompleted);
    CHECK(st.step("review")->approval->votes.size() == 1);
    CHECK(st.step("after")->output["d"] == (results[0].isOk() ? "approve" : "reject"));
  }
}
