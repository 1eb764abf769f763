// Fuzzes the daemon's configuration file loader (loadServeConfig: the hardened YAML check,
// then every section, `connectors:` included, each problem with its position) and the
// secrets file loader (SecretStore::load: names, single values, duplicates), on the same
// text. Both read only from a path, so the input is written to one file in a per-process
// scratch directory, mode 0600 as the secrets loader demands, and reused.
//
// Besides the sanitizers: a refusal names the file, and accepted limits are within their
// bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config.h"
#include "fuzz_support.h"
#include "secret_store.h"

using vigil::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = vigil::fuzz::scratchDir() + "/vigil.yaml";
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  vigil::fuzz::writeFile(path, text, 0600);

  vigil::daemon::ServeConfig config;
  const vigil::Status s = vigil::daemon::loadServeConfig(path, &config);
  if (!s) {
    require(s.message().rfind(path + ":", 0) == 0, "a configuration problem names the file");
  } else {
    require(config.limits.maxHeaderBytes >= 1024 && config.limits.maxBodyBytes >= 1024, "limits within their bounds");
    require(config.requestsPerSecondPerToken >= 1, "a positive rate");
  }

  auto secrets = vigil::daemon::SecretStore::load(path);
  if (!secrets) {
    const std::string m = secrets.status().message();
    require(m.find(path) != std::string::npos, "a secrets problem names the file");
  } else {
    for (const char* name : {"RMS_TOKEN", "SMTP_PASSWORD", "A"}) (void)secrets->get(name);
  }
  return 0;
}
