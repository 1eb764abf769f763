// The workflow loader and validator.
//
// loadWorkflow() reads YAML under hostile-input limits, checks structure, meaning and
// every expression, and returns either a Workflow or every diagnostic found in one pass
// (never only the first). checkWorkflowSet() adds the checks that need several workflows:
// calls to workflows that do not exist, call inputs, and call cycles.
// Thread-safe: these functions share no state.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/diagnostic.h"
#include "vigil/workflow.h"

namespace vigil {

struct LoadLimits {
  size_t maxBytes = 1 << 20;   // 1 MiB per workflow file
  int maxDepth = 64;           // YAML nesting
  size_t maxNodes = 100000;    // YAML nodes after alias expansion
  size_t maxSteps = 5000;      // steps in one workflow
  ExprLimits expr;
};

struct LoadResult {
  std::shared_ptr<const Workflow> workflow;  // set when diagnostics is empty
  std::vector<Diagnostic> diagnostics;       // sorted
  // What could be understood of an invalid file (when its YAML was readable), so checks
  // across workflows still report on it; never run.
  std::shared_ptr<const Workflow> partial;
  bool ok() const { return workflow != nullptr; }
};

LoadResult loadWorkflow(std::string_view yamlText, const std::string& fileName, const LoadLimits& limits = {});
// Reads the file first (refusing one larger than limits.maxBytes without reading it all).
LoadResult loadWorkflowFile(const std::string& path, const LoadLimits& limits = {});

std::vector<Diagnostic> checkWorkflowSet(const std::vector<std::shared_ptr<const Workflow>>& workflows);

}  // namespace vigil
