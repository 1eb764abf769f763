#include "store_setup.h"

#include <libpq-fe.h>

namespace vigil::daemon {

Result<std::unique_ptr<Store>> openConfiguredStore(const ServeConfig& config, const SecretStore& secrets) {
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
  return openPostgresStore(config.store.postgres, password);
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
