#include "auth/roles.h"

#include <map>

namespace vigil::daemon {
namespace {

using P = Permission;

// Least privilege: each role gets what its users' work needs and no more. An admin
// manages people and tokens but cannot read run data or decide; an auditor reads and
// verifies but cannot change anything.
const std::map<std::string, std::set<Permission>>& matrix() {
  static const std::map<std::string, std::set<Permission>> kMatrix = {
      {"admin", {P::kReadWorkflows, P::kManageUsers, P::kManageApprovals, P::kManageKeys, P::kMetrics, P::kReadReports}},
      {"author", {P::kReadWorkflows, P::kPublishWorkflows}},
      {"operator", {P::kReadWorkflows, P::kStartRuns, P::kReadRuns, P::kCancelRuns}},
      {"approver", {P::kReadWorkflows, P::kReadRuns, P::kDecide, P::kReadReports}},
      {"auditor", {P::kReadWorkflows, P::kReadRuns, P::kAudit, P::kReadSensitive, P::kMetrics, P::kReadReports}},
  };
  return kMatrix;
}

}  // namespace

const char* permissionName(Permission p) {
  switch (p) {
    case P::kReadWorkflows: return "read_workflows";
    case P::kPublishWorkflows: return "publish_workflows";
    case P::kStartRuns: return "start_runs";
    case P::kReadRuns: return "read_runs";
    case P::kCancelRuns: return "cancel_runs";
    case P::kDecide: return "decide";
    case P::kManageApprovals: return "manage_approvals";
    case P::kReadSensitive: return "read_sensitive";
    case P::kAudit: return "audit";
    case P::kManageUsers: return "manage_users";
    case P::kManageKeys: return "manage_keys";
    case P::kMetrics: return "metrics";
    case P::kReadReports: return "read_reports";
  }
  return "unknown";
}

const std::vector<std::string>& roleNames() {
  static const std::vector<std::string> kNames = {"admin", "author", "operator", "approver", "auditor"};
  return kNames;
}

bool isRole(const std::string& name) { return matrix().count(name) != 0; }

bool isValidRoleName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

bool allowed(const std::set<std::string>& roles, Permission p) {
  for (const auto& r : roles) {
    auto it = matrix().find(r);
    if (it != matrix().end() && it->second.count(p) != 0) return true;
  }
  return false;
}

}  // namespace vigil::daemon
