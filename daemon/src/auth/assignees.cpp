#include "auth/assignees.h"

#include <algorithm>

#include "auth/roles.h"

namespace vigil::daemon {
namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbouring characters (the commonest typing slip) each count one.
size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::string suggestion(const std::string& near) { return near.empty() ? "" : " (did you mean '" + near + "'?)"; }

}  // namespace

std::string nearestName(const std::string& name, const std::vector<std::string>& candidates) {
  if (name.size() > 64) return "";  // names are at most 64 characters; bounded work
  std::string best;
  size_t bestDistance = std::min<size_t>(3, std::max<size_t>(1, name.size() / 3)) + 1;
  for (const auto& c : candidates) {
    if (c.size() > 64) continue;
    size_t d = editDistance(name, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best;
}

Result<Assignees> Assignees::load(UserStore& users) {
  auto list = users.list();
  if (!list) return list.status();
  return Assignees(std::move(list).value());
}

bool Assignees::canAct(const UserInfo& u) const { return !u.activeTokenIds.empty() && allowed(u.roles, Permission::kDecide); }

const UserInfo* Assignees::find(const std::string& name) const {
  for (const auto& u : users_) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

std::string Assignees::whyNotUser(const std::string& user, const std::vector<std::string>& excluded) const {
  const UserInfo* u = find(user);
  if (u == nullptr) {
    std::vector<std::string> names;
    for (const auto& x : users_) names.push_back(x.name);
    return "no user is called '" + user + "'" + suggestion(nearestName(user, names));
  }
  if (u->activeTokenIds.empty()) return "user '" + user + "' is disabled (no active token)";
  if (!allowed(u->roles, Permission::kDecide)) return "user '" + user + "' holds no role that may decide approvals";
  if (contains(excluded, user)) return "four-eyes: user '" + user + "' may not decide this task (started the run or is excluded)";
  return "";
}

std::string Assignees::whyNotRole(const std::string& role, const std::vector<std::string>& excluded) const {
  std::vector<std::string> roles;
  bool anyHolder = false;
  for (const auto& u : users_) {
    for (const auto& r : u.roles) {
      if (!contains(roles, r)) roles.push_back(r);
    }
    if (u.roles.count(role) == 0) continue;
    anyHolder = true;
    if (canAct(u) && !contains(excluded, u.name)) return "";
  }
  if (!anyHolder) return "no user holds the role '" + role + "'" + suggestion(nearestName(role, roles));
  return "nobody holding the role '" + role + "' can act on this task (disabled, without the decide permission, or excluded)";
}

bool Assignees::actionable(const ApprovalRow& row) const {
  for (const auto& u : row.users) {
    if (whyNotUser(u, row.excluded).empty()) return true;
  }
  for (const auto& r : row.roles) {
    if (whyNotRole(r, row.excluded).empty()) return true;
  }
  return false;
}

}  // namespace vigil::daemon
