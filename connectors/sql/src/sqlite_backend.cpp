// SQLite through SQLiteCpp for opening the file, and the C API for the statement: SQLiteCpp
// keeps the sqlite3_stmt private, and sqlite3_stmt_readonly and the step's result code are
// what this backend decides on.
#include <sqlite3.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <chrono>
#include <memory>

#include "backend.h"

namespace vigil::sql {
namespace {

using Steady = std::chrono::steady_clock;

// Called every few thousand VM instructions: a non-zero return interrupts the statement,
// which is how a runaway query (a recursive CTE) ends at its deadline.
int pastDeadline(void* deadline) { return Steady::now() >= *static_cast<Steady::time_point*>(deadline) ? 1 : 0; }

CallOutcome failureFor(int code, const std::string& label) {
  switch (code & 0xFF) {
    case SQLITE_INTERRUPT:
      return CallOutcome::failure("timeout", label + ": the statement ran past its time budget", true);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return CallOutcome::failure("timeout", label + ": the database stayed locked past the time budget", true);
    case SQLITE_READONLY:
      return readOnlyRefused(label);
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
      return CallOutcome::failure("unreachable", label + ": the database file cannot be opened or read", true);
    default:
      // sqlite3_errstr names the kind of error only; sqlite3_errmsg could quote the SQL or values.
      return CallOutcome::failure("sql_error", label + ": " + sqlite3_errstr(code), false);
  }
}

class SqliteBackend final : public Backend {
 public:
  SqliteBackend(const SqlConnection& c, std::size_t maxRows)
      : path_(c.sqlitePath), writable_(c.writable), maxRows_(maxRows) {}

  CallOutcome run(const Execution& e) override {
    try {
      return runChecked(e);
    } catch (const SQLite::Exception& x) {
      return failureFor(x.getErrorCode(), e.label);
    } catch (...) {
      return CallOutcome::failure("internal", e.label + ": failed unexpectedly", false);
    }
  }

 private:
  CallOutcome runChecked(const Execution& e) const {
    // Never SQLITE_OPEN_CREATE: a mistyped path is unreachable, not a new empty database.
    int flags = writable_ ? SQLite::OPEN_READWRITE : SQLite::OPEN_READONLY;
    auto budgetMs = static_cast<int>(std::min<long long>(e.budget.count(), 1LL << 30));
    SQLite::Database db(path_, flags, budgetMs);
    Steady::time_point deadline = Steady::now() + e.budget;
    sqlite3_progress_handler(db.getHandle(), 1000, pastDeadline, &deadline);

    sqlite3_stmt* prepared = nullptr;
    const auto& text = e.statement.text;
    if (int rc = sqlite3_prepare_v2(db.getHandle(), text.c_str(), static_cast<int>(text.size()), &prepared, nullptr);
        rc != SQLITE_OK) {
      sqlite3_finalize(prepared);
      return failureFor(rc, e.label);
    }
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> owned(prepared, sqlite3_finalize);
    sqlite3_stmt* raw = owned.get();
    // On a writable connection the file is open read-write, so `query` checks here instead.
    if (!e.write && sqlite3_stmt_readonly(raw) == 0) return readOnlyRefused(e.label);
    for (size_t k = 0; k < e.values.size(); ++k) {
      int index = sqlite3_bind_parameter_index(raw, (":" + e.statement.params[k]).c_str());
      if (index == 0) continue;  // only inside a comment SQLite skipped; nothing to bind
      if (int rc = bind(raw, index, e.values[k]); rc != SQLITE_OK) return failureFor(rc, e.label);
    }

    Json rows = Json::array();
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      if (e.write) continue;
      if (rows.size() >= maxRows_) return tooManyRows(e.label, maxRows_);
      rows.push_back(row(raw));
    }
    if (rc != SQLITE_DONE) return failureFor(sqlite3_extended_errcode(db.getHandle()), e.label);
    if (e.write) return CallOutcome::success({{"changed", sqlite3_changes(db.getHandle())}});
    auto count = rows.size();
    return CallOutcome::success({{"rows", std::move(rows)}, {"count", count}});
  }

  static int bind(sqlite3_stmt* st, int index, const Json& v) {
    if (v.is_null()) return sqlite3_bind_null(st, index);
    if (v.is_boolean()) return sqlite3_bind_int(st, index, v.get<bool>() ? 1 : 0);
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return sqlite3_bind_double(st, index, v.get<double>());
    }
    if (v.is_number_integer()) return sqlite3_bind_int64(st, index, v.get<int64_t>());
    if (v.is_number()) return sqlite3_bind_double(st, index, v.get<double>());
    const auto& s = v.get_ref<const std::string&>();
    return sqlite3_bind_text64(st, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  }

  static Json row(sqlite3_stmt* st) {
    Json out = Json::object();
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; ++i) out[sqlite3_column_name(st, i)] = column(st, i);
    return out;
  }

  static Json column(sqlite3_stmt* st, int i) {
    switch (sqlite3_column_type(st, i)) {
      case SQLITE_NULL:
        return nullptr;
      case SQLITE_INTEGER:
        return static_cast<int64_t>(sqlite3_column_int64(st, i));
      case SQLITE_FLOAT:
        return sqlite3_column_double(st, i);
      case SQLITE_TEXT: {
        std::string_view text(reinterpret_cast<const char*>(sqlite3_column_text(st, i)),
                              static_cast<size_t>(sqlite3_column_bytes(st, i)));
        if (isValidUtf8(text)) return std::string(text);
        return bytesValue(text);
      }
      default: {
        const void* blob = sqlite3_column_blob(st, i);
        auto size = static_cast<size_t>(sqlite3_column_bytes(st, i));
        return bytesValue(blob == nullptr ? std::string_view() : std::string_view(static_cast<const char*>(blob), size));
      }
    }
  }

  std::string path_;
  bool writable_;
  std::size_t maxRows_;
};

}  // namespace

std::unique_ptr<Backend> makeSqliteBackend(const SqlConnection& connection, std::size_t maxRows) {
  return std::make_unique<SqliteBackend>(connection, maxRows);
}

}  // namespace vigil::sql
