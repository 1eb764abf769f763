// At start the store resumes its audit tree from the last signed checkpoint's frontier only
// when that frontier gives the root the checkpoint signed; otherwise it rebuilds the tree
// from every record, so a damaged or forged frontier never leads to wrong signed roots.
#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>

#include "engine_fixture.h"
#include "vigil/audit.h"
#include "vigil/signing.h"

using namespace vigil;
using vigil::testing::DataDir;

namespace {

std::vector<AuditEntry> accessRecords(int n, int from) {
  std::vector<AuditEntry> out;
  for (int i = 0; i < n; ++i) {
    AuditEntry e;
    e.time = TimePoint(std::chrono::milliseconds(1'700'000'000'000LL + from + i));
    e.kind = "access";
    e.actor = "auditor-1";
    e.system = "api";
    e.purpose = "resume test";
    e.payload = {{"n", from + i}};
    out.push_back(std::move(e));
  }
  return out;
}

// Appends `n` records through a store opened on `dir`, signs a checkpoint, and closes it.
void appendAndSign(const std::filesystem::path& dir, int n, int from, const SigningKey& key) {
  auto store = testing::openTestStore(dir);
  REQUIRE(store.isOk());
  REQUIRE((*store)->audit().append(accessRecords(n, from)).isOk());
  auto c = (*store)->audit().checkpoint(key, TimePoint(std::chrono::milliseconds(1'800'000'000'000LL + from)), "vigil.test/audit");
  REQUIRE(c.isOk());
  REQUIRE(c->has_value());
}

// The chain verifies whole, with `records` records and `checkpoints` signed checkpoints.
void checkVerifies(const std::filesystem::path& dir, const SigningKey& key, uint64_t records, uint64_t checkpoints) {
  auto store = testing::openTestStore(dir);
  REQUIRE(store.isOk());
  AuditVerdict v = verifyAudit(*auditSourceOf(**store), key.publicKeyPem());
  INFO(v.problem << ": " << v.detail);
  CHECK(v.ok);
  CHECK(v.records == records);
  CHECK(v.checkpoints == checkpoints);
}

// Replaces the first frontier hash of the latest checkpoint, keeping the count of hashes, so
// the frontier still fits the checkpoint's size and only its root gives it away.
void forgeLatestFrontier(const std::filesystem::path& dir) {
  SQLite::Database db((dir / "vigil.db").string(), SQLite::OPEN_READWRITE);
  SQLite::Statement q(db, "SELECT size, frontier FROM audit_checkpoints ORDER BY size DESC LIMIT 1");
  REQUIRE(q.executeStep());
  const int64_t size = q.getColumn(0).getInt64();
  Json frontier = Json::parse(q.getColumn(1).getString());
  REQUIRE(frontier.size() == 2);  // 9 records: subtrees of 8 and 1
  frontier[0] = std::string(64, 'b');
  q.reset();
  SQLite::Statement u(db, "UPDATE audit_checkpoints SET frontier = ? WHERE size = ?");
  u.bind(1, frontier.dump());
  u.bind(2, size);
  REQUIRE(u.exec() == 1);
}

}  // namespace

TEST_CASE("a restart resumes the audit tree from a checkpoint, and the chain after it verifies", "[audit]") {
  DataDir dir;
  auto key = SigningKey::generate();
  REQUIRE(key.isOk());
  appendAndSign(dir.path, 9, 0, *key);
  appendAndSign(dir.path, 3, 100, *key);
  appendAndSign(dir.path, 5, 200, *key);
  checkVerifies(dir.path, *key, 17, 3);
}

TEST_CASE("a checkpoint frontier that does not give its signed root is not resumed from", "[audit]") {
  VIGIL_SQLITE_ONLY();  // it reaches into the SQLite file itself
  DataDir dir;
  auto key = SigningKey::generate();
  REQUIRE(key.isOk());
  appendAndSign(dir.path, 9, 0, *key);
  forgeLatestFrontier(dir.path);
  // Resumed from the forged frontier, the next checkpoint would sign a root the records do
  // not give, and verification would fail at it.
  appendAndSign(dir.path, 3, 100, *key);
  checkVerifies(dir.path, *key, 12, 2);
}

TEST_CASE("audit fields holding a NUL byte or bytes that are not UTF-8 are stored as sealed, and the chain verifies",
          "[audit]") {
  DataDir dir;
  auto key = SigningKey::generate();
  REQUIRE(key.isOk());
  {
    auto store = testing::openTestStore(dir.path);
    REQUIRE(store.isOk());
    auto entries = accessRecords(2, 0);
    entries[0].purpose = std::string("safeguarding\0 review", 20);  // a JSON "\u0000" from a request body
    entries[1].actor = "officer-\xff\xfe";
    REQUIRE((*store)->audit().append(entries).isOk());
    REQUIRE((*store)->audit().append(accessRecords(1, 10)).isOk());
    auto records = (*store)->audit().records("", TimePoint{}, UINT64_MAX);
    REQUIRE(records.isOk());
    REQUIRE(records->size() == 3);
    CHECK((*records)[0].entry.purpose == "safeguarding\xEF\xBF\xBD review");
    CHECK((*records)[1].entry.actor == "officer-\xEF\xBF\xBD\xEF\xBF\xBD");
    auto c = (*store)->audit().checkpoint(*key, TimePoint(std::chrono::milliseconds(1'800'000'000'000LL)), "vigil.test/audit");
    REQUIRE(c.isOk());
  }
  checkVerifies(dir.path, *key, 3, 1);
}
