// The daemon's configuration file (vigil.yaml). Every key is optional; command-line
// flags override the file. Errors name the file, line, column and key.
#pragma once

#include <chrono>
#include <map>

#include <yaml-cpp/yaml.h>
#include <string>
#include <vector>

#include "auth/user_store.h"
#include "http/http_server.h"
#include "vigil/status.h"

namespace vigil::daemon {

// The `connectors:` section: where outbound calls may go, the e-mail server, and limits.
struct ConnectorConfig {
  std::vector<std::string> outbound = {"127.0.0.1", "localhost", "::1"};
  std::vector<std::string> dirs;  // folders of REST connector definitions (*.yaml)
  std::string nativePlugins;      // a folder of native plugin libraries (*.so)
  struct Sql {
    std::string name, sqlite, postgres, passwordSecret;
    bool writable = false;
    std::map<std::string, std::string> queries;
  };
  std::vector<Sql> sql;
  struct Folder {
    std::string name, path;
    bool writable = false;
  };
  std::vector<Folder> files;
  struct Plugin {
    std::string name, workingDir;
    std::vector<std::string> argv;
  };
  std::vector<Plugin> plugins;  // out-of-process (plugins/PROTOCOL.md)
  std::string caFile;
  bool email = false;  // an `email:` section was given
  std::string emailHost = "127.0.0.1";
  int emailPort = 25;
  std::string emailTls = "starttls";  // starttls, implicit, none
  std::string emailCaFile;
  std::string emailUsername;
  std::string emailPasswordSecret;
  std::string emailFrom;
  std::vector<std::string> emailAllowDomains;
  std::map<std::string, std::pair<std::string, std::string>> emailTemplates;  // name -> (subject, body)
  struct Limits {
    int maxConcurrency = 16;
    double maxPerSecond = 0;
  };
  std::map<std::string, Limits> limits;  // by connector name
};

struct ServeConfig {
  std::string data = "./vigil-data";
  std::string listen = "127.0.0.1:8470";
  std::vector<std::string> workflows;  // directories
  HttpLimits limits;
  int requestsPerSecondPerToken = 50;
  std::string tlsCert;  // PEM certificate chain; with tlsKey, the API is served over HTTPS
  std::string tlsKey;
  std::map<std::string, std::string> webhookSecrets;  // webhook path -> secret (read from a file)
  std::chrono::seconds webhookWindow{std::chrono::minutes(5)};  // webhooks.signature_window_seconds
  std::chrono::milliseconds auditCheckpointInterval{std::chrono::seconds(60)};
  // Where checkpoints go besides the store, out of its writer's reach (docs/AUDIT.md).
  struct Audit {
    std::string origin;         // the log's name in its signed notes; "" = keys/audit-origin
    std::string checkpointLog;  // an append-only file outside the data directory
    std::vector<std::string> witnesses;  // `vigil witness` URLs
  } audit;
  std::chrono::milliseconds claimDuration{std::chrono::minutes(15)};
  // A decision taken within this long of its approver opening the task counts as quick in
  // the approvals report (approvals.quick_decision_seconds): a rubber-stamp indicator.
  std::chrono::seconds quickDecision{10};
  // How often open tasks are checked for having nobody who can act on them.
  std::chrono::milliseconds unactionableCheckInterval{std::chrono::seconds(30)};
  SessionPolicy sessions;  // sessions: { idle_minutes, hours } of the web workbench
  std::string secretsFile;
  // store: where runs and the audit trail live. Empty: the SQLite file in `data`; else a
  // PostgreSQL conninfo (a postgres:// URI or key=value), its password the secret named.
  // node names this process among those sharing the store (default: the host's name and
  // the listening port; "local" for the embedded file, which one process owns); a node
  // that has not renewed its partition leases for lease_seconds loses them to the others.
  struct Store {
    std::string postgres;
    std::string passwordSecret;
    std::string node;
    std::chrono::milliseconds leaseTtl{std::chrono::seconds(15)};
  } store;
  std::string area;  // an area file: calendars and decision timescales (area_file.h)
  ConnectorConfig connectors;
};

// Reads `path` into `config`, keeping defaults for absent keys. On failure the message
// holds every problem found, one "FILE:LINE:COL: error: ..." line each.
Status loadServeConfig(const std::string& path, ServeConfig* config);
// The `connectors:` section (config_connectors.cpp), with every problem in it the same way.
Status loadConnectorConfig(const std::string& path, const YAML::Node& node, ConnectorConfig* out);

}  // namespace vigil::daemon
