// Approvals: what a person does to an approval step, and the inbox rows the store keeps.
//
// Every rule that decides whether a person may act (assignment, four-eyes, claims, quorum,
// reasons, form types) is checked by RunMachine::onApproval on the committer thread, the
// only writer of a run: two people deciding at once are two inputs applied one after the
// other, so exactly one of them counts and the other is refused with a conflict.
#pragma once

#include <optional>
#include <string>
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
  std::optional<TimePoint> openedAt;
  // kClaim
  std::chrono::milliseconds claimFor{std::chrono::minutes(15)};
  // kReassign: the new assignees
  std::vector<std::string> toRoles;
  std::vector<std::string> toUsers;
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

// The inbox's name for a run's cancellation waiting for confirmation: not a legal step id,
// so it can never be mistaken for one ("RUN/!cancel").
inline constexpr const char* kCancellationTask = "!cancel";

// The inbox rows of every approval step in `state` (after its latest events), and of its
// cancellation request if it has one.
std::vector<ApprovalRow> approvalRowsOf(const RunState& state);

}  // namespace vigil
