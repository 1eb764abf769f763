// Internal: the writes a commit makes of a run's row and its listing index, under the
// writer's lock inside the commit's transaction (reading runs: SqliteRunLog).
#pragma once

#include "sqlite_db.h"
#include "vigil/store/batch.h"

namespace vigil::sqlite {

// Whether the stored run is where `w` continues from: absent for a new run, at
// state->lastSeq - events.size() otherwise. Under the writer's lock, in the transaction.
bool continuesStoredRun(StatementCache& writes, const RunWrite& w);
// The run's row and listing index, as `w` leaves them.
void writeRun(StatementCache& writes, const RunWrite& w);
// Schema 10 added the listing index: the runs from before get theirs from their snapshots.
void indexExistingRuns(SQLite::Database& db, StatementCache& writes);

}  // namespace vigil::sqlite
