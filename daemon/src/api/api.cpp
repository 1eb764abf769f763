// Routing, authentication and authorisation for every request, then the handler.
#include "api/api.h"
#include "audit/audit_service.h"
#include "vigil/merkle.h"

#include <sys/statvfs.h>

#include <mutex>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace vigil::daemon {
namespace {

// Matches "/api/v1/runs/{id}" against a path, filling params; segments must not be empty.
bool match(const std::string& pattern, const std::string& path, std::map<std::string, std::string>* params) {
  size_t p = 0, s = 0;
  while (p < pattern.size() && s < path.size()) {
    if (pattern.compare(p, std::string::npos, "{path*}") == 0) {
      // A trailing wildcard takes the rest of the path, slashes included.
      (*params)["path"] = path.substr(s);
      return true;
    }
    if (pattern[p] == '{') {
      size_t close = pattern.find('}', p);
      size_t end = path.find('/', s);
      if (end == std::string::npos) end = path.size();
      if (end == s) return false;
      (*params)[pattern.substr(p + 1, close - p - 1)] = path.substr(s, end - s);
      p = close + 1;
      s = end;
      continue;
    }
    if (pattern[p] != path[s]) return false;
    ++p;
    ++s;
  }
  return p == pattern.size() && s == path.size();
}

}  // namespace

const std::vector<Api::Route>& Api::routes() {
  using P = Permission;
  static const std::vector<Route> kRoutes = {
      {"GET", "/healthz", std::nullopt, true, &Api::health},
      {"GET", "/readyz", std::nullopt, false, &Api::ready},
      {"GET", "/metrics", P::kMetrics, false, &Api::metrics},
      {"GET", "/api/v1/workflows", P::kReadWorkflows, false, &Api::listWorkflows},
      {"POST", "/api/v1/workflows", P::kPublishWorkflows, false, &Api::publishWorkflow},
      {"POST", "/api/v1/workflows/validate", P::kPublishWorkflows, false, &Api::validateWorkflow},
      {"GET", "/api/v1/workflows/{name}", P::kReadWorkflows, false, &Api::showWorkflow},
      {"POST", "/api/v1/runs", P::kStartRuns, false, &Api::startRun},
      {"GET", "/api/v1/runs", P::kReadRuns, false, &Api::listRuns},
      {"GET", "/api/v1/runs/{id}", P::kReadRuns, false, &Api::showRun},
      {"POST", "/api/v1/runs/{id}/cancel", P::kCancelRuns, false, &Api::cancelRun},
      {"POST", "/api/v1/runs/{id}/cancellation", P::kDecide, false, &Api::decideCancellation},
      {"POST", "/api/v1/hooks/{path*}", P::kStartRuns, false, &Api::webhook},
      {"GET", "/api/v1/approvals", P::kDecide, false, &Api::approvalInbox},
      {"GET", "/api/v1/approvals/report", P::kManageApprovals, false, &Api::approvalReport},
      {"GET", "/api/v1/reports/late-decisions", P::kReadReports, false, &Api::lateDecisions},
      {"GET", "/api/v1/approvals/{run}/{step}", P::kDecide, false, &Api::showApproval},
      {"POST", "/api/v1/approvals/{run}/{step}/claim", P::kDecide, false, &Api::claimApproval},
      {"POST", "/api/v1/approvals/{run}/{step}/decide", P::kDecide, false, &Api::decideApproval},
      {"POST", "/api/v1/approvals/{run}/{step}/reassign", P::kManageApprovals, false, &Api::reassignApproval},
      {"GET", "/api/v1/connectors", P::kReadWorkflows, false, &Api::listConnectors},
      {"GET", "/api/v1/audit/verify", P::kAudit, false, &Api::auditVerify},
      {"GET", "/api/v1/audit/export", P::kAudit, false, &Api::auditExport},
      {"GET", "/api/v1/audit/public-key", P::kAudit, false, &Api::auditPublicKey},
      {"POST", "/api/v1/audit/rotate-key", P::kManageKeys, false, &Api::auditRotateKey},
      {"GET", "/api/v1/users", P::kManageUsers, false, &Api::listUsers},
      {"POST", "/api/v1/users", P::kManageUsers, false, &Api::addUser},
      {"GET", "/api/v1/users/grants", P::kManageUsers, false, &Api::listGrants},
      {"POST", "/api/v1/users/grants/{id}/{decision}", P::kManageUsers, false, &Api::decideGrant},
      {"POST", "/api/v1/tokens/{id}/revoke", P::kManageUsers, false, &Api::revokeToken},
  };
  return kRoutes;
}

Api::Api(ApiContext ctx) : ctx_(std::move(ctx)) {}

HttpResponse Api::handle(HttpRequest& req) {
  const Route* found = nullptr;
  bool pathKnown = false;
  for (const auto& r : routes()) {
    std::map<std::string, std::string> params;
    if (!match(r.pattern, req.path, &params)) continue;
    pathKnown = true;
    if (r.method != req.method) continue;
    found = &r;
    for (auto& [k, v] : params) v = percentDecode(v, false);
    req.params = std::move(params);
    break;
  }
  if (found == nullptr) {
    return pathKnown ? HttpResponse::error(405, "method_not_allowed", "method " + req.method + " is not allowed here")
                     : HttpResponse::error(404, "not_found", "no such endpoint");
  }
  Principal who;
  if (!found->isPublic) {
    std::string auth = req.header("authorization");
    std::optional<Principal> p;
    if (auth.rfind("Bearer ", 0) == 0) {
      p = ctx_.users->authenticate(auth.substr(7));
    } else if (found->handler == &Api::webhook && !req.header("x-vigil-signature").empty()) {
      Principal signer;
      if (auto refused = webhookSigner(req, &signer)) return *refused;
      p = std::move(signer);
    }
    if (!p) {
      HttpResponse r = HttpResponse::error(401, "unauthenticated", "a valid bearer token is required");
      r.headers["WWW-Authenticate"] = "Bearer";
      return r;
    }
    who = std::move(*p);
    if (!admit(who.tokenId)) {
      HttpResponse r = HttpResponse::error(429, "rate_limited", "too many requests for this token; slow down");
      r.headers["Retry-After"] = "1";
      return r;
    }
    if (found->permission && !allowed(who.roles, *found->permission)) {
      ctx_.log->info("refused {} {} to user {} (roles lack the permission)", req.method, found->pattern, who.user);
      return HttpResponse::error(403, "forbidden", "your roles do not allow this");
    }
  }
  return (this->*(found->handler))(req, who);
}

// The signature covers the timestamp and the Idempotency-Key as well as the body. A captured
// delivery therefore cannot be sent again under a new key (the signature no longer holds),
// and sent again under its own key it names the run it already started (startOnce), so no
// table of seen signatures is needed: the store's runs are the memory, across restarts. The
// window bounds how long a captured delivery is worth anything at all.
std::optional<HttpResponse> Api::webhookSigner(const HttpRequest& req, Principal* out) const {
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
  auto secret = ctx_.webhookSecrets.find("/" + req.params.at("path"));
  if (secret == ctx_.webhookSecrets.end()) return refuse("signature_invalid", badSignature, "X-Vigil-Signature");
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
  const long long now = std::chrono::duration_cast<std::chrono::seconds>(ctx_.clock->now().time_since_epoch()).count();
  const long long skew = std::stoll(stamp) - now;
  const long long window = ctx_.webhookWindow.count();
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

bool Api::admit(const std::string& tokenId) {
  const double rate = ctx_.requestsPerSecondPerToken;
  const double burst = rate * 2;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(rateMu_);
  auto [it, fresh] = buckets_.try_emplace(tokenId, Bucket{burst, now});
  Bucket& b = it->second;
  if (!fresh) {
    b.tokens = std::min(burst, b.tokens + rate * std::chrono::duration<double>(now - b.last).count());
    b.last = now;
  }
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

std::shared_ptr<const Workflow> Api::workflowOf(const RunState& run) {
  if (auto wf = ctx_.catalog->find(run.workflow, run.version); wf && wf->hash == run.workflowHash) return wf;
  auto source = ctx_.store->workflowSource(run.workflowHash);
  if (!source) return nullptr;
  auto loaded = loadWorkflow(*source, run.workflow + ".yaml");
  return loaded.ok() ? loaded.workflow : nullptr;
}

bool Api::recordAccess(const Principal& who, const std::string& kind, const std::string& runId, const std::string& step,
                       const std::string& purpose, nlohmann::json what, const std::string& recipient) {
  // The log says that it happened; the audit trail says why (a purpose may name a person).
  ctx_.log->info("{} of run {}{}{} by user {}", kind, runId, step.empty() ? "" : " step ", step, who.user);
  if (ctx_.audit == nullptr) return true;
  AuditEntry e;
  e.kind = kind;
  e.actor = who.user;
  e.runId = runId;
  e.step = step;
  e.system = "api";
  e.purpose = purpose;
  e.recipient = recipient;
  e.payload = what.is_null() ? nlohmann::json{{"token", who.tokenId}} : what;
  return ctx_.audit->record(std::move(e)).isOk();
}

void Api::recordAdmin(const Principal& who, const std::string& purpose, nlohmann::json what) {
  if (ctx_.audit == nullptr) return;
  AuditEntry e;
  e.kind = "admin";
  e.actor = who.user;
  e.system = "api";
  e.purpose = purpose;
  e.payload = std::move(what);
  (void)ctx_.audit->record(std::move(e));
}

HttpResponse Api::health(HttpRequest&, const Principal&) { return HttpResponse::json(200, {{"status", "ok"}}); }

HttpResponse Api::ready(HttpRequest&, const Principal&) {
  auto probe = ctx_.store->nextTimerDue();
  if (!probe) return HttpResponse::error(503, "store_unavailable", "the store cannot be read");
  if (ctx_.engine != nullptr) {
    const EngineHealth h = ctx_.engine->health();
    if (h.storeFailing) {
      return HttpResponse::error(503, "store_failing",
                                 "the store refuses writes (" + h.storeError + "); " + std::to_string(h.queued) +
                                     " input(s) wait for a retry in " + std::to_string(h.retryIn.count()) + " ms");
    }
    if (h.busyFor > std::chrono::seconds(30)) {
      return HttpResponse::error(503, "committer_stalled",
                                 "one batch of run transitions has taken " + std::to_string(h.busyFor.count() / 1000) + " s so far");
    }
  }
  struct statvfs fs {};
  if (!ctx_.dataDir.empty() && ::statvfs(ctx_.dataDir.c_str(), &fs) == 0 &&
      static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize < 64ULL * 1024 * 1024) {
    return HttpResponse::error(503, "disk_nearly_full", "less than 64 MB is free where the data directory is");
  }
  return HttpResponse::json(200, {{"status", "ready"}});
}

}  // namespace vigil::daemon
