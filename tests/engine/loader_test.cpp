// The loader builds the typed model and its content hash; the invalid-workflow corpus
// (tests/workflows/invalid) covers diagnostics file by file.
#include <catch2/catch.hpp>

#include "vigil/loader.h"

using namespace vigil;

namespace {

const char* kTriage = R"yaml(workflow: triage
version: 2
owner: mash-supervisor
description: Rate a referral
inputs:
  referral:
    type: object
    required: [id, child]
    properties:
      id: string
      child: { type: object, properties: { name: string } }
    # The cron trigger starts runs with no inputs: every input needs a default.
    default: { id: scheduled-sweep, child: { name: nobody } }
  area: { type: string, default: north }
sensitive: [inputs.referral.child.name]
triggers:
  - cron: "0 7 * * 1-5"
  - webhook: /referrals
steps:
  - id: research
    parallel:
      - id: pnd
        uses: pnd.person_search
        with: { name: "${{ inputs.referral.child.name }}", limit: 5 }
        retry: { max: 3, backoff: fixed, initial: 2s, max_delay: 10s, jitter: false }
        timeout: 30s
        purpose: safeguarding research
      - id: rms
        uses: rms.person_records
        with: { id: "${{ inputs.referral.id }}" }
        on_error: continue
  - id: assess
    decide:
      rules:
        - { id: marker, when: "'violence' in steps.pnd.output.markers", score: 3, reason: "PND marker: violence" }
        - { when: "len(steps.rms.output.incidents) >= 2", score: 2, reason: "Repeat incidents" }
      bands: { GREEN: 0, RED: 5, AMBER: 3 }
  - id: per-child
    foreach: "${{ steps.rms.output.children }}"
    as: child
    concurrency: 2
    steps:
      - id: school
        uses: education.pupil_lookup
        with: { name: "${{ child.name }}", n: "${{ index }}" }
  - id: route
    switch:
      cases:
        - when: "steps.assess.output.band == 'RED'"
          steps:
            - { id: urgent, set: { priority: 1 } }
      default:
        - { id: routine, set: { priority: 3 } }
  - id: review
    approval:
      assign: { roles: [mash-supervisor], users: [duty-sergeant] }
      quorum: 2
      distinct_from: [started_by]
      options: [agree, override]
      timeout: 4h
      on_timeout: escalate
      escalate: [{ after: 1h, to: duty-inspector }, { after: 3h, to: [superintendent] }]
      show: [steps.assess.output]
      form: { rating: { type: string, enum: [RED, AMBER, GREEN] } }
  - id: pause
    wait: 10m
  - id: until-morning
    wait: { until: "time_add(now(), '8h')" }
  - id: sub
    call: notify-school
    with: { band: "${{ steps.assess.output.band }}" }
  - id: outcome
    set:
      band: "${{ steps.assess.output.band }}"
      note: "Decided ${{ steps.review.decision }} by ${{ steps.review.decided_by }}"
outputs:
  band: "${{ steps.outcome.output.band }}"
on_error:
  - id: alert
    uses: email.send
    with: { subject: "failed: ${{ error.message }}" }
)yaml";

}  // namespace

TEST_CASE("a workflow with every step kind loads into the typed model", "[loader]") {
  auto r = loadWorkflow(kTriage, "triage.yaml");
  for (const auto& d : r.diagnostics) UNSCOPED_INFO(d.format());
  REQUIRE(r.ok());
  const Workflow& wf = *r.workflow;
  CHECK(wf.name == "triage");
  CHECK(wf.version == 2);
  CHECK(wf.owner == "mash-supervisor");
  CHECK(wf.inputs.at("referral").required == std::vector<std::string>{"id", "child"});
  CHECK(wf.inputs.at("area").defaultValue == Json("north"));
  // What the pnd call is sent is computed from the child's name, so it is masked too.
  CHECK(wf.sensitive == std::vector<std::string>{"inputs.referral.child.name", "steps.pnd.input.name"});
  REQUIRE(wf.triggers.size() == 2);
  CHECK(wf.triggers[0].cron.has_value());
  CHECK(wf.triggers[1].spec == "/referrals");

  const Step& pnd = wf.steps[*wf.findStep("pnd")];
  REQUIRE(pnd.kind() == StepKind::kUses);
  CHECK(std::get<UsesStep>(pnd.body).connector == "pnd");
  CHECK(std::get<UsesStep>(pnd.body).action == "person_search");
  CHECK(pnd.retry->maxAttempts == 3);
  CHECK(pnd.retry->backoff == RetryPolicy::Backoff::kFixed);
  CHECK(pnd.retry->initial == std::chrono::seconds(2));
  CHECK_FALSE(pnd.retry->jitter);
  CHECK(pnd.timeout == std::chrono::seconds(30));
  CHECK(pnd.purpose == "safeguarding research");
  CHECK(wf.steps[*wf.findStep("rms")].onError.mode == ErrorPolicy::Mode::kContinue);

  const auto& decide = std::get<DecideStep>(wf.steps[*wf.findStep("assess")].body);
  REQUIRE(decide.rules.size() == 2);
  CHECK(decide.rules[0].id == "marker");
  CHECK(decide.rules[1].id == "rule-2");
  REQUIRE(decide.bands.size() == 3);
  CHECK(decide.bands[0].name == "RED");  // highest threshold first
  CHECK(decide.bands[2].name == "GREEN");

  const auto& fe = std::get<ForeachStep>(wf.steps[*wf.findStep("per-child")].body);
  CHECK(fe.as == "child");
  CHECK(fe.concurrency == 2);
  CHECK(fe.body.size() == 1);
  CHECK(fe.items.isSingleExpression());

  const auto& sw = std::get<SwitchStep>(wf.steps[*wf.findStep("route")].body);
  CHECK(sw.cases.size() == 1);
  CHECK(sw.otherwise.size() == 1);

  const auto& ap = std::get<ApprovalStep>(wf.steps[*wf.findStep("review")].body);
  CHECK(ap.roles == std::vector<std::string>{"mash-supervisor"});
  CHECK(ap.users == std::vector<std::string>{"duty-sergeant"});
  CHECK(ap.quorum == 2);
  REQUIRE(ap.distinctFrom.size() == 1);
  CHECK(ap.distinctFrom[0].text() == "run.started_by");
  CHECK(ap.options == std::vector<std::string>{"agree", "override"});
  CHECK(ap.timeout == std::chrono::hours(4));
  REQUIRE(ap.escalate.size() == 2);
  CHECK(ap.escalate[1].to == std::vector<std::string>{"superintendent"});
  CHECK(ap.form.at("rating").enumValues.size() == 3);

  CHECK(std::get<WaitStep>(wf.steps[*wf.findStep("pause")].body).duration == std::chrono::minutes(10));
  CHECK(std::get<WaitStep>(wf.steps[*wf.findStep("until-morning")].body).until.has_value());
  CHECK(std::get<CallStep>(wf.steps[*wf.findStep("sub")].body).workflow == "notify-school");
  CHECK(wf.onError.size() == 1);
  CHECK(wf.outputs.count("band") == 1);
  CHECK(wf.hash.size() == 64);
}

TEST_CASE("step templates evaluate against run data", "[loader]") {
  auto r = loadWorkflow(kTriage, "triage.yaml");
  REQUIRE(r.ok());
  const auto& with = std::get<UsesStep>(r.workflow->steps[*r.workflow->findStep("pnd")].body).with;
  Json bindings = {{"inputs", {{"referral", {{"id", "R1"}, {"child", {{"name", "Test Child"}}}}}}}};
  JsonBindings b(bindings);
  EvalContext ctx;
  ctx.bindings = &b;
  auto v = with.evaluate(ctx);
  REQUIRE(v.isOk());
  CHECK(*v == Json({{"name", "Test Child"}, {"limit", 5}}));
}

TEST_CASE("the content hash ignores layout, comments and key order but not content", "[loader][hash]") {
  const char* a = "workflow: h\nversion: 1\nowner: o\nsteps:\n  - { id: s, set: { x: 1, y: two } }\n";
  const char* b = "# reformatted\nowner: o\nversion: 1\nworkflow: h\nsteps:\n  - id: s\n    set:\n      y: 'two'\n      x: 1\n";
  const char* c = "workflow: h\nversion: 1\nowner: o\nsteps:\n  - { id: s, set: { x: 2, y: two } }\n";
  const char* d = "workflow: h\nversion: 1\nowner: o\nsteps:\n  - { id: s, set: { x: '1', y: two } }\n";
  auto ra = loadWorkflow(a, "a.yaml"), rb = loadWorkflow(b, "b.yaml"), rc = loadWorkflow(c, "c.yaml"),
       rd = loadWorkflow(d, "d.yaml");
  REQUIRE((ra.ok() && rb.ok() && rc.ok() && rd.ok()));
  CHECK(ra.workflow->hash == rb.workflow->hash);
  CHECK(ra.workflow->canonicalJson == rb.workflow->canonicalJson);
  CHECK(ra.workflow->hash != rc.workflow->hash);
  CHECK(ra.workflow->hash != rd.workflow->hash);  // "1" is text, 1 is a number
  CHECK(ra.workflow->canonicalJson ==
        R"({"owner":"o","steps":[{"id":"s","set":{"x":1,"y":"two"}}],"version":1,"workflow":"h"})");
}

TEST_CASE("every problem in a file is reported in one pass, in order", "[loader]") {
  const char* doc =
      "workflow: t\n"
      "version: 0\n"
      "ownr: x\n"
      "steps:\n"
      "  - id: a\n"
      "    set: { v: \"${{ inputs.nope }}\" }\n"
      "  - id: a\n"
      "    wait: 5x\n"
      "  - id: c\n"
      "    if: \"steps.a.output.v == \"\n";
  auto r = loadWorkflow(doc, "t.yaml");
  REQUIRE_FALSE(r.ok());
  std::vector<std::string> lines;
  for (const auto& d : r.diagnostics) lines.push_back(d.format());
  CHECK(lines == std::vector<std::string>{
                     "t.yaml:1:1: error: missing required key 'owner' in the workflow",
                     "t.yaml:2:10: error: 'version' must be between 1 and 1000000, got 0",
                     "t.yaml:3:1: error: unknown key 'ownr' in the workflow (did you mean 'owner'?)",
                     "t.yaml:6:27: error: 'set' of step 'a': unknown input 'nope'",
                     "t.yaml:7:9: error: duplicate step id 'a' (first defined at line 5)",
                     "t.yaml:8:11: error: 'wait' of step 'a' '5x' is not a duration: use digits and units ms, s, m, h, "
                     "d, w (for example 30s, 4h, 1h30m), up to 366d",
                     "t.yaml:9:5: error: step 'c' has no kind: add one of uses, parallel, foreach, switch, call, set, "
                     "decide, approval, wait",
                     "t.yaml:10:29: error: 'if' of step 'c': unexpected end of expression",
                 });
}

TEST_CASE("calls across workflows: unknown targets, inputs and cycles", "[loader][calls]") {
  auto load = [](const char* text, const char* file) {
    auto r = loadWorkflow(text, file);
    for (const auto& d : r.diagnostics) UNSCOPED_INFO(d.format());
    REQUIRE(r.ok());
    return r.workflow;
  };
  auto a = load("workflow: a\nversion: 1\nowner: o\ninputs: { x: string }\nsteps:\n  - { id: to-b, call: b, with: { y: 1 } }\n", "a.yaml");
  auto b = load("workflow: b\nversion: 1\nowner: o\ninputs: { y: number }\nsteps:\n  - { id: to-a, call: a, with: { x: hi, z: 1 } }\n", "b.yaml");
  auto c = load("workflow: c\nversion: 1\nowner: o\nsteps:\n  - { id: to-d, call: dd }\n  - { id: to-b, call: b }\n", "c.yaml");
  auto diags = checkWorkflowSet({a, b, c});
  std::vector<std::string> lines;
  for (const auto& d : diags) lines.push_back(d.format());
  CHECK(lines == std::vector<std::string>{
                     "a.yaml:6:5: error: step 'to-b' makes a cycle of sub-workflow calls: a -> b -> a",
                     "b.yaml:6:5: error: step 'to-a' makes a cycle of sub-workflow calls: b -> a -> b",
                     "b.yaml:6:5: error: step 'to-a' passes input 'z', which workflow 'a' does not declare",
                     "c.yaml:5:5: error: step 'to-d' calls workflow 'dd', which is not among the loaded workflows",
                     "c.yaml:6:5: error: step 'to-b' does not pass required input 'y' of workflow 'b'",
                 });
}
