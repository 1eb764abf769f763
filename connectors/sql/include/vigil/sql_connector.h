// The `sql` connectors: named, parameterised statements against SQLite files and PostgreSQL.
//
// One connector is registered per configured connection, named after it ("rms"):
//
//   rms.query    {name, params?}  -> {rows: [{column: value}], count}     consultation
//   rms.execute  {name, params?}  -> {changed}                            alteration, writable only
//
// Only the statements configured in SqlConnection::queries ever run: no SQL is built from call
// input, and every value reaches the database as a bound parameter (`:name` placeholders, sent
// to libpq as $1, $2, ...). `query` always runs read-only, even on a writable connection, so its
// audit record ("consultation") is true: SQLite refuses a statement that is not read-only, and
// PostgreSQL runs it inside `BEGIN READ ONLY`. A read-only connection's SQLite file is opened
// with SQLITE_OPEN_READONLY, and its `execute` is refused.
//
// Values: JSON null, booleans, integers, floats and strings may be bound (objects and arrays
// are refused). Results map INTEGER/int2/int4/int8 to integers, REAL/float4/float8 to numbers,
// PostgreSQL bool to booleans, json/jsonb to parsed JSON, NULL to null, BLOB/bytea (and text
// that is not UTF-8) to {"$base64": "..."}, and everything else (numeric, dates, NaN) to its
// text form, so no precision is lost.
//
// Failures (CallOutcome codes; messages name the connection, the query and the field, never
// SQL text, parameter values, server messages or secrets):
//   invalid_request  unknown query name, missing or extra parameter, unbindable value  not retryable
//   unreachable      the database cannot be opened or connected to, or the link broke    retryable
//   secret_missing   passwordSecret is not known to the SecretLookup                     not retryable
//   timeout          the statement ran past min(options.timeout, call deadline), or the
//                    database stayed locked that long                                    retryable
//   conflict         PostgreSQL serialization failure or deadlock                        retryable
//   read_only        a statement that writes, on `query` or on a read-only connection    not retryable
//   too_many_rows    the result has more than maxRows rows                               not retryable
//   sql_error        any other error (SQLite result name or PostgreSQL SQLSTATE only)    not retryable
//
// Limits: a PostgreSQL result is received whole before maxRows is checked (statement_timeout
// bounds it); the client does not watch the socket, so a silent network partition waits for
// TCP to notice.
//
// Thread safety: the registered connectors may be called from many threads. SQLite opens the
// file per call; PostgreSQL keeps up to maxConcurrency idle connections per connection,
// looking the password up each time it opens a new one. Options are copied at registration.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "vigil/connector.h"
#include "vigil/status.h"

namespace vigil {

struct SqlConnection {
  std::string name;  // the connector's name, e.g. "rms"
  enum class Kind { kSqlite, kPostgres } kind = Kind::kSqlite;
  std::string sqlitePath;  // kSqlite: an existing database file (never created)
  // kPostgres: libpq conninfo WITHOUT the password, e.g. "host=127.0.0.1 port=5432 dbname=rms user=vigil".
  std::string postgresConninfo;
  std::string passwordSecret;  // kPostgres: the secret NAME of the password; empty: no password
  bool writable = false;       // read-only unless declared writable
  // Named statements, one each, with `:name` placeholders: "person_by_id" -> "SELECT ... WHERE id = :id".
  // A colon outside literals and comments must start a placeholder or a PostgreSQL `::` cast.
  std::map<std::string, std::string> queries;
};

struct SqlConnectorOptions {
  std::vector<SqlConnection> connections;
  SecretLookup secrets;  // for passwordSecret, looked up when a connection is opened
  int maxConcurrency = 8;
  std::chrono::milliseconds timeout{30000};  // per statement; the call's deadline wins if sooner
  std::size_t maxRows = 10000;
};

// Registers one connector per connection. Every connection is checked first, so nothing is
// registered when one is wrong: invalidArgument for an empty or duplicate name, a missing
// path or conninfo, a conninfo that does not parse or holds a password, no queries, a query
// with a malformed placeholder, a `?`/`$n`/`@x` placeholder, or more than one statement, or
// bad limits; alreadyExists when a name is already registered. Nothing is opened or
// connected here: an unreachable database is a call failure, not a registration failure.
Status registerSqlConnectors(ConnectorRegistry& registry, const SqlConnectorOptions& options);

}  // namespace vigil
