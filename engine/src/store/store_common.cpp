#include "store_common.h"

namespace vigil::store {

std::string likeEscaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string joinList(const std::vector<std::string>& v) {
  std::string out = ",";
  for (const auto& s : v) out += s + ",";
  return out;
}

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start < s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) break;
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string likeItem(const std::string& item) { return "%," + likeEscaped(item) + ",%"; }

std::optional<std::string> eventsNotChained(const RunWrite& w) {
  if (w.events.empty()) return std::nullopt;
  size_t chained = 0;
  for (const auto& e : w.audit) {
    if ((e.kind == "run" || e.kind == "collection") && e.runId == w.state->id && e.payload.is_object() &&
        e.payload.contains("events")) {
      chained += e.payload["events"].size();
    }
  }
  if (chained == w.events.size()) return std::nullopt;
  return "run " + w.state->id + ": its events are not in its audit record";
}

bool fenceHolds(const std::vector<Lease>& rows, const RunWrite::Fence& fence) {
  if (fence.partition < 0 || static_cast<size_t>(fence.partition) >= rows.size()) return false;
  const Lease& l = rows[static_cast<size_t>(fence.partition)];
  return l.partition == fence.partition && l.node == fence.node && l.epoch == fence.epoch;
}

std::string workKey(const std::string& runId, const std::string& step, int attempt) {
  return runId + '\n' + step + '\n' + std::to_string(attempt);
}

std::string timerKey(const TimerItem& t) { return workKey(t.runId, t.step, t.attempt) + '\n' + t.kind; }

bool consumedRowsStored(const RunWrite& w, const std::set<std::string>& work, const std::set<std::string>& timers) {
  for (const auto& x : w.removeWork) {
    if (work.count(workKey(x.runId, x.step, x.attempt)) == 0) return false;
  }
  for (const auto& t : w.removeTimers) {
    if (timers.count(timerKey(t)) == 0) return false;
  }
  return true;
}

}  // namespace vigil::store
