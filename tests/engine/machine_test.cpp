// The pure run machine, driven by a scripted executor: connector results, timers and
// decisions are fed in by hand with a manual clock, so nothing here sleeps.
#include <catch2/catch.hpp>
#include <deque>
#include <functional>

#include "machine_harness.h"

using namespace vigil;
using namespace vigil::testing;
using namespace std::chrono_literals;


TEST_CASE("sequential uses, set and decide steps run to completion", "[machine]") {
  Harness h(std::string(kHeader) + R"yaml(inputs: { name: string }
steps:
  - { id: pnd, uses: pnd.search, with: { q: "${{ inputs.name }}" } }
  - id: assess
    decide:
      rules:
        - { id: found, when: "steps.pnd.output.echo.q == 'Test Child'", score: 3, reason: "Known to PND" }
        - { id: never, when: "false", score: 10, reason: "never" }
      bands: { RED: 5, AMBER: 3, GREEN: 0 }
  - { id: out, set: { band: "${{ steps.assess.output.band }}" } }
outputs: { band: "${{ steps.out.output.band }}" }
)yaml");
  h.start({{"name", "Test Child"}});
  REQUIRE(h.calls.size() == 1);
  CHECK(h.calls[0].idempotencyKey == "run-1/pnd/1");
  CHECK(h.calls[0].input == Json({{"q", "Test Child"}}));
  h.drain();
  CHECK(h.st.status == RunStatus::kCompleted);
  CHECK(h.st.outputs == Json({{"band", "AMBER"}}));
  const auto& fired = h.st.step("assess")->output["fired"];
  REQUIRE(fired.size() == 1);
  CHECK(fired[0]["reason"] == "Known to PND");
  const Event* decision = nullptr;
  for (const auto& e : h.history) {
    if (e.type == EventType::kDecisionRecorded) decision = &e;
  }
  REQUIRE(decision != nullptr);
  CHECK(decision->data["score"] == 3.0);
  CHECK(decision->data["band"] == "AMBER");
  CHECK(decision->data["rules"][0] == Json({{"id", "found"}, {"fired", true},
                                            {"inputs", {{"steps.pnd.output.echo.q", "Test Child"}}}}));
  CHECK(decision->data["rules"][1] == Json({{"id", "never"}, {"fired", false}, {"inputs", Json::object()}}));
  CHECK(h.trace() == std::vector<std::string>{"RunStarted", "StepStarted pnd", "StepCompleted pnd", "StepStarted assess",
                                              "DecisionRecorded assess", "StepCompleted assess", "StepStarted out",
                                              "StepCompleted out", "RunCompleted"});
}

TEST_CASE("folding the history again gives the same state", "[machine][replay]") {
  Harness h(std::string(kHeader) + R"yaml(steps:
  - id: both
    parallel:
      - { id: a, uses: x.y }
      - { id: b, uses: x.z }
  - { id: c, set: { v: "${{ [steps.a.status, steps.b.status] }}" } }
)yaml");
  h.start();
  CHECK(h.calls.size() == 2);  // both branches start before either finishes
  h.drain();
  REQUIRE(h.st.status == RunStatus::kCompleted);
  CHECK(h.st.step("c")->output == Json({{"v", {"completed", "completed"}}}));
  RunState again;
  again.id = "run-1";
  for (const auto& e : h.history) REQUIRE(again.apply(e).isOk());
  CHECK(again.toJson() == h.st.toJson());
  auto snap = RunState::fromJson(h.st.toJson());
  REQUIRE(snap.isOk());
  CHECK(snap->toJson() == h.st.toJson());
}

TEST_CASE("foreach runs its body per item with bounded concurrency", "[machine][foreach]") {
  Harness h(std::string(kHeader) + R"yaml(inputs: { kids: array }
steps:
  - id: each
    foreach: "${{ inputs.kids }}"
    as: kid
    concurrency: 2
    steps:
      - { id: look, uses: edu.lookup, with: { name: "${{ kid }}", n: "${{ index }}" } }
      - { id: note, set: { school: "${{ steps.look.output.echo.name }}-school" } }
)yaml");
  h.start({{"kids", {"a", "b", "c", "d", "e"}}});
  CHECK(h.calls.size() == 2);
  h.drain();
  CHECK(h.maxOutstanding == 2);
  REQUIRE(h.st.status == RunStatus::kCompleted);
  const Json& out = h.st.step("each")->output;
  REQUIRE(out.size() == 5);
  CHECK(out[4]["note"]["school"] == "e-school");
  CHECK(h.st.step("look[3]")->output["echo"]["n"] == 3);
}

TEST_CASE("switch takes the first true case, if skips", "[machine][switch]") {
  Harness h(std::string(kHeader) + R"yaml(inputs: { band: string }
steps:
  - id: route
    switch:
      cases:
        - { when: "inputs.band == 'RED'", steps: [{ id: red, set: { p: 1 } }] }
        - { when: "inputs.band == 'AMBER'", steps: [{ id: amber, set: { p: 2 } }] }
      default: [{ id: other, set: { p: 3 } }]
  - { id: only-red, if: "inputs.band == 'RED'", set: { x: 1 } }
)yaml");
  h.start({{"band", "AMBER"}});
  REQUIRE(h.st.status == RunStatus::kCompleted);
  CHECK(h.st.step("amber")->status == StepStatus::kCompleted);
  CHECK(h.st.step("red") == nullptr);
  CHECK(h.st.step("other") == nullptr);
  CHECK(h.st.step("only-red")->status == StepStatus::kSkipped);
}

TEST_CASE("retry jitter comes from SHA-256 of run, step and attempt, so every build schedules the same time", "[machine][retry]") {
  Harness h(std::string(kHeader) + R"yaml(steps:
  - id: s
    uses: rms.get
    retry: { max: 2, backoff: fixed, initial: 10s }
)yaml");
  h.connector = [](const Command&) { return CallOutcome::failure("http_503", "service unavailable", true); };
  h.start();
  h.drain();
  REQUIRE(h.timers.size() == 1);
  // 5000 + first 8 bytes of SHA-256("run-1/s/1") as a big-endian integer mod 5001 (python3 hashlib).
  CHECK(h.timers[0].due == h.now + std::chrono::milliseconds(9017));
}

TEST_CASE("retries back off exponentially on the clock, then succeed", "[machine][retry]") {
  Harness h(std::string(kHeader) + R"yaml(steps:
  - id: flaky
    uses: rms.get
    retry: { max: 4, backoff: exponential, initial: 2s, max_delay: 5s, jitter: false }
)yaml");
  int calls = 0;
  h.connector = [&](const Command& c) {
    ++calls;
    CHECK(c.idempotencyKey == "run-1/flaky/" + std::to_string(calls));
    if (calls < 4) return CallOutcome::failure("http_503", "service unavailable", true);
    return CallOutcome::success(Json("ok"));
  };
  h.start();
  h.drain();
  CHECK(calls == 1);
  CHECK(h.st.status == RunStatus::kWaiting);
  REQUIRE(h.timers.size() == 1);
  CHECK(h.timers[0].due == h.now + 2s);
  h.advance(2s);
  CHECK(calls == 2);
  CHECK(h.timers.back().due == h.now + 4s);
  h.advance(4s);
  CHECK(calls == 3);
  CHECK(h.timers.back().due == h.now + 5s);  // capped by max_delay
  h.advance(5s);
  CHECK(calls == 4);
  CHECK(h.st.status == RunStatus::kCompleted);
  CHECK(h.st.step("flaky")->attempt == 4);
}

TEST_CASE("a non-retryable failure or exhausted retries fail the run", "[machine][retry]") {
  Harness h(std::string(kHeader) + "steps:\n  - { id: s, uses: a.b, retry: { max: 2, initial: 1s } }\n  - { id: after, set: { x: 1 } }\n");
  h.connector = [](const Command&) { return CallOutcome::failure("http_400", "bad request", false); };
  h.start();
  h.drain();
  CHECK(h.st.status == RunStatus::kFailed);
  CHECK(h.st.error["code"] == "http_400");
  CHECK(h.st.step("after") == nullptr);
}

TEST_CASE("a step timeout fails the attempt and a late result is ignored", "[machine][timeout]") {
  Harness h(std::string(kHeader) + "steps:\n  - { id: slow, uses: a.b, timeout: 30s }\n");
  h.start();
  REQUIRE(h.calls.size() == 1);
  Command call = h.calls.front();
  h.calls.clear();
  CHECK(call.deadline == h.now + 30s);
  h.advance(30s);
  CHECK(h.st.status == RunStatus::kFailed);
  CHECK(h.st.error["code"] == "timeout");
  auto late = h.m.onCallResult(h.st, call.step, call.attempt, CallOutcome::success(Json(1)), h.now);
  CHECK(late.events.empty());
}

TEST_CASE("on_error continue, handler steps, and the workflow handler", "[machine][errors]") {
  Harness h(std::string(kHeader) + R"yaml(steps:
  - { id: optional, uses: a.fails, on_error: continue }
  - id: handled
    uses: a.fails
    on_error:
      - { id: note, set: { why: "${{ error.message }}" } }
  - { id: fatal, uses: a.fails }
  - { id: never, set: { x: 1 } }
on_error:
  - { id: alert, uses: mail.send, with: { subject: "failed: ${{ error.code }}" } }
)yaml");
  h.connector = [](const Command& c) {
    if (c.connector == "mail") return CallOutcome::success(Json("sent"));
    return CallOutcome::failure("down", "system down", false);
  };
  h.start();
  h.drain();
  CHECK(h.st.status == RunStatus::kFailed);
  CHECK(h.st.step("optional")->status == StepStatus::kFailed);
  CHECK(h.st.step("note")->output["why"] == "system down");
  CHECK(h.st.step("never") == nullptr);
  CHECK(h.st.step("alert")->status == StepStatus::kCompleted);
  CHECK(h.st.error["step"] == "fatal");
}

TEST_CASE("waits park the run on a timer", "[machine][wait]") {
  Harness h(std::string(kHeader) + R"yaml(steps:
  - { id: pause, wait: 10m }
  - { id: until, wait: { until: "time_add(now(), '1h')" } }
  - { id: done, set: { at: "${{ now() }}" } }
)yaml");
  h.start();
  CHECK(h.st.status == RunStatus::kWaiting);
  h.advance(9min);
  CHECK(h.st.status == RunStatus::kWaiting);
  h.advance(1min);
  CHECK(h.st.step("pause")->status == StepStatus::kCompleted);
  h.advance(1h);
  CHECK(h.st.status == RunStatus::kCompleted);
  CHECK(h.st.step("done")->output["at"] == "2026-11-26T10:10:00Z");
}

TEST_CASE("approvals park until decided or timed out", "[machine][approval]") {
  const std::string wf = std::string(kHeader) + R"yaml(steps:
  - { id: rate, set: { band: AMBER } }
  - id: review
    approval:
      assign: mash-supervisor
      distinct_from: [started_by]
      options: [agree, override]
      recommendation: steps.rate.output.band
      show: [steps.rate.output]
      timeout: 4h
      on_timeout: agree
  - { id: out, set: { d: "${{ steps.review.decision }}" } }
)yaml";
  Harness h(wf);
  h.start();
  CHECK(h.st.status == RunStatus::kWaiting);
  const Event& req = h.history[h.history.size() - 1];
  CHECK(req.type == EventType::kApprovalRequested);
  CHECK(req.data["recommendation"] == "AMBER");
  CHECK(req.data["distinct_from"] == Json({"officer-1"}));
  CHECK(req.data["show"]["steps.rate.output"] == Json({{"band", "AMBER"}}));
  ApprovalAction a;
  a.actor = {"sup-1", {"mash-supervisor"}};
  a.decision = "override";
  a.reason = "more is known about the family";
  h.feed(h.m.onApproval(h.st, "review", a, h.now));
  CHECK(h.st.status == RunStatus::kCompleted);
  CHECK(h.st.step("out")->output["d"] == "override");

  Harness t(wf);
  t.start();
  t.advance(4h);
  CHECK(t.st.status == RunStatus::kCompleted);
  CHECK(t.st.step("out")->output["d"] == "agree");
  CHECK(t.st.step("review")->approval->outcome->decidedBy == "system:timeout");
}

TEST_CASE("a call starts a child run and waits for it", "[machine][call]") {
  Harness h(std::string(kHeader) + "steps:\n  - { id: sub, call: child, with: { x: 1 } }\n  - { id: after, set: { y: \"${{ steps.sub.output.z }}\" } }\n");
  h.start();
  REQUIRE(h.children.size() == 1);
  CHECK(h.children[0].childRun == "run-1.sub");
  CHECK(h.children[0].input == Json({{"x", 1}}));
  h.feed(h.m.onChildEnded(h.st, "sub", RunStatus::kCompleted, {{"z", 5}}, Json(), h.now));
  CHECK(h.st.status == RunStatus::kCompleted);
  CHECK(h.st.step("after")->output["y"] == 5);
}

namespace {
RunMachine::CancelInput cancelBy(std::string user, std::vector<std::string> roles,
                                 RunMachine::CancelInput::Kind kind = RunMachine::CancelInput::Kind::kRequest) {
  RunMachine::CancelInput in;
  in.kind = kind;
  in.by = {std::move(user), std::move(roles)};
  in.reason = "duplicate referral entered twice";
  return in;
}
}  // namespace

TEST_CASE("with cancel: single, one person's cancellation ends the run and later results are ignored", "[machine][cancel]") {
  Harness h("workflow: t\nversion: 1\nowner: o\ncancel: single\nsteps:\n  - { id: s, uses: a.b }\n");
  h.start();
  h.feed(h.m.cancel(h.st, cancelBy("admin-1", {"operator"}), h.now));
  CHECK(h.st.status == RunStatus::kCancelled);
  h.drain();
  CHECK(h.st.status == RunStatus::kCancelled);
}

TEST_CASE("cancelling a run needs a second person holding the owner role, until then the run carries on", "[machine][cancel]") {
  using K = RunMachine::CancelInput::Kind;
  Harness h("workflow: t\nversion: 1\nowner: mash-supervisor\nsteps:\n  - { id: s, uses: a.b }\n  - { id: t, wait: 1h }\n");
  h.start();
  Transition asked = h.m.cancel(h.st, cancelBy("op-1", {"operator"}), h.now);
  CHECK(asked.refused.isOk());
  h.feed(std::move(asked));
  CHECK(h.st.status == RunStatus::kRunning);
  CHECK(h.st.cancellation["status"] == "pending");
  CHECK(h.st.cancellation["roles"] == Json({"mash-supervisor"}));
  CHECK(h.m.cancel(h.st, cancelBy("op-2", {"operator"}), h.now).refused.message() ==
        "a cancellation of run run-1 is already waiting for confirmation by 'mash-supervisor'");
  CHECK(h.m.cancel(h.st, cancelBy("op-1", {"operator", "mash-supervisor"}, K::kConfirm), h.now).refused.message() ==
        "four-eyes: 'op-1' asked for this cancellation; another person must confirm it");
  CHECK(h.m.cancel(h.st, cancelBy("op-2", {"operator"}, K::kConfirm), h.now).refused.message() ==
        "'op-2' does not hold the role 'mash-supervisor' that confirms cancellations of t; field: roles");
  h.drain();  // the first step's call completes: the run was not held up by the request
  CHECK(h.st.step("s")->status == StepStatus::kCompleted);
  Transition confirmed = h.m.cancel(h.st, cancelBy("sup-1", {"approver", "mash-supervisor"}, K::kConfirm), h.now);
  REQUIRE(confirmed.refused.isOk());
  h.feed(std::move(confirmed));
  CHECK(h.st.status == RunStatus::kCancelled);
  CHECK(h.st.error["requested_by"] == "op-1");
  CHECK(h.st.error["by"] == "sup-1");
  CHECK(h.st.cancellation["status"] == "confirmed");
}

TEST_CASE("a declined cancellation leaves the run running and the inbox task closed", "[machine][cancel]") {
  using K = RunMachine::CancelInput::Kind;
  Harness h("workflow: t\nversion: 1\nowner: mash-supervisor\nsteps:\n  - { id: w, wait: 1h }\n");
  h.start();
  h.feed(h.m.cancel(h.st, cancelBy("op-1", {"operator"}), h.now));
  auto rows = approvalRowsOf(h.st);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].step == kCancellationTask);
  CHECK(rows[0].status == "open");
  CHECK(rows[0].roles == std::vector<std::string>{"mash-supervisor"});
  CHECK(rows[0].excluded == std::vector<std::string>{"op-1"});
  h.feed(h.m.cancel(h.st, cancelBy("sup-1", {"mash-supervisor"}, K::kDecline), h.now));
  CHECK(h.st.status == RunStatus::kWaiting);
  rows = approvalRowsOf(h.st);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].status == "closed");
  CHECK(rows[0].decidedBy == "sup-1");
  CHECK(h.m.cancel(h.st, cancelBy("sup-1", {"mash-supervisor"}, K::kConfirm), h.now).refused.message() ==
        "no cancellation of run run-1 is waiting for confirmation");
}

TEST_CASE("an expression error at run time fails the step with where and what", "[machine][errors]") {
  Harness h(std::string(kHeader) + "inputs: { n: string }\nsteps:\n  - { id: s, if: \"inputs.n > 3\", set: { x: 1 } }\n");
  h.start({{"n", "five"}});
  CHECK(h.st.status == RunStatus::kFailed);
  CHECK(h.st.error["code"] == "expression");
  CHECK(h.st.error["message"] == "'if' of step 's': cannot compare string with number at col 10");
}
