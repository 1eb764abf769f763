// The SQLite store's file at start: checked whole before anything writes to it, then its
// schema brought up to this build's (sqlite_schema.h).
#include <filesystem>
#include <set>

#include "sqlite_events.h"
#include "sqlite_runs.h"
#include "sqlite_schema.h"

namespace vigil::sqlite {
namespace {

// Before schema 8 each event was also a row of `events`. Those the chain holds go with
// the table; any it lacks (a run written before the audit trail existed) are appended to
// the chain first, in a record that says so, so that no history is lost at the upgrade.
void moveEventsIntoChain(Db& db) {
  db.chain.load(db.writer);
  std::vector<std::string> ids;
  if (!db.writer.tableExists("events")) return;
  {
    SQLite::Statement q(db.writer, "SELECT DISTINCT run_id FROM events ORDER BY run_id");
    while (q.executeStep()) ids.push_back(q.getColumn(0).getString());
  }
  std::vector<AuditEntry> moved;
  const TimePoint now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  for (const auto& id : ids) {
    std::set<uint64_t> chained;
    for (const auto& e : chainedEvents(db.writes, id)) chained.insert(e.seq);
    SQLite::Statement q(db.writer, "SELECT seq, type, time, step, attempt, data FROM events WHERE run_id = ? ORDER BY seq");
    q.bind(1, id);
    Json missing = Json::array();
    while (q.executeStep()) {
      const auto seq = static_cast<uint64_t>(q.getColumn(0).getInt64());
      if (chained.count(seq) > 0) continue;
      Json e = {{"seq", seq}, {"type", q.getColumn(1).getString()}, {"time", q.getColumn(2).getInt64()}};
      if (!q.getColumn(3).getString().empty()) e["step"] = q.getColumn(3).getString();
      if (q.getColumn(4).getInt() != 0) e["attempt"] = q.getColumn(4).getInt();
      if (!q.getColumn(5).isNull()) e["data"] = Json::parse(q.getColumn(5).getString(), nullptr, false);
      missing.push_back(std::move(e));
    }
    if (missing.empty()) continue;
    AuditEntry e;
    e.time = now;
    e.kind = "run";
    e.actor = "system:vigil";
    e.runId = id;
    e.system = "vigil";
    e.purpose = "history written before the audit trail, moved into it at upgrade";
    e.payload = {{"run", id}, {"events", std::move(missing)}, {"moved_at_upgrade", true}};
    moved.push_back(std::move(e));
  }
  if (!moved.empty()) db.chain.append(db.writer, moved);
}

const std::string kRestoreHint =
    "vigil will not start on it and has not written to it; restore the data directory from its last backup "
    "(docs/OPERATIONS.md, \"Start-up checks and restoring from a backup\")";

}  // namespace

Status migrate(Db& db) {
  int current = 0;
  {
    SQLite::Statement q(db.writer, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
    q.executeStep();
    if (q.getColumn(0).getInt() == 1) {
      SQLite::Statement v(db.writer, "SELECT value FROM meta WHERE key = 'schema_version'");
      if (v.executeStep()) current = std::stoi(v.getColumn(0).getString());
    }
  }
  const int latest = migrations().back().version;
  if (current > latest) {
    return Status::failedPrecondition("the data directory has schema version " + std::to_string(current) +
                                      ", newer than this vigil understands (" + std::to_string(latest) +
                                      "); use a newer vigil or restore a backup");
  }
  for (const auto& m : migrations()) {
    if (m.version <= current) continue;
    SQLite::Transaction tx(db.writer);
    if (m.version == 8) moveEventsIntoChain(db);
    db.writer.exec(m.sql);
    if (m.version == 10) indexExistingRuns(db.writer, db.writes);
    SQLite::Statement v(db.writer, "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', ?)");
    v.bind(1, std::to_string(m.version));
    v.exec();
    tx.commit();
    if (m.version == 8) db.chain.commitTail();
  }
  return Status::ok();
}

// An existing store is checked whole before anything writes to it: PRAGMA quick_check, which
// is linear in the file, on a read-only connection of its own (which never checkpoints a
// WAL into the file). A damaged store is refused as it is, rather than served from pages
// nobody reads at start, or taken for an empty one and written over. Files the check's
// connection creates (-wal, -shm) are removed again when it refuses.
Status checkExistingStore(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) {
    return Status::ok();  // a new store
  }
  if (ec) {
    return Status::ioError("cannot read the store " + path + ": " + ec.message());
  }
  if (!fs::is_regular_file(st)) {
    return Status::failedPrecondition(path + " is not a regular file; " + kRestoreHint);
  }
  if (fs::file_size(path, ec) == 0 && !ec) {
    return Status::failedPrecondition(path + " is empty (0 bytes): the store it held is gone; " + kRestoreHint +
                                      ". If this is a new data directory whose first start was interrupted, delete the "
                                      "empty file and start again");
  }
  const std::string wal = path + "-wal";
  const std::string shm = path + "-shm";
  const bool hadWal = fs::exists(wal, ec);
  const bool hadShm = fs::exists(shm, ec);
  std::string problem;
  try {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "PRAGMA quick_check");
    if (q.executeStep()) {
      std::string row = q.getColumn(0).getString();
      const std::string prefix = "*** in database main ***\n";
      if (row.rfind(prefix, 0) == 0) {
        row.erase(0, prefix.size());
      }
      if (row != "ok") {
        problem = row.substr(0, row.find('\n'));  // the first problem SQLite reports
      }
    }
  } catch (const SQLite::Exception& e) {
    problem = e.what();
  }
  if (problem.empty()) {
    return Status::ok();
  }
  if (!hadWal && fs::file_size(wal, ec) == 0 && !ec) {
    fs::remove(wal, ec);
  }
  if (!hadShm) {
    fs::remove(shm, ec);
  }
  return Status::failedPrecondition(path + " is damaged: SQLite's PRAGMA quick_check reports \"" + problem + "\"; " + kRestoreHint);
}

}  // namespace vigil::sqlite
