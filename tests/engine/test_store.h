// The store the engine's tests run on: the store conformance seam. VIGIL_TEST_STORE names
// it: "sqlite" (the default: a data directory per test) or "postgres" (a server this test
// binary starts, support/postgres_server.h, and a database per test's directory). The tests
// that reach the store only through this (engine, approvals, audit, retention, commits) are
// the suite every store implementation must pass. Opening the same directory twice gives
// two writers of one store, as two nodes would be.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "postgres_server.h"
#include "vigil/audit.h"
#include "vigil/store.h"

namespace vigil::testing {

inline std::string testStoreKind() {
  const char* kind = std::getenv("VIGIL_TEST_STORE");
  return kind == nullptr || *kind == '\0' ? "sqlite" : kind;
}
inline bool testStoreIsSqlite() { return testStoreKind() == "sqlite"; }

// The database a test directory's store lives in, created on first use.
inline Result<std::string> testPostgresDatabase(const std::filesystem::path& dir) {
  std::string why;
  vigil::test::PostgresServer* server = vigil::test::PostgresServer::shared(why);
  if (server == nullptr) return Status::failedPrecondition("no PostgreSQL server for the store tests: " + why);
  char name[32];
  std::snprintf(name, sizeof name, "t%016zx", std::hash<std::string>{}(std::filesystem::absolute(dir).string()));
  if (!server->exec(std::string("CREATE DATABASE ") + name + " ENCODING 'UTF8' TEMPLATE template0", why) &&
      why.find("already exists") == std::string::npos) {
    return Status::failedPrecondition("cannot create the test database: " + why);
  }
  return "host=127.0.0.1 port=" + std::to_string(server->port()) + " dbname=" + name + " user=vigil";
}

inline Result<std::unique_ptr<Store>> openTestStore(const std::filesystem::path& dir) {
  const std::string kind = testStoreKind();
  if (kind == "sqlite") return openSqliteStore(dir.string());
  if (kind == "postgres") {
    auto db = testPostgresDatabase(dir);
    if (!db) return db.status();
    return openPostgresStore(*db, vigil::test::PostgresServer::kPassword);
  }
  return Status::invalidArgument("VIGIL_TEST_STORE=" + kind + ": no such store in this build (sqlite, postgres)");
}

// The whole store checked as `vigil audit verify` would: for SQLite the data directory
// (chain and caches), for another store its chain through the store's own reading.
inline AuditVerdict verifyTestStore(const std::filesystem::path& dir, Store& store, const std::string& trustedKey) {
  if (testStoreIsSqlite()) {
    auto source = openSqliteAuditSource(dir.string());
    if (!source) {
      AuditVerdict v;
      v.problem = "unreadable";
      v.detail = source.status().message();
      return v;
    }
    return verifyDataDir(dir.string(), **source, trustedKey);
  }
  auto source = auditSourceOf(store);
  return verifyAudit(*source, trustedKey);
}

}  // namespace vigil::testing

// For a test of what only the SQLite file does (its migrations, editing its rows by hand):
// under another store it says so and passes, as the test is not about that store.
#define VIGIL_SQLITE_ONLY()                                                         \
  do {                                                                              \
    if (!::vigil::testing::testStoreIsSqlite()) {                                   \
      WARN("a test of the SQLite file itself: not run on " << ::vigil::testing::testStoreKind()); \
      return;                                                                       \
    }                                                                               \
  } while (0)
