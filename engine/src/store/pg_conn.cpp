#include "pg_conn.h"

#include <libpq-fe.h>
#include <string.h>

#include <cstdio>
#include <cstdlib>

namespace vigil::pg {

Params& Params::f64(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return text(buf);
}

namespace {

constexpr const char* kNeedsVerifyFull =
    "the store's database is on another machine: its connection needs sslmode=verify-full (and sslrootcert naming the "
    "CA), so it is encrypted and the server is the one named";

bool onThisMachine(const std::string& host) {
  return host.empty() || host[0] == '/' || host == "localhost" || host == "127.0.0.1" || host == "::1";
}

}  // namespace

Status checkStoreConninfo(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);  // it may quote the conninfo
    return Status::invalidArgument("the store's PostgreSQL conninfo does not parse");
  }
  std::string hosts, sslmode, password;
  for (auto* o = options; o->keyword != nullptr; ++o) {
    const std::string k = o->keyword;
    const std::string v = o->val == nullptr ? "" : o->val;
    if (k == "host" || k == "hostaddr") hosts += (hosts.empty() ? "" : ",") + v;
    if (k == "sslmode") sslmode = v;
    if (k == "password") password = v;
  }
  PQconninfoFree(options);
  if (!password.empty()) {
    explicit_bzero(password.data(), password.size());
    return Status::invalidArgument("the store's conninfo must not hold a password: name it with store.password_secret");
  }
  // Loopback and Unix sockets stay on this machine; anything else crosses a network.
  bool remote = false;
  size_t start = 0;
  while (start <= hosts.size() && !hosts.empty()) {
    size_t end = hosts.find(',', start);
    const std::string h = hosts.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!onThisMachine(h)) remote = true;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  // verify-ca checks the certificate's issuer but not that it names the host: any server
  // with a certificate from that CA would pass, so only verify-full is taken.
  if (remote && sslmode != "verify-full") return Status::invalidArgument(kNeedsVerifyFull);
  return Status::ok();
}

namespace {

// What the connection reached, not only what the conninfo said: a service file, a PGHOST or
// PGSSLMODE in the environment or a hostaddr can take it elsewhere, past checkStoreConninfo.
void checkTransport(pg_conn* c) {
  const char* host = PQhost(c);
  if (onThisMachine(host == nullptr ? "" : host)) return;
  std::string sslmode;
  if (PQconninfoOption* options = PQconninfo(c)) {
    for (auto* o = options; o->keyword != nullptr; ++o) {
      if (std::string(o->keyword) == "sslmode" && o->val != nullptr) sslmode = o->val;
    }
    PQconninfoFree(options);
  }
  if (PQsslInUse(c) != 1 || sslmode != "verify-full") throw Error(kNeedsVerifyFull, "");
}

}  // namespace

Rows::~Rows() {
  if (r_ != nullptr) PQclear(r_);
}
int Rows::size() const { return PQntuples(r_); }
bool Rows::null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
std::string Rows::text(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col)));
}
long long Rows::i64(int row, int col) const { return null(row, col) ? 0 : std::strtoll(PQgetvalue(r_, row, col), nullptr, 10); }
double Rows::f64(int row, int col) const { return null(row, col) ? 0 : std::strtod(PQgetvalue(r_, row, col), nullptr); }
long long Rows::affected() const {
  const char* n = PQcmdTuples(r_);
  return n == nullptr || *n == '\0' ? 0 : std::strtoll(n, nullptr, 10);
}

Conn::Conn(std::string conninfo, std::string password, std::string settings)
    : conninfo_(std::move(conninfo)), password_(std::move(password)), settings_(std::move(settings)) {
  connect();
}

Conn::~Conn() {
  explicit_bzero(password_.data(), password_.size());
  if (c_ != nullptr) PQfinish(c_);
}

void Conn::connect() {
  drop();
  // Keys before dbname are defaults the conninfo may change; those after it are fixed. The
  // keepalives and the TCP timeout let a connection to a server that vanished (a failover,
  // a cut cable) fail within a minute instead of hanging the committer on a dead socket;
  // read-write refuses a standby that would take no writes.
  const char* keys[] = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
                        "tcp_user_timeout", "target_session_attrs", "application_name", "dbname", "password",
                        "client_encoding", nullptr};
  const char* values[] = {"10", "1", "30", "10", "3", "60000", "read-write", "vigil", conninfo_.c_str(),
                          password_.empty() ? nullptr : password_.c_str(), "UTF8", nullptr};
  c_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (c_ == nullptr || PQstatus(c_) != CONNECTION_OK) {
    std::string why = c_ == nullptr ? "out of memory" : PQerrorMessage(c_);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    drop();  // a failed attempt's connection object is ours to free too
    throw Error("cannot connect to PostgreSQL: " + why, "");
  }
  try {
    checkTransport(c_);
  } catch (const Error&) {
    drop();
    throw;
  }
  // The server's notices (a NOTICE of an IF NOT EXISTS) are not for the daemon's output.
  PQsetNoticeProcessor(c_, [](void*, const char*) {}, nullptr);
  // Our statements are written for these; a server or role default must not change them.
  // A transaction left open (a process stopped mid-commit) must not hold the chain's head
  // row for ever.
  // Sent as it is, not through simple(): a failure here must not open another connection.
  try {
    (void)runOnce("SET TIME ZONE 'UTC'; SET standard_conforming_strings = on; SET lock_timeout = '30s';"
                       " SET idle_in_transaction_session_timeout = '60s'" +
                       (settings_.empty() ? std::string() : "; " + settings_));
  } catch (const Error&) {
    drop();
    throw;
  }
}

void Conn::drop() {
  if (c_ != nullptr) PQfinish(c_);
  c_ = nullptr;
  prepared_.clear();
  inTx_ = false;
}

void Conn::ready() {
  if (c_ == nullptr || PQstatus(c_) != CONNECTION_OK) connect();
}

void Conn::fail(const std::string& what, pg_result* r) {
  std::string state;
  std::string message;
  if (r != nullptr) {
    const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char* m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);  // not DETAIL: it can quote row values
    if (s != nullptr) state = s;
    if (m != nullptr) message = m;
    PQclear(r);
  }
  if (message.empty()) {
    message = PQerrorMessage(c_);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  }
  throw Error(what + ": " + message + (state.empty() ? "" : " (SQLSTATE " + state + ")"), state);
}

Rows Conn::exec(const std::string& sql, const Params& params) {
  // Inside a transaction a broken connection fails the statement (and the transaction): it
  // is never opened again there, which would run the rest outside the transaction.
  if (inTx_) return execOnce(sql, params);
  // Outside a transaction a connection the server dropped (a restart, a terminated backend)
  // shows only when it is used: then it is opened again and the statement sent once more.
  // The server may have run it before the connection broke, so every statement sent outside
  // a transaction is one that may run twice (a read, an upsert, a compare-and-set).
  ready();
  try {
    return execOnce(sql, params);
  } catch (const Error&) {
    if (PQstatus(c_) != CONNECTION_BAD) throw;
  }
  connect();
  return execOnce(sql, params);
}

const std::string& Conn::prepare(const std::string& sql, size_t params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "v" + std::to_string(prepared_.size() + 1);
    PGresult* p = PQprepare(c_, name.c_str(), sql.c_str(), static_cast<int>(params), nullptr);
    if (PQresultStatus(p) != PGRES_COMMAND_OK) fail("preparing a statement", p);
    PQclear(p);
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  return it->second;
}

std::string textArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

void Conn::pipeline(const Writes& writes) {
  // Each segment ends at a sync point, so neither side's buffers fill while the other waits
  // to write: a segment's results are read before the next is sent.
  constexpr size_t kSegment = 512;
  if (c_ == nullptr) throw Error("the connection to PostgreSQL was lost in a transaction", "08006");
  const auto& list = writes.list();
  for (size_t from = 0; from < list.size(); from += kSegment) {
    const size_t to = std::min(list.size(), from + kSegment);
    std::vector<const std::string*> names;
    for (size_t i = from; i < to; ++i) names.push_back(&prepare(list[i].sql, list[i].params.size()));
    if (PQenterPipelineMode(c_) != 1) throw Error("cannot send statements in a pipeline: " + std::string(PQerrorMessage(c_)), "");
    std::optional<Error> failed;
    bool lost = false;
    for (size_t i = from; i < to && !lost; ++i) {
      std::vector<const char*> values;
      for (const auto& v : list[i].params.values()) values.push_back(v ? v->c_str() : nullptr);
      lost = PQsendQueryPrepared(c_, names[i - from]->c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                                 nullptr, 0) != 1;
    }
    lost = lost || PQpipelineSync(c_) != 1;
    for (size_t i = from; i < to && !lost; ++i) {
      PGresult* r = PQgetResult(c_);
      if (r == nullptr) {
        lost = true;
        break;
      }
      const auto st = PQresultStatus(r);
      if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        const char* n = PQcmdTuples(r);
        const long long affected = n == nullptr || *n == '\0' ? 0 : std::strtoll(n, nullptr, 10);
        if (list[i].affected >= 0 && affected != list[i].affected && !failed) {
          failed.emplace(list[i].what.empty() ? "a write did not find the row it expected" : list[i].what, "");
        }
      } else if (st != PGRES_PIPELINE_ABORTED && !failed) {
        const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        const char* m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
        failed.emplace(std::string("a statement failed: ") + (m == nullptr ? "unknown error" : m) +
                           (s == nullptr ? "" : std::string(" (SQLSTATE ") + s + ")"),
                       s == nullptr ? "" : s);
      }
      PQclear(r);
      if (PGresult* end = PQgetResult(c_)) PQclear(end);  // the NULL that ends each statement's results
    }
    if (!lost) {
      PGresult* sync = PQgetResult(c_);
      lost = sync == nullptr || PQresultStatus(sync) != PGRES_PIPELINE_SYNC;
      if (sync != nullptr) PQclear(sync);
    }
    if (lost) {
      // The connection is gone (or out of step): the transaction with it. Still in it for
      // this side until ROLLBACK, so that nothing else runs as if outside it.
      std::string why = PQerrorMessage(c_);
      const bool inTx = inTx_;
      drop();
      inTx_ = inTx;
      throw Error("the connection to PostgreSQL was lost during a commit: " + why, "");
    }
    PQexitPipelineMode(c_);
    if (failed) throw *failed;
  }
}

Rows Conn::execOnce(const std::string& sql, const Params& params) {
  if (c_ == nullptr) throw Error("the connection to PostgreSQL was lost in a transaction", "08006");
  const std::string& name = prepare(sql, params.size());
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& v : params.values()) values.push_back(v ? v->c_str() : nullptr);
  PGresult* r = PQexecPrepared(c_, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0);
  auto st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) fail("a statement failed", r);
  return Rows(r);
}

void Conn::run(const std::string& sql) { (void)simple(sql); }

Rows Conn::simple(const std::string& sql) {
  const bool begins = sql.rfind("BEGIN", 0) == 0;
  const bool ends = sql.rfind("COMMIT", 0) == 0 || sql.rfind("ROLLBACK", 0) == 0;
  if (ends) {
    // Whatever its outcome, the transaction is over for this side.
    inTx_ = false;
    if (c_ == nullptr) throw Error("the connection to PostgreSQL was lost in a transaction", "08006");
    if (sql.rfind("COMMIT", 0) == 0) {
      try {
        return runOnce(sql);
      } catch (const Error& e) {
        // The server may have committed before the connection broke: nobody can say.
        if (PQstatus(c_) == CONNECTION_BAD) throw Error(std::string("the commit's outcome is unknown: ") + e.what(), kOutcomeUnknown);
        throw;
      }
    }
    return runOnce(sql);
  }
  if (!inTx_) {
    ready();
    try {
      Rows r = runOnce(sql);
      inTx_ = begins;
      return r;
    } catch (const Error&) {
      if (PQstatus(c_) != CONNECTION_BAD) throw;
    }
    connect();
    Rows r = runOnce(sql);
    inTx_ = begins;
    return r;
  }
  return runOnce(sql);
}

Rows Conn::runOnce(const std::string& sql) {
  if (c_ == nullptr) throw Error("the connection to PostgreSQL was lost in a transaction", "08006");
  PGresult* r = PQexec(c_, sql.c_str());
  auto st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) fail("a statement failed", r);
  return Rows(r);
}

}  // namespace vigil::pg
