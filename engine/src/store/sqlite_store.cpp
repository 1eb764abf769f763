// The embedded SQLite store. One writing connection guarded by a mutex, and one reading
// connection with its own for the engine's look-ups of runs: WAL lets those read the last
// committed state while a group commit writes and waits for its fsync, so the committer can
// prepare the next batch meanwhile (it never needs a run an unfinished commit holds: those
// are in its memory).
#include <filesystem>
#include <mutex>
#include <set>

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include "sqlite_approvals.h"
#include "sqlite_audit.h"
#include "sqlite_events.h"
#include "sqlite_fault_vfs.h"
#include "sqlite_schema.h"
#include "sqlite_statements.h"
#include "vigil/store.h"

namespace vigil {
namespace {

long long ms(TimePoint t) { return t.time_since_epoch().count(); }

// For LIKE with an ESCAPE '\' clause: ids and references may hold '%' or '_'.
std::string likeEscaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}
TimePoint fromMs(long long v) { return TimePoint(std::chrono::milliseconds(v)); }

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::string& path)
      : db_(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX, 0, sqlite::faultVfsName()) {}

  Status open() {
    try {
      db_.exec("PRAGMA journal_mode=WAL");
      db_.exec("PRAGMA synchronous=FULL");
      db_.exec("PRAGMA foreign_keys=ON");
      db_.setBusyTimeout(5000);
      Status m = migrate();
      if (!m) return m;
      audit_.load(db_);
      reader_ = std::make_unique<SQLite::Database>(db_.getFilename(), SQLite::OPEN_READONLY | SQLite::OPEN_FULLMUTEX, 0,
                                                   sqlite::faultVfsName());
      reader_->setBusyTimeout(5000);
      reads_ = std::make_unique<sqlite::StatementCache>(*reader_);
      return Status::ok();
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("cannot open the store: ") + e.what());
    }
  }

  Status putWorkflow(const std::string& hash, const std::string& name, int version, const std::string& source) override {
    std::lock_guard lock(mu_);
    try {
      SQLite::Statement q(db_, "INSERT OR IGNORE INTO workflows(hash, name, version, source) VALUES(?, ?, ?, ?)");
      q.bind(1, hash);
      q.bind(2, name);
      q.bind(3, version);
      q.bind(4, source);
      q.exec();
      return Status::ok();
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("storing workflow: ") + e.what());
    }
  }

  Result<std::string> workflowSource(const std::string& hash) override {
    std::lock_guard lock(mu_);
    try {
      SQLite::Statement q(db_, "SELECT source FROM workflows WHERE hash = ?");
      q.bind(1, hash);
      if (!q.executeStep()) return Status::notFound("no workflow with hash " + hash);
      return q.getColumn(0).getString();
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("reading workflow: ") + e.what());
    }
  }

  Result<std::vector<StoredWorkflow>> latestWorkflows() override {
    std::lock_guard lock(mu_);
    try {
      // SQLite takes the bare columns from the row holding max(version).
      SQLite::Statement q(db_, "SELECT name, max(version), hash FROM workflows GROUP BY name ORDER BY name");
      std::vector<StoredWorkflow> out;
      while (q.executeStep()) out.push_back({q.getColumn(0).getString(), q.getColumn(1).getInt(), q.getColumn(2).getString()});
      return out;
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("listing workflows: ") + e.what());
    }
  }

  Status commit(const Batch& b) override {
    std::lock_guard lock(mu_);
    try {
      requireChainedEvents(b);
      SQLite::Transaction tx(db_);
      for (const auto& w : b.runs) {
        writeRun(w);
      }
      for (const auto& w : b.removeWork) {
        auto q = writes_("DELETE FROM work WHERE run_id = ? AND step = ? AND attempt = ?");
        q->bind(1, w.runId);
        q->bind(2, w.step);
        q->bind(3, w.attempt);
        q->exec();
      }
      for (const auto& w : b.addWork) {
        auto q = writes_("INSERT OR REPLACE INTO work(run_id, step, attempt, command) VALUES(?, ?, ?, ?)");
        q->bind(1, w.runId);
        q->bind(2, w.step);
        q->bind(3, w.attempt);
        q->bind(4, w.command.dump());
        q->exec();
      }
      for (const auto& t : b.removeTimers) {
        auto q = writes_("DELETE FROM timers WHERE run_id = ? AND step = ? AND attempt = ? AND kind = ?");
        q->bind(1, t.runId);
        q->bind(2, t.step);
        q->bind(3, t.attempt);
        q->bind(4, t.kind);
        q->exec();
      }
      for (const auto& a : b.approvals) sqlite::writeApproval(writes_, a);
      audit_.append(db_, b.audit);
      for (const auto& t : b.addTimers) {
        auto q = writes_("INSERT OR REPLACE INTO timers(run_id, step, attempt, kind, due) VALUES(?, ?, ?, ?, ?)");
        q->bind(1, t.runId);
        q->bind(2, t.step);
        q->bind(3, t.attempt);
        q->bind(4, t.kind);
        q->bind(5, static_cast<int64_t>(ms(t.due)));
        q->exec();
      }
      tx.commit();
      audit_.commitTail();
      return Status::ok();
    } catch (const SQLite::Exception& e) {
      audit_.rollbackTail();
      return Status::ioError(std::string("commit failed, nothing stored: ") + e.what());
    }
  }

  Result<bool> runExists(const std::string& id) override {
    std::lock_guard lock(readMu_);
    try {
      auto q = (*reads_)("SELECT 1 FROM runs WHERE id = ?");
      q->bind(1, id);
      return q->executeStep();
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("looking up run: ") + e.what());
    }
  }

  Result<std::optional<RunState>> loadRun(const std::string& id) override {
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
  Result<std::optional<RunState>> readRun(const std::string& id, std::vector<Event>* events) {
    std::lock_guard lock(readMu_);
    try {
      // Kept in use until the events are read: the row and the history are one read.
      auto use = (*reads_)("SELECT snapshot, erased_at IS NOT NULL FROM runs WHERE id = ?");
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
      *events = sqlite::chainedEvents(*reads_, id);
      if (events->empty()) return Status::internal("run " + id + ": its history does not fold: it has no chained events");
      return std::optional<RunState>();
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("loading run: ") + e.what());
    }
  }

  Result<std::vector<Event>> events(const std::string& runId) override {
    std::lock_guard lock(mu_);
    try {
      return sqlite::chainedEvents(writes_, runId);
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("reading events: ") + e.what());
    }
  }

  Result<std::vector<RunSummary>> listRuns(const RunFilter& f) override {
    std::lock_guard lock(mu_);
    try {
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
      SQLite::Statement q(db_, sql);
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
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("listing runs: ") + e.what());
    }
  }

  Result<std::map<RunStatus, long long>> countRunsByStatus() override {
    std::lock_guard lock(mu_);
    try {
      std::map<RunStatus, long long> out;
      SQLite::Statement q(db_, "SELECT status, count(*) FROM runs GROUP BY status");
      while (q.executeStep()) {
        auto st = parseRunStatus(q.getColumn(0).getString());
        if (st) out[*st] = q.getColumn(1).getInt64();
      }
      return out;
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("counting runs: ") + e.what());
    }
  }

  Result<std::vector<WorkItem>> pendingWork() override {
    std::lock_guard lock(mu_);
    try {
      SQLite::Statement q(db_, "SELECT run_id, step, attempt, command FROM work");
      std::vector<WorkItem> out;
      while (q.executeStep()) {
        out.push_back(WorkItem{q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getInt(),
                               Json::parse(q.getColumn(3).getString(), nullptr, false)});
      }
      return out;
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("reading work: ") + e.what());
    }
  }

  Result<std::vector<TimerItem>> dueTimers(TimePoint now, size_t max) override {
    std::lock_guard lock(mu_);
    try {
      SQLite::Statement q(db_, "SELECT run_id, step, attempt, kind, due FROM timers WHERE due <= ? ORDER BY due, run_id LIMIT ?");
      q.bind(1, static_cast<int64_t>(ms(now)));
      q.bind(2, static_cast<int64_t>(max));
      std::vector<TimerItem> out;
      while (q.executeStep()) {
        out.push_back(TimerItem{q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getInt(),
                                q.getColumn(3).getString(), fromMs(q.getColumn(4).getInt64())});
      }
      return out;
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("reading timers: ") + e.what());
    }
  }

  Result<std::optional<TimePoint>> nextTimerDue() override {
    std::lock_guard lock(mu_);
    try {
      SQLite::Statement q(db_, "SELECT min(due) FROM timers");
      if (!q.executeStep() || q.getColumn(0).isNull()) return std::optional<TimePoint>();
      return std::optional<TimePoint>(fromMs(q.getColumn(0).getInt64()));
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("reading timers: ") + e.what());
    }
  }

  Result<std::string> integrityCheck() override {
    std::lock_guard lock(mu_);
    try {
      SQLite::Statement q(db_, "PRAGMA integrity_check");
      std::string out;
      while (q.executeStep()) {
        if (!out.empty()) out += "; ";
        out += q.getColumn(0).getString();
      }
      return out;
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("integrity check: ") + e.what());
    }
  }

  Result<ApprovalPage> listApprovals(const ApprovalFilter& filter) override {
    return locked("listing approvals", [&] { return sqlite::listApprovals(db_, filter); });
  }
  Result<std::optional<ApprovalRow>> approval(const std::string& runId, const std::string& step) override {
    return locked("reading an approval", [&] { return sqlite::findApproval(db_, runId, step); });
  }
  Result<std::vector<ApprovalStats>> approvalStats(TimePoint now) override {
    return locked("approval statistics", [&] { return sqlite::approvalStats(db_, now); });
  }
  Result<std::vector<DecisionStats>> decisionStats(DecisionStats::By by, std::chrono::milliseconds quickWithin) override {
    return locked("decision statistics", [&] { return sqlite::decisionStats(db_, by, quickWithin); });
  }
  Result<TimePoint> recordApprovalOpened(const std::string& runId, const std::string& step, const std::string& user,
                                         TimePoint at) override {
    return locked("recording an approval view", [&] { return sqlite::recordApprovalOpened(writes_, runId, step, user, at); });
  }
  Result<std::optional<TimePoint>> approvalOpenedAt(const std::string& runId, const std::string& step,
                                                   const std::string& user) override {
    return locked("reading an approval view", [&] { return sqlite::approvalOpenedAt(writes_, runId, step, user); });
  }

  Status appendAudit(const std::vector<AuditEntry>& entries) override {
    std::lock_guard lock(mu_);
    try {
      SQLite::Transaction tx(db_);
      audit_.append(db_, entries);
      tx.commit();
      audit_.commitTail();
      return Status::ok();
    } catch (const SQLite::Exception& e) {
      audit_.rollbackTail();
      return Status::ioError(std::string("appending to the audit trail, nothing stored: ") + e.what());
    }
  }
  Result<std::optional<AuditCheckpoint>> checkpointAudit(const SigningKey& key, TimePoint now,
                                                         const std::string& origin) override {
    return locked("signing an audit checkpoint", [&] { return audit_.checkpoint(db_, key, now, origin); });
  }
  Status addAuditKey(const AuditKey& key, TimePoint now) override {
    auto r = locked("recording an audit key", [&] {
      audit_.addKey(db_, key, now);
      return true;
    });
    return r.status();
  }
  Result<std::vector<AuditRecord>> auditRecords(const std::string& runId, TimePoint since, uint64_t maxSeq) override {
    return locked("reading audit records", [&] { return sqlite::readAuditRecords(db_, runId, since, maxSeq); });
  }
  Result<std::vector<std::string>> eraseExpiredRuns(const std::string& workflow, TimePoint endedBefore, TimePoint now,
                                                   const std::string& why, size_t max) override {
    std::lock_guard lock(mu_);
    std::vector<std::string> erased;
    try {
      SQLite::Statement q(db_,
                          "SELECT id, snapshot FROM runs WHERE workflow = ? AND erased_at IS NULL AND updated_at < ?"
                          " AND status IN ('completed', 'failed', 'cancelled') AND parent = '' ORDER BY updated_at LIMIT ?");
      q.bind(1, workflow);
      q.bind(2, static_cast<int64_t>(ms(endedBefore)));
      q.bind(3, static_cast<int64_t>(max));
      std::vector<std::pair<std::string, std::string>> due;
      while (q.executeStep()) due.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getString());
      for (const auto& [id, snapshot] : due) {
        SQLite::Transaction tx(db_);
        // The run and its sub-workflow runs, each with its own erasure record: a payload is
        // accepted as erased only where an erasure record of its run covers it.
        std::vector<std::pair<std::string, std::string>> family;
        {
          SQLite::Statement f(db_, "SELECT id, snapshot FROM runs WHERE id = ? OR id LIKE ? ESCAPE '\\' ORDER BY id");
          f.bind(1, id);
          f.bind(2, likeEscaped(id) + ".%");
          while (f.executeStep()) family.emplace_back(f.getColumn(0).getString(), f.getColumn(1).getString());
        }
        std::vector<AuditEntry> erasures;
        for (const auto& [member, memberSnapshot] : family) {
          // What stays of the history: which events happened when, not what they held.
          const Json skeleton = eventSkeleton(sqlite::chainedEvents(writes_, member));
          SQLite::Statement u(db_, "UPDATE audit SET payload = NULL WHERE run_id = ? AND run_id <> '' AND payload IS NOT NULL AND kind <> 'erasure'");
          u.bind(1, member);
          const int records = u.exec();
          SQLite::Statement v(db_, "DELETE FROM approval_views WHERE run_id = ?");
          v.bind(1, member);
          v.exec();
          // What stays of the state: who started which workflow when, which steps ran and
          // how it ended; not what it was about.
          Json minimal = Json::parse(memberSnapshot, nullptr, false);
          if (!minimal.is_object()) minimal = Json::object();
          minimal["inputs"] = Json::object();
          minimal["outputs"] = nullptr;
          if (minimal.contains("steps") && minimal["steps"].is_object()) {
            for (auto& st : minimal["steps"]) {
              for (const char* k : {"output", "approval", "items"}) st.erase(k);
            }
          }
          minimal["erased"] = true;
          SQLite::Statement r(db_, "UPDATE runs SET snapshot = ?, erased_at = ? WHERE id = ?");
          r.bind(1, minimal.dump());
          r.bind(2, static_cast<int64_t>(ms(now)));
          r.bind(3, member);
          r.exec();
          AuditEntry e;
          e.time = now;
          e.kind = "erasure";
          e.actor = "system:vigil";
          e.runId = member;
          e.system = "vigil";
          e.purpose = why;
          e.payload = {{"audit_payloads", records}, {"events", skeleton}, {"snapshot_sha256", merkle::toHex(merkle::sha256(minimal.dump()))}};
          erasures.push_back(std::move(e));
        }
        audit_.append(db_, erasures);
        tx.commit();
        audit_.commitTail();
        erased.push_back(id);
      }
      return erased;
    } catch (const SQLite::Exception& e) {
      audit_.rollbackTail();
      return Status::ioError(std::string("erasing expired runs: ") + e.what());
    }
  }

  Result<std::vector<merkle::Hash>> auditLeaves(uint64_t upTo) override {
    return locked("reading audit hashes", [&] { return sqlite::readAuditLeaves(db_, upTo); });
  }
  Result<std::vector<AuditCheckpoint>> auditCheckpoints() override {
    return locked("reading audit checkpoints", [&] { return sqlite::readCheckpoints(db_); });
  }
  Result<std::vector<AuditKey>> auditKeys() override {
    return locked("reading audit keys", [&] { return sqlite::readAuditKeys(db_); });
  }

 private:
  // Runs `f` under the store's lock, turning a database error into a Status naming `what`.
  template <typename F>
  auto locked(const char* what, F&& f) -> Result<decltype(f())> {
    std::lock_guard lock(mu_);
    try {
      return f();
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string(what) + ": " + e.what());
    }
  }

  void writeRun(const RunWrite& w) {
    const RunState& r = *w.state;
    const std::string snapshot = w.snapshotText.empty() ? r.toJson().dump() : w.snapshotText;
    if (w.created) {
      auto q = writes_("INSERT INTO runs(id, workflow, version, hash, status, parent, started_by, started_at, updated_at,"
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
      auto q = writes_("UPDATE runs SET status = ?, updated_at = ?, last_seq = ?, snapshot = ? WHERE id = ? AND last_seq = ?");
      q->bind(1, runStatusName(r.status));
      q->bind(2, static_cast<int64_t>(ms(r.updatedAt)));
      q->bind(3, static_cast<int64_t>(r.lastSeq));
      q->bind(4, snapshot);
      q->bind(5, r.id);
      q->bind(6, static_cast<int64_t>(r.lastSeq - w.events.size()));
      if (q->exec() != 1) {
        // Another writer moved this run on: refuse rather than fork its history.
        throw SQLite::Exception("run " + r.id + " changed concurrently", SQLITE_CONSTRAINT);
      }
    }
    putRunIndex(r.id, r.reference, r.band());
  }

  // The runs list's reference and band for one run; a band is never taken away, so a run
  // with neither has no row, and an unchanged row is not written again.
  void putRunIndex(const std::string& id, const std::string& reference, const std::string& band) {
    if (reference.empty() && band.empty()) return;
    auto q = writes_("INSERT INTO run_index(run_id, reference, band) VALUES(?, ?, ?) ON CONFLICT(run_id) DO UPDATE"
                   " SET reference = excluded.reference, band = excluded.band"
                   " WHERE reference <> excluded.reference OR band <> excluded.band");
    q->bind(1, id);
    q->bind(2, reference);
    q->bind(3, band);
    q->exec();
  }

  // Schema 10 added run_index: the runs from before get their band from their snapshots
  // (none has a reference: the key came with it). A snapshot that cannot be read adds none.
  void indexExistingRuns() {
    SQLite::Statement q(db_, "SELECT snapshot FROM runs");
    while (q.executeStep()) {
      auto j = Json::parse(q.getColumn(0).getString(), nullptr, false);
      if (j.is_discarded()) continue;
      auto st = RunState::fromJson(j);
      if (st) putRunIndex(st->id, st->reference, st->band());
    }
  }

  // The events of a transition are stored only in its chained record: a batch whose
  // records do not carry every run's new events would lose history, so it is refused.
  static void requireChainedEvents(const Batch& b) {
    std::map<std::string, size_t> chained;
    for (const auto& e : b.audit) {
      if ((e.kind == "run" || e.kind == "collection") && e.payload.is_object() && e.payload.contains("events")) {
        chained[e.runId] += e.payload["events"].size();
      }
    }
    for (const auto& w : b.runs) {
      if (w.events.empty()) continue;
      auto it = chained.find(w.state->id);
      if (it == chained.end() || it->second != w.events.size()) {
        throw SQLite::Exception("run " + w.state->id + ": its events are not in the batch's audit record", SQLITE_CONSTRAINT);
      }
    }
  }

  Status migrate() {
    int current = 0;
    {
      SQLite::Statement q(db_, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
      q.executeStep();
      if (q.getColumn(0).getInt() == 1) {
        SQLite::Statement v(db_, "SELECT value FROM meta WHERE key = 'schema_version'");
        if (v.executeStep()) current = std::stoi(v.getColumn(0).getString());
      }
    }
    int latest = sqliteSchemaVersion();
    if (current > latest) {
      return Status::failedPrecondition("the data directory has schema version " + std::to_string(current) +
                                        ", newer than this vigil understands (" + std::to_string(latest) +
                                        "); use a newer vigil or restore a backup");
    }
    for (const auto& m : sqlite::migrations()) {
      if (m.version <= current) continue;
      SQLite::Transaction tx(db_);
      if (m.version == 8) moveEventsIntoChain();
      db_.exec(m.sql);
      if (m.version == 10) indexExistingRuns();
      SQLite::Statement v(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', ?)");
      v.bind(1, std::to_string(m.version));
      v.exec();
      tx.commit();
      if (m.version == 8) audit_.commitTail();
    }
    return Status::ok();
  }

  // Before schema 8 each event was also a row of `events`. Those the chain holds go with
  // the table; any it lacks (a run written before the audit trail existed) are appended to
  // the chain first, in a record that says so, so that no history is lost at the upgrade.
  void moveEventsIntoChain() {
    audit_.load(db_);
    std::vector<std::string> ids;
    if (!db_.tableExists("events")) return;
    {
      SQLite::Statement q(db_, "SELECT DISTINCT run_id FROM events ORDER BY run_id");
      while (q.executeStep()) ids.push_back(q.getColumn(0).getString());
    }
    std::vector<AuditEntry> moved;
    const TimePoint now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    for (const auto& id : ids) {
      std::set<uint64_t> chained;
      for (const auto& e : sqlite::chainedEvents(writes_, id)) chained.insert(e.seq);
      SQLite::Statement q(db_, "SELECT seq, type, time, step, attempt, data FROM events WHERE run_id = ? ORDER BY seq");
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
    if (!moved.empty()) audit_.append(db_, moved);
  }

  std::mutex mu_;
  SQLite::Database db_;
  std::mutex readMu_;
  std::unique_ptr<SQLite::Database> reader_;
  sqlite::StatementCache writes_{db_};              // under mu_
  std::unique_ptr<sqlite::StatementCache> reads_;  // under readMu_, over reader_
  sqlite::AuditLog audit_;
};

}  // namespace

int sqliteSchemaVersion() { return sqlite::migrations().back().version; }

namespace {

const std::string kRestoreHint =
    "vigil will not start on it and has not written to it; restore the data directory from its last backup "
    "(docs/OPERATIONS.md, \"Start-up checks and restoring from a backup\")";

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

}  // namespace

Result<std::unique_ptr<Store>> openSqliteStore(const std::string& dataDir) {
  std::error_code ec;
  std::filesystem::create_directories(dataDir, ec);
  if (ec) return Status::ioError("cannot create data directory " + dataDir + ": " + ec.message());
  if (Status s = checkExistingStore(dataDir + "/vigil.db"); !s) return s;
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
