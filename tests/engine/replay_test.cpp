// Replay: histories made by the machine replay identical; a changed rule shows exactly the
// decisions it changes; a history cut short or edited is reported where it diverges.
#include <catch2/catch.hpp>

#include "machine_harness.h"
#include "vigil/replay.h"

using namespace vigil;
using namespace vigil::testing;
using namespace std::chrono_literals;

namespace {

std::string triage(int redThreshold) {
  return std::string(kHeader) + R"yaml(inputs: { markers: { type: array }, incidents: integer }
steps:
  - id: pnd
    uses: pnd.search
    with: { markers: "${{ inputs.markers }}" }
    retry: { max: 3, backoff: exponential, initial: 2s }
  - id: research
    parallel:
      - { id: rms, uses: rms.records, with: { n: "${{ inputs.incidents }}" } }
      - { id: school, uses: edu.lookup, with: { x: 1 } }
  - id: assess
    decide:
      rules:
        - { id: violence, when: "'violence' in inputs.markers", score: 3, reason: "PND marker: violence" }
        - { id: repeat, when: "inputs.incidents >= 2", score: 2, reason: "Repeat incidents" }
      bands: { RED: )yaml" + std::to_string(redThreshold) + R"yaml(, AMBER: 2, GREEN: 0 }
  - id: review
    approval: { assign: supervisor, recommendation: steps.assess.output.band, timeout: 4h, on_timeout: approve }
  - id: each
    foreach: "${{ inputs.markers }}"
    steps: [{ id: note, uses: rms.note, with: { m: "${{ item }}" } }]
  - { id: cool, wait: 10m }
  - { id: out, set: { band: "${{ steps.assess.output.band }}", d: "${{ steps.review.decision }}" } }
)yaml";
}

Harness runOnce(const std::string& wf, Json inputs, bool decideByHand) {
  Harness h(wf);
  int pndCalls = 0;
  h.connector = [&pndCalls](const Command& c) {
    if (c.connector == "pnd" && ++pndCalls < 3) return CallOutcome::failure("http_503", "down", true);
    return CallOutcome::success({{"echo", c.input}});
  };
  h.start(std::move(inputs));
  h.drain();
  h.advance(2s);
  h.advance(4s);
  if (decideByHand) {
    ApprovalAction a;
    a.actor = {"sup", {"supervisor"}};
    a.decision = "approve";
    a.reason = "research supports the rating";
    a.rating = "RED";
    h.feed(h.m.onApproval(h.st, "review", a, h.now));
    h.drain();
  } else {
    h.advance(4h);
  }
  h.advance(10min);
  return h;
}

}  // namespace

TEST_CASE("every history the machine makes replays identical", "[replay]") {
  for (bool byHand : {true, false}) {
    for (Json inputs : {Json{{"markers", {"violence", "weapons"}}, {"incidents", 3}}, Json{{"markers", Json::array()}, {"incidents", 0}}}) {
      Harness h = runOnce(triage(5), inputs, byHand);
      REQUIRE(h.st.status == RunStatus::kCompleted);
      ReplayResult r = replayRun("run-1", h.history, load(triage(5)));
      INFO(r.expected << " | " << r.got << " | " << r.note);
      CHECK(r.identical);
      CHECK(r.divergedAt == 0);
      CHECK(r.replayed.size() == h.history.size());
    }
  }
}

TEST_CASE("what-if: a changed threshold reports exactly the decisions it changes", "[replay]") {
  Harness amber = runOnce(triage(6), {{"markers", {"violence"}}, {"incidents", 2}}, true);   // score 5: AMBER at 6
  Harness green = runOnce(triage(6), {{"markers", Json::array()}, {"incidents", 0}}, true);  // score 0: GREEN
  ReplayResult a = replayRun("run-1", amber.history, load(triage(5)));
  ReplayResult g = replayRun("run-1", green.history, load(triage(5)));
  CHECK(a.recordedDecisions["assess"]["band"] == "AMBER");
  CHECK(a.replayedDecisions["assess"]["band"] == "RED");
  CHECK_FALSE(a.identical);
  CHECK(a.expected.rfind("DecisionRecorded assess", 0) == 0);
  CHECK(g.recordedDecisions["assess"] == g.replayedDecisions["assess"]);
  CHECK(g.identical);
}

TEST_CASE("an edited or shortened history diverges where it was changed", "[replay]") {
  Harness h = runOnce(triage(5), {{"markers", {"violence"}}, {"incidents", 3}}, true);
  auto edited = h.history;
  for (auto& e : edited) {
    if (e.type == EventType::kDecisionRecorded) e.data["band"] = "GREEN";
  }
  ReplayResult r = replayRun("run-1", edited, load(triage(5)));
  CHECK_FALSE(r.identical);
  CHECK(r.expected.find("\"band\":\"GREEN\"") != std::string::npos);
  CHECK(r.got.find("\"band\":\"RED\"") != std::string::npos);

  auto cut = h.history;
  cut.resize(cut.size() / 2);
  ReplayResult c = replayRun("run-1", cut, load(triage(5)));
  CHECK_FALSE(c.identical);  // the replay runs on past the cut, or stops short of it: never silently equal
  ReplayResult none = replayRun("run-1", {}, load(triage(5)));
  CHECK_FALSE(none.complete);
}
