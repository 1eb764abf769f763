// Internal: the PostgreSQL store's concerns, each the contract of its vigil/store/*.h over
// the connections they share (Db). Writes of a run transition are PgStore::commit's.
#pragma once

#include <set>

#include "pg_db.h"
#include "vigil/store.h"

namespace vigil::pg {

class PgRunLog final : public RunLog {
 public:
  explicit PgRunLog(Db& db) : db_(db) {}
  Result<std::optional<RunState>> load(const std::string& id) override;
  Result<bool> exists(const std::string& id) override;
  Result<std::vector<Event>> events(const std::string& runId) override;
  Result<std::vector<RunSummary>> list(const RunFilter& filter) override;
  Result<std::map<RunStatus, long long>> countByStatus() override;
  Result<std::vector<std::string>> endedBefore(const std::string& workflow, TimePoint endedBefore, size_t max) override;
  Result<std::vector<std::string>> family(const std::string& runId) override;

 private:
  Db& db_;
};

class PgWorkQueue final : public WorkQueue {
 public:
  explicit PgWorkQueue(Db& db) : db_(db) {}
  Result<std::vector<WorkItem>> pending() override;
  Result<std::vector<TimerItem>> dueTimers(TimePoint now, size_t max) override;
  Result<std::optional<TimePoint>> nextTimerDue() override;

 private:
  Db& db_;
};

// On a connection of its own: a heartbeat must not wait behind a commit that waits for
// another node's (a late heartbeat is a lease lost for nothing).
class PgLeaseTable final : public LeaseTable {
 public:
  explicit PgLeaseTable(Db& db) : db_(db) {}
  Status beat(const std::string& node, const std::string& address, TimePoint now) override;
  Result<std::vector<NodeBeat>> nodes() override;
  Result<std::vector<Lease>> leases() override;
  Result<std::vector<Lease>> renew(const std::string& node, const std::vector<Lease>& held, TimePoint expiresAt) override;
  Result<std::optional<Lease>> take(int partition, uint64_t epoch, const std::string& node, TimePoint expiresAt) override;
  Status release(int partition, uint64_t epoch, const std::string& node) override;
  Status leave(const std::string& node) override;

 private:
  Db& db_;
};

class PgApprovalIndex final : public ApprovalIndex {
 public:
  explicit PgApprovalIndex(Db& db) : db_(db) {}
  Result<ApprovalPage> list(const ApprovalFilter& filter) override;
  Result<std::optional<ApprovalRow>> find(const std::string& runId, const std::string& step) override;
  Result<std::vector<ApprovalStats>> stats(TimePoint now) override;
  Result<std::vector<DecisionStats>> decisionStats(DecisionStats::By by, std::chrono::milliseconds quickWithin) override;
  Result<TimePoint> recordOpened(const std::string& runId, const std::string& step, const std::string& user,
                                 TimePoint at) override;
  Result<std::optional<TimePoint>> openedAt(const std::string& runId, const std::string& step,
                                            const std::string& user) override;

 private:
  Db& db_;
};

class PgAuditStore final : public AuditStore {
 public:
  explicit PgAuditStore(Db& db) : db_(db) {}
  Status append(const std::vector<AuditEntry>& entries) override;
  Result<std::optional<AuditCheckpoint>> checkpoint(const SigningKey& key, TimePoint now, const std::string& origin) override;
  Status addKey(const AuditKey& key, TimePoint now) override;
  Result<std::vector<AuditRecord>> records(const std::string& runId, TimePoint since, uint64_t maxSeq) override;
  Result<std::vector<merkle::Hash>> leaves(uint64_t upTo) override;
  Result<std::vector<AuditCheckpoint>> checkpoints() override;
  Result<std::vector<AuditKey>> keys() override;
  Result<AccessLogPage> accessLog(const AccessLogQuery& query) override;

 private:
  Db& db_;
};

class PgWorkflowDefinitions final : public WorkflowDefinitions {
 public:
  explicit PgWorkflowDefinitions(Db& db) : db_(db) {}
  Status put(const std::string& hash, const std::string& name, int version, const std::string& source) override;
  Result<std::string> source(const std::string& hash) override;
  Result<std::vector<Latest>> latest() override;

 private:
  Db& db_;
};

// Run transitions' writes, inside PgStore::commit's transaction, gathered to be sent in one
// pipeline. pg_runs.cpp, pg_queue.cpp, pg_approvals.cpp.
// The stored last_seq of each run the batch writes (absent: no such run), in one statement.
// What a commit checks of the stored state before it writes, read in one statement inside
// its transaction (pg_commit_check.cpp): the batch's runs' last events, the lease rows its
// fences name (share-locked: a node taking one of those partitions waits until this commit
// is over, and so reads the work it leaves), and the work and timer rows of its runs.
struct CommitState {
  std::map<std::string, long long> lastSeqs;
  std::vector<Lease> leases;  // every partition's slot; those not read have partition -1
  std::set<std::string> work, timers;  // store::workKey, store::timerKey
};
CommitState readCommitState(Conn& c, const Batch& batch);
bool continuesStoredRun(const CommitState& stored, const RunWrite& w);
// Whether the family's fence still holds and every row it consumes is still stored.
bool fenceHolds(const CommitState& stored, const RunWrite& w);
void writeRun(Writes& out, const RunWrite& w);
void writeWorkAndTimers(Writes& out, const RunWrite& w);
void writeApproval(Writes& out, const ApprovalRow& row);

}  // namespace vigil::pg
