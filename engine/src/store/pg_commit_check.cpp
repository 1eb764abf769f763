// What a PostgreSQL commit checks before it writes, in one round trip: the runs' last
// events (another writer may have moved a family on), the leases its fences name, and the
// work and timer rows it consumes. Each part is a JSON aggregate, so one row carries them
// all whatever their sizes.
#include "pg_concerns.h"

namespace vigil::pg {

CommitState readCommitState(Conn& c, const Batch& batch) {
  CommitState out;
  out.leases.resize(kPartitions);
  for (auto& l : out.leases) l.partition = -1;  // not read: fails any fence
  std::vector<std::string> ids, parts, consuming;
  for (const auto& w : batch.runs) {
    ids.push_back(w.state->id);
    if (w.fence) parts.push_back(std::to_string(w.fence->partition));
    if (!w.removeWork.empty() || !w.removeTimers.empty()) consuming.push_back(w.state->id);
  }
  if (ids.empty()) return out;
  std::string partArray = "{";
  for (const auto& p : parts) partArray += (partArray.size() > 1 ? "," : "") + p;
  partArray += "}";
  Rows r = c.exec(
      "SELECT (SELECT coalesce(json_agg(json_build_array(id, last_seq)), '[]') FROM runs WHERE id = ANY($1::text[])),"
      " (SELECT coalesce(json_agg(json_build_array(part, node, epoch) ORDER BY part), '[]')"
      "   FROM (SELECT part, node, epoch FROM leases WHERE part = ANY($2::int[]) ORDER BY part FOR SHARE) l),"
      " (SELECT coalesce(json_agg(json_build_array(run_id, step, attempt)), '[]') FROM work WHERE run_id = ANY($3::text[])),"
      " (SELECT coalesce(json_agg(json_build_array(run_id, step, attempt, kind)), '[]') FROM timers WHERE run_id = ANY($3::text[]))",
      Params().text(textArray(ids)).text(partArray).text(textArray(consuming)));
  const Json runs = Json::parse(r.text(0, 0));
  for (const auto& x : runs) out.lastSeqs[x[0].get<std::string>()] = x[1].get<long long>();
  for (const auto& x : Json::parse(r.text(0, 1))) {
    const int p = x[0].get<int>();
    if (p >= 0 && p < kPartitions) out.leases[static_cast<size_t>(p)] = Lease{p, x[1].get<std::string>(), x[2].get<uint64_t>(), {}};
  }
  for (const auto& x : Json::parse(r.text(0, 2))) out.work.insert(store::workKey(x[0], x[1], x[2].get<int>()));
  for (const auto& x : Json::parse(r.text(0, 3))) {
    out.timers.insert(store::timerKey(TimerItem{x[0], x[1], x[2].get<int>(), x[3], {}}));
  }
  return out;
}

bool continuesStoredRun(const CommitState& stored, const RunWrite& w) {
  auto it = stored.lastSeqs.find(w.state->id);
  if (it == stored.lastSeqs.end()) return w.created;
  return !w.created && static_cast<uint64_t>(it->second) == w.state->lastSeq - w.events.size();
}

bool fenceHolds(const CommitState& stored, const RunWrite& w) {
  if (w.fence && !store::fenceHolds(stored.leases, *w.fence)) return false;
  return store::consumedRowsStored(w, stored.work, stored.timers);
}

}  // namespace vigil::pg
