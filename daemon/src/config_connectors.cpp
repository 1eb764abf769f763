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

void unknownKey(FileProblems* p, const YAML::Node& k, const std::string& section, const std::string& known) {
  problem(p, k, "unknown key '" + section + "." + k.as<std::string>("") + "' (known: " + known + ")");
}

void loadEmail(FileProblems* p, const YAML::Node& v, ConnectorConfig* out) {
  if (!v.IsMap()) {
    problem(p, v, "'connectors.email' must be a map");
    return;
  }
  out->email = true;
  bool fromRefused = false;  // 'from' of the wrong type is reported once, not also as missing
  for (const auto& kv : v) {
    const std::string k = kv.first.as<std::string>("");
    const YAML::Node& n = kv.second;
    const std::string key = "connectors.email." + k;
    if (k == "host") {
      read(p, n, key, &out->emailHost);
    } else if (k == "port") {
      long long port = 0;
      if (readPositive(p, n, key, 1, 65535, &port)) out->emailPort = static_cast<int>(port);
    } else if (k == "tls") {
      if (read(p, n, key, &out->emailTls) && out->emailTls != "starttls" && out->emailTls != "implicit" && out->emailTls != "none") {
        problem(p, n, "'" + key + "' must be starttls, implicit or none");
      }
    } else if (k == "ca_file") {
      read(p, n, key, &out->emailCaFile);
    } else if (k == "username") {
      read(p, n, key, &out->emailUsername);
    } else if (k == "password_secret") {
      read(p, n, key, &out->emailPasswordSecret);
    } else if (k == "from") {
      fromRefused = !read(p, n, key, &out->emailFrom);
    } else if (k == "allow_domains") {
      read(p, n, key, &out->emailAllowDomains);
    } else if (k == "templates") {
      if (!n.IsMap()) {
        problem(p, n, "'" + key + "' must be a map of names");
        continue;
      }
      for (const auto& t : n) {
        const std::string name = t.first.as<std::string>("");
        if (!t.second.IsMap() || !t.second["subject"] || !t.second["body"]) {
          problem(p, t.second, "template '" + name + "' needs 'subject' and 'body'");
          continue;
        }
        std::string subject, body;
        const bool hasSubject = read(p, t.second["subject"], key + "." + name + ".subject", &subject);
        if (read(p, t.second["body"], key + "." + name + ".body", &body) && hasSubject) out->emailTemplates[name] = {subject, body};
      }
    } else {
      unknownKey(p, kv.first, "connectors.email",
                 "host, port, tls, ca_file, username, password_secret, from, allow_domains, templates");
    }
  }
  if (out->emailFrom.empty() && !fromRefused) problem(p, v, "'connectors.email' needs 'from'");
}

// A list of maps, each read key by key into `T` by `one`, which records its own problems.
template <typename T, typename F>
void loadList(FileProblems* p, const YAML::Node& v, const std::string& section, std::vector<T>* out, F one) {
  if (!v.IsSequence()) {
    problem(p, v, "'" + section + "' must be a list");
    return;
  }
  for (const auto& item : v) {
    if (!item.IsMap()) {
      problem(p, item, "each entry of '" + section + "' is a map");
      continue;
    }
    T t;
    for (const auto& kv : item) one(kv.first.as<std::string>(""), kv.second, &t, kv.first);
    out->push_back(std::move(t));
  }
}

void loadSql(FileProblems* p, const YAML::Node& v, ConnectorConfig* out) {
  loadList(p, v, "connectors.sql", &out->sql, [&](const std::string& k, const YAML::Node& n, ConnectorConfig::Sql* t, const YAML::Node& key) {
    const std::string name = "connectors.sql." + k;
    if (k == "name") {
      read(p, n, name, &t->name);
    } else if (k == "sqlite") {
      read(p, n, name, &t->sqlite);
    } else if (k == "postgres") {
      read(p, n, name, &t->postgres);
    } else if (k == "password_secret") {
      read(p, n, name, &t->passwordSecret);
    } else if (k == "writable") {
      read(p, n, name, &t->writable);
    } else if (k == "queries") {
      read(p, n, name, &t->queries);
    } else {
      unknownKey(p, key, "connectors.sql", "name, sqlite, postgres, password_secret, writable, queries");
    }
  });
}

void loadFiles(FileProblems* p, const YAML::Node& v, ConnectorConfig* out) {
  loadList(p, v, "connectors.files", &out->files,
           [&](const std::string& k, const YAML::Node& n, ConnectorConfig::Folder* t, const YAML::Node& key) {
             const std::string name = "connectors.files." + k;
             if (k == "name") {
               read(p, n, name, &t->name);
             } else if (k == "path") {
               read(p, n, name, &t->path);
             } else if (k == "writable") {
               read(p, n, name, &t->writable);
             } else {
               unknownKey(p, key, "connectors.files", "name, path, writable");
             }
           });
}

void loadPlugins(FileProblems* p, const YAML::Node& v, ConnectorConfig* out) {
  loadList(p, v, "connectors.plugins", &out->plugins,
           [&](const std::string& k, const YAML::Node& n, ConnectorConfig::Plugin* t, const YAML::Node& key) {
             const std::string name = "connectors.plugins." + k;
             if (k == "name") {
               read(p, n, name, &t->name);
             } else if (k == "argv") {
               read(p, n, name, &t->argv);
             } else if (k == "working_dir") {
               read(p, n, name, &t->workingDir);
             } else {
               unknownKey(p, key, "connectors.plugins", "name, argv, working_dir");
             }
           });
}

void loadLimits(FileProblems* p, const YAML::Node& v, ConnectorConfig* out) {
  if (!v.IsMap()) {
    problem(p, v, "'connectors.limits' must be a map of connector names");
    return;
  }
  for (const auto& c : v) {
    const std::string name = c.first.as<std::string>("");
    if (!c.second.IsMap()) {
      problem(p, c.second, "limits of '" + name + "' must be a map");
      continue;
    }
    ConnectorConfig::Limits lim;
    for (const auto& l : c.second) {
      const std::string lk = l.first.as<std::string>("");
      const std::string key = "connectors.limits." + name + "." + lk;
      if (lk == "max_concurrency") {
        long long n = 0;
        if (readPositive(p, l.second, key, 1, 1024, &n)) lim.maxConcurrency = static_cast<int>(n);
      } else if (lk == "max_per_second") {
        double r = 0;
        if (!read(p, l.second, key, &r)) continue;
        if (r <= 0 || r > 100000) {
          problem(p, l.second, "'" + key + "' must be above 0 and at most 100000");
          continue;
        }
        lim.maxPerSecond = r;
      } else {
        unknownKey(p, l.first, "connectors.limits." + name, "max_concurrency, max_per_second");
      }
    }
    out->limits[name] = lim;
  }
}

}  // namespace

Status loadConnectorConfig(const std::string& path, const YAML::Node& node, ConnectorConfig* out) {
  FileProblems problems(path);
  FileProblems* p = &problems;
  if (!node.IsMap()) {
    problem(p, node, "'connectors' must be a map");
    return problems.status();
  }
  for (const auto& kv : node) {
    const std::string k = kv.first.as<std::string>("");
    const YAML::Node& v = kv.second;
    if (k == "outbound") {
      read(p, v, "connectors.outbound", &out->outbound);
    } else if (k == "ca_file") {
      read(p, v, "connectors.ca_file", &out->caFile);
    } else if (k == "dirs") {
      read(p, v, "connectors.dirs", &out->dirs);
    } else if (k == "sql") {
      loadSql(p, v, out);
    } else if (k == "files") {
      loadFiles(p, v, out);
    } else if (k == "plugins") {
      loadPlugins(p, v, out);
    } else if (k == "native_plugins") {
      read(p, v, "connectors.native_plugins", &out->nativePlugins);
    } else if (k == "email") {
      loadEmail(p, v, out);
    } else if (k == "limits") {
      loadLimits(p, v, out);
    } else {
      unknownKey(p, kv.first, "connectors", "outbound, ca_file, dirs, sql, files, plugins, native_plugins, email, limits");
    }
  }
  return problems.status();
}

}  // namespace vigil::daemon
