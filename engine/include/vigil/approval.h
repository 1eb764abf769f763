// Approvals: what a person does to an approval step, and the inbox rows the store keeps.
//
// Every rule that decides whether a person may act (assignment, four-eyes, claims, quorum,
// reasons, form types) is checked by RunMachine::onApproval on the committer thread, the
// only writer of a run: two people deciding at once are two inputs applied one after the
// other, so exactly one of them counts and the other is refused with a conflict.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/clock.h"
#include "vigil/duration.h"
#include "vigil/expr.h"
#include "vigil/run.h"

namespace vigil {

struct ApprovalActor {
  std::string user;
  std::vector<std::string> roles;
};

// How a person confirmed a decision, as their client states it: at a prompt after being
// shown the task (`interactive`), or with `--yes` (`yes_flag`: scripted, or having looked
// at the task earlier). kUnstated: the client said nothing (an API caller other than the
// vigil CLI). Recorded in the vote; the decisions report counts `--yes` decisions apart.
enum class Confirmation { kUnstated, kInteractive, kYesFlag };
// "", "interactive", "yes_flag"
inline const char* confirmationName(Confirmation c) {
  switch (c) {
    case Confirmation::kInteractive: return "interactive";
    case Confirmation::kYesFlag: return "yes_flag";
    case Confirmation::kUnstated: break;
  }
  return "";
}
// The inverse of confirmationName ("" is kUnstated); nullopt for any other text.
inline std::optional<Confirmation> parseConfirmation(std::string_view s) {
  if (s.empty()) return Confirmation::kUnstated;
  if (s == "interactive") return Confirmation::kInteractive;
  if (s == "yes_flag") return Confirmation::kYesFlag;
  return std::nullopt;
}

struct ApprovalAction {
  enum class Kind { kClaim, kDecide, kReassign };
  Kind kind = Kind::kDecide;
  ApprovalActor actor;
  // kDecide
  std::string decision;
  std::string reason;
  Json rating;                     // the approver's own rating when it differs from the recommendation
  Json form = Json::object();      // fields the step's `form` declares
  std::string shownDigest;         // SHA-256 of exactly what the approver was shown
  std::optional<TimePoint> openedAt;  // when this person first opened the task
  Confirmation confirmed = Confirmation::kUnstated;
  // kClaim
  std::chrono::milliseconds claimFor{std::chrono::minutes(15)};
  // kReassign: the new assignees
  std::vector<std::string> toRoles;
  std::vector<std::string> toUsers;
};

// One person's vote on an approval step (each vote of a quorum), as the decisions report
// counts it. Votes recorded by the system (`system:timeout`) are no person's and are left out.
struct ApprovalVote {
  int seq = 0;  // its place among the step's votes
  std::string decidedBy;
  std::string decision;
  std::optional<bool> agreed;               // with the recommendation; empty when there was none
  std::optional<TimePoint> openedAt;        // when this person first opened the task
  std::optional<double> secondsFromOpening;  // from that opening to this vote
  Confirmation confirmed = Confirmation::kUnstated;
};

// One approval step of one run, as the inbox and the SLA reports see it.
struct ApprovalRow {
  std::string runId;
  std::string step;
  std::string workflow;
  int version = 0;
  std::string status;  // open, decided, closed (the run ended or the step failed)
  std::vector<std::string> roles;
  std::vector<std::string> users;
  std::vector<std::string> excluded;  // four-eyes: may not decide
  TimePoint requestedAt{};
  std::optional<TimePoint> due;
  std::string claimedBy;
  std::optional<TimePoint> claimUntil;
  std::string decision;
  std::string decidedBy;
  std::optional<TimePoint> decidedAt;
  std::optional<bool> agreed;  // with the recommendation; empty when there was none
  int escalations = 0;
  double priority = 0;         // the step's `priority:` (higher lists first); 0 without one
  std::string summary;         // the step's `summary:` line; "" without one
  std::string recommendation;  // a text recommendation (a band such as "RED"); "" otherwise
  std::vector<ApprovalVote> votes;  // stored beside the row, replaced with it
};

// Which rows, in which order. Rows come in inbox order: priority (higher first), then due
// time (soonest first, none last), then request time (oldest first), then run and step, so
// a new RED lists above older AMBERs and paging by `after` never skips or repeats a row.
struct ApprovalFilter {
  std::string status = "open";  // "" for any
  // Rows assigned to any of these roles or to this user; both empty: every row.
  std::vector<std::string> roles;
  std::string user;
  // Rows this user may never decide (four-eyes: they started the run) are left out.
  std::string notExcluding;
  enum class Assigned { kAny, kMe, kMyRoles, kUnclaimed };
  Assigned assigned = Assigned::kAny;  // narrows `roles`/`user`; kUnclaimed: nobody holds a claim at `now`
  std::string workflow;
  std::string runId;
  std::string recommendation;          // e.g. "RED"
  std::string textContains;  // case-insensitive text in the summary line or the run's reference (a referral id)
  std::optional<double> minPriority;
  std::optional<TimePoint> overdueAsOf;  // open rows whose due time is before this
  TimePoint now{};                       // for claims
  // Late decisions only: decided after their due time, or still open past it at `lateAsOf`.
  std::optional<TimePoint> lateAsOf;
  std::optional<TimePoint> requestedSince;
  // Keyset paging: rows strictly after this one in inbox order.
  struct Position {
    double priority = 0;
    std::optional<TimePoint> due;
    TimePoint requestedAt{};
    std::string runId;
    std::string step;
  };
  std::optional<Position> after;
  size_t limit = 100;
};

// A page of rows and how many match the filter in all (ignoring `after` and `limit`).
struct ApprovalPage {
  std::vector<ApprovalRow> rows;
  long long total = 0;
  bool more = false;  // rows follow the last one in this page
};

// Decisions per workflow step: how often people agreed with the recommendation, and how
// long they took. Watching both guards against rubber-stamping and against rules that
// people keep overriding.
struct ApprovalStats {
  std::string workflow;
  std::string step;
  long long decided = 0;
  long long withRecommendation = 0;
  long long overridden = 0;
  long long open = 0;
  long long overdue = 0;
  double meanSecondsToDecision = 0;
  double maxSecondsToDecision = 0;
};

// People's votes, grouped by who cast them (kApprover), by rule (kStep: workflow and step,
// a foreach's iterations together) or by rule and recommended band (kBand): how often they
// overrode the recommendation, and how many were taken within a few seconds of the person
// opening the task, a rubber-stamp indicator measured from the opening, not the request.
struct DecisionStats {
  enum class By { kApprover, kStep, kBand };
  std::string decidedBy;       // kApprover
  std::string workflow;        // kStep, kBand
  std::string step;            // kStep, kBand: the step id, without a foreach index
  std::string recommendation;  // kBand: the text recommendation ("" for none or not a text)
  long long decisions = 0;
  long long withRecommendation = 0;
  long long overridden = 0;
  long long timed = 0;    // votes whose opening is recorded
  long long quick = 0;    // of those, taken within the quick threshold of opening
  long long yesFlag = 0;  // confirmed with --yes rather than at a prompt
  double meanSecondsFromOpening = 0;  // over the timed votes; 0 without any
};

// The inbox's name for a run's cancellation waiting for confirmation: not a legal step id,
// so it can never be mistaken for one ("RUN/!cancel").
inline constexpr const char* kCancellationTask = "!cancel";

// The inbox rows of every approval step in `state` (after its latest events), and of its
// cancellation request if it has one.
std::vector<ApprovalRow> approvalRowsOf(const RunState& state);

}  // namespace vigil
