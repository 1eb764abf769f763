#include "catalog/folder_loads.h"

#include <algorithm>
#include <sstream>

namespace vigil::daemon {

FolderLoads::File FolderLoads::refusedFile(const std::string& path, TimePoint loadedAt, const Workflow* wf,
                                           const std::vector<Diagnostic>& problems) {
  File out{path, loadedAt, Result::kRefused, wf ? wf->name : "", wf ? wf->version : 0, {}};
  for (const auto& d : problems) {
    if (d.severity == Severity::kError) out.problems.push_back(d);
  }
  return out;
}

Diagnostic FolderLoads::wholeFileProblem(const std::string& path, const std::string& source, const std::string& message) {
  Diagnostic d{path, 1, 1, DiagnosticCategory::kSemantic, message};
  std::istringstream lines(source);
  std::string line;
  for (int n = 1; std::getline(lines, line); ++n) {
    if (line.rfind("version:", 0) == 0) {
      d.line = n;
      break;
    }
  }
  return d;
}

void FolderLoads::record(std::vector<File> files) {
  std::sort(files.begin(), files.end(), [](const File& a, const File& b) { return a.path < b.path; });
  for (auto& f : files) {
    if (f.result != Result::kRefused) f.problems.clear();
    sortDiagnostics(f.problems);
  }
  std::lock_guard lock(mu_);
  files_ = std::move(files);
}

std::vector<FolderLoads::File> FolderLoads::files() const {
  std::lock_guard lock(mu_);
  return files_;
}

std::vector<FolderLoads::File> FolderLoads::refused() const {
  std::lock_guard lock(mu_);
  std::vector<File> out;
  for (const auto& f : files_) {
    if (f.result == Result::kRefused) out.push_back(f);
  }
  return out;
}

}  // namespace vigil::daemon
