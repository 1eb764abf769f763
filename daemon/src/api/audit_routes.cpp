// The audit trail over the API: live verification, export bundles (a recorded disclosure),
// the public key, and key rotation.
#include "api/resources.h"
#include "audit/audit_service.h"

namespace vigil::daemon {

std::vector<Route> AuditResource::routes() {
  using P = Permission;
  using R = AuditResource;
  return {
      {.method = "GET", .pattern = "/api/v1/audit/verify", .permission = P::kAudit, .handler = bind(&R::verify)},
      // An export is a disclosure: its purpose is required, and it is recorded as one.
      {.method = "GET", .pattern = "/api/v1/audit/export", .permission = P::kAudit, .readsRunData = true,
       .handler = bind(&R::exportBundle)},
      {.method = "GET", .pattern = "/api/v1/audit/public-key", .permission = P::kAudit, .handler = bind(&R::publicKey)},
      {.method = "POST", .pattern = "/api/v1/audit/rotate-key", .permission = P::kManageKeys, .handler = bind(&R::rotateKey)},
  };
}

HttpResponse AuditResource::verify(HttpRequest&, Call& call) {
  const Principal& who = call.who;
  if (ctx_.audit == nullptr) return HttpResponse::error(503, "unavailable", "the audit trail is not open");
  ctx_.audit->checkpoint();  // cover the tail, so the answer speaks for every record
  auto source = openSqliteAuditSource(ctx_.dataDir);
  if (!source) return HttpResponse::error(503, "store_unavailable", "the audit trail cannot be read now");
  AuditVerdict v = verifyDataDir(ctx_.dataDir, **source, ctx_.audit->publicKeyPem(), ctx_.audit->logAnchors());
  ctx_.log->info("user {} verified the audit trail: {}", who.user, v.ok ? "ok" : v.problem);
  return HttpResponse::json(200, {{"ok", v.ok},
                                  {"records", v.records},
                                  {"head", v.head},
                                  {"checkpoints", v.checkpoints},
                                  {"erased_payloads", v.erasedPayloads},
                                  {"anchors", v.anchors},
                                  {"caveat", v.caveat},
                                  {"first_bad", v.firstBad},
                                  {"problem", v.problem},
                                  {"detail", v.detail},
                                  {"key_id", ctx_.audit->keyId()}});
}

HttpResponse AuditResource::exportBundle(HttpRequest& req, Call& call) {
  const Principal& who = call.who;
  if (ctx_.audit == nullptr) return HttpResponse::error(503, "unavailable", "the audit trail is not open");
  std::string run = req.query.count("run") ? req.query.at("run") : "";
  std::string sinceText = req.query.count("since") ? req.query.at("since") : "";
  if (run.empty() == sinceText.empty()) {
    return HttpResponse::error(400, "invalid_request", "give run=ID or since=DATE (one of them)", "run");
  }
  TimePoint since{};
  if (!sinceText.empty()) {
    auto t = parseTime(sinceText.size() == 10 ? sinceText + "T00:00:00Z" : sinceText);
    if (!t) return HttpResponse::error(400, "invalid_request", "since must be a date (2026-11-26) or a UTC time", "since");
    since = *t;
  }
  auto bundle = ctx_.audit->exportBundle(run, since, allowed(who.roles, Permission::kReadSensitive));
  if (!bundle) {
    if (bundle.status().code() == Status::Code::kNotFound) return HttpResponse::error(404, "not_found", bundle.status().message(), "run");
    return HttpResponse::error(503, "unavailable", "the bundle could not be made now");
  }
  const std::string recipient = req.query.count("recipient") ? req.query.at("recipient") : who.user;
  AccessRecord access;
  access.kind = "disclosure";
  access.runId = run;
  access.what = {{"event", "audit_export"}, {"query", (*bundle)["query"]}, {"records", (*bundle)["records"].size()}};
  access.recipient = recipient;
  call.access = std::move(access);
  return HttpResponse::json(200, *bundle);
}

HttpResponse AuditResource::publicKey(HttpRequest&, Call&) {
  if (ctx_.audit == nullptr) return HttpResponse::error(503, "unavailable", "the audit trail is not open");
  return HttpResponse::json(200, {{"key_id", ctx_.audit->keyId()}, {"public_key", ctx_.audit->publicKeyPem()}});
}

HttpResponse AuditResource::rotateKey(HttpRequest&, Call& call) {
  const Principal& who = call.who;
  if (ctx_.audit == nullptr) return HttpResponse::error(503, "unavailable", "the audit trail is not open");
  const std::string old = ctx_.audit->keyId();
  Status s = ctx_.audit->rotateKey();
  if (!s) return HttpResponse::error(503, "unavailable", "the key could not be rotated; the old key stays in use");
  recordAdmin(who, "rotate the audit signing key", {{"event", "audit_key_rotation_requested"}, {"old_key_id", old}, {"new_key_id", ctx_.audit->keyId()}});
  return HttpResponse::json(200, {{"key_id", ctx_.audit->keyId()}, {"previous_key_id", old}});
}

}  // namespace vigil::daemon
