#include "auth/user_store.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include <sqlite3.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <nlohmann/json.hpp>

#include "auth/roles.h"

namespace vigil::daemon {
namespace {

std::string hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += d[p[i] >> 4];
    out += d[p[i] & 15];
  }
  return out;
}

std::string sha256(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return hex(md, len);
}

// An existing auth.db is checked before the read-write connection's first write, so that a
// damaged one is refused as it is and never taken for an empty store (which serve would
// take for a first start). The read-only connection leaves -wal and -shm files behind; they
// are removed again when the file is refused.
Status checkExistingAuthDb(const std::string& path, const std::string& dataDir) {
  namespace fs = std::filesystem;
  const std::string remedy =
      "; it is left as it is, never taken for an empty store. Restore auth.db from the backup taken with vigil.db "
      "(docs/OPERATIONS.md, \"Start-up checks and restoring from a backup\"), or, to re-create the accounts "
      "deliberately, move it aside and run `vigil users add NAME --role admin --data " + dataDir + "`";
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) {
    return Status::ok();  // created: the caller decides whether that is a first start
  }
  if (ec || !fs::is_regular_file(st)) {
    return Status::failedPrecondition(path + " cannot be read as a file" + (ec ? " (" + ec.message() + ")" : "") + remedy);
  }
  std::ifstream in(path, std::ios::binary);
  char header[16] = {};
  in.read(header, sizeof header);
  if (!in && !in.eof()) {
    return Status::failedPrecondition(path + " cannot be read" + remedy);
  }
  if (in.gcount() == 0) {
    return Status::failedPrecondition(path + " is empty (0 bytes): the users and tokens it held are gone" + remedy);
  }
  if (in.gcount() < static_cast<std::streamsize>(sizeof header) || std::memcmp(header, "SQLite format 3", 16) != 0) {
    return Status::failedPrecondition(path + " is not a SQLite database: the users and tokens it held are gone" + remedy);
  }
  const std::string wal = path + "-wal";
  const std::string shm = path + "-shm";
  const bool hadWal = fs::exists(wal, ec);
  const bool hadShm = fs::exists(shm, ec);
  std::string problem;
  try {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    SQLite::Statement check(db, "PRAGMA quick_check");
    std::string first = check.executeStep() ? check.getColumn(0).getString() : "ok";
    if (first.rfind("*** in database main ***\n", 0) == 0) {
      first.erase(0, first.find('\n') + 1);
    }
    if (first != "ok") {
      problem = "SQLite's PRAGMA quick_check reports \"" + first.substr(0, first.find('\n')) + "\"";
    } else if (!db.tableExists("users")) {
      problem = "it holds no table of users";
    }
  } catch (const SQLite::Exception& e) {
    problem = e.what();
  }
  if (problem.empty()) {
    return Status::ok();
  }
  if (!hadWal && fs::file_size(wal, ec) == 0 && !ec) {
    fs::remove(wal, ec);
  }
  if (!hadShm) {
    fs::remove(shm, ec);
  }
  return Status::failedPrecondition(path + " is damaged (" + problem + ")" + remedy);
}

}  // namespace

UserStore::UserStore(const std::string& path) : db_(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE) {
  db_.exec("PRAGMA journal_mode=WAL");
  db_.exec("PRAGMA synchronous=FULL");
  db_.exec(
      "CREATE TABLE IF NOT EXISTS users(name TEXT PRIMARY KEY, roles TEXT NOT NULL, created_at INTEGER NOT NULL DEFAULT (unixepoch()));"
      "CREATE TABLE IF NOT EXISTS tokens(hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(name),"
      " created_at INTEGER NOT NULL DEFAULT (unixepoch()), revoked_at INTEGER);"
      "CREATE TABLE IF NOT EXISTS role_grants(id INTEGER PRIMARY KEY, user TEXT NOT NULL, roles TEXT NOT NULL,"
      " requested_by TEXT NOT NULL, requested_at INTEGER NOT NULL DEFAULT (unixepoch()), status TEXT NOT NULL,"
      " decided_by TEXT NOT NULL DEFAULT '', decided_at INTEGER NOT NULL DEFAULT 0);"
      "CREATE TABLE IF NOT EXISTS sessions(hash TEXT PRIMARY KEY, token_hash TEXT NOT NULL, csrf TEXT NOT NULL,"
      " created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL, expires_at INTEGER NOT NULL, ended_at INTEGER);");
  db_.setBusyTimeout(5000);
}

Result<std::unique_ptr<UserStore>> UserStore::open(const std::string& dataDir) {
  std::error_code ec;
  std::filesystem::create_directories(dataDir, ec);
  if (ec) return Status::ioError("cannot create data directory " + dataDir + ": " + ec.message());
  const std::string path = dataDir + "/auth.db";
  if (Status s = checkExistingAuthDb(path, dataDir); !s) return s;
  try {
    return std::unique_ptr<UserStore>(new UserStore(path));
  } catch (const SQLite::Exception& e) {
    return Status::ioError("cannot open the user store " + path + ": " + e.what());
  }
}

Status UserStore::checkNewUser(const std::string& name, const std::set<std::string>& roles) {
  static const std::regex kName("[a-z][a-z0-9._-]{0,63}");
  if (!std::regex_match(name, kName)) {
    return Status::invalidArgument("user name must be lower-case letters, digits, '.', '_' or '-', starting with a letter");
  }
  if (roles.empty()) return Status::invalidArgument("a user needs at least one role");
  bool system = false;
  for (const auto& r : roles) {
    if (!isValidRoleName(r)) {
      return Status::invalidArgument("role '" + r + "' is not a valid name (lower-case letters, digits and '-')");
    }
    system = system || isRole(r);
  }
  if (!system) {
    return Status::invalidArgument("a user needs at least one system role (admin, author, operator, approver, auditor); "
                                   "other roles such as team names only route approvals");
  }
  // Separation of duties: whoever manages accounts must not also read run data or decide,
  // or one person could create the second pair of eyes they need.
  if (roles.count("admin") != 0) {
    for (const char* r : {"operator", "approver", "auditor"}) {
      if (roles.count(r) != 0) {
        return Status::invalidArgument(std::string("an admin account may not also hold '") + r +
                                       "' (reading run data or deciding): give that work its own account");
      }
    }
  }
  return Status::ok();
}

Result<std::string> UserStore::addUser(const std::string& name, const std::set<std::string>& roles) {
  if (Status s = checkNewUser(name, roles); !s) return s;
  {
    std::lock_guard lock(mu_);
    try {
      SQLite::Statement q(db_, "INSERT INTO users(name, roles) VALUES(?, ?)");
      q.bind(1, name);
      q.bind(2, nlohmann::json(roles).dump());
      q.exec();
    } catch (const SQLite::Exception& e) {
      if (e.getErrorCode() == SQLITE_CONSTRAINT) return Status::alreadyExists("user '" + name + "' already exists");
      return Status::ioError(std::string("adding user: ") + e.what());
    }
  }
  return issueToken(name);
}

Result<std::string> UserStore::issueToken(const std::string& user) {
  unsigned char raw[24];
  if (RAND_bytes(raw, sizeof raw) != 1) return Status::internal("no randomness for a token");
  std::string token = "vgl_" + hex(raw, sizeof raw);
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement u(db_, "SELECT 1 FROM users WHERE name = ?");
    u.bind(1, user);
    if (!u.executeStep()) return Status::notFound("no user '" + user + "'");
    SQLite::Statement q(db_, "INSERT INTO tokens(hash, user) VALUES(?, ?)");
    q.bind(1, sha256(token));
    q.bind(2, user);
    q.exec();
  } catch (const SQLite::Exception& e) {
    return Status::ioError(std::string("issuing token: ") + e.what());
  }
  return token;
}

Status UserStore::revokeToken(const std::string& tokenId) {
  if (tokenId.size() < 12) return Status::invalidArgument("a token id has at least 12 hex digits");
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement q(db_, "UPDATE tokens SET revoked_at = unixepoch() WHERE substr(hash, 1, ?) = ? AND revoked_at IS NULL");
    q.bind(1, static_cast<int>(tokenId.size()));
    q.bind(2, tokenId);
    if (q.exec() == 0) return Status::notFound("no active token with id " + tokenId);
    known_.clear();  // this connection's own commit does not change its data_version
    return Status::ok();
  } catch (const SQLite::Exception& e) {
    return Status::ioError(std::string("revoking token: ") + e.what());
  }
}

std::optional<Principal> UserStore::authenticate(const std::string& token) {
  if (token.size() != 52 || token.rfind("vgl_", 0) != 0) return std::nullopt;
  std::string h = sha256(token);
  std::lock_guard lock(mu_);
  try {
    // Tokens already seen are answered from memory while auth.db is unchanged. Any commit by
    // another connection (`vigil users revoke` in another process, a second daemon) changes
    // data_version, and revokeToken() forgets them itself, so a revocation holds at once.
    if (!dataVersion_) dataVersion_ = std::make_unique<SQLite::Statement>(db_, "PRAGMA data_version");
    dataVersion_->executeStep();
    const long long version = dataVersion_->getColumn(0).getInt64();
    dataVersion_->reset();
    if (version != knownVersion_) {
      known_.clear();
      knownVersion_ = version;
    }
    if (auto it = known_.find(h); it != known_.end()) return it->second;
    if (!lookup_) {
      lookup_ = std::make_unique<SQLite::Statement>(
          db_, "SELECT u.name, u.roles FROM tokens t JOIN users u ON u.name = t.user WHERE t.hash = ? AND t.revoked_at IS NULL");
    }
    lookup_->bind(1, h);
    const bool found = lookup_->executeStep();
    Principal p;
    if (found) {
      p.user = lookup_->getColumn(0).getString();
      for (const auto& r : nlohmann::json::parse(lookup_->getColumn(1).getString())) p.roles.insert(r.get<std::string>());
      p.tokenId = h.substr(0, 12);
    }
    lookup_->reset();
    lookup_->clearBindings();
    if (!found) return std::nullopt;  // unknown tokens are not remembered: guessing cannot fill memory
    if (known_.size() >= kKnownTokensMax) known_.clear();
    known_.emplace(h, p);
    return p;
  } catch (const std::exception&) {
    if (lookup_) lookup_->reset();
    if (dataVersion_) dataVersion_->reset();
    return std::nullopt;
  }
}

Result<std::vector<UserInfo>> UserStore::list() {
  std::lock_guard lock(mu_);
  try {
    std::vector<UserInfo> out;
    SQLite::Statement q(db_, "SELECT name, roles FROM users ORDER BY name");
    while (q.executeStep()) {
      UserInfo u;
      u.name = q.getColumn(0).getString();
      for (const auto& r : nlohmann::json::parse(q.getColumn(1).getString())) u.roles.insert(r.get<std::string>());
      SQLite::Statement t(db_, "SELECT substr(hash, 1, 12) FROM tokens WHERE user = ? AND revoked_at IS NULL ORDER BY created_at");
      t.bind(1, u.name);
      while (t.executeStep()) u.activeTokenIds.push_back(t.getColumn(0).getString());
      out.push_back(std::move(u));
    }
    return out;
  } catch (const std::exception& e) {
    return Status::ioError(std::string("listing users: ") + e.what());
  }
}

bool UserStore::hasUsers() {
  std::lock_guard lock(mu_);
  try {
    return db_.execAndGet("SELECT count(*) FROM users").getInt() > 0;
  } catch (const std::exception&) {
    return true;  // when unsure, do not create another admin
  }
}

bool needsSecondAdmin(const std::set<std::string>& roles) {
  return allowed(roles, Permission::kReadRuns) || allowed(roles, Permission::kDecide) ||
         allowed(roles, Permission::kReadSensitive);
}

Result<long long> UserStore::requestGrant(const std::string& user, const std::set<std::string>& roles, const std::string& by) {
  if (Status s = checkNewUser(user, roles); !s) return s;
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement u(db_, "SELECT (SELECT count(*) FROM users WHERE name = ?1), (SELECT count(*) FROM role_grants WHERE user = ?1 AND status = 'pending')");
    u.bind(1, user);
    u.executeStep();
    if (u.getColumn(0).getInt() > 0) return Status::alreadyExists("user '" + user + "' already exists");
    if (u.getColumn(1).getInt() > 0) return Status::alreadyExists("a grant for user '" + user + "' is already waiting for a second admin");
    SQLite::Statement q(db_, "INSERT INTO role_grants(user, roles, requested_by, status) VALUES(?, ?, ?, 'pending')");
    q.bind(1, user);
    q.bind(2, nlohmann::json(roles).dump());
    q.bind(3, by);
    q.exec();
    return static_cast<long long>(db_.getLastInsertRowid());
  } catch (const SQLite::Exception& e) {
    return Status::ioError(std::string("recording the grant: ") + e.what());
  }
}

Result<RoleGrant> UserStore::grant(long long id) {
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement q(db_, "SELECT id, user, roles, requested_by, requested_at, status, decided_by, decided_at FROM role_grants WHERE id = ?");
    q.bind(1, static_cast<int64_t>(id));
    if (!q.executeStep()) return Status::notFound("no role grant " + std::to_string(id));
    RoleGrant g;
    g.id = q.getColumn(0).getInt64();
    g.user = q.getColumn(1).getString();
    g.roles = nlohmann::json::parse(q.getColumn(2).getString()).get<std::set<std::string>>();
    g.requestedBy = q.getColumn(3).getString();
    g.requestedAt = q.getColumn(4).getInt64();
    g.status = q.getColumn(5).getString();
    g.decidedBy = q.getColumn(6).getString();
    g.decidedAt = q.getColumn(7).getInt64();
    return g;
  } catch (const std::exception& e) {
    return Status::ioError(std::string("reading the grant: ") + e.what());
  }
}

Result<std::string> UserStore::confirmGrant(long long id, const std::string& by) {
  auto g = grant(id);
  if (!g) return g.status();
  if (g->status != "pending") return Status::failedPrecondition("role grant " + std::to_string(id) + " is " + g->status + ", not pending");
  if (g->requestedBy == by) {
    return Status::invalidArgument("four-eyes: '" + by + "' asked for this grant; another admin must confirm it");
  }
  auto token = addUser(g->user, g->roles);
  if (!token) return token.status();
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement q(db_, "UPDATE role_grants SET status = 'confirmed', decided_by = ?, decided_at = unixepoch() WHERE id = ?");
    q.bind(1, by);
    q.bind(2, static_cast<int64_t>(id));
    q.exec();
  } catch (const SQLite::Exception& e) {
    return Status::ioError(std::string("recording the confirmation: ") + e.what());
  }
  return token;
}

Status UserStore::declineGrant(long long id, const std::string& by) {
  auto g = grant(id);
  if (!g) return g.status();
  if (g->status != "pending") return Status::failedPrecondition("role grant " + std::to_string(id) + " is " + g->status + ", not pending");
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement q(db_, "UPDATE role_grants SET status = 'declined', decided_by = ?, decided_at = unixepoch() WHERE id = ?");
    q.bind(1, by);
    q.bind(2, static_cast<int64_t>(id));
    q.exec();
    return Status::ok();
  } catch (const SQLite::Exception& e) {
    return Status::ioError(std::string("recording the decline: ") + e.what());
  }
}

Result<std::vector<RoleGrant>> UserStore::grants() {
  std::vector<long long> ids;
  {
    std::lock_guard lock(mu_);
    try {
      SQLite::Statement q(db_, "SELECT id FROM role_grants ORDER BY id DESC LIMIT 10000");
      while (q.executeStep()) ids.push_back(q.getColumn(0).getInt64());
    } catch (const SQLite::Exception& e) {
      return Status::ioError(std::string("listing grants: ") + e.what());
    }
  }
  std::vector<RoleGrant> out;
  for (long long id : ids) {
    auto g = grant(id);
    if (!g) return g.status();
    out.push_back(std::move(g).value());
  }
  return out;
}

}  // namespace vigil::daemon
