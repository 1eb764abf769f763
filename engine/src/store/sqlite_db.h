// Internal: what the SQLite store's concerns share. One writing connection guarded by a
// mutex, and one reading connection with its own for the engine's look-ups of runs: WAL
// lets those read the last committed state while a group commit writes and waits for its
// fsync, so a run the committer must load (a parked run being decided) or a page of the API
// never waits behind a commit.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <SQLiteCpp/SQLiteCpp.h>

#include "sqlite_audit.h"
#include "sqlite_statements.h"
#include "store_common.h"
#include "vigil/status.h"

namespace vigil::sqlite {

struct Db {
  explicit Db(const std::string& path);
  Status open();  // pragmas and the reading connection; the schema is migrate()'s (sqlite_migrate.cpp)

  std::mutex mu;  // the writer: `writer`, `writes` and `chain`
  SQLite::Database writer;
  StatementCache writes{writer};
  AuditLog chain;  // the audit chain's head and Merkle frontier, as of the last commit
  std::mutex readMu;
  std::unique_ptr<SQLite::Database> reader;
  std::unique_ptr<StatementCache> reads;  // over `reader`

  // Runs `f` under the writer's lock, turning a database error into a Status naming `what`.
  template <typename F>
  auto locked(const char* what, F&& f) -> Result<decltype(f())> {
    std::lock_guard lock(mu);
    try {
      return f();
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string(what) + ": " + e.what());
    }
  }
  // The same under the reader's lock, on the reading connection.
  template <typename F>
  auto reading(const char* what, F&& f) -> Result<decltype(f())> {
    std::lock_guard lock(readMu);
    try {
      return f();
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string(what) + ": " + e.what());
    }
  }
};

// A write transaction holding SQLite's write lock from its start (BEGIN IMMEDIATE), so that
// what a commit checks of the stored runs still holds when it writes, and with the audit
// chain caught up with any other writer of the file. Rolled back unless committed.
class WriteTransaction {
 public:
  explicit WriteTransaction(Db& db);
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  ~WriteTransaction();
  void commit();

 private:
  Db& db_;
  bool open_ = false;
};

inline long long ms(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint fromMs(long long v) { return TimePoint(std::chrono::milliseconds(v)); }
using store::likeEscaped;  // store_common.h

// The schema: upgrades an older one in place (each migration its own transaction), refuses
// a newer one. sqlite_migrate.cpp.
Status migrate(Db& db);
// An existing store file checked whole before anything writes to it. sqlite_migrate.cpp.
Status checkExistingStore(const std::string& path);

}  // namespace vigil::sqlite
