// Runs in PostgreSQL: read as the fold of their chained events, listed from their rows.
#include "pg_concerns.h"
#include "vigil/chained_events.h"

namespace vigil::pg {


Result<bool> PgRunLog::exists(const std::string& id) {
  return db_.reading("looking up run", [&] { return db_.reader->exec("SELECT 1 FROM runs WHERE id = $1", Params().text(id)).size() > 0; });
}

Result<std::optional<RunState>> PgRunLog::load(const std::string& id) {
  // The row and its chained records in one statement, so one snapshot of the database:
  // an erased run's minimal state, or the history to fold.
  auto read = db_.reading("loading run", [&] {
    return db_.reader->exec(
        "SELECT r.snapshot, r.erased_at IS NOT NULL, a.kind, a.payload FROM runs r"
        " LEFT JOIN audit a ON r.erased_at IS NULL AND a.run_id = r.id AND a.run_id <> ''"
        " AND a.kind IN ('collection', 'run', 'erasure') WHERE r.id = $1 ORDER BY a.seq",
        Params().text(id));
  });
  if (!read) return read.status();
  const Rows& r = *read;
  if (r.size() == 0) return std::optional<RunState>();
  if (r.text(0, 1) == "t") {
    // Retention left only the minimal snapshot (its digest is in the erasure record).
    auto st = RunState::fromJson(Json::parse(r.text(0, 0), nullptr, false));
    if (!st) return Status::internal("run " + id + " has a damaged snapshot");
    return std::optional<RunState>(std::move(st).value());
  }
  // The state is the fold of the chained history, never the row's cached snapshot.
  ChainedEvents chained(id);
  for (int i = 0; i < r.size(); ++i) {
    if (r.null(i, 2)) continue;
    std::optional<std::string> payload;
    if (!r.null(i, 3)) payload = r.text(i, 3);
    if (Status s = chained.add(r.text(i, 2), payload); !s) return s;
  }
  std::vector<Event> events = chained.take();
  if (events.empty()) return Status::internal("run " + id + ": its history does not fold: it has no chained events");
  auto st = RunState::fold(id, events);
  if (!st) return Status::internal("run " + id + ": its history does not fold: " + st.status().message());
  return std::optional<RunState>(std::move(st).value());
}

Result<std::vector<Event>> PgRunLog::events(const std::string& runId) {
  auto read = db_.reading("reading events", [&] {
    return db_.reader->exec(
        "SELECT kind, payload FROM audit WHERE run_id = $1 AND run_id <> '' AND kind IN ('collection', 'run', 'erasure')"
        " ORDER BY seq",
        Params().text(runId));
  });
  if (!read) return read.status();
  ChainedEvents chained(runId);
  for (int i = 0; i < read->size(); ++i) {
    std::optional<std::string> payload;
    if (!read->null(i, 1)) payload = read->text(i, 1);
    if (Status s = chained.add(read->text(i, 0), payload); !s) return s;
  }
  return chained.take();
}

Result<std::vector<RunSummary>> PgRunLog::list(const RunFilter& f) {
  return db_.reading("listing runs", [&] {
    Params p;
    auto next = [&p] { return "$" + std::to_string(p.size()); };
    std::string sql =
        "SELECT id, workflow, version, status, started_by, started_at, updated_at, coalesce(x.reference, ''),"
        " coalesce(x.band, '') FROM runs LEFT JOIN run_index x ON x.run_id = runs.id WHERE id > ";
    p.text(f.after);
    sql += next();
    if (f.status) {
      p.text(runStatusName(*f.status));
      sql += " AND status = " + next();
    }
    if (!f.band.empty()) {
      p.text(f.band);
      sql += " AND x.band = " + next();
    }
    if (!f.search.empty()) {
      // The reference's text anywhere, case-insensitively, or a run id's start.
      const std::string escaped = likeEscaped(f.search);
      p.text("%" + escaped + "%");
      sql += " AND (x.reference ILIKE " + next();
      p.text(escaped + "%");
      sql += " OR id LIKE " + next() + ")";
    }
    if (!f.workflow.empty()) {
      p.text(f.workflow);
      sql += " AND workflow = " + next();
    }
    if (!f.startedBy.empty()) {
      p.text(f.startedBy);
      sql += " AND started_by = " + next();
    }
    if (f.startedFrom) {
      p.time(*f.startedFrom);
      sql += " AND started_at >= " + next();
    }
    if (f.startedTo) {
      p.time(*f.startedTo);
      sql += " AND started_at < " + next();
    }
    p.i64(static_cast<long long>(f.limit));
    sql += " ORDER BY id LIMIT " + next();
    Rows r = db_.reader->exec(sql, p);
    std::vector<RunSummary> out;
    for (int i = 0; i < r.size(); ++i) {
      RunSummary s;
      s.id = r.text(i, 0);
      s.workflow = r.text(i, 1);
      s.version = static_cast<int>(r.i64(i, 2));
      s.status = parseRunStatus(r.text(i, 3)).value_or(RunStatus::kFailed);
      s.startedBy = r.text(i, 4);
      s.startedAt = r.time(i, 5);
      s.updatedAt = r.time(i, 6);
      s.reference = r.text(i, 7);
      s.band = r.text(i, 8);
      out.push_back(std::move(s));
    }
    return out;
  });
}

Result<std::map<RunStatus, long long>> PgRunLog::countByStatus() {
  return db_.reading("counting runs", [&] {
    Rows r = db_.reader->exec("SELECT status, count(*) FROM runs GROUP BY status");
    std::map<RunStatus, long long> out;
    for (int i = 0; i < r.size(); ++i) {
      if (auto st = parseRunStatus(r.text(i, 0))) out[*st] = r.i64(i, 1);
    }
    return out;
  });
}

Result<std::vector<std::string>> PgRunLog::endedBefore(const std::string& workflow, TimePoint before, size_t max) {
  return db_.reading("listing ended runs", [&] {
    Rows r = db_.reader->exec(
        "SELECT id FROM runs WHERE workflow = $1 AND erased_at IS NULL AND updated_at < $2"
        " AND status IN ('completed', 'failed', 'cancelled') AND parent = '' ORDER BY updated_at, id LIMIT $3",
        Params().text(workflow).time(before).i64(static_cast<long long>(max)));
    std::vector<std::string> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(r.text(i, 0));
    return out;
  });
}

Result<std::vector<std::string>> PgRunLog::family(const std::string& runId) {
  return db_.reading("listing a run's sub-workflow runs", [&] {
    Rows r = db_.reader->exec("SELECT id FROM runs WHERE id = $1 OR id LIKE $2 ORDER BY id",
                              Params().text(runId).text(likeEscaped(runId) + ".%"));
    std::vector<std::string> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(r.text(i, 0));
    return out;
  });
}

void writeRun(Writes& out, const RunWrite& w) {
  const RunState& r = *w.state;
  const std::string snapshot = w.snapshotText.empty() ? r.toJson().dump() : w.snapshotText;
  if (w.created) {
    out.add("INSERT INTO runs(id, workflow, version, hash, status, parent, started_by, started_at, updated_at, last_seq,"
           " snapshot) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
           Params()
               .text(r.id)
               .text(r.workflow)
               .i64(r.version)
               .text(r.workflowHash)
               .text(runStatusName(r.status))
               .text(r.parentRun)
               .text(r.startedBy)
               .time(r.startedAt)
               .time(r.updatedAt)
               .i64(static_cast<long long>(r.lastSeq))
               .text(snapshot));
  } else {
    // continuesStoredRun() said it would: otherwise the transaction is not what it checked.
    out.add("UPDATE runs SET status = $1, updated_at = $2, last_seq = $3, snapshot = $4 WHERE id = $5 AND last_seq = $6",
                    Params()
                        .text(runStatusName(r.status))
                        .time(r.updatedAt)
                        .i64(static_cast<long long>(r.lastSeq))
                        .text(snapshot)
                        .text(r.id)
                        .i64(static_cast<long long>(r.lastSeq - w.events.size())),
            1, "run " + r.id + " changed within its commit");
  }
  // The runs list's reference and band; a band is never taken away, so a run with neither
  // has no row, and an unchanged row is not written again.
  const std::string band = r.band();
  if (r.reference.empty() && band.empty()) return;
  out.add("INSERT INTO run_index(run_id, reference, band) VALUES($1, $2, $3) ON CONFLICT(run_id) DO UPDATE"
         " SET reference = excluded.reference, band = excluded.band"
         " WHERE run_index.reference <> excluded.reference OR run_index.band <> excluded.band",
         Params().text(r.id).text(r.reference).text(band));
}

}  // namespace vigil::pg
