// What the sql connector asks of a database: run one checked statement with its values bound,
// within a time budget, and say what happened as a CallOutcome. Internal to this library.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "statement.h"
#include "vigil/connector.h"
#include "vigil/sql_connector.h"

namespace vigil::sql {

struct Execution {
  const Statement& statement;
  std::vector<Json> values;  // values[k] binds statement.params[k]; scalars only
  bool write = false;        // `execute`: may change data and reports {changed}
  std::chrono::milliseconds budget;
  std::string label;  // "rms.person_by_id", for messages
};

// Implementations are thread-safe and never throw.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual CallOutcome run(const Execution& e) = 0;
};

std::unique_ptr<Backend> makeSqliteBackend(const SqlConnection& connection, std::size_t maxRows);
std::unique_ptr<Backend> makePostgresBackend(const SqlConnection& connection, SecretLookup secrets,
                                             std::size_t maxRows, int maxIdle);

// Shared by both backends.
bool isValidUtf8(std::string_view s);
// {"$base64": "..."}: how bytes that are not text reach JSON.
Json bytesValue(std::string_view bytes);
CallOutcome tooManyRows(const std::string& label, std::size_t maxRows);
CallOutcome readOnlyRefused(const std::string& label);

}  // namespace vigil::sql
