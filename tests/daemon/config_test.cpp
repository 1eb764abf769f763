// The daemon's configuration file (vigil.yaml): a file with several mistakes is refused
// with every one of them, each with its line and column, so one `vigil validate` names all.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../../daemon/src/config.h"
#include "../../daemon/src/store_setup.h"

using namespace vigil;

TEST_CASE("a configuration with six mistakes reports all six with their lines and columns", "[config]") {
  auto path = std::filesystem::temp_directory_path() / ("vigil-config-test-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << "listn: 127.0.0.1:9000\n"
                         "limits:\n"
                         "  max_connections: 0\n"
                         "  max_bodies: 10\n"
                         "approvals:\n"
                         "  claim_minutes: lots\n"
                         "connectors:\n"
                         "  email: { host: smtp }\n"
                         "  sql: [{ name: db, colour: red }]\n";
  daemon::ServeConfig config;
  Status s = daemon::loadServeConfig(path.string(), &config);
  std::filesystem::remove(path);
  const std::string p = path.string();
  CHECK(s.message() ==
        p + ":1:1: error: unknown key 'listn' (known: data, listen, workflows, limits, tls, webhooks, audit, approvals, sessions, secrets_file, connectors, area, store)\n" +
        p + ":3:20: error: 'limits.max_connections' must be between 1 and 100000\n" +
        p + ":4:3: error: unknown key 'limits.max_bodies'\n" +
        p + ":6:18: error: 'approvals.claim_minutes' has the wrong type\n" +
        p + ":8:10: error: 'connectors.email' needs 'from'\n" +
        p + ":9:21: error: unknown key 'connectors.sql.colour' (known: name, sqlite, postgres, password_secret, writable, queries)");
  // A value that was right is still read; one that was wrong leaves the default.
  CHECK(config.connectors.emailHost == "smtp");
  CHECK(config.limits.maxConnections == daemon::HttpLimits().maxConnections);
}

// Found by fuzzing (tests/fuzz/corpus/config_file/regress-key-with-line-break.yaml): a key
// holding a line break was quoted as it was, so one problem became two lines and the second
// named no file.
TEST_CASE("a key holding a line break is reported on one line that names the file", "[config]") {
  auto path = std::filesystem::temp_directory_path() / ("vigil-config-break-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << "connectors:\n  \"out\\nbound\": []\n\"li\\rsten\\u0007\": x\n";
  daemon::ServeConfig config;
  Status s = daemon::loadServeConfig(path.string(), &config);
  std::filesystem::remove(path);
  const std::string p = path.string();
  REQUIRE_FALSE(s.isOk());
  CHECK(s.message() ==
        p + ":2:3: error: unknown key 'connectors.out\\nbound' (known: outbound, ca_file, dirs, sql, files, plugins, native_plugins, email, limits)\n" +
        p + ":3:1: error: unknown key 'li\\rsten\\x07' (known: data, listen, workflows, limits, tls, webhooks, audit, approvals, sessions, secrets_file, connectors, area, store)");
}

TEST_CASE("store: names a PostgreSQL database by URI or by conninfo and password secret, and nothing else", "[config][store]") {
  auto load = [](const std::string& text, daemon::ServeConfig& config) {
    auto path = std::filesystem::temp_directory_path() / ("vigil-store-config-" + std::to_string(::getpid()) + ".yaml");
    std::ofstream(path) << text;
    Status s = daemon::loadServeConfig(path.string(), &config);
    std::filesystem::remove(path);
    return s;
  };
  daemon::ServeConfig uri;
  REQUIRE(load("store: postgresql://vigil@db.force.example/vigil?sslmode=verify-full\n", uri).isOk());
  CHECK(uri.store.postgres == "postgresql://vigil@db.force.example/vigil?sslmode=verify-full");
  CHECK(uri.store.passwordSecret.empty());

  daemon::ServeConfig map;
  REQUIRE(load("store:\n  postgres: host=127.0.0.1 dbname=vigil user=vigil\n  password_secret: STORE_PASSWORD\n", map).isOk());
  CHECK(map.store.postgres == "host=127.0.0.1 dbname=vigil user=vigil");
  CHECK(map.store.passwordSecret == "STORE_PASSWORD");

  daemon::ServeConfig sqlite;
  REQUIRE(load("store: sqlite\n", sqlite).isOk());
  CHECK(sqlite.store.postgres.empty());

  daemon::ServeConfig bad;
  Status s = load("store: mysql://db/vigil\n", bad);
  CHECK_THAT(s.message(), Catch::Contains(":1:8: error: 'store' is 'sqlite', a postgres:// URI"));
  s = load("store:\n  password_secret: X\n  colour: red\n", bad);
  CHECK_THAT(s.message(), Catch::Contains(":3:3: error: unknown key 'store.colour'"));
  CHECK_THAT(s.message(), Catch::Contains("'store' needs 'postgres'"));

  daemon::ServeConfig named;
  REQUIRE(load("store:\n  postgres: host=127.0.0.1 dbname=vigil\n  node: vigil-2.mash\n  lease_seconds: 6\n", named).isOk());
  CHECK(named.store.node == "vigil-2.mash");
  CHECK(named.store.leaseTtl == std::chrono::seconds(6));
  CHECK(daemon::nodeName(named) == "vigil-2.mash");
  CHECK(daemon::nodeName(sqlite) == "local");
  map.listen = "127.0.0.1:8471";
  CHECK_THAT(daemon::nodeName(map), Catch::EndsWith(":8471"));
  s = load("store:\n  postgres: host=127.0.0.1 dbname=vigil\n  node: \"two words\"\n  lease_seconds: 1\n", bad);
  CHECK_THAT(s.message(), Catch::Contains(":3:9: error: 'store.node' is this node's name"));
  CHECK_THAT(s.message(), Catch::Contains(":4:18: error:"));
}
