// Partition leases and node heartbeats in the SQLite file. One process owns a data
// directory, so these rows matter little here, but they are the same contract the shared
// store keeps, and the engine leases the same way on both.
#include "sqlite_concerns.h"

namespace vigil::sqlite {
namespace {

Lease leaseAt(SQLite::Statement& q) {
  return Lease{q.getColumn(0).getInt(), q.getColumn(1).getString(), static_cast<uint64_t>(q.getColumn(2).getInt64()),
               fromMs(q.getColumn(3).getInt64())};
}

}  // namespace

Status SqliteLeaseTable::beat(const std::string& node, const std::string& address, TimePoint now) {
  return db_
      .locked("recording a heartbeat",
              [&] {
                auto q = db_.writes(
                    "INSERT INTO nodes(id, address, heartbeat_at) VALUES(?, ?, ?)"
                    " ON CONFLICT(id) DO UPDATE SET address = excluded.address, heartbeat_at = excluded.heartbeat_at");
                q->bind(1, node);
                q->bind(2, address);
                q->bind(3, static_cast<int64_t>(ms(now)));
                q->exec();
                return true;
              })
      .status();
}

Result<std::vector<NodeBeat>> SqliteLeaseTable::nodes() {
  return db_.locked("reading nodes", [&] {
    auto q = db_.writes("SELECT id, address, heartbeat_at FROM nodes ORDER BY id");
    std::vector<NodeBeat> out;
    while (q->executeStep()) out.push_back(NodeBeat{q->getColumn(0).getString(), q->getColumn(1).getString(), fromMs(q->getColumn(2).getInt64())});
    return out;
  });
}

Result<std::vector<Lease>> SqliteLeaseTable::leases() {
  return db_.locked("reading leases", [&] {
    auto q = db_.writes("SELECT part, node, epoch, expires_at FROM leases ORDER BY part");
    std::vector<Lease> out;
    while (q->executeStep()) out.push_back(leaseAt(*q));
    return out;
  });
}

Result<std::vector<Lease>> SqliteLeaseTable::renew(const std::string& node, const std::vector<Lease>& held, TimePoint expiresAt) {
  return db_.locked("renewing leases", [&] {
    Json pairs = Json::array();
    for (const auto& l : held) pairs.push_back(std::to_string(l.partition) + ":" + std::to_string(l.epoch));
    auto q = db_.writes(
        "UPDATE leases SET expires_at = ? WHERE node = ? AND part || ':' || epoch IN (SELECT value FROM json_each(?))"
        " RETURNING part, node, epoch, expires_at");
    q->bind(1, static_cast<int64_t>(ms(expiresAt)));
    q->bind(2, node);
    q->bind(3, pairs.dump());
    std::vector<Lease> out;
    while (q->executeStep()) out.push_back(leaseAt(*q));
    std::sort(out.begin(), out.end(), [](const Lease& a, const Lease& b) { return a.partition < b.partition; });
    return out;
  });
}

Result<std::optional<Lease>> SqliteLeaseTable::take(int partition, uint64_t epoch, const std::string& node, TimePoint expiresAt) {
  return db_.locked("taking a lease", [&] {
    auto q = db_.writes(
        "UPDATE leases SET node = ?, epoch = epoch + 1, expires_at = ? WHERE part = ? AND epoch = ?"
        " RETURNING part, node, epoch, expires_at");
    q->bind(1, node);
    q->bind(2, static_cast<int64_t>(ms(expiresAt)));
    q->bind(3, partition);
    q->bind(4, static_cast<int64_t>(epoch));
    std::optional<Lease> out;
    if (q->executeStep()) {
      out = leaseAt(*q);
      while (q->executeStep()) {  // one row at most (the primary key); stepped to its end
      }
    }
    return out;
  });
}

Status SqliteLeaseTable::release(int partition, uint64_t epoch, const std::string& node) {
  return db_
      .locked("giving a lease back",
              [&] {
                auto q = db_.writes("UPDATE leases SET node = '', expires_at = 0 WHERE part = ? AND epoch = ? AND node = ?");
                q->bind(1, partition);
                q->bind(2, static_cast<int64_t>(epoch));
                q->bind(3, node);
                q->exec();
                return true;
              })
      .status();
}

Status SqliteLeaseTable::leave(const std::string& node) {
  return db_
      .locked("removing a node",
              [&] {
                auto q = db_.writes("DELETE FROM nodes WHERE id = ?");
                q->bind(1, node);
                q->exec();
                return true;
              })
      .status();
}

std::set<std::string> fencedFamilies(StatementCache& writes, const Batch& b) {
  std::set<std::string> out;
  bool fences = false;
  for (const auto& w : b.runs) fences = fences || w.fence.has_value();
  std::vector<Lease> rows;
  if (fences) {
    auto q = writes("SELECT part, node, epoch, expires_at FROM leases ORDER BY part");
    while (q->executeStep()) rows.push_back(leaseAt(*q));
  }
  for (const auto& w : b.runs) {
    std::set<std::string> work, timers;
    for (const auto& x : w.removeWork) {
      auto q = writes("SELECT 1 FROM work WHERE run_id = ? AND step = ? AND attempt = ?");
      q->bind(1, x.runId);
      q->bind(2, x.step);
      q->bind(3, x.attempt);
      if (q->executeStep()) work.insert(store::workKey(x.runId, x.step, x.attempt));
    }
    for (const auto& t : w.removeTimers) {
      auto q = writes("SELECT 1 FROM timers WHERE run_id = ? AND step = ? AND attempt = ? AND kind = ?");
      q->bind(1, t.runId);
      q->bind(2, t.step);
      q->bind(3, t.attempt);
      q->bind(4, t.kind);
      if (q->executeStep()) timers.insert(store::timerKey(t));
    }
    if ((w.fence && !store::fenceHolds(rows, *w.fence)) || !store::consumedRowsStored(w, work, timers)) {
      out.insert(runFamily(w.state->id));
    }
  }
  return out;
}

}  // namespace vigil::sqlite
