// What every client subcommand shares: where the server is, the token, the purpose for
// reads, --json, one call with its errors printed, and the help text about all that.
#pragma once

#include <optional>
#include <string>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

namespace vigil::daemon {

std::string env(const char* name, const std::string& fallback = "");

struct ClientOptions {
  std::string server = env("VIGIL_SERVER", "http://127.0.0.1:8470");
  std::string caFile = env("VIGIL_CA_FILE");
  std::string purpose = env("VIGIL_PURPOSE");
  bool asJson = false;
};

void addCommon(boost::program_options::options_description& opts, ClientOptions& c);

// Sends one request; prints the server's error and returns nullopt on failure, with
// *exitCode set (kExitUsage for a missing token or bad server URL, else kExitFailure).
std::optional<nlohmann::json> call(const std::string& cmd, const ClientOptions& c, const std::string& method,
                                   const std::string& target, const std::string& body, int* exitCode);

std::string urlEncode(const std::string& s);

extern const char* kClientHelp;

}  // namespace vigil::daemon
