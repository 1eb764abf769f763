// What the PostgreSQL store does beyond the conformance suite (which runs every engine test
// on it): its schema versions, the databases and conninfos it refuses, a connection the
// server dropped, and its integrity check. On a server this binary starts.
#include <catch2/catch.hpp>

#include <libpq-fe.h>

#include <thread>

#include "engine_fixture.h"
#include "vigil/audit.h"

using namespace vigil;
using namespace vigil::testing;

namespace {

vigil::test::PostgresServer& server() {
  std::string why;
  auto* s = vigil::test::PostgresServer::shared(why);
  INFO(why);
  REQUIRE(s != nullptr);
  return *s;
}

void sql(const std::string& text) {
  std::string why;
  const bool ok = server().exec(text, why);
  INFO(why);
  REQUIRE(ok);
}

// A fresh database's conninfo, for user vigil.
std::string freshDatabase(const std::string& name, const std::string& extra = "ENCODING 'UTF8' TEMPLATE template0") {
  sql("CREATE DATABASE " + name + " " + extra);
  return "host=127.0.0.1 port=" + std::to_string(server().port()) + " dbname=" + name + " user=vigil";
}

// Runs `text` in the database of `conninfo` (the server's helper speaks to "postgres").
void sqlIn(const std::string& conninfo, const std::string& text) {
  PGconn* c = PQconnectdb((conninfo + " password=" + vigil::test::PostgresServer::kPassword).c_str());
  REQUIRE(PQstatus(c) == CONNECTION_OK);
  PGresult* r = PQexec(c, text.c_str());
  INFO(PQerrorMessage(c));
  CHECK((PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK));
  PQclear(r);
  PQfinish(c);
}

AuditEntry access(int n) {
  AuditEntry e;
  e.time = TimePoint(std::chrono::milliseconds(1'800'000'000'000LL + n));
  e.kind = "consultation";
  e.actor = "officer" + std::to_string(n % 3);
  e.runId = "r" + std::to_string(n);
  e.system = "api";
  e.purpose = "triage";
  e.payload = {{"n", n}};
  return e;
}

}  // namespace

TEST_CASE("the PostgreSQL store creates its schema, reopens it, and refuses a newer one", "[store][postgres][migration]") {
  const std::string db = freshDatabase("pg_versions");
  {
    auto s = openPostgresStore(db, vigil::test::PostgresServer::kPassword);
    INFO(s.status().message());
    REQUIRE(s.isOk());
    CHECK((*s)->kind() == std::string("postgres"));
    REQUIRE((*s)->audit().append({access(1), access(2)}).isOk());
  }
  {
    auto again = openPostgresStore(db, vigil::test::PostgresServer::kPassword);  // reopening migrates nothing
    REQUIRE(again.isOk());
    auto records = (*again)->audit().records("", TimePoint{}, UINT64_MAX);
    REQUIRE(records.isOk());
    CHECK(records->size() == 2);
  }
  sqlIn(db, "UPDATE meta SET value = '" + std::to_string(postgresSchemaVersion() + 1) + "' WHERE key = 'schema_version'");
  auto newer = openPostgresStore(db, vigil::test::PostgresServer::kPassword);
  REQUIRE_FALSE(newer.isOk());
  CHECK_THAT(newer.status().message(), Catch::Contains("newer than this build"));
}

TEST_CASE("two processes starting on one empty database create the schema once", "[store][postgres][migration]") {
  const std::string db = freshDatabase("pg_race");
  Result<std::unique_ptr<Store>> a = Status::internal("not run"), b = Status::internal("not run");
  std::thread ta([&] { a = openPostgresStore(db, vigil::test::PostgresServer::kPassword); });
  std::thread tb([&] { b = openPostgresStore(db, vigil::test::PostgresServer::kPassword); });
  ta.join();
  tb.join();
  INFO(a.status().message() << " / " << b.status().message());
  REQUIRE(a.isOk());
  REQUIRE(b.isOk());
  // Both append to one chain, in turn.
  REQUIRE((*a)->audit().append({access(1)}).isOk());
  REQUIRE((*b)->audit().append({access(2)}).isOk());
  REQUIRE((*a)->audit().append({access(3)}).isOk());
  auto key = SigningKey::generate();
  REQUIRE(key.isOk());
  REQUIRE((*b)->audit().checkpoint(*key, TimePoint(std::chrono::milliseconds(1'800'000'100'000LL)), "vigil.test/audit").isOk());
  AuditVerdict v = verifyAudit(*auditSourceOf(**a), key->publicKeyPem());
  INFO(v.problem << ": " << v.detail);
  CHECK(v.ok);
  CHECK(v.records == 3);
  CHECK((*a)->integrityCheck().value() == "ok");
}

TEST_CASE("the PostgreSQL store refuses a database not in UTF-8, and conninfos that would leak or not verify", "[store][postgres]") {
  const std::string ascii = freshDatabase("pg_ascii", "ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
  auto s = openPostgresStore(ascii, vigil::test::PostgresServer::kPassword);
  REQUIRE_FALSE(s.isOk());
  CHECK_THAT(s.status().message(), Catch::Contains("not UTF8"));

  auto withPassword = openPostgresStore("host=127.0.0.1 dbname=x user=vigil password=hunter2-SECRET", "");
  REQUIRE_FALSE(withPassword.isOk());
  CHECK_THAT(withPassword.status().message(), Catch::Contains("must not hold a password"));
  CHECK_THAT(withPassword.status().message(), !Catch::Contains("hunter2"));

  auto plain = openPostgresStore("postgresql://vigil@db.force.example/vigil", "");
  REQUIRE_FALSE(plain.isOk());
  CHECK_THAT(plain.status().message(), Catch::Contains("sslmode=verify-full"));
  auto lax = openPostgresStore("postgresql://vigil@db.force.example/vigil?sslmode=require", "");
  REQUIRE_FALSE(lax.isOk());
  CHECK_THAT(lax.status().message(), Catch::Contains("sslmode=verify-full"));

  auto wrong = openPostgresStore(freshDatabase("pg_wrongpw"), "not-the-PASSWORD-42");
  REQUIRE_FALSE(wrong.isOk());
  CHECK_THAT(wrong.status().message(), Catch::Contains("cannot connect"));
  CHECK_THAT(wrong.status().message(), !Catch::Contains("not-the-PASSWORD-42"));

  auto none = openPostgresStore("host=127.0.0.1 port=" + std::to_string(vigil::test::freePort()) + " dbname=x user=vigil", "pw");
  REQUIRE_FALSE(none.isOk());
  CHECK_THAT(none.status().message(), Catch::Contains("cannot connect"));
}

TEST_CASE("a connection the server dropped is opened again, and nothing is lost or doubled", "[store][postgres]") {
  const std::string db = freshDatabase("pg_dropped");
  auto s = openPostgresStore(db, vigil::test::PostgresServer::kPassword);
  REQUIRE(s.isOk());
  REQUIRE((*s)->audit().append({access(1)}).isOk());
  REQUIRE((*s)->runs().exists("nope").isOk());
  // Every connection of the store's, writer and reader, ended by the server.
  sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'pg_dropped' AND pid <> pg_backend_pid()");
  auto appended = (*s)->audit().append({access(2)});
  INFO(appended.message());
  CHECK(appended.isOk());
  CHECK((*s)->runs().exists("nope").isOk());
  auto records = (*s)->audit().records("", TimePoint{}, UINT64_MAX);
  REQUIRE(records.isOk());
  REQUIRE(records->size() == 2);
  CHECK((*records)[1].seq == 2);
  CHECK((*s)->integrityCheck().value() == "ok");
}

TEST_CASE("a connection lost inside a transaction fails that commit only, and the next one connects again", "[store][postgres]") {
  const std::string db = freshDatabase("pg_lost_in_tx");
  auto s = openPostgresStore(db, vigil::test::PostgresServer::kPassword);
  REQUIRE(s.isOk());
  REQUIRE((*s)->audit().append({access(1)}).isOk());
  // Another session holds the chain's head row, so the store's next commit waits in its
  // transaction (BEGIN and FOR UPDATE sent), where the server then ends its connection.
  PGconn* holder = PQconnectdb((db + " password=" + vigil::test::PostgresServer::kPassword).c_str());
  REQUIRE(PQstatus(holder) == CONNECTION_OK);
  PQclear(PQexec(holder, "BEGIN; SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE"));
  Status blocked = Status::internal("not run");
  std::thread writer([&] { blocked = (*s)->audit().append({access(2)}); });
  bool waiting = false;
  for (int i = 0; i < 500 && !waiting; ++i) {  // at most 10 s
    PGresult* r = PQexec(holder, "SELECT 1 FROM pg_stat_activity WHERE datname = 'pg_lost_in_tx' AND wait_event_type = 'Lock'");
    waiting = PQntuples(r) == 1;
    PQclear(r);
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(waiting);
  PQclear(PQexec(holder, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'pg_lost_in_tx' AND wait_event_type = 'Lock'"));
  writer.join();
  INFO(blocked.message());
  CHECK_FALSE(blocked.isOk());
  CHECK_THAT(blocked.message(), Catch::Contains("nothing stored"));
  PQclear(PQexec(holder, "ROLLBACK"));
  PQfinish(holder);
  // Not stuck on the dead connection: the next commit opens a new one.
  auto again = (*s)->audit().append({access(3)});
  INFO(again.message());
  REQUIRE(again.isOk());
  auto records = (*s)->audit().records("", TimePoint{}, UINT64_MAX);
  REQUIRE(records.isOk());
  REQUIRE(records->size() == 2);
  CHECK((*records)[1].entry.runId == "r3");
  CHECK((*s)->integrityCheck().value() == "ok");
}

TEST_CASE("the PostgreSQL store's integrity check finds a record taken out of the chain", "[store][postgres][audit]") {
  const std::string db = freshDatabase("pg_integrity");
  auto s = openPostgresStore(db, vigil::test::PostgresServer::kPassword);
  REQUIRE(s.isOk());
  std::vector<AuditEntry> entries;
  for (int i = 0; i < 5; ++i) entries.push_back(access(i));
  REQUIRE((*s)->audit().append(entries).isOk());
  CHECK((*s)->integrityCheck().value() == "ok");
  sqlIn(db, "DELETE FROM audit WHERE seq = 3");
  CHECK_THAT((*s)->integrityCheck().value(), Catch::Contains("gaps"));
  // The access log reads the same records the SQLite store's does.
  AccessLogQuery q;
  q.limit = 2;
  auto page = (*s)->audit().accessLog(q);
  REQUIRE(page.isOk());
  REQUIRE(page->records.size() == 2);
  CHECK(page->records[0].first == 5);
  CHECK(page->next == 4);
  q.limit = 0;
  CHECK_FALSE((*s)->audit().accessLog(q).isOk());
}
