// Engine: the facade that runs workflows durably.
//
// It owns a committer thread (applies every input to its run through the RunMachine and
// commits the resulting events, work and timers in batches: group commit), a pool of
// workers that call connectors outside any transaction, and timer firing that reads the
// injected Clock. A run never holds a thread while it waits. After a crash, start()
// re-dispatches every call that may have been in flight with its original idempotency
// key, and due timers fire. All methods are thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <vector>
#include <memory>
#include <optional>
#include <string>

#include <spdlog/logger.h>

#include "vigil/approval.h"
#include "vigil/area.h"
#include "vigil/clock.h"
#include "vigil/connector.h"
#include "vigil/machine.h"
#include "vigil/run.h"
#include "vigil/store.h"
#include "vigil/workflow.h"

namespace vigil {

// One run as a group commit left it.
struct RunCommitted {
  std::string runId;
  RunStatus status = RunStatus::kRunning;
  uint64_t lastSeq = 0;
  bool approvalsChanged = false;  // its inbox rows were rewritten (a task opened, moved or closed)
};

struct EngineOptions {
  std::shared_ptr<Store> store;
  std::shared_ptr<Clock> clock;
  std::shared_ptr<ConnectorRegistry> connectors;
  std::shared_ptr<spdlog::logger> log;               // optional
  std::shared_ptr<const Area> area;  // calendars and timescales for new runs (optional)
  // The area a run recorded when it differs from `area` (the file changed since it
  // started): a run keeps the timescales it started under. Unset, or failing, the run
  // carries on under `area`, with a warning (a stuck referral is worse than a moved one).
  std::function<Result<std::shared_ptr<const Area>>(const std::string& hash)> areaByHash;
  // Key of the pseudonymous data-subject references in audit records (empty: none).
  std::string subjectKey;
  // Values of `secrets.NAME`, looked up only at the moment of a connector call.
  SecretLookup secrets;
  int workers = 8;                // connector calls in flight at once, over all connectors
  size_t maxBatch = 1024;         // inputs per group commit
  // How long the committer applies a batch's inputs before it commits what it has and
  // leaves the rest for the next batch, behind inputs that arrived meanwhile for other runs:
  // one run's heavy transitions cannot hold every other run's acknowledgement.
  std::chrono::milliseconds batchSlice{100};
  // Poll interval of the timer thread when no timer is known to be due sooner. Tests that
  // drive time by hand call fireDueTimers() instead and set `timerThread` to false.
  std::chrono::milliseconds timerPoll{1000};
  bool timerThread = true;
  // This node's name among those sharing the store (unique among them; the same across its
  // restarts, so a restarted node takes its own leases back at once), what it serves on,
  // and how long a lease lasts unrenewed: a node that stops renewing (dead, paused, cut
  // off) loses its partitions to the others after `leaseTtl`. It renews every third of it,
  // on the timer thread.
  std::string node = "local";
  std::string nodeAddress;
  std::chrono::milliseconds leaseTtl{15000};
  // Called on the committer thread after each group commit, with every run it wrote: what
  // live views (server-sent events, starts that wait for their run) follow. Must be quick
  // and must not call back into the engine.
  std::function<void(const std::vector<RunCommitted>& runs)> onCommitted;
};

// Counters and histograms for /metrics. Histogram buckets are upper bounds in seconds.
struct Histogram {
  static const std::vector<double>& bounds();  // 0.005 .. 10
  std::vector<uint64_t> counts;                // per bound, not cumulative; last is +Inf
  double sum = 0;
  uint64_t count = 0;
  void observe(double seconds);
};

struct EngineMetrics {
  std::map<std::string, Histogram> callSeconds;  // by connector
  std::map<std::pair<std::string, std::string>, uint64_t> callErrors;  // (connector, code)
  Histogram commitSeconds;
  uint64_t commits = 0;
  uint64_t committedInputs = 0;
  uint64_t failedCommits = 0;
  uint64_t deferredInputs = 0;  // left by a batch that reached its time slice, for the next
  uint64_t conflictedInputs = 0;  // applied again because another writer had moved their run on
  uint64_t fencedInputs = 0;  // call results and timers dropped: their partition's lease had moved to another node
  uint64_t leasesTaken = 0;   // partitions this node took (at start, or from a node that stopped renewing)
  uint64_t leasesLost = 0;    // partitions another node took from this one
};

// Whether the engine can take work now: what /readyz reports.
struct EngineHealth {
  // The last group commit failed (disk full, I/O error, locked) and the inputs it held are
  // queued for a retry; `storeError` says why, without data.
  bool storeFailing = false;
  std::string storeError;
  std::chrono::milliseconds retryIn{0};
  // How long the batch being processed has taken so far (0 when idle): a stalled committer.
  std::chrono::milliseconds busyFor{0};
  size_t queued = 0;  // inputs waiting for the committer
  // The partitions this node holds, how long ago it last renewed them, and whether its
  // renewals have failed for so long that it no longer acts for them (`leaseError` says
  // why; what it held may already be another node's).
  size_t partitionsHeld = 0;
  std::chrono::milliseconds sinceRenewal{0};
  bool leasesFailing = false;
  std::string leaseError;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> create(EngineOptions options);
  virtual ~Engine() = default;

  // Makes a workflow startable by name (the highest version published wins) and stores
  // its definition by hash, so runs pinned to it survive restarts and later versions.
  virtual Status publish(std::shared_ptr<const Workflow> workflow, const std::string& source) = 0;

  // Recovers (re-dispatches in-flight calls) and starts the threads.
  virtual Status start() = 0;
  // Stops accepting inputs, finishes the current batch, joins the threads. Idempotent.
  virtual void stop() = 0;

  // Validates `inputs` against the workflow's declared inputs, then starts a run; returns
  // once RunStarted and its first steps are durable. `runId` empty: a new unique id.
  virtual Result<std::string> startRun(const std::string& workflow, const Json& inputs, const std::string& startedBy,
                                       const std::string& runId = "") = 0;
  // Requests, confirms or declines the cancellation of a run (RunMachine::cancel has the
  // rules); returns once the effect is durable, or why it was refused.
  virtual Status cancelRun(const std::string& runId, const RunMachine::CancelInput& cancel) = 0;
  // A person claims, decides or reassigns an approval; returns once the result is durable,
  // or why it was refused (see RunMachine::onApproval for the codes).
  virtual Status actOnApproval(const std::string& runId, const std::string& step, const ApprovalAction& action) = 0;

  virtual Result<std::optional<RunState>> run(const std::string& runId) = 0;

  // Appends records to the audit trail in the committer's next group commit (reads and
  // admin actions share the fsync of run transitions); returns once they are durable.
  virtual Status appendAudit(std::vector<AuditEntry> entries) = 0;

  // Fires every timer due at the clock's current time; returns how many fired.
  virtual Result<size_t> fireDueTimers() = 0;
  // Waits until no input is queued and no call is in flight, or `max` passes. For tests,
  // benchmarks and orderly shutdown; returns whether it became idle.
  virtual bool waitIdle(std::chrono::milliseconds max) = 0;

  // A consistent copy of the counters since start.
  virtual EngineMetrics metrics() = 0;
  virtual EngineHealth health() = 0;
  // Renews this node's partition leases now, taking or giving back partitions as the live
  // nodes' share has changed (the timer thread does so every third of leaseTtl; tests that
  // drive time by hand call this).
  virtual Status renewLeases() = 0;
};

// Checks inputs against declared types and required fields, filling defaults. Errors name
// the input path ("inputs.referral.child: missing required field 'dob'") and never echo
// the value.
Result<Json> validateInputs(const Workflow& workflow, const Json& inputs);

}  // namespace vigil
