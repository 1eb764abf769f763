// The embedded SQLite store: its concerns (sqlite_concerns.h) over shared connections, and
// the one transaction that writes a batch of run transitions or an erasure.
#include <filesystem>
#include <map>
#include <set>

#include <sqlite3.h>

#include "sqlite_approvals.h"
#include "sqlite_concerns.h"
#include "sqlite_fault_vfs.h"
#include "sqlite_queue.h"
#include "sqlite_runs.h"
#include "sqlite_schema.h"

namespace vigil {
namespace sqlite {

Db::Db(const std::string& path)
    : writer(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX, 0, faultVfsName()) {}

Status Db::open() {
  writer.exec("PRAGMA journal_mode=WAL");
  writer.exec("PRAGMA synchronous=FULL");
  writer.exec("PRAGMA foreign_keys=ON");
  writer.setBusyTimeout(5000);
  Status m = migrate(*this);
  if (!m) return m;
  chain.load(writer);
  reader = std::make_unique<SQLite::Database>(writer.getFilename(), SQLite::OPEN_READONLY | SQLite::OPEN_FULLMUTEX, 0,
                                              faultVfsName());
  reader->setBusyTimeout(5000);
  reads = std::make_unique<StatementCache>(*reader);
  return Status::ok();
}

WriteTransaction::WriteTransaction(Db& db) : db_(db) {
  db_.writer.exec("BEGIN IMMEDIATE");
  open_ = true;
  try {
    db_.chain.catchUp(db_.writer);
  } catch (...) {
    open_ = false;
    try {
      db_.writer.exec("ROLLBACK");
    } catch (const SQLite::Exception&) {
      // SQLite already rolled back: nothing is left open.
    }
    throw;
  }
}

WriteTransaction::~WriteTransaction() {
  if (!open_) return;
  try {
    db_.writer.exec("ROLLBACK");
  } catch (const SQLite::Exception&) {
    // SQLite already rolled back (a full disk, an I/O error): nothing is left open.
  }
}

void WriteTransaction::commit() {
  db_.writer.exec("COMMIT");
  open_ = false;
}

}  // namespace sqlite

namespace {

void requireChainedEvents(const RunWrite& w) {
  if (auto why = store::eventsNotChained(w)) throw SQLite::Exception(*why, SQLITE_CONSTRAINT);
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::string& path) : db_(path) {}

  Status open() {
    try {
      return db_.open();
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("cannot open the store: ") + e.what());
    }
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
      sqlite::WriteTransaction tx(db_);
      // Families whose stored history is not the one their writes continue are left out
      // whole: one run's transition can start or end another of its family.
      std::set<std::string> conflicted;
      for (const auto& w : b.runs) {
        if (!sqlite::continuesStoredRun(db_.writes, w)) conflicted.insert(runFamily(w.state->id));
      }
      const std::set<std::string> fenced = sqlite::fencedFamilies(db_.writes, b);
      db_.chain.append(db_.writer, b.audit);
      CommitReport report;
      for (const auto& w : b.runs) {
        const std::string family = runFamily(w.state->id);
        if (conflicted.count(family) != 0 || fenced.count(family) != 0) {
          report.conflicted.push_back(w.state->id);
          if (fenced.count(family) != 0) report.fenced.push_back(w.state->id);
          continue;
        }
        if (!w.events.empty() || w.created) sqlite::writeRun(db_.writes, w);
        sqlite::writeWorkAndTimers(db_.writes, w);
        for (const auto& a : w.approvals) sqlite::writeApproval(db_.writes, a);
        db_.chain.append(db_.writer, w.audit);
      }
      tx.commit();
      db_.chain.commitTail();
      return report;
    } catch (const SQLite::Exception& e) {
      db_.chain.rollbackTail();
      return Status::ioError(std::string("commit failed, nothing stored: ") + e.what());
    } catch (const std::exception& e) {  // a value that cannot be written (JSON text): the same, nothing stored
      db_.chain.rollbackTail();
      return Status::internal(std::string("commit failed, nothing stored: ") + e.what());
    }
  }

  Status erase(const Erasure& erasure) override {
    std::lock_guard lock(db_.mu);
    try {
      sqlite::WriteTransaction tx(db_);
      std::vector<AuditEntry> records;
      for (const auto& m : erasure.runs) {
        // The family's top-level run must have ended; its sub-workflow runs go with it as
        // they are (a cancelled parent does not end its children).
        auto r = db_.writes("UPDATE runs SET snapshot = ?, erased_at = ? WHERE id = ? AND erased_at IS NULL"
                            " AND (parent <> '' OR status IN ('completed', 'failed', 'cancelled'))");
        r->bind(1, m.minimalSnapshot);
        r->bind(2, static_cast<int64_t>(sqlite::ms(m.record.time)));
        r->bind(3, m.runId);
        if (r->exec() != 1) return Status::failedPrecondition("run " + m.runId + " is not an ended, unerased run; nothing erased");
        auto u = db_.writes(
            "UPDATE audit SET payload = NULL WHERE run_id = ? AND run_id <> '' AND payload IS NOT NULL AND kind <> 'erasure'");
        u->bind(1, m.runId);
        if (u->exec() != m.auditPayloads) {
          return Status::failedPrecondition("run " + m.runId + " gained audit records since its erasure was prepared; nothing erased");
        }
        auto v = db_.writes("DELETE FROM approval_views WHERE run_id = ?");
        v->bind(1, m.runId);
        v->exec();
        records.push_back(m.record);
      }
      db_.chain.append(db_.writer, records);
      tx.commit();
      db_.chain.commitTail();
      return Status::ok();
    } catch (const SQLite::Exception& e) {
      db_.chain.rollbackTail();
      return Status::ioError(std::string("erasing runs, nothing erased: ") + e.what());
    } catch (const std::exception& e) {
      db_.chain.rollbackTail();
      return Status::internal(std::string("erasing runs, nothing erased: ") + e.what());
    }
  }

  const char* kind() const override { return "sqlite"; }

  Result<std::string> integrityCheck() override {
    return db_.locked("integrity check", [&] {
      SQLite::Statement q(db_.writer, "PRAGMA integrity_check");
      std::string out;
      while (q.executeStep()) {
        if (!out.empty()) out += "; ";
        out += q.getColumn(0).getString();
      }
      return out;
    });
  }

 private:
  sqlite::Db db_;
  sqlite::SqliteRunLog runs_{db_};
  sqlite::SqliteWorkQueue work_{db_};
  sqlite::SqliteApprovalIndex approvals_{db_};
  sqlite::SqliteAuditStore audit_{db_};
  sqlite::SqliteWorkflowDefinitions workflows_{db_};
  sqlite::SqliteLeaseTable leases_{db_};
};

}  // namespace

int sqliteSchemaVersion() { return sqlite::migrations().back().version; }

Result<std::unique_ptr<Store>> openSqliteStore(const std::string& dataDir) {
  std::error_code ec;
  std::filesystem::create_directories(dataDir, ec);
  if (ec) return Status::ioError("cannot create data directory " + dataDir + ": " + ec.message());
  if (Status s = sqlite::checkExistingStore(dataDir + "/vigil.db"); !s) return s;
  try {
    auto store = std::make_unique<SqliteStore>(dataDir + "/vigil.db");
    Status s = store->open();
    if (!s) return s;
    return std::unique_ptr<Store>(std::move(store));
  } catch (const SQLite::Exception& e) {
    return Status::ioError("cannot open the store in " + dataDir + ": " + e.what());
  }
}

}  // namespace vigil
