// The shipped MASH triage workflow's decision timescale with the manual clock and the
// shipped Northshire area: a RED referral late on a Friday is due two hours later, round
// the clock, and escalates 30 minutes before and at the deadline (with an e-mail to the
// duty desk through a real SMTP sink); an AMBER one arriving on Friday afternoon is due
// on Monday, the clock paused over the weekend; a third referral in 90 days escalates at
// once; the late-decisions query lists exactly the decision made after its due time.
// The force systems are stand-ins here (they cannot exist in a unit test; the demo's
// end-to-end test uses the synthetic services).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "../../daemon/src/area_file.h"
#include "../connectors/email/sink_harness.h"
#include "../engine/engine_fixture.h"
#include "vigil/email_connector.h"

using namespace vigil;
using namespace vigil::testing;
using namespace std::chrono_literals;

namespace {

// Answers for one synthetic child, as the four systems would give them.
class System final : public Connector {
 public:
  explicit System(Json answer) : answer_(std::move(answer)) {}
  CallOutcome call(const ConnectorCall&) override { return CallOutcome::success(answer_); }

 private:
  Json answer_;
};

struct Mash {
  SmtpSink sink;
  DataDir dir;
  std::unique_ptr<Fixture> f;

  // `earlier` is how many earlier referrals the RMS holds in the repeat window.
  Mash(const char* now, bool violent, int earlier) {
    auto area = daemon::loadAreaFile(std::string(VIGIL_SOURCE_DIR) + "/examples/areas/northshire.yaml");
    REQUIRE(area.isOk());
    f = std::make_unique<Fixture>(dir.path, nullptr, *area, now);
    Json referrals = Json::array();
    for (int i = 0; i < earlier; ++i) referrals.push_back({{"id", "SYN-REF-90" + std::to_string(i)}, {"received_at", "2026-10-01T10:00:00Z"}});
    // The PND answers the candidate search (people) and the person search (markers) alike.
    REQUIRE(f->connectors->add("pnd", std::make_shared<System>(Json{{"markers", violent ? Json{"violence"} : Json::array()},
                                                                    {"people", Json::array({{{"name", "Synthetic Child Alpha"}, {"dob", "2015-03-14"}}})}})).isOk());
    REQUIRE(f->connectors->add("rms", std::make_shared<System>(Json{{"incidents", Json::array({{{"type", "domestic incident"}}, {{"type", "missing"}}})},
                                                                    {"referrals", referrals}, {"recorded", true}})).isOk());
    REQUIRE(f->connectors->add("csc", std::make_shared<System>(Json{{"open_case", true}})).isOk());
    REQUIRE(f->connectors->add("education", std::make_shared<System>(Json{{"on_roll", true}, {"key_adult_email", nullptr}})).isOk());
    EmailConnectorOptions mail;
    mail.port = sink.port();
    mail.tls = EmailConnectorOptions::Tls::kNone;
    mail.from = "mash@force.example";
    mail.templates["mash-overdue"] = EmailTemplate{"Overdue MASH decision: {{referral}}", "Due by {{due}}."};
    mail.templates["mash-notification"] = EmailTemplate{"Referral {{referral}}", "Rated {{band}}."};
    mail.templates["run-failed"] = EmailTemplate{"Triage of {{referral}} failed", "{{error}}"};
    mail.templates["mash-referral-red"] = EmailTemplate{"RED referral {{referral}}", "Rated {{band}}."};
    REQUIRE(registerEmailConnector(*f->connectors, mail).isOk());
    std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/workflows/mash-triage.yaml");
    std::stringstream yaml;
    yaml << in.rdbuf();
    f->publish(yaml.str());
    REQUIRE(f->engine->start().isOk());
  }

  // Scores: violence marker 3, two incidents 2, open case 2, domestic abuse 2 (RED >= 6).
  std::string refer(const char* receivedAt, bool domestic) {
    auto id = f->engine->startRun("mash-triage",
                                  {{"referral", {{"id", "SYN-REF-0100"}, {"received_at", receivedAt},
                                                 {"child", {{"name", "Synthetic Child Alpha"}, {"dob", "2015-03-14"}}},
                                                 {"concerns", {"synthetic concern"}}, {"domestic_abuse", domestic}}}},
                                  "officer-1");
    REQUIRE(id.isOk());
    REQUIRE(f->engine->waitIdle(10s));
    return *id;
  }
  Json review(const std::string& id) { return f->runState(id).step("review")->approval->toJson(); }
  Json roles(const std::string& id) { return review(id)["assigned"]["roles"]; }
  void decide(const std::string& id) {
    ApprovalAction a;
    a.actor = {"sam", {"approver", "mash-supervisor"}};
    a.decision = "agree";
    a.reason = "The research supports the recommended band";
    REQUIRE(f->engine->actOnApproval(id, "review", a).isOk());
    REQUIRE(f->engine->waitIdle(10s));
  }
  std::vector<std::string> late() {
    ApprovalFilter q;
    q.status = "";
    q.lateAsOf = f->clock->now();
    auto rows = f->store->approvals().list(q);
    REQUIRE(rows.isOk());
    std::vector<std::string> out;
    for (const auto& r : rows->rows) out.push_back(r.runId);
    return out;
  }
};

}  // namespace

TEST_CASE("RED late on a Friday is due two hours later and escalates before and at the deadline", "[mash][sla]") {
  Mash m("2026-11-27T22:00:00Z", true, 0);
  std::string id = m.refer("2026-11-27T22:00:00Z", true);
  CHECK(m.f->runState(id).step("assess")->output["band"] == "RED");
  CHECK(m.review(id)["request"]["due"] == "2026-11-28T00:00:00Z");
  CHECK(m.roles(id) == Json({"mash-supervisor"}));
  m.f->advance(1h + 29min);  // 23:29
  CHECK(m.roles(id) == Json({"mash-supervisor"}));
  m.f->advance(2min);  // 23:31: half an hour before the deadline
  CHECK(m.roles(id) == Json({"mash-supervisor", "duty-inspector"}));
  CHECK(m.sink.count() == 0);
  CHECK(m.late().empty());
  m.f->advance(30min);  // 00:01: past it; the superintendent and the duty desk are told
  CHECK(m.roles(id) == Json({"mash-supervisor", "duty-inspector", "superintendent"}));
  REQUIRE(m.sink.count() == 1);
  CHECK(m.sink.message(1)["rcpt_tos"] == Json({"mash-duty@force.example.invalid"}));
  CHECK(m.late() == std::vector<std::string>{id});  // open past its due time
  m.decide(id);
  CHECK(m.f->runState(id).status == RunStatus::kCompleted);
  CHECK(m.late() == std::vector<std::string>{id});  // decided after it: still late
  REQUIRE(m.sink.count() == 2);  // RED: children's social care is told
  CHECK(m.sink.message(2)["rcpt_tos"] == Json({"childrens-services-front-door@northshire-council.example.invalid"}));
}

TEST_CASE("AMBER on a Friday afternoon is due on Monday: the clock pauses over the weekend", "[mash][sla]") {
  Mash m("2026-11-27T15:00:00Z", false, 0);
  std::string id = m.refer("2026-11-27T15:00:00Z", false);
  CHECK(m.f->runState(id).step("assess")->output["band"] == "AMBER");
  CHECK(m.review(id)["request"]["due"] == "2026-11-30T13:00:00Z");  // 2 office hours Friday, 4 Monday
  m.f->advance(69h + 29min);  // Monday 12:29
  CHECK(m.roles(id) == Json({"mash-supervisor"}));
  CHECK(m.review(id).value("escalations", 0) == 0);
  m.f->advance(2min);  // 12:31
  CHECK(m.roles(id) == Json({"mash-supervisor", "duty-inspector"}));
  m.decide(id);  // decided at 12:31, before 13:00: on time
  CHECK(m.f->runState(id).status == RunStatus::kCompleted);
  CHECK(m.late().empty());
}

TEST_CASE("a third referral about the same child in 90 days escalates at once", "[mash][sla]") {
  Mash m("2026-11-25T10:00:00Z", false, 2);
  std::string id = m.refer("2026-11-25T10:00:00Z", false);
  CHECK(m.f->runState(id).step("timescale")->output["repeat_referral"] == true);
  m.f->advance(0s);  // the level's timer is due at the request itself (the daemon's timer thread fires it at once)
  CHECK(m.roles(id) == Json({"mash-supervisor", "duty-inspector"}));
  CHECK(m.review(id)["escalations"] == 1);
  CHECK(m.review(id)["request"]["due"] == "2026-11-25T16:00:00Z");  // AMBER: six office hours
}

TEST_CASE("an override option stands for its band: the same band agrees, another overrides", "[mash][approval]") {
  Mash m("2026-11-27T22:00:00Z", true, 0);
  std::string same = m.refer("2026-11-27T22:00:00Z", true);
  std::string other = m.refer("2026-11-27T22:00:00Z", true);
  auto decide = [&](const std::string& id, const char* option, Json rating) {
    ApprovalAction a;
    a.actor = {"sam", {"approver", "mash-supervisor"}};
    a.decision = option;
    a.rating = std::move(rating);
    a.reason = "Strategy discussion information changes the picture";
    return m.f->engine->actOnApproval(id, "review", a);
  };
  CHECK(decide(other, "override_to_amber", "GREEN").message() ==
        "option 'override_to_amber' stands for the rating AMBER; give no other rating; field: rating");
  CHECK(decide(other, "agree", "AMBER").message() ==
        "option 'agree' keeps the recommended rating; to change it choose override_to_amber, override_to_green, "
        "override_to_red; field: rating");
  REQUIRE(decide(same, "override_to_red", Json()).isOk());
  REQUIRE(decide(other, "override_to_amber", Json()).isOk());
  REQUIRE(m.f->engine->waitIdle(10s));
  CHECK(m.f->runState(same).outputs["band"] == "RED");
  CHECK(m.f->runState(other).outputs["band"] == "AMBER");
  ApprovalFilter q;
  q.status = "decided";
  auto rows = m.f->store->approvals().list(q);
  REQUIRE(rows.isOk());
  for (const auto& r : rows->rows) CHECK(r.agreed == (r.runId == same));
}
