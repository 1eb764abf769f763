// vigil connectors: the connectors the server has, with their actions and parameter types.
#include <iomanip>
#include <iostream>

#include "cli.h"
#include "client.h"

namespace po = boost::program_options;
using nlohmann::json;

namespace vigil::daemon {
namespace {

int runConnectors(CommandContext& ctx) {
  ClientOptions c;
  po::options_description opts;
  addCommon(opts, c);
  int rc = kExitOk;
  if (!parseOptions("connectors", ctx, opts, po::positional_options_description(), &rc)) return rc;
  auto r = call("connectors", c, "GET", "/api/v1/connectors", "", &rc);
  if (!r) return rc;
  if (c.asJson) {
    std::cout << r->dump() << "\n";
    return kExitOk;
  }
  for (const auto& conn : (*r)["items"]) {
    std::cout << conn["name"].get<std::string>() << "  (" << conn["max_concurrency"] << " at once";
    if (!conn["max_per_second"].is_null()) std::cout << ", at most " << conn["max_per_second"] << "/s";
    std::cout << ")";
    if (!conn["description"].get<std::string>().empty()) std::cout << "  " << conn["description"].get<std::string>();
    std::cout << "\n";
    for (const auto& a : conn["actions"]) {
      std::cout << "  " << conn["name"].get<std::string>() << "." << a["name"].get<std::string>() << "(";
      bool first = true;
      for (const auto& p : a["params"]) {
        std::cout << (first ? "" : ", ") << p["name"].get<std::string>() << (p["required"].get<bool>() ? "" : "?") << ": "
                  << p["type"].get<std::string>();
        first = false;
      }
      if (a["open_params"].get<bool>()) std::cout << (first ? "" : ", ") << "...";
      std::cout << ")  [" << a["access"].get<std::string>() << "]\n";
    }
  }
  return kExitOk;
}

}  // namespace

Command connectorsCommand() {
  return Command{"connectors", "List the server's connectors with their actions and parameter types",
                 "vigil connectors [--json] [--server URL]",
                 std::string("Each action prints as connector.action(param: type, optional?: type) and what it\n"
                             "does with personal data: consultation, disclosure or alteration.\n\n") +
                     kClientHelp,
                 runConnectors};
}

}  // namespace vigil::daemon
