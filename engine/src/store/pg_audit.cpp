// The audit chain in PostgreSQL (docs/AUDIT.md): the same records and checkpoints as the
// SQLite store's, appended in turn by every node under the audit_head row lock.
#include <algorithm>
#include <limits>

#include "pg_concerns.h"

namespace vigil::pg {
namespace {

constexpr const char* kRecordColumns =
    "seq, time, kind, actor, run_id, step, subject, system, purpose, recipient, payload, payload_hash, prev, hash";
constexpr const char* kCheckpointColumns = "size, root, head, time, key_id, signature, frontier, note";

AuditRecord recordAt(const Rows& r, int i) {
  AuditRecord a;
  a.seq = static_cast<uint64_t>(r.i64(i, 0));
  a.entry.time = r.time(i, 1);
  a.entry.kind = r.text(i, 2);
  a.entry.actor = r.text(i, 3);
  a.entry.runId = r.text(i, 4);
  a.entry.step = r.text(i, 5);
  a.entry.subject = r.text(i, 6);
  a.entry.system = r.text(i, 7);
  a.entry.purpose = r.text(i, 8);
  a.entry.recipient = r.text(i, 9);
  if (!r.null(i, 10)) a.payloadText = r.text(i, 10);
  a.payloadHash = r.text(i, 11);
  a.prev = r.text(i, 12);
  a.hash = r.text(i, 13);
  return a;
}

AuditCheckpoint checkpointAt(const Rows& r, int i) {
  AuditCheckpoint c;
  c.size = static_cast<uint64_t>(r.i64(i, 0));
  c.root = r.text(i, 1);
  c.head = r.text(i, 2);
  c.time = r.time(i, 3);
  c.keyId = r.text(i, 4);
  c.signature = r.text(i, 5);
  Json f = Json::parse(r.text(i, 6), nullptr, false);
  if (f.is_array()) {
    for (const auto& h : f) {
      if (h.is_string()) c.frontier.push_back(h.get<std::string>());
    }
  }
  if (!r.null(i, 7)) c.note = r.text(i, 7);
  return c;
}

// The records other writers appended after the chain's head.
void catchUp(Conn& c, store::ChainHead& chain) {
  Rows r = c.exec("SELECT seq, hash FROM audit WHERE seq > $1 ORDER BY seq", Params().i64(static_cast<long long>(chain.size())));
  for (int i = 0; i < r.size(); ++i) {
    if (!chain.take(static_cast<uint64_t>(r.i64(i, 0)), r.text(i, 1))) {
      throw Error("audit record " + r.text(i, 0) + " has a damaged hash", "");
    }
  }
}

}  // namespace

void loadChain(Conn& c, store::ChainHead& chain) {
  std::optional<AuditCheckpoint> latest;
  Rows r = c.exec(std::string("SELECT ") + kCheckpointColumns + " FROM audit_checkpoints ORDER BY size DESC LIMIT 1");
  if (r.size() > 0) latest = checkpointAt(r, 0);
  chain.resume(latest);
  catchUp(c, chain);
}

void appendAudit(Writes& out, store::ChainHead& chain, const std::vector<AuditEntry>& entries) {
  static const std::string kInsert = std::string("INSERT INTO audit(") + kRecordColumns +
                                     ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
  for (const auto& original : entries) {
    store::ChainHead::Sealed s = chain.seal(original);
    const AuditEntry& e = s.entry(original);
    out.add(kInsert, Params()
                        .i64(static_cast<long long>(s.seq))
                        .time(e.time)
                        .text(e.kind)
                        .text(e.actor)
                        .text(e.runId)
                        .text(e.step)
                        .text(e.subject)
                        .text(e.system)
                        .text(e.purpose)
                        .text(e.recipient)
                        .text(std::move(s.seal.payloadText))
                        .text(std::move(s.seal.payloadHash))
                        .text(std::move(s.prev))
                        .text(std::move(s.hash)));
  }
}

WriteTransaction::WriteTransaction(Db& db) : db_(db) {
  open_ = true;
  try {
    // BEGIN and the lock in one round trip. READ COMMITTED whatever the server's default:
    // the head row's lock is what orders writers, and each statement after it must see what
    // the writer before committed (under REPEATABLE READ the conflict check would read the
    // snapshot taken before the lock was granted).
    Rows h = db_.writer->simple("BEGIN ISOLATION LEVEL READ COMMITTED; SELECT size, head FROM audit_head WHERE id = 1 FOR UPDATE");
    if (h.size() != 1) throw Error("the audit chain's head row is missing", "");
    const auto size = static_cast<uint64_t>(h.i64(0, 0));
    if (size != db_.chain.size()) catchUp(*db_.writer, db_.chain);
    if (db_.chain.size() != size || db_.chain.head() != h.text(0, 1)) {
      throw Error("the audit chain's head row disagrees with its records", "");
    }
  } catch (...) {
    open_ = false;
    try {
      db_.writer->run("ROLLBACK");
    } catch (const Error&) {
      // The connection is gone: so is the transaction.
    }
    throw;
  }
}

WriteTransaction::~WriteTransaction() {
  if (!open_) return;
  try {
    db_.writer->run("ROLLBACK");
  } catch (const Error&) {
    // The connection is gone: so is the transaction.
  }
}

void WriteTransaction::commit(Writes writes) {
  if (db_.chain.tailSize() != db_.chain.size()) {
    writes.add("UPDATE audit_head SET size = $1, head = $2 WHERE id = 1",
               Params().i64(static_cast<long long>(db_.chain.tailSize())).text(db_.chain.tailHead()));
  }
  if (!writes.empty()) db_.writer->pipeline(writes);
  open_ = false;
  db_.writer->run("COMMIT");
}

Status PgAuditStore::append(const std::vector<AuditEntry>& entries) {
  std::lock_guard lock(db_.mu);
  try {
    WriteTransaction tx(db_);
    Writes writes;
    appendAudit(writes, db_.chain, entries);
    tx.commit(std::move(writes));
    db_.chain.commitTail();
    return Status::ok();
  } catch (const Error& e) {
    db_.chain.rollbackTail();
    return writeFailed("appending to the audit trail failed", "nothing stored", e);
  } catch (const std::exception& e) {
    db_.chain.rollbackTail();
    return Status::internal(std::string("appending to the audit trail, nothing stored: ") + e.what());
  }
}

Result<std::optional<AuditCheckpoint>> PgAuditStore::checkpoint(const SigningKey& key, TimePoint now,
                                                                const std::string& origin) {
  return db_.locked("signing an audit checkpoint", [&]() -> std::optional<AuditCheckpoint> {
    // Under the head's lock: the head signed is the one stored, whoever appended it.
    WriteTransaction tx(db_);
    const store::ChainHead& chain = db_.chain;
    Rows last = db_.writer->exec("SELECT max(size) FROM audit_checkpoints");
    if (chain.size() == 0 || (!last.null(0, 0) && static_cast<uint64_t>(last.i64(0, 0)) >= chain.size())) {
      return std::nullopt;
    }
    AuditCheckpoint c = signCheckpoint(chain.size(), merkle::toHex(chain.tree().root()), chain.head(), now, origin, key);
    Json frontier = Json::array();
    for (const auto& h : chain.tree().frontier()) {
      frontier.push_back(merkle::toHex(h));
      c.frontier.push_back(merkle::toHex(h));
    }
    db_.writer->exec(std::string("INSERT INTO audit_checkpoints(") + kCheckpointColumns +
                         ") VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
                     Params()
                         .i64(static_cast<long long>(c.size))
                         .text(c.root)
                         .text(c.head)
                         .time(now)
                         .text(c.keyId)
                         .text(c.signature)
                         .text(frontier.dump())
                         .text(c.note));
    tx.commit();
    return c;
  });
}

Status PgAuditStore::addKey(const AuditKey& key, TimePoint now) {
  return db_
      .locked("recording an audit key",
              [&] {
                db_.writer->exec(
                    "INSERT INTO audit_keys(key_id, public_pem, added_at) VALUES($1, $2, $3) ON CONFLICT DO NOTHING",
                    Params().text(key.keyId).text(key.publicPem).time(now));
                return true;
              })
      .status();
}

Result<std::vector<AuditRecord>> PgAuditStore::records(const std::string& runId, TimePoint since, uint64_t maxSeq) {
  return db_.reading("reading audit records", [&] {
    const auto upTo = static_cast<long long>(std::min<uint64_t>(maxSeq, std::numeric_limits<int64_t>::max()));
    Params p;
    p.i64(upTo).time(since);
    std::string sql = std::string("SELECT ") + kRecordColumns + " FROM audit WHERE seq <= $1";
    // A run's records from `since`; or every record from the first at or after `since`, so
    // that what is read is one unbroken range of the chain.
    if (runId.empty()) {
      sql += " AND seq >= coalesce((SELECT min(seq) FROM audit WHERE time >= $2), 9223372036854775807)";
    } else {
      sql += " AND time >= $2 AND run_id <> '' AND (run_id = $3 OR run_id LIKE $4)";
      p.text(runId).text(likeEscaped(runId) + ".%");
    }
    Rows r = db_.reader->exec(sql + " ORDER BY seq", p);
    std::vector<AuditRecord> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) out.push_back(recordAt(r, i));
    return out;
  });
}

Result<std::vector<merkle::Hash>> PgAuditStore::leaves(uint64_t upTo) {
  return db_.reading("reading audit hashes", [&] {
    const auto n = static_cast<long long>(std::min<uint64_t>(upTo, std::numeric_limits<int64_t>::max()));
    Rows r = db_.reader->exec("SELECT hash FROM audit WHERE seq <= $1 ORDER BY seq", Params().i64(n));
    std::vector<merkle::Hash> out;
    out.reserve(static_cast<size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) out.push_back(merkle::fromHex(r.text(i, 0)).value_or(merkle::Hash{}));
    return out;
  });
}

Result<std::vector<AuditCheckpoint>> PgAuditStore::checkpoints() {
  return db_.reading("reading audit checkpoints", [&] {
    Rows r = db_.reader->exec(std::string("SELECT ") + kCheckpointColumns + " FROM audit_checkpoints ORDER BY size");
    std::vector<AuditCheckpoint> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(checkpointAt(r, i));
    return out;
  });
}

Result<AccessLogPage> PgAuditStore::accessLog(const AccessLogQuery& query) {
  if (Status s = checkAccessLogLimit(query); !s) return s;
  return db_.reading("reading the access log", [&] {
    // The kinds term is the one the partial indexes audit_access(_actor) declare.
    Params p;
    auto next = [&p] { return "$" + std::to_string(p.size()); };
    std::string sql = "SELECT seq, time, kind, actor, run_id, step, subject, system, purpose, recipient FROM audit"
                      " WHERE kind IN ('consultation', 'disclosure')";
    if (!query.actor.empty()) {
      p.text(query.actor);
      sql += " AND actor = " + next();
    }
    if (!query.runId.empty()) {
      p.text(query.runId);
      sql += " AND run_id = " + next() + " AND run_id <> ''";
    }
    if (query.from) {
      p.time(*query.from);
      sql += " AND time >= " + next();
    }
    if (query.to) {
      p.time(*query.to);
      sql += " AND time < " + next();
    }
    if (query.before > 0) {
      p.i64(static_cast<long long>(std::min<uint64_t>(query.before, std::numeric_limits<int64_t>::max())));
      sql += " AND seq < " + next();
    }
    p.i64(static_cast<long long>(query.limit) + 1);  // one more: whether an older page exists
    sql += " ORDER BY seq DESC LIMIT " + next();
    Rows r = db_.reader->exec(sql, p);
    AccessLogPage page;
    for (int i = 0; i < r.size(); ++i) {
      if (page.records.size() == query.limit) {
        page.next = page.records.back().first;
        break;
      }
      AuditEntry e;
      e.time = r.time(i, 1);
      e.kind = r.text(i, 2);
      e.actor = r.text(i, 3);
      e.runId = r.text(i, 4);
      e.step = r.text(i, 5);
      e.subject = r.text(i, 6);
      e.system = r.text(i, 7);
      e.purpose = r.text(i, 8);
      e.recipient = r.text(i, 9);
      page.records.emplace_back(static_cast<uint64_t>(r.i64(i, 0)), std::move(e));
    }
    return page;
  });
}

Result<std::vector<AuditKey>> PgAuditStore::keys() {
  return db_.reading("reading audit keys", [&] {
    Rows r = db_.reader->exec("SELECT key_id, public_pem FROM audit_keys ORDER BY added_at, key_id");
    std::vector<AuditKey> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(AuditKey{r.text(i, 0), r.text(i, 1)});
    return out;
  });
}

}  // namespace vigil::pg
