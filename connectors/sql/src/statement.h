// A configured statement, checked once at registration: where its `:name` placeholders are,
// and the text each backend runs. Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "vigil/sql_connector.h"
#include "vigil/status.h"

namespace vigil::sql {

struct Statement {
  std::string name;                 // the query's configured name
  std::string text;                 // what the backend prepares: SQLite keeps `:name`, libpq gets `$n`
  std::vector<std::string> params;  // distinct placeholder names; libpq's $n is params[n-1]
};

// Scans `sql` outside string literals, quoted identifiers, comments and (PostgreSQL) dollar
// quotes. invalidArgument, naming the query and the byte offset, for a malformed or foreign
// placeholder, an unterminated literal or comment, or a second statement after a `;`.
Result<Statement> parseStatement(const std::string& name, const std::string& sql, SqlConnection::Kind kind);

}  // namespace vigil::sql
