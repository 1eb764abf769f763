// PostgreSQL through libpq: a small pool of idle connections, one transaction per call
// (READ ONLY for `query`) with a transaction-local statement_timeout, and results mapped by
// column type. Server messages are never passed on: they quote values and SQL.
#include <libpq-fe.h>
#include <string.h>  // explicit_bzero

#include <algorithm>
#include <mutex>

#include "backend.h"

namespace vigil::sql {
namespace {

// Type OIDs from pg_type.dat; stable across server versions.
constexpr Oid kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26, kJson = 114,
              kFloat4 = 700, kFloat8 = 701, kJsonb = 3802;

struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultCloser>;

CallOutcome unreachable(const std::string& label) {
  return CallOutcome::failure("unreachable", label + ": cannot reach the database", true);
}

CallOutcome failureFor(const PGresult* r, const std::string& label) {
  const char* field = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
  std::string state = field == nullptr ? "" : field;
  if (state.empty() || state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" || state == "57P03") {
    return unreachable(label);
  }
  if (state == "57014" || state == "55P03") {
    return CallOutcome::failure("timeout", label + ": the statement ran past its time budget", true);
  }
  if (state == "25006") return readOnlyRefused(label);
  if (state == "40001" || state == "40P01") {
    return CallOutcome::failure("conflict", label + ": serialization failure or deadlock (SQLSTATE " + state + ")", true);
  }
  return CallOutcome::failure("sql_error", label + ": SQL error (SQLSTATE " + state + ")", false);
}

Json column(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col) != 0) return nullptr;
  std::string_view text(PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col)));
  switch (PQftype(r, col)) {
    case kBool:
      return text == "t";
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid:
      return std::stoll(std::string(text));
    case kFloat4:
    case kFloat8:
      // NaN and Infinity have no JSON number; they stay text.
      if (text == "NaN" || text.find("Infinity") != std::string_view::npos) return std::string(text);
      return std::stod(std::string(text));
    case kJson:
    case kJsonb: {
      Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (!parsed.is_discarded()) return parsed;
      return std::string(text);
    }
    case kBytea: {
      size_t size = 0;
      unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r, row, col)), &size);
      if (bytes == nullptr) return nullptr;
      Json out = bytesValue(std::string_view(reinterpret_cast<const char*>(bytes), size));
      PQfreemem(bytes);
      return out;
    }
    default:
      if (isValidUtf8(text)) return std::string(text);
      return bytesValue(text);
  }
}

// libpq takes every value as text and lets the server infer the type from the statement.
std::optional<std::string> textOf(const Json& v) {
  if (v.is_null()) return std::nullopt;
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

class PostgresBackend final : public Backend {
 public:
  PostgresBackend(const SqlConnection& c, SecretLookup secrets, std::size_t maxRows, int maxIdle)
      : conninfo_(c.postgresConninfo),
        passwordSecret_(c.passwordSecret),
        secrets_(std::move(secrets)),
        maxRows_(maxRows),
        maxIdle_(static_cast<size_t>(maxIdle)) {}

  ~PostgresBackend() override {
    for (PGconn* c : idle_) PQfinish(c);
  }

  CallOutcome run(const Execution& e) override {
    try {
      // A pooled connection may have died since its last use (server restart): then the
      // BEGIN fails before anything ran, and one fresh connection is tried.
      for (int attempt = 0; attempt < 2; ++attempt) {
        bool pooled = false;
        CallOutcome failed;
        PGconn* conn = acquire(e, pooled, failed);
        if (conn == nullptr) return failed;
        bool healthy = true;
        bool began = false;
        CallOutcome out = runOn(conn, e, healthy, began);
        release(conn, healthy);
        if (began || healthy || !pooled) return out;
      }
      return unreachable(e.label);
    } catch (...) {
      return CallOutcome::failure("internal", e.label + ": failed unexpectedly", false);
    }
  }

 private:
  // An idle connection, or a new one; nullptr with `failed` set when none can be had.
  PGconn* acquire(const Execution& e, bool& pooled, CallOutcome& failed) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        PGconn* c = idle_.back();
        idle_.pop_back();
        pooled = true;
        return c;
      }
    }
    std::string password;
    if (!passwordSecret_.empty()) {
      auto secret = secrets_ ? secrets_(passwordSecret_) : std::nullopt;
      if (!secret) {
        failed = CallOutcome::failure(
            "secret_missing", e.label + ": secret '" + passwordSecret_ + "' (the database password) is not set", false);
        return nullptr;
      }
      password = std::move(*secret);
    }
    // libpq's connect_timeout counts whole seconds and treats less than 2 as 2.
    auto seconds = std::max<long long>(2, (e.budget.count() + 999) / 1000);
    std::string timeout = std::to_string(seconds);
    const char* keys[] = {"dbname", "password", "connect_timeout", "client_encoding", nullptr};
    const char* values[] = {conninfo_.c_str(), password.empty() ? nullptr : password.c_str(), timeout.c_str(), "UTF8",
                            nullptr};
    PGconn* c = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    explicit_bzero(password.data(), password.size());
    if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
      PQfinish(c);
      failed = unreachable(e.label);
      return nullptr;
    }
    return c;
  }

  void release(PGconn* c, bool healthy) {
    if (healthy && PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) == PQTRANS_IDLE) {
      std::lock_guard<std::mutex> lock(mu_);
      if (idle_.size() < maxIdle_) {
        idle_.push_back(c);
        return;
      }
    }
    PQfinish(c);
  }

  CallOutcome runOn(PGconn* conn, const Execution& e, bool& healthy, bool& began) const {
    // The timeout is an integer of ours, never call input; SET LOCAL ends with the transaction.
    std::string begin = std::string(e.write ? "BEGIN READ WRITE" : "BEGIN READ ONLY") +
                        "; SET LOCAL statement_timeout = " + std::to_string(std::max<long long>(1, e.budget.count()));
    ResultPtr r(PQexec(conn, begin.c_str()));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      healthy = PQstatus(conn) == CONNECTION_OK;
      if (healthy) rollback(conn, healthy);
      return failureFor(r.get(), e.label);
    }
    began = true;

    std::vector<std::optional<std::string>> texts;
    std::vector<const char*> values;
    for (const auto& v : e.values) texts.push_back(textOf(v));
    for (const auto& t : texts) values.push_back(t ? t->c_str() : nullptr);
    r.reset(PQexecParams(conn, e.statement.text.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                         nullptr, nullptr, 0));
    auto status = PQresultStatus(r.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      CallOutcome failed = failureFor(r.get(), e.label);
      rollback(conn, healthy);
      return failed;
    }
    if (!e.write && static_cast<size_t>(PQntuples(r.get())) > maxRows_) {
      rollback(conn, healthy);
      return tooManyRows(e.label, maxRows_);
    }
    Json output = e.write ? changed(r.get()) : rows(r.get());
    r.reset(PQexec(conn, "COMMIT"));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      healthy = false;
      return failureFor(r.get(), e.label);
    }
    return CallOutcome::success(std::move(output));
  }

  static void rollback(PGconn* conn, bool& healthy) {
    ResultPtr r(PQexec(conn, "ROLLBACK"));
    healthy = healthy && PQresultStatus(r.get()) == PGRES_COMMAND_OK;
  }

  static Json changed(const PGresult* r) {
    std::string n = PQcmdTuples(const_cast<PGresult*>(r));
    return {{"changed", n.empty() ? 0LL : std::stoll(n)}};
  }

  static Json rows(const PGresult* r) {
    Json out = Json::array();
    int n = PQntuples(r);
    int cols = PQnfields(r);
    for (int i = 0; i < n; ++i) {
      Json row = Json::object();
      for (int k = 0; k < cols; ++k) row[PQfname(r, k)] = column(r, i, k);
      out.push_back(std::move(row));
    }
    auto count = out.size();
    return {{"rows", std::move(out)}, {"count", count}};
  }

  const std::string conninfo_;
  const std::string passwordSecret_;
  const SecretLookup secrets_;
  const std::size_t maxRows_;
  const std::size_t maxIdle_;
  std::mutex mu_;
  std::vector<PGconn*> idle_;  // guarded by mu_
};

}  // namespace

std::unique_ptr<Backend> makePostgresBackend(const SqlConnection& connection, SecretLookup secrets,
                                             std::size_t maxRows, int maxIdle) {
  return std::make_unique<PostgresBackend>(connection, std::move(secrets), maxRows, maxIdle);
}

}  // namespace vigil::sql
