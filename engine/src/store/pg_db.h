// Internal: what the PostgreSQL store's concerns share. One writing connection guarded by a
// mutex (the committer's), and one reading connection with its own, so that a page of the
// API or a run the committer must load never waits behind a commit's round trips.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "chain_head.h"
#include "pg_conn.h"
#include "store_common.h"
#include "vigil/status.h"

namespace vigil::pg {

struct Db {
  Db(const std::string& conninfo, const std::string& password)
      : writer(std::make_unique<Conn>(conninfo, password)),
        reader(std::make_unique<Conn>(conninfo, password)),
        // A take waits at most this long behind a commit holding the lease row, well within
        // a lease: a heartbeat must not outlast the leases it renews.
        leaser(std::make_unique<Conn>(conninfo, password, "SET lock_timeout = '2s'")) {}

  std::mutex mu;  // the writer: `writer` and `chain`
  std::unique_ptr<Conn> writer;
  store::ChainHead chain;  // the audit chain's head and Merkle frontier, as of the last commit
  std::mutex readMu;
  std::unique_ptr<Conn> reader;
  std::mutex leaseMu;
  std::unique_ptr<Conn> leaser;  // heartbeats and leases, so they never wait behind a commit

  // Runs `f` under the writer's lock, turning a database error into a Status naming `what`.
  template <typename F>
  auto locked(const char* what, F&& f) -> Result<decltype(f())> {
    std::lock_guard lock(mu);
    try {
      return f();
    } catch (const Error& e) {
      return Status::ioError(std::string(what) + ": " + e.what());
    }
  }
  // The same under the reader's lock, on the reading connection.
  template <typename F>
  auto reading(const char* what, F&& f) -> Result<decltype(f())> {
    std::lock_guard lock(readMu);
    try {
      return f();
    } catch (const Error& e) {
      return Status::ioError(std::string(what) + ": " + e.what());
    }
  }
  // The same under the leaser's lock, on the lease connection.
  template <typename F>
  auto leasing(const char* what, F&& f) -> Result<decltype(f())> {
    std::lock_guard lock(leaseMu);
    try {
      return f();
    } catch (const Error& e) {
      return Status::ioError(std::string(what) + ": " + e.what());
    }
  }
};

// A write transaction on the writer that holds the audit chain's head row (audit_head) from
// its start: every writer on every node takes it first, so what a commit checks of the
// stored runs still holds when it writes, and the chain is caught up with the records other
// nodes appended. commit() stores the new head with the records; rolled back unless committed.
class WriteTransaction {
 public:
  explicit WriteTransaction(Db& db);
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  ~WriteTransaction();
  // Sends `writes` with the chain's new head in one pipeline, then COMMIT.
  void commit(Writes writes = {});

 private:
  Db& db_;
  bool open_ = false;
};

// A write transaction's failure as a Status: `nothing` (what was not stored) unless the
// connection broke after COMMIT was sent, when it may have been stored and the caller is
// told so rather than told it was not (the engine then reads the runs again either way).
inline Status writeFailed(const std::string& doing, const std::string& nothing, const Error& e) {
  if (e.sqlstate == kOutcomeUnknown) return Status::ioError(doing + ", and it may have been stored: " + e.what());
  return Status::ioError(doing + ", " + nothing + ": " + e.what());
}

inline long long ms(TimePoint t) { return t.time_since_epoch().count(); }
using store::likeEscaped;  // store_common.h

// The schema: upgrades an older one in place, refuses a newer one. pg_migrate.cpp.
// Without `upgrade`, an older schema is refused as a newer one is.
void migrate(Conn& c, bool upgrade);
// The chain's head from the latest checkpoint and the records after it. pg_audit.cpp.
void loadChain(Conn& c, store::ChainHead& chain);
// Seals entries after the chain's pending head, their inserts added to `out`. pg_audit.cpp.
void appendAudit(Writes& out, store::ChainHead& chain, const std::vector<AuditEntry>& entries);

}  // namespace vigil::pg
