// Browser sessions in auth.db, beside the tokens they were made from.
#include <cstdint>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "auth/user_store.h"
#include "vigil/merkle.h"

namespace vigil::daemon {
namespace {

std::string randomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) return "";
  return merkle::bytesToHex(raw);
}

std::string digest(const std::string& s) { return merkle::toHex(merkle::sha256(s)); }

// A session id is "vgs_" and 64 hex digits: 256 random bits.
bool wellFormed(const std::string& id) {
  return id.size() == 68 && id.rfind("vgs_", 0) == 0 &&
         id.find_first_not_of("0123456789abcdef", 4) == std::string::npos;
}

}  // namespace

Result<std::optional<std::pair<std::string, Session>>> UserStore::startSession(const std::string& token, long long now,
                                                                               const SessionPolicy& policy) {
  auto who = authenticate(token);
  if (!who) return std::optional<std::pair<std::string, Session>>();
  const std::string random = randomHex(32);
  const std::string csrf = randomHex(32);
  if (random.empty() || csrf.empty()) return Status::internal("no randomness for a session");
  const std::string id = "vgs_" + random;
  Session s;
  s.who = std::move(*who);
  s.csrf = csrf;
  s.expiresAt = now + policy.absoluteSeconds;
  s.idleUntil = std::min(s.expiresAt, now + policy.idleSeconds);
  std::lock_guard lock(mu_);
  try {
    // Sessions long over are removed as new ones begin, so the table stays small.
    SQLite::Statement purge(db_, "DELETE FROM sessions WHERE expires_at < ? OR ended_at < ?");
    purge.bind(1, static_cast<int64_t>(now - 24 * 3600));
    purge.bind(2, static_cast<int64_t>(now - 24 * 3600));
    purge.exec();
    SQLite::Statement q(db_,
                        "INSERT INTO sessions(hash, token_hash, csrf, created_at, last_seen, expires_at)"
                        " SELECT ?, hash, ?, ?, ?, ? FROM tokens WHERE substr(hash, 1, 12) = ? AND user = ? AND revoked_at IS NULL"
                        " AND hash = ?");
    q.bind(1, digest(id));
    q.bind(2, csrf);
    q.bind(3, static_cast<int64_t>(now));
    q.bind(4, static_cast<int64_t>(now));
    q.bind(5, static_cast<int64_t>(s.expiresAt));
    q.bind(6, s.who.tokenId);
    q.bind(7, s.who.user);
    q.bind(8, digest(token));
    if (q.exec() != 1) return std::optional<std::pair<std::string, Session>>();  // revoked meanwhile
  } catch (const SQLite::Exception& e) {
    return Status::ioError(std::string("starting a session: ") + e.what());
  }
  return std::optional<std::pair<std::string, Session>>(std::make_pair(id, std::move(s)));
}

std::optional<Session> UserStore::session(const std::string& id, long long now, const SessionPolicy& policy, bool renew) {
  if (!wellFormed(id)) return std::nullopt;
  const std::string h = digest(id);
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement q(db_,
                        "SELECT u.name, u.roles, t.hash, s.csrf, s.last_seen, s.expires_at FROM sessions s"
                        " JOIN tokens t ON t.hash = s.token_hash AND t.revoked_at IS NULL JOIN users u ON u.name = t.user"
                        " WHERE s.hash = ? AND s.ended_at IS NULL");
    q.bind(1, h);
    if (!q.executeStep()) return std::nullopt;
    Session s;
    s.who.user = q.getColumn(0).getString();
    for (const auto& r : nlohmann::json::parse(q.getColumn(1).getString())) s.who.roles.insert(r.get<std::string>());
    s.who.tokenId = q.getColumn(2).getString().substr(0, 12);
    s.csrf = q.getColumn(3).getString();
    const long long lastSeen = q.getColumn(4).getInt64();
    s.expiresAt = q.getColumn(5).getInt64();
    q.reset();
    if (now >= s.expiresAt || now >= lastSeen + policy.idleSeconds) return std::nullopt;
    // The idle clock restarts with each request; written at most once a minute, so a busy
    // page does not write to auth.db on every request.
    long long seen = lastSeen;
    if (renew && (now - lastSeen >= 60 || now < lastSeen)) {
      SQLite::Statement touch(db_, "UPDATE sessions SET last_seen = ? WHERE hash = ?");
      touch.bind(1, static_cast<int64_t>(now));
      touch.bind(2, h);
      touch.exec();
      seen = now;
    }
    s.idleUntil = std::min(s.expiresAt, seen + policy.idleSeconds);
    return s;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Status UserStore::endSession(const std::string& id, long long now) {
  if (!wellFormed(id)) return Status::ok();
  std::lock_guard lock(mu_);
  try {
    SQLite::Statement q(db_, "UPDATE sessions SET ended_at = ? WHERE hash = ? AND ended_at IS NULL");
    q.bind(1, static_cast<int64_t>(now));
    q.bind(2, digest(id));
    q.exec();
    return Status::ok();
  } catch (const SQLite::Exception& e) {
    return Status::ioError(std::string("ending a session: ") + e.what());
  }
}

}  // namespace vigil::daemon
