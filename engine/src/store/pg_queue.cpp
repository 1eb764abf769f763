// Work and timers in PostgreSQL, written with the transitions that create and consume them.
#include "pg_concerns.h"

namespace vigil::pg {

Result<std::vector<WorkItem>> PgWorkQueue::pending() {
  return db_.reading("reading work", [&] {
    Rows r = db_.reader->exec("SELECT run_id, step, attempt, command FROM work ORDER BY run_id, step, attempt");
    std::vector<WorkItem> out;
    for (int i = 0; i < r.size(); ++i) {
      out.push_back(WorkItem{r.text(i, 0), r.text(i, 1), static_cast<int>(r.i64(i, 2)), Json::parse(r.text(i, 3), nullptr, false)});
    }
    return out;
  });
}

Result<std::vector<TimerItem>> PgWorkQueue::dueTimers(TimePoint now, size_t max) {
  return db_.reading("reading timers", [&] {
    Rows r = db_.reader->exec("SELECT run_id, step, attempt, kind, due FROM timers WHERE due <= $1 ORDER BY due, run_id LIMIT $2",
                              Params().time(now).i64(static_cast<long long>(max)));
    std::vector<TimerItem> out;
    for (int i = 0; i < r.size(); ++i) {
      out.push_back(TimerItem{r.text(i, 0), r.text(i, 1), static_cast<int>(r.i64(i, 2)), r.text(i, 3), r.time(i, 4)});
    }
    return out;
  });
}

Result<std::optional<TimePoint>> PgWorkQueue::nextTimerDue() {
  return db_.reading("reading timers", [&] {
    Rows r = db_.reader->exec("SELECT min(due) FROM timers");
    if (r.size() == 0 || r.null(0, 0)) return std::optional<TimePoint>();
    return std::optional<TimePoint>(r.time(0, 0));
  });
}

void writeWorkAndTimers(Writes& out, const RunWrite& w) {
  for (const auto& x : w.removeWork) {
    out.add("DELETE FROM work WHERE run_id = $1 AND step = $2 AND attempt = $3", Params().text(x.runId).text(x.step).i64(x.attempt));
  }
  for (const auto& x : w.addWork) {
    out.add("INSERT INTO work(run_id, step, attempt, command) VALUES($1, $2, $3, $4)"
           " ON CONFLICT(run_id, step, attempt) DO UPDATE SET command = excluded.command",
           Params().text(x.runId).text(x.step).i64(x.attempt).text(x.command.dump()));
  }
  for (const auto& t : w.removeTimers) {
    out.add("DELETE FROM timers WHERE run_id = $1 AND step = $2 AND attempt = $3 AND kind = $4",
           Params().text(t.runId).text(t.step).i64(t.attempt).text(t.kind));
  }
  for (const auto& t : w.addTimers) {
    out.add("INSERT INTO timers(run_id, step, attempt, kind, due) VALUES($1, $2, $3, $4, $5)"
           " ON CONFLICT(run_id, step, attempt, kind) DO UPDATE SET due = excluded.due",
           Params().text(t.runId).text(t.step).i64(t.attempt).text(t.kind).time(t.due));
  }
}

}  // namespace vigil::pg
