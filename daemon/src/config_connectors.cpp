// The configuration's `connectors:` section:
//
//   connectors:
//     outbound: [127.0.0.1, localhost, "records.force.example:443"]   # where http/webhook/REST may call
//     ca_file: /etc/vigil/ca.pem                                       # extra CA for outbound TLS
//     dirs: [/etc/vigil/connectors]                                    # REST connectors declared in YAML
//     native_plugins: /usr/lib/vigil/plugins                           # shared libraries (vigil/plugin_abi.h)
//     sql: [{ name: rms_db, sqlite: /srv/rms.db, queries: { by_id: "SELECT ... WHERE id = :id" } }]
//     files: [{ name: referrals, path: /srv/vigil/referrals, writable: true }]
//     plugins: [{ name: pnd_lookup, argv: [/usr/bin/python3, pnd_lookup.py], working_dir: /srv/plugins }]
//     email: { host: 127.0.0.1, port: 2525, tls: starttls, from: mash@force.example,
//              username: vigil, password_secret: SMTP_PASSWORD, allow_domains: [school.example],
//              templates: { encompass: { subject: "...", body: "Dear {{name}} ..." } } }
//     limits: { pnd: { max_concurrency: 2, max_per_second: 5 } }
#include <set>

#include "config.h"
#include "config_yaml.h"

namespace vigil::daemon {
namespace {

Status unknownKey(const std::string& path, const YAML::Node& k, const std::string& section, const std::string& known) {
  return Status::invalidArgument(where(path, k) + ": error: unknown key '" + section + "." + k.as<std::string>("") +
                                 "' (known: " + known + ")");
}

Status loadEmail(const std::string& path, const YAML::Node& v, ConnectorConfig* out) {
  if (!v.IsMap()) return Status::invalidArgument(where(path, v) + ": error: 'connectors.email' must be a map");
  out->email = true;
  for (const auto& kv : v) {
    const std::string k = kv.first.as<std::string>("");
    const YAML::Node& n = kv.second;
    const std::string key = "connectors.email." + k;
    Status s = Status::ok();
    if (k == "host") {
      s = read(path, n, key, &out->emailHost);
    } else if (k == "port") {
      long long port = 0;
      s = readPositive(path, n, key, 1, 65535, &port);
      out->emailPort = static_cast<int>(port);
    } else if (k == "tls") {
      s = read(path, n, key, &out->emailTls);
      if (s && out->emailTls != "starttls" && out->emailTls != "implicit" && out->emailTls != "none") {
        return Status::invalidArgument(where(path, n) + ": error: '" + key + "' must be starttls, implicit or none");
      }
    } else if (k == "ca_file") {
      s = read(path, n, key, &out->emailCaFile);
    } else if (k == "username") {
      s = read(path, n, key, &out->emailUsername);
    } else if (k == "password_secret") {
      s = read(path, n, key, &out->emailPasswordSecret);
    } else if (k == "from") {
      s = read(path, n, key, &out->emailFrom);
    } else if (k == "allow_domains") {
      s = read(path, n, key, &out->emailAllowDomains);
    } else if (k == "templates") {
      if (!n.IsMap()) return Status::invalidArgument(where(path, n) + ": error: '" + key + "' must be a map of names");
      for (const auto& t : n) {
        const std::string name = t.first.as<std::string>("");
        if (!t.second.IsMap() || !t.second["subject"] || !t.second["body"]) {
          return Status::invalidArgument(where(path, t.second) + ": error: template '" + name + "' needs 'subject' and 'body'");
        }
        std::string subject, body;
        s = read(path, t.second["subject"], key + "." + name + ".subject", &subject);
        if (s) s = read(path, t.second["body"], key + "." + name + ".body", &body);
        if (!s) return s;
        out->emailTemplates[name] = {subject, body};
      }
    } else {
      return unknownKey(path, kv.first, "connectors.email",
                        "host, port, tls, ca_file, username, password_secret, from, allow_domains, templates");
    }
    if (!s) return s;
  }
  if (out->emailFrom.empty()) return Status::invalidArgument(where(path, v) + ": error: 'connectors.email' needs 'from'");
  return Status::ok();
}

// A list of maps, each read key by key into `T` by `one`.
template <typename T, typename F>
Status loadList(const std::string& path, const YAML::Node& v, const std::string& section, std::vector<T>* out, F one) {
  if (!v.IsSequence()) return Status::invalidArgument(where(path, v) + ": error: '" + section + "' must be a list");
  for (const auto& item : v) {
    if (!item.IsMap()) return Status::invalidArgument(where(path, item) + ": error: each entry of '" + section + "' is a map");
    T t;
    for (const auto& kv : item) {
      Status s = one(kv.first.as<std::string>(""), kv.second, &t, kv.first);
      if (!s) return s;
    }
    out->push_back(std::move(t));
  }
  return Status::ok();
}

Status loadSql(const std::string& path, const YAML::Node& v, ConnectorConfig* out) {
  return loadList(path, v, "connectors.sql", &out->sql,
                  [&](const std::string& k, const YAML::Node& n, ConnectorConfig::Sql* t, const YAML::Node& key) -> Status {
                    const std::string name = "connectors.sql." + k;
                    if (k == "name") return read(path, n, name, &t->name);
                    if (k == "sqlite") return read(path, n, name, &t->sqlite);
                    if (k == "postgres") return read(path, n, name, &t->postgres);
                    if (k == "password_secret") return read(path, n, name, &t->passwordSecret);
                    if (k == "writable") return read(path, n, name, &t->writable);
                    if (k == "queries") return read(path, n, name, &t->queries);
                    return unknownKey(path, key, "connectors.sql", "name, sqlite, postgres, password_secret, writable, queries");
                  });
}

Status loadFiles(const std::string& path, const YAML::Node& v, ConnectorConfig* out) {
  return loadList(path, v, "connectors.files", &out->files,
                  [&](const std::string& k, const YAML::Node& n, ConnectorConfig::Folder* t, const YAML::Node& key) -> Status {
                    const std::string name = "connectors.files." + k;
                    if (k == "name") return read(path, n, name, &t->name);
                    if (k == "path") return read(path, n, name, &t->path);
                    if (k == "writable") return read(path, n, name, &t->writable);
                    return unknownKey(path, key, "connectors.files", "name, path, writable");
                  });
}

Status loadPlugins(const std::string& path, const YAML::Node& v, ConnectorConfig* out) {
  return loadList(path, v, "connectors.plugins", &out->plugins,
                  [&](const std::string& k, const YAML::Node& n, ConnectorConfig::Plugin* t, const YAML::Node& key) -> Status {
                    const std::string name = "connectors.plugins." + k;
                    if (k == "name") return read(path, n, name, &t->name);
                    if (k == "argv") return read(path, n, name, &t->argv);
                    if (k == "working_dir") return read(path, n, name, &t->workingDir);
                    return unknownKey(path, key, "connectors.plugins", "name, argv, working_dir");
                  });
}

}  // namespace

Status loadConnectorConfig(const std::string& path, const YAML::Node& node, ConnectorConfig* out) {
  if (!node.IsMap()) return Status::invalidArgument(where(path, node) + ": error: 'connectors' must be a map");
  for (const auto& kv : node) {
    const std::string k = kv.first.as<std::string>("");
    const YAML::Node& v = kv.second;
    Status s = Status::ok();
    if (k == "outbound") {
      s = read(path, v, "connectors.outbound", &out->outbound);
    } else if (k == "ca_file") {
      s = read(path, v, "connectors.ca_file", &out->caFile);
    } else if (k == "dirs") {
      s = read(path, v, "connectors.dirs", &out->dirs);
    } else if (k == "sql") {
      s = loadSql(path, v, out);
    } else if (k == "files") {
      s = loadFiles(path, v, out);
    } else if (k == "plugins") {
      s = loadPlugins(path, v, out);
    } else if (k == "native_plugins") {
      s = read(path, v, "connectors.native_plugins", &out->nativePlugins);
    } else if (k == "email") {
      s = loadEmail(path, v, out);
    } else if (k == "limits") {
      if (!v.IsMap()) return Status::invalidArgument(where(path, v) + ": error: 'connectors.limits' must be a map of connector names");
      for (const auto& c : v) {
        const std::string name = c.first.as<std::string>("");
        ConnectorConfig::Limits lim;
        if (!c.second.IsMap()) return Status::invalidArgument(where(path, c.second) + ": error: limits of '" + name + "' must be a map");
        for (const auto& l : c.second) {
          const std::string lk = l.first.as<std::string>("");
          const std::string key = "connectors.limits." + name + "." + lk;
          long long n = 0;
          if (lk == "max_concurrency") {
            s = readPositive(path, l.second, key, 1, 1024, &n);
            lim.maxConcurrency = static_cast<int>(n);
          } else if (lk == "max_per_second") {
            double r = 0;
            s = read(path, l.second, key, &r);
            if (s && (r <= 0 || r > 100000)) {
              return Status::invalidArgument(where(path, l.second) + ": error: '" + key + "' must be above 0 and at most 100000");
            }
            lim.maxPerSecond = r;
          } else {
            return unknownKey(path, l.first, "connectors.limits." + name, "max_concurrency, max_per_second");
          }
          if (!s) return s;
        }
        out->limits[name] = lim;
      }
    } else {
      return unknownKey(path, kv.first, "connectors", "outbound, ca_file, dirs, sql, files, plugins, native_plugins, email, limits");
    }
    if (!s) return s;
  }
  return Status::ok();
}

}  // namespace vigil::daemon
