// The sql connectors against real databases: SQLite files in a temp dir, and a PostgreSQL 15
// server started by the test (postgres_server.h).
#include "vigil/sql_connector.h"

#include <SQLiteCpp/Database.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>

#include "postgres_server.h"

using namespace std::chrono_literals;
using vigil::CallOutcome;
using vigil::Json;
using vigil::SqlConnection;
using vigil::test::PostgresServer;

namespace {

const std::string kInjection = "x'); DROP TABLE people; --INJECTIONMARKER";
const std::string kPersonal = "Ada-PERSONALVALUE";

// Every failure: no secret, parameter value or SQL text in the message.
void expectClean(const CallOutcome& o) {
  CHECK(o.message.find(PostgresServer::kPassword) == std::string::npos);
  CHECK(o.message.find("INJECTIONMARKER") == std::string::npos);
  CHECK(o.message.find(kPersonal) == std::string::npos);
  CHECK(o.message.find("SELECT") == std::string::npos);
  CHECK(o.message.find("UPDATE") == std::string::npos);
}

void expectFailure(const CallOutcome& o, const std::string& code, bool retryable) {
  INFO(o.code << ": " << o.message);
  CHECK_FALSE(o.ok);
  CHECK(o.code == code);
  CHECK(o.retryable == retryable);
  expectClean(o);
}

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/vigil-sql-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

std::map<std::string, std::string> commonQueries() {
  return {{"by_id", "SELECT id, name, score, data, note FROM people WHERE id = :id"},
          {"by_name", "SELECT id FROM people WHERE name = :name -- a comment with :notaparam"},
          {"all", "SELECT id FROM people ORDER BY id"},
          {"bump", "UPDATE people SET score = score + 1 WHERE id = :id"},
          {"add", "INSERT INTO people (id, name) VALUES (:id, :name)"},
          {"colon_in_literal", "SELECT ':notaparam' AS text, :id AS id"}};
}

struct Harness {
  explicit Harness(std::vector<SqlConnection> connections, std::chrono::milliseconds timeout = 5s,
                   size_t maxRows = 100, std::string password = PostgresServer::kPassword) {
    vigil::SqlConnectorOptions o;
    o.connections = std::move(connections);
    o.timeout = timeout;
    o.maxRows = maxRows;
    o.secrets = [password](const std::string& name) -> std::optional<std::string> {
      if (name == "pg-password") return password;
      return std::nullopt;
    };
    auto s = vigil::registerSqlConnectors(registry, o);
    INFO(s.message());
    REQUIRE(s.isOk());
  }
  CallOutcome call(const std::string& connector, const std::string& action, Json input,
                   std::optional<vigil::TimePoint> deadline = std::nullopt) {
    vigil::ConnectorCall c;
    c.action = action;
    c.input = std::move(input);
    c.deadline = deadline;
    auto found = registry.find(connector);
    REQUIRE(found != nullptr);
    CallOutcome o = found->call(c);
    if (!o.ok) expectClean(o);
    return o;
  }
  vigil::ConnectorRegistry registry;
};

SqlConnection sqlite(const std::string& name, const std::string& path, bool writable) {
  SqlConnection c;
  c.name = name;
  c.sqlitePath = path;
  c.writable = writable;
  c.queries = commonQueries();
  c.queries["slow"] =
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) AS n FROM c WHERE x < :n";
  return c;
}

std::string makeSqliteDb(const TempDir& dir) {
  std::string path = dir.path + "/rms.db";
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, score REAL DEFAULT 0, data BLOB, note TEXT)");
  db.exec("INSERT INTO people VALUES (1, 'Ada-PERSONALVALUE', 1.5, x'00ff10', NULL)");
  for (int i = 2; i <= 20; ++i) db.exec("INSERT INTO people (id, name) VALUES (" + std::to_string(i) + ", 'p')");
  return path;
}

}  // namespace

TEST_CASE("sqlite: query with params maps column types", "[sql]") {
  TempDir dir;
  Harness h({sqlite("rms", makeSqliteDb(dir), false)});
  auto o = h.call("rms", "query", {{"name", "by_id"}, {"params", {{"id", 1}}}});
  REQUIRE(o.ok);
  CHECK(o.output["count"] == 1);
  const Json& row = o.output["rows"][0];
  CHECK(row["id"] == 1);
  CHECK(row["name"] == kPersonal);
  CHECK(row["score"] == 1.5);
  CHECK(row["data"] == Json{{"$base64", "AP8Q"}});
  CHECK(row["note"].is_null());

  auto literal = h.call("rms", "query", {{"name", "colon_in_literal"}, {"params", {{"id", 7}}}});
  REQUIRE(literal.ok);
  CHECK(literal.output["rows"][0]["text"] == ":notaparam");
  CHECK(literal.output["rows"][0]["id"] == 7);
}

TEST_CASE("sqlite: an injection attempt in a value is just data", "[sql]") {
  TempDir dir;
  std::string path = makeSqliteDb(dir);
  Harness h({sqlite("rms", path, true)});
  auto none = h.call("rms", "query", {{"name", "by_name"}, {"params", {{"name", kInjection}}}});
  REQUIRE(none.ok);
  CHECK(none.output["count"] == 0);
  REQUIRE(h.call("rms", "execute", {{"name", "add"}, {"params", {{"id", 99}, {"name", kInjection}}}}).ok);
  auto back = h.call("rms", "query", {{"name", "by_name"}, {"params", {{"name", kInjection}}}});
  REQUIRE(back.ok);
  CHECK(back.output["rows"][0]["id"] == 99);
  CHECK(h.call("rms", "query", {{"name", "all"}}).output["count"] == 21);
}

TEST_CASE("sqlite: writes are refused unless writable and `execute`", "[sql]") {
  TempDir dir;
  std::string path = makeSqliteDb(dir);
  Harness h({sqlite("ro", path, false), sqlite("rw", path, true)});
  expectFailure(h.call("ro", "query", {{"name", "bump"}, {"params", {{"id", 1}}}}), "read_only", false);
  expectFailure(h.call("ro", "execute", {{"name", "bump"}, {"params", {{"id", 1}}}}), "read_only", false);
  expectFailure(h.call("rw", "query", {{"name", "bump"}, {"params", {{"id", 1}}}}), "read_only", false);
  CHECK(h.registry.action("ro", "execute") == std::nullopt);
  REQUIRE(h.registry.action("rw", "execute"));
  CHECK(h.registry.action("rw", "execute")->access == "alteration");

  auto changed = h.call("rw", "execute", {{"name", "bump"}, {"params", {{"id", 1}}}});
  REQUIRE(changed.ok);
  CHECK(changed.output["changed"] == 1);
  CHECK(h.call("ro", "query", {{"name", "by_id"}, {"params", {{"id", 1}}}}).output["rows"][0]["score"] == 2.5);
}

TEST_CASE("sqlite: invalid requests name the query and the field", "[sql]") {
  TempDir dir;
  Harness h({sqlite("rms", makeSqliteDb(dir), false)});
  auto unknown = h.call("rms", "query", {{"name", "nope"}});
  expectFailure(unknown, "invalid_request", false);
  CHECK(unknown.message.find("nope") != std::string::npos);
  auto missing = h.call("rms", "query", {{"name", "by_id"}, {"params", Json::object()}});
  expectFailure(missing, "invalid_request", false);
  CHECK(missing.message.find("'id'") != std::string::npos);
  auto extra = h.call("rms", "query", {{"name", "by_id"}, {"params", {{"id", 1}, {"other", kPersonal}}}});
  expectFailure(extra, "invalid_request", false);
  CHECK(extra.message.find("'other'") != std::string::npos);
  expectFailure(h.call("rms", "query", {{"name", "by_id"}, {"params", {{"id", {1, 2}}}}}), "invalid_request", false);
  expectFailure(h.call("rms", "query", {{"name", "all"}, {"sql", "DROP TABLE people"}}), "invalid_request", false);
  expectFailure(h.call("rms", "drop", {{"name", "all"}}), "unknown_action", false);
}

TEST_CASE("sqlite: unreachable, timeout, too many rows, deadline", "[sql]") {
  TempDir dir;
  std::string path = makeSqliteDb(dir);
  Harness h({sqlite("rms", path, false), sqlite("gone", dir.path + "/missing.db", false)}, 300ms, 10);
  expectFailure(h.call("gone", "query", {{"name", "all"}}), "unreachable", true);
  CHECK_FALSE(std::filesystem::exists(dir.path + "/missing.db"));

  auto start = std::chrono::steady_clock::now();
  expectFailure(h.call("rms", "query", {{"name", "slow"}, {"params", {{"n", -1}}}}), "timeout", true);
  CHECK(std::chrono::steady_clock::now() - start < 3s);

  expectFailure(h.call("rms", "query", {{"name", "all"}}), "too_many_rows", false);
  auto past = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) - 1s;
  expectFailure(h.call("rms", "query", {{"name", "by_id"}, {"params", {{"id", 1}}}}, past), "timeout", true);

  // A write lock held elsewhere: the reader waits busy_timeout, then times out.
  SQLite::Database locker(path, SQLite::OPEN_READWRITE);
  locker.exec("BEGIN EXCLUSIVE");
  expectFailure(h.call("rms", "query", {{"name", "by_id"}, {"params", {{"id", 1}}}}), "timeout", true);
  locker.exec("ROLLBACK");
}

TEST_CASE("sql: registration checks every statement", "[sql]") {
  auto refused = [](SqlConnection c) {
    vigil::ConnectorRegistry r;
    vigil::SqlConnectorOptions o;
    o.connections = {std::move(c)};
    auto s = vigil::registerSqlConnectors(r, o);
    CHECK_FALSE(s.isOk());
    CHECK(r.names().empty());
    return s.message();
  };
  SqlConnection lite;
  lite.name = "lite";
  lite.sqlitePath = "/nonexistent.db";
  for (std::string bad : {"SELECT :", "SELECT : x", "SELECT ?", "SELECT @x", "SELECT 1; DELETE FROM t",
                          "SELECT 'unterminated", "SELECT 1 /* open"}) {
    lite.queries = {{"q", bad}};
    INFO(bad);
    CHECK(refused(lite).find("query 'q'") != std::string::npos);
  }
  SqlConnection pg;
  pg.name = "pg";
  pg.kind = SqlConnection::Kind::kPostgres;
  pg.postgresConninfo = "host=127.0.0.1 password=" + std::string(PostgresServer::kPassword);
  pg.queries = {{"q", "SELECT 1"}};
  CHECK(refused(pg).find(PostgresServer::kPassword) == std::string::npos);
  pg.postgresConninfo = "host=127.0.0.1";
  for (std::string bad : {"SELECT $1", "SELECT :", "SELECT 1; SELECT 2"}) {
    pg.queries = {{"q", bad}};
    INFO(bad);
    refused(pg);
  }
  // Casts, dollar quotes and E'' strings are not placeholders; a trailing ';' is fine.
  pg.queries = {{"q", "SELECT :a::int, $$ :x $$, $t$ ; :y $t$, E'it\\'s :z', :a;"}};
  vigil::ConnectorRegistry r;
  vigil::SqlConnectorOptions o;
  o.connections = {pg};
  REQUIRE(vigil::registerSqlConnectors(r, o).isOk());
  CHECK(vigil::registerSqlConnectors(r, o).code() == vigil::Status::Code::kAlreadyExists);
}

// ---- PostgreSQL -------------------------------------------------------------------------

namespace {

PostgresServer* server() {
  std::string why;
  PostgresServer* s = PostgresServer::shared(why);
  if (s == nullptr) {
    WARN("PostgreSQL tests skipped: " << why);
    return nullptr;
  }
  static bool ready = [&] {
    bool ok = s->exec(
        "CREATE TABLE IF NOT EXISTS people (id int PRIMARY KEY, name text, score float8 DEFAULT 0, data bytea, "
        "note text, active bool DEFAULT true, info jsonb DEFAULT '{\"k\": [1]}', big numeric DEFAULT 12.50);"
        "INSERT INTO people (id, name, score, data) VALUES (1, 'Ada-PERSONALVALUE', 1.5, '\\x00ff10') "
        "ON CONFLICT DO NOTHING;"
        "INSERT INTO people (id, name) SELECT g, 'p' FROM generate_series(2, 20) g ON CONFLICT DO NOTHING;",
        why);
    if (!ok) WARN("PostgreSQL setup failed: " << why);
    return ok;
  }();
  return ready ? s : nullptr;
}

SqlConnection postgres(const std::string& name, const PostgresServer& s, bool writable) {
  SqlConnection c;
  c.name = name;
  c.kind = SqlConnection::Kind::kPostgres;
  c.postgresConninfo = s.conninfo();
  c.passwordSecret = "pg-password";
  c.writable = writable;
  c.queries = commonQueries();
  c.queries["by_id"] = "SELECT id, name, score, data, note, active, info, big FROM people WHERE id = :id";
  c.queries["colon_in_literal"] = "SELECT ':notaparam' AS text, :id::int AS id";
  c.queries["slow"] = "SELECT pg_sleep(:seconds)";
  c.queries["series"] = "SELECT g FROM generate_series(1, :n) g";
  return c;
}

}  // namespace

TEST_CASE("postgres: query with params maps column types", "[sql][postgres]") {
  auto* s = server();
  if (s == nullptr) return;
  Harness h({postgres("rms", *s, false)});
  auto o = h.call("rms", "query", {{"name", "by_id"}, {"params", {{"id", 1}}}});
  INFO(o.message);
  REQUIRE(o.ok);
  CHECK(o.output["count"] == 1);
  const Json& row = o.output["rows"][0];
  CHECK(row["id"] == 1);
  CHECK(row["name"] == kPersonal);
  CHECK(row["score"] == 1.5);
  CHECK(row["data"] == Json{{"$base64", "AP8Q"}});
  CHECK(row["note"].is_null());
  CHECK(row["active"] == true);
  CHECK(row["info"] == Json{{"k", {1}}});
  CHECK(row["big"] == "12.50");
  auto literal = h.call("rms", "query", {{"name", "colon_in_literal"}, {"params", {{"id", 7}}}});
  REQUIRE(literal.ok);
  CHECK(literal.output["rows"][0] == Json{{"text", ":notaparam"}, {"id", 7}});
  // The pooled connection is reused.
  CHECK(h.call("rms", "query", {{"name", "series"}, {"params", {{"n", 3}}}}).output["count"] == 3);
}

TEST_CASE("postgres: injection is data, writes need a writable connection and `execute`", "[sql][postgres]") {
  auto* s = server();
  if (s == nullptr) return;
  std::string why;
  REQUIRE(s->exec("DELETE FROM people WHERE id >= 100", why));
  Harness h({postgres("ro", *s, false), postgres("rw", *s, true)});
  auto none = h.call("ro", "query", {{"name", "by_name"}, {"params", {{"name", kInjection}}}});
  REQUIRE(none.ok);
  CHECK(none.output["count"] == 0);

  expectFailure(h.call("ro", "query", {{"name", "bump"}, {"params", {{"id", 1}}}}), "read_only", false);
  expectFailure(h.call("ro", "execute", {{"name", "bump"}, {"params", {{"id", 1}}}}), "read_only", false);
  expectFailure(h.call("rw", "query", {{"name", "add"}, {"params", {{"id", 100}, {"name", "x"}}}}), "read_only",
                false);

  auto added = h.call("rw", "execute", {{"name", "add"}, {"params", {{"id", 100}, {"name", kInjection}}}});
  INFO(added.message);
  REQUIRE(added.ok);
  CHECK(added.output["changed"] == 1);
  auto back = h.call("ro", "query", {{"name", "by_name"}, {"params", {{"name", kInjection}}}});
  REQUIRE(back.ok);
  CHECK(back.output["rows"][0]["id"] == 100);
  // A constraint violation is an sql_error that quotes neither the value nor the SQL.
  auto dup = h.call("rw", "execute", {{"name", "add"}, {"params", {{"id", 100}, {"name", kPersonal}}}});
  expectFailure(dup, "sql_error", false);
  CHECK(dup.message.find("23505") != std::string::npos);
  // A bad value for the column type is refused by the server, again without the value.
  expectFailure(h.call("ro", "query", {{"name", "by_id"}, {"params", {{"id", kPersonal}}}}), "sql_error", false);
}

TEST_CASE("postgres: invalid requests, timeout, too many rows", "[sql][postgres]") {
  auto* s = server();
  if (s == nullptr) return;
  Harness h({postgres("rms", *s, false)}, 300ms, 10);
  expectFailure(h.call("rms", "query", {{"name", "nope"}}), "invalid_request", false);
  auto missing = h.call("rms", "query", {{"name", "by_id"}});
  expectFailure(missing, "invalid_request", false);
  CHECK(missing.message.find("'id'") != std::string::npos);

  auto start = std::chrono::steady_clock::now();
  expectFailure(h.call("rms", "query", {{"name", "slow"}, {"params", {{"seconds", 5}}}}), "timeout", true);
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  // The call deadline, when sooner than the option, sets the statement timeout.
  Harness patient({postgres("rms", *s, false)}, 30s, 10);
  auto soon = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) + 300ms;
  start = std::chrono::steady_clock::now();
  expectFailure(patient.call("rms", "query", {{"name", "slow"}, {"params", {{"seconds", 5}}}}, soon), "timeout", true);
  CHECK(std::chrono::steady_clock::now() - start < 3s);

  expectFailure(h.call("rms", "query", {{"name", "series"}, {"params", {{"n", 11}}}}), "too_many_rows", false);
  CHECK(h.call("rms", "query", {{"name", "series"}, {"params", {{"n", 10}}}}).output["count"] == 10);
}

TEST_CASE("postgres: password from the secret lookup, never in a message, unreachable", "[sql][postgres]") {
  auto* s = server();
  if (s == nullptr) return;
  Harness wrong({postgres("rms", *s, false)}, 5s, 100, "wrong-SECRETVALUE");
  auto o = wrong.call("rms", "query", {{"name", "all"}});
  expectFailure(o, "unreachable", true);
  CHECK(o.message.find("wrong-SECRETVALUE") == std::string::npos);

  SqlConnection unnamed = postgres("rms", *s, false);
  unnamed.passwordSecret = "no-such-secret";
  Harness noSecret({unnamed});
  auto missing = noSecret.call("rms", "query", {{"name", "all"}});
  expectFailure(missing, "secret_missing", false);
  CHECK(missing.message.find("no-such-secret") != std::string::npos);

  SqlConnection down = postgres("down", *s, false);
  down.postgresConninfo = "host=127.0.0.1 port=" + std::to_string(vigil::test::freePort()) + " dbname=postgres user=vigil";
  Harness h({down});
  expectFailure(h.call("down", "query", {{"name", "all"}}), "unreachable", true);
}
