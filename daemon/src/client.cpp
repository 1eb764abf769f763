// The client subcommands' shared plumbing (see client.h).
#include "client.h"

#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli.h"
#include "http/http_client.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace vigil::daemon {

std::string env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}


void addCommon(po::options_description& opts, ClientOptions& c) {
  opts.add_options()("server", po::value(&c.server))("purpose", po::value(&c.purpose))("json", po::bool_switch(&c.asJson))(
      "ca-file", po::value(&c.caFile));
}

// Sends one request; prints the server's error and returns nullopt on failure.
std::optional<json> call(const std::string& cmd, const ClientOptions& c, const std::string& method,
                         const std::string& target, const std::string& body, int* exitCode) {
  std::string token = env("VIGIL_TOKEN");
  if (token.empty()) {
    std::cerr << "vigil " << cmd << ": set VIGIL_TOKEN to your API token (see 'vigil help users')\n";
    *exitCode = kExitUsage;
    return std::nullopt;
  }
  auto client = HttpClient::create(c.server, c.caFile);
  if (!client) {
    std::cerr << "vigil " << cmd << ": " << client.status().message() << "\n";
    *exitCode = kExitUsage;
    return std::nullopt;
  }
  std::map<std::string, std::string> headers = {{"Authorization", "Bearer " + token}};
  if (!c.purpose.empty()) headers["X-Vigil-Purpose"] = c.purpose;
  auto r = client->send(method, target, headers, body);
  // 429 is the per-token rate limit, answered before the request is looked at: waiting
  // the second the server asks for and sending it again is safe, even for a decision.
  for (int tries = 0; r && r->status == 429 && tries < 5; ++tries) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    r = client->send(method, target, headers, body);
  }
  if (!r) {
    std::cerr << "vigil " << cmd << ": " << r.status().message() << "\n";
    *exitCode = kExitFailure;
    return std::nullopt;
  }
  json j = json::parse(r->body, nullptr, false);
  if (r->status >= 400 || j.is_discarded()) {
    std::string msg = !j.is_discarded() && j.contains("error") ? j["error"].value("message", "") : "unexpected answer";
    std::cerr << "vigil " << cmd << ": " << msg << " (HTTP " << r->status << ")\n";
    *exitCode = kExitFailure;
    return std::nullopt;
  }
  return j;
}

std::string urlEncode(const std::string& s) {
  std::ostringstream o;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      o << ch;
    } else {
      o << '%' << std::uppercase << std::hex << std::setw(2) << std::setfill('0') << static_cast<int>(ch);
    }
  }
  return o.str();
}

const char* kClientHelp =
    "Talks to a running 'vigil serve'. Server: --server URL or VIGIL_SERVER (default\n"
    "http://127.0.0.1:8470; https:// verifies the certificate against the system CAs, or\n"
    "--ca-file/VIGIL_CA_FILE); token: VIGIL_TOKEN. Reading run data needs a purpose:\n"
    "--purpose TEXT or VIGIL_PURPOSE. --json prints one JSON document instead of a table.\n\n"
    "Exit status: 0 on success; 1 when the server refuses, cannot be reached, or (run --wait)\n"
    "the run did not complete; 2 for bad arguments or a missing token.\n";


}  // namespace vigil::daemon
