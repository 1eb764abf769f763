// The checks a valid workflow must pass before it may become active here: they depend on
// this daemon (its connectors, its area, its people, the other workflows), not on the file
// alone. Every way to an active version (folders, the API, the store at restart, SIGHUP,
// `vigil validate --config`) runs these, so none can skip one.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "auth/assignees.h"
#include "vigil/area.h"
#include "vigil/connector.h"
#include "vigil/diagnostic.h"
#include "vigil/workflow.h"

namespace vigil::daemon {

struct PublicationContext {
  // Each `uses:` and reminder against the connector's actions, parameters and e-mail templates.
  const ConnectorRegistry* connectors = nullptr;
  // Calendars and timescales named in expressions; null: the built-in calendar only.
  const Area* area = nullptr;
  // Users and roles the workflow names; null (vigil validate, which has no user store): not checked.
  const Assignees* people = nullptr;
  // The workflow that already listens on a webhook path, "" when none does; unset: not checked.
  std::function<std::string(const std::string& path)> webhookUser;
};

// Errors (a user who does not exist, an unknown calendar, ...) stop publication; warnings
// (a role nobody active holds yet) are reported and do not.
std::vector<Diagnostic> publicationProblems(const Workflow& wf, const PublicationContext& ctx);

bool hasErrors(const std::vector<Diagnostic>& diags);

}  // namespace vigil::daemon
