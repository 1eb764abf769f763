// Internal: the writes a commit makes of one run's work and timers, under the writer's
// lock inside the commit's transaction (reading them: SqliteWorkQueue).
#pragma once

#include "sqlite_db.h"
#include "vigil/store/batch.h"

namespace vigil::sqlite {

void writeWorkAndTimers(StatementCache& writes, const RunWrite& w);

}  // namespace vigil::sqlite
