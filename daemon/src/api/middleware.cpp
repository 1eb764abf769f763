// The middleware (see middleware.h for the order and what each refuses).
#include "api/middleware.h"

#include <chrono>
#include <map>
#include <mutex>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "audit/audit_service.h"
#include "vigil/merkle.h"

namespace vigil::daemon {
namespace {

long long unixNow(const ApiContext& ctx) {
  return std::chrono::duration_cast<std::chrono::seconds>(ctx.clock->now().time_since_epoch()).count();
}

bool sameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

HttpResponse unauthenticated() {
  HttpResponse r = HttpResponse::error(401, "unauthenticated", "a valid bearer token or a signed-in session is required");
  r.headers["WWW-Authenticate"] = "Bearer";
  return r;
}

// The signature covers the timestamp and the Idempotency-Key as well as the body. A captured
// delivery therefore cannot be sent again under a new key (the signature no longer holds),
// and sent again under its own key it names the run it already started (startOnce), so no
// table of seen signatures is needed: the store's runs are the memory, across restarts. The
// window bounds how long a captured delivery is worth anything at all.
// A delivery signed for its path (ApiContext::webhookSecrets) inside the time window: fills
// *out and returns nullopt; otherwise the 401 to send (which header is wrong, never why a
// secret did not match).
std::optional<HttpResponse> webhookSigner(const ApiContext& ctx, const HttpRequest& req, Principal* out) {
  auto refuse = [](const std::string& code, const std::string& message, const std::string& header) {
    HttpResponse r = HttpResponse::error(401, code, message, header);
    r.headers["WWW-Authenticate"] = "Bearer";
    return r;
  };
  const std::string stamp = req.header("x-vigil-timestamp");
  if (stamp.empty() || stamp.size() > 12 || stamp.find_first_not_of("0123456789") != std::string::npos) {
    return refuse("timestamp_required", "a signed delivery needs X-Vigil-Timestamp: the time it was signed, in Unix seconds",
                  "X-Vigil-Timestamp");
  }
  const std::string badSignature =
      "X-Vigil-Signature does not verify: it must be sha256= and the hex HMAC-SHA256, under the secret configured "
      "for this path, of X-Vigil-Timestamp, a newline, the Idempotency-Key, a newline and the exact body";
  auto secret = ctx.webhookSecrets.find("/" + req.params.at("path"));
  if (secret == ctx.webhookSecrets.end()) return refuse("signature_invalid", badSignature, "X-Vigil-Signature");
  const std::string sig = req.header("x-vigil-signature");
  const std::string prefix = "sha256=";
  if (sig.rfind(prefix, 0) != 0) return refuse("signature_invalid", badSignature, "X-Vigil-Signature");
  const std::string message = stamp + "\n" + req.header("idempotency-key") + "\n" + req.body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret->second.data(), static_cast<int>(secret->second.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  const std::string expected = merkle::bytesToHex(std::string_view(reinterpret_cast<const char*>(mac), len));
  std::string given = sig.substr(prefix.size());
  // Constant-time comparison, so the signature cannot be guessed a byte at a time.
  if (given.size() != expected.size() || CRYPTO_memcmp(given.data(), expected.data(), given.size()) != 0) {
    return refuse("signature_invalid", badSignature, "X-Vigil-Signature");
  }
  // Checked after the signature, so only the holder of the secret learns about the clock.
  const long long now = std::chrono::duration_cast<std::chrono::seconds>(ctx.clock->now().time_since_epoch()).count();
  const long long skew = std::stoll(stamp) - now;
  const long long window = ctx.webhookWindow.count();
  if (skew < -window || skew > window) {
    return refuse("timestamp_outside_window",
                  "X-Vigil-Timestamp is " + std::to_string(skew < 0 ? -skew : skew) + " seconds " +
                      (skew < 0 ? "old" : "ahead of this server's clock") + "; a signed delivery is accepted for " +
                      std::to_string(window) + " seconds either way: sign each delivery, and each retry, when it is sent",
                  "X-Vigil-Timestamp");
  }
  out->user = "webhook:" + secret->first;
  out->roles = {"operator"};
  out->tokenId = "webhook:" + secret->first;
  return std::nullopt;
}


// Token buckets by token id: a runaway script cannot starve everyone else.
class RateLimiter {
 public:
  explicit RateLimiter(int perSecond) : rate_(perSecond) {}
  bool admit(const std::string& tokenId) {
    const double burst = rate_ * 2;
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    auto [it, fresh] = buckets_.try_emplace(tokenId, Bucket{burst, now});
    Bucket& b = it->second;
    if (!fresh) {
      b.tokens = std::min(burst, b.tokens + rate_ * std::chrono::duration<double>(now - b.last).count());
      b.last = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  const double rate_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;  // GUARDED_BY(mu_)
};

}  // namespace

std::string sessionCookieName(bool tls) { return tls ? "__Host-vigil_session" : "vigil_session"; }

std::string cookieValue(const std::string& header, const std::string& name) {
  size_t at = 0;
  while (at < header.size()) {
    size_t end = header.find(';', at);
    if (end == std::string::npos) end = header.size();
    std::string pair = header.substr(at, end - at);
    const size_t first = pair.find_first_not_of(' ');
    pair = first == std::string::npos ? "" : pair.substr(first);
    if (pair.size() > name.size() && pair.compare(0, name.size(), name) == 0 && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    at = end + 1;
  }
  return "";
}

Middleware authenticate(ApiContext& ctx) {
  return [&ctx](HttpRequest& req, const Route& route, Call& call, const Next& next) -> HttpResponse {
    if (route.isPublic) return next();
    const std::string auth = req.header("authorization");
    std::optional<Principal> p;
    if (!auth.empty()) {
      // A credential sent is the one judged: a bad token never falls back to a cookie.
      if (auth.rfind("Bearer ", 0) == 0) p = ctx.users->authenticate(auth.substr(7));
    } else if (route.signedDelivery && !req.header("x-vigil-signature").empty()) {
      Principal signer;
      if (auto refused = webhookSigner(ctx, req, &signer)) return *refused;
      p = std::move(signer);
    } else if (const std::string id = cookieValue(req.header("cookie"), sessionCookieName(ctx.tls)); !id.empty()) {
      // The workbench marks what it asks by itself (re-reads after a change, with no key
      // pressed or pointer moved lately) X-Vigil-Background: 1; they do not renew the idle clock.
      const bool background = route.background || req.header("x-vigil-background") == "1";
      if (auto s = ctx.users->session(id, unixNow(ctx), ctx.sessions, !background)) {
        p = std::move(s->who);
        call.viaSession = true;
        call.csrf = std::move(s->csrf);
      }
    }
    if (!p) return unauthenticated();
    call.who = std::move(*p);
    return next();
  };
}

Middleware csrf() {
  return [](HttpRequest& req, const Route&, Call& call, const Next& next) -> HttpResponse {
    if (!call.viaSession || req.method == "GET") return next();
    // A browser says when a request comes from another site; such a request never acts.
    if (req.header("sec-fetch-site") == "cross-site" || !sameSecret(req.header("x-csrf-token"), call.csrf)) {
      return HttpResponse::error(403, "csrf_token_invalid",
                                 "a signed-in page must send its session's X-CSRF-Token with every change; reload the page",
                                 "X-CSRF-Token");
    }
    return next();
  };
}

Middleware rateLimit(ApiContext& ctx) {
  auto limiter = std::make_shared<RateLimiter>(ctx.requestsPerSecondPerToken);
  return [limiter](HttpRequest&, const Route& route, Call& call, const Next& next) -> HttpResponse {
    if (route.isPublic || limiter->admit(call.who.tokenId)) return next();
    HttpResponse r = HttpResponse::error(429, "rate_limited", "too many requests for this token; slow down");
    r.headers["Retry-After"] = "1";
    return r;
  };
}

Middleware authorize(ApiContext& ctx) {
  return [&ctx](HttpRequest& req, const Route& route, Call& call, const Next& next) -> HttpResponse {
    if (route.isPublic || !route.permission || allowed(call.who.roles, *route.permission)) return next();
    ctx.log->info("refused {} {} to user {} (roles lack the permission)", req.method, route.pattern, call.who.user);
    return HttpResponse::error(403, "forbidden", "your roles do not allow this");
  };
}

bool recordAccess(ApiContext& ctx, const Principal& who, const AccessRecord& a, const std::string& statedPurpose) {
  // The log says that it happened; the audit trail says why (a purpose may name a person).
  ctx.log->info("{} of run {}{}{} by user {}", a.kind, a.runId, a.step.empty() ? "" : " step ", a.step, who.user);
  if (ctx.audit == nullptr) return true;
  AuditEntry e;
  e.kind = a.kind;
  e.actor = who.user;
  e.runId = a.runId;
  e.step = a.step;
  e.system = "api";
  e.purpose = a.purpose.empty() ? statedPurpose : a.purpose;
  e.recipient = a.recipient;
  e.payload = a.what.is_null() ? nlohmann::json{{"token", who.tokenId}} : a.what;
  return ctx.audit->record(std::move(e)).isOk();
}

Middleware auditReads(ApiContext& ctx) {
  return [&ctx](HttpRequest& req, const Route& route, Call& call, const Next& next) -> HttpResponse {
    if (!route.readsRunData) return next();
    if (route.purposeRequired) {
      call.purpose = req.header("x-vigil-purpose");
      if (call.purpose.empty()) {
        auto it = req.query.find("purpose");
        if (it != req.query.end()) call.purpose = it->second;
      }
      if (call.purpose.size() < 3 || call.purpose.size() > 500) {
        return HttpResponse::error(400, "purpose_required",
                                   "state why you are reading run data: X-Vigil-Purpose header or ?purpose=", "purpose");
      }
    }
    HttpResponse answer = next();
    if (answer.status < 200 || answer.status >= 300) return answer;
    if (!call.access) {
      // Fail closed: a read that does not say what it disclosed is not served.
      ctx.log->error("{} {} answered without naming what it disclosed; answer withheld", req.method, route.pattern);
      return HttpResponse::error(500, "internal", "internal error");
    }
    if (!recordAccess(ctx, call.who, *call.access, call.purpose)) {
      return HttpResponse::error(503, "unavailable", "the access could not be recorded in the audit trail; nothing was returned");
    }
    return answer;
  };
}

void securityHeaders(const HttpRequest&, HttpResponse& resp) {
  // The workbench loads only its own files and talks only to this server; nothing may frame it.
  resp.headers.try_emplace("Content-Security-Policy",
                           "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
  resp.headers.try_emplace("Referrer-Policy", "no-referrer");
  resp.headers.try_emplace("X-Frame-Options", "DENY");
  resp.headers.try_emplace("Cross-Origin-Opener-Policy", "same-origin");
  resp.headers.try_emplace("Cross-Origin-Resource-Policy", "same-origin");
}

}  // namespace vigil::daemon
