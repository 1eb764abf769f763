// Retention: what erasing an ended run's personal data keeps and what its erasure record
// says. Policy lives here; a store only carries out an Erasure (vigil/store/batch.h).
#pragma once

#include <string>
#include <vector>

#include "vigil/status.h"
#include "vigil/store.h"

namespace vigil {

struct RetentionPass {
  size_t candidates = 0;             // runs found due; fewer than `max`: none is left
  std::vector<std::string> erased;   // top-level run ids
  // Runs left as they are, and why: one whose history does not fold (for `vigil audit
  // verify` to explain), or that changed while its erasure was prepared (the next pass).
  std::vector<std::pair<std::string, std::string>> skipped;
};

// Takes up to `max` top-level runs of `workflow` that ended before `endedBefore` and erases
// each with its sub-workflow runs in one transaction: their audit payloads, first-open
// times, and the inputs and outputs of their snapshots, each member with an `erasure` audit
// record that keeps which events happened when. An error means the store failed.
Result<RetentionPass> eraseExpiredRuns(Store& store, const std::string& workflow, TimePoint endedBefore, TimePoint now,
                                       const std::string& why, size_t max);

// What stays of a run's state: who started which workflow when, which steps ran and how it
// ended; not what it was about.
Json minimalSnapshot(const Json& snapshot);

}  // namespace vigil
