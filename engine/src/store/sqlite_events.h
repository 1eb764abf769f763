// Internal: a run's events as the store keeps them, once, in the payloads of its chained
// `collection` and `run` audit records. After retention the payloads are gone and the
// run's `erasure` record holds what stays: each event's sequence, type, time, step and
// attempt, without its data.
#pragma once

#include <string>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>

#include "vigil/run.h"

namespace vigil::sqlite {

// The run's events in order; throws SQLite::Exception when a payload cannot be read.
std::vector<Event> chainedEvents(SQLite::Database& db, const std::string& runId);

// What an erasure record keeps of a run's events: [{seq, type, time, step, attempt}].
Json eventSkeleton(const std::vector<Event>& events);

}  // namespace vigil::sqlite
