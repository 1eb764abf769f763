// The state of one approval step, as the fold of its events builds it.
//
// Everything that reads an approval (the rules of who may act, the inbox rows, the task
// the API and the workbench show, the timers) reads these fields; the JSON is only the
// snapshot form. Each part keeps the event data it came from (`recorded`) so the snapshot
// is the same text it has always been: its digest is chained in the audit log, and a
// different text for the same events would read as tampering.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vigil/clock.h"
#include "vigil/expr.h"

namespace vigil {

// What ApprovalRequested asked for: the options, who may not decide, the quorum, the
// deadline, the inbox line and what the approver is shown.
struct ApprovalRequest {
  Json recorded;  // the event's data
  std::vector<std::string> options;
  std::vector<std::string> distinctFrom;  // four-eyes: these people may not decide
  int quorum = 1;
  std::optional<TimePoint> due;
  double priority = 0;
  std::string summary;
  Json recommendation;  // a band such as "RED", one of the options, or null
  Json show = Json::object();
  bool reasonRequired = true;
  int reasonMinLength = 10;

  static ApprovalRequest of(const Json& data);
  // The recommendation when it is text ("" otherwise), as the inbox lists it.
  std::string recommendationText() const { return recommendation.is_string() ? recommendation.get<std::string>() : ""; }
};

struct ApprovalClaim {
  Json recorded;  // ApprovalClaimed's data {by, roles, until}
  std::string by;
  std::optional<TimePoint> until;
  // Whether it stops `user` from acting at `now`: someone else holds it and it has not run out.
  bool heldAgainst(const std::string& user, TimePoint now) const { return until && *until > now && by != user; }
};

// One person's vote (or the system's, when a timeout decides).
struct ApprovalVoteRecord {
  Json recorded;  // ApprovalDecided's data
  std::string decision;
  std::string reason;
  std::string decidedBy;
  std::optional<bool> agreed;               // with the recommendation; empty when there was none
  std::optional<TimePoint> openedAt;        // when this person first opened the task
  std::optional<double> secondsToDecide;    // from that opening to this vote
  std::string confirmed;                    // "interactive", "yes_flag" or "" (not stated)

  static ApprovalVoteRecord of(const Json& data);
  bool bySystem() const { return decidedBy.rfind("system:", 0) == 0; }
};

// What a quorum agreed.
struct ApprovalOutcome {
  std::string decision;
  std::string reason;
  std::string decidedBy;  // the vote that completed the quorum
  std::vector<std::string> approvers;
};

struct ApprovalState {
  // Empty only in histories written before approvals had requests in state (a vote
  // recorded alone); such an approval is decided by its one vote.
  std::optional<ApprovalRequest> request;
  std::vector<std::string> roles;  // current assignees, by role
  std::vector<std::string> users;  // and by name
  std::optional<ApprovalClaim> claim;
  std::vector<ApprovalVoteRecord> votes;
  int escalations = 0;
  std::optional<ApprovalOutcome> outcome;

  bool requested() const { return request.has_value(); }
  bool decided() const { return outcome.has_value(); }
  // Requested and not yet decided (whether the step still waits is the step's status).
  bool pending() const { return request && !outcome; }
  bool assignedTo(const std::string& user, const std::vector<std::string>& userRoles) const;
  bool votedBy(const std::string& user) const;

  // The fold: one event of the step at a time.
  void onRequested(const Json& data);
  void onVote(const Json& data);
  void onClaimed(const Json& data);
  void onReassigned(const Json& data);
  void onEscalated(const Json& data);

  // The snapshot form, and back. toJson(of(j)) is j for every j toJson wrote.
  Json toJson() const;
  static ApprovalState of(const Json& snapshot);
};

}  // namespace vigil
