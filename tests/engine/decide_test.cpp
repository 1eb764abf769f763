// `decide` rules whose score is an expression: the loader refuses what can never be a
// number, a run adds what each fired rule's score evaluates to and records it, and a score
// that cannot be read fails the step rather than count as 0.
#include <catch2/catch.hpp>

#include <cmath>

#include "machine_harness.h"
#include "vigil/replay.h"

using namespace vigil;
using namespace vigil::testing;

namespace {

// A workflow whose `rms` step answers with `records` and whose `assess` step has `rules`.
std::string withRules(const std::string& rules, const std::string& bands = "{ RED: 6, AMBER: 3, GREEN: 0 }") {
  return std::string(kHeader) + "steps:\n  - { id: rms, uses: rms.search }\n  - id: assess\n    decide:\n      rules:\n" +
         rules + "      bands: " + bands + "\n";
}

struct Ran {
  Harness h;
  const Event* decision = nullptr;
};

// Runs the workflow with the rms connector answering `records`.
std::unique_ptr<Ran> run(const std::string& yaml, Json records) {
  auto r = std::make_unique<Ran>(Ran{Harness(yaml)});
  r->h.connector = [records](const Command&) { return CallOutcome::success(records); };
  r->h.start();
  r->h.drain();
  for (const auto& e : r->h.history) {
    if (e.type == EventType::kDecisionRecorded) r->decision = &e;
  }
  return r;
}

std::vector<std::string> diagnostics(const std::string& yaml) {
  auto r = loadWorkflow(yaml, "t.yaml");
  std::vector<std::string> lines;
  for (const auto& d : r.diagnostics) lines.push_back(d.format());
  return lines;
}

}  // namespace

TEST_CASE("an expression score adds what it evaluates to, and the explanation lists each contribution", "[decide]") {
  auto r = run(withRules(R"yaml(        - { id: marker, when: "true", score: 1, reason: "PND marker" }
        - id: incidents
          when: "len(steps.rms.output.incidents) > 0"
          score: "${{ 2 * len(steps.rms.output.incidents) }}"
          reason: "Two points per incident"
        - id: unread
          when: "false"
          score: "${{ 1 * steps.rms.output.missing }}"
          reason: "Not fired, so never evaluated"
)yaml"),
               {{"incidents", {"a", "b", "c"}}});
  REQUIRE(r->h.st.status == RunStatus::kCompleted);
  const Json& out = r->h.st.step("assess")->output;
  CHECK(out["score"] == 7.0);
  CHECK(out["band"] == "RED");
  REQUIRE(out["fired"].size() == 2);
  // A rule with a number keeps exactly the fields it always had.
  CHECK(out["fired"][0] == Json({{"id", "marker"}, {"score", 1.0}, {"reason", "PND marker"}, {"when", "true"}}));
  CHECK(out["fired"][1] == Json({{"id", "incidents"},
                                 {"score", 6.0},
                                 {"reason", "Two points per incident"},
                                 {"when", "len(steps.rms.output.incidents) > 0"},
                                 {"score_expr", " 2 * len(steps.rms.output.incidents) "}}));
  REQUIRE(r->decision != nullptr);
  CHECK(r->decision->data["score"] == 7.0);
  CHECK(r->decision->data["fired"] == out["fired"]);
  const Json& rules = r->decision->data["rules"];
  REQUIRE(rules.size() == 3);
  CHECK(rules[0] == Json({{"id", "marker"}, {"fired", true}, {"inputs", Json::object()}}));
  CHECK(rules[1] == Json({{"id", "incidents"},
                          {"fired", true},
                          {"score", 6.0},
                          {"inputs", {{"steps.rms.output.incidents", {"a", "b", "c"}}}}}));
  CHECK(rules[2] == Json({{"id", "unread"}, {"fired", false}, {"inputs", Json::object()}}));
}

TEST_CASE("negative and fractional expression scores count as they are", "[decide]") {
  const std::string wf = withRules(R"yaml(        - { id: weight, when: "true", score: "${{ steps.rms.output.weight / 4 }}", reason: "A quarter of the weight" }
        - { id: protective, when: "steps.rms.output.adult", score: "${{ -1.5 * steps.rms.output.adults }}", reason: "Protective adults" }
        - { id: base, when: "true", score: 3, reason: "Base" }
)yaml");
  auto r = run(wf, {{"weight", 3}, {"adult", true}, {"adults", 2}});
  REQUIRE(r->h.st.status == RunStatus::kCompleted);
  const Json& out = r->h.st.step("assess")->output;
  CHECK(out["fired"][0]["score"] == 0.75);
  CHECK(out["fired"][1]["score"] == -3.0);
  CHECK(out["score"] == 0.75);  // 0.75 - 3 + 3
  CHECK(out["band"] == "GREEN");
  // Below every threshold: the lowest band, as for scores written as numbers.
  auto low = run(wf, {{"weight", -20}, {"adult", true}, {"adults", 2}});
  REQUIRE(low->h.st.status == RunStatus::kCompleted);
  CHECK(low->h.st.step("assess")->output["score"] == -5.0);
  CHECK(low->h.st.step("assess")->output["band"] == "GREEN");
}

TEST_CASE("a score that is not a finite number fails the step, naming the rule", "[decide]") {
  struct Case {
    const char* score;
    Json records;
    const char* message;
  };
  const Case cases[] = {
      {"${{ steps.rms.output.count }}", Json::object(), "score of rule 'count' of step 'assess' must give a number, got null"},
      {"${{ steps.rms.output.count }}", {{"count", "three"}}, "score of rule 'count' of step 'assess' must give a number, got string"},
      {"${{ steps.rms.output.count }}", {{"count", {1, 2}}}, "score of rule 'count' of step 'assess' must give a number, got array"},
      {"${{ 2 * steps.rms.output.count }}", Json::object(),
       "score of rule 'count' of step 'assess' could not be computed: cannot multiply number and null at col 4"},
      {"${{ steps.rms.output.count * 1e308 }}", {{"count", 10}},
       "score of rule 'count' of step 'assess' could not be computed: number out of range at col 25"},
  };
  for (const auto& c : cases) {
    INFO(c.score << " over " << c.records.dump());
    auto r = run(withRules(std::string("        - { id: base, when: \"true\", score: 5, reason: \"Base\" }\n") +
                           "        - { id: count, when: \"true\", score: \"" + c.score + "\", reason: \"Counted\" }\n"),
                 c.records);
    const StepState* s = r->h.st.step("assess");
    REQUIRE(s != nullptr);
    CHECK(s->status == StepStatus::kFailed);
    CHECK(s->error.value("code", "") == "expression");
    CHECK(s->error.value("message", "") == c.message);
    CHECK(r->decision == nullptr);  // no band is recorded from a partial total
    CHECK(r->h.st.status == RunStatus::kFailed);
  }
}

TEST_CASE("a total beyond the range of numbers fails the step", "[decide]") {
  auto r = run(withRules(R"yaml(        - { id: a, when: "true", score: "${{ steps.rms.output.big }}", reason: "Big" }
        - { id: b, when: "true", score: "${{ steps.rms.output.big }}", reason: "Big again" }
)yaml"),
               {{"big", 1e308}});
  const StepState* s = r->h.st.step("assess");
  REQUIRE(s != nullptr);
  CHECK(s->status == StepStatus::kFailed);
  CHECK(s->error.value("message", "") == "the total score of step 'assess' is out of range");
}

TEST_CASE("the loader reads a score as a number or a ${{ }} expression", "[decide][loader]") {
  auto r = loadWorkflow(withRules(R"yaml(        - { id: n, when: "true", score: -2.5, reason: "Number" }
        - { id: e, when: "true", score: "${{ len(steps.rms.output.x) }}", reason: "Expression" }
)yaml"),
                        "t.yaml");
  for (const auto& d : r.diagnostics) UNSCOPED_INFO(d.format());
  REQUIRE(r.ok());
  const auto& d = std::get<DecideStep>(r.workflow->steps[*r.workflow->findStep("assess")].body);
  REQUIRE(d.rules.size() == 2);
  CHECK(d.rules[0].score == -2.5);
  CHECK_FALSE(d.rules[0].scoreExpr);
  REQUIRE(d.rules[1].scoreExpr);
  CHECK(d.rules[1].scoreExpr->text() == " len(steps.rms.output.x) ");
  CHECK(std::isnan(d.rules[1].score));  // never a contribution of 0 to anything that reads the definition
}

TEST_CASE("loader errors in expression scores carry their line and column", "[decide][loader]") {
  const std::string doc = std::string(kHeader) + R"yaml(inputs: { name: string, n: integer }
steps:
  - { id: rms, uses: rms.search }
  - { id: note, set: { text: "Seen ${{ run.id }}", copy: "${{ inputs.n }}" } }
  - id: assess
    decide:
      rules:
        - { when: "true", score: "${{ 2 * }}", reason: a }
        - { when: "true", score: "${{ 'high' }}", reason: b }
        - { when: "true", score: "${{ 1 / 0 }}", reason: c }
        - { when: "true", score: "${{ inputs.name }}", reason: d }
        - { when: "true", score: "${{ steps.note.output.text }}", reason: e }
        - { when: "true", score: high, reason: f }
        - { when: "true", score: "${{ 1 }} and ${{ 2 }}", reason: g }
        - { when: "true", score: "${{ steps.nope.output.x }}", reason: h }
        - { when: "true", score: "${{ inputs.n }}", reason: ok }
        - { when: "true", score: "${{ steps.note.output.copy }}", reason: ok }
        - { when: "true", score: "${{ len(inputs.name) }}", reason: ok }
      bands: { X: 0 }
  - id: again
    decide:
      rules:
        - { when: "true", score: "${{steps.assess.output.band}}", reason: band }
        - { when: "true", score: "${{ steps.assess.output.score * 2 }}", reason: ok }
      bands: { X: 0 }
)yaml";
  CHECK(diagnostics(doc) ==
        std::vector<std::string>{
            "t.yaml:11:42: error: 'score' of rule 1 of 'decide' of step 'assess': unexpected end of expression",
            "t.yaml:12:39: error: 'score' of rule 2 of 'decide' of step 'assess' must give a number, but it always gives a "
            "string",
            "t.yaml:13:41: error: 'score' of rule 3 of 'decide' of step 'assess' must give a number, but it fails in every "
            "run: division by zero",
            "t.yaml:14:39: error: 'score' of rule 4 of 'decide' of step 'assess' must give a number, but 'inputs.name' is a "
            "string",
            "t.yaml:15:39: error: 'score' of rule 5 of 'decide' of step 'assess' must give a number, but "
            "'steps.note.output.text' is a string",
            "t.yaml:16:34: error: 'score' of rule 6 of 'decide' of step 'assess' must be a number or a ${{ ... }} "
            "expression, got string",
            "t.yaml:17:35: error: 'score' of rule 7 of 'decide' of step 'assess': write one expression, as a single "
            "${{ ... }} around the whole text",
            "t.yaml:18:45: error: 'score' of rule 8 of 'decide' of step 'assess': unknown step 'nope' (did you mean "
            "'note'?)",
            "t.yaml:26:38: error: 'score' of rule 1 of 'decide' of step 'again' must give a number, but "
            "'steps.assess.output.band' is a string",
        });
}

TEST_CASE("a run with expression scores replays identical, and another definition shows the score it changes", "[decide][replay]") {
  const auto wf = [](const char* perIncident) {
    return withRules(std::string("        - { id: incidents, when: \"true\", score: \"${{ ") + perIncident +
                     " * len(steps.rms.output.incidents) }}\", reason: \"Per incident\" }\n");
  };
  auto r = run(wf("2"), {{"incidents", {1, 2}}});
  REQUIRE(r->h.st.status == RunStatus::kCompleted);
  ReplayResult same = replayRun("run-1", r->h.history, load(wf("2")));
  INFO(same.expected << " | " << same.got << " | " << same.note);
  CHECK(same.identical);
  CHECK(same.replayedDecisions["assess"] == Json({{"score", 4.0}, {"band", "AMBER"}}));
  ReplayResult changed = replayRun("run-1", r->h.history, load(wf("3")));
  CHECK_FALSE(changed.identical);
  CHECK(changed.recordedDecisions["assess"] == Json({{"score", 4.0}, {"band", "AMBER"}}));
  CHECK(changed.replayedDecisions["assess"] == Json({{"score", 6.0}, {"band", "RED"}}));
}
