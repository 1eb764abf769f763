// Internal: the SQLite store's concerns, each the contract of its vigil/store/*.h over the
// connections they share (Db). Writes that belong to a run transition are not here: they
// are made by SqliteStore::commit (sqlite_runs.h, sqlite_queue.h, sqlite_approvals.h).
#pragma once

#include <set>

#include "sqlite_db.h"
#include "vigil/store.h"

namespace vigil::sqlite {

class SqliteRunLog final : public RunLog {
 public:
  explicit SqliteRunLog(Db& db) : db_(db) {}
  Result<std::optional<RunState>> load(const std::string& id) override;
  Result<bool> exists(const std::string& id) override;
  Result<std::vector<Event>> events(const std::string& runId) override;
  Result<std::vector<RunSummary>> list(const RunFilter& filter) override;
  Result<std::map<RunStatus, long long>> countByStatus() override;
  Result<std::vector<std::string>> endedBefore(const std::string& workflow, TimePoint endedBefore, size_t max) override;
  Result<std::vector<std::string>> family(const std::string& runId) override;

 private:
  Result<std::optional<RunState>> readRun(const std::string& id, std::vector<Event>* events);
  Db& db_;
};

class SqliteWorkQueue final : public WorkQueue {
 public:
  explicit SqliteWorkQueue(Db& db) : db_(db) {}
  Result<std::vector<WorkItem>> pending() override;
  Result<std::vector<TimerItem>> dueTimers(TimePoint now, size_t max) override;
  Result<std::optional<TimePoint>> nextTimerDue() override;

 private:
  Db& db_;
};

class SqliteLeaseTable final : public LeaseTable {
 public:
  explicit SqliteLeaseTable(Db& db) : db_(db) {}
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
// The families of `b` whose fence the stored leases no longer give, or that consume a work
// or timer row no longer stored (sqlite_leases.cpp).
std::set<std::string> fencedFamilies(StatementCache& writes, const Batch& b);

class SqliteApprovalIndex final : public ApprovalIndex {
 public:
  explicit SqliteApprovalIndex(Db& db) : db_(db) {}
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

class SqliteAuditStore final : public AuditStore {
 public:
  explicit SqliteAuditStore(Db& db) : db_(db) {}
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

class SqliteWorkflowDefinitions final : public WorkflowDefinitions {
 public:
  explicit SqliteWorkflowDefinitions(Db& db) : db_(db) {}
  Status put(const std::string& hash, const std::string& name, int version, const std::string& source) override;
  Result<std::string> source(const std::string& hash) override;
  Result<std::vector<Latest>> latest() override;

 private:
  Db& db_;
};

}  // namespace vigil::sqlite
