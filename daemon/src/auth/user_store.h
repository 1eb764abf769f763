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
#include <unordered_map>
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

// A request for a new account whose roles read run data or decide: it takes effect only
// when a second admin confirms it (four-eyes over the accounts that four-eyes relies on).
struct RoleGrant {
  long long id = 0;
  std::string user;
  std::set<std::string> roles;
  std::string requestedBy;
  long long requestedAt = 0;  // Unix seconds
  std::string status;         // pending, confirmed, declined
  std::string decidedBy;
  long long decidedAt = 0;
};

// How long a browser session lasts: it ends after `idle` without a request, and at
// `absolute` after sign-in whatever happens.
struct SessionPolicy {
  long long idleSeconds = 30 * 60;
  long long absoluteSeconds = 8 * 60 * 60;
};

// A browser session, as sign-in made it from a token. The cookie carries its id; auth.db
// keeps only the id's SHA-256. It speaks for its token's user with the user's roles now,
// so revoking the token (or removing the user) ends it at once.
struct Session {
  Principal who;
  std::string csrf;         // sent back by the page on every state-changing request
  long long expiresAt = 0;  // Unix seconds: the absolute end
  long long idleUntil = 0;  // Unix seconds: the end if no request comes before
};

// Whether granting `roles` reads run data or decides, and so needs a second admin.
bool needsSecondAdmin(const std::set<std::string>& roles);

class UserStore {
 public:
  // Opens DATA_DIR/auth.db, creating it when there is none. An existing file is checked
  // before anything is written to it: one that is empty, unreadable, not a SQLite database,
  // damaged (PRAGMA quick_check) or without the users table is refused (failedPrecondition
  // naming the file and how to restore or re-create the accounts) and left as it was.
  static Result<std::unique_ptr<UserStore>> open(const std::string& dataDir);

  // Creates the user (roles must be known) and returns a first token.
  Result<std::string> addUser(const std::string& name, const std::set<std::string>& roles);
  Result<std::string> issueToken(const std::string& user);
  Status revokeToken(const std::string& tokenId);
  std::optional<Principal> authenticate(const std::string& token);
  Result<std::vector<UserInfo>> list();
  bool hasUsers();

  // Sign-in: a session for the holder of `token` (nullopt: not a valid token), and its id
  // (shown once, for the cookie). `now` is Unix seconds from the daemon's clock.
  Result<std::optional<std::pair<std::string, Session>>> startSession(const std::string& token, long long now,
                                                                      const SessionPolicy& policy);
  // The live session with this id, its idle time renewed when `renew` (a person's request,
  // not a page's own); nullopt when unknown, ended, expired, idle too long, or its token
  // was revoked.
  std::optional<Session> session(const std::string& id, long long now, const SessionPolicy& policy, bool renew);
  // Sign-out: the id no longer works. Ending an unknown or ended session is not an error.
  Status endSession(const std::string& id, long long now);

  // A pending grant for a new account (the same checks as addUser, nothing created yet).
  // Refused when the user exists or a grant for the name is already pending.
  Result<long long> requestGrant(const std::string& user, const std::set<std::string>& roles, const std::string& by);
  // Another admin than the requester confirms: the account is created and its first token
  // returned. kInvalidArgument when `by` asked for it; kFailedPrecondition when not pending.
  Result<std::string> confirmGrant(long long id, const std::string& by);
  Status declineGrant(long long id, const std::string& by);
  // Every grant, newest first: the report of role changes.
  Result<std::vector<RoleGrant>> grants();

 private:
  explicit UserStore(const std::string& path);
  static Status checkNewUser(const std::string& name, const std::set<std::string>& roles);
  Result<RoleGrant> grant(long long id);
  std::mutex mu_;
  SQLite::Database db_;
  // Principals of tokens seen since auth.db last changed, by token hash (authenticate()).
  // A write through db_ that revokes a token or changes a user's roles must clear it.
  static constexpr size_t kKnownTokensMax = 10000;
  std::unordered_map<std::string, Principal> known_;
  long long knownVersion_ = -1;
  std::unique_ptr<SQLite::Statement> dataVersion_;
  std::unique_ptr<SQLite::Statement> lookup_;
};

}  // namespace vigil::daemon
