// The audit records of a data directory, read-only, for `vigil audit verify`.
#include "sqlite_audit.h"

#include <sqlite3.h>

namespace vigil {
namespace {

class SqliteAuditSource final : public AuditSource {
 public:
  // One thread reads it: no need for SQLite's per-call mutex.
  explicit SqliteAuditSource(const std::string& path) : db_(path, SQLite::OPEN_READONLY | SQLITE_OPEN_NOMUTEX) {}

  Status forEachRecord(const std::function<bool(AuditRecord&)>& f) override {
    try {
      SQLite::Statement q(db_, std::string("SELECT ") + sqlite::kRecordColumns + " FROM audit ORDER BY seq");
      AuditRecord r;
      while (q.executeStep()) {
        sqlite::fillAuditRow(q, r);
        if (!f(r)) break;
      }
      return Status::ok();
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("reading the audit records: ") + e.what());
    }
  }
  Result<std::vector<AuditCheckpoint>> checkpoints() override {
    try {
      return sqlite::readCheckpoints(db_);
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("reading the checkpoints: ") + e.what());
    }
  }
  Result<std::vector<AuditKey>> keys() override {
    try {
      return sqlite::readAuditKeys(db_);
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("reading the audit keys: ") + e.what());
    }
  }

 private:
  SQLite::Database db_;
};

}  // namespace

Result<std::unique_ptr<AuditSource>> openSqliteAuditSource(const std::string& dataDir) {
  try {
    return std::unique_ptr<AuditSource>(std::make_unique<SqliteAuditSource>(dataDir + "/vigil.db"));
  } catch (const SQLite::Exception& e) {
    return Status::ioError("cannot open " + dataDir + "/vigil.db: " + e.what());
  }
}

}  // namespace vigil
