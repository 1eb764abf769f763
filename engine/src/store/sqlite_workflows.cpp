// Workflow definitions in SQLite, by hash.
#include "sqlite_concerns.h"

namespace vigil::sqlite {

Status SqliteWorkflowDefinitions::put(const std::string& hash, const std::string& name, int version, const std::string& source) {
  return db_
      .locked("storing workflow",
              [&] {
                auto q = db_.writes("INSERT OR IGNORE INTO workflows(hash, name, version, source) VALUES(?, ?, ?, ?)");
                q->bind(1, hash);
                q->bind(2, name);
                q->bind(3, version);
                q->bind(4, source);
                q->exec();
                return true;
              })
      .status();
}

Result<std::string> SqliteWorkflowDefinitions::source(const std::string& hash) {
  auto r = db_.locked("reading workflow", [&]() -> std::optional<std::string> {
    auto q = db_.writes("SELECT source FROM workflows WHERE hash = ?");
    q->bind(1, hash);
    if (!q->executeStep()) return std::nullopt;
    return q->getColumn(0).getString();
  });
  if (!r) return r.status();
  if (!*r) return Status::notFound("no workflow with hash " + hash);
  return std::move(r.value()).value();
}

Result<std::vector<WorkflowDefinitions::Latest>> SqliteWorkflowDefinitions::latest() {
  return db_.locked("listing workflows", [&] {
    // SQLite takes the bare columns from the row holding max(version).
    auto q = db_.writes("SELECT name, max(version), hash FROM workflows GROUP BY name ORDER BY name");
    std::vector<Latest> out;
    while (q->executeStep()) out.push_back({q->getColumn(0).getString(), q->getColumn(1).getInt(), q->getColumn(2).getString()});
    return out;
  });
}

}  // namespace vigil::sqlite
