// Internal: what both stores do the same way, whatever the database: the text forms of
// lists and LIKE patterns the inbox and run look-ups use, and the check that a run write's
// events are in its chained audit record.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "vigil/store/batch.h"
#include "vigil/store/lease_table.h"

namespace vigil::store {

// For LIKE with '\' as the escape character: ids, references and names may hold '%' or '_'.
std::string likeEscaped(const std::string& s);
// ",a,b," so that "contains r" is `LIKE '%,r,%'` (likeItem) and no name matches part of another.
std::string joinList(const std::vector<std::string>& v);
std::vector<std::string> splitList(const std::string& s);
std::string likeItem(const std::string& item);
// The events of a transition are stored only in its chained record: a write whose records
// do not carry all its new events would lose history. The reason to refuse the batch, if so.
std::optional<std::string> eventsNotChained(const RunWrite& w);
// Whether the stored lease rows (every partition's, in order) still give `fence`'s
// partition to its node at its epoch. Expiry does not matter: nobody else can have acted
// on the partition without taking it, which raises the epoch.
bool fenceHolds(const std::vector<Lease>& rows, const RunWrite::Fence& fence);
// Keys of stored work and timer rows ("run\nstep\nattempt", and "\nkind" for a timer), and
// whether every row `w` consumes is among them.
std::string workKey(const std::string& runId, const std::string& step, int attempt);
std::string timerKey(const TimerItem& t);
bool consumedRowsStored(const RunWrite& w, const std::set<std::string>& work, const std::set<std::string>& timers);

}  // namespace vigil::store
