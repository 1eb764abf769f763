// The PostgreSQL store: its concerns (pg_concerns.h) over shared connections, and the one
// transaction that writes a batch of run transitions or an erasure. Several processes may
// share one database: each commit holds the audit chain's head row, so they take turns and
// a family another process moved on is reported as conflicted, as with SQLite.
#include <set>

#include "pg_concerns.h"
#include "pg_schema.h"

namespace vigil {
namespace {

void requireChainedEvents(const RunWrite& w) {
  if (auto why = store::eventsNotChained(w)) throw pg::Error(*why, "");
}

class PgStore final : public Store {
 public:
  PgStore(const std::string& conninfo, const std::string& password) : db_(conninfo, password) {}

  void open(bool upgrade) {
    pg::migrate(*db_.writer, upgrade);
    pg::loadChain(*db_.writer, db_.chain);
  }

  RunLog& runs() override { return runs_; }
  WorkQueue& work() override { return work_; }
  ApprovalIndex& approvals() override { return approvals_; }
  AuditStore& audit() override { return audit_; }
  WorkflowDefinitions& workflows() override { return workflows_; }
  LeaseTable& leases() override { return leases_; }

  Result<CommitReport> commit(const Batch& b) override {
    std::lock_guard lock(db_.mu);
    try {
      for (const auto& w : b.runs) requireChainedEvents(w);
      pg::WriteTransaction tx(db_);
      // Families whose stored history is not the one their writes continue are left out
      // whole: one run's transition can start or end another of its family.
      const pg::CommitState stored = pg::readCommitState(*db_.writer, b);
      std::set<std::string> conflicted, fenced;
      for (const auto& w : b.runs) {
        if (!pg::continuesStoredRun(stored, w)) conflicted.insert(runFamily(w.state->id));
        if (!pg::fenceHolds(stored, w)) fenced.insert(runFamily(w.state->id));
      }
      pg::Writes writes;
      pg::appendAudit(writes, db_.chain, b.audit);
      CommitReport report;
      for (const auto& w : b.runs) {
        const std::string family = runFamily(w.state->id);
        if (conflicted.count(family) != 0 || fenced.count(family) != 0) {
          report.conflicted.push_back(w.state->id);
          if (fenced.count(family) != 0) report.fenced.push_back(w.state->id);
          continue;
        }
        if (!w.events.empty() || w.created) pg::writeRun(writes, w);
        pg::writeWorkAndTimers(writes, w);
        for (const auto& a : w.approvals) pg::writeApproval(writes, a);
        pg::appendAudit(writes, db_.chain, w.audit);
      }
      tx.commit(std::move(writes));
      db_.chain.commitTail();
      return report;
    } catch (const pg::Error& e) {
      db_.chain.rollbackTail();
      return pg::writeFailed("commit failed", "nothing stored", e);
    } catch (const std::exception& e) {  // a value that cannot be written (JSON text): the same, nothing stored
      db_.chain.rollbackTail();
      return Status::internal(std::string("commit failed, nothing stored: ") + e.what());
    }
  }

  Status erase(const Erasure& erasure) override {
    std::lock_guard lock(db_.mu);
    try {
      pg::WriteTransaction tx(db_);
      pg::Conn& c = *db_.writer;
      std::vector<AuditEntry> records;
      for (const auto& m : erasure.runs) {
        // The family's top-level run must have ended; its sub-workflow runs go with it as
        // they are (a cancelled parent does not end its children).
        pg::Rows r = c.exec("UPDATE runs SET snapshot = $1, erased_at = $2 WHERE id = $3 AND erased_at IS NULL"
                            " AND (parent <> '' OR status IN ('completed', 'failed', 'cancelled'))",
                            pg::Params().text(m.minimalSnapshot).time(m.record.time).text(m.runId));
        if (r.affected() != 1) return Status::failedPrecondition("run " + m.runId + " is not an ended, unerased run; nothing erased");
        pg::Rows u = c.exec(
            "UPDATE audit SET payload = NULL WHERE run_id = $1 AND run_id <> '' AND payload IS NOT NULL AND kind <> 'erasure'",
            pg::Params().text(m.runId));
        if (u.affected() != m.auditPayloads) {
          return Status::failedPrecondition("run " + m.runId + " gained audit records since its erasure was prepared; nothing erased");
        }
        c.exec("DELETE FROM approval_views WHERE run_id = $1", pg::Params().text(m.runId));
        records.push_back(m.record);
      }
      pg::Writes writes;
      pg::appendAudit(writes, db_.chain, records);
      tx.commit(std::move(writes));
      db_.chain.commitTail();
      return Status::ok();
    } catch (const pg::Error& e) {
      db_.chain.rollbackTail();
      return pg::writeFailed("erasing runs failed", "nothing erased", e);
    } catch (const std::exception& e) {
      db_.chain.rollbackTail();
      return Status::internal(std::string("erasing runs, nothing erased: ") + e.what());
    }
  }

  const char* kind() const override { return "postgres"; }

  // PostgreSQL checks its own pages; what this checks is what the store relies on: the chain
  // is numbered without a gap and its head row is its last record.
  Result<std::string> integrityCheck() override {
    return db_.reading("integrity check", [&] {
      pg::Rows r = db_.reader->exec(
          "SELECT (SELECT count(*) FROM audit), (SELECT coalesce(max(seq), 0) FROM audit), h.size,"
          " h.head = coalesce((SELECT hash FROM audit WHERE seq = h.size), h.head) FROM audit_head h WHERE h.id = 1");
      if (r.size() != 1) return std::string("the audit chain's head row is missing");
      if (r.i64(0, 0) != r.i64(0, 1)) return "the audit records are numbered with gaps: " + r.text(0, 0) + " records up to " + r.text(0, 1);
      if (r.i64(0, 2) != r.i64(0, 1) || r.text(0, 3) != "t") return std::string("the audit chain's head row is not its last record");
      return std::string("ok");
    });
  }

 private:
  pg::Db db_;
  pg::PgRunLog runs_{db_};
  pg::PgWorkQueue work_{db_};
  pg::PgApprovalIndex approvals_{db_};
  pg::PgAuditStore audit_{db_};
  pg::PgWorkflowDefinitions workflows_{db_};
  pg::PgLeaseTable leases_{db_};
};

}  // namespace

int postgresSchemaVersion() { return pg::migrations().back().version; }

Result<std::unique_ptr<Store>> openPostgresStore(const std::string& conninfo, const std::string& password, bool upgrade) {
  if (Status s = pg::checkStoreConninfo(conninfo); !s) return s;
  try {
    auto store = std::make_unique<PgStore>(conninfo, password);
    store->open(upgrade);
    return std::unique_ptr<Store>(std::move(store));
  } catch (const pg::Error& e) {
    return Status::ioError(std::string("cannot open the PostgreSQL store: ") + e.what());
  }
}

}  // namespace vigil
