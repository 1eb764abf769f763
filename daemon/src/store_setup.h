// The store `vigil serve` runs on, as the configuration names it (ServeConfig::store).
#pragma once

#include <memory>

#include "config.h"
#include "secret_store.h"
#include "vigil/store.h"

namespace vigil::daemon {

// The SQLite file in the data directory, or the PostgreSQL database with its password from
// the secrets file; the error names what is missing or wrong, never the password.
Result<std::unique_ptr<Store>> openConfiguredStore(const ServeConfig& config, const SecretStore& secrets);
// Where the store is, for messages: "DATA/vigil.db" or "PostgreSQL database DB on HOST".
std::string describeStore(const ServeConfig& config);

}  // namespace vigil::daemon
