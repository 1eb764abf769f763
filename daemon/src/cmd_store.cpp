// `vigil store`: the store the configuration names, outside the daemon: bring its schema up
// to this build's before the nodes are restarted on it, and check it.
#include <iostream>

#include <boost/program_options.hpp>

#include "cli.h"
#include "config.h"
#include "secret_store.h"
#include "store_setup.h"

namespace vigil::daemon {
namespace po = boost::program_options;
namespace {

constexpr const char* kCommand = "store";

int runStore(CommandContext& ctx) {
  std::string action, configFile, data;
  po::options_description opts;
  opts.add_options()("action", po::value(&action))("config", po::value(&configFile))("data", po::value(&data));
  po::positional_options_description pos;
  pos.add("action", 1);
  int rc = kExitOk;
  if (!parseOptions(kCommand, ctx, opts, pos, &rc)) return rc;
  if (action != "migrate" && action != "check") return usageError(kCommand, "give migrate or check");
  ServeConfig config;
  if (!configFile.empty()) {
    if (Status s = loadServeConfig(configFile, &config); !s) {
      std::cerr << s.message() << "\n";
      return kExitUsage;
    }
  }
  if (!data.empty()) config.data = data;
  if (configFile.empty() && data.empty()) return usageError(kCommand, "give --config FILE (or --data DIR for a SQLite store)");
  if (config.store.postgres.empty()) {
    if (auto missing = missingDataDir(config.data)) return usageError(kCommand, *missing);
  }
  auto secrets = SecretStore::load(config.secretsFile);
  if (!secrets) {
    std::cerr << "vigil store: " << secrets.status().message() << "\n";
    return kExitFailure;
  }
  // migrate upgrades an older schema in place; both refuse a newer one, and check leaves a
  // shared store's schema as it is.
  auto store = openConfiguredStore(config, *secrets, action == "migrate");
  if (!store) {
    std::cerr << "vigil store: " << store.status().message() << "\n";
    return kExitFailure;
  }
  const bool postgres = !config.store.postgres.empty();
  const int version = postgres ? postgresSchemaVersion() : sqliteSchemaVersion();
  if (action == "migrate") {
    std::cout << describeStore(config) << ": schema version " << version << "\n";
    return kExitOk;
  }
  auto check = (*store)->integrityCheck();
  if (!check) {
    std::cerr << "vigil store: " << check.status().message() << "\n";
    return kExitFailure;
  }
  std::cout << describeStore(config) << ": schema version " << version << ", " << *check << "\n";
  return *check == "ok" ? kExitOk : kExitFailure;
}

}  // namespace

Command storeCommand() {
  return Command{
      kCommand, "Upgrade or check the store (the SQLite file or the shared PostgreSQL database)",
      "vigil store (migrate | check) (--config FILE | --data DIR)",
      "migrate opens the store the configuration names (store:, else DATA/vigil.db) and upgrades\n"
      "an older schema to this build's, each migration in its own transaction; a newer schema\n"
      "is refused. Run it once before restarting the nodes of a shared store on a new vigil.\n"
      "check runs the store's integrity check: for SQLite, integrity_check (after upgrading the\n"
      "file as serve would); for PostgreSQL, that the audit chain is numbered without gaps and\n"
      "its head row is its last record, on the schema as it is (an older one is refused).\n\n"
      "The store's password comes from the secrets file (store.password_secret), never the\n"
      "command line.\n\n"
      "Prints the store, its schema version and, for check, 'ok' or the problem.\n"
      "Exit status: 0 when done (check: sound); 1 when the store cannot be opened or is not\n"
      "sound; 2 for bad arguments.",
      runStore};
}

}  // namespace vigil::daemon
