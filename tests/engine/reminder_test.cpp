// Escalation reminders: a two-level escalation chain, driven by the manual clock, sends
// each level's reminder through the real email connector to a real SMTP sink, and records
// that it went out (and to the audit trail as a disclosure). Nothing here sleeps on time.
#include <catch2/catch.hpp>

#include "../connectors/email/sink_harness.h"
#include "engine_fixture.h"
#include "vigil/email_connector.h"

using namespace vigil;
using namespace vigil::testing;
using namespace std::chrono_literals;

TEST_CASE("a two-level escalation chain sends a reminder at each level to a real SMTP sink", "[approval][email]") {
  SmtpSink sink;
  DataDir dir;
  Fixture f(dir.path);
  EmailConnectorOptions mail;
  mail.port = sink.port();
  mail.tls = EmailConnectorOptions::Tls::kNone;
  mail.from = "vigil@force.example";
  mail.templates["escalated"] = EmailTemplate{"Approval overdue: {{step}}", "Referral {{ref}} waits for a decision; it is now with {{to}}."};
  REQUIRE(registerEmailConnector(*f.connectors, mail).isOk());
  f.publish(R"yaml(workflow: escalating
version: 1
owner: o
inputs: { ref: string }
steps:
  - id: review
    approval:
      assign: mash-supervisor
      timeout: 4h
      escalate:
        - after: 1h
          to: duty-inspector
          remind: { uses: email.send, with: { to: duty-inspector@force.example, template: escalated, vars: { step: review, ref: "${{ inputs.ref }}", to: duty inspector } } }
        - after: 3h
          to: superintendent
          remind: { uses: email.send, with: { to: [superintendent@force.example], template: escalated, vars: { step: review, ref: "${{ inputs.ref }}", to: superintendent } } }
)yaml");
  REQUIRE(f.engine->start().isOk());
  auto id = f.engine->startRun("escalating", {{"ref", "REF-42"}}, "officer-1");
  REQUIRE(id.isOk());
  REQUIRE(f.engine->waitIdle(10s));
  CHECK(sink.count() == 0);

  f.advance(1h);
  REQUIRE(f.engine->waitIdle(10s));
  REQUIRE(sink.count() == 1);
  Json first = sink.message(1);
  CHECK(first["rcpt_tos"] == Json({"duty-inspector@force.example"}));
  std::string subject;
  for (const auto& h : first["parsed"]["headers"]) {
    if (h[0] == "Subject") subject = h[1].get<std::string>();
  }
  CHECK(subject == "Approval overdue: review");
  CHECK(first["parsed"]["body"].get<std::string>().find("Referral REF-42 waits for a decision; it is now with duty inspector.") !=
        std::string::npos);

  f.advance(2h);
  REQUIRE(f.engine->waitIdle(10s));
  REQUIRE(sink.count() == 2);
  CHECK(sink.message(2)["rcpt_tos"] == Json({"superintendent@force.example"}));

  RunState st = f.runState(*id);
  CHECK(st.status == RunStatus::kWaiting);
  CHECK(st.step("review")->approval->roles == std::vector<std::string>{"mash-supervisor", "duty-inspector", "superintendent"});
  auto events = f.store->runs().events(*id);
  REQUIRE(events.isOk());
  std::vector<std::string> trace;
  for (const auto& e : *events) {
    if (e.type == EventType::kApprovalEscalated || e.type == EventType::kApprovalReminded) {
      trace.push_back(std::string(eventTypeName(e.type)) + " " + std::to_string(e.attempt) +
                      (e.type == EventType::kApprovalReminded ? (e.data["ok"].get<bool>() ? " ok" : " failed") : ""));
    }
  }
  CHECK(trace == std::vector<std::string>{"ApprovalEscalated 1", "ApprovalReminded 1 ok", "ApprovalEscalated 2",
                                          "ApprovalReminded 2 ok"});
  auto records = f.store->audit().records(*id, TimePoint{}, 1u << 30);
  REQUIRE(records.isOk());
  int disclosures = 0;
  for (const auto& r : *records) disclosures += r.entry.kind == "disclosure" && r.entry.system == "email";
  CHECK(disclosures == 2);
}
