// Operation Encompass timing with the manual clock: an incident at 23:40 on the Friday
// before a half-term week tells the school's key adult at once, with a deadline of 08:30
// on the first school day after the holiday (the shipped Northshire school calendar); an
// acknowledgement still missing when that school day starts escalates to the duty
// inspector. Uses the shipped workflow and area file, the real email connector and SMTP
// sink, and a stand-in for the education system (which cannot exist here).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "../connectors/email/sink_harness.h"
#include "../../daemon/src/area_file.h"
#include "../engine/engine_fixture.h"
#include "vigil/email_connector.h"

using namespace vigil;
using namespace vigil::testing;
using namespace std::chrono_literals;

namespace {

// The education system's answer for a synthetic pupil.
// A child whose name holds "Unknown" is on no roll.
class Schools final : public Connector {
 public:
  CallOutcome call(const ConnectorCall& c) override {
    if (c.input.value("name", "").find("Unknown") != std::string::npos) {
      return CallOutcome::success({{"found", false}, {"on_roll", false}, {"school", nullptr}, {"key_adult_email", nullptr}});
    }
    return CallOutcome::success({{"on_roll", true}, {"school", "Synthetic Primary School"},
                                 {"key_adult_email", "key.adult@synthetic-primary.example"}});
  }
};

// The shipped workflow and Northshire area on a manual clock starting at `now`, with the
// real e-mail connector to an SMTP sink and the stand-in education system.
struct Encompass {
  explicit Encompass(const char* now) {
    auto area = daemon::loadAreaFile(std::string(VIGIL_SOURCE_DIR) + "/examples/areas/northshire.yaml");
    REQUIRE(area.isOk());
    f = std::make_unique<Fixture>(dir.path, nullptr, *area, now);
    REQUIRE(f->connectors->add("education", std::make_shared<Schools>()).isOk());
    EmailConnectorOptions mail;
    mail.port = sink.port();
    mail.tls = EmailConnectorOptions::Tls::kNone;
    mail.from = "encompass@force.example";
    mail.templates["encompass"] = EmailTemplate{"Operation Encompass: {{incident}}", "Please be ready to support the pupil by {{notify_by}}."};
    REQUIRE(registerEmailConnector(*f->connectors, mail).isOk());
    std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/workflows/operation-encompass.yaml");
    std::stringstream yaml;
    yaml << in.rdbuf();
    f->publish(yaml.str());
    REQUIRE(f->engine->start().isOk());
  }
  SmtpSink sink;
  DataDir dir;
  std::unique_ptr<Fixture> f;
};

}  // namespace

TEST_CASE("an incident late on the Friday before half term is notified before the first school day after it",
          "[encompass][calendar]") {
  // Half term: Monday 26 to Friday 30 October 2026 (school calendars are data).
  Encompass e("2026-10-23T23:40:00Z");
  Fixture& f = *e.f;
  SmtpSink& sink = e.sink;

  auto id = f.engine->startRun("operation-encompass",
                               {{"incident", {{"id", "INC-7"}, {"occurred_at", "2026-10-23T23:40:00Z"},
                                              {"children", {{{"name", "Synthetic Child Alpha"}, {"dob", "2015-03-14"}}}}}}},
                               "officer-1");
  REQUIRE(id.isOk());
  REQUIRE(f.engine->waitIdle(10s));
  RunState st = f.runState(*id);
  CHECK(st.step("deadline")->output["notify_by"] == "2026-11-02T08:30:00Z");  // Monday after half term
  REQUIRE(sink.count() == 1);  // told at once, on Friday night, long before the deadline
  Json message = sink.message(1);
  CHECK(message["rcpt_tos"] == Json({"key.adult@synthetic-primary.example"}));
  CHECK(message["parsed"]["body"].get<std::string>().find("by 2026-11-02T08:30:00Z") != std::string::npos);
  CHECK_FALSE(isTerminal(st.status));  // it waits for the school's acknowledgement

  auto assigned = [&] {
    RunState later = f.runState(*id);
    for (const auto& [key, step] : later.steps) {
      if (key.rfind("acknowledgement", 0) == 0) return Json(step.approval->roles);
    }
    return Json();
  };
  // 08:29 on Monday 2 November (GMT): school has not started; nobody is chased yet.
  f.advance(std::chrono::hours(24 * 9) + 8h + 49min);
  CHECK(assigned() == Json({"encompass-coordinator"}));
  f.advance(2min);  // 08:31, still no acknowledgement: the duty inspector is brought in
  CHECK(assigned() == Json({"encompass-coordinator", "duty-inspector"}));
  CHECK_FALSE(isTerminal(f.runState(*id).status));
}

TEST_CASE("a child with no school known becomes the coordinator's task, the acknowledgement shows the school and the e-mail",
          "[encompass]") {
  Encompass e("2026-11-24T19:00:00Z");
  Fixture& f = *e.f;
  SmtpSink& sink = e.sink;
  auto id = f.engine->startRun("operation-encompass",
                               {{"incident", {{"id", "INC-8"}, {"occurred_at", "2026-11-24T19:00:00Z"},
                                              {"children", {{{"name", "Synthetic Child Alpha"}, {"dob", "2015-03-14"}},
                                                            {{"name", "Synthetic Child Unknown"}, {"dob", "2016-01-01"}}}}}}},
                               "officer-1");
  REQUIRE(id.isOk());
  REQUIRE(f.engine->waitIdle(10s));
  RunState st = f.runState(*id);
  CHECK(sink.count() == 1);  // only the child with a school
  const StepState* ack = st.step("acknowledgement[0]");
  REQUIRE(ack != nullptr);
  const Json& shown = ack->approval->request->show;
  CHECK(shown["steps['find-school'].output"]["key_adult_email"] == "key.adult@synthetic-primary.example");
  CHECK(shown["steps['notify-key-adult'].status"] == "completed");
  CHECK(shown["index"] == 0);
  auto statusOf = [&](const char* key) { return st.step(key) == nullptr ? std::string("absent") : stepStatusName(st.step(key)->status); };
  CHECK(statusOf("no-school[0]") == "skipped");
  const StepState* none = st.step("no-school[1]");
  REQUIRE(none != nullptr);
  CHECK(none->status == StepStatus::kWaiting);  // not skipped: a person must find the school
  CHECK(none->approval->roles == std::vector<std::string>{"encompass-coordinator"});
  CHECK(none->approval->request->summary.rfind("INC-8 child 2: NO SCHOOL KNOWN", 0) == 0);
  CHECK(statusOf("acknowledgement[1]") != "waiting");
}
