// Typed views: what a task, a run or a workflow shows, computed once for the JSON API and
// therefore for the web workbench, which reads only the API. Masking and the digest of
// what an approver was shown are decided here and nowhere else.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "auth/user_store.h"
#include "vigil/area.h"
#include "vigil/connector.h"
#include "vigil/run.h"
#include "vigil/store.h"
#include "vigil/workflow.h"

namespace vigil::daemon {

// One approval task as one person is shown it.
struct TaskView {
  std::string runId;
  std::string step;
  nlohmann::json shown;   // what the caller sees, masked for their roles
  std::string digest;     // SHA-256 of `shown`: the evidence of what they decided on
  ApprovalState state;    // the step's approval
  StepStatus stepStatus = StepStatus::kPending;
  nlohmann::json form;    // decisionFormJson: what deciding asks for (not part of `shown`)
  nlohmann::json escalations;  // so far: [{level, at, to, reminder?}] (it changes while open: not part of `shown`)

  std::string status() const;  // open, decided or closed
};

// Whether `who` may see the task at all: it is assigned to them (by name or role) now, or
// they have voted on it. Least privilege: not every approver in the force.
bool taskIsFor(const ApprovalState& approval, const Principal& who);

// The task of `step` in `run` as `who` sees it; `wf` null masks everything sensitive-looking
// (a definition that cannot be read leaves us not knowing what is sensitive). For each
// `decide` step whose output the task shows, `shown.rules` holds every rule, fired or not,
// with its reason and the values it read (masked as the rest), from the run's `events`.
TaskView taskView(const RunState& run, const std::string& step, const StepState& s, const Principal& who, const Workflow* wf,
                  const std::vector<Event>& events);

// A run's cancellation request as the inbox task RUN/!cancel: who asked, why and when, who
// may confirm it, where it stands, and the run it would end. Null when nobody asked or
// `who` may not see it (they neither hold a confirming role nor asked for it).
nlohmann::json cancellationTaskJson(const RunState& run, const Principal& who);

// What the decision form asks for, from the definition: the options, the rating each
// stands for, the reason's rules and the form's fields. Null when `wf` is.
nlohmann::json decisionFormJson(const Workflow* wf, const std::string& step, const ApprovalRequest& request);

// An inbox row (the approval index), as of `now`.
nlohmann::json taskRowJson(const ApprovalRow& r, TimePoint now);

// A workflow in the catalogue: name, version, digest, owner, description.
nlohmann::json workflowSummaryJson(const Workflow& wf);

// A run in a list: no inputs, no outputs.
nlohmann::json runSummaryJson(const RunSummary& r);

// What a run's page needs besides the run: the definition it pinned (null when it cannot be
// read: then everything is masked and nothing replayed), the area it started under, the
// connectors (for each call's declared access), and whether the caller sees it unmasked.
struct RunViewContext {
  std::shared_ptr<const Workflow> workflow;
  std::shared_ptr<const Area> area;
  std::string areaProblem;  // why the area could not be read ("" when it could, or there is none)
  const ConnectorRegistry* connectors = nullptr;
  bool unmasked = false;
  // Replay the history for `calls` and `replay` (GET /runs/{id}?calls=1): the run page asks;
  // a plain read of a run with thousands of steps stays a read.
  bool replay = false;
  // Leave the events out (GET /runs/{id}?events=0): a client that watches a run's status
  // does not need its whole history, which for a run near the step limit is megabytes.
  bool events = true;
};

// A run as GET /runs/{id} returns it: the snapshot, every event (unless left out), its band, `calls` (each
// connector call: step, attempt, action, purpose, access, the input the definition computed
// for it, and what came back) and `replay` (the history fed again to the definition:
// identical or where it diverges), masked for the caller.
nlohmann::json runViewJson(const RunState& run, const std::vector<Event>& events, const RunViewContext& ctx);

}  // namespace vigil::daemon
