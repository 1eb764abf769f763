// Loading the workflow files a command names, plus their sibling workflows so that `call`
// steps resolve, and the cross-workflow checks over the lot.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "vigil/loader.h"

namespace vigil::daemon {

struct LoadedFiles {
  std::vector<std::string> files;                 // as named, in order
  std::map<std::string, LoadResult> results;      // by file, with set-level diagnostics added
};

// Loads `files`; workflows in their directories and in `libraryDirs` are loaded too (their
// own problems are not reported) so that calls can be checked.
LoadedFiles loadWithLibrary(const std::vector<std::string>& files, const std::vector<std::string>& libraryDirs);

}  // namespace vigil::daemon
