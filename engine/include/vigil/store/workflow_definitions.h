// WorkflowDefinitions: workflows' definitions, content-addressed by their hash, so a run
// pinned to one can be continued by any process after any later publication.
#pragma once

#include <string>
#include <vector>

#include "vigil/status.h"

namespace vigil {

class WorkflowDefinitions {
 public:
  virtual ~WorkflowDefinitions() = default;
  // Storing one twice is a no-op.
  virtual Status put(const std::string& hash, const std::string& name, int version, const std::string& source) = 0;
  virtual Result<std::string> source(const std::string& hash) = 0;
  // The highest stored version of each workflow name.
  struct Latest {
    std::string name;
    int version = 0;
    std::string hash;
  };
  virtual Result<std::vector<Latest>> latest() = 0;
};

}  // namespace vigil
