// The store's one transaction: a Batch of run transitions (group commit), and an Erasure.
//
// Every state change of a run is one RunWrite: its new events, its new snapshot, the work
// and timers it creates and consumes, its inbox rows and its audit records. A Batch carries
// the writes of many runs, committed together to pay one fsync for many transitions. A
// store commits each run family (a run and its sub-workflow runs) whole or not at all: a
// family whose stored history is not the one its writes continue (another writer moved it
// on, or took its id first) is left out and reported, and the rest is committed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "vigil/approval.h"
#include "vigil/audit.h"
#include "vigil/run.h"

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
  std::string kind;  // retry, timeout, wait, approval_timeout, escalation
  TimePoint due{};
};

// One run's transition. Its events are stored once, in its chained `run` (or `collection`)
// audit record, whose payload also holds the SHA-256 of `snapshotText`: the runs row is a
// cache of the fold of those events, checked by `vigil audit verify`.
struct RunWrite {
  const RunState* state = nullptr;  // the run after the events (the committer's own copy, not copied again)
  std::string snapshotText;         // snapshot.toJson().dump(), serialised once
  std::vector<Event> events;        // the new events; the stored run must end at state->lastSeq - events.size()
  bool created = false;             // a new run: its id must not be taken
  std::vector<WorkItem> addWork;
  // What the transition consumes: the call whose result it applies, the timer it fires.
  // Each row must still be stored; one that is gone was applied already (by this node
  // before a commit whose outcome it could not know, or by another), and the family is
  // left out as fenced rather than apply it twice.
  std::vector<WorkItem> removeWork;    // by run, step, attempt
  std::vector<TimerItem> addTimers;
  std::vector<TimerItem> removeTimers;  // by run, step, attempt, kind
  std::vector<ApprovalRow> approvals;   // inbox rows (and their votes) to insert or replace
  std::vector<AuditEntry> audit;        // the transition's records, its chained record among them
  // Set when the transition applies a call result or a fired timer: the lease (partition
  // of the run's family, node and epoch) it was dispatched under, which must still be the
  // stored one (lease_table.h); otherwise the family is left out and reported as fenced.
  struct Fence {
    int partition = 0;
    std::string node;
    uint64_t epoch = 0;
  };
  std::optional<Fence> fence;
};

struct Batch {
  std::vector<RunWrite> runs;
  std::vector<AuditEntry> audit;  // records of no transition (reads, admin actions): always committed
  bool empty() const { return runs.empty() && audit.empty(); }
};

// What a commit that did not fail stored: everything but the runs named here.
struct CommitReport {
  std::vector<std::string> conflicted;  // run ids whose family was left out, in batch order
  // Those of them left out because their fence no longer held, or a row they consume was
  // gone: their call results and timers are not to be applied again.
  std::vector<std::string> fenced;
};

// The family a run commits with: its top-level run (sub-workflow runs are "PARENT.STEP...").
inline std::string runFamily(const std::string& runId) { return runId.substr(0, runId.find('.')); }

// Retention's erasure of one ended run and its sub-workflow runs, in one transaction: each
// member's audit payloads and first-open times go, its row keeps `minimalSnapshot`, and
// `record` (kind "erasure") says what went. The engine decides all of it (retention.cpp);
// a store refuses the whole erasure, storing nothing, when a member's run is missing or
// already erased, the top-level run has not ended, or a member holds a different number of
// payloads than `auditPayloads`.
struct ErasedRun {
  std::string runId;
  std::string minimalSnapshot;
  long long auditPayloads = 0;
  AuditEntry record;
};
struct Erasure {
  std::vector<ErasedRun> runs;
};

}  // namespace vigil
