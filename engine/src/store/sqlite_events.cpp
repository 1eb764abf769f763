#include "sqlite_events.h"

#include <sqlite3.h>

namespace vigil::sqlite {

std::vector<Event> chainedEvents(StatementCache& db, const std::string& runId) {
  // "run_id <> ''" lets SQLite use the partial index audit_run (a bound "run_id = ?" alone
  // does not prove the row is in it): without it every run read scanned the whole chain.
  auto use = db("SELECT kind, payload FROM audit WHERE run_id = ? AND run_id <> '' AND kind IN ('collection', 'run', 'erasure')"
                " ORDER BY seq");
  SQLite::Statement& q = *use;
  q.bind(1, runId);
  ChainedEvents events(runId);
  while (q.executeStep()) {
    std::optional<std::string> payload;
    if (!q.getColumn(1).isNull()) payload = q.getColumn(1).getString();
    if (Status s = events.add(q.getColumn(0).getString(), payload); !s) throw SQLite::Exception(s.message(), SQLITE_CORRUPT);
  }
  return events.take();
}

}  // namespace vigil::sqlite
