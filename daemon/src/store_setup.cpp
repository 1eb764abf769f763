#include "store_setup.h"

#include <libpq-fe.h>
#include <unistd.h>

namespace vigil::daemon {

Result<std::unique_ptr<Store>> openConfiguredStore(const ServeConfig& config, const SecretStore& secrets, bool upgrade) {
  if (config.store.postgres.empty()) return openSqliteStore(config.data);
  std::string password;
  if (!config.store.passwordSecret.empty()) {
    auto secret = secrets.get(config.store.passwordSecret);
    if (!secret) {
      return Status::failedPrecondition("store.password_secret names '" + config.store.passwordSecret +
                                        "', which is not in the secrets file nor VIGIL_SECRET_" + config.store.passwordSecret);
    }
    password = std::move(*secret);
  }
  return openPostgresStore(config.store.postgres, password, upgrade);
}

std::string nodeName(const ServeConfig& config) {
  if (!config.store.node.empty()) return config.store.node;
  if (config.store.postgres.empty()) return "local";
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "node");
  const auto colon = config.listen.rfind(':');
  const std::string port = colon == std::string::npos ? config.listen : config.listen.substr(colon + 1);
  // A port the system picks is no name: the process id is, until the next start.
  if (port == "0") return std::string(host) + ":pid-" + std::to_string(::getpid());
  return std::string(host) + ":" + port;
}

std::string describeStore(const ServeConfig& config) {
  if (config.store.postgres.empty()) return config.data + "/vigil.db";
  std::string db = "?", host = "the local socket";
  char* error = nullptr;
  if (PQconninfoOption* options = PQconninfoParse(config.store.postgres.c_str(), &error)) {
    for (auto* o = options; o->keyword != nullptr; ++o) {
      if (o->val == nullptr || *o->val == '\0') continue;
      if (std::string(o->keyword) == "dbname") db = o->val;
      if (std::string(o->keyword) == "host") host = o->val;
    }
    PQconninfoFree(options);
  } else {
    PQfreemem(error);
  }
  return "PostgreSQL database " + db + " on " + host;
}

}  // namespace vigil::daemon
