// Secrets: `secrets.NAME` reaches the connector, and nowhere else: not the run's state, its
// events, its work items, the audit trail or the database file; an echoed value comes back
// as ***; a missing secret fails the step naming the secret, not a value.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "engine_fixture.h"

using namespace vigil;
using namespace vigil::testing;
using namespace std::chrono_literals;

namespace {

const char* kUsesSecret = R"yaml(workflow: with-secret
version: 1
owner: o
steps:
  - id: call
    uses: test.echo
    with: { authorization: "Bearer ${{ secrets.API_TOKEN }}", other: "${{ secrets.MISSING_ONE }}" }
)yaml";

std::string fileBytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("a secret is filled in at the call and scrubbed from everything kept", "[secrets]") {
  VIGIL_SQLITE_ONLY();  // it reaches into the SQLite file itself
  const std::string value = "s3cr3t-Value-4f9a1c";
  DataDir dir;
  SECTION("known secrets") {
    Fixture f(dir.path, [&](const std::string& name) -> std::optional<std::string> {
      if (name == "API_TOKEN") return value;
      if (name == "MISSING_ONE") return std::string("second-secret-77b2");
      return std::nullopt;
    });
    f.publish(kUsesSecret);
    REQUIRE(f.engine->start().isOk());
    auto id = f.engine->startRun("with-secret", Json::object(), "officer-1");
    REQUIRE(id.isOk());
    REQUIRE(f.engine->waitIdle(10s));
    RunState st = f.runState(*id);
    REQUIRE(st.status == RunStatus::kCompleted);
    // The echo proves the connector saw the value; what is kept has *** in its place.
    CHECK(st.step("call")->output["authorization"] == "Bearer ***");
    CHECK(st.step("call")->output["other"] == "***");
    f.engine->stop();
    for (const char* file : {"vigil.db", "vigil.db-wal"}) {
      const std::string bytes = fileBytes(dir.path / file);
      CHECK(bytes.find(value) == std::string::npos);
      CHECK(bytes.find("second-secret-77b2") == std::string::npos);
    }
  }
  SECTION("a missing secret fails the step by name") {
    Fixture f(dir.path, [&](const std::string& name) -> std::optional<std::string> {
      if (name == "API_TOKEN") return value;
      return std::nullopt;
    });
    f.publish(kUsesSecret);
    REQUIRE(f.engine->start().isOk());
    auto id = f.engine->startRun("with-secret", Json::object(), "officer-1");
    REQUIRE(id.isOk());
    REQUIRE(f.engine->waitIdle(10s));
    RunState st = f.runState(*id);
    CHECK(st.status == RunStatus::kFailed);
    CHECK(st.step("call")->error["code"] == "secret_missing");
    CHECK(st.step("call")->error["message"] == "secret 'MISSING_ONE' is not configured");
  }
}

TEST_CASE("secrets may appear only in the with of a connector call", "[secrets][loader]") {
  auto r = loadWorkflow(R"yaml(workflow: leaky
version: 1
owner: o
steps:
  - { id: a, set: { copy: "${{ secrets.API_TOKEN }}" } }
  - { id: b, if: "secrets.API_TOKEN == 'x'", uses: test.echo }
)yaml", "leaky.yaml");
  REQUIRE(r.diagnostics.size() == 2);
  CHECK(r.diagnostics[0].format() ==
        "leaky.yaml:5:32: error: 'set' of step 'a': secrets can only be used in the 'with' of a step that calls a connector");
  CHECK(r.diagnostics[1].message.find("secrets can only be used in the 'with'") != std::string::npos);
}

namespace {

// Records every input it is sent and answers with a fixed output.
class RecordingConnector final : public Connector {
 public:
  explicit RecordingConnector(Json answer) : answer_(std::move(answer)) {}
  CallOutcome call(const ConnectorCall& c) override {
    std::lock_guard lock(mu_);
    inputs_.push_back(c.input);
    return CallOutcome::success(answer_);
  }
  std::string seen() {
    std::lock_guard lock(mu_);
    return Json(inputs_).dump();
  }

 private:
  Json answer_;
  std::mutex mu_;
  std::vector<Json> inputs_;
};

}  // namespace

TEST_CASE("marker text in what others send is data, it never fills a secret", "[secrets]") {
  const std::string value = "s3cr3t-Value-4f9a1c";
  const std::string forged = "\x01secret:API_TOKEN\x01";
  DataDir dir;
  Fixture f(dir.path, [&](const std::string& name) -> std::optional<std::string> {
    if (name == "API_TOKEN") return value;
    return std::nullopt;
  });
  // A force system's answer carries a forged marker; so do the referral and the decision.
  auto partner = std::make_shared<RecordingConnector>(Json{{"note", "see " + forged}});
  REQUIRE(f.connectors->add("partner", partner).isOk());
  f.publish(R"yaml(workflow: relays
version: 1
owner: o
inputs: { note: string }
steps:
  - id: ask
    uses: partner.lookup
    with: { text: "${{ inputs.note }}" }
  - id: review
    approval: { assign: supervisor, options: [approve, reject] }
  - id: tell
    uses: partner.send
    with: { answer: "${{ steps.ask.output.note }}", reason: "${{ steps.review.output.reason }}", real: "${{ secrets.API_TOKEN }}" }
)yaml");
  REQUIRE(f.engine->start().isOk());
  auto id = f.engine->startRun("relays", {{"note", "referral " + forged}}, "officer-1");
  REQUIRE(id.isOk());
  REQUIRE(f.engine->waitIdle(10s));
  ApprovalAction a;
  a.actor = {"sup", {"supervisor"}};
  a.decision = "approve";
  a.reason = "agreed with the triage " + forged;
  REQUIRE(f.engine->actOnApproval(*id, "review", a).isOk());
  REQUIRE(f.engine->waitIdle(10s));
  REQUIRE(f.runState(*id).status == RunStatus::kCompleted);
  const std::string seen = partner->seen();
  // The workflow's own `secrets.API_TOKEN` is filled once; none of the forged markers is.
  size_t fills = 0;
  for (size_t at = seen.find(value); at != std::string::npos; at = seen.find(value, at + 1)) ++fills;
  CHECK(fills == 1);
  CHECK(seen.find("referral \xEF\xBF\xBDsecret:API_TOKEN\xEF\xBF\xBD") != std::string::npos);
  CHECK(seen.find("see \xEF\xBF\xBDsecret:API_TOKEN") != std::string::npos);
  CHECK(seen.find("agreed with the triage \xEF\xBF\xBDsecret:API_TOKEN") != std::string::npos);
}
