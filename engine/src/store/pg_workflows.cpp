// Workflow definitions in PostgreSQL, by hash.
#include "pg_concerns.h"

namespace vigil::pg {

Status PgWorkflowDefinitions::put(const std::string& hash, const std::string& name, int version, const std::string& source) {
  return db_
      .locked("storing workflow",
              [&] {
                db_.writer->exec("INSERT INTO workflows(hash, name, version, source) VALUES($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                                 Params().text(hash).text(name).i64(version).text(source));
                return true;
              })
      .status();
}

Result<std::string> PgWorkflowDefinitions::source(const std::string& hash) {
  auto r = db_.reading("reading workflow", [&]() -> std::optional<std::string> {
    Rows q = db_.reader->exec("SELECT source FROM workflows WHERE hash = $1", Params().text(hash));
    if (q.size() == 0) return std::nullopt;
    return q.text(0, 0);
  });
  if (!r) return r.status();
  if (!*r) return Status::notFound("no workflow with hash " + hash);
  return std::move(r.value()).value();
}

Result<std::vector<WorkflowDefinitions::Latest>> PgWorkflowDefinitions::latest() {
  return db_.reading("listing workflows", [&] {
    Rows q = db_.reader->exec("SELECT DISTINCT ON (name) name, version, hash FROM workflows ORDER BY name, version DESC, hash");
    std::vector<Latest> out;
    for (int i = 0; i < q.size(); ++i) out.push_back({q.text(i, 0), static_cast<int>(q.i64(i, 1)), q.text(i, 2)});
    return out;
  });
}

}  // namespace vigil::pg
