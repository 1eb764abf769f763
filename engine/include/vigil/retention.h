// Retention: what erasing an ended run's personal data keeps and what its erasure record
// says. Policy lives here; a store only carries out an Erasure (vigil/store/batch.h).
#pragma once

#include <string>
#include <vector>

#include "vigil/status.h"
#include "vigil/store.h"

namespace vigil {

// Erases up to `max` top-level runs of `workflow` that ended before `endedBefore`, each with
// its sub-workflow runs in one transaction: their audit payloads, first-open times, and
// the inputs and outputs of their snapshots, each member with an `erasure` audit record
// that keeps which events happened when. Returns the ids erased; a run that changed while
// its erasure was prepared is left for the next pass.
Result<std::vector<std::string>> eraseExpiredRuns(Store& store, const std::string& workflow, TimePoint endedBefore,
                                                  TimePoint now, const std::string& why, size_t max);

// What stays of a run's state: who started which workflow when, which steps ran and how it
// ended; not what it was about.
Json minimalSnapshot(const Json& snapshot);

}  // namespace vigil
