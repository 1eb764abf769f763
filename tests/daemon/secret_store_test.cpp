// The secrets file: a file with several mistakes is refused with every one of them, each
// with its line and column and at most the name, never a value.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../../daemon/src/secret_store.h"

using namespace vigil;

TEST_CASE("a secrets file with three mistakes reports all three with their lines and no value", "[secrets]") {
  auto path = std::filesystem::temp_directory_path() / ("vigil-secrets-test-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << "API_TOKEN: s3cr3t-value-one\n"
                         "api_key: s3cr3t-value-two\n"
                         "DB_PASSWORD: [s3cr3t-value-three]\n"
                         "SMTP: { user: s3cr3t-value-four }\n";
  REQUIRE(::chmod(path.c_str(), S_IRUSR | S_IWUSR) == 0);
  auto store = daemon::SecretStore::load(path.string());
  std::filesystem::remove(path);
  REQUIRE_FALSE(store.isOk());
  const std::string p = path.string();
  const std::string message = store.status().message();
  CHECK(message ==
        p + ":2:1: error: secret names are upper-case letters, digits and _, got 'api_key'\n" +
        p + ":3:14: error: secret 'DB_PASSWORD' must be a single value\n" +
        p + ":4:7: error: secret 'SMTP' must be a single value");
  CHECK(message.find("s3cr3t") == std::string::npos);
}
