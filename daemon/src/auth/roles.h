// Roles and what each may do: the one place the authorisation matrix is kept
// (documented in docs/API.md, tested route by route).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace vigil::daemon {

enum class Permission {
  kReadWorkflows,     // list and show workflow definitions
  kPublishWorkflows,  // validate and publish new versions
  kStartRuns,
  kReadRuns,          // run history: personal data, so every read is recorded with a purpose
  kCancelRuns,
  kDecide,            // approval inbox, claims and decisions
  kManageApprovals,   // reassign approval tasks; see the override and SLA report
  kReadSensitive,     // see a workflow's `sensitive:` fields unmasked
  kAudit,             // verify and export the audit trail
  kManageUsers,       // users and tokens
  kManageKeys,        // rotate the audit signing key
  kMetrics,
  kReadReports,       // the late-decisions report (times and run ids, no personal data)
};

// "read_workflows", "start_runs", ...: as written in docs/openapi.yaml (x-vigil-permission).
const char* permissionName(Permission p);

const std::vector<std::string>& roleNames();  // admin, author, operator, approver, auditor
// A system role grants permissions; any other valid name is a team role (for example
// `mash-supervisor`) that grants none but is what an approval step assigns work to.
bool isRole(const std::string& name);
bool isValidRoleName(const std::string& name);  // [a-z][a-z0-9-]{0,63}
// True when any of `roles` grants `p`. Unknown roles grant nothing.
bool allowed(const std::set<std::string>& roles, Permission p);

}  // namespace vigil::daemon
