// Internal: a run's events from its chained audit records in SQLite (ChainedEvents).
#pragma once

#include <string>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>

#include "sqlite_statements.h"
#include "vigil/chained_events.h"

namespace vigil::sqlite {

// The run's events in order; throws SQLite::Exception when a payload cannot be read.
std::vector<Event> chainedEvents(StatementCache& db, const std::string& runId);

}  // namespace vigil::sqlite
