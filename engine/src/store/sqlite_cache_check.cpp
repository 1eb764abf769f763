// The caches against the one copy of history: a run's snapshot is the fold of its chained
// events (and matches the digest its last record holds), and each inbox row is what that
// run says it is. A change to either that the chain does not explain is tampering.
#include <sqlite3.h>

#include "sqlite_approvals.h"
#include "sqlite_events.h"
#include "vigil/approval.h"
#include "vigil/audit.h"

namespace vigil {
namespace {

std::string hexSha256(const std::string& text) { return merkle::toHex(merkle::sha256(text)); }

// What an inbox row says, as text to compare (times in milliseconds, lists joined).
std::string rowText(const ApprovalRow& r) {
  auto t = [](const std::optional<TimePoint>& p) { return p ? Json(p->time_since_epoch().count()) : Json(); };
  Json j = {{"status", r.status},   {"roles", r.roles},         {"users", r.users},
            {"excluded", r.excluded}, {"requested_at", r.requestedAt.time_since_epoch().count()},
            {"due", t(r.due)},         {"claimed_by", r.claimedBy}, {"claim_until", t(r.claimUntil)},
            {"decision", r.decision},  {"decided_by", r.decidedBy}, {"decided_at", t(r.decidedAt)},
            {"agreed", r.agreed ? Json(*r.agreed) : Json()},       {"escalations", r.escalations},
            {"priority", r.priority},  {"summary", r.summary},     {"recommendation", r.recommendation}};
  return j.dump();
}

// The snapshot digest the run's last transition record (or its erasure record) holds;
// "" when that record predates the digests.
std::string chainedSnapshotDigest(SQLite::Database& db, const std::string& runId) {
  SQLite::Statement q(db,
                      "SELECT payload FROM audit WHERE run_id = ? AND run_id <> '' AND kind IN ('collection', 'run', 'erasure')"
                      " AND payload IS NOT NULL ORDER BY seq DESC LIMIT 1");
  q.bind(1, runId);
  if (!q.executeStep()) return "";
  Json p = Json::parse(q.getColumn(0).getString(), nullptr, false);
  return p.is_object() ? p.value("snapshot_sha256", "") : "";
}

}  // namespace

AuditVerdict verifySqliteCaches(const std::string& dataDir) {
  AuditVerdict v;
  v.ok = true;
  auto bad = [&](std::string problem, std::string detail) {
    v.ok = false;
    v.problem = std::move(problem);
    v.detail = std::move(detail);
    return v;
  };
  try {
    SQLite::Database db(dataDir + "/vigil.db", SQLite::OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
    sqlite::StatementCache statements(db);
    SQLite::Statement runs(db, "SELECT id, snapshot, erased_at IS NOT NULL FROM runs ORDER BY id");
    while (runs.executeStep()) {
      const std::string id = runs.getColumn(0).getString();
      const std::string snapshot = runs.getColumn(1).getString();
      const bool erased = runs.getColumn(2).getInt() != 0;
      const std::string digest = chainedSnapshotDigest(db, id);
      if (!digest.empty() && digest != hexSha256(snapshot)) {
        return bad("modified", "run " + id + ": its snapshot is not the one its last audit record names");
      }
      if (erased) continue;  // nothing left to fold; the digest above is the erasure record's
      auto fold = RunState::fold(id, sqlite::chainedEvents(statements, id));
      if (!fold) return bad("modified", "run " + id + ": its chained events do not fold: " + fold.status().message());
      const RunState& folded = *fold;
      if (folded.toJson().dump() != snapshot) {
        return bad("modified", "run " + id + ": its snapshot differs from the fold of its chained events");
      }
      for (const auto& want : approvalRowsOf(folded)) {
        auto have = sqlite::findApproval(db, id, want.step);
        if (!have || rowText(*have) != rowText(want)) {
          return bad("modified", "run " + id + ": the inbox row of step '" + want.step + "' is not what the run's history says");
        }
      }
      SQLite::Statement rows(db, "SELECT count(*) FROM approvals WHERE run_id = ?");
      rows.bind(1, id);
      rows.executeStep();
      if (static_cast<size_t>(rows.getColumn(0).getInt64()) != approvalRowsOf(folded).size()) {
        return bad("inserted", "run " + id + ": the inbox holds a task its history does not have");
      }
      ++v.records;
    }
    SQLite::Statement orphans(db, "SELECT run_id FROM approvals WHERE run_id NOT IN (SELECT id FROM runs) LIMIT 1");
    if (orphans.executeStep()) return bad("inserted", "the inbox holds a task of run " + orphans.getColumn(0).getString() + ", which does not exist");
  } catch (const SQLite::Exception& e) {
    return bad("unreadable", std::string("reading runs and the inbox: ") + e.what());
  }
  return v;
}

AuditVerdict verifyDataDir(const std::string& dataDir, AuditSource& records, const std::string& trustedKey,
                           const std::vector<AuditAnchor>& anchors) {
  AuditVerdict chain = verifyAudit(records, trustedKey, anchors);
  if (!chain.ok) return chain;
  AuditVerdict caches = verifySqliteCaches(dataDir);
  if (caches.ok) return chain;
  chain.ok = false;
  chain.caveat.clear();
  chain.problem = caches.problem;
  chain.detail = caches.detail;
  return chain;
}

}  // namespace vigil
