// The typed approval state: the fold of an approval's events, and a snapshot form that is
// the text it has always been (its digest is chained; another text would read as tampering).
#include <catch2/catch.hpp>

#include "vigil/approval.h"
#include "vigil/run.h"

using namespace vigil;

namespace {

Event ev(uint64_t seq, EventType type, Json data, const std::string& step = "review") {
  Event e;
  e.seq = seq;
  e.type = type;
  e.time = TimePoint(std::chrono::milliseconds(1'700'000'000'000LL + static_cast<long long>(seq) * 1000));
  e.step = seq == 1 ? "" : step;
  e.attempt = 1;
  e.data = std::move(data);
  return e;
}

RunState fold(const std::vector<Event>& events) {
  RunState st;
  st.id = "r1";
  for (const auto& e : events) REQUIRE(st.apply(e).isOk());
  return st;
}

const Json kRequest = {{"roles", {"supervisor"}}, {"users", Json::array()}, {"options", {"agree", "override_to_red"}},
                       {"quorum", 2}, {"distinct_from", {"officer-1"}}, {"due", "2026-12-03T12:00:00Z"},
                       {"priority", 3}, {"summary", "REF-1 AMBER"}, {"recommendation", "AMBER"},
                       {"show", {{"inputs.referral_id", "REF-1"}}}, {"reason_min_length", 12}};

}  // namespace

TEST_CASE("an approval's events fold into typed fields", "[approval]") {
  RunState st = fold({ev(1, EventType::kRunStarted, {{"workflow", "w"}, {"version", 1}, {"hash", "h"}, {"inputs", Json::object()}, {"started_by", "officer-1"}}),
                      ev(2, EventType::kApprovalRequested, kRequest),
                      ev(3, EventType::kApprovalClaimed, {{"by", "sam"}, {"roles", {"supervisor"}}, {"until", "2026-12-03T10:15:00Z"}}),
                      ev(4, EventType::kApprovalEscalated, {{"to", {"inspector", "supervisor"}}}),
                      ev(5, EventType::kApprovalDecided, {{"decision", "agree"}, {"reason", "seen the research"}, {"decided_by", "sam"}, {"agreed", true}})});
  const ApprovalState& a = *st.step("review")->approval;
  REQUIRE(a.request);
  CHECK(a.request->options == std::vector<std::string>{"agree", "override_to_red"});
  CHECK(a.request->quorum == 2);
  CHECK(a.request->distinctFrom == std::vector<std::string>{"officer-1"});
  CHECK(a.request->due == parseTime("2026-12-03T12:00:00Z"));
  CHECK(a.request->priority == 3);
  CHECK(a.request->recommendationText() == "AMBER");
  CHECK(a.request->reasonMinLength == 12);
  CHECK(a.request->reasonRequired);
  CHECK(a.roles == std::vector<std::string>{"supervisor", "inspector"});  // an escalation adds, never repeats
  CHECK(a.escalations == 1);
  CHECK(a.claim->by == "sam");
  CHECK(a.claim->heldAgainst("alex", *parseTime("2026-12-03T10:00:00Z")));
  CHECK_FALSE(a.claim->heldAgainst("sam", *parseTime("2026-12-03T10:00:00Z")));
  CHECK_FALSE(a.claim->heldAgainst("alex", *parseTime("2026-12-03T10:15:00Z")));
  CHECK(a.votes.size() == 1);
  CHECK(a.votes[0].agreed == std::optional<bool>(true));
  CHECK(a.pending());  // one vote of a quorum of two
  CHECK(a.assignedTo("anyone", {"inspector"}));
  CHECK_FALSE(a.assignedTo("anyone", {"officer"}));
  CHECK(a.votedBy("sam"));

  REQUIRE(st.apply(ev(6, EventType::kApprovalDecided, {{"decision", "agree"}, {"reason", "agreed on review"}, {"decided_by", "alex"}})).isOk());
  const ApprovalState& d = *st.step("review")->approval;
  REQUIRE(d.decided());
  CHECK(d.outcome->decidedBy == "alex");
  CHECK(d.outcome->approvers == std::vector<std::string>{"sam", "alex"});
  CHECK_FALSE(d.claim);  // a decision ends the claim
}

TEST_CASE("the snapshot form of an approval is the text it was before it was typed", "[approval]") {
  // Written out by hand in the form the JSON state had: a snapshot folded from the same
  // events must dump to exactly this text, and read back into the same state.
  const Json expected = {
      {"request", kRequest},
      {"assigned", {{"roles", {"supervisor", "inspector"}}, {"users", Json::array()}}},
      {"votes", {{{"decision", "agree"}, {"reason", "seen the research"}, {"decided_by", "sam"}},
                 {{"decision", "agree"}, {"reason", "agreed on review"}, {"decided_by", "alex"}}}},
      {"escalations", 1},
      {"decision", "agree"},
      {"reason", "agreed on review"},
      {"decided_by", "alex"},
      {"approvers", {"sam", "alex"}}};
  RunState st = fold({ev(1, EventType::kRunStarted, {{"workflow", "w"}, {"version", 1}, {"hash", "h"}, {"inputs", Json::object()}, {"started_by", "officer-1"}}),
                      ev(2, EventType::kApprovalRequested, kRequest),
                      ev(3, EventType::kApprovalClaimed, {{"by", "sam"}, {"until", "2026-12-03T10:15:00Z"}}),
                      ev(4, EventType::kApprovalEscalated, {{"to", {"inspector"}}}),
                      ev(5, EventType::kApprovalDecided, expected["votes"][0]),
                      ev(6, EventType::kApprovalDecided, expected["votes"][1])});
  CHECK(st.step("review")->approval->toJson().dump() == expected.dump());
  CHECK(ApprovalState::of(expected).toJson().dump() == expected.dump());

  SECTION("an open approval with a claim") {
    RunState open = fold({ev(1, EventType::kRunStarted, {{"workflow", "w"}, {"version", 1}, {"hash", "h"}, {"inputs", Json::object()}, {"started_by", "officer-1"}}),
                          ev(2, EventType::kApprovalRequested, kRequest),
                          ev(3, EventType::kApprovalClaimed, {{"by", "sam"}, {"until", "2026-12-03T10:15:00Z"}})});
    const Json want = {{"request", kRequest},
                       {"assigned", {{"roles", {"supervisor"}}, {"users", Json::array()}}},
                       {"votes", Json::array()},
                       {"escalations", 0},
                       {"claim", {{"by", "sam"}, {"until", "2026-12-03T10:15:00Z"}}}};
    CHECK(open.step("review")->approval->toJson().dump() == want.dump());
    auto back = RunState::fromJson(open.toJson());
    REQUIRE(back.isOk());
    CHECK(back->toJson().dump() == open.toJson().dump());
  }
  SECTION("a vote recorded with no request (histories from before quorums) decides alone") {
    RunState old = fold({ev(1, EventType::kRunStarted, {{"workflow", "w"}, {"version", 1}, {"hash", "h"}, {"inputs", Json::object()}, {"started_by", "officer-1"}}),
                         ev(2, EventType::kApprovalDecided, {{"decision", "approve"}, {"reason", "fine"}, {"decided_by", "sam"}})});
    const Json want = {{"votes", {{{"decision", "approve"}, {"reason", "fine"}, {"decided_by", "sam"}}}},
                       {"decision", "approve"}, {"reason", "fine"}, {"decided_by", "sam"}, {"approvers", {"sam"}}};
    CHECK(old.step("review")->approval->toJson().dump() == want.dump());
    CHECK(approvalRowsOf(old).empty());  // no request: not an inbox row
  }
}

TEST_CASE("approval fields of the wrong type read as absent, never throw", "[approval]") {
  ApprovalState a = ApprovalState::of({{"request", {{"options", "agree"}, {"quorum", "two"}, {"due", 5}, {"priority", "high"}}},
                                       {"assigned", {{"roles", {1, "supervisor"}}}},
                                       {"votes", {"not an object"}},
                                       {"escalations", "x"}});
  REQUIRE(a.request);
  CHECK(a.request->options.empty());
  CHECK(a.request->quorum == 1);
  CHECK_FALSE(a.request->due);
  CHECK(a.request->priority == 0);
  CHECK(a.roles == std::vector<std::string>{"supervisor"});
  CHECK(a.votes.size() == 1);
  CHECK(a.votes[0].decidedBy.empty());
  CHECK(a.escalations == 0);
}
