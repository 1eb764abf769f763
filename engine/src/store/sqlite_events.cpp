#include "sqlite_events.h"

#include <sqlite3.h>

namespace vigil::sqlite {
namespace {

Event eventOf(const Json& j, const std::string& runId) {
  auto e = Event::fromJson(j);
  if (!e) throw SQLite::Exception("run " + runId + ": a chained event cannot be read", SQLITE_CORRUPT);
  return std::move(e).value();
}

}  // namespace

std::vector<Event> chainedEvents(SQLite::Database& db, const std::string& runId) {
  SQLite::Statement q(db,
                      "SELECT kind, payload FROM audit WHERE run_id = ? AND kind IN ('collection', 'run', 'erasure')"
                      " ORDER BY seq");
  q.bind(1, runId);
  std::vector<Event> out;
  bool erased = false;
  Json skeleton;
  while (q.executeStep()) {
    const std::string kind = q.getColumn(0).getString();
    if (q.getColumn(1).isNull()) {
      erased = erased || kind != "erasure";
      continue;
    }
    Json payload = Json::parse(q.getColumn(1).getString(), nullptr, false);
    if (!payload.is_object()) throw SQLite::Exception("run " + runId + ": an audit payload is not JSON", SQLITE_CORRUPT);
    if (kind == "erasure") {
      if (payload.contains("events")) skeleton = payload["events"];
      continue;
    }
    if (payload.value("run", "") != runId || !payload.contains("events") || !payload["events"].is_array()) continue;
    for (const auto& e : payload["events"]) out.push_back(eventOf(e, runId));
  }
  if (erased && skeleton.is_array()) {
    // Retention took the data: what the erasure record kept is the history that remains.
    out.clear();
    for (const auto& e : skeleton) out.push_back(eventOf(e, runId));
  }
  return out;
}

Json eventSkeleton(const std::vector<Event>& events) {
  Json out = Json::array();
  for (const auto& e : events) {
    Event bare = e;
    bare.data = nullptr;
    out.push_back(bare.toJson());
  }
  return out;
}

}  // namespace vigil::sqlite
