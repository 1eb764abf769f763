// vigil validate: check workflow files and report every problem as FILE:LINE:COL: error:.
#include <iostream>

#include <boost/program_options.hpp>

#include "config.h"
#include "connector_setup.h"
#include "secret_store.h"
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "area_file.h"
#include "catalog/publication_checks.h"
#include "cli.h"
#include "vigil/rest_connector.h"
#include "workflow_files.h"

namespace po = boost::program_options;

namespace vigil::daemon {
namespace {

enum class FileKind { kWorkflow, kConnector, kArea };

// What a YAML file holds, from its first top-level key: `connector:` a REST connector
// definition, `area:` an area file, anything else a workflow (whose loader reports it).
FileKind kindOf(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  for (int n = 0; n < 2000 && std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#' || line[0] == ' ' || line[0] == '\t' || line == "---") continue;
    if (line.rfind("connector:", 0) == 0) return FileKind::kConnector;
    if (line.rfind("area:", 0) == 0) return FileKind::kArea;
    return FileKind::kWorkflow;
  }
  return FileKind::kWorkflow;
}

// Connector definitions and area files: checked whole; one line per file either way.
bool checkDataFile(const std::string& file, FileKind kind, bool asJson, nlohmann::json* report) {
  std::string summary;
  nlohmann::json facts = nlohmann::json::object();
  Status s = Status::ok();
  if (kind == FileKind::kConnector) {
    std::string name;
    std::vector<std::string> actions;
    s = checkRestDefinition(file, &name, &actions);
    if (s) {
      summary = "connector " + name + ", " + std::to_string(actions.size()) + (actions.size() == 1 ? " action" : " actions");
      facts = {{"connector", name}, {"actions", actions}};
    }
  } else {
    auto area = loadAreaFile(file);
    s = area.status();
    if (area) {
      summary = "area " + (*area)->name + ", " + std::to_string((*area)->calendars.size()) + " calendar(s), " +
                std::to_string((*area)->timescales.size()) + " timescale(s)";
      nlohmann::json calendars = nlohmann::json::array(), timescales = nlohmann::json::array();
      for (const auto& [name, c] : (*area)->calendars) calendars.push_back(name);
      for (const auto& [name, t] : (*area)->timescales) timescales.push_back(name);
      facts = {{"area", (*area)->name}, {"sha256", (*area)->hash}, {"calendars", calendars}, {"timescales", timescales}};
    }
  }
  // Messages already start with FILE:LINE:COL: error: where the loader knows them.
  const std::string located = s || s.message().rfind(file, 0) == 0 ? s.message() : file + ":1:1: error: " + s.message();
  if (asJson) {
    nlohmann::json entry = {{"file", file}, {"ok", s.isOk()}, {"kind", kind == FileKind::kConnector ? "connector" : "area"},
                            {"diagnostics", nlohmann::json::array()}};
    entry.update(facts);
    if (!s) {
      // Each "FILE:LINE:COL: error: MESSAGE" line into the same fields a workflow's
      // diagnostics have (the loaders report every problem, one per line).
      std::istringstream lines(located);
      for (std::string one; std::getline(lines, one);) {
        nlohmann::json d = {{"message", one}};
        const std::string rest = one.rfind(file, 0) == 0 ? one.substr(file.size()) : one;
        int line = 0, column = 0;
        char sep = 0;
        std::istringstream in(rest);
        if (in >> sep >> line >> sep >> column && line > 0) {
          const auto at = rest.find(": error: ");
          d = {{"line", line}, {"column", column}, {"category", "schema"}, {"severity", "error"},
               {"message", at == std::string::npos ? rest : rest.substr(at + 9)}};
        }
        entry["diagnostics"].push_back(std::move(d));
      }
    }
    (*report)["files"].push_back(std::move(entry));
  } else if (s) {
    std::cout << file << ": ok (" << summary << ")\n";
  } else {
    std::cerr << located << "\n";
  }
  return s.isOk();
}

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
  bool allOk = true;
  nlohmann::json report = {{"files", nlohmann::json::array()}};
  std::vector<std::string> workflows;
  for (const auto& f : files) {
    FileKind kind = kindOf(f);
    if (kind == FileKind::kWorkflow) {
      workflows.push_back(f);
    } else {
      allOk = checkDataFile(f, kind, format == "json", &report) && allOk;
    }
  }
  files = workflows;
  // With a configuration, its area's calendars and timescales are checked as the daemon
  // would check them; without one the area is not known.
  std::shared_ptr<const Area> area;
  if (!config.area.empty()) {
    auto loadedArea = loadAreaFile(config.area);
    if (!loadedArea) {
      std::cerr << loadedArea.status().message() << "\n";
      return kExitUsage;
    }
    area = std::move(loadedArea).value();
  } else if (!configFile.empty()) {
    area = std::make_shared<const Area>();
  }
  PublicationContext publication;
  publication.connectors = &connectors;
  publication.area = area.get();
  LoadedFiles loaded = loadWithLibrary(files, library);
  for (auto& [file, r] : loaded.results) {
    if (!r.ok()) continue;
    auto found = publicationProblems(*r.workflow, publication);
    if (found.empty()) continue;
    r.diagnostics.insert(r.diagnostics.end(), found.begin(), found.end());
    sortDiagnostics(r.diagnostics);
    if (hasErrors(found)) r.workflow = nullptr;  // not valid after all
  }
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
        entry["diagnostics"].push_back({{"line", d.line}, {"column", d.column}, {"category", categoryName(d.category)}, {"severity", severityName(d.severity)},
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
      "Check workflow, connector and area files and report every problem with its line and column",
      "vigil validate [--format text|json] [--library DIR]... [--config FILE] FILE...",
      "A FILE whose first key is `connector:` is checked as a REST connector definition, one\n"
      "whose first key is `area:` as an area file (calendars and timescales); any other\n"
      "is loaded as a workflow.\n\n"
      "Loads each workflow FILE, checks its structure, every expression, every step\n"
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
