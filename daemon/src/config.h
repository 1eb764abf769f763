// The daemon's configuration file (vigil.yaml). Every key is optional; command-line
// flags override the file. Errors name the file, line, column and key.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "http/http_server.h"
#include "vigil/status.h"

namespace vigil::daemon {

struct ServeConfig {
  std::string data = "./vigil-data";
  std::string listen = "127.0.0.1:8470";
  std::vector<std::string> workflows;  // directories
  HttpLimits limits;
  int requestsPerSecondPerToken = 50;
  std::string tlsCert;  // PEM certificate chain; with tlsKey, the API is served over HTTPS
  std::string tlsKey;
  std::map<std::string, std::string> webhookSecrets;  // webhook path -> secret (read from a file)
  std::chrono::milliseconds auditCheckpointInterval{std::chrono::seconds(60)};
  std::chrono::milliseconds claimDuration{std::chrono::minutes(15)};
};

// Reads `path` into `config`, keeping defaults for absent keys.
Status loadServeConfig(const std::string& path, ServeConfig* config);

}  // namespace vigil::daemon
