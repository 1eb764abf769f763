// Retention: finished runs older than their workflow's `retention:` lose their personal data
// (audit payloads, event data, snapshot contents) in one transaction with an erasure record;
// newer and unfinished runs keep theirs; the audit chain still verifies.
#include <catch2/catch.hpp>

#include "engine_fixture.h"
#include "vigil/audit.h"
#include "vigil/replay.h"
#include "vigil/retention.h"
#include "vigil/signing.h"

using namespace vigil;
using namespace vigil::testing;
using namespace std::chrono_literals;

const char* const kKept = R"yaml(workflow: kept
version: 1
owner: o
retention: 30d
inputs: { child: object }
sensitive: [inputs.child]
steps:
  - { id: look, uses: test.echo, with: { name: "${{ inputs.child.name }}" } }
  - id: review
    approval: { assign: supervisor, reason: { required: false } }
)yaml";

TEST_CASE("retention erases expired runs' personal data and the chain still verifies", "[retention][audit]") {
  DataDir dir;
  Fixture f(dir.path);
  f.publish(kKept);
  REQUIRE(f.engine->start().isOk());
  auto key = SigningKey::generate();
  REQUIRE(key.isOk());

  auto start = [&](const char* name) {
    auto id = f.engine->startRun("kept", {{"child", {{"name", name}}}}, "officer-1");
    REQUIRE(id.isOk());
    REQUIRE(f.engine->waitIdle(10s));
    return *id;
  };
  auto finish = [&](const std::string& id) {
    ApprovalAction a;
    a.actor = {"sup", {"supervisor"}};
    a.decision = "approve";
    REQUIRE(f.engine->actOnApproval(id, "review", a).isOk());
    REQUIRE(f.engine->waitIdle(10s));
  };
  const std::string old1 = start("Synthetic Child One");
  const std::string old2 = start("Synthetic Child Two");
  finish(old1);
  finish(old2);
  const std::string parked = start("Synthetic Child Three");  // never finishes: kept
  f.clock->advance(std::chrono::hours(24 * 20));
  const std::string recent = start("Synthetic Child Four");
  finish(recent);  // ended 20 days after the others: kept at day 31
  REQUIRE(f.store->audit().checkpoint(*key, f.clock->now(), "vigil.test/audit").isOk());

  f.clock->advance(std::chrono::hours(24 * 11));  // day 31
  const TimePoint now = f.clock->now();
  auto erased = eraseExpiredRuns(*f.store, "kept", now - std::chrono::hours(24 * 30), now, "retention: kept keeps 30d", 100);
  REQUIRE(erased.isOk());
  CHECK(erased->candidates == 2);
  CHECK(erased->skipped.empty());
  CHECK(std::set<std::string>(erased->erased.begin(), erased->erased.end()) == std::set<std::string>{old1, old2});

  for (const auto& id : {old1, old2}) {
    auto events = f.store->runs().events(id);
    REQUIRE(events.isOk());
    for (const auto& e : *events) CHECK(e.data.is_null());
    // Nothing left to recompute: replay says so instead of failing on the missing data.
    ReplayResult replayed = replayRun(id, *events, loadWorkflow(kKept, "kept.yaml").workflow);
    CHECK_FALSE(replayed.complete);
    CHECK(replayed.note == "the run's data was erased at the end of its retention period; there is nothing to replay");
    auto snap = f.store->runs().load(id);
    REQUIRE(snap.isOk());
    REQUIRE(snap->has_value());
    CHECK((*snap)->status == RunStatus::kCompleted);
    CHECK((*snap)->inputs == Json::object());
    auto records = f.store->audit().records(id, TimePoint{}, 1u << 30);
    REQUIRE(records.isOk());
    bool erasure = false;
    for (const auto& r : *records) {
      if (r.entry.kind == "erasure") {
        erasure = true;
        CHECK(r.payloadText.has_value());
        CHECK(r.entry.purpose == "retention: kept keeps 30d");
      } else {
        CHECK_FALSE(r.payloadText.has_value());
      }
    }
    CHECK(erasure);
  }
  for (const auto& id : {parked, recent}) {
    auto events = f.store->runs().events(id);
    REQUIRE(events.isOk());
    CHECK(events->front().data["inputs"]["child"]["name"].is_string());
  }
  auto again = eraseExpiredRuns(*f.store, "kept", now - std::chrono::hours(24 * 30), now, "retention", 100);
  REQUIRE(again.isOk());
  CHECK(again->candidates == 0);  // erased once
  CHECK(again->erased.empty());

  REQUIRE(f.store->audit().checkpoint(*key, now, "vigil.test/audit").isOk());
  f.engine->stop();
  // The whole store verifies: each erased payload is covered by its run's erasure record,
  // and each erased run's minimal snapshot is the one that record names.
  AuditVerdict v = testing::verifyTestStore(dir.path, *f.store, key->publicKeyPem());
  INFO(v.problem << ": " << v.detail);
  CHECK(v.ok);
  CHECK(v.erasedPayloads > 0);
}
