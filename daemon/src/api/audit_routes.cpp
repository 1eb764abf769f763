// The audit trail over the API: live verification, export bundles (a recorded disclosure),
// the access log (a recorded consultation), the public key, and key rotation.
#include <limits>

#include "api/query_params.h"
#include "api/resources.h"
#include "audit/audit_service.h"

namespace vigil::daemon {
namespace {

// Passes a data directory's records to the verifier, keeping the newest checkpoint it
// reads: the answer names the checkpoint this verification checked, without reading every
// checkpoint a second time.
class NewestCheckpoint final : public AuditSource {
 public:
  explicit NewestCheckpoint(AuditSource& inner) : inner_(inner) {}
  Status forEachRecord(const std::function<bool(AuditRecord&)>& f) override { return inner_.forEachRecord(f); }
  Result<std::vector<AuditCheckpoint>> checkpoints() override {
    auto cps = inner_.checkpoints();
    if (cps && !cps->empty()) newest = cps->back();  // ordered by size
    return cps;
  }
  Result<std::vector<AuditKey>> keys() override { return inner_.keys(); }
  std::optional<AuditCheckpoint> newest;

 private:
  AuditSource& inner_;
};

// A person or run id to filter by: 1 to 200 characters, none of them control characters
// (and, for a run id, no spaces).
bool filterText(const std::string& text, bool spaces) {
  if (text.empty() || text.size() > 200) return false;
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || (!spaces && c == ' ')) return false;
  }
  return true;
}

}  // namespace

std::vector<Route> AuditResource::routes() {
  using P = Permission;
  using R = AuditResource;
  return {
      {.method = "GET", .pattern = "/api/v1/audit/verify", .permission = P::kAudit, .handler = bind(&R::verify)},
      // An export is a disclosure: its purpose is required, and it is recorded as one.
      {.method = "GET", .pattern = "/api/v1/audit/export", .permission = P::kAudit, .readsRunData = true,
       .handler = bind(&R::exportBundle)},
      // Who read what is itself read data: a purpose is required, and the read is recorded.
      {.method = "GET", .pattern = "/api/v1/audit/access", .permission = P::kAudit, .readsRunData = true,
       .handler = bind(&R::accessLog)},
      {.method = "GET", .pattern = "/api/v1/audit/public-key", .permission = P::kAudit, .handler = bind(&R::publicKey)},
      {.method = "POST", .pattern = "/api/v1/audit/rotate-key", .permission = P::kManageKeys, .handler = bind(&R::rotateKey)},
  };
}

HttpResponse AuditResource::verify(HttpRequest&, Call& call) {
  const Principal& who = call.who;
  if (ctx_.audit == nullptr) return HttpResponse::error(503, "unavailable", "the audit trail is not open");
  ctx_.audit->checkpoint();  // cover the tail, so the answer speaks for every record
  // A SQLite data directory is read apart from the running store and its caches checked
  // too; another store is read through its own connection, the chain only.
  const bool sqlite = std::string(ctx_.store->kind()) == "sqlite";
  auto source = sqlite ? openSqliteAuditSource(ctx_.dataDir) : Result<std::unique_ptr<AuditSource>>(auditSourceOf(*ctx_.store));
  if (!source) return HttpResponse::error(503, "store_unavailable", "the audit trail cannot be read now");
  NewestCheckpoint records(**source);
  AuditVerdict v = sqlite ? verifyDataDir(ctx_.dataDir, records, ctx_.audit->publicKeyPem(), ctx_.audit->logAnchors())
                          : verifyAudit(records, ctx_.audit->publicKeyPem(), ctx_.audit->logAnchors());
  ctx_.log->info("user {} verified the audit trail: {}", who.user, v.ok ? "ok" : v.problem);
  nlohmann::json last = nullptr;
  if (records.newest) {
    last = {{"size", records.newest->size}, {"time", formatTime(records.newest->time)}, {"key_id", records.newest->keyId}};
  }
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
                                  {"key_id", ctx_.audit->keyId()},
                                  {"last_checkpoint", last}});
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
    auto t = parseDateOrTime(sinceText);
    if (!t) return HttpResponse::error(400, "invalid_request", "since must be a date (2026-11-26) or a UTC time", "since");
    since = t->start;
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

HttpResponse AuditResource::accessLog(HttpRequest& req, Call& call) {
  if (ctx_.audit == nullptr) return HttpResponse::error(503, "unavailable", "the audit trail is not open");
  auto bad = [](const std::string& message, const std::string& field) {
    return HttpResponse::error(400, "invalid_request", message, field);
  };
  AccessLogQuery q;
  nlohmann::json asked = nlohmann::json::object();  // what was asked, as the audit record keeps it
  if (auto it = req.query.find("person"); it != req.query.end()) {
    if (!filterText(it->second, true)) return bad("person must be 1 to 200 characters, without control characters", "person");
    q.actor = it->second;
    asked["person"] = q.actor;
  }
  if (auto it = req.query.find("run"); it != req.query.end()) {
    if (!filterText(it->second, false)) return bad("run must be a run id: 1 to 200 characters, without spaces", "run");
    q.runId = it->second;
    asked["run"] = q.runId;
  }
  // from= and to=: a date (the whole day, UTC) or a UTC time; to= is exclusive for a time
  // and takes in its whole day for a date, as the runs list reads them.
  for (const char* key : {"from", "to"}) {
    auto it = req.query.find(key);
    if (it == req.query.end()) continue;
    auto t = parseDateOrTime(it->second);
    if (!t) return bad(std::string(key) + " must be a date (2026-12-01) or a UTC time", key);
    if (std::string(key) == "from") {
      q.from = t->start;
    } else {
      q.to = t->end();
    }
    asked[key] = it->second;
  }
  if (q.from && q.to && *q.to <= *q.from) return bad("to must be after from", "to");
  if (auto it = req.query.find("limit"); it != req.query.end()) {
    auto n = parseCount(it->second, 1, kAccessLogMaxPage);
    if (!n) return bad("limit must be a whole number from 1 to " + std::to_string(kAccessLogMaxPage), "limit");
    q.limit = static_cast<size_t>(*n);
  }
  if (auto it = req.query.find("before"); it != req.query.end()) {
    auto n = parseCount(it->second, 1, static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
    if (!n) return bad("before must be a record's sequence number (the next of an earlier page)", "before");
    q.before = *n;
    asked["before"] = *n;
  }
  asked["limit"] = q.limit;
  auto page = ctx_.store->audit().accessLog(q);
  if (!page) return HttpResponse::error(503, "store_unavailable", "the audit trail cannot be read now");
  // Headers only: what a reader was shown stays in the payload, which never leaves here.
  nlohmann::json items = nlohmann::json::array();
  nlohmann::json shown = nlohmann::json::array();
  for (const auto& [seq, e] : page->records) {
    nlohmann::json item = {{"seq", seq},       {"time", formatTime(e.time)}, {"kind", e.kind},
                           {"actor", e.actor}, {"run", e.runId},            {"step", e.step},
                           {"purpose", e.purpose}, {"recipient", e.recipient}};
    if (!e.subject.empty()) item["subject"] = e.subject;
    items.push_back(std::move(item));
    shown.push_back(seq);
  }
  AccessRecord access;
  access.runId = q.runId;
  access.what = {{"event", "audit_access_log"}, {"query", asked}, {"records", shown}, {"token", call.who.tokenId}};
  call.access = std::move(access);
  nlohmann::json j = {{"items", items}};
  if (page->next != 0) j["next"] = page->next;
  return HttpResponse::json(200, j);
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
