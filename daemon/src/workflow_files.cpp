#include "workflow_files.h"

#include <filesystem>
#include <set>

namespace vigil::daemon {

namespace fs = std::filesystem;

LoadedFiles loadWithLibrary(const std::vector<std::string>& files, const std::vector<std::string>& libraryDirs) {
  LoadedFiles out;
  out.files = files;
  std::vector<std::shared_ptr<const Workflow>> set;
  std::set<std::string> names;
  std::set<fs::path> given;
  for (const auto& f : files) {
    LoadResult r = loadWorkflowFile(f);
    const auto& wf = r.ok() ? r.workflow : r.partial;
    if (wf && !wf->name.empty() && names.insert(wf->name).second) {
      set.push_back(wf);
    }
    std::error_code ec;
    given.insert(fs::weakly_canonical(f, ec));
    out.results[f] = std::move(r);
  }
  std::set<fs::path> dirs;
  for (const auto& f : files) {
    dirs.insert(fs::path(f).parent_path().empty() ? fs::path(".") : fs::path(f).parent_path());
  }
  for (const auto& d : libraryDirs) {
    dirs.insert(d);
  }
  for (const auto& dir : dirs) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::path& p = it->path();
      if (!it->is_regular_file() || (p.extension() != ".yaml" && p.extension() != ".yml")) continue;
      std::error_code ec2;
      if (given.count(fs::weakly_canonical(p, ec2)) != 0) continue;
      LoadResult r = loadWorkflowFile(p.string());
      if (r.ok() && names.insert(r.workflow->name).second) {
        set.push_back(r.workflow);
      }
    }
  }
  for (auto& d : checkWorkflowSet(set)) {
    auto it = out.results.find(d.file);
    if (it == out.results.end()) continue;
    it->second.diagnostics.push_back(std::move(d));
  }
  for (auto& [f, r] : out.results) {
    if (!r.diagnostics.empty()) {
      sortDiagnostics(r.diagnostics);
      r.workflow.reset();
    }
  }
  return out;
}

}  // namespace vigil::daemon
