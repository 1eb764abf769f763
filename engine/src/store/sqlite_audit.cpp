// The audit chain in SQLite (see sqlite_audit.h and docs/AUDIT.md).
#include "sqlite_audit.h"

#include <sqlite3.h>

#include <algorithm>
#include <limits>

namespace vigil::sqlite {
namespace {

TimePoint fromMs(long long v) { return TimePoint(std::chrono::milliseconds(v)); }


AuditCheckpoint readCheckpoint(SQLite::Statement& q) {
  AuditCheckpoint c;
  c.size = static_cast<uint64_t>(q.getColumn(0).getInt64());
  c.root = q.getColumn(1).getString();
  c.head = q.getColumn(2).getString();
  c.time = fromMs(q.getColumn(3).getInt64());
  c.keyId = q.getColumn(4).getString();
  c.signature = q.getColumn(5).getString();
  Json f = Json::parse(q.getColumn(6).getString(), nullptr, false);
  if (f.is_array()) {
    for (const auto& h : f) {
      if (h.is_string()) c.frontier.push_back(h.get<std::string>());
    }
  }
  if (q.getColumnCount() > 7 && !q.getColumn(7).isNull()) c.note = q.getColumn(7).getString();
  return c;
}

}  // namespace

void fillAuditRow(SQLite::Statement& q, AuditRecord& r) {
  auto text = [&q](int i, std::string& into) {
    SQLite::Column c = q.getColumn(i);
    into.assign(static_cast<const char*>(c.getBlob()), static_cast<size_t>(c.getBytes()));
  };
  r.seq = static_cast<uint64_t>(q.getColumn(0).getInt64());
  r.entry.time = fromMs(q.getColumn(1).getInt64());
  text(2, r.entry.kind);
  text(3, r.entry.actor);
  text(4, r.entry.runId);
  text(5, r.entry.step);
  text(6, r.entry.subject);
  text(7, r.entry.system);
  text(8, r.entry.purpose);
  text(9, r.entry.recipient);
  if (q.getColumn(10).isNull()) {
    r.payloadText.reset();
  } else {
    if (!r.payloadText) r.payloadText.emplace();
    text(10, *r.payloadText);
  }
  text(11, r.payloadHash);
  text(12, r.prev);
  text(13, r.hash);
}

AuditRecord readAuditRow(SQLite::Statement& q) {
  AuditRecord r;
  fillAuditRow(q, r);
  return r;
}

// Runs during migrations too (before schema 9 added `note`), so it reads only what it needs.
void AuditLog::load(SQLite::Database& db) {
  // Loaded again after an upgrade moved history into the chain: start from nothing.
  std::optional<AuditCheckpoint> latest;
  {
    SQLite::Statement q(db, "SELECT size, root, head, time, key_id, signature, frontier FROM audit_checkpoints ORDER BY size DESC LIMIT 1");
    if (q.executeStep()) latest = readCheckpoint(q);
  }
  head_.resume(latest);
  catchUp(db);  // the records after the checkpoint
}

void AuditLog::append(SQLite::Database& db, const std::vector<AuditEntry>& entries) {
  if (entries.empty()) return;
  if (!insert_) {
    insert_ = std::make_unique<SQLite::Statement>(
        db, std::string("INSERT INTO audit(") + kRecordColumns + ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  }
  for (const auto& original : entries) {
    store::ChainHead::Sealed r = head_.seal(original);
    const AuditEntry& e = r.entry(original);
    auto& q = *insert_;
    q.reset();
    q.clearBindings();
    q.bind(1, static_cast<int64_t>(r.seq));
    q.bind(2, static_cast<int64_t>(e.time.time_since_epoch().count()));
    q.bind(3, e.kind);
    q.bind(4, e.actor);
    q.bind(5, e.runId);
    q.bind(6, e.step);
    q.bind(7, e.subject);
    q.bind(8, e.system);
    q.bind(9, e.purpose);
    q.bind(10, e.recipient);
    q.bindNoCopy(11, r.seal.payloadText);
    q.bindNoCopy(12, r.seal.payloadHash);
    q.bindNoCopy(13, r.prev);
    q.bindNoCopy(14, r.hash);
    q.exec();
  }
}

void AuditLog::catchUp(SQLite::Database& db) {
  // A failed step leaves its error for reset() to raise again: prepare afresh instead.
  if (after_ && after_->tryReset() != SQLITE_OK) after_.reset();
  if (!after_) after_ = std::make_unique<SQLite::Statement>(db, "SELECT seq, hash FROM audit WHERE seq > ? ORDER BY seq");
  SQLite::Statement& q = *after_;
  q.bind(1, static_cast<int64_t>(head_.size()));
  while (q.executeStep()) {
    if (!head_.take(static_cast<uint64_t>(q.getColumn(0).getInt64()), q.getColumn(1).getString())) {
      throw SQLite::Exception("audit record " + q.getColumn(0).getString() + " has a damaged hash", SQLITE_CORRUPT);
    }
  }
  q.tryReset();
}

void AuditLog::commitTail() { head_.commitTail(); }

void AuditLog::rollbackTail() {
  head_.rollbackTail();
  insert_.reset();  // reset() would rethrow the failed step's error; prepare afresh instead
}

std::optional<AuditCheckpoint> AuditLog::checkpoint(SQLite::Database& db, const SigningKey& key, TimePoint now,
                                                    const std::string& origin) {
  SQLite::Statement last(db, "SELECT max(size) FROM audit_checkpoints");
  if (last.executeStep() && !last.getColumn(0).isNull() && static_cast<uint64_t>(last.getColumn(0).getInt64()) >= size()) {
    return std::nullopt;
  }
  if (size() == 0) return std::nullopt;
  AuditCheckpoint c = signCheckpoint(size(), merkle::toHex(head_.tree().root()), head(), now, origin, key);
  Json frontier = Json::array();
  for (const auto& h : head_.tree().frontier()) {
    frontier.push_back(merkle::toHex(h));
    c.frontier.push_back(merkle::toHex(h));
  }
  SQLite::Statement q(db, "INSERT INTO audit_checkpoints(size, root, head, time, key_id, signature, frontier, note) "
                          "VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, static_cast<int64_t>(c.size));
  q.bind(2, c.root);
  q.bind(3, c.head);
  q.bind(4, static_cast<int64_t>(now.time_since_epoch().count()));
  q.bind(5, c.keyId);
  q.bind(6, c.signature);
  q.bind(7, frontier.dump());
  q.bind(8, c.note);
  q.exec();
  return c;
}

void AuditLog::addKey(SQLite::Database& db, const AuditKey& key, TimePoint now) {
  SQLite::Statement q(db, "INSERT OR IGNORE INTO audit_keys(key_id, public_pem, added_at) VALUES(?, ?, ?)");
  q.bind(1, key.keyId);
  q.bind(2, key.publicPem);
  q.bind(3, static_cast<int64_t>(now.time_since_epoch().count()));
  q.exec();
}

std::vector<AuditRecord> readAuditRecords(SQLite::Database& db, const std::string& runId, TimePoint since, uint64_t maxSeq) {
  std::string sql = std::string("SELECT ") + kRecordColumns + " FROM audit WHERE seq <= ?";
  // A run's records from `since`; or every record from the first at or after `since`, so
  // that what is read is one unbroken range of the chain.
  sql += runId.empty() ? " AND seq >= ifnull((SELECT min(seq) FROM audit WHERE time >= ?), 9223372036854775807)"
                       : " AND time >= ? AND (run_id = ? OR run_id LIKE ? ESCAPE '\\')";
  sql += " ORDER BY seq";
  SQLite::Statement q(db, sql);
  // SQLite's integers are signed: a larger bound means "every record".
  q.bind(1, static_cast<int64_t>(std::min<uint64_t>(maxSeq, std::numeric_limits<int64_t>::max())));
  q.bind(2, static_cast<int64_t>(since.time_since_epoch().count()));
  if (!runId.empty()) {
    q.bind(3, runId);
    std::string like;
    for (char c : runId) {
      if (c == '%' || c == '_' || c == '\\') like += '\\';
      like += c;
    }
    q.bind(4, like + ".%");  // its sub-workflow runs
  }
  std::vector<AuditRecord> out;
  while (q.executeStep()) out.push_back(readAuditRow(q));
  return out;
}

std::vector<merkle::Hash> readAuditLeaves(SQLite::Database& db, uint64_t upTo) {
  SQLite::Statement q(db, "SELECT hash FROM audit WHERE seq <= ? ORDER BY seq");
  q.bind(1, static_cast<int64_t>(upTo));
  std::vector<merkle::Hash> out;
  out.reserve(upTo);
  while (q.executeStep()) out.push_back(merkle::fromHex(q.getColumn(0).getString()).value_or(merkle::Hash{}));
  return out;
}

std::vector<AuditCheckpoint> readCheckpoints(SQLite::Database& db) {
  SQLite::Statement q(db, "SELECT size, root, head, time, key_id, signature, frontier, note FROM audit_checkpoints ORDER BY size");
  std::vector<AuditCheckpoint> out;
  while (q.executeStep()) out.push_back(readCheckpoint(q));
  return out;
}

AccessLogPage readAccessLog(SQLite::Database& db, const AccessLogQuery& query) {
  // The kinds term is written as the partial indexes audit_access and audit_access_actor
  // (schema 11) declare it, and `run_id <> ''` as audit_run does, so that SQLite may use
  // them: without, a rare person or an old day was a scan of every record and its payload.
  std::string sql = "SELECT seq, time, kind, actor, run_id, step, subject, system, purpose, recipient FROM audit "
                    "WHERE kind IN ('consultation', 'disclosure')";
  if (!query.actor.empty()) sql += " AND actor = :actor";
  if (!query.runId.empty()) sql += " AND run_id = :run AND run_id <> ''";
  if (query.from) sql += " AND time >= :from";
  if (query.to) sql += " AND time < :to";
  if (query.before > 0) sql += " AND seq < :before";
  sql += " ORDER BY seq DESC LIMIT :limit";
  SQLite::Statement q(db, sql);
  if (!query.actor.empty()) q.bind(":actor", query.actor);
  if (!query.runId.empty()) q.bind(":run", query.runId);
  if (query.from) q.bind(":from", static_cast<int64_t>(query.from->time_since_epoch().count()));
  if (query.to) q.bind(":to", static_cast<int64_t>(query.to->time_since_epoch().count()));
  if (query.before > 0) q.bind(":before", static_cast<int64_t>(query.before));
  q.bind(":limit", static_cast<int64_t>(query.limit) + 1);  // one more: whether an older page exists
  AccessLogPage page;
  while (q.executeStep()) {
    if (page.records.size() == query.limit) {
      page.next = page.records.back().first;
      break;
    }
    AuditEntry e;
    e.time = fromMs(q.getColumn(1).getInt64());
    e.kind = q.getColumn(2).getString();
    e.actor = q.getColumn(3).getString();
    e.runId = q.getColumn(4).getString();
    e.step = q.getColumn(5).getString();
    e.subject = q.getColumn(6).getString();
    e.system = q.getColumn(7).getString();
    e.purpose = q.getColumn(8).getString();
    e.recipient = q.getColumn(9).getString();
    page.records.emplace_back(static_cast<uint64_t>(q.getColumn(0).getInt64()), std::move(e));
  }
  return page;
}

std::vector<AuditKey> readAuditKeys(SQLite::Database& db) {
  SQLite::Statement q(db, "SELECT key_id, public_pem FROM audit_keys ORDER BY added_at");
  std::vector<AuditKey> out;
  while (q.executeStep()) out.push_back(AuditKey{q.getColumn(0).getString(), q.getColumn(1).getString()});
  return out;
}

}  // namespace vigil::sqlite
