// The store `vigil serve` runs on, as the configuration names it (ServeConfig::store).
#pragma once

#include <memory>

#include "config.h"
#include "secret_store.h"
#include "vigil/store.h"

namespace vigil::daemon {

// The SQLite file in the data directory, or the PostgreSQL database with its password from
// the secrets file; the error names what is missing or wrong, never the password.
// `upgrade` false leaves a shared store's schema as it is (a check, a verifier), refusing
// an older one; the embedded SQLite file is always brought up to date.
Result<std::unique_ptr<Store>> openConfiguredStore(const ServeConfig& config, const SecretStore& secrets,
                                                   bool upgrade = true);
// Where the store is, for messages: "DATA/vigil.db" or "PostgreSQL database DB on HOST".
std::string describeStore(const ServeConfig& config);
// This process's name among the nodes of its store: store.node; else, on a shared store,
// the host's name and the listening port (unique per process on a machine, and the same
// across its restarts); "local" for the embedded file, which one process owns.
std::string nodeName(const ServeConfig& config);

}  // namespace vigil::daemon
