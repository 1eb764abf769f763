// The PostgreSQL schema's upgrades (pg_schema.h): each migration in its own transaction,
// under an advisory lock held for the transaction, so two nodes starting together apply
// it once; a database of a newer schema, or not in UTF-8, is refused before anything writes.
#include "pg_concerns.h"
#include "pg_schema.h"

namespace vigil::pg {
namespace {

// pg_advisory_xact_lock's key for "vigil schema".
constexpr long long kMigrationLock = 0x76696769'6c736368LL;

int storedVersion(Conn& c) {
  Rows t = c.exec("SELECT to_regclass('meta') IS NOT NULL");
  if (t.text(0, 0) != "t") return 0;
  Rows v = c.exec("SELECT value FROM meta WHERE key = 'schema_version'");
  if (v.size() == 0) throw Error("the database has a vigil meta table without a schema version", "");
  return std::stoi(v.text(0, 0));
}

}  // namespace

void migrate(Conn& c, bool upgrade) {
  Rows enc = c.exec("SELECT current_setting('server_encoding')");
  if (enc.text(0, 0) != "UTF8") {
    throw Error("the database's encoding is " + enc.text(0, 0) + ", not UTF8: create it WITH ENCODING 'UTF8'", "");
  }
  const int newest = migrations().back().version;
  for (const auto& m : migrations()) {
    c.run("BEGIN");
    try {
      c.exec("SELECT pg_advisory_xact_lock($1)", Params().i64(kMigrationLock));
      const int have = storedVersion(c);
      if (have > newest) {
        throw Error("the database holds schema version " + std::to_string(have) + ", newer than this build's " +
                        std::to_string(newest) + ": run a newer vigil",
                    "");
      }
      if (have < m.version && !upgrade) {
        throw Error("the database holds schema version " + std::to_string(have) + ", older than this build's " +
                        std::to_string(newest) + ": run vigil store migrate first",
                    "");
      }
      if (have < m.version) {
        c.run(m.sql);
        c.exec("INSERT INTO meta(key, value) VALUES('schema_version', $1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
               Params().i64(m.version));
      }
      c.run("COMMIT");
    } catch (...) {
      try {
        c.run("ROLLBACK");
      } catch (const Error&) {
        // The connection is gone: so is the transaction.
      }
      throw;
    }
  }
}

}  // namespace vigil::pg
