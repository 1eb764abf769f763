#include "sqlite_runs.h"

#include "sqlite_concerns.h"

#include "sqlite_events.h"

namespace vigil::sqlite {


Result<bool> SqliteRunLog::exists(const std::string& id) {
  return db_.reading("looking up run", [&] {
    auto q = (*db_.reads)("SELECT 1 FROM runs WHERE id = ?");
    q->bind(1, id);
    return q->executeStep();
  });
}

Result<std::optional<RunState>> SqliteRunLog::load(const std::string& id) {
  std::vector<Event> events;
  auto read = readRun(id, &events);
  if (!read || read->has_value() || events.empty()) return read;
  // Folded outside the lock: a long run read for a page does not hold up the committer's
  // loads of the runs it decides.
  auto st = RunState::fold(id, events);
  if (!st) return Status::internal("run " + id + ": its history does not fold: " + st.status().message());
  return std::optional<RunState>(std::move(st).value());
}

// A run's row and chained events in one read transaction: an erased run's minimal state,
// or its events for the caller to fold (none: no such run).
Result<std::optional<RunState>> SqliteRunLog::readRun(const std::string& id, std::vector<Event>* events) {
  std::lock_guard lock(db_.readMu);
  try {
    // Kept in use until the events are read: the row and the history are one read.
    auto use = (*db_.reads)("SELECT snapshot, erased_at IS NOT NULL FROM runs WHERE id = ?");
    SQLite::Statement& q = *use;
    q.bind(1, id);
    if (!q.executeStep()) return std::optional<RunState>();
    if (q.getColumn(1).getInt() != 0) {
      // Retention left only the minimal snapshot (its digest is in the erasure record).
      Json j = Json::parse(q.getColumn(0).getString(), nullptr, false);
      auto st = RunState::fromJson(j);
      if (!st) return Status::internal("run " + id + " has a damaged snapshot");
      return std::optional<RunState>(std::move(st).value());
    }
    // The state is the fold of the chained history; the snapshot in the row is a cache
    // for listings, which `vigil audit verify` checks against this same fold. So an edit
    // of the row reaches no reader, no approver and no later transition.
    *events = chainedEvents(*db_.reads, id);
    if (events->empty()) return Status::internal("run " + id + ": its history does not fold: it has no chained events");
    return std::optional<RunState>();
  } catch (const SQLite::Exception& e) {
    return Status::ioError(std::string("loading run: ") + e.what());
  }
}

Result<std::vector<Event>> SqliteRunLog::events(const std::string& runId) {
  return db_.reading("reading events", [&] { return chainedEvents(*db_.reads, runId); });
}

Result<std::vector<RunSummary>> SqliteRunLog::list(const RunFilter& f) {
  return db_.reading("listing runs", [&] {
    std::string sql =
        "SELECT id, workflow, version, status, started_by, started_at, updated_at, ifnull(x.reference, ''), ifnull(x.band, '')"
        " FROM runs LEFT JOIN run_index x ON x.run_id = runs.id WHERE id > ?";
    if (f.status) sql += " AND status = ?";
    if (!f.band.empty()) sql += " AND x.band = ?";
    // The reference's text anywhere (LIKE is case-insensitive for ASCII), or a run id's start.
    if (!f.search.empty()) sql += " AND (x.reference LIKE ? ESCAPE '\\' OR id LIKE ? ESCAPE '\\')";
    if (!f.workflow.empty()) sql += " AND workflow = ?";
    if (!f.startedBy.empty()) sql += " AND started_by = ?";
    if (f.startedFrom) sql += " AND started_at >= ?";
    if (f.startedTo) sql += " AND started_at < ?";
    sql += " ORDER BY id LIMIT ?";
    auto use = (*db_.reads)(sql);
    SQLite::Statement& q = *use;
    int i = 1;
    q.bind(i++, f.after);
    if (f.status) q.bind(i++, runStatusName(*f.status));
    if (!f.band.empty()) q.bind(i++, f.band);
    if (!f.search.empty()) {
      const std::string escaped = likeEscaped(f.search);
      q.bind(i++, "%" + escaped + "%");
      q.bind(i++, escaped + "%");
    }
    if (!f.workflow.empty()) q.bind(i++, f.workflow);
    if (!f.startedBy.empty()) q.bind(i++, f.startedBy);
    if (f.startedFrom) q.bind(i++, static_cast<int64_t>(ms(*f.startedFrom)));
    if (f.startedTo) q.bind(i++, static_cast<int64_t>(ms(*f.startedTo)));
    q.bind(i, static_cast<int64_t>(f.limit));
    std::vector<RunSummary> out;
    while (q.executeStep()) {
      RunSummary r;
      r.id = q.getColumn(0).getString();
      r.workflow = q.getColumn(1).getString();
      r.version = q.getColumn(2).getInt();
      r.status = parseRunStatus(q.getColumn(3).getString()).value_or(RunStatus::kFailed);
      r.startedBy = q.getColumn(4).getString();
      r.startedAt = fromMs(q.getColumn(5).getInt64());
      r.updatedAt = fromMs(q.getColumn(6).getInt64());
      r.reference = q.getColumn(7).getString();
      r.band = q.getColumn(8).getString();
      out.push_back(std::move(r));
    }
    return out;
  });
}

Result<std::map<RunStatus, long long>> SqliteRunLog::countByStatus() {
  return db_.reading("counting runs", [&] {
    std::map<RunStatus, long long> out;
    auto q = (*db_.reads)("SELECT status, count(*) FROM runs GROUP BY status");
    while (q->executeStep()) {
      auto st = parseRunStatus(q->getColumn(0).getString());
      if (st) out[*st] = q->getColumn(1).getInt64();
    }
    return out;
  });
}

Result<std::vector<std::string>> SqliteRunLog::endedBefore(const std::string& workflow, TimePoint before, size_t max) {
  return db_.reading("listing ended runs", [&] {
    auto q = (*db_.reads)(
        "SELECT id FROM runs WHERE workflow = ? AND erased_at IS NULL AND updated_at < ?"
        " AND status IN ('completed', 'failed', 'cancelled') AND parent = '' ORDER BY updated_at LIMIT ?");
    q->bind(1, workflow);
    q->bind(2, static_cast<int64_t>(ms(before)));
    q->bind(3, static_cast<int64_t>(max));
    std::vector<std::string> out;
    while (q->executeStep()) out.push_back(q->getColumn(0).getString());
    return out;
  });
}

Result<std::vector<std::string>> SqliteRunLog::family(const std::string& runId) {
  return db_.reading("listing a run's sub-workflow runs", [&] {
    auto q = (*db_.reads)("SELECT id FROM runs WHERE id = ? OR id LIKE ? ESCAPE '\\' ORDER BY id");
    q->bind(1, runId);
    q->bind(2, likeEscaped(runId) + ".%");
    std::vector<std::string> out;
    while (q->executeStep()) out.push_back(q->getColumn(0).getString());
    return out;
  });
}

bool continuesStoredRun(StatementCache& writes, const RunWrite& w) {
  auto q = writes("SELECT last_seq FROM runs WHERE id = ?");
  q->bind(1, w.state->id);
  if (!q->executeStep()) return w.created;
  return !w.created && static_cast<uint64_t>(q->getColumn(0).getInt64()) == w.state->lastSeq - w.events.size();
}

namespace {

// The runs list's reference and band for one run; a band is never taken away, so a run
// with neither has no row, and an unchanged row is not written again.
void putRunIndex(StatementCache& writes, const std::string& id, const std::string& reference, const std::string& band) {
  if (reference.empty() && band.empty()) return;
  auto q = writes("INSERT INTO run_index(run_id, reference, band) VALUES(?, ?, ?) ON CONFLICT(run_id) DO UPDATE"
                  " SET reference = excluded.reference, band = excluded.band"
                  " WHERE reference <> excluded.reference OR band <> excluded.band");
  q->bind(1, id);
  q->bind(2, reference);
  q->bind(3, band);
  q->exec();
}

}  // namespace

void writeRun(StatementCache& writes, const RunWrite& w) {
  const RunState& r = *w.state;
  const std::string snapshot = w.snapshotText.empty() ? r.toJson().dump() : w.snapshotText;
  if (w.created) {
    auto q = writes("INSERT INTO runs(id, workflow, version, hash, status, parent, started_by, started_at, updated_at,"
                    " last_seq, snapshot) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q->bind(1, r.id);
    q->bind(2, r.workflow);
    q->bind(3, r.version);
    q->bind(4, r.workflowHash);
    q->bind(5, runStatusName(r.status));
    q->bind(6, r.parentRun);
    q->bind(7, r.startedBy);
    q->bind(8, static_cast<int64_t>(ms(r.startedAt)));
    q->bind(9, static_cast<int64_t>(ms(r.updatedAt)));
    q->bind(10, static_cast<int64_t>(r.lastSeq));
    q->bind(11, snapshot);
    q->exec();
  } else {
    auto q = writes("UPDATE runs SET status = ?, updated_at = ?, last_seq = ?, snapshot = ? WHERE id = ? AND last_seq = ?");
    q->bind(1, runStatusName(r.status));
    q->bind(2, static_cast<int64_t>(ms(r.updatedAt)));
    q->bind(3, static_cast<int64_t>(r.lastSeq));
    q->bind(4, snapshot);
    q->bind(5, r.id);
    q->bind(6, static_cast<int64_t>(r.lastSeq - w.events.size()));
    if (q->exec() != 1) {
      // continuesStoredRun() said it would: the transaction is not what it checked.
      throw SQLite::Exception("run " + r.id + " changed within its commit", SQLITE_CONSTRAINT);
    }
  }
  putRunIndex(writes, r.id, r.reference, r.band());
}

void indexExistingRuns(SQLite::Database& db, StatementCache& writes) {
  SQLite::Statement q(db, "SELECT snapshot FROM runs");
  while (q.executeStep()) {
    auto j = Json::parse(q.getColumn(0).getString(), nullptr, false);
    if (j.is_discarded()) continue;
    auto st = RunState::fromJson(j);
    if (st) putRunIndex(writes, st->id, st->reference, st->band());
  }
}

}  // namespace vigil::sqlite
