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
  kDecide,            // approval decisions
  kAudit,             // verify and export the audit trail
  kManageUsers,       // users and tokens
  kMetrics,
};

// "read_workflows", "start_runs", ...: as written in docs/openapi.yaml (x-vigil-permission).
const char* permissionName(Permission p);

const std::vector<std::string>& roleNames();  // admin, author, operator, approver, auditor
bool isRole(const std::string& name);
// True when any of `roles` grants `p`. Unknown roles grant nothing.
bool allowed(const std::set<std::string>& roles, Permission p);

}  // namespace vigil::daemon
