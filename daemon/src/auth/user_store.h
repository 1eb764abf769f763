// UserStore: people, their roles, and their API tokens, in `DATA_DIR/auth.db`.
//
// A token is shown once, when issued, and stored only as its SHA-256; a token id (the
// first 12 hex digits of that hash) names it for listing and revocation. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>

#include "vigil/status.h"

namespace vigil::daemon {

struct Principal {
  std::string user;
  std::set<std::string> roles;
  std::string tokenId;
};

struct UserInfo {
  std::string name;
  std::set<std::string> roles;
  std::vector<std::string> activeTokenIds;
};

class UserStore {
 public:
  static Result<std::unique_ptr<UserStore>> open(const std::string& dataDir);

  // Creates the user (roles must be known) and returns a first token.
  Result<std::string> addUser(const std::string& name, const std::set<std::string>& roles);
  Result<std::string> issueToken(const std::string& user);
  Status revokeToken(const std::string& tokenId);
  std::optional<Principal> authenticate(const std::string& token);
  Result<std::vector<UserInfo>> list();
  bool hasUsers();

 private:
  explicit UserStore(const std::string& path);
  std::mutex mu_;
  SQLite::Database db_;
};

}  // namespace vigil::daemon
