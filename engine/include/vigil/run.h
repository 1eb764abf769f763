// Runs as event histories, and their state as a fold of those events.
//
// A run's history is an append-only list of Events; RunState is what folding them gives.
// The fold is pure and deterministic (no clock, no I/O): replaying a history rebuilds the
// same state, which is what crash recovery and auditor replay rely on. Not thread-safe:
// one RunState belongs to one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vigil/approval_state.h"
#include "vigil/clock.h"
#include "vigil/expr.h"
#include "vigil/status.h"

namespace vigil {

enum class RunStatus { kRunning, kWaiting, kCompleted, kFailed, kCancelled };
enum class StepStatus { kPending, kRunning, kWaiting, kCompleted, kFailed, kSkipped };

const char* runStatusName(RunStatus s);
std::optional<RunStatus> parseRunStatus(std::string_view s);
const char* stepStatusName(StepStatus s);
// Terminal statuses never change again.
bool isTerminal(RunStatus s);
bool isTerminal(StepStatus s);

enum class EventType {
  kRunStarted,        // data: {workflow, version, hash, inputs, started_by, parent?}
  kStepStarted,       // step, attempt, data: {items} for foreach, {branch} for switch
  kStepCompleted,     // step, data: {output}
  kStepFailed,        // step, attempt, data: {error: {code, message, retryable}, handled}
  kStepSkipped,       // step: its `if` was false, or its switch branch was not taken
  kRetryScheduled,    // step, attempt (the next one), data: {due, error}
  kWaitStarted,       // step, data: {until}
  kTimerFired,        // step, data: {timer}
  kDecisionRecorded,  // step, data: {score, band, fired: [{id, score, reason, when}], rules: [{id, fired,
                      //              inputs}]}; a fired rule whose score is an expression also has
                      //              score_expr in fired and its evaluated score in rules
  kApprovalRequested, // step, data: {roles, users, options, quorum, distinct_from, show, shown_digest,
                      //              recommendation, reason_min_length, due}
  kApprovalDecided,   // step, data: one person's vote {decision, reason, decided_by, roles, agreed, ...};
                      // the step completes once `quorum` votes agree

  kChildRunStarted,   // step, data: {child}
  kRunCompleted,      // data: {outputs}
  kRunFailed,         // data: {error}
  kRunCancelled,      // data: {reason, by, requested_by?, request_reason?}
  kApprovalClaimed,   // step, data: {by, until}
  kApprovalReassigned,// step, data: {by, reason, roles, users}
  kApprovalEscalated, // step, attempt: level (1-based), data: {to}
  kApprovalReminded,  // step, attempt: level, data: {connector, ok, code?}: an escalation's reminder went out (or not)
  kCancellationRequested,  // data: {by, reason, roles}: a first person asked; the run carries on until confirmed
  kCancellationDeclined,   // data: {by, reason}: the request was declined or withdrawn
};

const char* eventTypeName(EventType t);
std::optional<EventType> parseEventType(std::string_view s);

struct Event {
  uint64_t seq = 0;        // 1-based position in the run's history
  EventType type = EventType::kRunStarted;
  TimePoint time{};        // recorded clock reading; replay uses it for now()
  std::string step;        // step key: "id", or "id[2]" inside foreach iteration 2
  int attempt = 0;
  Json data;

  Json toJson() const;
  static Result<Event> fromJson(const Json& j);
};

struct StepState {
  StepStatus status = StepStatus::kPending;
  int attempt = 0;
  Json output;
  Json error;
  TimePoint startedAt{};
  TimePoint finishedAt{};
  // Approval steps: what was asked, who may act, the claim, the votes and, once a quorum
  // agrees, the outcome. Empty for every other step.
  std::optional<ApprovalState> approval;
  Json items;     // foreach: the list being iterated
  int branch = -1;  // switch: the case taken; -2 for default, -3 for none
  bool handled = false;  // a failure that on_error handles (continue or handler steps)
};

struct RunState {
  std::string id;
  RunStatus status = RunStatus::kRunning;
  std::string workflow;
  int version = 0;
  std::string workflowHash;
  std::string areaHash;  // the area file it started under ("" for none)
  std::string startedBy;
  std::string parentRun;
  std::string reference;  // the workflow's `reference:` for this run ("" when none)
  TimePoint startedAt{};
  TimePoint updatedAt{};
  Json inputs = Json::object();
  Json outputs;
  Json error;
  uint64_t lastSeq = 0;
  std::map<std::string, StepState> steps;  // by step key
  // The latest cancellation request {by, reason, roles, at, status: pending | declined |
  // confirmed, decided_by?, decided_at?}, or null when nobody asked.
  Json cancellation;

  // What expressions see as `steps`: id -> {status, output, error, attempts, ...}, kept
  // up to date by apply(). Keys outside any foreach live in `view`; keys of foreach
  // iteration "[i]" (or "[i][j]" nested) live in iterationViews under that suffix.
  Json view = Json::object();
  std::map<std::string, Json> iterationViews;

  // Applies one event. The event must be the next in sequence (seq == lastSeq + 1).
  Status apply(const Event& e);
  const StepState* step(const std::string& key) const;
  // The run's current rating: the most recent band it was given (a decide step's or a set
  // step's `band`, an approval's decided rating) or, while one waits, the recommendation
  // the approver is asked about; "" before any. Kept by apply(), so a commit does not
  // look through every step for it.
  const std::string& band() const { return band_; }

  Json toJson() const;  // snapshot
  static Result<RunState> fromJson(const Json& j);
  // The state a history folds to: what every reader shows, the snapshot being its cache.
  static Result<RunState> fold(const std::string& runId, const std::vector<Event>& events);

 private:
  void refreshView(const std::string& key);
  void count(StepStatus s, int delta);
  // How many steps are waiting and running, kept by apply() and fromJson().
  long waitingSteps_ = 0;
  long runningSteps_ = 0;
  std::string band_;
  std::string bandFromSteps() const;  // band() of a state read from a snapshot
};

}  // namespace vigil
