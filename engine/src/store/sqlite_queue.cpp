#include "sqlite_queue.h"

#include "sqlite_concerns.h"

namespace vigil::sqlite {

Result<std::vector<WorkItem>> SqliteWorkQueue::pending() {
  return db_.locked("reading work", [&] {
    auto q = db_.writes("SELECT run_id, step, attempt, command FROM work");
    std::vector<WorkItem> out;
    while (q->executeStep()) {
      out.push_back(WorkItem{q->getColumn(0).getString(), q->getColumn(1).getString(), q->getColumn(2).getInt(),
                             Json::parse(q->getColumn(3).getString(), nullptr, false)});
    }
    return out;
  });
}

Result<std::vector<TimerItem>> SqliteWorkQueue::dueTimers(TimePoint now, size_t max) {
  return db_.locked("reading timers", [&] {
    auto q = db_.writes("SELECT run_id, step, attempt, kind, due FROM timers WHERE due <= ? ORDER BY due, run_id LIMIT ?");
    q->bind(1, static_cast<int64_t>(ms(now)));
    q->bind(2, static_cast<int64_t>(max));
    std::vector<TimerItem> out;
    while (q->executeStep()) {
      out.push_back(TimerItem{q->getColumn(0).getString(), q->getColumn(1).getString(), q->getColumn(2).getInt(),
                              q->getColumn(3).getString(), fromMs(q->getColumn(4).getInt64())});
    }
    return out;
  });
}

Result<std::optional<TimePoint>> SqliteWorkQueue::nextTimerDue() {
  return db_.locked("reading timers", [&] {
    auto q = db_.writes("SELECT min(due) FROM timers");
    if (!q->executeStep() || q->getColumn(0).isNull()) return std::optional<TimePoint>();
    return std::optional<TimePoint>(fromMs(q->getColumn(0).getInt64()));
  });
}

void writeWorkAndTimers(StatementCache& writes, const RunWrite& w) {
  for (const auto& x : w.removeWork) {
    auto q = writes("DELETE FROM work WHERE run_id = ? AND step = ? AND attempt = ?");
    q->bind(1, x.runId);
    q->bind(2, x.step);
    q->bind(3, x.attempt);
    q->exec();
  }
  for (const auto& x : w.addWork) {
    auto q = writes("INSERT OR REPLACE INTO work(run_id, step, attempt, command) VALUES(?, ?, ?, ?)");
    q->bind(1, x.runId);
    q->bind(2, x.step);
    q->bind(3, x.attempt);
    q->bind(4, x.command.dump());
    q->exec();
  }
  for (const auto& t : w.removeTimers) {
    auto q = writes("DELETE FROM timers WHERE run_id = ? AND step = ? AND attempt = ? AND kind = ?");
    q->bind(1, t.runId);
    q->bind(2, t.step);
    q->bind(3, t.attempt);
    q->bind(4, t.kind);
    q->exec();
  }
  for (const auto& t : w.addTimers) {
    auto q = writes("INSERT OR REPLACE INTO timers(run_id, step, attempt, kind, due) VALUES(?, ?, ?, ?, ?)");
    q->bind(1, t.runId);
    q->bind(2, t.step);
    q->bind(3, t.attempt);
    q->bind(4, t.kind);
    q->bind(5, static_cast<int64_t>(ms(t.due)));
    q->exec();
  }
}

}  // namespace vigil::sqlite
