// vigil validate: check workflow files and report every problem as FILE:LINE:COL: error:.
#include <iostream>

#include <boost/program_options.hpp>

#include "config.h"
#include "connector_setup.h"
#include "secret_store.h"
#include <nlohmann/json.hpp>

#include "cli.h"
#include "workflow_files.h"

namespace po = boost::program_options;

namespace vigil::daemon {
namespace {

int runValidate(CommandContext& ctx) {
  po::options_description opts;
  std::string format = "text";
  std::vector<std::string> files, library;
  std::string configFile;
  opts.add_options()("format", po::value(&format))("library", po::value(&library))("file", po::value(&files))(
      "config", po::value(&configFile));
  po::positional_options_description pos;
  pos.add("file", -1);
  if (int rc = kExitOk; !parseOptions("validate", ctx, opts, pos, &rc)) {
    return rc;
  }
  if (format != "text" && format != "json") return usageError("validate", "--format must be 'text' or 'json'");
  if (files.empty()) return usageError("validate", "name at least one workflow file");

  // The connectors a daemon with this configuration would have (the built-in ones with
  // their defaults when none is given), to check each `uses:` against their actions.
  ServeConfig config;
  if (!configFile.empty()) {
    if (Status s = loadServeConfig(configFile, &config); !s) {
      std::cerr << s.message() << "\n";
      return kExitUsage;
    }
  }
  ConnectorRegistry connectors;
  if (Status s = setupConnectors(config.connectors, SecretStore(), connectors); !s) {
    std::cerr << "vigil validate: " << s.message() << "\n";
    return kExitUsage;
  }
  LoadedFiles loaded = loadWithLibrary(files, library);
  for (auto& [file, r] : loaded.results) {
    if (!r.ok()) continue;
    auto wrong = connectors.check(*r.workflow, false);
    if (wrong.empty()) continue;
    r.diagnostics.insert(r.diagnostics.end(), wrong.begin(), wrong.end());
    sortDiagnostics(r.diagnostics);
    r.workflow = nullptr;  // not valid after all
  }
  bool allOk = true;
  nlohmann::json report = {{"files", nlohmann::json::array()}};
  for (const auto& f : loaded.files) {
    const LoadResult& r = loaded.results.at(f);
    allOk = allOk && r.ok();
    if (format == "json") {
      nlohmann::json entry = {{"file", f}, {"ok", r.ok()}, {"diagnostics", nlohmann::json::array()}};
      if (r.ok()) {
        entry["workflow"] = r.workflow->name;
        entry["version"] = r.workflow->version;
        entry["sha256"] = r.workflow->hash;
      }
      for (const auto& d : r.diagnostics) {
        entry["diagnostics"].push_back({{"line", d.line}, {"column", d.column}, {"category", categoryName(d.category)},
                                        {"message", d.message}});
      }
      report["files"].push_back(std::move(entry));
      continue;
    }
    if (r.ok()) {
      std::cout << f << ": ok (workflow " << r.workflow->name << " version " << r.workflow->version << ", "
                << r.workflow->steps.size() << (r.workflow->steps.size() == 1 ? " step" : " steps") << ", sha256 " << r.workflow->hash.substr(0, 16) << ")\n";
    }
    for (const auto& d : r.diagnostics) {
      std::cerr << d.format() << "\n";
    }
  }
  if (format == "json") {
    std::cout << report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  ctx.log->debug("validated {} file(s)", files.size());
  return allOk ? kExitOk : kExitFailure;
}

}  // namespace

Command validateCommand() {
  return Command{
      "validate",
      "Check workflow files and report every problem with its line and column",
      "vigil validate [--format text|json] [--library DIR]... [--config FILE] FILE...",
      "Loads each FILE as a workflow, checks its structure, every expression, every step\n"
      "reference and every sub-workflow call, and prints all problems found in one pass:\n\n"
      "  FILE:LINE:COL: error: MESSAGE\n\n"
      "on standard error, and one 'FILE: ok (...)' line per valid file on standard output.\n"
      "Workflows in the same directory as each FILE, and in each --library DIR, are loaded\n"
      "too so that `call` steps can be checked; their own problems are not reported.\n\n"
      "Options:\n"
      "  --format text|json   json prints one report object with every diagnostic and its\n"
      "                       category (yaml, schema, semantic, expression)\n"
      "  --library DIR        another directory of workflows that calls may name\n"
      "  --config FILE        check each `uses:` against the connectors this daemon\n"
      "                       configuration sets up (default: the built-in http, webhook)\n\n"
      "Exit status: 0 when every file is valid, 1 when any is not, 2 for bad arguments.\n",
      runValidate};
}

}  // namespace vigil::daemon
