// Store: where runs, their events, pending work, timers and workflow definitions live.
//
// Every state change of a run is one Store::commit() of a Batch: the run's new events,
// its new snapshot, the work and timers it creates and the ones it consumes, all in one
// transaction, so a crash leaves either all of it or none. Batches from many runs are
// committed together (group commit) to pay one fsync for many transitions.
// Implementations are thread-safe; the executor calls commit() from one thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vigil/approval.h"
#include "vigil/audit.h"
#include "vigil/signing.h"
#include "vigil/run.h"
#include "vigil/status.h"

namespace vigil {

// A connector call that may be in flight: recorded before the call, deleted with its result.
struct WorkItem {
  std::string runId;
  std::string step;
  int attempt = 0;
  Json command;  // the call: connector, action, input, idempotency key, purpose, deadline
};

struct TimerItem {
  std::string runId;
  std::string step;
  int attempt = 0;
  std::string kind;  // retry, timeout, wait, approval_timeout
  TimePoint due{};
};

// One run's transition. Its events are stored once, in the batch's chained `run` (or
// `collection`) audit record, whose payload also holds the SHA-256 of `snapshotText`: the
// runs row is a cache of the fold of those events, checked by `vigil audit verify`.
struct RunWrite {
  const RunState* state = nullptr;  // the run after the events (the committer's own copy, not copied again)
  std::string snapshotText;       // snapshot.toJson().dump(), serialised once
  std::vector<Event> events;      // appended by the batch's audit record for this run
  bool created = false;           // a new run
};

struct Batch {
  std::vector<RunWrite> runs;
  std::vector<WorkItem> addWork;
  std::vector<WorkItem> removeWork;      // by run, step, attempt
  std::vector<TimerItem> addTimers;
  std::vector<TimerItem> removeTimers;   // by run, step, attempt, kind
  std::vector<ApprovalRow> approvals;    // inbox rows (and their votes) to insert or replace
  std::vector<AuditEntry> audit;         // appended to the audit chain in this transaction
  bool empty() const {
    return runs.empty() && addWork.empty() && removeWork.empty() && addTimers.empty() && removeTimers.empty() &&
           approvals.empty() && audit.empty();
  }
};

struct RunSummary {
  std::string id;
  std::string workflow;
  int version = 0;
  RunStatus status = RunStatus::kRunning;
  std::string startedBy;
  TimePoint startedAt{};
  TimePoint updatedAt{};
  std::string reference;  // RunState::reference
  std::string band;       // RunState::band(), as of the run's latest commit
};

struct RunFilter {
  RunFilter() = default;
  RunFilter(std::optional<RunStatus> s, std::string w, size_t l, std::string a)
      : status(s), workflow(std::move(w)), limit(l), after(std::move(a)) {}
  std::optional<RunStatus> status;
  std::string workflow;
  size_t limit = 100;
  std::string after;  // paging: runs with id greater than this
  std::string startedBy;
  std::optional<TimePoint> startedFrom;  // started at or after
  std::optional<TimePoint> startedTo;    // started before
  std::string band;                      // exactly, as RunSummary::band
  std::string search;                    // case-insensitive text in the reference, or a run id's start
};

class Store {
 public:
  virtual ~Store() = default;

  // Workflow definitions, content-addressed by their hash. Storing one twice is a no-op.
  virtual Status putWorkflow(const std::string& hash, const std::string& name, int version, const std::string& source) = 0;
  virtual Result<std::string> workflowSource(const std::string& hash) = 0;
  // The highest stored version of each workflow name, as (name, version, hash).
  struct StoredWorkflow {
    std::string name;
    int version = 0;
    std::string hash;
  };
  virtual Result<std::vector<StoredWorkflow>> latestWorkflows() = 0;

  // Applies a whole batch atomically; on failure nothing of it is stored.
  virtual Status commit(const Batch& batch) = 0;

  virtual Result<std::optional<RunState>> loadRun(const std::string& id) = 0;
  virtual Result<bool> runExists(const std::string& id) = 0;  // committed, erased ones included
  virtual Result<std::vector<Event>> events(const std::string& runId) = 0;
  virtual Result<std::vector<RunSummary>> listRuns(const RunFilter& filter) = 0;
  // Runs per status, for /metrics.
  virtual Result<std::map<RunStatus, long long>> countRunsByStatus() = 0;
  virtual Result<std::vector<WorkItem>> pendingWork() = 0;
  virtual Result<std::vector<TimerItem>> dueTimers(TimePoint now, size_t max) = 0;
  virtual Result<std::optional<TimePoint>> nextTimerDue() = 0;
  // The integrity check of the underlying database ("ok" when sound).
  virtual Result<std::string> integrityCheck() = 0;

  // A page of the approvals inbox, in inbox order (ApprovalFilter), and the total.
  virtual Result<ApprovalPage> listApprovals(const ApprovalFilter& filter) = 0;
  virtual Result<std::optional<ApprovalRow>> approval(const std::string& runId, const std::string& step) = 0;
  // Per workflow step; `now` decides which open approvals are overdue.
  virtual Result<std::vector<ApprovalStats>> approvalStats(TimePoint now) = 0;
  // People's votes grouped `by` approver, step or step and band, in that key's order; a
  // vote is quick when it came at most `quickWithin` after its person opened the task.
  virtual Result<std::vector<DecisionStats>> decisionStats(DecisionStats::By by, std::chrono::milliseconds quickWithin) = 0;
  // When `user` first opened an approval task: evidence of how long they looked before
  // deciding. Recording again keeps the first time; returns the time kept.
  virtual Result<TimePoint> recordApprovalOpened(const std::string& runId, const std::string& step,
                                                 const std::string& user, TimePoint at) = 0;
  // The audit chain. appendAudit is its own transaction (access records, admin actions);
  // run events come in through commit().
  virtual Status appendAudit(const std::vector<AuditEntry>& entries) = 0;
  // Signs the head, as the log named `origin` (a C2SP note key name), when it moved since
  // the last checkpoint; nullopt when it did not.
  virtual Result<std::optional<AuditCheckpoint>> checkpointAudit(const SigningKey& key, TimePoint now,
                                                                 const std::string& origin) = 0;
  virtual Status addAuditKey(const AuditKey& key, TimePoint now) = 0;
  // Records of one run (and its sub-workflow runs) from `since`, or (runId "") every record
  // from the first at or after `since`: one unbroken range. Up to `maxSeq`.
  virtual Result<std::vector<AuditRecord>> auditRecords(const std::string& runId, TimePoint since, uint64_t maxSeq) = 0;
  virtual Result<std::vector<merkle::Hash>> auditLeaves(uint64_t upTo) = 0;
  virtual Result<std::vector<AuditCheckpoint>> auditCheckpoints() = 0;
  virtual Result<std::vector<AuditKey>> auditKeys() = 0;
  // Retention: erases the personal data of up to `max` runs of `workflow` that ended before
  // `endedBefore` (their audit payloads, event data and snapshot contents; sub-workflow runs
  // too), each in one transaction with an `erasure` audit record. Returns the run ids.
  virtual Result<std::vector<std::string>> eraseExpiredRuns(const std::string& workflow, TimePoint endedBefore,
                                                           TimePoint now, const std::string& why, size_t max) = 0;
  virtual Result<std::optional<TimePoint>> approvalOpenedAt(const std::string& runId, const std::string& step,
                                                           const std::string& user) = 0;
};

// The embedded store: one SQLite file in `dataDir` (created if missing), WAL mode,
// synchronous=FULL. Upgrades an older schema in place; refuses a newer one.
Result<std::unique_ptr<Store>> openSqliteStore(const std::string& dataDir);

// Schema versions this build understands (for the migration tests and `vigil --version`).
int sqliteSchemaVersion();

}  // namespace vigil
