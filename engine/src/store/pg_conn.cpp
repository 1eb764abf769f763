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
    if (!h.empty() && h[0] != '/' && h != "localhost" && h != "127.0.0.1" && h != "::1") remote = true;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (remote && sslmode != "verify-full" && sslmode != "verify-ca") {
    return Status::invalidArgument("the store's database is on another machine: its conninfo needs sslmode=verify-full "
                                   "(and sslrootcert naming the CA), so the connection is encrypted and the server checked");
  }
  return Status::ok();
}

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

Conn::Conn(std::string conninfo, std::string password) : conninfo_(std::move(conninfo)), password_(std::move(password)) {
  connect();
}

Conn::~Conn() {
  explicit_bzero(password_.data(), password_.size());
  if (c_ != nullptr) PQfinish(c_);
}

void Conn::connect() {
  if (c_ != nullptr) PQfinish(c_);
  prepared_.clear();
  const char* keys[] = {"dbname", "password", "client_encoding", "application_name", "connect_timeout", nullptr};
  const char* values[] = {conninfo_.c_str(), password_.empty() ? nullptr : password_.c_str(), "UTF8", "vigil", "10", nullptr};
  c_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (c_ == nullptr || PQstatus(c_) != CONNECTION_OK) {
    std::string why = c_ == nullptr ? "out of memory" : PQerrorMessage(c_);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw Error("cannot connect to PostgreSQL: " + why, "");
  }
  // The server's notices (a NOTICE of an IF NOT EXISTS) are not for the daemon's output.
  PQsetNoticeProcessor(c_, [](void*, const char*) {}, nullptr);
  // Our statements are written for these; a server or role default must not change them.
  run("SET TIME ZONE 'UTC'; SET standard_conforming_strings = on; SET lock_timeout = '30s'");
}

bool Conn::inTransaction() const { return c_ != nullptr && PQtransactionStatus(c_) != PQTRANS_IDLE; }

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
  if (inTransaction()) return execOnce(sql, params);
  // Outside a transaction a connection the server dropped (a restart, a terminated backend)
  // shows only when it is used: then it is opened again and the statement sent once more,
  // which is safe because nothing of it ran.
  ready();
  try {
    return execOnce(sql, params);
  } catch (const Error&) {
    if (PQstatus(c_) != CONNECTION_BAD) throw;
  }
  connect();
  return execOnce(sql, params);
}

Rows Conn::execOnce(const std::string& sql, const Params& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "v" + std::to_string(prepared_.size() + 1);
    PGresult* p = PQprepare(c_, name.c_str(), sql.c_str(), static_cast<int>(params.size()), nullptr);
    if (PQresultStatus(p) != PGRES_COMMAND_OK) fail("preparing a statement", p);
    PQclear(p);
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& v : params.values()) values.push_back(v ? v->c_str() : nullptr);
  PGresult* r = PQexecPrepared(c_, it->second.c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0);
  auto st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) fail("a statement failed", r);
  return Rows(r);
}

void Conn::run(const std::string& sql) {
  if (!inTransaction() && sql.rfind("ROLLBACK", 0) != 0) {
    ready();
    try {
      runOnce(sql);
      return;
    } catch (const Error&) {
      if (PQstatus(c_) != CONNECTION_BAD) throw;
    }
    connect();
  }
  runOnce(sql);
}

void Conn::runOnce(const std::string& sql) {
  PGresult* r = PQexec(c_, sql.c_str());
  auto st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) fail("a statement failed", r);
  PQclear(r);
}

}  // namespace vigil::pg
