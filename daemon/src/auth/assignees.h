// Assignees: who can act on approval tasks, from a snapshot of the user store.
//
// A person can act when they exist, have at least one unrevoked token (a user whose tokens
// are all revoked is disabled: they cannot sign in) and hold a system role with the
// `decide` permission. A role can act when at least one such person holds it. Immutable
// after load, so any thread may read it.
#pragma once

#include <string>
#include <vector>

#include "auth/user_store.h"
#include "vigil/approval.h"

namespace vigil::daemon {

class Assignees {
 public:
  static Result<Assignees> load(UserStore& users);
  explicit Assignees(std::vector<UserInfo> users) : users_(std::move(users)) {}

  // "" when `user` can be given a task that `excluded` may not decide; else why not, with
  // the nearest existing name when the name looks misspelt.
  std::string whyNotUser(const std::string& user, const std::vector<std::string>& excluded) const;
  // "" when at least one person holding `role` can act (and is not excluded); else why not.
  std::string whyNotRole(const std::string& role, const std::vector<std::string>& excluded) const;
  bool exists(const std::string& user) const { return find(user) != nullptr; }
  // Whether anyone the row is assigned to (by name or by role) can decide it.
  bool actionable(const ApprovalRow& row) const;

 private:
  bool canAct(const UserInfo& u) const;
  const UserInfo* find(const std::string& name) const;
  std::vector<UserInfo> users_;
};

// The candidate nearest to `name` by edit distance, when close enough to be a slip
// (at most a third of its length, and 3 edits); "" otherwise.
std::string nearestName(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace vigil::daemon
