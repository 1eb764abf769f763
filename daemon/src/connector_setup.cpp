#include "connector_setup.h"

#include "vigil/email_connector.h"
#include "vigil/http_connector.h"
#include "vigil/file_connector.h"
#include "vigil/native_plugin.h"
#include "vigil/plugin_connector.h"
#include "vigil/sql_connector.h"
#include "vigil/rest_connector.h"

namespace vigil::daemon {

Status setupConnectors(const ConnectorConfig& config, const SecretStore& secrets, ConnectorRegistry& registry) {
  HttpConnectorOptions http;
  http.outbound.allow = config.outbound;
  http.caFile = config.caFile;
  http.secrets = secrets.lookup();
  if (Status s = registerHttpConnectors(registry, http); !s) return Status::invalidArgument("connectors: " + s.message());
  if (Status s = registerRestConnectors(registry, config.dirs); !s) return Status::invalidArgument("connectors.dirs: " + s.message());
  if (!config.nativePlugins.empty()) {
    if (Status s = registerNativePlugins(registry, config.nativePlugins); !s) {
      return Status::invalidArgument("connectors.native_plugins: " + s.message());
    }
  }
  if (!config.sql.empty()) {
    SqlConnectorOptions o;
    o.secrets = secrets.lookup();
    for (const auto& c : config.sql) {
      SqlConnection conn;
      conn.name = c.name;
      conn.kind = c.postgres.empty() ? SqlConnection::Kind::kSqlite : SqlConnection::Kind::kPostgres;
      conn.sqlitePath = c.sqlite;
      conn.postgresConninfo = c.postgres;
      conn.passwordSecret = c.passwordSecret;
      conn.writable = c.writable;
      conn.queries = c.queries;
      o.connections.push_back(std::move(conn));
    }
    if (Status s = registerSqlConnectors(registry, o); !s) return Status::invalidArgument("connectors.sql: " + s.message());
  }
  if (!config.files.empty()) {
    FileConnectorOptions o;
    for (const auto& f : config.files) o.folders.push_back(FileFolder{f.name, f.path, f.writable});
    if (Status s = registerFileConnector(registry, o); !s) return Status::invalidArgument("connectors.files: " + s.message());
  }
  for (const auto& p : config.plugins) {
    PluginOptions o;
    o.name = p.name;
    o.argv = p.argv;
    o.workingDir = p.workingDir;
    if (Status s = registerPlugin(registry, o); !s) return Status::invalidArgument("connectors.plugins: " + s.message());
  }
  if (config.email) {
    EmailConnectorOptions e;
    e.host = config.emailHost;
    e.port = config.emailPort;
    e.tls = config.emailTls == "none"       ? EmailConnectorOptions::Tls::kNone
            : config.emailTls == "implicit" ? EmailConnectorOptions::Tls::kImplicit
                                            : EmailConnectorOptions::Tls::kStartTls;
    e.caFile = config.emailCaFile;
    e.username = config.emailUsername;
    e.passwordSecret = config.emailPasswordSecret;
    e.from = config.emailFrom;
    e.allowDomains = config.emailAllowDomains;
    for (const auto& [name, t] : config.emailTemplates) e.templates[name] = EmailTemplate{t.first, t.second};
    e.secrets = secrets.lookup();
    if (Status s = registerEmailConnector(registry, e); !s) return Status::invalidArgument("connectors.email: " + s.message());
  }
  for (const auto& [name, lim] : config.limits) {
    if (Status s = registry.setLimits(name, lim.maxConcurrency, lim.maxPerSecond); !s) {
      return Status::invalidArgument("connectors.limits: " + s.message());
    }
  }
  return Status::ok();
}

}  // namespace vigil::daemon
