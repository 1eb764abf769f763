// Browser sessions: a person signs in with their token once, and the page then works with
// an HttpOnly cookie the page's script cannot read, plus a CSRF token it sends back on
// every change. The token itself is never kept by the browser.
#include <algorithm>

#include "api/middleware.h"
#include "api/resources.h"

namespace vigil::daemon {
namespace {

constexpr long long kThrottleWindow = 300;  // seconds
constexpr size_t kThrottleFailures = 10;    // failed sign-ins per address and window

long long unixSeconds(const Clock& c) { return std::chrono::duration_cast<std::chrono::seconds>(c.now().time_since_epoch()).count(); }

std::string isoAt(long long unix) { return formatTime(TimePoint(std::chrono::seconds(unix))); }

nlohmann::json permissionsOf(const std::set<std::string>& roles) {
  nlohmann::json out = nlohmann::json::array();
  for (int p = static_cast<int>(Permission::kReadWorkflows); p <= static_cast<int>(Permission::kReadReports); ++p) {
    if (allowed(roles, static_cast<Permission>(p))) out.push_back(permissionName(static_cast<Permission>(p)));
  }
  return out;
}

std::string cookie(const ApiContext& ctx, const std::string& value, bool clear) {
  std::string c = sessionCookieName(ctx.tls) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict";
  if (ctx.tls) c += "; Secure";
  if (clear) c += "; Max-Age=0";
  return c;
}

}  // namespace

std::vector<Route> SessionResource::routes() {
  using R = SessionResource;
  return {
      {.method = "POST", .pattern = "/api/v1/session", .isPublic = true, .handler = bind(&R::signIn)},
      {.method = "GET", .pattern = "/api/v1/session", .handler = bind(&R::current)},
      {.method = "DELETE", .pattern = "/api/v1/session", .handler = bind(&R::signOut)},
  };
}

bool SessionResource::throttled(const std::string& peer, long long now) {
  std::lock_guard lock(mu_);
  auto it = failures_.find(peer);
  if (it == failures_.end()) return false;
  auto& times = it->second;
  times.erase(std::remove_if(times.begin(), times.end(), [now](long long t) { return t <= now - kThrottleWindow || t > now; }),
              times.end());
  if (times.empty()) {
    failures_.erase(it);
    return false;
  }
  return times.size() >= kThrottleFailures;
}

void SessionResource::failed(const std::string& peer, long long now) {
  std::lock_guard lock(mu_);
  if (failures_.size() > 10000) failures_.clear();  // bounded: a spray of addresses cannot grow it
  failures_[peer].push_back(now);
}

HttpResponse SessionResource::signIn(HttpRequest& req, Call&) {
  const long long now = unixSeconds(*ctx_.clock);
  if (throttled(req.peer, now)) {
    HttpResponse r = HttpResponse::error(429, "too_many_failed_sign_ins",
                                         "too many failed sign-ins from this address; wait a few minutes and try again");
    r.headers["Retry-After"] = std::to_string(kThrottleWindow);
    return r;
  }
  nlohmann::json body;
  if (auto bad = parseJsonBody(req.body, &body)) return *bad;
  if (!body.is_object() || !body.contains("token") || !body["token"].is_string()) {
    return HttpResponse::error(400, "invalid_request", "body must be {\"token\": YOUR_TOKEN}", "token");
  }
  auto started = ctx_.users->startSession(body["token"].get<std::string>(), now, ctx_.sessions);
  if (!started) return HttpResponse::error(503, "unavailable", "the session could not be started now");
  if (!started->has_value()) {
    failed(req.peer, now);
    ctx_.log->info("failed sign-in from {}", req.peer);
    return HttpResponse::error(401, "sign_in_failed", "that token is not valid (revoked, mistyped or never issued)", "token");
  }
  auto& [id, s] = **started;
  ctx_.log->info("user {} signed in from {} (token {})", s.who.user, req.peer, s.who.tokenId);
  recordAdmin(s.who, "sign in", {{"event", "session_started"}, {"token", s.who.tokenId}, {"peer", req.peer}});
  HttpResponse r = HttpResponse::json(201, {{"user", s.who.user},
                                            {"roles", s.who.roles},
                                            {"permissions", permissionsOf(s.who.roles)},
                                            {"csrf_token", s.csrf},
                                            {"expires_at", isoAt(s.expiresAt)},
                                            {"idle_until", isoAt(s.idleUntil)}});
  r.headers["Set-Cookie"] = cookie(ctx_, id, false);
  return r;
}

HttpResponse SessionResource::current(HttpRequest&, Call& call) {
  nlohmann::json j = {{"user", call.who.user},
                      {"roles", call.who.roles},
                      {"permissions", permissionsOf(call.who.roles)},
                      {"via", call.viaSession ? "session" : "token"}};
  if (call.viaSession) j["csrf_token"] = call.csrf;
  return HttpResponse::json(200, j);
}

HttpResponse SessionResource::signOut(HttpRequest& req, Call& call) {
  if (!call.viaSession) {
    return HttpResponse::error(400, "no_session", "this request was made with a token, not a session; revoke a token instead");
  }
  const std::string id = cookieValue(req.header("cookie"), sessionCookieName(ctx_.tls));
  if (Status s = ctx_.users->endSession(id, unixSeconds(*ctx_.clock)); !s) {
    return HttpResponse::error(503, "unavailable", "the session could not be ended now; try again");
  }
  ctx_.log->info("user {} signed out", call.who.user);
  HttpResponse r = HttpResponse::json(200, {{"signed_out", true}});
  r.headers["Set-Cookie"] = cookie(ctx_, "", true);
  return r;
}

}  // namespace vigil::daemon
