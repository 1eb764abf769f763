// The decisions report's figures as the store computes them from the recorded votes: per
// approver, per rule (step) and per recommended band, the override rate and the share of
// votes taken within a few seconds of the person opening the task (not of the request),
// and which were confirmed with --yes; on a real SQLite data directory with a manual clock.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "engine_fixture.h"

using namespace vigil;
using namespace vigil::testing;

namespace {

const char* kTriage = R"yaml(workflow: triage
version: 1
owner: supervisor
inputs:
  band: { type: string }
steps:
  - id: review
    approval:
      assign: supervisor
      recommendation: inputs.band
)yaml";

// Two referrals reviewed by a panel of two in one run: each iteration's votes count under
// the rule "panel", and each vote of the quorum counts, not just the one that completed it.
const char* kPanel = R"yaml(workflow: panel
version: 1
owner: supervisor
inputs:
  refs: { type: array }
steps:
  - id: each
    foreach: "${{ inputs.refs }}"
    steps:
      - id: panel
        approval:
          assign: supervisor
          quorum: 2
)yaml";

struct Vote {
  std::string user;
  std::optional<std::chrono::milliseconds> lookedFor;  // opened this long before deciding; none: no opening recorded
  Confirmation confirmed = Confirmation::kUnstated;
  Json rating;  // an override when set and not the recommendation
};

// Opens the task now (when the vote has an opening), lets time pass, then decides.
void decide(Fixture& f, const std::string& run, const std::string& step, const Vote& v) {
  ApprovalAction a;
  a.actor = {v.user, {"supervisor"}};
  a.decision = "approve";
  a.reason = "checked the research in full";
  a.rating = v.rating;
  a.confirmed = v.confirmed;
  if (v.lookedFor) {
    a.openedAt = f.clock->now();
    f.clock->advance(*v.lookedFor);
  }
  Status s = f.engine->actOnApproval(run, step, a);
  INFO(s.message());
  REQUIRE(s.isOk());
}

std::vector<DecisionStats> stats(Fixture& f, DecisionStats::By by, std::chrono::milliseconds quick = 10s) {
  auto r = f.store->approvals().decisionStats(by, quick);
  INFO(r.status().message());
  REQUIRE(r.isOk());
  return *r;
}

const DecisionStats& find(const std::vector<DecisionStats>& all, const std::string& key) {
  for (const auto& s : all) {
    if (s.decidedBy + s.workflow + "/" + s.step + "/" + s.recommendation == key) return s;
  }
  FAIL("no group " << key);
  return all.front();
}

// Five decisions on referrals requested an hour before anyone looked: sam agrees after 3 s
// with --yes and overrides AMBER to RED after 2 minutes at the prompt; ines agrees after 5 s
// with --yes and after 30 s at the prompt; leo decides with no opening on record.
std::string seed(Fixture& f) {
  f.publish(kTriage);
  REQUIRE(f.engine->start().isOk());
  std::vector<std::string> ids;
  for (const char* band : {"AMBER", "AMBER", "RED", "GREEN", "GREEN"}) {
    auto id = f.engine->startRun("triage", {{"band", band}}, "officer");
    REQUIRE(id.isOk());
    ids.push_back(*id);
  }
  REQUIRE(f.engine->waitIdle(10s));
  f.clock->advance(1h);
  decide(f, ids[0], "review", {"sam", 3s, Confirmation::kYesFlag, Json()});
  decide(f, ids[1], "review", {"sam", 2min, Confirmation::kInteractive, "RED"});
  decide(f, ids[2], "review", {"ines", 5s, Confirmation::kYesFlag, Json()});
  decide(f, ids[3], "review", {"ines", 30s, Confirmation::kInteractive, Json()});
  decide(f, ids[4], "review", {"leo", std::nullopt, Confirmation::kUnstated, Json()});
  REQUIRE(f.engine->waitIdle(10s));
  return ids[0];
}

}  // namespace

TEST_CASE("per approver: override rate, quick share from opening, and --yes decisions", "[approval][decisions]") {
  DataDir dir;
  Fixture f(dir.path);
  seed(f);
  auto by = stats(f, DecisionStats::By::kApprover);
  REQUIRE(by.size() == 3);
  CHECK(by[0].decidedBy == "ines");  // in name order
  const auto& sam = find(by, "sam//");
  CHECK(sam.decisions == 2);
  CHECK(sam.withRecommendation == 2);
  CHECK(sam.overridden == 1);
  CHECK(sam.timed == 2);
  CHECK(sam.quick == 1);  // 3 s after opening, although the request was an hour old
  CHECK(sam.yesFlag == 1);
  CHECK(sam.meanSecondsFromOpening == Approx(61.5));
  const auto& ines = find(by, "ines//");
  CHECK(ines.overridden == 0);
  CHECK(ines.quick == 1);
  CHECK(ines.yesFlag == 1);
  CHECK(ines.meanSecondsFromOpening == Approx(17.5));
  const auto& leo = find(by, "leo//");
  CHECK(leo.decisions == 1);
  CHECK(leo.timed == 0);  // no opening on record: counted, but neither quick nor slow
  CHECK(leo.quick == 0);

  // The threshold is the caller's: at a minute, ines's 30 s decision is quick too.
  const auto byApprover60 = stats(f, DecisionStats::By::kApprover, 60s);
  const auto& ines60 = find(byApprover60, "ines//");
  CHECK(ines60.quick == 2);
}

TEST_CASE("per rule and per recommended band", "[approval][decisions]") {
  DataDir dir;
  Fixture f(dir.path);
  seed(f);
  auto steps = stats(f, DecisionStats::By::kStep);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].workflow == "triage");
  CHECK(steps[0].step == "review");
  CHECK(steps[0].decisions == 5);
  CHECK(steps[0].overridden == 1);
  CHECK(steps[0].timed == 4);
  CHECK(steps[0].quick == 2);
  CHECK(steps[0].yesFlag == 2);
  auto bands = stats(f, DecisionStats::By::kBand);
  REQUIRE(bands.size() == 3);
  const auto& amber = find(bands, "triage/review/AMBER");
  CHECK(amber.decisions == 2);
  CHECK(amber.overridden == 1);
  CHECK(amber.quick == 1);
  const auto& green = find(bands, "triage/review/GREEN");
  CHECK(green.decisions == 2);
  CHECK(green.timed == 1);
  CHECK(green.quick == 0);
  CHECK(find(bands, "triage/review/RED").quick == 1);
}

TEST_CASE("each vote of a quorum counts, under its step whatever the foreach iteration", "[approval][decisions]") {
  DataDir dir;
  Fixture f(dir.path);
  f.publish(kPanel);
  REQUIRE(f.engine->start().isOk());
  auto id = f.engine->startRun("panel", {{"refs", Json::array({"REF-1", "REF-2"})}}, "officer");
  REQUIRE(id.isOk());
  REQUIRE(f.engine->waitIdle(10s));
  decide(f, *id, "panel[0]", {"sam", 2s, Confirmation::kYesFlag, Json()});
  decide(f, *id, "panel[0]", {"ines", 20s, Confirmation::kInteractive, Json()});
  decide(f, *id, "panel[1]", {"sam", 1s, Confirmation::kYesFlag, Json()});
  REQUIRE(f.engine->waitIdle(10s));
  auto steps = stats(f, DecisionStats::By::kStep);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].step == "panel");
  CHECK(steps[0].decisions == 3);
  CHECK(steps[0].withRecommendation == 0);
  CHECK(steps[0].quick == 2);
  CHECK(find(stats(f, DecisionStats::By::kApprover), "sam//").decisions == 2);
}

TEST_CASE("a --yes decision is flagged in its recorded vote", "[approval][decisions]") {
  DataDir dir;
  Fixture f(dir.path);
  const std::string run = seed(f);
  auto events = f.store->runs().events(run);
  REQUIRE(events.isOk());
  const Event* decided = nullptr;
  for (const auto& e : *events) {
    if (e.type == EventType::kApprovalDecided) decided = &e;
  }
  REQUIRE(decided != nullptr);
  CHECK(decided->data["confirmed"] == "yes_flag");
  CHECK(decided->data["seconds_to_decide"] == Approx(3.0));
  CHECK(decided->data["opened_at"] == "2026-11-26T10:00:00Z");
}

TEST_CASE("upgrading a data directory fills the votes from the runs' recorded decisions", "[approval][decisions]") {
  VIGIL_SQLITE_ONLY();  // it reaches into the SQLite file itself
  DataDir dir;
  std::vector<DecisionStats> before;
  {
    Fixture f(dir.path);
    seed(f);
    before = stats(f, DecisionStats::By::kApprover);
    f.engine->stop();
  }
  {
    // As a version-6 directory was: no votes table, checkpoints without notes, no run index,
    // no access log indexes, no leases.
    SQLite::Database db((dir.path / "vigil.db").string(), SQLite::OPEN_READWRITE);
    db.exec("DROP TABLE leases");
    db.exec("DROP TABLE nodes");
    db.exec("DROP TABLE approval_votes");
    db.exec("DROP TABLE run_index");
    db.exec("DROP INDEX audit_access");
    db.exec("DROP INDEX audit_access_actor");
    db.exec("ALTER TABLE audit_checkpoints DROP COLUMN note");
    db.exec("UPDATE meta SET value = '6' WHERE key = 'schema_version'");
  }
  auto s = openSqliteStore(dir.path.string());
  REQUIRE(s.isOk());
  auto after = (*s)->approvals().decisionStats(DecisionStats::By::kApprover, 10s);
  REQUIRE(after.isOk());
  REQUIRE(after->size() == before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    INFO(before[i].decidedBy);
    CHECK((*after)[i].decidedBy == before[i].decidedBy);
    CHECK((*after)[i].decisions == before[i].decisions);
    CHECK((*after)[i].overridden == before[i].overridden);
    CHECK((*after)[i].timed == before[i].timed);
    CHECK((*after)[i].quick == before[i].quick);
    CHECK((*after)[i].meanSecondsFromOpening == Approx(before[i].meanSecondsFromOpening));
    CHECK((*after)[i].yesFlag == 0);  // how older decisions were confirmed was never recorded
  }
}
