#include "config.h"
#include "config_yaml.h"

#include <cctype>
#include <algorithm>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <filesystem>
#include <set>

#include <yaml-cpp/yaml.h>

#include "vigil/note.h"
#include "vigil/yaml_check.h"

namespace vigil::daemon {
namespace {

// audit: { checkpoint_interval_seconds: 60, origin: NAME, checkpoint_log: FILE, witnesses: [URL] }
void readAudit(FileProblems* p, const YAML::Node& v, ServeConfig* config) {
  if (!v.IsMap()) {
    problem(p, v, "'audit' must be a map");
    return;
  }
  for (const auto& a : v) {
    const std::string k = a.first.as<std::string>("");
    if (k == "checkpoint_interval_seconds") {
      long long n = 0;
      if (readPositive(p, a.second, "audit." + k, 1, 86400, &n)) config->auditCheckpointInterval = std::chrono::seconds(n);
    } else if (k == "origin") {
      if (read(p, a.second, "audit.origin", &config->audit.origin) && !note::validName(config->audit.origin)) {
        problem(p, a.second, "'audit.origin' must be one word of printable ASCII without '+', such as "
                             "northshire.police.uk/vigil-audit");
      }
    } else if (k == "checkpoint_log") {
      if (read(p, a.second, "audit.checkpoint_log", &config->audit.checkpointLog) && config->audit.checkpointLog.empty()) {
        problem(p, a.second, "'audit.checkpoint_log' must be a file path");
      }
    } else if (k == "witnesses") {
      if (!a.second.IsSequence()) {
        problem(p, a.second, "'audit.witnesses' must be a list of URLs (http://HOST:PORT or https://HOST:PORT)");
        continue;
      }
      for (const auto& w : a.second) {
        std::string url;
        if (!read(p, w, "audit.witnesses", &url)) continue;
        if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
          problem(p, w, "witness '" + url + "' must be an http:// or https:// URL");
          continue;
        }
        config->audit.witnesses.push_back(url);
      }
    } else {
      problem(p, a.first, "unknown key 'audit." + k + "' (known: checkpoint_interval_seconds, origin, checkpoint_log, witnesses)");
    }
  }
}

// store: postgres://HOST/DB, or { postgres: CONNINFO, password_secret: NAME }; "sqlite" or
// absent is the embedded file.
void readStore(FileProblems* p, const YAML::Node& v, ServeConfig* config) {
  auto isPostgres = [](const std::string& s) { return s.rfind("postgres://", 0) == 0 || s.rfind("postgresql://", 0) == 0; };
  if (v.IsScalar()) {
    std::string s;
    if (!read(p, v, "store", &s)) return;
    if (s == "sqlite") return;
    if (!isPostgres(s)) {
      problem(p, v, "'store' is 'sqlite', a postgres:// URI, or a map with 'postgres' and 'password_secret'");
      return;
    }
    config->store.postgres = s;
    return;
  }
  if (!v.IsMap()) {
    problem(p, v, "'store' is 'sqlite', a postgres:// URI, or a map with 'postgres' and 'password_secret'");
    return;
  }
  for (const auto& kv : v) {
    const std::string k = kv.first.as<std::string>("");
    if (k == "postgres") {
      read(p, kv.second, "store.postgres", &config->store.postgres);
    } else if (k == "password_secret") {
      read(p, kv.second, "store.password_secret", &config->store.passwordSecret);
    } else if (k == "node") {
      std::string n;
      if (!read(p, kv.second, "store.node", &n)) continue;
      const bool valid = !n.empty() && n.size() <= 64 && std::all_of(n.begin(), n.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':';
      });
      if (!valid) {
        problem(p, kv.second, "'store.node' is this node's name: 1 to 64 letters, digits, '.', '-', '_' or ':'");
      } else {
        config->store.node = n;
      }
    } else if (k == "lease_seconds") {
      long long n = 0;
      if (readPositive(p, kv.second, "store.lease_seconds", 3, 300, &n)) config->store.leaseTtl = std::chrono::seconds(n);
    } else {
      problem(p, kv.first, "unknown key 'store." + k + "' (known: postgres, password_secret, node, lease_seconds)");
    }
  }
  if (config->store.postgres.empty()) problem(p, v, "'store' needs 'postgres': the database's conninfo or URI");
}

}  // namespace

Status loadServeConfig(const std::string& path, ServeConfig* config) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::notFound(path + ":1:1: error: cannot open the configuration file");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The hardened reader first, so a key written twice is refused rather than one of the
  // two kept without a word; then yaml-cpp's tree, which the checks below walk.
  if (auto refused = checkYaml(text)) return Status::invalidArgument(refused->format(path));
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    return Status::invalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                                   ": error: " + e.msg);
  }
  if (root.IsNull()) return Status::ok();
  if (!root.IsMap()) return Status::invalidArgument(path + ":1:1: error: the configuration must be a map of keys");
  static const std::set<std::string> kKeys = {"data", "listen", "workflows", "limits", "tls", "webhooks", "audit", "approvals", "sessions",
                                              "secrets_file", "connectors", "area", "store"};
  struct LimitKey {
    long long lo;
    long long hi;
    std::function<void(ServeConfig*, long long)> set;
  };
  static const std::map<std::string, LimitKey> kLimits = {
      {"max_body_bytes", {1024, 64LL << 20, [](ServeConfig* c, long long n) { c->limits.maxBodyBytes = static_cast<size_t>(n); }}},
      {"max_header_bytes", {1024, 1 << 20, [](ServeConfig* c, long long n) { c->limits.maxHeaderBytes = static_cast<size_t>(n); }}},
      {"max_connections", {1, 100000, [](ServeConfig* c, long long n) { c->limits.maxConnections = static_cast<size_t>(n); }}},
      {"max_connections_per_address", {1, 100000, [](ServeConfig* c, long long n) { c->limits.maxConnectionsPerAddress = static_cast<size_t>(n); }}},
      {"max_pending_headers_per_address", {1, 100000, [](ServeConfig* c, long long n) { c->limits.maxPendingHeadersPerAddress = static_cast<size_t>(n); }}},
      {"read_timeout_seconds", {1, 3600, [](ServeConfig* c, long long n) { c->limits.readTimeoutSeconds = static_cast<int>(n); }}},
      {"idle_timeout_seconds", {1, 3600, [](ServeConfig* c, long long n) { c->limits.idleTimeoutSeconds = static_cast<int>(n); }}},
      {"requests_per_second_per_token", {1, 100000, [](ServeConfig* c, long long n) { c->requestsPerSecondPerToken = static_cast<int>(n); }}},
  };
  // Every problem is recorded and the walk goes on to the next key, so one run of
  // `vigil validate` or `vigil serve` names them all.
  FileProblems problems(path);
  FileProblems* p = &problems;
  int auditLine = 1;
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>("");
    if (kKeys.count(key) == 0) {
      problem(p, kv.first, "unknown key '" + key +
                               "' (known: data, listen, workflows, limits, tls, webhooks, audit, approvals, sessions, secrets_file, connectors, area, store)");
      continue;
    }
    const YAML::Node& v = kv.second;
    if (key == "audit") auditLine = v.Mark().line + 1;
    if (key == "data") read(p, v, key, &config->data);
    if (key == "secrets_file") read(p, v, key, &config->secretsFile);
    if (key == "area") read(p, v, key, &config->area);
    if (key == "connectors") problems.add(loadConnectorConfig(path, v, &config->connectors));
    if (key == "listen") read(p, v, key, &config->listen);
    if (key == "workflows") {
      if (v.IsScalar()) {
        std::string one;
        if (read(p, v, key, &one)) config->workflows = {one};
      } else {
        read(p, v, key, &config->workflows);
      }
    }
    if (key == "tls") {
      if (!v.IsMap() || !v["cert"] || !v["key"]) {
        problem(p, v, "'tls' needs 'cert' and 'key' (PEM files)");
        continue;
      }
      read(p, v["cert"], "tls.cert", &config->tlsCert);
      read(p, v["key"], "tls.key", &config->tlsKey);
    }
    if (key == "webhooks") {
      // webhooks: { signature_window_seconds: 300, /referrals/intake: { secret_file: /etc/vigil/secrets/intake } }
      if (!v.IsMap()) {
        problem(p, v, "'webhooks' must be a map of paths");
        continue;
      }
      for (const auto& w : v) {
        const std::string hookPath = w.first.as<std::string>("");
        if (hookPath == "signature_window_seconds") {
          long long n = 0;
          if (readPositive(p, w.second, "webhooks.signature_window_seconds", 10, 3600, &n)) {
            config->webhookWindow = std::chrono::seconds(n);
          }
          continue;
        }
        if (hookPath.rfind('/', 0) != 0) {
          problem(p, w.first, "unknown key 'webhooks." + hookPath +
                                  "' (a webhook path begins with '/'; the one setting is signature_window_seconds)");
          continue;
        }
        if (!w.second.IsMap() || !w.second["secret_file"]) {
          problem(p, w.second, "webhook '" + hookPath + "' needs 'secret_file'");
          continue;
        }
        std::string file;
        if (!read(p, w.second["secret_file"], "secret_file", &file)) continue;
        std::ifstream sf(file);
        std::string secret;
        std::getline(sf, secret);
        if (!sf && secret.empty()) {
          problem(p, w.second["secret_file"], "cannot read the secret file of webhook '" + hookPath + "'");
        } else if (secret.size() < 16) {
          problem(p, w.second["secret_file"], "the secret of webhook '" + hookPath + "' is shorter than 16 characters");
        } else {
          config->webhookSecrets[hookPath] = secret;
        }
      }
    }
    if (key == "audit") readAudit(p, v, config);
    if (key == "store") readStore(p, v, config);
    if (key == "approvals") {
      // approvals: { claim_minutes: 15, unactionable_check_seconds: 30, quick_decision_seconds: 10 }
      const std::vector<std::string> known = {"claim_minutes", "unactionable_check_seconds", "quick_decision_seconds"};
      if (!v.IsMap()) {
        problem(p, v, "'" + key + "' must be a map");
        continue;
      }
      for (const auto& a : v) {
        const std::string k = a.first.as<std::string>("");
        if (std::find(known.begin(), known.end(), k) == known.end()) {
          std::string list;
          for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
          problem(p, a.first, "unknown key '" + key + "." + k + "' (known: " + list + ")");
          continue;
        }
        long long n = 0;
        const long long most = k == "claim_minutes" ? 1440 : k == "quick_decision_seconds" ? 3600 : 86400;
        if (!readPositive(p, a.second, key + "." + k, 1, most, &n)) continue;
        if (k == "claim_minutes") {
          config->claimDuration = std::chrono::minutes(n);
        } else if (k == "quick_decision_seconds") {
          config->quickDecision = std::chrono::seconds(n);
        } else {
          config->unactionableCheckInterval = std::chrono::seconds(n);
        }
      }
    }
    if (key == "sessions") {
      // sessions: { idle_minutes: 30, hours: 8 }: browser sessions of the workbench
      if (!v.IsMap()) {
        problem(p, v, "'sessions' must be a map");
        continue;
      }
      for (const auto& a : v) {
        const std::string k = a.first.as<std::string>("");
        long long n = 0;
        if (k == "idle_minutes") {
          if (readPositive(p, a.second, "sessions.idle_minutes", 1, 24 * 60, &n)) config->sessions.idleSeconds = n * 60;
        } else if (k == "hours") {
          if (readPositive(p, a.second, "sessions.hours", 1, 24, &n)) config->sessions.absoluteSeconds = n * 3600;
        } else {
          problem(p, a.first, "unknown key 'sessions." + k + "' (known: idle_minutes, hours)");
        }
      }
    }
    if (key == "limits") {
      if (!v.IsMap()) {
        problem(p, v, "'limits' must be a map");
        continue;
      }
      for (const auto& lkv : v) {
        const std::string lk = lkv.first.as<std::string>("");
        auto it = kLimits.find(lk);
        if (it == kLimits.end()) {
          problem(p, lkv.first, "unknown key 'limits." + lk + "'");
          continue;
        }
        long long n = 0;
        if (readPositive(p, lkv.second, "limits." + lk, it->second.lo, it->second.hi, &n)) it->second.set(config, n);
      }
    }
  }
  if (!config->audit.checkpointLog.empty()) {
    // The log holds the store to account, so whoever can rewrite the data directory must
    // not reach it by the same path.
    std::error_code ec;
    const auto dataDir = std::filesystem::weakly_canonical(config->data, ec);
    const auto logPath = std::filesystem::weakly_canonical(config->audit.checkpointLog, ec);
    const auto rel = logPath.lexically_relative(dataDir);
    if (!rel.empty() && *rel.begin() != "..") {
      problems.add(auditLine, 1, "'audit.checkpoint_log' (" + config->audit.checkpointLog +
                                     ") is inside the data directory; put it on another mount or host, out of reach of "
                                     "whoever can write the store");
    }
  }
  return problems.status();
}

}  // namespace vigil::daemon
