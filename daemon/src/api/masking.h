// Masking of a workflow's `sensitive:` paths in what a person is shown.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/user_store.h"
#include "vigil/workflow.h"

namespace vigil::daemon {

// Whether `who` sees a run's sensitive fields unmasked: their system role may read sensitive
// data, or the workflow names one of their roles in `need_to_know`. A null workflow (its
// definition cannot be read) grants nothing beyond the system role.
bool mayReadSensitive(const Principal& who, const Workflow* wf);

inline constexpr const char* kMasked = "***";

// `shown` maps a path ("steps.assess.output", "inputs.referral") to its value. Each value at
// or under a sensitive path ("inputs.referral.child.name") is replaced by "***" unless
// `unmasked`; a whole shown value is masked when it lies under a sensitive path.
nlohmann::json maskShown(const nlohmann::json& shown, const std::vector<std::string>& sensitive, bool unmasked);

// The same for a whole value rooted at `root` (e.g. a run's inputs at "inputs").
nlohmann::json maskAt(nlohmann::json value, const std::string& root, const std::vector<std::string>& sensitive);

// A run as GET /runs/{id} returns it (snapshot plus "events"), with the inputs, step
// outputs and approval views that fall under a sensitive path masked.
nlohmann::json maskRun(nlohmann::json run, const std::vector<std::string>& sensitive);

}  // namespace vigil::daemon
