// Internal: a PostgreSQL connection for the store, over libpq. Statements are prepared once
// per connection (named by the order they were first used) and run with text parameters;
// any failure throws pg::Error carrying the SQLSTATE, which the store turns into a Status
// with nothing stored. A connection that broke is opened again at the next statement
// outside a transaction; inside one, the transaction has failed and the error says so.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "vigil/clock.h"
#include "vigil/status.h"
#include "vigil/utf8.h"

struct pg_conn;
struct pg_result;

namespace vigil::pg {

// SQLSTATE transaction_resolution_unknown: COMMIT was sent and the connection broke before
// its answer, so the transaction may or may not have been stored.
inline constexpr const char* kOutcomeUnknown = "08007";

struct Error : std::runtime_error {
  Error(const std::string& what, std::string state) : std::runtime_error(what), sqlstate(std::move(state)) {}
  std::string sqlstate;  // "" when the connection itself failed
};

// Parameters as libpq takes them: text, or NULL. PostgreSQL's text holds neither a NUL
// byte (libpq would cut the value there) nor a byte that is not UTF-8 (the server refuses
// the statement, and the whole commit with it): such bytes are stored as U+FFFD, as the
// audit chain seals them (chain_head.h), rather than fail every run of a group commit.
class Params {
 public:
  Params& text(std::string v) {
    if (findInvalidUtf8(v) != std::string::npos) v = withReplacementChars(v);
    values_.emplace_back(std::move(v));
    return *this;
  }
  Params& i64(long long v) { return text(std::to_string(v)); }
  Params& f64(double v);
  Params& time(TimePoint t) { return i64(std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count()); }
  Params& optTime(const std::optional<TimePoint>& t) { return t ? time(*t) : null(); }
  Params& optBool(const std::optional<bool>& b) { return b ? i64(*b ? 1 : 0) : null(); }
  Params& null() {
    values_.emplace_back(std::nullopt);
    return *this;
  }
  size_t size() const { return values_.size(); }
  const std::vector<std::optional<std::string>>& values() const { return values_; }

 private:
  std::vector<std::optional<std::string>> values_;
};

class Rows {
 public:
  explicit Rows(pg_result* r) : r_(r) {}
  Rows(Rows&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  ~Rows();
  int size() const;
  bool null(int row, int col) const;
  std::string text(int row, int col) const;
  long long i64(int row, int col) const;
  double f64(int row, int col) const;
  TimePoint time(int row, int col) const { return TimePoint(std::chrono::milliseconds(i64(row, col))); }
  std::optional<TimePoint> optTime(int row, int col) const {
    if (null(row, col)) return std::nullopt;
    return time(row, col);
  }
  long long affected() const;  // rows an INSERT, UPDATE or DELETE touched

 private:
  pg_result* r_;
};

// Statements sent together (libpq's pipeline mode) and their results read after: a group
// commit's hundreds of writes cost a few round trips instead of one each. `affected` is the
// row count a statement must report (-1: any); a different count fails the pipeline as a
// conflict would, naming `what`.
struct Pipelined {
  std::string sql;
  Params params;
  long long affected = -1;
  std::string what;
};
class Writes {
 public:
  void add(std::string sql, Params params, long long affected = -1, std::string what = "") {
    list_.push_back(Pipelined{std::move(sql), std::move(params), affected, std::move(what)});
  }
  const std::vector<Pipelined>& list() const { return list_; }
  bool empty() const { return list_.empty(); }

 private:
  std::vector<Pipelined> list_;
};

// A text[] parameter's text form ({"a","b"}), for `= ANY($1::text[])`.
std::string textArray(const std::vector<std::string>& items);

class Conn {
 public:
  // Connects with libpq's conninfo (key=value or a postgres:// URI) and the password apart
  // from it, so it is never part of a string that might be logged.
  // `settings`: statements run on every new connection after vigil's own (SET ...).
  Conn(std::string conninfo, std::string password, std::string settings = "");
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn();

  Rows exec(const std::string& sql, const Params& params = {});
  // A statement of no parameters and no result, sent as it is (BEGIN, COMMIT, DDL).
  void run(const std::string& sql);
  // Statements of no parameters sent as one (one round trip); the last one's result.
  Rows simple(const std::string& sql);
  // Sends `writes` in a pipeline, inside the caller's transaction, and checks every result;
  // throws the first failure (the transaction has then failed).
  void pipeline(const Writes& writes);
  // Outside a transaction and connected; opens the connection again when it broke.
  void ready();
  // Between a BEGIN sent through simple() and its COMMIT or ROLLBACK, kept here rather than
  // asked of libpq, which cannot tell once the connection broke.
  bool inTransaction() const { return inTx_; }

 private:
  void connect();
  void drop();
  Rows execOnce(const std::string& sql, const Params& params);
  const std::string& prepare(const std::string& sql, size_t params);
  Rows runOnce(const std::string& sql);
  [[noreturn]] void fail(const std::string& what, pg_result* r);

  std::string conninfo_;
  std::string password_;
  std::string settings_;
  pg_conn* c_ = nullptr;
  bool inTx_ = false;
  std::map<std::string, std::string> prepared_;  // sql -> statement name, on this connection
};

// A store's conninfo before it is used: it parses, carries no password (that comes apart,
// from the secrets file), and reaches any host but this machine over TLS that verifies the
// server (sslmode=verify-full). invalidArgument naming what is wrong. Each connection checks
// again what it reached (a service file or the environment can change the host or mode).
Status checkStoreConninfo(const std::string& conninfo);

// What a commit transaction's failure means for the caller: a serialisation failure or a
// deadlock is another writer's doing (try again); anything else is the database's.
inline bool retryable(const Error& e) { return e.sqlstate == "40001" || e.sqlstate == "40P01"; }

}  // namespace vigil::pg
