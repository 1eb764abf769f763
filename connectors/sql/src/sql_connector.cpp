#include "vigil/sql_connector.h"

#include <libpq-fe.h>

#include <algorithm>
#include <set>

#include "backend.h"

namespace vigil::sql {
namespace {

CallOutcome invalid(const std::string& label, const std::string& what) {
  return CallOutcome::failure("invalid_request", label + ": " + what, false);
}

// A name from call input, shortened and stripped of controls before it goes in a message.
std::string printable(const std::string& name) {
  std::string out;
  for (char c : name.substr(0, 64)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) ? '?' : c;
  return out;
}

class SqlConnector final : public Connector {
 public:
  SqlConnector(std::string name, bool writable, bool postgres, std::map<std::string, Statement> statements,
               std::unique_ptr<Backend> backend, std::chrono::milliseconds timeout)
      : name_(std::move(name)),
        writable_(writable),
        postgres_(postgres),
        statements_(std::move(statements)),
        backend_(std::move(backend)),
        timeout_(timeout) {}

  CallOutcome call(const ConnectorCall& c) override {
    // The promise of connector.h: nothing escapes, whatever a library below us throws.
    try {
      if (c.action != "query" && c.action != "execute") {
        return CallOutcome::failure("unknown_action", name_ + " has no action '" + printable(c.action) + "'", false);
      }
      return run(c, c.action == "execute");
    } catch (...) {
      return CallOutcome::failure("internal", name_ + "." + printable(c.action) + " failed unexpectedly", false);
    }
  }

  std::vector<ActionSpec> actions() const override {
    std::vector<ParamSpec> params = {
        {"name", "string", true, "one of the connection's named queries"},
        {"params", "object", false, "a value for each :placeholder of the query"}};
    std::vector<ActionSpec> out;
    out.push_back({"query", "Runs a named read-only query and returns its rows", params,
                   {{"rows", "array", false, "one object per row, keyed by column"}, {"count", "integer", false, ""}},
                   false, "consultation"});
    if (writable_) {
      out.push_back({"execute", "Runs a named statement that changes data", params,
                     {{"changed", "integer", false, "rows changed"}}, false, "alteration"});
    }
    return out;
  }

  std::string description() const override {
    return std::string("Named SQL queries on the '") + name_ + "' " + (postgres_ ? "PostgreSQL" : "SQLite") +
           " database" + (writable_ ? "" : " (read-only)");
  }

 private:
  CallOutcome run(const ConnectorCall& c, bool write) const {
    std::string label = name_ + "." + c.action;
    if (!c.input.is_object()) return invalid(label, "the input must be an object");
    for (const auto& [key, value] : c.input.items()) {
      if (key != "name" && key != "params") return invalid(label, "unknown parameter '" + printable(key) + "'");
    }
    auto nameField = c.input.find("name");
    if (nameField == c.input.end() || !nameField->is_string()) return invalid(label, "'name' must be a query name");
    auto found = statements_.find(nameField->get<std::string>());
    if (found == statements_.end()) {
      return invalid(label, "no query named '" + printable(nameField->get<std::string>()) + "'");
    }
    const Statement& st = found->second;
    label = name_ + "." + st.name;
    if (write && !writable_) return readOnlyRefused(label);

    Json params = Json::object();
    if (auto p = c.input.find("params"); p != c.input.end() && !p->is_null()) {
      if (!p->is_object()) return invalid(label, "'params' must be an object");
      params = *p;
    }
    std::vector<Json> values;
    for (const auto& param : st.params) {
      auto v = params.find(param);
      if (v == params.end()) return invalid(label, "missing parameter '" + param + "'");
      if (v->is_object() || v->is_array() || v->is_binary()) {
        return invalid(label, "parameter '" + param + "' must be a string, number, boolean or null");
      }
      values.push_back(*v);
    }
    for (const auto& [key, value] : params.items()) {
      if (std::find(st.params.begin(), st.params.end(), key) == st.params.end()) {
        return invalid(label, "the query has no parameter '" + printable(key) + "'");
      }
    }

    auto budget = timeout_;
    if (c.deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*c.deadline -
                                                                        std::chrono::system_clock::now());
      budget = std::min(budget, left);
    }
    if (budget <= std::chrono::milliseconds(0)) {
      return CallOutcome::failure("timeout", label + ": the step's deadline passed before the statement ran", true);
    }
    return backend_->run(Execution{st, std::move(values), write, budget, label});
  }

  const std::string name_;
  const bool writable_;
  const bool postgres_;
  const std::map<std::string, Statement> statements_;
  const std::unique_ptr<Backend> backend_;
  const std::chrono::milliseconds timeout_;
};

// The conninfo parses, and carries no password: that comes from the secret only.
Status checkConninfo(const std::string& prefix, const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);  // it may quote the conninfo
    return Status::invalidArgument(prefix + "postgresConninfo does not parse");
  }
  bool password = false;
  for (auto* o = options; o->keyword != nullptr; ++o) {
    password = password || (std::string(o->keyword) == "password" && o->val != nullptr && *o->val != '\0');
  }
  PQconninfoFree(options);
  if (password) return Status::invalidArgument(prefix + "postgresConninfo must not hold a password (use passwordSecret)");
  return Status::ok();
}

Result<std::map<std::string, Statement>> checkConnection(const SqlConnection& c) {
  std::string prefix = "sql connection '" + c.name + "': ";
  bool postgres = c.kind == SqlConnection::Kind::kPostgres;
  if (!postgres && c.sqlitePath.empty()) return Status::invalidArgument(prefix + "sqlitePath is empty");
  if (postgres) {
    if (c.postgresConninfo.empty()) return Status::invalidArgument(prefix + "postgresConninfo is empty");
    if (auto s = checkConninfo(prefix, c.postgresConninfo); !s) return s;
  }
  if (c.queries.empty()) return Status::invalidArgument(prefix + "no queries configured");
  std::map<std::string, Statement> out;
  for (const auto& [name, text] : c.queries) {
    auto parsed = parseStatement(name, text, c.kind);
    if (!parsed) return Status::invalidArgument(prefix + parsed.status().message());
    out.emplace(name, std::move(parsed).value());
  }
  return out;
}

}  // namespace
}  // namespace vigil::sql

namespace vigil {

Status registerSqlConnectors(ConnectorRegistry& registry, const SqlConnectorOptions& options) {
  auto bad = [](const std::string& what) { return Status::invalidArgument("sql connector: " + what); };
  if (options.maxConcurrency < 1) return bad("maxConcurrency must be at least 1");
  if (options.timeout <= std::chrono::milliseconds(0)) return bad("timeout must be positive");
  if (options.maxRows == 0) return bad("maxRows must be positive");
  std::set<std::string> names;
  std::vector<std::map<std::string, sql::Statement>> checked;
  for (const auto& c : options.connections) {
    if (c.name.empty()) return bad("a connection has no name");
    if (!names.insert(c.name).second) return bad("connection '" + c.name + "' is configured twice");
    if (registry.find(c.name) != nullptr) {
      return Status::alreadyExists("connector '" + c.name + "' is already registered");
    }
    auto statements = sql::checkConnection(c);
    if (!statements) return statements.status();
    checked.push_back(std::move(statements).value());
  }
  for (size_t i = 0; i < options.connections.size(); ++i) {
    const auto& c = options.connections[i];
    bool postgres = c.kind == SqlConnection::Kind::kPostgres;
    auto backend = postgres ? sql::makePostgresBackend(c, options.secrets, options.maxRows, options.maxConcurrency)
                            : sql::makeSqliteBackend(c, options.maxRows);
    auto connector = std::make_shared<sql::SqlConnector>(c.name, c.writable, postgres, std::move(checked[i]),
                                                         std::move(backend), options.timeout);
    if (auto s = registry.add(c.name, std::move(connector), options.maxConcurrency); !s) return s;
  }
  return Status::ok();
}

}  // namespace vigil
