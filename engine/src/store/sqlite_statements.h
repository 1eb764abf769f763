// Internal: the prepared statements of one SQLite connection, kept between uses. Preparing
// is a parse and a query plan every time: 14% of the daemon's samples while approvals were
// being opened and decided, before this cache. Used under the lock of its connection.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

namespace vigil::sqlite {

class StatementCache {
 public:
  explicit StatementCache(SQLite::Database& db) : db_(&db) {}

  // A statement in use: reset when the handle goes, so that a read holds no transaction
  // open (and no WAL frames from a checkpoint) between uses.
  class Use {
   public:
    explicit Use(SQLite::Statement& s) : s_(&s) {}
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;
    ~Use() { s_->tryReset(); }
    SQLite::Statement& operator*() const { return *s_; }
    SQLite::Statement* operator->() const { return s_; }

   private:
    SQLite::Statement* s_;
  };

  // The statement for `sql`, its bindings cleared; prepared on first use, or again when
  // the kept one cannot be reset (a failed step leaves its error to be reported by reset).
  Use operator()(const std::string& sql) {
    auto& kept = kept_[sql];
    if (kept && kept->tryReset() == SQLITE_OK) {
      kept->clearBindings();
      return Use(*kept);
    }
    kept = std::make_unique<SQLite::Statement>(*db_, sql);
    return Use(*kept);
  }

  SQLite::Database& db() const { return *db_; }

 private:
  SQLite::Database* db_;
  std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> kept_;
};

}  // namespace vigil::sqlite
