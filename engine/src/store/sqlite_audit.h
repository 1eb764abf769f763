// Internal: the audit chain in SQLite. The writer keeps the chain's head and the Merkle
// tree's frontier in memory, so appending is one INSERT and a hash; every method is
// called with the store's lock held, inside or outside the store's transaction.
#pragma once

#include <memory>

#include <SQLiteCpp/SQLiteCpp.h>

#include "chain_head.h"
#include "vigil/audit.h"
#include "vigil/signing.h"

namespace vigil::sqlite {

class AuditLog {
 public:
  // Reads the head and resumes the tree from the latest checkpoint.
  void load(SQLite::Database& db);
  // Takes in the records another connection appended since (none, nearly always: one index
  // probe). Called at the start of every write transaction, once it holds the write lock,
  // so that two writers on one file extend one chain rather than fork it.
  void catchUp(SQLite::Database& db);

  // Seals and inserts entries after the head. Call commitTail() once the transaction has
  // committed, or rollbackTail() if it failed, so memory matches the file.
  void append(SQLite::Database& db, const std::vector<AuditEntry>& entries);
  void commitTail();
  void rollbackTail();

  // Signs the current head, as the log named `origin`, if it moved since the last checkpoint.
  std::optional<AuditCheckpoint> checkpoint(SQLite::Database& db, const SigningKey& key, TimePoint now,
                                            const std::string& origin);
  void addKey(SQLite::Database& db, const AuditKey& key, TimePoint now);

  uint64_t size() const { return head_.size(); }
  const std::string& head() const { return head_.head(); }

 private:
  std::unique_ptr<SQLite::Statement> insert_;
  std::unique_ptr<SQLite::Statement> after_;  // catchUp's
  store::ChainHead head_;
};

// Reading back, for export and verification.
std::vector<AuditRecord> readAuditRecords(SQLite::Database& db, const std::string& runId, TimePoint since, uint64_t maxSeq);
std::vector<merkle::Hash> readAuditLeaves(SQLite::Database& db, uint64_t upTo);
std::vector<AuditCheckpoint> readCheckpoints(SQLite::Database& db);
std::vector<AuditKey> readAuditKeys(SQLite::Database& db);
// One page of the access log (the query's limit already checked).
AccessLogPage readAccessLog(SQLite::Database& db, const AccessLogQuery& query);
AuditRecord readAuditRow(SQLite::Statement& q);  // columns as kRecordColumns
// The same into an existing record, reusing its strings' memory (verification reads millions).
void fillAuditRow(SQLite::Statement& q, AuditRecord& r);
inline constexpr const char* kRecordColumns =
    "seq, time, kind, actor, run_id, step, subject, system, purpose, recipient, payload, payload_hash, prev, hash";

}  // namespace vigil::sqlite
