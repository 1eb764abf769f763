// The audit trail's contract (AuditStore) over the SQLite chain (sqlite_audit.cpp).
#include "sqlite_concerns.h"

namespace vigil::sqlite {

Status SqliteAuditStore::append(const std::vector<AuditEntry>& entries) {
  std::lock_guard lock(db_.mu);
  try {
    WriteTransaction tx(db_);
    db_.chain.append(db_.writer, entries);
    tx.commit();
    db_.chain.commitTail();
    return Status::ok();
  } catch (const SQLite::Exception& e) {
    db_.chain.rollbackTail();
    return Status::ioError(std::string("appending to the audit trail, nothing stored: ") + e.what());
  } catch (const std::exception& e) {
    db_.chain.rollbackTail();
    return Status::internal(std::string("appending to the audit trail, nothing stored: ") + e.what());
  }
}

Result<std::optional<AuditCheckpoint>> SqliteAuditStore::checkpoint(const SigningKey& key, TimePoint now,
                                                                    const std::string& origin) {
  return db_.locked("signing an audit checkpoint", [&] {
    db_.chain.catchUp(db_.writer);
    return db_.chain.checkpoint(db_.writer, key, now, origin);
  });
}

Status SqliteAuditStore::addKey(const AuditKey& key, TimePoint now) {
  return db_
      .locked("recording an audit key",
              [&] {
                db_.chain.addKey(db_.writer, key, now);
                return true;
              })
      .status();
}

Result<std::vector<AuditRecord>> SqliteAuditStore::records(const std::string& runId, TimePoint since, uint64_t maxSeq) {
  return db_.locked("reading audit records", [&] { return readAuditRecords(db_.writer, runId, since, maxSeq); });
}
Result<std::vector<merkle::Hash>> SqliteAuditStore::leaves(uint64_t upTo) {
  return db_.locked("reading audit hashes", [&] { return readAuditLeaves(db_.writer, upTo); });
}
Result<std::vector<AuditCheckpoint>> SqliteAuditStore::checkpoints() {
  return db_.locked("reading audit checkpoints", [&] { return readCheckpoints(db_.writer); });
}
Result<AccessLogPage> SqliteAuditStore::accessLog(const AccessLogQuery& query) {
  if (Status s = checkAccessLogLimit(query); !s) return s;
  return db_.reading("reading the access log", [&] { return readAccessLog(*db_.reader, query); });
}
Result<std::vector<AuditKey>> SqliteAuditStore::keys() {
  return db_.locked("reading audit keys", [&] { return readAuditKeys(db_.writer); });
}

}  // namespace vigil::sqlite
